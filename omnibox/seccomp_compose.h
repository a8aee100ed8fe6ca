/* seccomp_compose.h - the jail's two libseccomp programs as one, proved equal.
 *
 * Build time only (seccomp_gen, tests). libseccomp writes the allowlist as a
 * 456-instruction tree and cannot put argument checks in the same program
 * (seccomp.h); loading both cost ~140 us a launch, half of it the kernel's
 * JIT. Here the allowlist becomes a search over the ~70 runs of syscall
 * numbers that share an answer, whose leaves return that answer or jump into
 * the argument program, appended unchanged. ombx_seccomp_prove then checks,
 * by evaluating all three programs, that the result answers every (arch,
 * syscall number, arguments) exactly as the kernel answers with the two
 * loaded (argument program last, so consulted first; the most restrictive
 * action wins, the first one among equals). The decisions before any
 * argument is read depend only on comparisons of the number and the arch
 * with constants, so one point in each interval between the constants of
 * all three programs covers all 2^64 pairs; where the argument program reads
 * arguments, the allowlist must allow and the result must enter the argument
 * program at its start (entered with the syscall number in A, so it must
 * begin with a load). Anything outside that (another opcode, arithmetic on
 * the number, an allowlist that reads arguments) is refused, not guessed. */
#ifndef OMBX_SECCOMP_COMPOSE_H
#define OMBX_SECCOMP_COMPOSE_H

#include <linux/filter.h>
#include <stdint.h>

#include "../common/err.h"
#include "seccomp.h"

/* One program from sc's two for the given native AUDIT_ARCH; out->filter
 * is malloc'ed. Proved with ombx_seccomp_prove before it is returned. */
int ombx_seccomp_compose(const struct ombx_seccomp *sc, uint32_t arch, struct sock_fprog *out,
			 ombx_err *err);
/* 0 if one answers as the kernel answers with sc's two loaded, else an
 * error naming the first input where they differ (or what cannot be
 * proved). */
int ombx_seccomp_prove(const struct ombx_seccomp *sc, const struct sock_fprog *one, ombx_err *err);
/* What prog returns for the input (nr, arch, ip 0, args); -1 for a program
 * that is malformed or uses an opcode the prover does not know. */
int64_t ombx_seccomp_eval(const struct sock_fprog *prog, uint32_t arch, uint32_t nr,
			  const uint64_t args[6]);

#endif

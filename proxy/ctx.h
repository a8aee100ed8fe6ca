/* ctx.h - switching between stacks, for the coroutines of sched.c.
 *
 * On x86-64 a switch saves the callee-saved registers and the FPU control
 * words on the current stack and moves the stack pointer: no system call
 * (glibc's swapcontext also saves and restores the signal mask, a
 * rt_sigprocmask per switch, four per proxied request). Elsewhere it is
 * swapcontext. */
#ifndef OMBX_PROXY_CTX_H
#define OMBX_PROXY_CTX_H

#include <stddef.h>

#if defined(__x86_64__)
struct proxy_ctx {
	void *sp;
};
#else
#include <ucontext.h>
struct proxy_ctx {
	ucontext_t uc;
};
#endif

/* Prepares to to start entry (which must never return) on stack (size
 * bytes) at the first switch into it. */
void proxy__ctx_make(struct proxy_ctx *to, char *stack, size_t size, void (*entry)(void));
/* Saves the running context in from and resumes to. */
void proxy__ctx_switch(struct proxy_ctx *from, struct proxy_ctx *to);

#endif

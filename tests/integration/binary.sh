#!/bin/sh
# binary.sh OMNIBOX: the program every launch executes keeps glibc's
# hardening although it is built with musl (omnibox/CMakeLists.txt): a
# static PIE that needs no dynamic linker or shared library, loaded at a
# random address, whose relocated read-only data (PT_GNU_RELRO: the GOT,
# tables of function pointers) is read-only while it runs (musl_relro.c).
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
command -v readelf >/dev/null || die "readelf is missing (binutils; scripts/install-deps)"

readelf -lW "$OMNIBOX" >"$T/phdrs" 2>&1 || die "readelf -l $OMNIBOX failed"
readelf -dW "$OMNIBOX" >"$T/dyn" 2>&1
grep -q "INTERP" "$T/phdrs" && fail "omnibox names a dynamic linker" || ok "no dynamic linker"
grep -q "(NEEDED)" "$T/dyn" && fail "omnibox needs shared libraries: $(grep NEEDED "$T/dyn")" ||
	ok "no shared library"
grep -q "Elf file type is DYN" "$T/phdrs" && ok "position independent (loaded at a random address)" ||
	fail "not a PIE: $(grep 'Elf file type' "$T/phdrs")"
grep -q "GNU_RELRO" "$T/phdrs" && ok "has a RELRO region" || fail "no PT_GNU_RELRO"

# While a jail runs: every page of the RELRO region (rounded as glibc
# rounds it) lies in a read-only mapping of omnibox.
[ "$(id -u)" = 0 ] && chown 65534:65534 "$T"
"$OMNIBOX" exec --workspace "$T" -- /bin/sleep 5 >"$T/sleep.out" 2>&1 &
pid=$!
at_exit "kill $pid 2>/dev/null"
sleep 0.5
cp "/proc/$pid/maps" "$T/maps" 2>/dev/null || die "omnibox exited early: $(cat "$T/sleep.out")"
"$PY" - "$T/phdrs" "$T/maps" "$OMNIBOX" >"$T/relro.out" 2>&1 <<'EOF'
import os, re, sys
phdrs, maps, exe = sys.argv[1], sys.argv[2], os.path.realpath(sys.argv[3])
relro = [l.split() for l in open(phdrs) if l.split()[:1] == ["GNU_RELRO"]][0]
vaddr, memsz = int(relro[2], 16), int(relro[5], 16)
mine = []
for l in open(maps):
    f = l.split()
    if len(f) >= 6 and os.path.realpath(f[5]) == exe:
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        mine.append((lo, hi, f[1], int(f[2], 16)))
base = min(lo - off for lo, hi, perm, off in mine if off == 0)
page = os.sysconf("SC_PAGE_SIZE")
start, end = (base + vaddr) & ~(page - 1), (base + vaddr + memsz) & ~(page - 1)
bad = [p for p in range(start, end, page)
       if not any(lo <= p < hi and perm.startswith("r-") for lo, hi, perm, off in mine)]
print(f"RELRO {start:#x}-{end:#x}: {len(bad)} writable or unmapped pages")
sys.exit(1 if bad or end <= start else 0)
EOF
if [ $? = 0 ]; then ok "RELRO read-only while omnibox runs ($(cat "$T/relro.out"))"; else fail "RELRO: $(cat "$T/relro.out")"; fi
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
finish

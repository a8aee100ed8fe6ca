# proxy_lib.sh - starting `omnibox proxy` in a test (POSIX sh, sourced after
# lib.sh and ../fixtures/helpers.sh).
#
#   start_proxy NAME POLICY [ARG...]   omnibox proxy on 127.0.0.1:0 with its own
#                                      CA ($T/ca-NAME), audit log ($T/audit-NAME.jsonl)
#                                      and placeholders file; sets PROXY (ip:port),
#                                      PROXY_PID, AUDIT, PROXY_CA; killed at exit
#   record [N] FIELD...                fields of the Nth-last audit record (default 1),
#                                      tab-separated ("-" for a missing one)
#   records_matching KEY=VALUE...      how many records of $AUDIT have all of these
#   expect_record DESC FIELD=VALUE...  the last record has these field values
#   placeholder NAME                   the placeholder of env NAME

start_proxy() {
	_pn=$1
	_pol=$2
	shift 2
	rm -f "$T/proxy-$_pn.ready"
	AUDIT="$T/audit-$_pn.jsonl"
	PROXY_CA="$T/ca-$_pn"
	PH_FILE="$T/ph-$_pn"
	"$OMNIBOX" proxy --listen 127.0.0.1:0 --ready "$T/proxy-$_pn.ready" --policy "$_pol" \
		--ca "$PROXY_CA" --audit "$AUDIT" --placeholders "$PH_FILE" "$@" \
		</dev/null >"$T/proxy-$_pn.out" 2>"$T/proxy-$_pn.err" &
	PROXY_PID=$!
	at_exit "kill $PROXY_PID 2>/dev/null"
	_pi=0
	while [ ! -s "$T/proxy-$_pn.ready" ]; do
		kill -0 "$PROXY_PID" 2>/dev/null || die "omnibox proxy $_pn exited: $(cat "$T/proxy-$_pn.err")"
		[ $_pi -lt 200 ] || die "omnibox proxy $_pn did not listen within 10 s"
		sleep 0.05
		_pi=$((_pi + 1))
	done
	PROXY=$(head -n 1 "$T/proxy-$_pn.ready")
}

record() {
	_n=1
	case $1 in [0-9]*) _n=$1; shift ;; esac
	"$PY" - "$AUDIT" "$_n" "$@" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[-int(sys.argv[2])])
out = []
for f in sys.argv[3:]:
    v = r
    for k in f.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    out.append("-" if v is None else (",".join(v) if isinstance(v, list) else str(v)))
print("\t".join(out))
EOF
}

records_matching() {
	"$PY" - "$AUDIT" "$@" <<'EOF'
import json, sys
want = [a.split("=", 1) for a in sys.argv[2:]]
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if all(str(r.get(k, "-")) == v for k, v in want):
        n += 1
print(n)
EOF
}

# expect_record DESC FIELD=VALUE...: the last record's fields
expect_record() {
	_d=$1
	shift
	for _kv in "$@"; do
		_k=${_kv%%=*}
		_v=${_kv#*=}
		_got=$(record "$_k")
		if [ "$_got" != "$_v" ]; then
			fail "$_d: audit $_k is '$_got', expected '$_v'"
			return
		fi
	done
	ok "$_d (audit: $*)"
}

placeholder() { sed -n "s/^$1=//p" "$PH_FILE"; }

#!/bin/sh
# audit_cli.sh OMNIBOX TEST_AUDIT: drives `omnibox audit` over logs written
# by the real appender (test_audit's writer mode): --verify on an intact log,
# an edited byte, a deleted line, a torn tail; the filters; --json; --follow
# picking up a record appended after it started.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
WRITER=$2
[ -x "$WRITER" ] || die "test_audit binary not found: $WRITER"

LOG="$T/audit.jsonl"
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$WRITER" write "$LOG" <<EOF || die "the writer failed"
2026-01-01T10:00:00Z api.github.com allow GET /repos/o/r?token=hunter2 200 egress.allow[0]
2026-01-01T10:00:01Z evil.example.com deny POST /upload 403 egress.deny[1]
2026-01-01T10:00:02Z github.com ask POST /o/r.git/git-receive-pack 200 rules.push
2026-01-01T10:00:03Z registry.npmjs.org allow GET /left-pad 200 egress.allow[1]
2026-01-01T10:00:04Z uploads.github.com allow PUT /assets 201 egress.allow[0]
$NOW api.github.com allow GET /user 200 egress.allow[0]
$NOW metadata.internal deny GET /latest/meta-data 403 ssrf
EOF

# ---- verify ----
run ok "$OMNIBOX" audit "$LOG" --verify
expect_rc ok 0 "--verify passes on an intact log"
expect_in "$T/ok.out" "verified 7 records" "--verify counts the records"

# One byte edited in line 3 (the method): line 4's prev no longer matches.
sed '3s/"POST"/"PUSH"/' "$LOG" >"$T/edited.jsonl"
cmp -s "$LOG" "$T/edited.jsonl" && die "the edit did not change the log"
run edited "$OMNIBOX" audit "$T/edited.jsonl" --verify
expect_rc edited 1 "--verify fails on an edited byte"
expect_in "$T/edited.err" "line 4: prev hash does not match line 3 (the log was edited or lines were removed)" \
	"the edited line is named"

sed '4d' "$LOG" >"$T/deleted.jsonl"
run deleted "$OMNIBOX" audit "$T/deleted.jsonl" --verify
expect_rc deleted 1 "--verify fails on a deleted line"
expect_in "$T/deleted.err" "line 4: seq 5 where 4 was expected" "the gap is named"

# Torn tail: the file cut in the middle of its last line (a crash mid-write).
SIZE=$(wc -c <"$LOG")
head -c $((SIZE - 40)) "$LOG" >"$T/torn.jsonl"
run torn "$OMNIBOX" audit "$T/torn.jsonl" --verify
expect_rc torn 0 "--verify of a torn log exits 0"
expect_in "$T/torn.out" "verified 6 records" "every record before the torn line verifies"
expect_in "$T/torn.err" "line 7 is torn" "the torn line is reported"
# The next append drops it and says so; the chain then verifies again.
echo "now api.github.com allow GET /after-crash 200 egress.allow[0]" | "$WRITER" write "$T/torn.jsonl" ||
	fail "append after a torn tail"
run torn2 "$OMNIBOX" audit "$T/torn.jsonl" --verify
expect_rc torn2 0 "after recovery the log verifies"
expect_in "$T/torn2.out" "verified 7 records" "the recovered log has 7 records"
expect_in "$T/torn.jsonl" '"recovered":' "the recovery is recorded"

# Cut mid-line in the middle of the file: the damage is named.
head -c $((SIZE / 2)) "$LOG" >"$T/mid.jsonl"
tail -n 2 "$LOG" >>"$T/mid.jsonl"
run mid "$OMNIBOX" audit "$T/mid.jsonl" --verify
expect_rc mid 1 "a line cut in the middle of the file fails --verify"

run nofile "$OMNIBOX" audit "$T/none.jsonl" --verify
expect_rc nofile 1 "a missing log fails"
expect_in "$T/nofile.err" "none.jsonl: cannot open" "the missing log is named"
run usage "$OMNIBOX" audit "$LOG" --verify --json
expect_rc usage 2 "--verify with other options is a usage error"
run usage2 "$OMNIBOX" audit "$LOG" --decision maybe
expect_rc usage2 2 "--decision must be allow, deny or ask"
run usage3 "$OMNIBOX" audit "$LOG" --since yesterday
expect_rc usage3 2 "a bad --since is a usage error"

# ---- show and filter ----
run all "$OMNIBOX" audit "$LOG"
expect_rc all 0 "listing"
[ "$(wc -l <"$T/all.out")" -eq 7 ] && ok "one line per record" || fail "$(wc -l <"$T/all.out") lines"
expect_in "$T/all.out" "2026-01-01T10:00:01.000Z deny POST evil.example.com /upload 403 egress.deny[1]" \
	"human line: ts decision method host path status rule"
expect_in "$T/all.out" "/repos/o/r?REDACTED" "the query is redacted"
grep -q hunter2 "$LOG" && fail "the query value reached the log" || ok "the query value is not in the log"

run host "$OMNIBOX" audit "$LOG" --host '*.github.com'
[ "$(wc -l <"$T/host.out")" -eq 3 ] && ok "--host '*.github.com': 3 records" ||
	{ fail "--host: $(wc -l <"$T/host.out") records"; show host; }
run dec "$OMNIBOX" audit "$LOG" --decision deny
[ "$(wc -l <"$T/dec.out")" -eq 2 ] && ok "--decision deny: 2 records" ||
	{ fail "--decision: $(wc -l <"$T/dec.out") records"; show dec; }
run both "$OMNIBOX" audit "$LOG" --decision allow --host 'API.GITHUB.COM'
[ "$(wc -l <"$T/both.out")" -eq 2 ] && ok "filters combine (AND), host case-insensitive" ||
	{ fail "--decision allow --host: $(wc -l <"$T/both.out") records"; show both; }
run since "$OMNIBOX" audit "$LOG" --since 1h
[ "$(wc -l <"$T/since.out")" -eq 2 ] && ok "--since 1h: the 2 recent records" ||
	{ fail "--since 1h: $(wc -l <"$T/since.out") records"; show since; }
run since2 "$OMNIBOX" audit "$LOG" --since 2026-01-01T10:00:03Z --decision allow
[ "$(wc -l <"$T/since2.out")" -eq 3 ] && ok "--since RFC 3339 with --decision" ||
	{ fail "--since RFC 3339: $(wc -l <"$T/since2.out") records"; show since2; }
run json "$OMNIBOX" audit "$LOG" --json --decision ask
expect_rc json 0 "--json"
sed -n 3p "$LOG" >"$T/line3"
cmp -s "$T/json.out" "$T/line3" && ok "--json prints the record as stored" ||
	{ fail "--json output differs from the stored line"; show json; }

# Control characters in a field never reach the terminal raw.
printf 'now esc.example.com allow GET /a\033[2Jb 200 r\n' | "$WRITER" write "$T/esc.jsonl"
run esc "$OMNIBOX" audit "$T/esc.jsonl"
if grep -q "$(printf '\033')" "$T/esc.out"; then fail "an escape reached the output"; else ok "control characters are neutralised"; fi

# XDG_STATE_HOME gives the default path.
mkdir -p "$T/state/omnigent" && cp "$LOG" "$T/state/omnigent/audit.jsonl"
run def env XDG_STATE_HOME="$T/state" "$OMNIBOX" audit --verify
expect_in "$T/def.out" "verified 7 records" "the default log is under \$XDG_STATE_HOME/omnigent"

# ---- follow ----
cp "$LOG" "$T/follow.jsonl"
"$OMNIBOX" audit "$T/follow.jsonl" --follow --host 'late.example.com' >"$T/follow.out" 2>"$T/follow.err" &
FPID=$!
at_exit "kill $FPID 2>/dev/null"
sleep 1
echo "now late.example.com deny GET /late 403 egress.deny[9]" | "$WRITER" write "$T/follow.jsonl"
i=0
while ! grep -q late.example.com "$T/follow.out" && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
expect_in "$T/follow.out" "deny GET late.example.com /late 403 egress.deny[9]" "--follow picks up a record appended later"
kill -INT $FPID 2>/dev/null
i=0
while kill -0 $FPID 2>/dev/null && [ $i -lt 25 ]; do sleep 0.2; i=$((i + 1)); done
if kill -0 $FPID 2>/dev/null; then fail "--follow did not exit on SIGINT"; else
	wait $FPID
	RC=$?
	[ $RC -eq 0 ] && ok "--follow exits 0 on SIGINT" || fail "--follow exited $RC on SIGINT"
fi
run fv "$OMNIBOX" audit "$T/follow.jsonl" --verify
expect_in "$T/fv.out" "verified 8 records" "the followed log still verifies"

finish

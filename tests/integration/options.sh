#!/bin/sh
# options.sh OMNIBOX: every exec option does what docs/OMNIBOX.md says, from
# the flags and from a profile, with flags overriding the profile.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
make_workspace
EXTRA=$(mktemp -d /tmp/ombx-extra.XXXXXX) && at_exit "rm -rf '$EXTRA'"
mkdir -p "$EXTRA/ro" "$EXTRA/rw" "$EXTRA/secret"
echo readable >"$EXTRA/ro/file"
echo hidden >"$EXTRA/secret/key"
chmod -R a+rX "$EXTRA"
[ "$(id -u)" -eq 0 ] && chown -R "$WS_UID:$WS_GID" "$EXTRA/rw"

# The default workspace is the current directory, and the command starts there.
run cwd sh -c "cd '$WS' && exec '$OMNIBOX' exec -- sh -c 'pwd; echo made > here'"
expect_rc cwd 0 "default workspace: the current directory"
expect_in "$T/cwd.out" "$WS" "the command starts in the workspace"
[ "$(cat "$WS/here" 2>/dev/null)" = made ] && ok "a write in the default workspace reaches the host" ||
	fail "the write in the default workspace did not reach the host"

# --ro: readable, not writable. --rw: writable, visible on the host. --hide: gone.
run binds "$OMNIBOX" exec --workspace "$WS" --ro "$EXTRA/ro" --rw "$EXTRA/rw" --hide "$EXTRA/secret" \
	--ro "$EXTRA/secret" -- sh -c "
	cat '$EXTRA/ro/file'
	if echo x > '$EXTRA/ro/new' 2>/dev/null; then echo ro-writable; else echo ro-refused; fi
	echo written > '$EXTRA/rw/out' && echo rw-ok
	if cat '$EXTRA/secret/key' 2>/dev/null; then echo hide-failed; else echo hidden-ok; fi"
expect_rc binds 0 "--ro, --rw and --hide together"
expect_in "$T/binds.out" readable "--ro: the file is readable"
expect_in "$T/binds.out" ro-refused "--ro: writing is refused"
[ "$(cat "$EXTRA/rw/out" 2>/dev/null)" = written ] && ok "--rw: the write reaches the host" ||
	fail "--rw: the write did not reach the host"
expect_in "$T/binds.out" hidden-ok "--hide: the hidden file cannot be read"
grep -q hide-failed "$T/binds.out" && fail "--hide: the hidden file was readable"
[ ! -e "$EXTRA/ro/new" ] || fail "--ro: a file was created on the host"
# --hide of a single file (a .env beside the code): empty, unreadable, read-only.
echo "TOKEN=host-secret" >"$WS/.env"
run hidefile "$OMNIBOX" exec --workspace "$WS" --hide "$WS/.env" -- sh -c "
	if cat .env; then echo hide-failed; else echo hidden-ok; fi
	if echo x > .env 2>/dev/null; then echo hide-writable; fi
	ls -a / | grep -x .omnibox && echo scaffolding-left || true"
expect_rc hidefile 0 "--hide of a file"
expect_in "$T/hidefile.out" hidden-ok "--hide: the hidden file's contents cannot be read"
grep -q -e host-secret -e hide-failed -e hide-writable "$T/hidefile.out" &&
	fail "--hide: the hidden file was readable or writable"
grep -q scaffolding-left "$T/hidefile.out" && fail "the jail's root still shows the setup's /.omnibox"
[ "$(cat "$WS/.env")" = "TOKEN=host-secret" ] && ok "--hide: the host's file is untouched" ||
	fail "--hide: the host's file changed"
# The setup's own directory in the jail's root is no host path's to take: a
# workspace or bind there would name the host root's mount point (and make
# directories on the host). Only root can make one to try.
if [ "$(id -u)" -eq 0 ] && [ ! -e /.omnibox ]; then
	mkdir -p /.omnibox/host/ws && at_exit "rm -rf /.omnibox"
	run setupws "$OMNIBOX" exec --workspace /.omnibox/host/ws -- true
	expect_rc setupws 125 "a workspace under /.omnibox is refused"
	expect_in "$T/setupws.err" "reserved for omnibox's setup" "the refusal says why"
	run setupbind "$OMNIBOX" exec --workspace "$WS" --ro /.omnibox/host -- true
	expect_rc setupbind 125 "a bind under /.omnibox is refused"
	[ ! -e /.omnibox/host/ws/.git ] && [ ! -e /ws ] || fail "the refused launch changed the host"
else
	echo "# not root (or /.omnibox exists): the reserved-path refusal is not exercised here"
fi
run relbind "$OMNIBOX" exec --workspace "$WS" --ro relative/path -- true
expect_rc relbind 125 "--ro with a relative path is refused"
run nobind "$OMNIBOX" exec --workspace "$WS" --ro /nonexistent/ombx -- true
expect_rc nobind 125 "--ro of a missing path is refused"
expect_in "$T/nobind.err" "/nonexistent/ombx" "the missing bind is named"

# --env sets, --env-pass copies, nothing else of the host's environment.
run env env OMBX_PASS_ME=passed OMBX_NOT_ME=leak "$OMNIBOX" exec --workspace "$WS" \
	--env OMBX_SET=set --env OMBX_SET=later --env-pass OMBX_PASS_ME -- env
expect_rc env 0 "--env and --env-pass"
expect_in "$T/env.out" "OMBX_SET=later" "--env: the later value wins"
expect_in "$T/env.out" "OMBX_PASS_ME=passed" "--env-pass copies the caller's value"
grep -q OMBX_NOT_ME "$T/env.out" && fail "a host variable leaked into the jail" ||
	ok "other host variables stay out"
run badenv "$OMNIBOX" exec --workspace "$WS" --env '1BAD=x' -- true
expect_rc badenv 125 "--env with an invalid name is refused"

# --net host is an explicit opt-out: the host's interfaces, and a note saying so.
run nethost "$OMNIBOX" exec --workspace "$WS" --net host -- cat /proc/net/dev
expect_rc nethost 0 "--net host runs"
expect_in "$T/nethost.err" "--net host" "--net host is announced"
[ "$(grep -c : "$T/nethost.out")" -ge "$(grep -c : /proc/net/dev)" ] &&
	ok "--net host sees the host's interfaces" || fail "--net host: interfaces missing"
run netnone "$OMNIBOX" exec --workspace "$WS" -- cat /proc/net/dev
[ "$(grep -c : "$T/netnone.out")" -eq 1 ] && ok "--net none (default): only lo" ||
	fail "--net none: more than lo"

# --cpus, with --json-status reporting the limit and the cgroup.
if [ "$(id -u)" -eq 0 ]; then
	run cpus "$OMNIBOX" exec --workspace "$WS" --cpus 0.5 --json-status "$T/cpus.json" -- true
	expect_rc cpus 0 "--cpus 0.5"
	[ "$(json_get "$T/cpus.json" layers.cpus)" = 0.5 ] && ok "--json-status reports cpus 0.5" ||
		fail "--json-status cpus: $(json_get "$T/cpus.json" layers.cpus)"
	[ "$(json_get "$T/cpus.json" layers.cgroup_version)" -ge 1 ] && ok "a limit brings a cgroup" ||
		fail "--cpus without a cgroup"
fi
run nolimit "$OMNIBOX" exec --workspace "$WS" --json-status "$T/nolimit.json" -- true
[ "$(json_get "$T/nolimit.json" layers.cgroup_version)" = 0 ] &&
	[ "$(json_get "$T/nolimit.json" layers.pids_max)" = 4096 ] &&
	ok "no limit asked: no cgroup, RLIMIT_NPROC 4096 reported" || fail "status without limits"

# Under root, a workspace whose group is root does not put the jail in it.
if [ "$(id -u)" -eq 0 ]; then
	RG=$(mktemp -d /tmp/ombx-rootgroup.XXXXXX) && at_exit "rm -rf '$RG'"
	chown 1000:0 "$RG" && chmod 775 "$RG"
	run rootgroup "$OMNIBOX" exec --workspace "$RG" -- sh -c 'id -u; id -g; id -G'
	expect_rc rootgroup 0 "a workspace owned by 1000:root"
	[ "$(sed -n 1p "$T/rootgroup.out")" = 1000 ] && ok "the jail runs as the workspace owner (1000)" ||
		fail "jail uid $(sed -n 1p "$T/rootgroup.out"), expected 1000"
	grep -qx 0 "$T/rootgroup.out" && fail "the jail has gid 0 (root group)" ||
		ok "no gid 0 in the jail, though the workspace's group is root"
fi

# A caller's umask shapes the command's files, not the jail's own root: under
# umask 077, /home was made 0700 and the jail refused its own user.
run umask sh -c "umask 077 && exec '$OMNIBOX' exec --workspace '$WS' -- sh -c '
	umask; cat /etc/hostname; head -c 4 /etc/nsswitch.conf >/dev/null && echo etc-readable
	cd && echo home-ok; rm -f made && touch made && ls -l made'"
expect_rc umask 0 "a caller with umask 077"
expect_in "$T/umask.out" 0077 "the command keeps the caller's umask"
expect_in "$T/umask.out" etc-readable "the jail's /etc is readable under umask 077"
expect_in "$T/umask.out" home-ok "the jail's \$HOME is reachable under umask 077"
expect_in "$T/umask.out" "-rw-------" "the command's new files follow the caller's umask"

# A profile sets the same options; flags override it.
cat >"$T/p.yaml" <<YAML
workspace: $WS
env: {OMBX_FROM: profile, OMBX_KEEP: kept}
timeout: 1
YAML
run prof "$OMNIBOX" exec --profile "$T/p.yaml" --env OMBX_FROM=flag -- sh -c 'echo $OMBX_FROM $OMBX_KEEP; pwd'
expect_rc prof 0 "a profile with workspace, env and timeout"
expect_in "$T/prof.out" "flag kept" "flags override the profile, the rest of it stays"
expect_in "$T/prof.out" "$WS" "the profile's workspace is used"
run proftmo "$OMNIBOX" exec --profile "$T/p.yaml" --json-status "$T/tmo.json" -- sleep 30
[ "$(json_get "$T/tmo.json" timed_out)" = true ] && ok "the profile's timeout applies" ||
	fail "the profile's timeout did not apply (exit $RC)"
run proftmo2 "$OMNIBOX" exec --profile "$T/p.yaml" --timeout 20 -- sleep 2
expect_rc proftmo2 0 "--timeout overrides the profile's"
finish

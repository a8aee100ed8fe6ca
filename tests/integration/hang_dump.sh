#!/bin/sh
# hang_dump.sh PID [--kill]: what every process under PID waits for, on
# stdout: the tree (state, kernel wait channel, command line), each thread's
# kernel stack (root only), and a backtrace of every thread of omnibox's own
# programs (when gdb is installed); with --kill, then PID gets SIGTERM and
# every process under it SIGKILL (this one's parent among them, if it is).
# lib.sh runs it when a test outlives its deadline, so that a hang in CI
# says where it hangs.
root=$1
tree=$(ps -eo pid=,ppid= | awk -v root="$root" '
	{ parent[$1] = $2; pids[NR] = $1 }
	END {
		for (i = 1; i <= NR; i++) {
			p = pids[i]; q = p
			while (q != "" && q != root && q > 1) q = parent[q]
			if (q == root) printf "%s ", p
		}
	}')
echo "# processes under $root:"
# shellcheck disable=SC2086 # a list of pids
[ -n "$tree" ] && ps -o pid,ppid,stat,etimes,wchan:28,args --forest -p "$(echo $tree | tr ' ' ,)" |
	cut -c1-220
for p in $tree; do
	for t in /proc/"$p"/task/*; do
		[ -r "$t/stack" ] || continue
		echo "# kernel stack of $p/${t##*/} ($(cat "$t/comm" 2>/dev/null)):"
		head -12 "$t/stack"
	done
done
command -v gdb >/dev/null && for p in $tree; do
	case $(cat /proc/"$p"/comm 2>/dev/null) in
	omnibox | omnibox-proxy | omnibox-tools)
		echo "# threads of $p ($(cat /proc/"$p"/comm)):"
		timeout 30 gdb -nx -batch -p "$p" -ex "thread apply all bt 25" </dev/null 2>&1 |
			grep -E '^(Thread|#)' | cut -c1-200 | head -150
		;;
	esac
done
[ "$2" = --kill ] || exit 0
# the test's shell runs its trap only once the child it waits for is gone
kill -TERM "$root"
for p in $tree; do [ "$p" = $$ ] || kill -KILL "$p" 2>/dev/null; done
exit 0

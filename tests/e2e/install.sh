#!/bin/sh
# install.sh: installs the real harness CLIs the end-to-end tests run (today
# the Claude Code CLI, pinned in package.json and package-lock.json) into
# tests/e2e/node_modules with `npm ci`, from the npm registry npm is set up
# for. Idempotent: does nothing when node_modules matches the lock file and
# the CLI answers --version. Concurrent runs are serialized (flock).
#
# Exit 0: ready; the entry point is tests/e2e/node_modules/.bin/claude (the
# native binary: no node process stays). Exit 77: npm or node is not
# installed. Exit 1: the install failed (say, the registry is unreachable),
# with the reason on stderr.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
say() { echo "e2e/install.sh: $*"; }
die() { echo "e2e/install.sh: FAIL: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || { say "node is not installed (scripts/install-deps installs it)"; exit 77; }
command -v npm >/dev/null 2>&1 || { say "npm is not installed (scripts/install-deps installs it)"; exit 77; }

want=$(node -p 'require(process.argv[1]).dependencies["@anthropic-ai/claude-code"]' "$here/package.json")
bin=$here/node_modules/.bin/claude
stamp=$here/node_modules/.omnigent-install
# What the install depends on: the manifests, the platform, the node in use.
key=$(cat "$here/package.json" "$here/package-lock.json" | cksum | cut -d' ' -f1)-$(uname -m)-$(node --version)

works() {
	v=$("$bin" --version 2>/dev/null) || return 1
	case $v in "$want "*) return 0 ;; *) return 1 ;; esac
}
fresh() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && works; }

if fresh; then
	say "up to date: claude $want ($bin)"
	exit 0
fi
exec 9>"$here/.install-lock"
flock 9
if fresh; then
	say "up to date: claude $want (installed by a concurrent run)"
	exit 0
fi

reg=$(npm config get registry 2>/dev/null || echo "?")
if [ -d "$here/node_modules" ]; then
	say "node_modules is stale or broken: reinstalling claude $want"
else
	say "node_modules is missing: installing claude $want"
fi
say "running: npm ci --prefix $here (registry $reg)"
# Bounded: a registry that does not answer fails within minutes, not hours.
if ! npm ci --prefix "$here" --no-audit --no-fund --fetch-retries=1 --fetch-timeout=120000 \
	>"$here/.install-log" 2>&1; then
	sed 's/^/    /' "$here/.install-log" | tail -n 30 >&2
	die "npm ci failed: is the npm registry ($reg) reachable? (full log: $here/.install-log)"
fi
if ! works; then
	# The postinstall copies the native binary over a stub; npm may not have
	# run it (ignore-scripts): run it here.
	say "the claude entry point is not the native binary yet: running its postinstall"
	(cd "$here" && node node_modules/@anthropic-ai/claude-code/install.cjs) >>"$here/.install-log" 2>&1 ||
		die "the postinstall of @anthropic-ai/claude-code failed (log: $here/.install-log)"
	works || die "$bin --version does not print $want (log: $here/.install-log)"
fi
echo "$key" >"$stamp"
say "installed: claude $want ($bin)"

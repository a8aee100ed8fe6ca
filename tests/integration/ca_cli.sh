#!/bin/sh
# ca_cli.sh OMNIBOX: drives `omnibox ca init|show|path`: where the CA goes
# (--ca, XDG_DATA_HOME, HOME), file modes, idempotent init, what show prints
# (never the key), the certificate as openssl reads it, refusals.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
command -v openssl >/dev/null 2>&1 || skip "openssl(1) not installed"
D=$T/ca

# is GOT WANT WHAT: one assertion of equality.
is() { if [ "$1" = "$2" ]; then ok "$3"; else fail "$3: got '$1', want '$2'"; fi; }

# ---- before init ----
run pre "$OMNIBOX" ca show --ca "$D"
expect_rc pre 1 "show before init fails"
expect_in "$T/pre.err" "run 'omnibox ca init'" "and says what to run"
is "$(test -e "$D" && echo exists)" "" "show creates nothing"
run prepath "$OMNIBOX" ca path --ca "$D"
expect_rc prepath 1 "path before init fails (a script must not get a missing file)"

# ---- init ----
run init "$OMNIBOX" ca init --ca "$D"
expect_rc init 0 "init"
expect_in "$T/init.out" "created the interception CA in $D" "init says where"
is "$(stat -c %a "$D")" 700 "directory 0700"
is "$(stat -c %a "$D/ca.key")" 600 "ca.key 0600"
is "$(stat -c %a "$D/ca.pem")" 644 "ca.pem 0644"
is "$(find "$D" -mindepth 1 -printf '%f ' | tr ' ' '\n' | sort | tr '\n' ' ')" "ca.key ca.pem " \
	"no temporary files left"
fp1=$(grep '^sha256:' "$T/init.out")

run init2 "$OMNIBOX" ca init --ca "$D"
expect_rc init2 0 "a second init"
expect_in "$T/init2.out" "kept the existing interception CA in $D" "keeps the existing CA"
is "$(grep '^sha256:' "$T/init2.out")" "$fp1" "same fingerprint after a second init"

# ---- path ----
run path "$OMNIBOX" ca path --ca "$D"
expect_rc path 0 "path"
is "$(cat "$T/path.out")" "$D/ca.pem" "path prints the PEM path only"
openssl x509 -in "$(cat "$T/path.out")" -noout -text >"$T/x509.txt" 2>&1 || fail "openssl x509 failed"
expect_in "$T/x509.txt" "CA:TRUE, pathlen:0" "openssl: CA:TRUE, pathlen:0"
expect_in "$T/x509.txt" "NIST CURVE: P-256" "openssl: the P-256 curve"
expect_in "$T/x509.txt" "Certificate Sign, CRL Sign" "openssl: keyCertSign, cRLSign"
expect_in "$T/x509.txt" "Omnigent interception CA (" "openssl: the CA's name"
is "$(openssl verify -CAfile "$D/ca.pem" "$D/ca.pem" 2>&1)" "$D/ca.pem: OK" "self-signed, verifies"

# ---- show ----
run show "$OMNIBOX" ca show --ca "$D"
expect_rc show 0 "show"
want=$(openssl x509 -in "$D/ca.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
expect_in "$T/show.out" "sha256:      $want" "show: the SHA-256 fingerprint openssl computes"
expect_in "$T/show.out" "not after:" "show: validity"
expect_in "$T/show.out" "certificate: $D/ca.pem" "show: the path"
if grep -q "PRIVATE\|BEGIN" "$T/show.out" "$T/show.err" "$T/init.out"; then
	fail "show or init printed PEM material"
else
	ok "show and init print no PEM, no key"
fi

# ---- default locations ----
mkdir -p "$T/home"
run home env -u XDG_DATA_HOME HOME="$T/home" "$OMNIBOX" ca init
expect_rc home 0 "init in the default place"
expect_in "$T/home.out" "$T/home/.local/share/omnigent/ca" "default: ~/.local/share/omnigent/ca"
run xdg env XDG_DATA_HOME="$T/xdg" "$OMNIBOX" ca init
expect_rc xdg 0 "init under XDG_DATA_HOME"
run xdgpath env XDG_DATA_HOME="$T/xdg" "$OMNIBOX" ca path
is "$(cat "$T/xdgpath.out")" "$T/xdg/omnigent/ca/ca.pem" "XDG_DATA_HOME/omnigent/ca"

# ---- refusals ----
chmod 644 "$D/ca.key"
run exposed "$OMNIBOX" ca show --ca "$D"
expect_rc exposed 1 "a 0644 key is refused"
expect_in "$T/exposed.err" "refusing the CA key $D/ca.key: mode 0644" "the refusal names the key and mode"
run exposedinit "$OMNIBOX" ca init --ca "$D"
expect_rc exposedinit 1 "init refuses it too"
chmod 600 "$D/ca.key"
run again "$OMNIBOX" ca show --ca "$D"
is "$(grep '^sha256:' "$T/again.out")" "$fp1" "the key was not replaced"

# ---- usage ----
run nosub "$OMNIBOX" ca
expect_rc nosub 2 "ca without a subcommand is a usage error"
run badsub "$OMNIBOX" ca rotate
expect_rc badsub 2 "an unknown ca subcommand is a usage error"
run extra "$OMNIBOX" ca show --ca "$D" extra
expect_rc extra 2 "an extra argument is a usage error"
run help "$OMNIBOX" --help
expect_in "$T/help.out" "omnibox ca init|show|path" "omnibox --help lists ca"

finish

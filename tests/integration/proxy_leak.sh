#!/bin/sh
# proxy_leak.sh OMNIBOX: thousands of randomized requests through `omnibox
# proxy`, some carrying the secret's placeholder (in headers, Basic
# credentials, the query, the body), to the secret's bound host and to
# others, asking bound hosts to reflect what they received. The secret's
# bytes (plain, base64, URL-encoded) may appear only on the wire to its
# bound host: never in a response to the client, the proxy's output, the
# audit log, or toward another origin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
make_testca
start_origin bound --tls "$PKI/origin.pem" "$PKI/origin.key"
BOUND=$ORIGIN_PORT
start_origin other --tls "$PKI/origin.pem" "$PKI/origin.key"
OTHER=$ORIGIN_PORT

SECRET="tok_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$T/policy.yaml" <<EOF
egress:
  allow:
    - "GET,POST,PUT echo.test/**"
    - "GET,POST,PUT origin.test/**"
    - "GET,POST other.test/**"
secrets:
  tok:
    source: env:OMBX_LEAK_SECRET
    placeholder_env: LEAK_TOKEN
    inject:
      - {hosts: [echo.test], header: Authorization, format: "Bearer {secret}"}
EOF
OMBX_LEAK_SECRET=$SECRET start_proxy leak "$T/policy.yaml" --upstream-ca "$PKI/ca.pem" \
	--allow-cidr 127.0.0.0/8 --resolve "echo.test:$BOUND:127.0.0.1" \
	--resolve "origin.test:$OTHER:127.0.0.1" --resolve "other.test:$OTHER:127.0.0.1"
PH=$(placeholder LEAK_TOKEN)
[ -n "$PH" ] || die "no placeholder"

N=${OMBX_LEAK_REQUESTS:-3000}
"$PY" - "$PROXY" "$PROXY_CA/ca.pem" "$PH" "$BOUND" "$OTHER" "$N" "$T/responses" >"$T/driver.out" 2>&1 <<'EOF'
import base64, http.client, random, ssl, sys, urllib.parse
proxy, cafile, ph, bound, other, n, out = sys.argv[1:8]
n = int(n)
random.seed()
ctx = ssl.create_default_context(cafile=cafile)
ph_host, ph_port = proxy.rsplit(":", 1)
hosts = [("echo.test", int(bound)), ("origin.test", int(other)), ("other.test", int(other))]
conns = {}
stats = {}
with open(out, "wb") as f:
    for i in range(n):
        host, port = random.choice(hosts)
        c = conns.get(host)
        if c is None or random.random() < 0.1:
            if c:
                c.close()
            c = http.client.HTTPSConnection(ph_host, int(ph_port), context=ctx, timeout=30)
            c.set_tunnel(host, port)
            conns[host] = c
        where = random.choice(["none", "header", "basic", "query", "body", "bearer"])
        path = random.choice(["/echo", "/reflect?h=Authorization", "/reflect?h=X-Token",
                              "/redirect?to=https://other.test/x", "/chunked?n=3&size=100"])
        headers = {}
        body = None
        method = random.choice(["GET", "POST"])
        if where == "header":
            headers["X-Token"] = ph
        elif where == "bearer":
            headers["Authorization"] = "Bearer " + ph
        elif where == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(("x-access-token:" + ph).encode()).decode()
        elif where == "query":
            path += ("&" if "?" in path else "?") + "t=" + urllib.parse.quote(ph)
        elif where == "body":
            method = "POST"
            body = ("token=" + ph).encode()
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            conns[host] = None
            stats["error"] = stats.get("error", 0) + 1
            continue
        f.write(("%s %s %s %d\n" % (host, where, path, r.status)).encode())
        for k, v in r.getheaders():
            f.write(("%s: %s\n" % (k, v)).encode())
        f.write(data + b"\n")
        stats[r.status] = stats.get(r.status, 0) + 1
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            conns[host] = None
print(" ".join("%s:%s" % kv for kv in sorted(stats.items(), key=str)))
EOF
note "driver: $(cat "$T/driver.out")"
grep -q "200:" "$T/driver.out" && grep -q "403:" "$T/driver.out" ||
	fail "the mix should have both allowed and refused requests: $(cat "$T/driver.out")"

# every encoding of the secret the tests look for
"$PY" - "$SECRET" >"$T/forms" <<'EOF'
import base64, sys, urllib.parse
s = sys.argv[1].encode()
forms = {s, base64.b64encode(s).rstrip(b"="), urllib.parse.quote(s, safe="").encode()}
# the secret inside base64 text at each alignment (the characters it alone decides)
for k in range(3):
    e = base64.b64encode(b"\0" * k + s)
    skip = (k * 4 + 2) // 3 + (1 if k else 0)
    forms.add(e[skip:skip + 16])
for f in sorted(forms):
    print(f.decode())
EOF
leaks() { # leaks FILE: how many of the forms occur in FILE
	_c=0
	while read -r _f; do
		[ -n "$_f" ] && grep -qF -- "$_f" "$1" && _c=$((_c + 1))
	done <"$T/forms"
	echo "$_c"
}
for f in "$T/responses" "$AUDIT" "$T/proxy-leak.err" "$T/proxy-leak.out" "$T/origin-other.log"; do
	[ "$(leaks "$f")" -eq 0 ] && ok "no trace of the secret in $(basename "$f")" ||
		fail "the secret leaked into $(basename "$f")"
done
grep -qF "Bearer $SECRET" "$T/origin-bound.log" && ok "the bound origin did receive the injected secret" ||
	fail "the bound origin never got the secret (is injection working?)"
[ "$(grep -c "$PH" "$T/origin-other.log")" -eq 0 ] &&
	ok "no request with the placeholder in a header or the query reached the unbound origin" ||
	fail "the placeholder reached the unbound origin in a header or the query"
run verify "$OMNIBOX" audit "$AUDIT" --verify
expect_rc verify 0 "the audit log verifies"
finish

/* test_policy_match.c - table-driven tests of the policy library's matchers:
 * host canonicalisation (case, trailing dot, IDNA, IP literal forms), host
 * patterns, CIDRs (v4-mapped v6 included), the special-purpose ranges, path
 * normalisation and globs, and command patterns. */
#include <errno.h>
#include <stdlib.h>

#include "../../policy/internal.h"
#include "policy_test.h"

/* ---- hosts ---- */

static const struct {
	const char *in, *want; /* want NULL: refused */
	bool ip;
} hosts[] = {
	{"api.github.com", "api.github.com", false},
	{"API.GitHub.COM", "api.github.com", false},
	{"api.github.com.", "api.github.com", false},
	{"api.github.com..", NULL, false},
	{".", NULL, false},
	{"", NULL, false},
	{".example.com", NULL, false},
	{"a..example.com", NULL, false},
	{"b\xc3\xbc"
	 "cher.de",
	 "xn--bcher-kva.de", false},
	{"B\xc3\x9c"
	 "CHER.de",
	 "xn--bcher-kva.de", false},
	{"xn--bcher-kva.de", "xn--bcher-kva.de", false},
	{"XN--BCHER-KVA.DE", "xn--bcher-kva.de", false},
	{"xn--zz.com", NULL, false},
	{"\xef\xbd\x81\xef\xbd\x90\xef\xbd\x89.github.com", "api.github.com",
	 false}, /* fullwidth */
	{"a_b.example.com", "a_b.example.com", false},
	{"-a.example.com", NULL, false},
	{"a-.example.com", NULL, false},
	{"a b.com", NULL, false},
	{"host:443", NULL, false},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL, false},
	{"127.0.0.1", "127.0.0.1", true},
	{"127.0.0.1.", "127.0.0.1", true},
	{"2130706433", NULL, false},
	{"0x7f000001", NULL, false},
	{"0177.0.0.1", NULL, false},
	{"127.1", NULL, false},
	{"127.0.1", NULL, false},
	{"0x7f.0.0.1", NULL, false},
	{"1.2.3.4.5", NULL, false},
	{"256.1.1.1", NULL, false},
	{"example.123", NULL, false},
	{"example.0x1f", NULL, false},
	{"1password.com", "1password.com", false},
	{"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1", "127.0.0.1", true}, /* fullwidth digits */
	{"[::1]", "::1", true},
	{"::1", "::1", true},
	{"[0:0:0:0:0:0:0:1]", "::1", true},
	{"[2001:DB8::0:1]", "2001:db8::1", true},
	{"[::FFFF:127.0.0.1]", "::ffff:127.0.0.1", true},
	{"[fe80::1%eth0]", NULL, false},
	{"[::1", NULL, false},
	{"[example.com]", NULL, false},
};

static void test_hosts(void)
{
	char name[160], out[POLICY_HOST_MAX + 64], msg[256];

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		bool ip = false;
		int r = policy__host_canon(hosts[i].in, strlen(hosts[i].in), out, sizeof(out), &ip,
					   msg, sizeof(msg));
		snprintf(name, sizeof(name), "host \"%s\"", hosts[i].in);
		if (!hosts[i].want)
			check(r == -EINVAL, name, "accepted as \"%s\"", r == 0 ? out : "?");
		else
			check(r == 0 && strcmp(out, hosts[i].want) == 0 && ip == hosts[i].ip, name,
			      "r=%d out=\"%s\" ip=%d msg=%s", r, r == 0 ? out : "", ip,
			      r ? msg : "");
	}
}

static const struct {
	const char *pat, *host;
	int want; /* 1 match, 0 no, -1 pattern refused */
} hostpats[] = {
	{"*.example.com", "a.example.com", 1},
	{"*.example.com", "a.b.example.com", 1},
	{"*.example.com", "example.com", 0},
	{"*.example.com", "badexample.com", 0},
	{"*.example.com", "A.EXAMPLE.COM.", 1},
	{"*.B\xc3\x9c"
	 "CHER.de",
	 "shop.xn--bcher-kva.de", 1},
	{"example.com", "Example.Com.", 1},
	{"example.com", "www.example.com", 0},
	{"*", "anything.example", 1},
	{"*", "10.0.0.1", 1},
	{"example.com", "10.0.0.1", 0},
	{"*.example.com", "10.0.0.1", 0},
	{"*example.com", "example.com", -1},
	{"a.*.com", "a.b.com", -1},
	{"foo*", "foo", -1},
	{"1.2.3.4", "1.2.3.4", -1},
	{"*.1.2.3", "x.1.2.3", -1},
	{"**.example.com", "a.example.com", -1},
};

static void test_hostpats(void)
{
	struct policy__arena a = {0};
	char name[160], h[POLICY_HOST_MAX + 64], msg[256];

	for (size_t i = 0; i < sizeof(hostpats) / sizeof(hostpats[0]); i++) {
		struct policy__hostpat p;
		bool ip = false;
		int r = policy__hostpat_parse(&a, hostpats[i].pat, strlen(hostpats[i].pat), &p, msg,
					      sizeof(msg));
		snprintf(name, sizeof(name), "host pattern \"%s\" vs \"%s\"", hostpats[i].pat,
			 hostpats[i].host);
		if (hostpats[i].want < 0) {
			check(r < 0, name, "pattern accepted");
			continue;
		}
		if (r < 0 || policy__host_canon(hostpats[i].host, strlen(hostpats[i].host), h,
						sizeof(h), &ip, msg, sizeof(msg)) < 0) {
			check(0, name, "%s", msg);
			continue;
		}
		check(policy__hostpat_match(&p, h, strlen(h), ip) == (hostpats[i].want == 1), name,
		      "got %d", !hostpats[i].want);
	}
	policy__arena_free(&a);
}

/* ---- CIDRs and special ranges ---- */

static const struct {
	const char *cidr, *addr;
	int want; /* 1 match, 0 no, -1 CIDR refused */
} cidrs[] = {
	{"10.0.0.0/8", "10.1.2.3", 1},
	{"10.0.0.0/8", "11.0.0.1", 0},
	{"10.0.0.0/8", "::ffff:10.1.2.3", 1}, /* v4-mapped v6 */
	{"::ffff:10.0.0.0/104", "10.1.2.3", 1},
	{"::ffff:0:0/96", "8.8.8.8", 1},
	{"::/0", "1.2.3.4", 0}, /* IPv6 /0 is not "all IPv4 too" */
	{"::/0", "2001:db8::1", 1},
	{"::/0", "::ffff:1.2.3.4", 1},
	{"0.0.0.0/0", "8.8.8.8", 1},
	{"0.0.0.0/0", "2001:db8::1", 0},
	{"fd00::/8", "fd12:3456::1", 1},
	{"fd00::/8", "fe80::1", 0},
	{"1.2.3.4", "1.2.3.4", 1},
	{"1.2.3.4", "1.2.3.5", 0},
	{"169.254.169.254/32", "169.254.169.254", 1},
	{"172.16.0.0/12", "172.31.255.255", 1},
	{"172.16.0.0/12", "172.32.0.0", 0},
	{"2001:db8::/32", "2001:db8:ffff::1", 1},
	{"10.0.0.1/8", "10.0.0.1", -1},
	{"10.0.0.0/33", "10.0.0.1", -1},
	{"10.0.0/8", "10.0.0.1", -1},
	{"010.0.0.0/8", "10.0.0.1", -1},
	{"::1/129", "::1", -1},
	{"10.0.0.0/", "10.0.0.1", -1},
	{"10.0.0.0/08", "10.0.0.1", -1},
	{"fe80::1%1/64", "fe80::1", -1},
	{"example.com/8", "10.0.0.1", -1},
};

static void test_cidrs(void)
{
	char name[160], msg[256];

	for (size_t i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++) {
		struct policy__cidr c;
		struct policy_addr a;
		int r = policy__cidr_parse(cidrs[i].cidr, strlen(cidrs[i].cidr), &c, msg,
					   sizeof(msg));
		snprintf(name, sizeof(name), "cidr %s vs %s", cidrs[i].cidr, cidrs[i].addr);
		if (cidrs[i].want < 0) {
			check(r < 0, name, "accepted");
			continue;
		}
		if (r < 0 || policy_addr_parse(cidrs[i].addr, &a) < 0) {
			check(0, name, "parse failed: %s", msg);
			continue;
		}
		check(policy__cidr_match(&c, &a) == (cidrs[i].want == 1), name, "wrong answer");
	}
}

static const struct {
	const char *addr;
	bool special;
} specials[] = {
	{"127.0.0.1", true},
	{"127.255.0.1", true},
	{"10.0.0.1", true},
	{"172.16.0.1", true},
	{"172.32.0.1", false},
	{"192.168.1.1", true},
	{"169.254.169.254", true},
	{"100.64.0.1", true},
	{"100.128.0.1", false},
	{"0.0.0.0", true},
	{"240.0.0.1", true},
	{"255.255.255.255", true},
	{"224.0.0.1", true},
	{"192.0.2.1", true},
	{"198.18.0.1", true},
	{"8.8.8.8", false},
	{"1.1.1.1", false},
	{"140.82.112.3", false},
	{"::1", true},
	{"::", true},
	{"fc00::1", true},
	{"fd00::1", true},
	{"fe80::1", true},
	{"fec0::1", true},
	{"64:ff9b::1.2.3.4", true},
	{"64:ff9b:1::1", true},
	{"2002::1", true},
	{"2001::1", true},
	{"2001:db8::1", true},
	{"::ffff:8.8.8.8", true},
	{"::ffff:127.0.0.1", true},
	{"ff02::1", true},
	{"100::1", true},
	{"2606:4700::1111", false},
	{"2001:4860:4860::8888", false},
};

static void test_specials(void)
{
	char name[96];

	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		struct policy_addr a;
		const char *s;
		snprintf(name, sizeof(name), "special-purpose %s", specials[i].addr);
		if (policy_addr_parse(specials[i].addr, &a) < 0) {
			check(0, name, "does not parse");
			continue;
		}
		s = policy_addr_special(&a);
		check((s != NULL) == specials[i].special, name, "got %s", s ? s : "not special");
	}
}

/* ---- paths and globs ---- */

static const struct {
	const char *glob, *path;
	int want; /* 1 match, 0 no, -1 glob refused, -2 path refused */
} globs[] = {
	{"/**", "/", 1},
	{"/**", "/a/b/c", 1},
	{"/*", "/a", 1},
	{"/*", "/a/b", 0},
	{"/*/*.git/git-receive-pack", "/acme/app.git/git-receive-pack", 1},
	{"/*/*.git/git-receive-pack", "/acme/app/git-receive-pack", 0},
	{"/*/*.git/git-receive-pack", "/a/b/app.git/git-receive-pack", 0},
	{"/**/git-receive-pack", "/acme/app.git/git-receive-pack", 1},
	{"/**/-/*.tgz", "/lodash/-/lodash-4.17.21.tgz", 1},
	{"/**/-/*.tgz", "/@types/node/-/node-20.1.0.tgz", 1},
	{"/**/-/*.tgz", "/-/x.tgz", 1},
	{"/**/-/*.tgz", "/lodash/-/lodash.tar", 0},
	{"/a/**/b", "/a/b", 1},
	{"/a/**/b", "/a/x/y/b", 1},
	{"/a/**/b", "/a/x/y/c", 0},
	{"/a/**", "/a", 1},
	{"/a/**", "/ab", 0},
	{"/a*b/c", "/axxb/c", 1},
	{"/a*b/c", "/a/b/c", 0},
	{"/**/x/**", "/a/x/b", 1},
	{"/**/x/**", "/a/y/b", 0},
	{"/**/**/z", "/a/b/z", 1},
	{"/x", "/x?y=1", 1},
	{"/x", "/x#frag", 1},
	{"/a/b", "/a/%62", 1},
	{"/a/b", "/a%2Fb", 0},
	{"/a%2Fb", "/a%2fb", 1},
	{"/\xc3\xa4", "/%C3%A4", 1},
	{"/\xc3\xa4", "/%c3%a4", 1},
	{"/v1/*", "/v1/a%20b", 1},
	{"/a/b", "/a/../b", -2},
	{"/a/b", "/a/%2e%2E/b", -2},
	{"/a/b", "/a/./b", -2},
	{"/a/b", "/a/b/..", -2},
	{"/a/b", "a/b", -2},
	{"/a/b", "/a b", -2},
	{"/a/b", "/a\\b", -2},
	{"/a/b", "/a/%zz", -2},
	{"a/b", "/a/b", -1},
	{"/a/**b", "/a/b", -1},
	{"/a/***", "/a/b", -1},
	{"/a?", "/a", -1},
	{"/a#", "/a", -1},
	{"/[ab]", "/a", -1},
	{"/{a,b}", "/a", -1},
	{"/a/../b", "/b", -1},
	{"/%zz", "/a", -1},
};

static void test_globs(void)
{
	struct policy__arena a = {0};
	char name[160], msg[256], norm[POLICY_PATH_MAX + 8];

	for (size_t i = 0; i < sizeof(globs) / sizeof(globs[0]); i++) {
		struct policy__glob g;
		size_t nlen = 0;
		int rg = policy__glob_parse(&a, globs[i].glob, strlen(globs[i].glob), &g, msg,
					    sizeof(msg));
		int rp;
		snprintf(name, sizeof(name), "glob \"%s\" vs \"%s\"", globs[i].glob, globs[i].path);
		if (globs[i].want == -1) {
			check(rg < 0, name, "glob accepted");
			continue;
		}
		rp = policy__path_norm(globs[i].path, strlen(globs[i].path), norm, sizeof(norm),
				       &nlen, msg, sizeof(msg));
		if (globs[i].want == -2) {
			check(rg == 0 && rp < 0, name, "path accepted as %s", rp == 0 ? norm : "?");
			continue;
		}
		if (rg < 0 || rp < 0) {
			check(0, name, "refused: %s", msg);
			continue;
		}
		check(policy__glob_match(&g, norm, nlen) == (globs[i].want == 1), name,
		      "got %d for normalised \"%s\"", !globs[i].want, norm);
	}
	policy__arena_free(&a);
}

/* ---- commands ---- */

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct {
	const char *pattern;
	const char *const *argv; /* or */
	const char *cmd;
	enum policy__cmd_result want;
} cmds[] = {
	{"git push --force", ARGV("git", "push", "--force"), NULL, CMD_MATCH},
	{"git push --force", ARGV("git", "push", "origin", "main", "--force"), NULL, CMD_MATCH},
	{"git push --force", ARGV("/usr/bin/git", "push", "--force"), NULL, CMD_MATCH},
	{"git push --force", ARGV("git", "-C", "repo", "push", "--force"), NULL, CMD_MATCH},
	{"git push --force", ARGV("git", "push", "--force-with-lease"), NULL, CMD_NO_MATCH},
	{"git push --force", ARGV("git", "push"), NULL, CMD_NO_MATCH},
	{"git push --force", ARGV("git", "status"), NULL, CMD_NO_MATCH},
	{"git push --force", ARGV("sudo", "-u", "root", "git", "push", "--force"), NULL, CMD_MATCH},
	{"git push --force", ARGV("sh", "-c", "git push --force"), NULL, CMD_MATCH},
	{"git push --force", ARGV("sudo", "--", "-x"), NULL, CMD_UNPARSEABLE},
	{"git push --force", ARGV("sudo", "-u"), NULL, CMD_NO_MATCH}, /* fuzzer: read past argv */
	{"git push --force", NULL, "x && sudo -u", CMD_NO_MATCH},
	{"rm -rf /", ARGV("rm", "-rf", "/"), NULL, CMD_MATCH},
	{"rm -rf /", ARGV("rm", "-r", "-f", "/"), NULL, CMD_MATCH},
	{"rm -rf /", ARGV("rm", "-fr", "/"), NULL, CMD_MATCH},
	{"rm -rf /", ARGV("rm", "-rf", "/", "--no-preserve-root"), NULL, CMD_MATCH},
	{"rm -rf /", ARGV("rm", "-rf", "/tmp/x"), NULL, CMD_NO_MATCH},
	{"rm -rf /", ARGV("rm", "-f", "/"), NULL, CMD_NO_MATCH},
	{"git push --force", NULL, "git push --force", CMD_MATCH},
	{"git push --force", NULL, "cd x && git push --force origin", CMD_MATCH},
	{"git push --force", NULL, "echo hi; git push --force", CMD_MATCH},
	{"git push --force", NULL, "echo 'git push --force'", CMD_NO_MATCH},
	{"git push --force", NULL, "sudo -u root git push --force", CMD_MATCH},
	{"git push --force", NULL, "sudo --user root git push --force", CMD_MATCH},
	{"git push --force", NULL, "env -i FOO=1 git push --force", CMD_MATCH},
	{"git push --force", NULL, "FOO=1 BAR=2 git push --force", CMD_MATCH},
	{"git push --force", NULL, "timeout -s KILL 5m git push --force", CMD_MATCH},
	{"git push --force", NULL, "bash -c 'git push --force'", CMD_MATCH},
	{"git push --force", NULL, "sh -lc \"git status && git push --force\"", CMD_MATCH},
	{"git push --force", NULL, "x=$(git push --force)", CMD_MATCH},
	{"git push --force", NULL, "echo `git push --force`", CMD_MATCH},
	{"git push --force", NULL, "git push --force | cat", CMD_MATCH},
	{"git push --force", NULL, "nohup git push --force &", CMD_MATCH},
	{"git push --force", NULL, "(git push --force)", CMD_MATCH},
	{"git push --force", NULL, "eval git push --force", CMD_MATCH},
	{"git push --force", NULL, "git pull && make", CMD_NO_MATCH},
	{"git push --force", NULL, "echo 'unbalanced", CMD_UNPARSEABLE},
	{"git push --force", NULL, "x=$(git push", CMD_UNPARSEABLE},
	{"git push --force", ARGV("sh", "-c", "sh -c 'sh -c \"sh -c \\\"sh -c git\\\"\"'"), NULL,
	 CMD_UNPARSEABLE}, /* nested five deep */
	{"rm -rf /", NULL, "rm -rf / ", CMD_MATCH},
	{"rm -rf /", NULL, "ls\nrm -fr /", CMD_MATCH},
	{"curl * | sh", NULL, "x", CMD_NO_MATCH}, /* refused below */
};

static void test_cmds(void)
{
	struct policy__arena a = {0};
	char name[200], msg[256];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct policy__cmdpat p;
		enum policy__cmd_result r;
		size_t which = 99, argc = 0;
		int e = policy__cmdpat_parse(&a, cmds[i].pattern, strlen(cmds[i].pattern), &p, msg,
					     sizeof(msg));
		snprintf(name, sizeof(name), "command \"%s\" vs \"%s\"", cmds[i].pattern,
			 cmds[i].cmd ? cmds[i].cmd : cmds[i].argv[0]);
		for (char *c = name; *c; c++)
			*c = *c == '\n' ? ' ' : *c;
		if (strchr(cmds[i].pattern, '|')) {
			check(e < 0, name, "pattern with an operator accepted");
			continue;
		}
		if (e < 0) {
			check(0, name, "pattern refused: %s", msg);
			continue;
		}
		if (cmds[i].argv) {
			while (cmds[i].argv[argc])
				argc++;
			r = policy__cmd_match_argv(&p, 1, cmds[i].argv, argc, &which);
		} else {
			r = policy__cmd_match_string(&p, 1, cmds[i].cmd, &which);
		}
		check(r == cmds[i].want && (r != CMD_MATCH || which == 0), name, "got %d, want %d",
		      r, cmds[i].want);
	}
	policy__arena_free(&a);
}

static void test_usd(void)
{
	static const struct {
		const char *in;
		int r;
		int64_t want;
	} t[] = {
		{"5", 0, 5000000},
		{"5.00", 0, 5000000},
		{"0.125", 0, 125000},
		{"3.000001", 0, 3000001},
		{"1.0000000", 0, 1000000},
		{"0", 0, 0},
		{"", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{"1.", -EINVAL, 0},
		{".5", -EINVAL, 0},
		{"1e3", -EINVAL, 0},
		{"1.0000001", -EINVAL, 0},
		{"99999999999", -ERANGE, 0},
	};
	char name[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v = -1;
		int r = policy__parse_usd(t[i].in, strlen(t[i].in), &v);
		snprintf(name, sizeof(name), "usd \"%s\"", t[i].in);
		check(r == t[i].r && (r || v == t[i].want), name, "r=%d v=%lld", r, (long long)v);
	}
}

int main(void)
{
	test_hosts();
	test_hostpats();
	test_cidrs();
	test_specials();
	test_globs();
	test_cmds();
	test_usd();
	return finish();
}

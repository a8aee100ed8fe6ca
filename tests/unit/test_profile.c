/* test_profile.c - table-driven tests of config.c (value parsing, the add
 * helpers, freeing) and profile.c (every key, every error kind, each error's
 * file:line:col). Prints "ok - name" / "not ok - name: why"; exits 1 on any
 * failure. Run it under ASan too: half-built configs must free cleanly. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../omnibox/config.h"
#include "check.h"

static char tmpdir[PATH_MAX];

static const char *errname(int r)
{
	switch (r) {
	case 0:
		return "0";
	case -EINVAL:
		return "-EINVAL";
	case -ERANGE:
		return "-ERANGE";
	case -EOPNOTSUPP:
		return "-EOPNOTSUPP";
	case -E2BIG:
		return "-E2BIG";
	case -EFBIG:
		return "-EFBIG";
	case -ENOENT:
		return "-ENOENT";
	case -EISDIR:
		return "-EISDIR";
	case -ENAMETOOLONG:
		return "-ENAMETOOLONG";
	default:
		return "other";
	}
}

/* ---- value parsers ---- */

static const struct {
	const char *in;
	int r;
	uint64_t want;
} size_cases[] = {
	{ "512M", 0, 512ULL << 20 },
	{ "2G", 0, 2ULL << 30 },
	{ "1048576", 0, 1048576 },
	{ "64KiB", 0, 64ULL << 10 },
	{ "64kib", 0, 64ULL << 10 },
	{ "1k", 0, 1024 },
	{ "1KB", 0, 1024 },
	{ "3t", 0, 3ULL << 40 },
	{ "100B", 0, 100 },
	{ "7b", 0, 7 },
	{ "0512M", 0, 512ULL << 20 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "16777215T", 0, 16777215ULL << 40 },
	{ "", -EINVAL, 0 },
	{ "0", -EINVAL, 0 },
	{ "0M", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "-1M", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 1M", -EINVAL, 0 },
	{ "1M ", -EINVAL, 0 },
	{ "1 M", -EINVAL, 0 },
	{ "1 ", -EINVAL, 0 },
	{ "1.5G", -EINVAL, 0 },
	{ "12Q", -EINVAL, 0 },
	{ "M", -EINVAL, 0 },
	{ "1iB", -EINVAL, 0 },
	{ "1MiBB", -EINVAL, 0 },
	{ "1MM", -EINVAL, 0 },
	{ "1P", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
	{ "lots", -EINVAL, 0 },
	{ "99999999999999999999999Q", -EINVAL, 0 },
	{ "99999999999T", -ERANGE, 0 },
	{ "16777216T", -ERANGE, 0 },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "99999999999999999999999999999", -ERANGE, 0 },
};

static void test_sizes(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
		uint64_t v = 42;
		int r = ombx_parse_size(size_cases[i].in, &v);
		snprintf(name, sizeof(name), "size \"%s\"", size_cases[i].in);
		if (size_cases[i].r == 0)
			check(r == 0 && v == size_cases[i].want, name, "r=%s v=%llu", errname(r),
			      (unsigned long long)v);
		else
			check(r == size_cases[i].r && v == 42, name, "r=%s (want %s) v=%llu",
			      errname(r), errname(size_cases[i].r), (unsigned long long)v);
	}
	{
		uint64_t v = 42;
		check(ombx_parse_size(NULL, &v) == -EINVAL, "size NULL", "not -EINVAL");
	}
}

static const struct {
	const char *in;
	int r;
	double want;
} cpu_cases[] = {
	{ "1", 0, 1.0 },	   { "1.5", 0, 1.5 },
	{ ".25", 0, 0.25 },	   { "0.01", 0, 0.01 },
	{ "2.", 0, 2.0 },	   { "1024", 0, 1024.0 },
	{ "1024.000", 0, 1024.0 }, { "0", -EINVAL, 0 },
	{ "0.0", -EINVAL, 0 },	   { "", -EINVAL, 0 },
	{ ".", -EINVAL, 0 },	   { "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },	   { "1e3", -EINVAL, 0 },
	{ "inf", -EINVAL, 0 },	   { "nan", -EINVAL, 0 },
	{ "1,5", -EINVAL, 0 },	   { "1.2.3", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },	   { "1 ", -EINVAL, 0 },
	{ "0x1", -EINVAL, 0 },	   { "0.001", -ERANGE, 0 },
	{ "0.009", -ERANGE, 0 },   { "1024.5", -ERANGE, 0 },
	{ "1025", -ERANGE, 0 },	   { "99999999999999999999999", -ERANGE, 0 },
};

static void test_cpus(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof(cpu_cases) / sizeof(cpu_cases[0]); i++) {
		double v = 42;
		int r = ombx_parse_cpus(cpu_cases[i].in, &v);
		snprintf(name, sizeof(name), "cpus \"%s\"", cpu_cases[i].in);
		if (cpu_cases[i].r == 0)
			check(r == 0 && v == cpu_cases[i].want, name, "r=%s v=%g", errname(r), v);
		else
			check(r == cpu_cases[i].r && v == 42, name, "r=%s (want %s)", errname(r),
			      errname(cpu_cases[i].r));
	}
}

static const struct {
	const char *in;
	int r;
	uint64_t want;
} timeout_cases[] = {
	{ "1", 0, 1 },		{ "600", 0, 600 },	  { "604800", 0, 604800 }, { "0", -EINVAL, 0 },
	{ "", -EINVAL, 0 },	{ "-5", -EINVAL, 0 },	  { "10s", -EINVAL, 0 },   { "1.5", -EINVAL, 0 },
	{ " 5", -EINVAL, 0 },	{ "604801", -ERANGE, 0 }, { "99999999999999999999999", -ERANGE, 0 },
}, pids_cases[] = {
	{ "1", 0, 1 },	       { "256", 0, 256 },	  { "4194304", 0, 4194304 },
	{ "0", -EINVAL, 0 },   { "", -EINVAL, 0 },	  { "abc", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },  { "12k", -EINVAL, 0 },	  { "4194305", -ERANGE, 0 },
};

static void test_uints(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof(timeout_cases) / sizeof(timeout_cases[0]); i++) {
		uint64_t v = 42;
		int r = ombx_parse_timeout(timeout_cases[i].in, &v);
		snprintf(name, sizeof(name), "timeout \"%s\"", timeout_cases[i].in);
		check(r == timeout_cases[i].r && v == (r ? 42 : timeout_cases[i].want), name,
		      "r=%s (want %s) v=%llu", errname(r), errname(timeout_cases[i].r),
		      (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(pids_cases) / sizeof(pids_cases[0]); i++) {
		uint64_t v = 42;
		int r = ombx_parse_pids(pids_cases[i].in, &v);
		snprintf(name, sizeof(name), "pids \"%s\"", pids_cases[i].in);
		check(r == pids_cases[i].r && v == (r ? 42 : pids_cases[i].want), name,
		      "r=%s (want %s) v=%llu", errname(r), errname(pids_cases[i].r),
		      (unsigned long long)v);
	}
}

static const struct {
	const char *in;
	int r;
	enum ombx_net want;
} net_cases[] = {
	{ "none", 0, OMBX_NET_NONE }, { "host", 0, OMBX_NET_HOST }, { "proxy", 0, OMBX_NET_PROXY },
	{ "None", -EINVAL, 0 },	      { "", -EINVAL, 0 },	    { "bridge", -EINVAL, 0 },
	{ "host ", -EINVAL, 0 },
};

static void test_net(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof(net_cases) / sizeof(net_cases[0]); i++) {
		enum ombx_net v = (enum ombx_net)42;
		int r = ombx_parse_net(net_cases[i].in, &v);
		snprintf(name, sizeof(name), "net \"%s\"", net_cases[i].in);
		check(r == net_cases[i].r && (r ? v == (enum ombx_net)42 : v == net_cases[i].want),
		      name, "r=%s (want %s)", errname(r), errname(net_cases[i].r));
	}
}

static const struct {
	const char *in;
	int valid;
} name_cases[] = {
	{ "A", 1 },  { "_", 1 },   { "_a1", 1 }, { "LANG", 1 }, { "a_B_9", 1 },	   { "", 0 },
	{ "1A", 0 }, { "A-B", 0 }, { "A B", 0 }, { "A=B", 0 },	{ "\xc3\xa9", 0 }, { "A.B", 0 },
};

static void test_env_names(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		snprintf(name, sizeof(name), "env name \"%s\"", name_cases[i].in);
		check(ombx_env_name_valid(name_cases[i].in, strlen(name_cases[i].in)) ==
			  name_cases[i].valid,
		      name, "want %s", name_cases[i].valid ? "valid" : "invalid");
	}
	check(!ombx_env_name_valid(NULL, 0), "env name NULL", "accepted");
}

/* ---- option messages, quoting, add helpers ---- */

static const struct {
	const char *key, *value, *label;
	int r;
	const char *msg; /* exact message, or NULL when r == 0 */
} set_cases[] = {
	{ "memory", "12Q", "--memory", -EINVAL,
	  "--memory: \"12Q\" is not a size (expected e.g. 512M, 2G)" },
	{ "memory", "99999999999T", "--memory", -ERANGE,
	  "--memory: \"99999999999T\" is out of range (expected e.g. 512M, 2G)" },
	{ "net", "carrier-pigeon", "--net", -EINVAL,
	  "--net: \"carrier-pigeon\" is not a network mode (expected none, host or proxy)" },
	{ "net", "bridge", NULL, -EINVAL,
	  "net: \"bridge\" is not a network mode (expected none, host or proxy)" },
	{ "cpus", "0", "--cpus", -EINVAL,
	  "--cpus: \"0\" is not a CPU count (expected a number from 0.01 to 1024, e.g. 1.5)" },
	{ "pids", "0", "--pids", -EINVAL,
	  "--pids: \"0\" is not a process count (expected a whole number from 1 to 4194304)" },
	{ "timeout", "1w", "--timeout", -EINVAL,
	  "--timeout: \"1w\" is not a timeout (expected whole seconds from 1 to 604800)" },
	{ "workspace", "", "--workspace", -EINVAL,
	  "--workspace: \"\" is not a path (expected a directory, e.g. /home/me/project)" },
	{ "memory", "bad\x1b[31m\n", "--memory", -EINVAL,
	  "--memory: \"bad\\x1b[31m\\n\" is not a size (expected e.g. 512M, 2G)" },
	{ "nosuch", "1", NULL, -EINVAL, "unknown option nosuch" },
	{ "memory", "1G", NULL, 0, NULL },
	{ "workspace", "relative/dir", NULL, 0, NULL },
};

static void test_config_set(void)
{
	char name[OMBX_QUOTE_MAX + 64];
	struct ombx_config c;

	ombx_config_init(&c);
	for (size_t i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		ombx_err e = { 0 };
		int r = ombx_config_set(&c, set_cases[i].key, set_cases[i].value,
					set_cases[i].label, &e);
		char q[OMBX_QUOTE_MAX];
		ombx_quote(q, sizeof(q), set_cases[i].value, strlen(set_cases[i].value));
		snprintf(name, sizeof(name), "set %s %s", set_cases[i].key, q);
		if (set_cases[i].r == 0)
			check(r == 0, name, "r=%s: %s", errname(r), e.msg);
		else
			check(r == set_cases[i].r && e.code == -r &&
				  strcmp(e.msg, set_cases[i].msg) == 0,
			      name, "r=%s msg=[%s]", errname(r), e.msg);
	}
	check(c.memory_bytes == 1ULL << 30 && c.workspace &&
		  strcmp(c.workspace, "relative/dir") == 0,
	      "set applies values", "memory=%llu", (unsigned long long)c.memory_bytes);
	{
		ombx_err e = { 0 };
		ombx_config_set(&c, "workspace", "/second", NULL, &e);
		check(strcmp(c.workspace, "/second") == 0, "set workspace later wins", "%s",
		      c.workspace);
	}
	{
		char *longp = malloc(PATH_MAX + 10);
		ombx_err e = { 0 };
		memset(longp, 'a', PATH_MAX + 9);
		longp[0] = '/';
		longp[PATH_MAX + 9] = '\0';
		check(ombx_config_set(&c, "workspace", longp, NULL, &e) == -ENAMETOOLONG &&
			  strstr(e.msg, "too long") && strlen(e.msg) < sizeof(e.msg) - 1,
		      "set workspace too long", "%s", e.msg);
		free(longp);
	}
	ombx_config_free(&c);
}

static void test_quote(void)
{
	char buf[OMBX_QUOTE_MAX], big[1000];

	ombx_quote(buf, sizeof(buf), "a\"b\\c\td\x01\x7f", 9);
	check(strcmp(buf, "\"a\\\"b\\\\c\\td\\x01\\x7f\"") == 0, "quote escapes", "%s", buf);
	ombx_quote(buf, sizeof(buf), "x\0y", 3);
	check(strcmp(buf, "\"x\\x00y\"") == 0, "quote NUL", "%s", buf);
	ombx_quote(buf, sizeof(buf), "/home/jos\xc3\xa9", 11);
	check(strcmp(buf, "\"/home/jos\xc3\xa9\"") == 0, "quote keeps UTF-8", "%s", buf);
	ombx_quote(buf, sizeof(buf),
		    "\xc2\x9b"
		    "1m\xff\xe2\x82",
		    7);
	check(strcmp(buf, "\"\\xc2\\x9b1m\\xff\\xe2\\x82\"") == 0, "quote C1 and bad UTF-8", "%s",
	      buf);
	memset(big, 'z', sizeof(big));
	ombx_quote(buf, sizeof(buf), big, sizeof(big));
	check(strlen(buf) < sizeof(buf) && strcmp(buf + strlen(buf) - 4, "...\"") == 0,
	      "quote truncates", "%s", buf);
	ombx_quote(buf, 8, "abcdefghij", 10);
	check(strcmp(buf, "\"ab...\"") == 0, "quote smallest buffer", "%s", buf);
	ombx_quote(buf, sizeof(buf), NULL, 0);
	check(strcmp(buf, "\"\"") == 0, "quote NULL", "%s", buf);
}

static void test_binds(void)
{
	struct ombx_config c;
	ombx_err e = { 0 };
	char *longp;
	int r, ok = 1;

	ombx_config_init(&c);
	check(ombx_config_add_bind(&c, OMBX_BIND_RO, "/opt", &e) == 0 &&
		  ombx_config_add_bind(&c, OMBX_BIND_HIDE, "/home/me/.ssh", &e) == 0 &&
		  c.n_binds == 2 && c.binds[0].kind == OMBX_BIND_RO &&
		  strcmp(c.binds[1].path, "/home/me/.ssh") == 0 &&
		  c.binds[1].kind == OMBX_BIND_HIDE,
	      "bind appends in order", "%s", e.msg);
	r = ombx_config_add_bind(&c, OMBX_BIND_RW, "var/x", &e);
	check(r == -EINVAL &&
		  strcmp(e.msg,
			 "rw: \"var/x\" is not an absolute path (expected e.g. /opt/data)") == 0,
	      "bind relative", "%s", e.msg);
	r = ombx_config_add_bind(&c, OMBX_BIND_RW, "", &e);
	check(r == -EINVAL, "bind empty", "%s", errname(r));
	r = ombx_config_add_bind(&c, OMBX_BIND_RW, NULL, &e);
	check(r == -EINVAL, "bind NULL", "%s", errname(r));
	r = ombx_config_add_bind(&c, (enum ombx_bind_kind)9, "/x", &e);
	check(r == -EINVAL, "bind bad kind", "%s", errname(r));
	longp = malloc(PATH_MAX + 1);
	memset(longp, 'a', PATH_MAX);
	longp[0] = '/';
	longp[PATH_MAX] = '\0';
	r = ombx_config_add_bind(&c, OMBX_BIND_RO, longp, &e);
	check(r == -ENAMETOOLONG, "bind PATH_MAX long", "%s", errname(r));
	longp[PATH_MAX - 1] = '\0';
	r = ombx_config_add_bind(&c, OMBX_BIND_RO, longp, &e);
	check(r == 0, "bind PATH_MAX-1 long", "%s", errname(r));
	free(longp);
	while (c.n_binds < OMBX_MAX_BINDS && ok)
		ok = ombx_config_add_bind(&c, OMBX_BIND_RO, "/fill", &e) == 0;
	r = ombx_config_add_bind(&c, OMBX_BIND_RO, "/one-too-many", &e);
	check(ok && r == -E2BIG && c.n_binds == OMBX_MAX_BINDS && strstr(e.msg, "at most 256"),
	      "bind limit", "r=%s n=%zu %s", errname(r), c.n_binds, e.msg);
	ombx_config_free(&c);
}

static void test_env(void)
{
	struct ombx_config c;
	ombx_err e = { 0 };
	char *big;
	int r, ok = 1;

	ombx_config_init(&c);
	check(ombx_config_add_env(&c, "LANG=POSIX", &e) == 0 &&
		  ombx_config_add_env(&c, "FOO=a=b", &e) == 0 &&
		  ombx_config_add_env(&c, "LANG=C.UTF-8", &e) == 0 &&
		  ombx_config_add_env(&c, "EMPTY=", &e) == 0 && c.n_env == 3 &&
		  strcmp(c.env[0], "LANG=C.UTF-8") == 0 && strcmp(c.env[1], "FOO=a=b") == 0 &&
		  c.env[3] == NULL,
	      "env later wins in place", "n=%zu %s", c.n_env, e.msg);
	check(ombx_config_add_env(&c, "LAN=x", &e) == 0 && c.n_env == 4,
	      "env prefix is not a match", "n=%zu", c.n_env);
	r = ombx_config_add_env(&c, "NOVALUE", &e);
	check(r == -EINVAL && strstr(e.msg, "NAME=VALUE"), "env without =", "%s", e.msg);
	r = ombx_config_add_env(&c, "=x", &e);
	check(r == -EINVAL && strstr(e.msg, "not a variable name"), "env empty name", "%s", e.msg);
	r = ombx_config_add_env(&c, "1X=supersecret", &e);
	check(r == -EINVAL && strstr(e.msg, "\"1X\" is not a variable name") &&
		  !strstr(e.msg, "supersecret"),
	      "env bad name, value not shown", "%s", e.msg);
	big = malloc(OMBX_MAX_ENV_LEN + 2);
	memset(big, 'v', OMBX_MAX_ENV_LEN + 1);
	memcpy(big, "BIG=", 4);
	big[OMBX_MAX_ENV_LEN + 1] = '\0';
	r = ombx_config_add_env(&c, big, &e);
	check(r == -E2BIG && !strstr(e.msg, "vvvv"), "env entry too long", "%s", e.msg);
	big[OMBX_MAX_ENV_LEN] = '\0';
	r = ombx_config_add_env(&c, big, &e);
	check(r == 0, "env entry at the limit", "%s", e.msg);
	free(big);
	for (int i = 0; c.n_env < OMBX_MAX_ENV && ok; i++) {
		char s[32];
		snprintf(s, sizeof(s), "V%d=1", i);
		ok = ombx_config_add_env(&c, s, &e) == 0;
	}
	r = ombx_config_add_env(&c, "ONEMORE=1", &e);
	check(ok && r == -E2BIG && c.n_env == OMBX_MAX_ENV, "env limit", "r=%s %s", errname(r),
	      e.msg);
	r = ombx_config_add_env(&c, "LANG=en_GB.UTF-8", &e);
	check(r == 0 && strcmp(c.env[0], "LANG=en_GB.UTF-8") == 0, "env replace at the limit",
	      "r=%s", errname(r));

	check(ombx_config_add_env_pass(&c, "TERM", &e) == 0 &&
		  ombx_config_add_env_pass(&c, "COLORTERM", &e) == 0 &&
		  ombx_config_add_env_pass(&c, "TERM", &e) == 0 && c.n_env_pass == 2 &&
		  c.env_pass[2] == NULL,
	      "env_pass dedupes", "n=%zu", c.n_env_pass);
	r = ombx_config_add_env_pass(&c, "A=B", &e);
	check(r == -EINVAL && strstr(e.msg, "env_pass: \"A=B\" is not a variable name"),
	      "env_pass bad name", "%s", e.msg);
	r = ombx_config_add_env_pass(&c, NULL, &e);
	check(r == -EINVAL, "env_pass NULL", "%s", errname(r));
	ombx_config_free(&c);
}

static void test_free(void)
{
	struct ombx_config c, zero;
	char *argv[] = { "true", NULL };

	/* what free leaves behind: a freshly initialised config */
	memset(&zero, 0, sizeof(zero));
	ombx_config_init(&zero);
	memset(&c, 0, sizeof(c));
	ombx_config_free(&c);
	ombx_config_free(&c);
	ombx_config_free(NULL);
	check(memcmp(&c, &zero, sizeof(c)) == 0, "free zeroed config twice", "not zero");

	/* Half-built by hand: arrays allocated but partly filled or counted. */
	ombx_config_init(&c);
	c.workspace = strdup("/w");
	c.binds = calloc(4, sizeof(*c.binds));
	c.binds[0].path = strdup("/a");
	c.n_binds = 2; /* slot 1 has no path yet */
	c.env = calloc(4, sizeof(*c.env));
	c.env[0] = strdup("A=1");
	c.n_env = 2;
	c.env_pass = calloc(1, sizeof(*c.env_pass));
	c.argv = argv; /* borrowed: must not be freed */
	ombx_config_free(&c);
	check(memcmp(&c, &zero, sizeof(c)) == 0, "free half-built config re-initialises",
	      "not zero");
	check(c.net == OMBX_NET_NONE, "free leaves net none", "net=%d", c.net);
}

/* ---- profiles ---- */

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static char ppath[PATH_MAX + 16];

static int load(const char *text, size_t len, struct ombx_config *c, ombx_err *e)
{
	write_file(ppath, text, len);
	memset(e, 0, sizeof(*e));
	return ombx_profile_load(ppath, c, e);
}

static const char full_profile[] = "# every key\n"
				   "workspace: /tmp/ws\n"
				   "ro: [/opt/data, /srv]\n"
				   "rw:\n"
				   "  - /var/cache/x\n"
				   "hide: [\"/home/me/.ssh\"]\n"
				   "net: host\n"
				   "memory: 512M\n"
				   "pids: 256\n"
				   "cpus: 1.5\n"
				   "timeout: 600\n"
				   "env: {LANG: C.UTF-8, FOO: \"bar baz\", EMPTY: \"\", NUM: 3}\n"
				   "env_pass: [TERM, COLORTERM, TERM]\n"
				   "tty: true\n";

static void test_full_profile(void)
{
	struct ombx_config c;
	ombx_err e;
	int r;

	ombx_config_init(&c);
	/* What the CLI set before: binds are appended, env later wins. */
	ombx_config_add_env(&c, "LANG=POSIX", &e);
	ombx_config_add_bind(&c, OMBX_BIND_RO, "/first", &e);
	c.pids = 9;
	r = load(full_profile, strlen(full_profile), &c, &e);
	check(r == 0, "profile every key loads", "r=%s %s", errname(r), e.msg);
	if (r != 0) {
		ombx_config_free(&c);
		return;
	}
	check(c.workspace && strcmp(c.workspace, "/tmp/ws") == 0, "profile workspace", "%s",
	      c.workspace);
	check(c.n_binds == 5 && strcmp(c.binds[0].path, "/first") == 0 &&
		  strcmp(c.binds[1].path, "/opt/data") == 0 && c.binds[1].kind == OMBX_BIND_RO &&
		  strcmp(c.binds[2].path, "/srv") == 0 && c.binds[2].kind == OMBX_BIND_RO &&
		  strcmp(c.binds[3].path, "/var/cache/x") == 0 && c.binds[3].kind == OMBX_BIND_RW &&
		  strcmp(c.binds[4].path, "/home/me/.ssh") == 0 &&
		  c.binds[4].kind == OMBX_BIND_HIDE,
	      "profile ro/rw/hide appended in order", "n=%zu", c.n_binds);
	check(c.net == OMBX_NET_HOST, "profile net", "%d", c.net);
	check(c.memory_bytes == 512ULL << 20, "profile memory", "%llu",
	      (unsigned long long)c.memory_bytes);
	check(c.pids == 256, "profile pids", "%llu", (unsigned long long)c.pids);
	check(c.cpus == 1.5, "profile cpus", "%g", c.cpus);
	check(c.timeout_sec == 600, "profile timeout", "%llu", (unsigned long long)c.timeout_sec);
	check(c.n_env == 4 && strcmp(c.env[0], "LANG=C.UTF-8") == 0 &&
		  strcmp(c.env[1], "FOO=bar baz") == 0 && strcmp(c.env[2], "EMPTY=") == 0 &&
		  strcmp(c.env[3], "NUM=3") == 0 && c.env[4] == NULL,
	      "profile env (later wins over earlier LANG)", "n=%zu", c.n_env);
	check(c.n_env_pass == 2 && strcmp(c.env_pass[0], "TERM") == 0 &&
		  strcmp(c.env_pass[1], "COLORTERM") == 0,
	      "profile env_pass deduped", "n=%zu", c.n_env_pass);
	check(c.tty, "profile tty", "false");
	ombx_config_free(&c);
}

static const struct {
	const char *name, *text;
} empty_cases[] = {
	{ "empty file", "" },
	{ "comments only", "# nothing here\n\n   # at all\n" },
	{ "bare document marker", "---\n" },
	{ "empty mapping", "{}\n" },
	{ "document end marker", "---\nmemory: 1G\n...\n" },
	{ "tty false", "tty: False\n" },
	{ "flow style", "{memory: 1G, ro: [/a], env: {A: b}}\n" },
	{ "quoted keys and values", "\"memory\": '1G'\n'net': \"none\"\n" },
	{ "CRLF line ends", "memory: 1G\r\nnet: none\r\n" },
	{ "UTF-8 BOM", "\xef\xbb\xbfmemory: 1G\n" },
};

static void test_lenient_profiles(void)
{
	char name[128];

	for (size_t i = 0; i < sizeof(empty_cases) / sizeof(empty_cases[0]); i++) {
		struct ombx_config c;
		ombx_err e;
		int r;

		ombx_config_init(&c);
		c.tty = true;
		r = load(empty_cases[i].text, strlen(empty_cases[i].text), &c, &e);
		snprintf(name, sizeof(name), "profile %s", empty_cases[i].name);
		check(r == 0 && e.code == 0, name, "r=%s %s", errname(r), e.msg);
		if (i < 4)
			check(c.tty && !c.workspace && !c.n_binds && !c.memory_bytes && !c.n_env,
			      "profile sets only what it mentions", "something was set");
		ombx_config_free(&c);
	}
}

static const struct {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int line, col;
	const char *word; /* must appear in the message after the prefix */
} error_cases[] = {
	{ "typo key", "# profile\nnet: none\nmemroy: 512M\n", 0, 3, 1,
	  "unknown key \"memroy\" (expected one of: workspace, ro, rw, hide, net, memory, pids, "
	  "cpus, timeout, env, env_pass, tty)" },
	{ "bad size", "net: none\n\n\n\nmemory: lots\n", 0, 5, 9,
	  "memory: \"lots\" is not a size (expected e.g. 512M, 2G)" },
	{ "size overflow", "memory: 99999999999T\n", 0, 1, 9, "out of range" },
	{ "list for scalar", "memory: [1G]\n", 0, 1, 9,
	  "memory: expected a single value, not a list" },
	{ "mapping for scalar", "net:\n  mode: none\n", 0, 2, 3, "not a mapping" },
	{ "null value", "pids: 5\nmemory:\ncpus: 1\n", 0, 2, 8, "no value given" },
	{ "scalar for list", "ro: /opt\n", 0, 1, 5, "ro: expected a list of absolute paths" },
	{ "mapping for list", "hide: {a: b}\n", 0, 1, 7, "not a mapping" },
	{ "relative bind", "rw:\n  - /ok\n  - var/x\n", 0, 3, 5,
	  "rw: \"var/x\" is not an absolute path" },
	{ "nested list in ro", "ro: [[/a]]\n", 0, 1, 6,
	  "ro: expected an absolute path, not a list" },
	{ "duplicate key", "memory: 1G\npids: 5\nmemory: 2G\n", 0, 3, 1,
	  "duplicate key \"memory\" (first given at line 1)" },
	{ "syntax: tab indent", "memory: 1G\n\tpids: 5\n", 0, 2, 1, "YAML syntax error" },
	{ "syntax: unclosed flow", "memory: 1G\nro: [/a, /b\n", 0, 3, 1, "YAML syntax error" },
	{ "syntax: bad indent", "env:\n  A: 1\n B: 2\n", 0, 3, 2, "YAML syntax error" },
	{ "anchor", "memory: &m 1G\n", 0, 1, 9, "anchors" },
	{ "alias", "net: none\nmemory: *m\n", 0, 2, 9, "aliases are not supported" },
	{ "alias as key", "*k : 1\n", 0, 1, 1, "aliases are not supported" },
	{ "top-level list", "- memory\n- 1G\n", 0, 1, 1, "must be a mapping" },
	{ "top-level scalar", "\n\nhello\n", 0, 3, 1, "must be a mapping" },
	{ "two documents", "memory: 1G\n---\npids: 5\n", 0, 2, 1, "only one YAML document" },
	{ "list as key", "? [a]\n: b\n", 0, 1, 3, "keys must be names" },
	{ "invalid UTF-8", "memory: 1G\nnet: \xff\n", 0, 2, 6, "not valid YAML text" },
	{ "control char", "memory: 1G\x01\n", 0, 1, 11, "control characters" },
	{ "NUL in value", "memory: \"1\\0G\"\n", 0, 1, 9, "NUL byte" },
	{ "env bad name", "env: {1X: secretval}\n", 0, 1, 7, "env: \"1X\" is not a variable name" },
	{ "env name with =", "env: {\"A=B\": c}\n", 0, 1, 7, "is not a variable name" },
	{ "env list value", "env:\n  FOO: [a]\n", 0, 2, 8,
	  "env: \"FOO\": expected a single value, not a list" },
	{ "env null value", "env:\n  FOO:\n  BAR: x\n", 0, 2, 7, "no value given" },
	{ "env duplicate", "env:\n  A: 1\n  A: 2\n", 0, 3, 3, "env: duplicate key \"A\"" },
	{ "env not a mapping", "env: [A=1]\n", 0, 1, 6, "env: expected a mapping of NAME: VALUE" },
	{ "env NUL value", "env: {A: \"x\\0y\"}\n", 0, 1, 10, "NUL byte" },
	{ "env_pass bad name", "env_pass: [TERM, 9X]\n", 0, 1, 18,
	  "env_pass: \"9X\" is not a variable name" },
	{ "env_pass scalar", "env_pass: TERM\n", 0, 1, 11, "expected a list of variable names" },
	{ "tty yes", "tty: yes\n", 0, 1, 6,
	  "tty: \"yes\" is not a boolean (expected true or false)" },
	{ "tty list", "tty: [true]\n", 0, 1, 6, "tty: expected true or false, not a list" },
	{ "net unknown", "net: pigeon\n", 0, 1, 6, "net: \"pigeon\" is not a network mode" },
	{ "net bad", "net: bridge\n", 0, 1, 6, "is not a network mode (expected none, host or proxy)" },
	{ "cpus zero", "cpus: 0\n", 0, 1, 7, "cpus: \"0\" is not a CPU count" },
	{ "cpus too many", "cpus: 2000\n", 0, 1, 7, "out of range" },
	{ "pids too many", "pids: 99999999\n", 0, 1, 7, "pids: \"99999999\" is out of range" },
	{ "timeout negative", "timeout: -1\n", 0, 1, 10, "is not a timeout" },
	{ "workspace list", "workspace: [a]\n", 0, 1, 12, "workspace: expected a single value" },
	{ "escaped junk in message", "memory: \"\\e[2J\"\n", 0, 1, 9,
	  "\"\\x1b[2J\" is not a size" },
};

static void test_error_profiles(void)
{
	char name[160], prefix[PATH_MAX + 64];

	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const char *text = error_cases[i].text;
		size_t len = error_cases[i].len ? error_cases[i].len : strlen(text);
		struct ombx_config c;
		ombx_err e;
		size_t plen;
		int r;

		ombx_config_init(&c);
		r = load(text, len, &c, &e);
		plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", ppath,
					error_cases[i].line, error_cases[i].col);
		snprintf(name, sizeof(name), "profile error: %s", error_cases[i].name);
		check(r < 0 && e.code == -r && strncmp(e.msg, prefix, plen) == 0 &&
			  strstr(e.msg + plen, error_cases[i].word) && !strstr(e.msg, "secretval"),
		      name, "r=%s msg=[%s] want [%s...%s]", errname(r), e.msg, prefix,
		      error_cases[i].word);
		ombx_config_free(&c); /* partly filled on error: must not leak */
	}
}

static void test_profile_limits(void)
{
	size_t cap = 64 + 8 * (OMBX_MAX_BINDS + 1), off = 0;
	char *text = malloc(cap);
	struct ombx_config c;
	char prefix[PATH_MAX + 64];
	ombx_err e;
	int r;

	/* 257 binds: the 257th is refused at its own line. */
	off += (size_t)snprintf(text + off, cap - off, "ro:\n");
	for (int i = 0; i <= OMBX_MAX_BINDS; i++)
		off += (size_t)snprintf(text + off, cap - off, "- /b%03d\n", i);
	ombx_config_init(&c);
	r = load(text, off, &c, &e);
	snprintf(prefix, sizeof(prefix), "%s:%d:3: ", ppath, OMBX_MAX_BINDS + 2);
	check(r == -E2BIG && strncmp(e.msg, prefix, strlen(prefix)) == 0 &&
		  c.n_binds == OMBX_MAX_BINDS,
	      "profile bind limit", "r=%s %s", errname(r), e.msg);
	ombx_config_free(&c);
	free(text);

	/* Just over 1 MiB of comments: refused before parsing. */
	text = malloc((1 << 20) + 2);
	memset(text, '#', (1 << 20) + 1);
	text[(1 << 20) + 1] = '\0';
	ombx_config_init(&c);
	r = load(text, (1 << 20) + 1, &c, &e);
	check(r == -EFBIG && strstr(e.msg, ppath) == e.msg && strstr(e.msg, "larger than 1 MiB"),
	      "profile over 1 MiB", "r=%s %s", errname(r), e.msg);
	/* Exactly 1 MiB is fine. */
	r = load(text, 1 << 20, &c, &e);
	check(r == 0, "profile of exactly 1 MiB", "r=%s %s", errname(r), e.msg);
	ombx_config_free(&c);
	free(text);
}

static void test_profile_files(void)
{
	char path[PATH_MAX + 32];
	struct ombx_config c;
	ombx_err e = { 0 };
	int r;

	ombx_config_init(&c);
	snprintf(path, sizeof(path), "%s/does-not-exist.yaml", tmpdir);
	r = ombx_profile_load(path, &c, &e);
	check(r == -ENOENT && strstr(e.msg, path) == e.msg &&
		  strstr(e.msg, "cannot open profile: No such file or directory"),
	      "profile not found", "r=%s %s", errname(r), e.msg);
	r = ombx_profile_load(tmpdir, &c, &e);
	check(r == -EISDIR && strstr(e.msg, tmpdir) == e.msg && strstr(e.msg, "Is a directory"),
	      "profile is a directory", "r=%s %s", errname(r), e.msg);
	r = ombx_profile_load("", &c, &e);
	check(r == -EINVAL, "profile empty path", "r=%s %s", errname(r), e.msg);

	if (geteuid() != 0) {
		write_file(ppath, "memory: 1G\n", 11);
		chmod(ppath, 0);
		r = ombx_profile_load(ppath, &c, &e);
		check(r == -EACCES && strstr(e.msg, "Permission denied"), "profile unreadable",
		      "r=%s %s", errname(r), e.msg);
		chmod(ppath, 0600);
	} else {
		printf("ok - profile unreadable # SKIP running as root\n");
	}
	ombx_config_free(&c);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_profile.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(ppath, sizeof(ppath), "%s/p.yaml", tmpdir);

	test_sizes();
	test_cpus();
	test_uints();
	test_net();
	test_env_names();
	test_config_set();
	test_quote();
	test_binds();
	test_env();
	test_free();
	test_full_profile();
	test_lenient_profiles();
	test_error_profiles();
	test_profile_limits();
	test_profile_files();

	unlink(ppath);
	rmdir(tmpdir);
	printf("1..%d\n# %d failed\n", n_tests, n_failed);
	return n_failed ? 1 : 0;
}

/* cmd.c - command patterns ("git push --force", "rm -rf /") against exec
 * argv and tool calls' shell command strings.
 *
 * A tripwire, not a wall: the jail is the wall. It aims to catch the forms an
 * agent actually writes: chains (a && b; c | d & e), command substitutions,
 * env assignments and wrappers (sudo, env, timeout, nice, nohup, ...), and
 * sh -c "..." nested up to four deep. Whatever it cannot take apart (an
 * unbalanced quote, a wrapper flag it does not know) is reported as
 * CMD_UNPARSEABLE so the caller can ask a human instead of guessing.
 *
 * Matching: the pattern's first word is the command (compared with argv[0]'s
 * basename unless it has a '/'); each later word is an option ("-rf": every
 * letter present in some short-option group; "--force": the option, also as
 * --force=...) or a positional word that must appear among the non-option
 * arguments in the pattern's order. Words may contain '*' globs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ERR(...)      (snprintf(msg, msgsize, __VA_ARGS__), -EINVAL)
#define PAT_WORDS_MAX 32
#define SEG_ARGS_MAX  1024
#define DEPTH_MAX     4

int policy__cmdpat_parse(struct policy__arena *a, const char *s, size_t len,
			 struct policy__cmdpat *out, char *msg, size_t msgsize)
{
	size_t n = 0, i = 0;

	memset(out, 0, sizeof(*out));
	out->words = policy__alloc(a, PAT_WORDS_MAX * sizeof(*out->words));
	out->text = policy__strndup(a, s, len);
	if (!out->words || !out->text)
		return ERR("out of memory");
	while (i < len) {
		size_t start;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		for (size_t k = start; k < i; k++)
			if ((unsigned char)s[k] < 0x20 || strchr("'\"\\;&|`$<>()", s[k]))
				return ERR("a command pattern is plain words separated by spaces "
					   "(no quotes, operators or control characters)");
		if (n == PAT_WORDS_MAX)
			return ERR("a command pattern has at most %d words", PAT_WORDS_MAX);
		out->words[n] = policy__strndup(a, s + start, i - start);
		if (!out->words[n++])
			return ERR("out of memory");
	}
	if (n == 0)
		return ERR("empty command pattern");
	if (out->words[0][0] == '-')
		return ERR("a command pattern starts with the command, not an option");
	out->n_words = n;
	return 0;
}

/* ---- matching one argv ---- */

static bool wmatch(const char *p, const char *t)
{
	return policy__wildmatch(p, strlen(p), t, strlen(t));
}

static bool is_short_group(const char *a)
{
	return a[0] == '-' && a[1] && a[1] != '-';
}

static bool has_option(const char *w, const char *const *argv, size_t argc)
{
	if (w[1] == '-') { /* --long */
		size_t wl = strlen(w);
		for (size_t i = 1; i < argc; i++)
			if (strncmp(argv[i], w, wl) == 0 &&
			    (argv[i][wl] == '\0' || argv[i][wl] == '='))
				return true;
		return false;
	}
	for (const char *f = w + 1; *f; f++) { /* every letter of -rf, in any group */
		bool found = false;
		for (size_t i = 1; i < argc && !found; i++)
			if (is_short_group(argv[i]) && strchr(argv[i] + 1, *f))
				found = true;
		if (!found)
			return false;
	}
	return true;
}

static bool argv_matches(const struct policy__cmdpat *p, const char *const *argv, size_t argc)
{
	const char *base = strrchr(argv[0], '/');
	const char *head = strchr(p->words[0], '/') ? argv[0] : base ? base + 1 : argv[0];
	size_t next = 1;

	if (!wmatch(p->words[0], head))
		return false;
	for (size_t k = 1; k < p->n_words; k++) {
		const char *w = p->words[k];
		if (w[0] == '-' && w[1]) {
			if (!has_option(w, argv, argc))
				return false;
			continue;
		}
		while (next < argc &&
		       ((argv[next][0] == '-' && argv[next][1]) || !wmatch(w, argv[next])))
			next++;
		if (next == argc)
			return false;
		next++;
	}
	return true;
}

/* ---- taking commands apart ---- */

struct scan {
	const struct policy__cmdpat *pats;
	size_t n_pats, which;
	bool matched, unparseable;
};

static void scan_string(struct scan *sc, const char *s, size_t len, int depth);

/* A wrapper word and the flags of its that take a separate value. */
static const struct {
	const char *name, *value_flags;
	bool duration;
} wrappers[] = {
	{"nohup", " ", false},
	{"setsid", " ", false},
	{"command", " ", false},
	{"builtin", " ", false},
	{"exec", " -a ", false},
	{"time", " -f -o --format --output ", false},
	{"nice", " -n --adjustment ", false},
	{"ionice", " -c -n -p --class --classdata --pid ", false},
	{"stdbuf", " -i -o -e --input --output --error ", false},
	{"timeout", " -s -k --signal --kill-after ", true},
	{"sudo",
	 " -u -g -h -p -C -D -R -r -T -t -U --user --group --host --prompt --close-from "
	 "--chdir --chroot --role --command-timeout --type --other-user ",
	 false},
	{"doas", " -u -C ", false},
	{"env", " -u -C -S --unset --chdir --split-string ", false},
};

static bool is_assignment(const char *t)
{
	const char *eq = strchr(t, '=');

	if (!eq || eq == t || !((*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') || *t == '_'))
		return false;
	for (const char *c = t; c < eq; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	return true;
}

/* Index of the real command in argv, past assignments and wrappers; argc if
 * none; (size_t)-1 if a wrapper's flags leave an option where it should be. */
static size_t real_start(const char *const *argv, size_t argc)
{
	size_t i = 0;

	while (i < argc) {
		const char *base = strrchr(argv[i], '/');
		size_t w;
		base = base ? base + 1 : argv[i];
		if (is_assignment(argv[i])) {
			i++;
			continue;
		}
		for (w = 0; w < sizeof(wrappers) / sizeof(wrappers[0]); w++)
			if (strcmp(base, wrappers[w].name) == 0)
				break;
		if (w == sizeof(wrappers) / sizeof(wrappers[0]))
			break;
		i++;
		while (i < argc && argv[i][0] == '-') {
			char f[40];
			bool end = strcmp(argv[i], "--") == 0, value = false;
			if (strlen(argv[i]) < sizeof(f) - 2) {
				snprintf(f, sizeof(f), " %s ", argv[i]);
				value = strstr(wrappers[w].value_flags, f) != NULL;
			}
			i += value && i + 1 < argc ? 2 : 1; /* a value flag may end the line */
			if (end)
				break;
		}
		if (wrappers[w].duration && i < argc)
			i++;
	}
	if (i < argc && argv[i][0] == '-')
		return (size_t)-1;
	return i;
}

static bool is_shell(const char *a)
{
	static const char *const shells[] = {"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh"};
	const char *base = strrchr(a, '/');

	base = base ? base + 1 : a;
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (strcmp(base, shells[i]) == 0)
			return true;
	return false;
}

static void scan_argv(struct scan *sc, const char *const *argv, size_t argc, int depth)
{
	size_t st = real_start(argv, argc);

	if (st == (size_t)-1) {
		sc->unparseable = true;
		return;
	}
	argv += st;
	argc -= st;
	if (argc == 0)
		return;
	for (size_t p = 0; p < sc->n_pats && !sc->matched; p++)
		if (argv_matches(&sc->pats[p], argv, argc)) {
			sc->matched = true;
			sc->which = p;
		}
	if (sc->matched)
		return;
	if (is_shell(argv[0])) {
		for (size_t i = 1; i + 1 < argc; i++) {
			const char *a = argv[i];
			if (a[0] == '-' && a[1] != '-' && strchr(a + 1, 'c')) {
				scan_string(sc, argv[i + 1], strlen(argv[i + 1]), depth + 1);
				return;
			}
		}
	} else if (strcmp(argv[0], "eval") == 0 && argc > 1) {
		size_t total = 0;
		char *joined;
		for (size_t i = 1; i < argc; i++)
			total += strlen(argv[i]) + 1;
		joined = malloc(total);
		if (!joined) {
			sc->unparseable = true;
			return;
		}
		joined[0] = '\0';
		for (size_t i = 1; i < argc; i++) {
			strcat(joined, argv[i]);
			if (i + 1 < argc)
				strcat(joined, " ");
		}
		scan_string(sc, joined, strlen(joined), depth + 1);
		free(joined);
	}
}

/* Splits one simple command into words (quotes, backslashes) in buf;
 * false if a quote is unbalanced or there are too many words. */
static bool tokenise(const char *s, size_t len, char *buf, const char **argv, size_t *argc)
{
	size_t o = 0, n = 0, i = 0;

	while (i < len) {
		bool word = false;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (n == SEG_ARGS_MAX)
			return false;
		argv[n++] = buf + o;
		while (i < len && s[i] != ' ' && s[i] != '\t') {
			char c = s[i++];
			word = true;
			if (c == '\\' && i < len) {
				buf[o++] = s[i++];
			} else if (c == '\'') {
				while (i < len && s[i] != '\'')
					buf[o++] = s[i++];
				if (i++ == len)
					return false;
			} else if (c == '"') {
				while (i < len && s[i] != '"') {
					if (s[i] == '\\' && i + 1 < len &&
					    strchr("\"\\$`", s[i + 1]))
						i++;
					buf[o++] = s[i++];
				}
				if (i++ == len)
					return false;
			} else {
				buf[o++] = c;
			}
		}
		(void)word;
		buf[o++] = '\0';
	}
	*argc = n;
	return true;
}

static void scan_simple(struct scan *sc, const char *s, size_t len, int depth)
{
	const char **argv;
	size_t argc = 0;
	char *buf;

	argv = malloc(SEG_ARGS_MAX * sizeof(*argv));
	buf = malloc(len + 1 + SEG_ARGS_MAX);
	if (!argv || !buf)
		sc->unparseable = true;
	else if (!tokenise(s, len, buf, argv, &argc))
		sc->unparseable = true;
	else if (argc)
		scan_argv(sc, argv, argc, depth);
	free(argv);
	free(buf);
}

/* End of the $( ... ) whose body starts at i (balanced parentheses, quotes
 * respected), or len if it never closes. */
static size_t subst_end(const char *s, size_t len, size_t i)
{
	int d = 1;
	char q = 0;

	for (; i < len; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
			else if (q == '"' && s[i] == '\\')
				i++;
		} else if (s[i] == '\'' || s[i] == '"') {
			q = s[i];
		} else if (s[i] == '\\') {
			i++;
		} else if (s[i] == '(') {
			d++;
		} else if (s[i] == ')' && --d == 0) {
			return i;
		}
	}
	return len;
}

/* Scans the bodies of $( ) and ` ` in s as commands of their own and blanks
 * them in out (a copy of s), so the outer command reads "x=  && y". */
static void scan_substitutions(struct scan *sc, const char *s, size_t len, char *out, int depth)
{
	char q = 0;

	for (size_t i = 0; i < len && !sc->matched; i++) {
		size_t body, end;
		if (q == '\'') {
			q = s[i] == '\'' ? 0 : q;
			continue;
		}
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '"' || (s[i] == '\'' && !q)) {
			q = q == s[i] ? 0 : q ? q : s[i];
			continue;
		}
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '(') {
			body = i + 2;
			end = subst_end(s, len, body);
		} else if (s[i] == '`') {
			const char *e = memchr(s + i + 1, '`', len - i - 1);
			body = i + 1;
			end = e ? (size_t)(e - s) : len;
		} else {
			continue;
		}
		if (end == len)
			sc->unparseable = true;
		scan_string(sc, s + body, end - body, depth + 1);
		memset(out + i, ' ', (end < len ? end + 1 : len) - i);
		i = end;
	}
}

static void scan_string(struct scan *sc, const char *s, size_t len, int depth)
{
	size_t start = 0;
	char *outer, q = 0;

	if (depth > DEPTH_MAX || len > POLICY_CMD_MAX) {
		sc->unparseable = true;
		return;
	}
	outer = malloc(len + 1);
	if (!outer) {
		sc->unparseable = true;
		return;
	}
	memcpy(outer, s, len);
	outer[len] = '\0';
	scan_substitutions(sc, s, len, outer, depth);
	for (size_t i = 0; i <= len && !sc->matched; i++) {
		char c = outer[i];
		if (i < len && q) {
			if (c == q)
				q = 0;
			else if (q == '"' && c == '\\' && i + 1 < len)
				i++;
			continue;
		}
		if (i + 1 < len && c == '\\') {
			i++;
			continue;
		}
		if (i < len && (c == '\'' || c == '"')) {
			q = c;
			continue;
		}
		if (i >= len || strchr(";&|\n()", c)) {
			scan_simple(sc, outer + start, (i < len ? i : len) - start, depth);
			start = i + 1;
		}
	}
	if (q)
		sc->unparseable = true;
	free(outer);
}

enum policy__cmd_result policy__cmd_match_argv(const struct policy__cmdpat *pats, size_t n,
					       const char *const *argv, size_t argc, size_t *which)
{
	struct scan sc = {.pats = pats, .n_pats = n};

	if (argc == 0 || argc > POLICY_ARGV_MAX)
		return argc ? CMD_UNPARSEABLE : CMD_NO_MATCH;
	scan_argv(&sc, argv, argc, 0);
	*which = sc.which;
	return sc.matched ? CMD_MATCH : sc.unparseable ? CMD_UNPARSEABLE : CMD_NO_MATCH;
}

enum policy__cmd_result policy__cmd_match_string(const struct policy__cmdpat *pats, size_t n,
						 const char *cmd, size_t *which)
{
	struct scan sc = {.pats = pats, .n_pats = n};

	scan_string(&sc, cmd, strlen(cmd), 0);
	*which = sc.which;
	return sc.matched ? CMD_MATCH : sc.unparseable ? CMD_UNPARSEABLE : CMD_NO_MATCH;
}

/* cli_ca.c - `omnibox ca`: the TLS interception CA (proxy/ca.h).
 *
 *   omnibox ca init [--ca DIR]   create it if missing (never replaces a key)
 *   omnibox ca show [--ca DIR]   subject, SHA-256 fingerprint, validity, paths
 *   omnibox ca path [--ca DIR]   the certificate's path only, for scripts
 *   omnibox ca jail-bundle [--ca DIR]   (for `omnibox exec`, not in the usage)
 *                                the jail's trust bundle; creates the CA too
 *
 * Exit 0, 1 on failure, 2 on a usage error. Never prints key material. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../proxy/ca.h"
#include "cli.h"

#define EXIT_USAGE 2

static const char usage[] = "usage: omnibox ca init [--ca DIR]   create the CA if there is none\n"
			    "       omnibox ca show [--ca DIR]   describe it (never the key)\n"
			    "       omnibox ca path [--ca DIR]   print the certificate's path\n"
			    "DIR defaults to $XDG_DATA_HOME/omnigent/ca "
			    "(~/.local/share/omnigent/ca); docs/CA.md.\n";

static void fingerprint(X509 *cert, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	size_t o = 0;

	out[0] = '\0';
	if (!X509_digest(cert, EVP_sha256(), md, &n))
		return;
	for (unsigned i = 0; i < n && o + 4 <= size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%02X", i ? ":" : "", md[i]);
}

static void when(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm) || !strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, size, "?");
}

static void subject(X509 *cert, char *out, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;

	snprintf(out, size, "?");
	if (b && X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_ONELINE) >= 0) {
		len = BIO_get_mem_data(b, &data);
		snprintf(out, size, "%.*s", (int)len, data);
	}
	BIO_free(b);
}

static void show(struct proxy_ca *ca)
{
	X509 *cert = proxy_ca_cert(ca);
	char fp[3 * EVP_MAX_MD_SIZE + 1], subj[512], from[64], to[64];
	int days = 0, secs = 0;

	fingerprint(cert, fp, sizeof(fp));
	subject(cert, subj, sizeof(subj));
	when(X509_get0_notBefore(cert), from, sizeof(from));
	when(X509_get0_notAfter(cert), to, sizeof(to));
	ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert));
	printf("certificate: %s\n", proxy_ca_cert_path(ca));
	printf("subject:     %s\n", subj);
	printf("sha256:      %s\n", fp);
	printf("not before:  %s\n", from);
	printf("not after:   %s (%s)\n", to,
	       days > 0 || (days == 0 && secs > 0) ? "valid" : "EXPIRED: rotate, docs/CA.md");
	printf("key:         %s (ECDSA P-256, 0600, never leaves this machine)\n",
	       proxy_ca_key_path(ca));
}

/* The jail's trust bundle (system roots + our CA) in DIR/jail-bundle/
 * ca-bundle.pem, the one thing of the CA directory a jail gets (read-only;
 * the directory itself stays 0700). `omnibox exec --net proxy` has it made
 * here only when it is older than the CA or the system roots. */
static int jail_bundle(struct proxy_ca *ca, ombx_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int r;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/jail-bundle", proxy_ca_dir(ca)) >= sizeof(dir))
		return ombx_err_set(err, ENAMETOOLONG, "CA directory path too long");
	snprintf(path, sizeof(path), "%s/ca-bundle.pem", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return ombx_err_errno(err, errno, "creating %s", dir);
	chmod(dir, 0755); /* the jail's uid reads it */
	if ((r = proxy_ca_bundle(ca, path, err)) < 0)
		return r;
	chmod(path, 0644);
	return 0;
}

int ombx_cli_ca(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ca", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *dir = NULL, *sub;
	struct proxy_ca *ca = NULL;
	ombx_err err = {0};
	bool created = false;
	int c, r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "init") && strcmp(sub, "show") && strcmp(sub, "path") &&
	    strcmp(sub, "jail-bundle")) {
		ombx_cli_error("unknown ca subcommand '%s'\n%s", sub, usage);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "+h", opts, NULL)) != -1) {
		if (c == 'c') {
			dir = optarg;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		ombx_cli_error("unexpected argument '%s'\n%s", argv[optind + 1], usage);
		return EXIT_USAGE;
	}

	if (strcmp(sub, "init") == 0 || strcmp(sub, "jail-bundle") == 0)
		r = proxy_ca_load_or_create(dir, NULL, &ca, &created, &err);
	else
		r = proxy_ca_load(dir, NULL, &ca, &err);
	if (r == 0 && strcmp(sub, "jail-bundle") == 0) {
		r = jail_bundle(ca, &err);
		proxy_ca_free(ca);
		ca = NULL;
	}
	if (r < 0) {
		ombx_cli_error("%s", err.msg);
		return 1;
	}
	if (!ca) {
		/* jail-bundle: done, silently */
	} else if (strcmp(sub, "path") == 0) {
		printf("%s\n", proxy_ca_cert_path(ca));
	} else if (strcmp(sub, "init") == 0) {
		printf("%s interception CA in %s\n", created ? "created the" : "kept the existing",
		       proxy_ca_dir(ca));
		show(ca);
	} else {
		show(ca);
	}
	proxy_ca_free(ca);
	return 0;
}

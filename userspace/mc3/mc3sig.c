// SPDX-License-Identifier: GPL-2.0
/*
 * mc3sig: sign and verify MC-3-RESOLVE_ICI requests from the shell, or as a
 * co-process of a CMP server (--batch), with libmc3.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc3.h"

#define MAX_REQUEST	65536
#define BATCH_IN	(1 << 20)
#define EXIT_DENIED	1
#define EXIT_BAD	2

static const char usage[] =
"usage: mc3sig keygen --apikeyid ID [--hash sha1|sha256|sha384|sha512]\n"
"                     [--encoding hex|base64] [--profile cr|v2]\n"
"       mc3sig sign -k KEYSTORE --apikeyid ID [--format form|json] [--batch] [FILE]\n"
"       mc3sig verify -k KEYSTORE [--format form|json] [--batch] [--window S] [FILE]\n"
"\n"
"Sign and verify MC-3-RESOLVE_ICI requests (OMA Mobile Codes, CMP to CMP).\n"
"\n"
"  keygen   print a key-store line with a fresh random key (registration)\n"
"  sign     print the request (FILE or stdin) with apikeyid and signature\n"
"           added, and ts for a v2 key\n"
"  verify   print the request and exit 0 when it verifies; else print\n"
"           nothing, say why on stderr and exit 1 (2: malformed)\n"
"\n"
"options:\n"
"  -k, --keystore FILE   the key store: \"APIKEYID HASH ENCODING PROFILE KEY\" a\n"
"                        line, mode 600 or stricter\n"
"  -f, --format F        form (application/x-www-form-urlencoded, default) or json\n"
"  -b, --batch           one request a line on stdin, one result a line on\n"
"                        stdout: the signed request, or for verify \"ok\",\n"
"                        \"denied: REASON\" or \"malformed: REASON\"\n"
"  -w, --window S        v2: accepted age of ts in seconds (default 300)\n"
"  -u, --pass-unknown    keep fields the table does not know (else malformed)\n"
"  -V, --version         print mc3sig's and libmc3's versions\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 done (verify: verified), 1 verify: not verified, 2 malformed\n"
"input, a bad key store or bad usage. See mc3sig(1).\n";

struct opts {
	const char *keystore, *apikeyid, *hash, *encoding, *profile, *file;
	enum mc3_format format;
	unsigned int flags, window;
	int batch;
};

static int fail(int status, const char *fmt, const char *arg)
{
	fprintf(stderr, "mc3sig: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return status;
}

/* Bad usage: the reason (when getopt has not given it), then where to look. */
static int usage_fail(const char *fmt, const char *arg)
{
	if (fmt)
		fail(EXIT_BAD, fmt, arg);
	fprintf(stderr, "Try 'mc3sig --help'.\n");
	return EXIT_BAD;
}

/*
 * A key as long as the hash's output (HMAC gains nothing from more), in a
 * line the library itself must accept: it alone decides what a key is.
 */
static int keygen(const struct opts *o)
{
	EVP_MD *md = EVP_MD_fetch(NULL, o->hash, NULL);
	int i, n, len = md ? EVP_MD_get_size(md) : 32;
	unsigned char key[EVP_MAX_MD_SIZE];
	struct mc3_keystore *ks;
	char line[512], err[256];
	int status = 0;

	EVP_MD_free(md);
	if (!o->apikeyid)
		return usage_fail("%s", "keygen needs --apikeyid");
	if (len <= 0 || len > EVP_MAX_MD_SIZE || RAND_bytes(key, len) != 1)
		return fail(EXIT_BAD, "%s", "no random bytes from OpenSSL");
	n = snprintf(line, sizeof(line), "%.100s %.16s %.16s %.16s hex:", o->apikeyid, o->hash,
		     o->encoding, o->profile);
	for (i = 0; i < len; i++)
		n += snprintf(line + n, sizeof(line) - n, "%02x", key[i]);
	if (mc3_keystore_parse(line, n, &ks, err, sizeof(err))) {
		/* "line 1: why": there is only the one line. */
		status = fail(EXIT_BAD, "keygen: %s", strncmp(err, "line 1: ", 8) ? err : err + 8);
	} else {
		printf("%s\n", line);
		mc3_keystore_free(ks);
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(line, sizeof(line));
	return status;
}

/* The whole of FILE or stdin, at most MAX_REQUEST octets. */
static char *read_request(const char *file, size_t *len)
{
	int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : 0;
	char *buf = malloc(MAX_REQUEST + 1);
	ssize_t n = 0;

	*len = 0;
	if (fd < 0 || !buf) {
		free(buf);
		return NULL;
	}
	while (*len <= MAX_REQUEST && (n = read(fd, buf + *len, MAX_REQUEST + 1 - *len)) > 0)
		*len += n;
	if (file)
		close(fd);
	if (n < 0 || *len > MAX_REQUEST) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * One request, arrived at now: the verdict as an exit status, and into *out
 * the request as text (signed, for sign) unless a batch verify needs only
 * the verdict.
 */
static int handle(struct mc3_ctx *ctx, const struct opts *o, int sign, const char *text,
		  size_t len, time_t now, char **out, char *err, size_t errlen)
{
	struct mc3_request *req;
	int status;

	*out = NULL;
	if (mc3_request_parse(text, len, o->format, o->flags, &req, err, errlen))
		return EXIT_BAD;
	if (sign) {
		status = mc3_sign(ctx, req, o->apikeyid, now, err, errlen) ? EXIT_BAD : 0;
	} else {
		switch (mc3_verify(ctx, req, now, err, errlen)) {
		case MC3_OK: status = 0; break;
		case MC3_EINVAL: status = EXIT_BAD; break;
		default: status = EXIT_DENIED;
		}
	}
	if (!status && (sign || !o->batch) && !(*out = mc3_request_write(req, o->format))) {
		snprintf(err, errlen, "out of memory");
		status = EXIT_BAD;
	}
	mc3_request_free(req);
	return status;
}

static void put_out(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n > *cap) {
		size_t new_cap = (*len + n) * 2;
		char *p = realloc(*buf, new_cap);

		if (!p) {
			fprintf(stderr, "mc3sig: out of memory\n");
			exit(EXIT_BAD);
		}
		*buf = p;
		*cap = new_cap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
}

static void write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(1, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(EXIT_BAD);	/* the reader is gone */
		buf += n;
		len -= n;
	}
}

/*
 * One request a line. Results gather in a buffer written whenever input
 * runs dry, so a co-process gets each answer before it must send more,
 * and a long batch costs few writes.
 */
static int batch(struct mc3_ctx *ctx, const struct opts *o, int sign)
{
	char *in = malloc(BATCH_IN), *out = NULL, *res, err[256];
	size_t have = 0, out_len = 0, out_cap = 0;
	int skipping = 0;
	ssize_t n;

	if (!in)
		return fail(EXIT_BAD, "%s", "out of memory");
	while ((n = read(0, in + have, BATCH_IN - have)) > 0 || (n < 0 && errno == EINTR)) {
		char *line = in, *nl;
		time_t now = time(NULL);	/* the arrival of what was read */

		have += n > 0 ? n : 0;
		while ((nl = memchr(line, '\n', in + have - line))) {
			if (skipping) {
				put_out(&out, &out_len, &out_cap, "malformed: line too long\n", 25);
				skipping = 0;
			} else {
				int status = handle(ctx, o, sign, line, nl - line, now,
						    &res, err, sizeof(err));

				if (!status && sign) {
					put_out(&out, &out_len, &out_cap, res, strlen(res));
					put_out(&out, &out_len, &out_cap, "\n", 1);
				} else if (!status) {
					put_out(&out, &out_len, &out_cap, "ok\n", 3);
				} else {
					const char *kind = status == EXIT_DENIED ? "denied: " : "malformed: ";

					put_out(&out, &out_len, &out_cap, kind, strlen(kind));
					put_out(&out, &out_len, &out_cap, err, strlen(err));
					put_out(&out, &out_len, &out_cap, "\n", 1);
				}
				free(res);
			}
			line = nl + 1;
		}
		have -= line - in;
		memmove(in, line, have);
		if (have == BATCH_IN) {
			/* No newline in a whole buffer: answer once, at its end. */
			skipping = 1;
			have = 0;
		}
		write_all(out, out_len);
		out_len = 0;
	}
	free(in);
	free(out);
	return 0;
}

static int sign_or_verify(const struct opts *o, int sign)
{
	struct mc3_keystore *ks;
	struct mc3_ctx *ctx;
	char err[512], *text, *res = NULL;
	size_t len;
	int status;

	if (!o->keystore)
		return usage_fail("%s", "-k KEYSTORE is needed");
	if (sign && !o->apikeyid)
		return usage_fail("%s", "sign needs --apikeyid");
	if (mc3_keystore_load(o->keystore, &ks, err, sizeof(err)))
		return fail(EXIT_BAD, "%s", err);
	ctx = mc3_ctx_new(ks, 0, o->window);
	if (!ctx) {
		mc3_keystore_free(ks);
		return fail(EXIT_BAD, "%s", "out of memory");
	}
	if (o->batch) {
		status = batch(ctx, o, sign);
	} else if (!(text = read_request(o->file, &len))) {
		status = fail(EXIT_BAD, "%s: unreadable, or larger than 64 KiB",
			      o->file ? o->file : "stdin");
	} else {
		status = handle(ctx, o, sign, text, len, time(NULL), &res, err, sizeof(err));
		if (status)
			fprintf(stderr, "mc3sig: %s: %s\n",
				status == EXIT_DENIED ? "not verified" : "malformed", err);
		else
			printf("%s\n", res);
		free(res);
		free(text);
	}
	mc3_ctx_free(ctx);
	mc3_keystore_free(ks);
	return status;
}

static int print_version(void)
{
	printf("mc3sig %s (libmc3 %s)\n", SCTLS_VERSION, mc3_version());
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keystore", required_argument, NULL, 'k' },
		{ "apikeyid", required_argument, NULL, 'i' },
		{ "hash", required_argument, NULL, 'H' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "profile", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "window", required_argument, NULL, 'w' },
		{ "batch", no_argument, NULL, 'b' },
		{ "pass-unknown", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .hash = "sha256", .encoding = "hex", .profile = "cr" };
	const char *cmd;
	char *end;
	int c;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")))
		return print_version();
	if (argc < 2)
		return usage_fail("%s", "a command is needed: keygen, sign or verify");
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "k:i:H:e:p:f:w:buVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.keystore = optarg; break;
		case 'i': o.apikeyid = optarg; break;
		case 'H': o.hash = optarg; break;
		case 'e': o.encoding = optarg; break;
		case 'p': o.profile = optarg; break;
		case 'b': o.batch = 1; break;
		case 'u': o.flags |= MC3_PASS_UNKNOWN; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': return print_version();
		case 'f':
			if (strcmp(optarg, "form") && strcmp(optarg, "json"))
				return usage_fail("--format %s: use form or json", optarg);
			o.format = optarg[0] == 'j' ? MC3_JSON : MC3_FORM;
			break;
		case 'w':
			errno = 0;
			o.window = strtoul(optarg, &end, 10);
			if (errno || *end || !o.window || o.window > 86400)
				return usage_fail("--window %s: use 1 to 86400 seconds", optarg);
			break;
		default:	/* getopt said what */
			return usage_fail(NULL, NULL);
		}
	}
	if (optind < argc)
		o.file = argv[optind++];
	if (optind < argc)
		return usage_fail("unexpected argument '%s'", argv[optind]);
	if (!strcmp(cmd, "keygen"))
		return keygen(&o);
	if (!strcmp(cmd, "sign") || !strcmp(cmd, "verify"))
		return sign_or_verify(&o, cmd[0] == 's');
	return usage_fail("unknown command '%s' (keygen, sign, verify)", cmd);
}

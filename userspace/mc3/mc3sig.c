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
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mc3.h"

#define MAX_REQUEST	65536
#define BATCH_IN	(1 << 20)
#define EXIT_DENIED	1
#define EXIT_BAD	2

static const char usage[] =
"usage: mc3sig keygen --apikeyid ID [--hash H] [--encoding E] [--profile P] [-o FILE]\n"
"       mc3sig sign -k KEYSTORE --apikeyid ID [--format F] [-u] [--batch] [FILE]\n"
"       mc3sig verify -k KEYSTORE [--format F] [-u] [--window S] [--rate N]\n"
"                     [--replay-journal FILE] [--signed-only] [-q | --json]\n"
"                     [--batch] [FILE]\n"
"       mc3sig signed-bytes -k KEYSTORE [--apikeyid ID] [--format F] [-u] [FILE]\n"
"\n"
"Sign and verify MC-3-RESOLVE_ICI requests (OMA Mobile Codes, CMP to CMP).\n"
"\n"
"  keygen        a key-store line with a fresh random key (registration)\n"
"  sign          print the request (FILE or stdin) with apikeyid and signature\n"
"                added, and ts for a v2 key\n"
"  verify        exit 0 and print the request when it verifies; else print\n"
"                nothing, say why on stderr and exit 1 (2: malformed)\n"
"  signed-bytes  write the exact octets the key MACs for the request\n"
"\n"
"options:\n"
"  -k, --keystore FILE   the key store, owned by you or root, mode 600 or stricter\n"
"  -i, --apikeyid ID     the key's id (sign: its first key valid now)\n"
"  -H, --hash H          keygen: sha1, sha256 (default), sha384 or sha512\n"
"  -e, --encoding E      keygen: the signature as hex (default) or base64\n"
"  -p, --profile P       keygen: cr (default; signs tid and ici) or v2 (all)\n"
"  -o, --output FILE     keygen: write the line to a new FILE, mode 600\n"
"  -f, --format F        form (application/x-www-form-urlencoded, default) or json\n"
"  -u, --pass-unknown    keep fields the table does not know (else malformed)\n"
"  -b, --batch           a request a line (FILE or stdin), a result a line out:\n"
"                        the signed request, or for verify \"ok\", \"denied:\n"
"                        REASON\" or \"malformed: REASON\" (\"error: REASON\"\n"
"                        when not the request's fault); exactly one line\n"
"                        for every request\n"
"  -w, --window S        verify: v2's accepted age of ts, and how long a\n"
"                        request is remembered against replay (default 300)\n"
"  -r, --rate N          verify: the most requests a second one apikeyid may\n"
"                        send (default 1000); RATE x (2 x WINDOW + 1) are\n"
"                        remembered per apikeyid, past that its requests\n"
"                        are denied\n"
"  -j, --replay-journal FILE\n"
"                        verify: keep the replay cache in FILE across restarts\n"
"  -s, --signed-only     verify: print only the fields the signature covers\n"
"                        (cr: tid and ici)\n"
"  -q, --quiet           verify: print nothing; the exit status says it\n"
"      --json            verify: the verdict as one JSON object a request\n"
"  -V, --version         print mc3sig's and libmc3's versions\n"
"  -h, --help            this text\n"
"\n"
"FILE - is stdin. Exit status: 0 done (verify: verified; --batch: every\n"
"request), 1 verify: not verified (--batch: some denied, none malformed),\n"
"2 malformed input, a bad key store or bad usage. See mc3sig(1).\n";

/* The options, as bits: which a command takes is checked. */
enum {
	O_KEYSTORE = 1 << 0, O_APIKEYID = 1 << 1, O_HASH = 1 << 2, O_ENCODING = 1 << 3,
	O_PROFILE = 1 << 4, O_OUTPUT = 1 << 5, O_FORMAT = 1 << 6, O_UNKNOWN = 1 << 7,
	O_BATCH = 1 << 8, O_WINDOW = 1 << 9, O_RATE = 1 << 10, O_JOURNAL = 1 << 11,
	O_SIGNED_ONLY = 1 << 12, O_QUIET = 1 << 13, O_JSON = 1 << 14,
};

static const struct command {
	const char *name;
	unsigned int takes;
} commands[] = {
	{ "keygen", O_APIKEYID | O_HASH | O_ENCODING | O_PROFILE | O_OUTPUT },
	{ "sign", O_KEYSTORE | O_APIKEYID | O_FORMAT | O_UNKNOWN | O_BATCH },
	{ "verify", O_KEYSTORE | O_FORMAT | O_UNKNOWN | O_BATCH | O_WINDOW | O_RATE |
		    O_JOURNAL | O_SIGNED_ONLY | O_QUIET | O_JSON },
	{ "signed-bytes", O_KEYSTORE | O_APIKEYID | O_FORMAT | O_UNKNOWN },
};

struct opts {
	const char *keystore, *apikeyid, *hash, *encoding, *profile, *output, *file, *journal;
	enum mc3_format format;
	unsigned int flags, window, rate, given;
};

/* Worst last: a batch's status is its worst. RES_ERROR is not the request's fault. */
enum result { RES_OK, RES_DENIED, RES_MALFORMED, RES_ERROR };

static const char *one_line(char *err);

/* A message on stderr, with whatever it quotes made printable. */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mc3sig: %s\n", one_line(msg));
}

static int fail(int status, const char *fmt, const char *arg)
{
	say(fmt, arg);
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

/* 1 to 64 of A-Z a-z 0-9 . _ -, as an apikeyid is. */
static bool word(const char *s)
{
	size_t len = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return len && len <= 64 && !s[len];
}

/*
 * A key as long as the hash's output (HMAC gains nothing from more), in a
 * line the library itself must accept: it alone decides what a key is.
 * With -o, a new file of mode 600: never an existing one overwritten.
 */
static int keygen(const struct opts *o)
{
	EVP_MD *md = EVP_MD_fetch(NULL, o->hash, NULL);
	int i, n, len = md ? EVP_MD_get_size(md) : 32, fd = 1;
	unsigned char key[EVP_MAX_MD_SIZE];
	struct mc3_keystore *ks;
	char line[512], err[256];
	int status = 0;

	EVP_MD_free(md);
	if (!o->apikeyid)
		return usage_fail("%s", "keygen needs --apikeyid");
	/* Words of the line: a newline in one would write a second key line. */
	if (!word(o->apikeyid) || !word(o->hash) || !word(o->encoding) || !word(o->profile))
		return usage_fail("%s", "keygen: --apikeyid is 1 to 64 of A-Z a-z 0-9 . _ -, and --hash, --encoding and --profile are the names listed in --help");
	if (len <= 0 || len > EVP_MAX_MD_SIZE || RAND_bytes(key, len) != 1)
		return fail(EXIT_BAD, "%s", "no random bytes from OpenSSL");
	n = snprintf(line, sizeof(line), "%.100s %.16s %.16s %.16s hex:", o->apikeyid, o->hash,
		     o->encoding, o->profile);
	for (i = 0; i < len; i++)
		n += snprintf(line + n, sizeof(line) - n, "%02x", key[i]);
	if (mc3_keystore_parse(line, n, &ks, err, sizeof(err))) {
		/* "line 1: why": there is only the one line. */
		status = fail(EXIT_BAD, "keygen: %s", strncmp(err, "line 1: ", 8) ? err : err + 8);
		goto out;
	}
	mc3_keystore_free(ks);
	line[n++] = '\n';
	if (o->output) {
		fd = open(o->output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				say("%s exists: not overwritten (mc3sig(1), KEY ROTATION, says how to add a key)",
					o->output);
			else
				say("%s: %s", o->output, strerror(errno));
			status = EXIT_BAD;
			goto out;
		}
	}
	if (write(fd, line, n) != n || (o->output && close(fd))) {
		status = fail(EXIT_BAD, "cannot write the key: %s", strerror(errno));
		if (o->output)
			unlink(o->output);
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(line, sizeof(line));
	return status;
}

/* The whole of FILE or stdin ("-" or none), at most MAX_REQUEST octets. */
static char *read_request(const char *file, size_t *len)
{
	bool stdin_ = !file || !strcmp(file, "-");
	int fd = stdin_ ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	char *buf = malloc(MAX_REQUEST + 1);
	const char *name = stdin_ ? "stdin" : file;
	ssize_t n = 0;

	*len = 0;
	if (fd < 0 || !buf) {
		if (fd < 0 && errno == ENOENT && strchr(file, '='))
			fail(EXIT_BAD, "no file '%.64s': FILE names a file; give a request itself on stdin (echo 'tid=...' | mc3sig ...)", file);
		else
			say("%s: %s", name, buf ? strerror(errno) : "out of memory");
		free(buf);
		return NULL;
	}
	while (*len <= MAX_REQUEST && (n = read(fd, buf + *len, MAX_REQUEST + 1 - *len)) > 0)
		*len += n;
	if (!stdin_)
		close(fd);
	if (n < 0 || *len > MAX_REQUEST) {
		say("%s: %s", name, n < 0 ? strerror(errno) : "larger than 64 KiB");
		free(buf);
		return NULL;
	}
	return buf;
}

/* A whole URL, or a query with its '?': the query, which is the request. */
static const char *query_of(const char *text, size_t *len)
{
	const char *q;

	/* The first octet first: this runs for every request of a batch. */
	if (*len > 7 && text[0] == 'h' &&
	    (!strncmp(text, "http://", 7) || (*len > 8 && !strncmp(text, "https://", 8)))) {
		q = memchr(text, '?', *len);
		if (!q)
			return text;
		*len -= q - text;
		text = q;
	}
	if (*len && text[0] == '?') {
		text++;
		(*len)--;
	}
	return text;
}

/*
 * err as one line of printable ASCII: the library quotes input already,
 * and this makes sure of it, for a verdict line must be one line.
 */
static const char *one_line(char *err)
{
	char *p;

	for (p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return err;
}

/* The fields present that a cr signature does not cover, for a warning. */
static void warn_unsigned(const struct mc3_request *req, const char *signed_text,
			  const char *whole)
{
	const char *name, *value;
	char names[256] = "";
	size_t i, n = 0;

	if (!strcmp(signed_text, whole))
		return;
	for (i = 0; !mc3_request_field(req, i, &name, &value) && n < sizeof(names); i++)
		if (strcmp(name, "tid") && strcmp(name, "ici") && strcmp(name, "signature"))
			n += snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "", name);
	say("warning: verified, but the signature (cr) covers tid and ici only: %s are not signed and may have been changed; --signed-only prints only what is",
	    names);
}

struct io {
	struct mc3_ctx *ctx;
	const struct opts *o;
	int sign;
	time_t now;
};

/*
 * One request: its result, and into *out what to print (the signed
 * request; verify: the request or its signed part), unless only the
 * verdict is wanted. err: why not, one line.
 */
static enum result handle(const struct io *io, const char *text, size_t len, bool batch,
			  char **out, char *err, size_t errlen)
{
	const struct opts *o = io->o;
	struct mc3_request *req;
	enum result res = RES_OK;

	*out = NULL;
	*err = '\0';
	if (o->format == MC3_FORM)
		text = query_of(text, &len);
	if (mc3_request_parse(text, len, o->format, o->flags, &req, err, errlen))
		return RES_MALFORMED;
	if (io->sign) {
		int status = mc3_sign(io->ctx, req, o->apikeyid, io->now, err, errlen);

		/* A key no longer valid, or OpenSSL: the key store's, not the request's. */
		if (status)
			res = status == MC3_EINVAL ? RES_MALFORMED : RES_ERROR;
		else if (!(*out = mc3_request_write(req, o->format)))
			res = RES_ERROR;
		if (res == RES_ERROR && !*err)
			snprintf(err, errlen, "out of memory");
		mc3_request_free(req);
		return res;
	}
	switch (mc3_verify(io->ctx, req, io->now, err, errlen)) {
	case MC3_OK:
		break;
	case MC3_EINVAL:
		res = RES_MALFORMED;
		break;
	case MC3_ECRYPTO:
	case MC3_ENOMEM:
		res = RES_ERROR;
		break;
	default:
		res = RES_DENIED;
	}
	if (res == RES_OK && !batch && !(o->given & O_QUIET)) {
		*out = mc3_request_write_signed(io->ctx, req, o->format);
		if (*out && !(o->given & O_SIGNED_ONLY)) {
			char *whole = mc3_request_write(req, o->format);

			if (whole)
				warn_unsigned(req, *out, whole);
			free(*out);
			*out = whole;
		}
		if (!*out) {
			res = RES_ERROR;
			snprintf(err, errlen, "out of memory");
		}
	}
	mc3_request_free(req);
	return res;
}

/* A growing output buffer; out of memory ends the program (status 2). */
struct out {
	char *buf;
	size_t len, cap;
};

static void put_out(struct out *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t new_cap = (b->len + n) * 2;
		char *p = realloc(b->buf, new_cap);

		if (!p) {
			say("out of memory");
			exit(EXIT_BAD);
		}
		b->buf = p;
		b->cap = new_cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static void put_str(struct out *b, const char *s)
{
	put_out(b, s, strlen(s));
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

static const char *const verdict_names[] = { "ok", "denied", "malformed", "error" };

/* One result line: exactly one, whatever the request was. */
static void put_result(struct out *b, const struct opts *o, int sign, enum result res,
		       const char *text, char *err)
{
	if (res == RES_OK && sign) {
		/* The writer escapes what it writes; a line break would be a bug. */
		if (strpbrk(text, "\r\n")) {
			res = RES_MALFORMED;
			snprintf(err, 256, "the signed request would not be one line");
		} else {
			put_str(b, text);
			put_out(b, "\n", 1);
			return;
		}
	}
	if (o->given & O_JSON) {
		put_str(b, "{\"verdict\":\"");
		put_str(b, verdict_names[res]);
		put_str(b, "\"");
		if (res != RES_OK) {
			/* one_line() left printable ASCII: only " and \ to escape. */
			const char *p;

			put_str(b, ",\"reason\":\"");
			for (p = one_line(err); *p; p++) {
				if (*p == '"' || *p == '\\')
					put_out(b, "\\", 1);
				put_out(b, p, 1);
			}
			put_str(b, "\"");
		}
		put_str(b, "}\n");
		return;
	}
	put_str(b, verdict_names[res]);
	if (res != RES_OK) {
		put_str(b, ": ");
		put_str(b, one_line(err));
	}
	put_out(b, "\n", 1);
}

/*
 * One request a line, the last one with or without its newline. Results
 * gather in a buffer written whenever input runs dry, so a co-process gets
 * each answer before it must send more, and a long batch costs few writes.
 * The status is the worst result; a summary goes to stderr unless all
 * were ok.
 */
static int batch(struct io *io)
{
	const struct opts *o = io->o;
	bool stdin_ = !o->file || !strcmp(o->file, "-");
	int fd = stdin_ ? 0 : open(o->file, O_RDONLY | O_CLOEXEC);
	unsigned long long count[4] = { 0 };
	char *in = malloc(BATCH_IN + 1), *res, err[256];
	struct out out = { 0 };
	size_t have = 0;
	int skipping = 0, worst = RES_OK, eof = 0;
	ssize_t n;

	if (fd < 0 || !in) {
		say("%s: %s", fd < 0 ? o->file : "batch",
			fd < 0 ? strerror(errno) : "out of memory");
		free(in);
		return EXIT_BAD;
	}
	while (!eof) {
		char *line = in, *nl;

		n = read(fd, in + have, BATCH_IN - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("%s: %s", stdin_ ? "stdin" : o->file, strerror(errno));
			worst = RES_ERROR;
			break;
		}
		io->now = time(NULL);	/* the arrival of what was read */
		have += n;
		if (!n) {
			eof = 1;
			if (have || skipping)
				in[have++] = '\n';	/* the last line, unterminated */
		}
		while ((nl = memchr(line, '\n', in + have - line))) {
			enum result r = RES_MALFORMED;
			size_t len = nl - line;

			if (skipping) {
				snprintf(err, sizeof(err), "line longer than %d octets", BATCH_IN);
				skipping = 0;
				res = NULL;
			} else {
				if (len && line[len - 1] == '\r')
					len--;	/* CRLF input */
				r = handle(io, line, len, true, &res, err, sizeof(err));
			}
			put_result(&out, o, io->sign, r, res, err);
			count[r]++;
			if ((int)r > worst)
				worst = r;
			free(res);
			line = nl + 1;
		}
		have -= line - in;
		memmove(in, line, have);
		if (have == BATCH_IN) {
			/* No newline in a whole buffer: answer once, at its end. */
			skipping = 1;
			have = 0;
		}
		write_all(out.buf, out.len);
		out.len = 0;
	}
	if (!stdin_)
		close(fd);
	if (worst != RES_OK)
		say("%llu request(s): %llu ok, %llu denied, %llu malformed, %llu error",
			count[0] + count[1] + count[2] + count[3], count[0], count[1], count[2],
			count[3]);
	free(in);
	free(out.buf);
	return worst == RES_OK ? 0 : worst == RES_DENIED ? EXIT_DENIED : EXIT_BAD;
}

/*
 * The replay cache verify asked for: room per apikeyid for RATE requests a
 * second over 2 x WINDOW + 1 seconds, the longest a v2 entry lives (a ts
 * a window ahead of our clock stays acceptable for two).
 */
static struct mc3_replay *replay_for(const struct opts *o)
{
	unsigned int window = o->window ? o->window : MC3_WINDOW_DEFAULT;
	unsigned long long per_id = (unsigned long long)(o->rate ? o->rate : 1000) *
				    (2ULL * window + 1);
	struct mc3_replay *r;
	char err[512];

	if (per_id > MC3_REPLAY_MAX) {
		say("--rate x (2 x --window + 1) is %llu; at most %u requests can be remembered per apikeyid",
			per_id, MC3_REPLAY_MAX);
		return NULL;
	}
	r = mc3_replay_new(window, per_id);
	if (!r) {
		say("out of memory");
		return NULL;
	}
	if (o->journal && mc3_replay_journal(r, o->journal, time(NULL), err, sizeof(err))) {
		say("replay journal: %s", err);
		mc3_replay_free(r);
		return NULL;
	}
	return r;
}

/* signed-bytes: the octets as they are, for `| openssl dgst -hmac`. */
static int signed_bytes(struct mc3_ctx *ctx, const struct opts *o, const char *text, size_t len)
{
	struct mc3_request *req;
	unsigned char *bytes;
	char err[256];
	size_t n;

	if (o->format == MC3_FORM)
		text = query_of(text, &len);
	if (mc3_request_parse(text, len, o->format, o->flags, &req, err, sizeof(err)))
		return fail(EXIT_BAD, "malformed: %s", one_line(err));
	bytes = mc3_signed_bytes(ctx, req, o->apikeyid, &n);
	if (!bytes)
		fail(EXIT_BAD, "%s", o->apikeyid || mc3_request_get(req, "apikeyid") ?
		     "the key store has no key of the request's apikeyid" :
		     "no apikeyid in the request: give --apikeyid");
	mc3_request_free(req);
	if (!bytes)
		return EXIT_BAD;
	write_all((const char *)bytes, n);
	free(bytes);
	return 0;
}

static int run(const struct opts *o, const char *cmd)
{
	struct io io = { .o = o, .sign = !strcmp(cmd, "sign") };
	struct mc3_replay *replay = NULL;
	struct mc3_keystore *ks;
	char err[512], *text, *res = NULL;
	size_t len;
	int status;

	if (!o->keystore)
		return usage_fail("%s", "-k KEYSTORE is needed");
	if (io.sign && !o->apikeyid)
		return usage_fail("%s", "sign needs --apikeyid");
	if (mc3_keystore_load(o->keystore, &ks, err, sizeof(err)))
		return fail(EXIT_BAD, "%s", one_line(err));
	if (o->apikeyid && !mc3_keystore_has(ks, o->apikeyid)) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s has no key with apikeyid '%.64s'", o->keystore,
			 o->apikeyid);
		say("%s", one_line(msg));
		mc3_keystore_free(ks);
		return EXIT_BAD;
	}
	if (!strcmp(cmd, "verify") && !(replay = replay_for(o))) {
		mc3_keystore_free(ks);
		return EXIT_BAD;
	}
	io.ctx = replay ? mc3_ctx_new_shared(ks, replay) : mc3_ctx_new(ks, 1, 0);
	if (!io.ctx) {
		status = fail(EXIT_BAD, "%s", "out of memory");
	} else if (o->given & O_BATCH) {
		status = batch(&io);
	} else if (!(text = read_request(o->file, &len))) {
		status = EXIT_BAD;
	} else if (!strcmp(cmd, "signed-bytes")) {
		status = signed_bytes(io.ctx, o, text, len);
		free(text);
	} else {
		enum result r;

		io.now = time(NULL);
		r = handle(&io, text, len, false, &res, err, sizeof(err));
		status = r == RES_OK ? 0 : r == RES_DENIED ? EXIT_DENIED : EXIT_BAD;
		if (r != RES_OK && !(o->given & O_QUIET))
			say("%s: %s",
				r == RES_DENIED ? "not verified" : r == RES_MALFORMED ? "malformed" :
				io.sign ? "cannot sign" : "cannot verify", one_line(err));
		else if (res)
			printf("%s\n", res);
		free(res);
		free(text);
	}
	mc3_ctx_free(io.ctx);
	mc3_replay_free(replay);
	mc3_keystore_free(ks);
	return status;
}

static int print_version(void)
{
	printf("mc3sig %s (libmc3 %s)\n", SCTLS_VERSION, mc3_version());
	return 0;
}

/* A number in 1..max, or 0. */
static unsigned int number(const char *s, unsigned int max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	return errno || *end || end == s || !v || v > max || s[0] == '-' ? 0 : v;
}

int main(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option longopts[] = {
		{ "keystore", required_argument, NULL, 'k' },
		{ "apikeyid", required_argument, NULL, 'i' },
		{ "hash", required_argument, NULL, 'H' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "profile", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "replay-journal", required_argument, NULL, 'j' },
		{ "signed-only", no_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "batch", no_argument, NULL, 'b' },
		{ "pass-unknown", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const unsigned int bit[128] = {
		['k'] = O_KEYSTORE, ['i'] = O_APIKEYID, ['H'] = O_HASH, ['e'] = O_ENCODING,
		['p'] = O_PROFILE, ['o'] = O_OUTPUT, ['f'] = O_FORMAT, ['w'] = O_WINDOW,
		['r'] = O_RATE, ['j'] = O_JOURNAL, ['s'] = O_SIGNED_ONLY, ['q'] = O_QUIET,
		['b'] = O_BATCH, ['u'] = O_UNKNOWN,
	};
	struct opts o = { .hash = "sha256", .encoding = "hex", .profile = "cr" };
	const struct command *cmd = NULL;
	struct rlimit no_core = { 0, 0 };
	int c, opt_index;
	size_t i;

	/* Keys are in this process's memory: no core file may hold them. */
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")))
		return print_version();
	if (argc < 2)
		return usage_fail("%s", "a command is needed: keygen, sign, verify or signed-bytes");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd)
		return usage_fail("unknown command '%.64s' (keygen, sign, verify, signed-bytes)",
				  argv[1]);
	optind = 2;
	while ((c = getopt_long(argc, argv, "k:i:H:e:p:o:f:w:r:j:sqbuVh", longopts,
				&opt_index)) != -1) {
		unsigned int b = c == OPT_JSON ? O_JSON : c > 0 && c < 128 ? bit[c] : 0;

		if (b && !(cmd->takes & b))
			return usage_fail(c == OPT_JSON ? "%s: --json does not apply" :
					  "%s: an option given does not apply to it", cmd->name);
		o.given |= b;
		switch (c) {
		case 'k': o.keystore = optarg; break;
		case 'i': o.apikeyid = optarg; break;
		case 'H': o.hash = optarg; break;
		case 'e': o.encoding = optarg; break;
		case 'p': o.profile = optarg; break;
		case 'o': o.output = optarg; break;
		case 'j': o.journal = optarg; break;
		case 'u': o.flags |= MC3_PASS_UNKNOWN; break;
		case 's': case 'q': case 'b': case OPT_JSON: break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': return print_version();
		case 'f':
			if (strcmp(optarg, "form") && strcmp(optarg, "json"))
				return usage_fail("--format %.32s: use form or json", optarg);
			o.format = optarg[0] == 'j' ? MC3_JSON : MC3_FORM;
			break;
		case 'w':
			o.window = number(optarg, MC3_WINDOW_MAX);
			if (!o.window)
				return usage_fail("--window %.32s: use 1 to 86400 seconds", optarg);
			break;
		case 'r':
			o.rate = number(optarg, 1000000);
			if (!o.rate)
				return usage_fail("--rate %.32s: use 1 to 1000000 requests a second", optarg);
			break;
		default:	/* getopt said what */
			return usage_fail(NULL, NULL);
		}
	}
	if ((o.given & O_QUIET) && (o.given & (O_JSON | O_BATCH | O_SIGNED_ONLY)))
		return usage_fail("%s", "--quiet prints nothing: not with --json, --batch or --signed-only");
	if ((o.given & O_JSON) && !(o.given & O_BATCH))
		return usage_fail("%s", "--json is for --batch verdicts");
	if ((o.given & O_SIGNED_ONLY) && (o.given & O_BATCH))
		return usage_fail("%s", "--signed-only is for one request; --batch prints verdicts");
	if (optind < argc)
		o.file = argv[optind++];
	if (optind < argc)
		return usage_fail("unexpected argument '%.64s'", argv[optind]);
	if (!strcmp(cmd->name, "keygen")) {
		if (o.file)
			return usage_fail("%s", "keygen reads no FILE; -o FILE writes one");
		return keygen(&o);
	}
	return run(&o, cmd->name);
}

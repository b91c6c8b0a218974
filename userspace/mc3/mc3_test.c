// SPDX-License-Identifier: GPL-2.0
/*
 * libmc3 against the RFC vectors and every way a request can be wrong,
 * run on the host under ASan and UBSan.
 */
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mc3.h"

#define NOW 1795400000

static const char k0b[] = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";

struct signer {
	struct mc3_keystore *ks;
	struct mc3_ctx *ctx;
	char err[256];
};

static int signer_open(struct signer *s, const char *keys)
{
	memset(s, 0, sizeof(*s));
	if (mc3_keystore_parse(keys, strlen(keys), &s->ks, s->err, sizeof(s->err)))
		return -1;
	s->ctx = mc3_ctx_new(s->ks, 16, 300);
	return s->ctx ? 0 : -1;
}

static void signer_close(struct signer *s)
{
	mc3_ctx_free(s->ctx);
	mc3_keystore_free(s->ks);
}

/* The signature the library puts on tid/ici under key id, or "" on error. */
static const char *sign_pair(struct signer *s, const char *form, const char *id)
{
	static char sig[256];
	struct mc3_request *req;

	sig[0] = '\0';
	if (!mc3_request_parse(form, strlen(form), MC3_FORM, 0, &req, s->err, sizeof(s->err)) &&
	    !mc3_sign(s->ctx, req, id, NOW, s->err, sizeof(s->err)))
		snprintf(sig, sizeof(sig), "%s", mc3_request_get(req, "signature"));
	mc3_request_free(req);
	return sig;
}

/* Verify text in ctx: the verdict, or -1 if it does not parse; why in err. */
static int verify_with(struct mc3_ctx *ctx, const char *text, enum mc3_format format,
		       time_t now, char *err, size_t errlen)
{
	struct mc3_request *req;
	int v;

	if (mc3_request_parse(text, strlen(text), format, 0, &req, err, errlen))
		return -1;
	v = mc3_verify(ctx, req, now, err, errlen);
	mc3_request_free(req);
	return v;
}

/* The same in the signer's context, why in s->err. */
static int verify_text(struct signer *s, const char *text, enum mc3_format format, time_t now)
{
	return verify_with(s->ctx, text, format, now, s->err, sizeof(s->err));
}

TEST(rfc4231_and_rfc2202_vectors)
{
	char keys[1024], aa[300] = "hex:";
	struct signer s;
	int i;

	for (i = 0; i < 131; i++)
		strcat(aa, "aa");
	snprintf(keys, sizeof(keys),
		 "k256 sha256 hex cr hex:%s\nk384 sha384 hex cr hex:%s\n"
		 "k512 sha512 hex cr hex:%s\nk1 sha1 hex cr hex:%s\n"
		 "b64 sha256 base64 cr hex:%s\nbig sha256 hex cr %s\n",
		 k0b, k0b, k0b, k0b, k0b, aa);
	ASSERT_EQ(0, signer_open(&s, keys)) TH_LOG("%s", s.err);

	/* "Hi There", split anywhere between tid and ici. */
	EXPECT_STREQ("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		     sign_pair(&s, "tid=Hi+&ici=There&user=u", "k256"));
	EXPECT_STREQ("afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		     "faea9ea9076ede7f4af152e8b2fa9cb6",
		     sign_pair(&s, "tid=H&ici=i%20There&user=u", "k384"));
	EXPECT_STREQ("87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		     "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
		     sign_pair(&s, "tid=Hi%20Ther&ici=e&user=u", "k512"));
	EXPECT_STREQ("b617318655057264e28bc0b6fb378c8ef146be00",
		     sign_pair(&s, "tid=Hi+Ther&ici=e&user=u", "k1"));
	EXPECT_STREQ("sDRMYdjbOFNcqK/OrwvxK4gdwgDJgz2nJuk3bC4yz/c=",
		     sign_pair(&s, "tid=Hi&ici=+There&user=u", "b64"));
	EXPECT_STREQ("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		     sign_pair(&s, "tid=Test+Using+Larger+Than+Block-Size+Key+-+&"
				   "ici=Hash+Key+First&user=u", "big"));
	signer_close(&s);
}

TEST(short_keys_are_refused)
{
	struct mc3_keystore *ks;
	char err[256];
	/* RFC 4231 case 2's key, "Jefe": 4 octets. */
	const char *keys = "jefe sha256 hex cr hex:4a656665\n";

	EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_parse(keys, strlen(keys), &ks, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "line 1: the key has 4 octets; at least 16"));
}

TEST(key_store_lines_are_checked)
{
	static const char *const bad[][2] = {
		{ "a sha256 hex cr\n", "expected APIKEYID" },
		{ "a md5 hex cr hex:00112233445566778899aabbccddeeff\n", "hash 'md5'" },
		{ "a sha256 HEX cr hex:00112233445566778899aabbccddeeff\n", "encoding" },
		{ "a sha256 hex v3 hex:00112233445566778899aabbccddeeff\n", "profile" },
		{ "a sha256 hex cr hex:0011zz\n", "not hex:" },
		{ "a sha256 hex cr base64:AAAA=\n", "not hex:" },
		{ "a/b sha256 hex cr hex:00112233445566778899aabbccddeeff\n", "apikeyid" },
		{ "# only a comment\n", "no keys" },
	};
	struct mc3_keystore *ks;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_parse(bad[i][0], strlen(bad[i][0]), &ks, err, sizeof(err)));
		EXPECT_NE(NULL, strstr(err, bad[i][1])) TH_LOG("%s -> %s", bad[i][0], err);
	}
}

TEST(world_readable_key_store_is_refused)
{
	char path[] = "/tmp/mc3-ks-XXXXXX", err[512];
	struct mc3_keystore *ks;
	int fd = mkstemp(path);
	char line[128];

	ASSERT_LE(0, fd);
	snprintf(line, sizeof(line), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ((ssize_t)strlen(line), write(fd, line, strlen(line)));
	close(fd);
	ASSERT_EQ(0, chmod(path, 0644));
	EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_load(path, &ks, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "group or others may access it (mode 644)"));
	ASSERT_EQ(0, chmod(path, 0600));
	EXPECT_EQ(0, mc3_keystore_load(path, &ks, err, sizeof(err)));
	mc3_keystore_free(ks);
	unlink(path);
}

TEST(fields_are_checked)
{
	static const char *const bad[][2] = {
		{ "ici=a&user=u", "field 'tid' is missing" },
		{ "tid=1&user=u", "field 'ici' is missing" },
		{ "tid=1&ici=a", "field 'user' is missing" },
		{ "tid=1&ici=a&user=u&tid=2", "field 'tid' given twice" },
		{ "tid=1&ici=a&user=u&cc=XX", "field 'cc': not an ISO 3166-1" },
		{ "tid=1&ici=a&user=u&language=xx", "field 'language': not an ISO 639-1" },
		{ "tid=1&ici=a&user=u&age=123456789012345678901", "field 'age': empty or longer than 20" },
		{ "tid=1&ici=a&user=u&income=", "field 'income'" },
		{ "tid=1&ici=a&user=u&gender=other", "field 'gender'" },
		{ "tid=1&ici=a&user=u&count=x", "field 'count': not a number" },
		{ "tid=1&ici=a&user=u&addr=localhost", "field 'addr'" },
		{ "tid=1&ici=a&user=u&addr=-a.example", "field 'addr'" },
		{ "tid=1&ici=a&user=u&colour=red", "unknown field 'colour'" },
		{ "tid=1&ici=a&user=u&", "is not name=value" },
		{ "tid=1&ici=%zz&user=u", "bad %-escape" },
		{ "tid=1&ici=%00&user=u", "control characters" },
		{ "tid=1&ici=%ff&user=u", "not UTF-8" },
		{ "tid=&ici=a&user=u", "field 'tid': empty" },
		/* Text with escapes is looked at field by field: each is checked. */
		{ "tid=1&ici=a+b&user=\x01u", "field 'user': longer than 256 octets, not UTF-8, or with control" },
		{ "tid=1&ici=a%20b&user=\xffu", "field 'user': longer than 256 octets, not UTF-8" },
		{ "tid=1&ici=a%20b&user=u\x7f", "field 'user': longer than 256 octets, not UTF-8" },
		/* A name with a NUL inside (found by the fuzzer). */
		{ "tid%00abcdefgh=1&ici=a&user=u", "unknown field 'tid\\x00abcdefgh'" },
		/* Input is quoted, never raw: no line or escape of its own. */
		{ "tid=1&ici=2&user=3&x%0Aok%0A=1", "unknown field 'x\\x0aok\\x0a'" },
		{ "tid=1&ici=2&user=3&\x1b[2J\r=1", "unknown field '\\x1b[2J\\x0d'" },
		{ "tid=1&ici=2&user=3&\xff\x01", "'\\xff\\x01' is not name=value" },
		{ "tid=1&ici=2&user=3&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
		  "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
	};
	struct mc3_request *req;
	const char *good;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(MC3_EINVAL, mc3_request_parse(bad[i][0], strlen(bad[i][0]), MC3_FORM, 0, &req,
						err, sizeof(err)));
		EXPECT_NE(NULL, strstr(err, bad[i][1])) TH_LOG("%s -> %s", bad[i][0], err);
		for (good = err; *good; good++)
			EXPECT_TRUE(*good >= 0x20 && *good < 0x7f) TH_LOG("%s", bad[i][0]);
	}
	/* Good ones, and unknown fields when asked to pass them through. */
	good = "tid=1&ici=a&user=u&cc=fr&language=EN&age=22-55&income=%3E50%2C000&"
	       "gender=female&count=3&addr=cmp.example.org";
	ASSERT_EQ(0, mc3_request_parse(good, strlen(good), MC3_FORM, 0, &req, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_STREQ(">50,000", mc3_request_get(req, "income"));
	mc3_request_free(req);
	ASSERT_EQ(0, mc3_request_parse("tid=1&ici=a&user=u&colour=red", 29, MC3_FORM,
				       MC3_PASS_UNKNOWN, &req, err, sizeof(err)));
	EXPECT_STREQ("red", mc3_request_get(req, "colour"));
	mc3_request_free(req);
	/* Passed through into JSON too: so only clean UTF-8 text. */
	EXPECT_EQ(MC3_EINVAL, mc3_request_parse("tid=1&ici=a&user=u&colour=%ff", 29, MC3_FORM,
					MC3_PASS_UNKNOWN, &req, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not UTF-8"));
	EXPECT_EQ(MC3_EINVAL, mc3_request_parse("tid=1&ici=a&user=u&%fe=red", 26, MC3_FORM,
					MC3_PASS_UNKNOWN, &req, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "unknown field '\\xfe'"));
}

TEST(json_is_strict)
{
	static const char *const bad[][2] = {
		{ "{\"tid\":\"1\",\"ici\":\"a\",\"user\":\"u\",\"tid\":\"2\"}", "given twice" },
		{ "{\"tid\":1,\"ici\":\"a\",\"user\":\"u\"}", "must be a JSON string" },
		{ "{\"tid\":\"1\",\"ici\":\"a\",\"user\":\"u\"} x", "text after the object" },
		{ "[\"tid\"]", "not a JSON object" },
		{ "{\"tid\":\"1\" \"ici\":\"a\"}", "',' or '}' expected" },
		{ "{\"tid\":\"\\ud800\",\"ici\":\"a\",\"user\":\"u\"}", "must be a JSON string" },
		{ "{\"tid\":\"\\u0000\",\"ici\":\"a\",\"user\":\"u\"}", "field 'tid'" },
		/* A name with a newline is quoted, not written as one. */
		{ "{\"tid\":\"1\",\"ici\":\"2\",\"user\":\"3\",\"x\\nok\\n\":\"1\"}",
		  "unknown field 'x\\x0aok\\x0a'" },
	};
	const char *good = " {\"tid\" : \"1\\u00e9\\n\", \"ici\":\"a\\\"b\", \"user\":\"\\ud83d\\ude00\"} ";
	struct mc3_request *req;
	char err[256], *text;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(MC3_EINVAL, mc3_request_parse(bad[i][0], strlen(bad[i][0]), MC3_JSON, 0, &req,
						err, sizeof(err)));
		EXPECT_NE(NULL, strstr(err, bad[i][1])) TH_LOG("%s -> %s", bad[i][0], err);
	}
	/* A newline is a control character: not allowed in a field. */
	EXPECT_EQ(MC3_EINVAL, mc3_request_parse(good, strlen(good), MC3_JSON, 0, &req, err, sizeof(err)));
	good = "{\"tid\":\"1\\u00e9\",\"ici\":\"a\\\"b\",\"user\":\"\\ud83d\\ude00\"}";
	ASSERT_EQ(0, mc3_request_parse(good, strlen(good), MC3_JSON, 0, &req, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_STREQ("1\xc3\xa9", mc3_request_get(req, "tid"));
	EXPECT_STREQ("\xf0\x9f\x98\x80", mc3_request_get(req, "user"));
	/* Written back and read again: the same fields. */
	text = mc3_request_write(req, MC3_FORM);
	EXPECT_STREQ("tid=1%C3%A9&ici=a%22b&user=%F0%9F%98%80", text);
	free(text);
	text = mc3_request_write(req, MC3_JSON);
	EXPECT_STREQ("{\"tid\":\"1\xc3\xa9\",\"ici\":\"a\\\"b\",\"user\":\"\xf0\x9f\x98\x80\"}", text);
	free(text);
	mc3_request_free(req);
}

/* A signed form request under key id; "" on failure. */
static const char *signed_request(struct signer *s, const char *form, const char *id, time_t now)
{
	static char out[1024];
	struct mc3_request *req;
	char *text;

	out[0] = '\0';
	if (mc3_request_parse(form, strlen(form), MC3_FORM, MC3_PASS_UNKNOWN, &req, s->err,
			      sizeof(s->err)))
		return out;
	if (!mc3_sign(s->ctx, req, id, now, s->err, sizeof(s->err))) {
		text = mc3_request_write(req, MC3_FORM);
		snprintf(out, sizeof(out), "%s", text);
		free(text);
	}
	mc3_request_free(req);
	return out;
}

/* text with the first occurrence of from replaced by to. */
static const char *replaced(const char *text, const char *from, const char *to)
{
	static char out[1024];
	const char *at = strstr(text, from);

	if (!at)
		return "";
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

TEST(verification_fails_closed)
{
	char keys[512], good[1024], flipped[1024], *sig;
	struct signer s;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\nv sha256 hex v2 hex:%s\n", k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(good, sizeof(good), "%s", signed_request(&s, "tid=7&ici=abc&user=u", "a", NOW));
	ASSERT_NE(0, good[0]);
	sig = strstr(good, "signature=") + 10;

	/* A flipped digit, a truncated signature, upper-case hex, another id. */
	snprintf(flipped, sizeof(flipped), "%s", good);
	flipped[sig - good] = sig[0] == '0' ? '1' : '0';
	EXPECT_EQ(MC3_EAUTH, verify_text(&s, flipped, MC3_FORM, NOW));
	good[strlen(good) - 1] = '\0';
	EXPECT_EQ(MC3_EAUTH, verify_text(&s, good, MC3_FORM, NOW));
	snprintf(good, sizeof(good), "%s", signed_request(&s, "tid=7&ici=abc&user=u", "a", NOW));
	snprintf(flipped, sizeof(flipped), "%s", good);
	for (sig = strstr(flipped, "signature=") + 10; *sig; sig++)
		if (*sig >= 'a' && *sig <= 'f')
			*sig -= 'a' - 'A';
	EXPECT_EQ(MC3_EAUTH, verify_text(&s, flipped, MC3_FORM, NOW));
	EXPECT_STREQ("signature does not verify", s.err);
	/* An unknown id: the same verdict and the same words. */
	EXPECT_EQ(MC3_EAUTH, verify_text(&s, replaced(good, "apikeyid=a", "apikeyid=zz"),
					 MC3_FORM, NOW));
	EXPECT_STREQ("signature does not verify", s.err);
	/* cr does not cover user: the documented gap. */
	EXPECT_EQ(MC3_OK, verify_text(&s, replaced(good, "user=u", "user=x"), MC3_FORM, NOW));
	/* The first verified: now its tid is a replay, whatever the user. */
	EXPECT_EQ(MC3_EREPLAY, verify_text(&s, good, MC3_FORM, NOW));
	/* Unsigned. */
	EXPECT_EQ(MC3_EINVAL, verify_text(&s, "tid=8&ici=abc&user=u", MC3_FORM, NOW));

	/* v2 covers user and ts; ts must be within the window. */
	snprintf(good, sizeof(good), "%s", signed_request(&s, "tid=9&ici=abc&user=u&colour=red",
							  "v", NOW));
	ASSERT_NE(NULL, strstr(good, "ts=1795400000"));
	EXPECT_EQ(-1, verify_text(&s, good, MC3_FORM, NOW));	/* colour: unknown */
	snprintf(good, sizeof(good), "%s", signed_request(&s, "tid=9&ici=abc&user=u", "v", NOW));
	EXPECT_EQ(MC3_EAUTH, verify_text(&s, replaced(good, "user=u", "user=x"), MC3_FORM, NOW));
	EXPECT_EQ(MC3_ESTALE, verify_text(&s, good, MC3_FORM, NOW + 301));
	EXPECT_EQ(MC3_ESTALE, verify_text(&s, good, MC3_FORM, NOW - 301));
	EXPECT_EQ(MC3_OK, verify_text(&s, good, MC3_FORM, NOW + 300));
	EXPECT_EQ(MC3_EREPLAY, verify_text(&s, good, MC3_FORM, NOW + 1));
	/* The ambiguity of cr is gone: tid=ab ici=c and tid=a ici=bc differ. */
	snprintf(good, sizeof(good), "%s",
		 strstr(signed_request(&s, "tid=ab&ici=c&user=u", "v", NOW), "signature="));
	EXPECT_STRNE(good, strstr(signed_request(&s, "tid=a&ici=bc&user=u", "v", NOW), "signature="));
	signer_close(&s);
}

/*
 * Hex signatures are decoded eight digits at a time: any octet but the
 * right lower-case digit, at any place of a SHA-1, SHA-256 or SHA-512
 * signature (words of the decoder at every offset), is refused.
 */
TEST(hex_signature_any_wrong_octet_refused)
{
	static const char *const ids[] = { "k1", "k256", "k512" };
	char keys[512], good[1024], bad[1024], *sig;
	unsigned int i, at, wrong = 0;
	struct signer s;
	int b;

	snprintf(keys, sizeof(keys), "k1 sha1 hex cr hex:%s\nk256 sha256 hex cr hex:%s\n"
		 "k512 sha512 hex cr hex:%s\n", k0b, k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys)) TH_LOG("%s", s.err);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(good, sizeof(good), "%s", signed_request(&s, "tid=7&ici=abc&user=u", ids[i],
								  NOW));
		sig = strstr(good, "signature=") + 10;
		for (at = 0; sig[at]; at++) {
			for (b = 1; b < 256; b++) {
				if (b == (unsigned char)sig[at])
					continue;
				/* %-encoded, so that any octet reaches the decoder. */
				snprintf(bad, sizeof(bad), "%.*s%%%02X%s", (int)(sig + at - good), good,
					 b, sig + at + 1);
				if (verify_text(&s, bad, MC3_FORM, NOW) == MC3_OK)
					wrong++;
			}
		}
		EXPECT_EQ(MC3_OK, verify_text(&s, good, MC3_FORM, NOW)) TH_LOG("%s", s.err);
	}
	EXPECT_EQ(0, wrong);
	signer_close(&s);
}

/* Base64 signatures verify only in the form the signer writes. */
TEST(base64_signature_must_be_canonical)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char *const forms[] = {
		"%.42s%c=",	/* spare bits set: EVP_DecodeBlock gives the same MAC */
		"%.42s%c",	/* no padding */
		"%.42s%c =",	/* a space */
	};
	char keys[512], sig[64], bad[64], json[512];
	const char *fmt = "{\"tid\":\"%d\",\"ici\":\"abc\",\"user\":\"u\","
			  "\"apikeyid\":\"b\",\"signature\":\"%s\"}";
	struct signer s;
	unsigned int i;
	char spare;

	snprintf(keys, sizeof(keys), "b sha256 base64 cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(json, sizeof(json), "tid=%u&ici=abc&user=u", i);
		snprintf(sig, sizeof(sig), "%s", sign_pair(&s, json, "b"));
		/* 32 octets: 43 characters and '='; the 43rd has two spare bits. */
		ASSERT_EQ(44, strlen(sig));
		spare = b64[(strchr(b64, sig[42]) - b64) ^ (i == 0)];
		snprintf(bad, sizeof(bad), forms[i], sig, spare);
		snprintf(json, sizeof(json), fmt, i, bad);
		EXPECT_EQ(MC3_EAUTH, verify_text(&s, json, MC3_JSON, NOW)) TH_LOG("%s", json);
		snprintf(json, sizeof(json), fmt, i, sig);
		EXPECT_EQ(MC3_OK, verify_text(&s, json, MC3_JSON, NOW)) TH_LOG("%s", json);
	}
	signer_close(&s);
}

TEST(two_keys_of_one_id_both_verify)
{
	char keys[512], old[1024];
	struct signer s, old_signer;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&old_signer, keys));
	snprintf(old, sizeof(old), "%s", signed_request(&old_signer, "tid=1&ici=x&user=u", "a", NOW));
	signer_close(&old_signer);

	/* Rotation: the new key first (it signs), the old one still verifies. */
	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\na sha256 hex cr hex:%s\n",
		 "00112233445566778899aabbccddeeff", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	EXPECT_EQ(MC3_OK, verify_text(&s, old, MC3_FORM, NOW));
	EXPECT_EQ(MC3_OK, verify_text(&s, signed_request(&s, "tid=2&ici=x&user=u", "a", NOW),
				      MC3_FORM, NOW));
	EXPECT_STRNE(strstr(old, "signature="),
		     strstr(signed_request(&s, "tid=1&ici=x&user=u", "a", NOW), "signature="));
	signer_close(&s);
}

/* Verify a form request in ctx: the verdict, or -1 if it does not parse. */
static int verify_in(struct mc3_ctx *ctx, const char *text, time_t now)
{
	char err[256];

	return verify_with(ctx, text, MC3_FORM, now, err, sizeof(err));
}

/* The CR's ambiguity is no replay hole: what was signed is remembered. */
TEST(cr_replay_is_keyed_on_what_was_signed)
{
	char keys[512], first[1024], moved[1024], *sig;
	struct signer s;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(first, sizeof(first), "%s", signed_request(&s, "tid=ab&ici=c&user=u", "a", NOW));
	sig = strstr(first, "signature=");
	ASSERT_NE(NULL, sig);
	snprintf(moved, sizeof(moved), "tid=a&ici=bc&user=u&apikeyid=a&%s", sig);
	EXPECT_EQ(MC3_OK, verify_text(&s, first, MC3_FORM, NOW));
	EXPECT_EQ(MC3_EREPLAY, verify_text(&s, moved, MC3_FORM, NOW));
	EXPECT_STREQ("replayed: this signature verified before", s.err);
	/* cr has no time: it is remembered for the window, and that is all. */
	EXPECT_EQ(MC3_EREPLAY, verify_text(&s, first, MC3_FORM, NOW + 299));
	EXPECT_EQ(MC3_OK, verify_text(&s, first, MC3_FORM, NOW + 600));
	/* A ts in a cr request would look signed, and is not. */
	EXPECT_EQ(MC3_EINVAL, verify_text(&s, replaced(first, "user=u", "user=u&ts=1"),
					  MC3_FORM, NOW));
	EXPECT_EQ(0, sign_pair(&s, "tid=1&ici=x&user=u&ts=5", "a")[0]);
	EXPECT_STREQ("field 'ts' is not signed in the cr profile: leave it out", s.err);
	signer_close(&s);
}

/* A peer that fills its cache is refused; it cannot flush another's. */
TEST(replay_cache_is_bounded_per_apikeyid_and_refuses_when_full)
{
	char keys[512], form[64], first_b[1024];
	struct mc3_replay_counts counts;
	struct mc3_replay *r;
	struct signer s;
	int i;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\nb sha256 hex cr hex:%s\n", k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys));	/* 16 per id, window 300 */
	snprintf(first_b, sizeof(first_b), "%s", signed_request(&s, "tid=b&ici=x&user=u", "b", NOW));
	EXPECT_EQ(MC3_OK, verify_text(&s, first_b, MC3_FORM, NOW));
	for (i = 0; i < 16; i++) {
		snprintf(form, sizeof(form), "tid=%d&ici=x&user=u", i);
		EXPECT_EQ(MC3_OK, verify_text(&s, signed_request(&s, form, "a", NOW), MC3_FORM, NOW));
	}
	EXPECT_EQ(MC3_EFULL, verify_text(&s, signed_request(&s, "tid=x&ici=x&user=u", "a", NOW),
					 MC3_FORM, NOW + 10));
	/* b's entry survived a's flood, and b still has room. */
	EXPECT_EQ(MC3_EREPLAY, verify_text(&s, first_b, MC3_FORM, NOW + 10));
	EXPECT_EQ(MC3_OK, verify_text(&s, signed_request(&s, "tid=c&ici=x&user=u", "b", NOW),
				      MC3_FORM, NOW + 10));
	/* Once a's entries expire, a is served again. */
	EXPECT_EQ(MC3_OK, verify_text(&s, signed_request(&s, "tid=x&ici=x&user=u", "a", NOW),
				      MC3_FORM, NOW + 300));
	signer_close(&s);

	EXPECT_EQ(NULL, mc3_replay_new(300, MC3_REPLAY_MAX + 1));
	EXPECT_EQ(NULL, mc3_replay_new(0, 16));
	r = mc3_replay_new(300, 16);
	ASSERT_NE(NULL, r);
	mc3_replay_counts(r, &counts);
	EXPECT_EQ(0, counts.remembered);
	mc3_replay_free(r);
}

/* v2: a replay is refused for the whole window, however many came between. */
TEST(v2_replay_inside_the_window_is_refused_after_70000_others)
{
	char keys[512], form[64], first[1024];
	struct mc3_replay_counts counts;
	struct mc3_replay *r;
	struct mc3_keystore *ks;
	struct mc3_ctx *ctx;
	struct signer s;
	int i;

	snprintf(keys, sizeof(keys), "v sha256 hex v2 hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	ASSERT_EQ(0, mc3_keystore_parse(keys, strlen(keys), &ks, s.err, sizeof(s.err)));
	r = mc3_replay_new(300, 100000);
	ASSERT_NE(NULL, r);
	ctx = mc3_ctx_new_shared(ks, r);
	ASSERT_NE(NULL, ctx);
	snprintf(first, sizeof(first), "%s", signed_request(&s, "tid=first&ici=x&user=u", "v", NOW));
	EXPECT_EQ(MC3_OK, verify_in(ctx, first, NOW));
	for (i = 0; i < 70000; i++) {
		snprintf(form, sizeof(form), "tid=%d&ici=x&user=u", i);
		ASSERT_EQ(MC3_OK, verify_in(ctx, signed_request(&s, form, "v", NOW), NOW + i / 1000));
	}
	EXPECT_EQ(MC3_EREPLAY, verify_in(ctx, first, NOW + 299));
	mc3_replay_counts(r, &counts);
	EXPECT_EQ(70001, counts.remembered);
	EXPECT_EQ(0, counts.refused_full);
	mc3_ctx_free(ctx);
	mc3_replay_free(r);
	mc3_keystore_free(ks);
	signer_close(&s);
}

/* One cache for every context; a key-store reload forgets nothing. */
TEST(replay_cache_is_shared_by_contexts_and_outlives_a_key_reload)
{
	char keys[512], first[1024];
	struct mc3_keystore *ks1, *ks2;
	struct mc3_ctx *ctx1, *ctx2;
	struct mc3_replay *r;
	struct signer s;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(first, sizeof(first), "%s", signed_request(&s, "tid=1&ici=x&user=u", "a", NOW));
	ASSERT_EQ(0, mc3_keystore_parse(keys, strlen(keys), &ks1, s.err, sizeof(s.err)));
	r = mc3_replay_new(300, 16);
	ctx1 = mc3_ctx_new_shared(ks1, r);
	ASSERT_NE(NULL, ctx1);
	EXPECT_EQ(MC3_OK, verify_in(ctx1, first, NOW));
	/* Keys rotated: the old store goes, a new one comes, the cache stays. */
	mc3_ctx_free(ctx1);
	mc3_keystore_free(ks1);
	ASSERT_EQ(0, mc3_keystore_parse(keys, strlen(keys), &ks2, s.err, sizeof(s.err)));
	ctx2 = mc3_ctx_new_shared(ks2, r);
	ASSERT_NE(NULL, ctx2);
	EXPECT_EQ(MC3_EREPLAY, verify_in(ctx2, first, NOW + 1));
	mc3_ctx_free(ctx2);
	mc3_replay_free(r);
	mc3_keystore_free(ks2);
	signer_close(&s);
}

/* A journal keeps the cache across a restart, and drops what expired. */
TEST(replay_journal_survives_a_restart)
{
	char keys[512], first[1024], second[1024], dir[] = "/tmp/mc3-journal-XXXXXX", path[64];
	struct mc3_replay_counts counts;
	struct mc3_replay *r;
	struct mc3_ctx *ctx;
	struct stat st;
	struct signer s;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(first, sizeof(first), "%s", signed_request(&s, "tid=1&ici=x&user=u", "a", NOW));
	snprintf(second, sizeof(second), "%s", signed_request(&s, "tid=2&ici=x&user=u", "a", NOW));
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/replay", dir);

	r = mc3_replay_new(300, 16);
	ASSERT_EQ(0, mc3_replay_journal(r, path, NOW, s.err, sizeof(s.err)));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	ctx = mc3_ctx_new_shared(s.ks, r);
	EXPECT_EQ(MC3_OK, verify_in(ctx, first, NOW));
	EXPECT_EQ(MC3_OK, verify_in(ctx, second, NOW + 200));
	mc3_ctx_free(ctx);
	mc3_replay_free(r);

	/* Restarted 100 s later: both still refused. */
	r = mc3_replay_new(300, 16);
	ASSERT_EQ(0, mc3_replay_journal(r, path, NOW + 100, s.err, sizeof(s.err)));
	ctx = mc3_ctx_new_shared(s.ks, r);
	EXPECT_EQ(MC3_EREPLAY, verify_in(ctx, first, NOW + 100));
	EXPECT_EQ(MC3_EREPLAY, verify_in(ctx, second, NOW + 100));
	EXPECT_EQ(MC3_EINVAL, mc3_replay_journal(r, path, NOW + 100, s.err, sizeof(s.err)));
	mc3_ctx_free(ctx);
	mc3_replay_free(r);

	/* Restarted at NOW + 400: the first expired and is dropped, the second kept. */
	r = mc3_replay_new(300, 16);
	ASSERT_EQ(0, mc3_replay_journal(r, path, NOW + 400, s.err, sizeof(s.err)));
	mc3_replay_counts(r, &counts);
	EXPECT_EQ(1, counts.remembered);
	ctx = mc3_ctx_new_shared(s.ks, r);
	EXPECT_EQ(MC3_EREPLAY, verify_in(ctx, second, NOW + 400));
	mc3_ctx_free(ctx);
	mc3_replay_free(r);

	/* Not a journal: refused, not overwritten. */
	ASSERT_EQ(0, truncate(path, 3));
	r = mc3_replay_new(300, 16);
	EXPECT_EQ(MC3_EIO, mc3_replay_journal(r, path, NOW, s.err, sizeof(s.err)));
	EXPECT_NE(NULL, strstr(s.err, "not a replay journal"));
	mc3_replay_free(r);
	unlink(path);
	rmdir(dir);
	signer_close(&s);
}

/* The cache against a plain model: (tid, expiry) pairs, 16 at most. */
TEST(replay_cache_matches_a_model)
{
	char keys[512], form[64], signed_req[1024];
	int tids[16], n = 0, i, j, tid, seen, want;
	long long expiry[16], now = NOW;
	struct signer s;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));	/* 16 per id, window 300 */
	srand(42);
	for (i = 0; i < 5000; i++) {
		now += rand() % 40;
		/* The model forgets in order: cr's expiries come in order. */
		while (n && expiry[0] <= now) {
			memmove(tids, tids + 1, --n * sizeof(tids[0]));
			memmove(expiry, expiry + 1, n * sizeof(expiry[0]));
		}
		tid = rand() % 40;
		seen = 0;
		for (j = 0; j < n; j++)
			seen |= tids[j] == tid;
		want = seen ? MC3_EREPLAY : n == 16 ? MC3_EFULL : MC3_OK;
		snprintf(form, sizeof(form), "tid=%d&ici=x&user=u", tid);
		snprintf(signed_req, sizeof(signed_req), "%s", signed_request(&s, form, "a", NOW));
		ASSERT_EQ(want, verify_text(&s, signed_req, MC3_FORM, now))
			TH_LOG("step %d, tid %d", i, tid);
		if (want == MC3_OK) {
			tids[n] = tid;
			expiry[n++] = now + 300;
		}
	}
	signer_close(&s);
}

/* As ssh's StrictModes: a key store another user owns could be rewritten. */
TEST(key_store_of_another_user_is_refused)
{
	char dir[] = "/tmp/mc3-own-XXXXXX", path[64], line[128], err[512];
	struct mc3_keystore *ks;
	int fd;

	if (geteuid())
		SKIP(return, "needs root, to chown the key store to another user");
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	snprintf(line, sizeof(line), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ((ssize_t)strlen(line), write(fd, line, strlen(line)));
	close(fd);
	ASSERT_EQ(0, chown(path, 1000, 1000));
	EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_load(path, &ks, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, path)) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "owned by uid 1000")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "euid 0")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "chown")) TH_LOG("%s", err);
	/* Root's own file: accepted. */
	ASSERT_EQ(0, chown(path, 0, 0));
	EXPECT_EQ(0, mc3_keystore_load(path, &ks, err, sizeof(err))) TH_LOG("%s", err);
	mc3_keystore_free(ks);
	unlink(path);
	rmdir(dir);
}

/* A key store edited on Windows: CRLF is a line end, a lone CR is an error. */
TEST(crlf_line_ends_are_accepted_and_lone_cr_refused)
{
	static const char *const bad[][2] = {
		{ "a sha256 hex cr hex:%s\r\nb sha256\rhex cr hex:%s\n",
		  "line 2: a carriage return" },
		/* Old Mac line ends: one comment line, hiding the key. */
		{ "# keys\rb sha256 hex cr hex:%s\r", "line 1: a carriage return" },
		{ "# keys\r\na sha256 hex cr hex:%s\r", "line 2: a carriage return" },
		{ "a sha256 hex cr hex:%s\r\r\n", "line 1: a carriage return" },
	};
	char keys[512], lf_sig[256];
	struct mc3_keystore *ks;
	struct signer s;
	size_t i;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\nb sha256 hex cr hex:%s\n", k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys)) TH_LOG("%s", s.err);
	snprintf(lf_sig, sizeof(lf_sig), "%s", sign_pair(&s, "tid=Hi&ici=+There&user=u", "b"));
	signer_close(&s);

	snprintf(keys, sizeof(keys), "# keys\r\na sha256 hex cr hex:%s\r\n\r\n"
		 "b sha256 hex cr hex:%s # the second\r\n", k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys)) TH_LOG("%s", s.err);
	EXPECT_STREQ(lf_sig, sign_pair(&s, "tid=Hi&ici=+There&user=u", "b"));
	EXPECT_STREQ("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", lf_sig);
	signer_close(&s);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(keys, sizeof(keys), bad[i][0], k0b, k0b);
		EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_parse(keys, strlen(keys), &ks, s.err, sizeof(s.err)));
		EXPECT_NE(NULL, strstr(s.err, bad[i][1])) TH_LOG("case %zu: %s", i, s.err);
	}
}

/* A key line of n octets in encoding enc ("hex" or "base64"). */
static void key_line(char *out, size_t size, const char *enc, size_t n)
{
	unsigned char key[1100];
	size_t i, at;

	for (i = 0; i < n; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	at = snprintf(out, size, "a sha256 hex cr %s:", enc);
	if (enc[0] == 'h') {
		for (i = 0; i < n; i++)
			at += snprintf(out + at, size - at, "%02x", key[i]);
	} else {
		at += EVP_EncodeBlock((unsigned char *)out + at, key, n);
	}
	snprintf(out + at, size - at, "\n");
}

/* 16 to 1024 octets, whatever the encoding, and the error says so. */
TEST(key_size_limit_is_the_same_in_hex_and_base64)
{
	static const char *const encs[] = { "hex", "base64" };
	char line[2400], err[256], sig[2][256];
	struct mc3_keystore *ks;
	struct signer s;
	size_t e, n;

	for (e = 0; e < 2; e++) {
		/* 1025 and 1026: one '=' and none in base64. */
		for (n = 1025; n <= 1026; n++) {
			char want[80];

			key_line(line, sizeof(line), encs[e], n);
			EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_parse(line, strlen(line), &ks, err,
							 sizeof(err)));
			snprintf(want, sizeof(want),
				 "line 1: the key has %zu octets; at most 1024 are allowed", n);
			EXPECT_STREQ(want, err) TH_LOG("%s, %zu octets", encs[e], n);
		}
		key_line(line, sizeof(line), encs[e], 15);
		EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_parse(line, strlen(line), &ks, err, sizeof(err)));
		EXPECT_STREQ("line 1: the key has 15 octets; at least 16 are needed", err);
		/* 1024 ("==" in base64): accepted, the same key either way. */
		key_line(line, sizeof(line), encs[e], 1024);
		ASSERT_EQ(0, signer_open(&s, line)) TH_LOG("%s: %s", encs[e], s.err);
		snprintf(sig[e], sizeof(sig[e]), "%s", sign_pair(&s, "tid=1&ici=x&user=u", "a"));
		EXPECT_NE(0, sig[e][0]);
		signer_close(&s);
	}
	EXPECT_STREQ(sig[0], sig[1]);
}

/*
 * Whether a key store of one key with these validity tokens signs at t:
 * 1 or 0, -1 if it does not parse.
 */
static int signs_at(const char *validity, time_t t)
{
	struct mc3_request *req;
	char keys[256], err[256];
	struct signer s;
	int ret;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s %s\n", k0b, validity);
	if (signer_open(&s, keys))
		return -1;
	ret = !mc3_request_parse("tid=1&ici=x&user=u", 18, MC3_FORM, 0, &req, err, sizeof(err)) &&
	      !mc3_sign(s.ctx, req, "a", t, err, sizeof(err));
	mc3_request_free(req);
	signer_close(&s);
	return ret;
}

TEST(validity_in_iso_8601_and_unix_seconds_agree)
{
	static const struct { const char *iso; long long unix_s; } times[] = {
		{ "2026-11-23T02:13:20Z", NOW },
		{ "1970-01-01T00:00:01Z", 1 },
		{ "2000-02-29T00:00:00Z", 951782400 },	/* a leap day */
		{ "2100-03-01T00:00:00Z", 4107542400 },	/* 2100 is not leap */
		{ "9999-12-31T23:59:59Z", 253402300799 },
	};
	char iso[64], unix_s[64];
	size_t i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		time_t t = times[i].unix_s;

		snprintf(iso, sizeof(iso), "not-before=%s", times[i].iso);
		snprintf(unix_s, sizeof(unix_s), "not-before=%lld", times[i].unix_s);
		EXPECT_EQ(0, signs_at(iso, t - 1)) TH_LOG("%s", iso);
		EXPECT_EQ(1, signs_at(iso, t)) TH_LOG("%s", iso);
		EXPECT_EQ(0, signs_at(unix_s, t - 1)) TH_LOG("%s", unix_s);
		EXPECT_EQ(1, signs_at(unix_s, t)) TH_LOG("%s", unix_s);
		snprintf(iso, sizeof(iso), "not-after=%s", times[i].iso);
		snprintf(unix_s, sizeof(unix_s), "not-after=%lld", times[i].unix_s);
		EXPECT_EQ(1, signs_at(iso, t - 1)) TH_LOG("%s", iso);
		EXPECT_EQ(0, signs_at(iso, t)) TH_LOG("%s", iso);
		EXPECT_EQ(1, signs_at(unix_s, t - 1)) TH_LOG("%s", unix_s);
		EXPECT_EQ(0, signs_at(unix_s, t)) TH_LOG("%s", unix_s);
	}
	/* Both bounds, either order; the local time zone plays no part. */
	setenv("TZ", "XYZ-5", 1);
	tzset();
	EXPECT_EQ(1, signs_at("not-after=1795400010 not-before=2026-11-23T02:13:20Z", NOW + 9));
	EXPECT_EQ(0, signs_at("not-after=1795400010 not-before=2026-11-23T02:13:20Z", NOW + 10));
	EXPECT_EQ(0, signs_at("not-before=2026-11-23T02:13:20Z not-after=1795400010", NOW - 1));
	unsetenv("TZ");
	tzset();
}

TEST(validity_tokens_are_checked)
{
	static const char *const bad[][2] = {
		{ "not-before=1 not-before=2", "line 1: not-before given twice" },
		{ "not-after=1 not-after=2", "line 1: not-after given twice" },
		{ "not-before=10 not-after=10", "line 1: not-after must be later than not-before" },
		{ "not-after=5 not-before=10", "not-after must be later" },
		{ "not-before=", "not-before '' is not UNIX seconds or YYYY-MM-DDTHH:MM:SSZ" },
		{ "not-before=-5", "not-before '-5' is not UNIX seconds" },
		{ "not-before=+5", "is not UNIX seconds" },
		{ "not-before=12a", "is not UNIX seconds" },
		{ "not-after=99999999999999999999", "is not UNIX seconds" },
		{ "not-before=2026-02-29T00:00:00Z", "is not UNIX seconds" },	/* not leap */
		{ "not-before=2026-11-23T24:00:00Z", "is not UNIX seconds" },
		{ "not-before=2026-11-23T23:59:60Z", "is not UNIX seconds" },	/* leap second */
		{ "not-before=2026-13-01T00:00:00Z", "is not UNIX seconds" },
		{ "not-before=2026-11-23t02:13:20z", "is not UNIX seconds" },
		{ "not-before=2026-11-23T02:13:20", "is not UNIX seconds" },
		{ "not-before=2026-11-23T02:13:20+00:00", "is not UNIX seconds" },
		{ "not-before=2026-11-23 02:13:20Z",
		  "not-before '2026-11-23' is not UNIX seconds" },
		{ "expires=5", "line 1: expected APIKEYID HASH ENCODING PROFILE KEY "
			       "[not-before=T] [not-after=T]" },
		{ "NOT-BEFORE=5", "[not-before=T] [not-after=T]" },
		{ "not-before=1 not-after=2 x", "[not-before=T] [not-after=T]" },
	};
	struct mc3_keystore *ks;
	char keys[256], err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s %s\n", k0b, bad[i][0]);
		EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_parse(keys, strlen(keys), &ks, err, sizeof(err)));
		EXPECT_NE(NULL, strstr(err, bad[i][1])) TH_LOG("%s -> %s", bad[i][0], err);
	}
	EXPECT_EQ(1, signs_at("not-before=2024-02-29T00:00:00Z", NOW));
	EXPECT_EQ(1, signs_at("not-before=0 not-after=9223372036854775807", NOW));
}

/* Rotation with dates: a key not yet valid does not sign; the next one does. */
TEST(sign_uses_the_first_key_valid_now)
{
	static const char new_key[] = "00112233445566778899aabbccddeeff";
	char keys[512], old_sig[256], new_sig[256];
	struct signer s;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(old_sig, sizeof(old_sig), "%s", sign_pair(&s, "tid=1&ici=x&user=u", "a"));
	signer_close(&s);
	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", new_key);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(new_sig, sizeof(new_sig), "%s", sign_pair(&s, "tid=1&ici=x&user=u", "a"));
	signer_close(&s);
	ASSERT_STRNE(old_sig, new_sig);

	/* The new key listed first, valid from NOW + 100; another id between. */
	snprintf(keys, sizeof(keys),
		 "a sha256 hex cr hex:%s not-before=1795400100\n"
		 "b sha256 hex cr hex:%s not-after=1795400000\n"
		 "a sha256 hex cr hex:%s not-after=2026-11-23T02:15:00Z\n",
		 new_key, k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys)) TH_LOG("%s", s.err);
	EXPECT_STREQ(old_sig, sign_pair(&s, "tid=1&ici=x&user=u", "a"));
	EXPECT_STREQ(old_sig, strstr(signed_request(&s, "tid=1&ici=x&user=u", "a", NOW + 99),
				     "signature=") + 10);
	EXPECT_STREQ(new_sig, strstr(signed_request(&s, "tid=1&ici=x&user=u", "a", NOW + 100),
				     "signature=") + 10);
	/* Keys of the id, none valid now: said so, unlike an unknown id. */
	EXPECT_STREQ("", sign_pair(&s, "tid=1&ici=x&user=u", "b"));
	EXPECT_STREQ("no key with apikeyid 'b' is valid now", s.err);
	EXPECT_STREQ("", sign_pair(&s, "tid=1&ici=x&user=u", "c"));
	EXPECT_STREQ("no key with apikeyid 'c' in the key store", s.err);
	signer_close(&s);
}

/* An expired key verifies nothing, with the words of a bad signature. */
TEST(verify_ignores_keys_out_of_their_validity)
{
	char keys[512], req[1024];
	struct signer s;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(req, sizeof(req), "%s", signed_request(&s, "tid=1&ici=x&user=u", "a", NOW));
	signer_close(&s);

	snprintf(keys, sizeof(keys),
		 "a sha256 hex cr hex:00112233445566778899aabbccddeeff\n"
		 "b sha256 hex cr hex:%s\n"
		 "a sha256 hex cr hex:%s not-before=1795399000 not-after=1795400000\n", k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys)) TH_LOG("%s", s.err);
	EXPECT_EQ(MC3_EAUTH, verify_text(&s, req, MC3_FORM, NOW));
	EXPECT_STREQ("signature does not verify", s.err);
	EXPECT_EQ(MC3_EAUTH, verify_text(&s, req, MC3_FORM, 1795398999));
	EXPECT_STREQ("signature does not verify", s.err);
	/* Within its validity it still verifies. */
	EXPECT_EQ(MC3_OK, verify_text(&s, req, MC3_FORM, NOW - 1));
	signer_close(&s);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/*
 * An unknown apikeyid must not be told from a known one by the time it
 * takes: it costs what the costliest id costs (here "big", two SHA-512 v2
 * keys, against "small", one SHA-1 cr key). Medians of one run,
 * interleaved, so that only the ratio counts, not the machine's speed or
 * load.
 */
#define TIMING_RUNS 2000
TEST(unknown_id_costs_as_much_as_the_costliest)
{
	static long t[3][TIMING_RUNS];
	static const char *const ids[3] = { "zzz", "big", "sml" };
	char keys[1024], text[512], sig[129];
	struct mc3_request *req[3];
	double ratio, small;
	struct signer s;
	int j, r;

	snprintf(keys, sizeof(keys),
		 "sml sha1 hex cr hex:%s\n"
		 "big sha512 hex v2 hex:%s\n"
		 "mid sha256 hex cr hex:%s\n"
		 "big sha512 hex v2 hex:00112233445566778899aabbccddeeff\n", k0b, k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys)) TH_LOG("%s", s.err);
	/* A well-formed SHA-512 hex signature that is wrong for every key. */
	memset(sig, 'a', 128);
	sig[128] = '\0';
	for (j = 0; j < 3; j++) {
		snprintf(text, sizeof(text), "tid=1&ici=abc&user=u&ts=%d&apikeyid=%s&signature=%s",
			 NOW, ids[j], sig);
		ASSERT_EQ(0, mc3_request_parse(text, strlen(text), MC3_FORM, 0, &req[j], s.err,
					       sizeof(s.err))) TH_LOG("%s", s.err);
	}
	for (r = -200; r < TIMING_RUNS; r++) {
		for (j = 0; j < 3; j++) {
			/* Rotate the order: no id always runs on a warm cache. */
			int k = (j + r + 300) % 3;
			long t0 = now_ns();

			ASSERT_EQ(MC3_EAUTH, mc3_verify(s.ctx, req[k], NOW, s.err, sizeof(s.err)));
			if (r >= 0)
				t[k][r] = now_ns() - t0;
		}
	}
	for (j = 0; j < 3; j++) {
		qsort(t[j], TIMING_RUNS, sizeof(t[j][0]), cmp_long);
		mc3_request_free(req[j]);
	}
	ratio = (double)t[0][TIMING_RUNS / 2] / t[1][TIMING_RUNS / 2];
	small = (double)t[2][TIMING_RUNS / 2] / t[1][TIMING_RUNS / 2];
	TH_LOG("median ns: unknown %ld, costliest %ld, cheapest %ld; unknown/costliest %.3f, "
	       "cheapest/costliest %.3f", t[0][TIMING_RUNS / 2], t[1][TIMING_RUNS / 2],
	       t[2][TIMING_RUNS / 2], ratio, small);
	EXPECT_TRUE(ratio >= 0.8 && ratio <= 1.25);
	signer_close(&s);
}

/* A request built field by field is the one parsed, and signs the same. */
TEST(request_built_from_fields)
{
	const char *name, *value, *text = "tid=1&ici=abc&user=u&cc=fr&colour=red";
	struct mc3_request *built = mc3_request_new(), *parsed;
	char err[256], *a, *b;
	struct signer s;
	size_t i;

	ASSERT_NE(NULL, built);
	EXPECT_EQ(MC3_OK, mc3_request_set(built, "tid", "1", 1, 0, err, sizeof(err)));
	EXPECT_EQ(MC3_OK, mc3_request_set(built, "ici", "abc", 3, 0, err, sizeof(err)));
	EXPECT_EQ(MC3_OK, mc3_request_set(built, "user", "x", 1, 0, err, sizeof(err)));
	EXPECT_EQ(MC3_OK, mc3_request_set(built, "user", "u", 1, 0, err, sizeof(err)));
	EXPECT_EQ(MC3_OK, mc3_request_set(built, "cc", "fr", 2, 0, err, sizeof(err)));
	/* Refused by the parser's rules, and nothing changes. */
	EXPECT_EQ(MC3_EINVAL, mc3_request_set(built, "cc", "XX", 2, 0, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "field 'cc'"));
	EXPECT_EQ(MC3_EINVAL, mc3_request_set(built, "tid", "a\nb", 3, 0, err, sizeof(err)));
	EXPECT_EQ(MC3_EINVAL, mc3_request_set(built, "tid", "a\0b", 3, 0, err, sizeof(err)));
	EXPECT_EQ(MC3_EINVAL, mc3_request_set(built, "colour", "red", 3, 0, err, sizeof(err)));
	EXPECT_EQ(MC3_OK, mc3_request_set(built, "colour", "blue", 4, MC3_PASS_UNKNOWN, err,
					  sizeof(err)));
	EXPECT_EQ(MC3_OK, mc3_request_set(built, "colour", "red", 3, MC3_PASS_UNKNOWN, err,
					  sizeof(err)));
	EXPECT_STREQ("fr", mc3_request_get(built, "cc"));
	EXPECT_STREQ("1", mc3_request_get(built, "tid"));

	ASSERT_EQ(MC3_OK, mc3_request_parse(text, strlen(text), MC3_FORM, MC3_PASS_UNKNOWN,
					    &parsed, err, sizeof(err)));
	a = mc3_request_write(built, MC3_FORM);
	b = mc3_request_write(parsed, MC3_FORM);
	EXPECT_STREQ(b, a);
	free(a);
	free(b);
	ASSERT_EQ(5, mc3_request_fields(built));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(MC3_OK, mc3_request_field(built, i, &name, &value));
		EXPECT_STREQ(mc3_request_get(parsed, name), value);
	}
	EXPECT_STREQ("colour", name);
	EXPECT_EQ(MC3_EINVAL, mc3_request_field(built, 5, &name, &value));

	ASSERT_EQ(0, signer_open(&s, "a sha256 hex cr hex:0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\n"));
	EXPECT_EQ(MC3_OK, mc3_sign(s.ctx, built, "a", NOW, err, sizeof(err)));
	EXPECT_EQ(MC3_OK, mc3_sign(s.ctx, parsed, "a", NOW, err, sizeof(err)));
	EXPECT_STREQ(mc3_request_get(parsed, "signature"), mc3_request_get(built, "signature"));
	signer_close(&s);
	mc3_request_free(built);
	mc3_request_free(parsed);

	/* A built request without tid cannot be signed. */
	built = mc3_request_new();
	ASSERT_EQ(0, signer_open(&s, "a sha256 hex cr hex:0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\n"));
	EXPECT_EQ(MC3_EINVAL, mc3_sign(s.ctx, built, "a", NOW, err, sizeof(err)));
	EXPECT_STREQ("field 'tid' is missing", err);
	EXPECT_EQ(MC3_EINVAL, mc3_verify(s.ctx, built, NOW, err, sizeof(err)));
	signer_close(&s);
	mc3_request_free(built);
}

/* Every status has its words; an unknown one says so. */
TEST(every_status_has_words)
{
	int i;

	for (i = MC3_OK; i <= MC3_ECRYPTO; i++)
		EXPECT_STRNE("unknown status", mc3_strerror(i)) TH_LOG("status %d", i);
	EXPECT_STREQ("signature does not verify", mc3_strerror(MC3_EAUTH));
	EXPECT_STREQ("unknown status", mc3_strerror(-1));
	EXPECT_STREQ("unknown status", mc3_strerror(MC3_ECRYPTO + 1));
	EXPECT_STREQ(MC3_VERSION, mc3_version());
}

/* Keys from raw octets, with a configuration of the caller's OpenSSL. */
TEST(key_store_from_raw_octets_and_a_library_context)
{
	static const unsigned char key[20] = {
		11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
	};
	struct mc3_key_params kp = {
		.size = sizeof(kp), .apikeyid = "a", .hash = "sha256", .encoding = "hex",
		.profile = "cr", .key = key, .key_len = sizeof(key),
	};
	struct mc3_config cfg = MC3_CONFIG_INIT, fips = MC3_CONFIG_INIT, old = { 0 };
	char sig[256], err[256];
	struct mc3_keystore *ks;
	struct mc3_ctx *ctx;

	cfg.libctx = OSSL_LIB_CTX_new();
	ASSERT_NE(NULL, cfg.libctx);
	ASSERT_EQ(MC3_OK, mc3_keystore_new(&cfg, &ks));
	EXPECT_EQ(MC3_OK, mc3_keystore_add(ks, &kp, err, sizeof(err)));
	kp.key_len = 15;
	EXPECT_EQ(MC3_EINVAL, mc3_keystore_add(ks, &kp, err, sizeof(err)));
	kp.key_len = sizeof(key);
	kp.hash = "md5";
	EXPECT_EQ(MC3_EINVAL, mc3_keystore_add(ks, &kp, err, sizeof(err)));
	kp.hash = "sha256";
	kp.apikeyid = "a b";
	EXPECT_EQ(MC3_EINVAL, mc3_keystore_add(ks, &kp, err, sizeof(err)));
	ctx = mc3_ctx_new(ks, 16, 300);
	ASSERT_NE(NULL, ctx);
	/* RFC 4231 case 1, through the _cr functions. */
	EXPECT_EQ(MC3_OK, mc3_sign_cr(ctx, "a", "Hi", " There", NOW, sig, sizeof(sig), err,
				      sizeof(err)));
	EXPECT_STREQ("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", sig);
	EXPECT_EQ(MC3_OK, mc3_verify_cr(ctx, "a", "Hi", " There", sig, NOW, err, sizeof(err)));
	EXPECT_EQ(MC3_EREPLAY, mc3_verify_cr(ctx, "a", "Hi ", "There", sig, NOW, err, sizeof(err)));
	EXPECT_EQ(MC3_EAUTH, mc3_verify_cr(ctx, "a", "Hi", "There", sig, NOW, err, sizeof(err)));
	EXPECT_EQ(MC3_ENOKEY, mc3_sign_cr(ctx, "b", "Hi", " There", NOW, sig, sizeof(sig), err,
					  sizeof(err)));
	/* Keys are added before a context is made over the store. */
	kp.apikeyid = "b";
	EXPECT_EQ(MC3_EINVAL, mc3_keystore_add(ks, &kp, err, sizeof(err)));
	mc3_ctx_free(ctx);
	mc3_keystore_free(ks);

	/* The properties are the caller's: no FIPS provider here, no HMAC. */
	fips.libctx = cfg.libctx;
	fips.propq = "fips=yes";
	EXPECT_EQ(MC3_ECRYPTO, mc3_keystore_new(&fips, &ks));
	/* A caller's struct from before libctx existed: the defaults. */
	old.size = sizeof(size_t);
	ASSERT_EQ(MC3_OK, mc3_keystore_new(&old, &ks));
	mc3_keystore_free(ks);
	OSSL_LIB_CTX_free(cfg.libctx);
}

/* A v2 key signs whole requests only; the signed part of a cr one is tid and ici. */
TEST(signed_part_and_cr_shortcuts_know_their_profile)
{
	char keys[512], err[256], sig[256], *text;
	struct mc3_request *req;
	struct signer s;
	const char *cr;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\nv sha256 hex v2 hex:%s\n", k0b, k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	EXPECT_EQ(MC3_EINVAL, mc3_sign_cr(s.ctx, "v", "1", "x", NOW, sig, sizeof(sig), err,
					  sizeof(err)));
	cr = signed_request(&s, "tid=5&ici=x&user=u&cc=fr", "a", NOW);
	ASSERT_EQ(MC3_OK, mc3_request_parse(cr, strlen(cr), MC3_FORM, 0, &req, err, sizeof(err)));
	EXPECT_EQ(NULL, mc3_request_write_signed(s.ctx, req, MC3_FORM));
	ASSERT_EQ(MC3_OK, mc3_verify(s.ctx, req, NOW, err, sizeof(err)));
	text = mc3_request_write_signed(s.ctx, req, MC3_FORM);
	EXPECT_STREQ("tid=5&ici=x", text);
	free(text);
	text = mc3_request_write_signed(s.ctx, req, MC3_JSON);
	EXPECT_STREQ("{\"tid\":\"5\",\"ici\":\"x\"}", text);
	free(text);
	EXPECT_EQ(MC3_EREPLAY, mc3_verify(s.ctx, req, NOW, err, sizeof(err)));
	EXPECT_EQ(NULL, mc3_request_write_signed(s.ctx, req, MC3_FORM));
	mc3_request_free(req);
	signer_close(&s);
}

/* Found in review: a clock that steps back must not revive an expired MAC. */
TEST(a_clock_stepping_back_revives_no_replay)
{
	char keys[512], first[1024], later[1024], err[256];
	struct signer s;

	snprintf(keys, sizeof(keys), "v sha256 hex v2 hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	snprintf(first, sizeof(first), "%s", signed_request(&s, "tid=1&ici=x&user=u", "v", NOW));
	snprintf(later, sizeof(later), "%s",
		 signed_request(&s, "tid=2&ici=x&user=u", "v", NOW + 301));
	EXPECT_EQ(MC3_OK, verify_text(&s, first, MC3_FORM, NOW));
	/* Another thread's later clock expires the first one's entry... */
	EXPECT_EQ(MC3_OK, verify_text(&s, later, MC3_FORM, NOW + 301));
	/* ...and a clock one second behind it does not take it back. */
	EXPECT_EQ(MC3_ESTALE, verify_text(&s, first, MC3_FORM, NOW + 300));
	snprintf(err, sizeof(err), "%s", s.err);
	EXPECT_NE(NULL, strstr(err, "the clock went back"));
	signer_close(&s);
}

/* Found in review: what write_signed hands on is what the MAC covered. */
TEST(write_signed_refuses_a_request_changed_since)
{
	char keys[512], err[256];
	struct mc3_request *req;
	struct signer s;
	const char *text;

	snprintf(keys, sizeof(keys), "a sha256 hex cr hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	text = signed_request(&s, "tid=42&ici=x&user=u", "a", NOW);
	ASSERT_EQ(MC3_OK, mc3_request_parse(text, strlen(text), MC3_FORM, 0, &req, err, sizeof(err)));
	ASSERT_EQ(MC3_OK, mc3_verify(s.ctx, req, NOW, err, sizeof(err)));
	ASSERT_EQ(MC3_OK, mc3_request_set(req, "ici", "EVIL", 4, 0, err, sizeof(err)));
	EXPECT_EQ(NULL, mc3_request_write_signed(s.ctx, req, MC3_FORM));
	/* Changed back: it is what was signed again. */
	ASSERT_EQ(MC3_OK, mc3_request_set(req, "ici", "x", 1, 0, err, sizeof(err)));
	free((void *)(text = mc3_request_write_signed(s.ctx, req, MC3_FORM)));
	EXPECT_NE(NULL, text);
	/* A user field is not signed by cr: changing it changes nothing signed. */
	ASSERT_EQ(MC3_OK, mc3_request_set(req, "user", "v", 1, 0, err, sizeof(err)));
	free((void *)(text = mc3_request_write_signed(s.ctx, req, MC3_FORM)));
	EXPECT_NE(NULL, text);
	mc3_request_free(req);
	signer_close(&s);
}

/*
 * Requests 0..n-1 signed by s at NOW, verified at now in a fresh cache over
 * the journal at path: how many got verdict, or -1 if the journal failed.
 */
static int journal_count(struct signer *s, const char *path, unsigned int window,
			 unsigned int per_id, int n, int64_t now, int verdict)
{
	struct mc3_replay *r = mc3_replay_new(window, per_id);
	struct mc3_ctx *ctx;
	char form[64];
	int i, count = 0;

	if (!r || mc3_replay_journal(r, path, now, s->err, sizeof(s->err))) {
		mc3_replay_free(r);
		return -1;
	}
	ctx = mc3_ctx_new_shared(s->ks, r);
	for (i = 0; ctx && i < n; i++) {
		snprintf(form, sizeof(form), "tid=%d&ici=x&user=u", i);
		count += verify_in(ctx, signed_request(s, form, "v", NOW), now) == verdict;
	}
	mc3_ctx_free(ctx);
	mc3_replay_free(r);
	return count;
}

/* Found in review: a reload may not forget, whatever the new settings. */
TEST(journal_reload_forgets_nothing_unexpired)
{
	char keys[512], dir[] = "/tmp/mc3-reload-XXXXXX", path[64], link_path[80], victim[80];
	struct rlimit small = { 4096, RLIM_INFINITY };
	struct signer s;
	struct stat st;
	int fd, ok;

	snprintf(keys, sizeof(keys), "v sha256 hex v2 hex:%s\n", k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/j", dir);

	/* A smaller per_id: all 100 kept all the same. */
	ASSERT_EQ(100, journal_count(&s, path, 60, 100, 100, NOW, MC3_OK));
	EXPECT_EQ(100, journal_count(&s, path, 60, 50, 100, NOW + 10, MC3_EREPLAY));
	/* A larger window: kept for it (ts NOW, now NOW + 100 > NOW + 60). */
	EXPECT_EQ(100, journal_count(&s, path, 300, 100, 100, NOW + 100, MC3_EREPLAY));

	/* A full disk mid-record: cut back, and the later records still load. */
	unlink(path);
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &small));
	ok = journal_count(&s, path, 300, 1000, 300, NOW, MC3_OK);
	EXPECT_LT(0, ok);
	EXPECT_GT(300, ok);
	small.rlim_cur = RLIM_INFINITY;
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &small));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(ok, journal_count(&s, path, 300, 1000, 300, NOW + 1, MC3_EREPLAY)) TH_LOG("%s", s.err);

	/* Generations: after 2 x window + 1 s the file turns over, and stays small. */
	unlink(path);
	{
		struct mc3_replay *r = mc3_replay_new(60, 100);
		struct mc3_ctx *ctx;
		char prev[80];

		ASSERT_EQ(MC3_OK, mc3_replay_journal(r, path, NOW, s.err, sizeof(s.err)));
		ctx = mc3_ctx_new_shared(s.ks, r);
		EXPECT_EQ(MC3_OK, verify_in(ctx, signed_request(&s, "tid=a&ici=x&user=u", "v", NOW),
					    NOW));
		EXPECT_EQ(MC3_OK, verify_in(ctx, signed_request(&s, "tid=b&ici=x&user=u", "v",
								NOW + 122), NOW + 122));
		mc3_ctx_free(ctx);
		mc3_replay_free(r);
		snprintf(prev, sizeof(prev), "%s.prev", path);
		ASSERT_EQ(0, stat(prev, &st));	/* a's generation, expired */
		EXPECT_EQ(24 + 18, st.st_size);
		ASSERT_EQ(0, stat(path, &st));	/* b's */
		EXPECT_EQ(24 + 18, st.st_size);
		r = mc3_replay_new(60, 100);
		ASSERT_EQ(MC3_OK, mc3_replay_journal(r, path, NOW + 123, s.err, sizeof(s.err)));
		ctx = mc3_ctx_new_shared(s.ks, r);
		EXPECT_EQ(MC3_EREPLAY, verify_in(ctx, signed_request(&s, "tid=b&ici=x&user=u", "v",
								     NOW + 122), NOW + 123));
		mc3_ctx_free(ctx);
		mc3_replay_free(r);
		EXPECT_EQ(-1, stat(prev, &st));	/* gone once read */
	}

	/* The next file is made anew: never through a link, never another mode. */
	snprintf(link_path, sizeof(link_path), "%s.new", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(6, write(fd, "victim", 6));
	close(fd);
	ASSERT_EQ(0, symlink(victim, link_path));
	EXPECT_LE(0, journal_count(&s, path, 60, 100, 1, NOW, MC3_EREPLAY));
	ASSERT_EQ(0, stat(victim, &st));
	EXPECT_EQ(6, st.st_size);
	ASSERT_EQ(0, lstat(path, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 0777);
	fd = open(link_path, O_WRONLY | O_CREAT, 0666);
	ASSERT_LE(0, fd);
	fchmod(fd, 0666);
	close(fd);
	EXPECT_LE(0, journal_count(&s, path, 60, 100, 1, NOW, MC3_EREPLAY));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);

	/* Damage in the middle of a journal is said, not skipped. */
	fd = open(path, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(17, write(fd, "\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00", 17));
	ASSERT_EQ(40, write(fd, "0123456789012345678901234567890123456789", 40));
	close(fd);
	EXPECT_EQ(-1, journal_count(&s, path, 60, 100, 1, NOW, MC3_EREPLAY));
	EXPECT_NE(NULL, strstr(s.err, "damaged at offset"));

	snprintf(link_path, sizeof(link_path), "rm -rf %s", dir);
	EXPECT_EQ(0, system(link_path));
	signer_close(&s);
}

/* Found in review: where an id is listed must not change its cost. */
TEST(an_id_costs_the_same_wherever_it_is_listed)
{
	static long first_ns[1001], last_ns[1001];
	struct mc3_request *first, *last;
	char *keys = malloc(1000 * 96), err[256];
	struct signer s;
	size_t n = 0;
	int i;

	ASSERT_NE(NULL, keys);
	for (i = 0; i < 1000; i++)
		n += snprintf(keys + n, 96, "id%d sha256 hex cr hex:%s\n", i, k0b);
	ASSERT_EQ(0, signer_open(&s, keys));
	ASSERT_EQ(MC3_OK, mc3_request_parse("tid=1&ici=x&user=u&apikeyid=id0&signature=00", 44,
					    MC3_FORM, 0, &first, err, sizeof(err)));
	ASSERT_EQ(MC3_OK, mc3_request_parse("tid=1&ici=x&user=u&apikeyid=id999&signature=00", 46,
					    MC3_FORM, 0, &last, err, sizeof(err)));
	for (i = 0; i < 1001; i++) {
		long t0 = now_ns();

		mc3_verify(s.ctx, i % 2 ? first : last, NOW, err, sizeof(err));
		(i % 2 ? first_ns : last_ns)[i / 2] = now_ns() - t0;
	}
	qsort(first_ns, 500, sizeof(long), cmp_long);
	qsort(last_ns, 500, sizeof(long), cmp_long);
	TH_LOG("median: first listed %ld ns, last of 1000 %ld ns", first_ns[250], last_ns[250]);
	/* A linear scan made the last 70 times slower; a hash does not care. */
	EXPECT_LT(last_ns[250], 2 * first_ns[250]);
	EXPECT_LT(first_ns[250], 2 * last_ns[250]);
	mc3_request_free(first);
	mc3_request_free(last);
	signer_close(&s);
	free(keys);
}

/* Found in review: err may be NULL with errlen 0; no input raw in a message. */
TEST(errors_without_a_buffer_and_key_store_tokens_quoted)
{
	char dir[] = "/tmp/mc3-noerr-XXXXXX", path[64], err[256];
	struct mc3_keystore *ks;
	struct mc3_request *req;
	struct signer s;
	size_t len;
	FILE *f;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ks", dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("a \x1b[31mred sha256 hex cr hex:0b0b\n", f);
	fclose(f);
	ASSERT_EQ(0, chmod(path, 0600));
	EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_load(path, &ks, NULL, 0));
	EXPECT_EQ(MC3_EKEYSTORE, mc3_keystore_load(path, &ks, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "'\\x1b[31mred'"));
	unlink(path);
	rmdir(dir);

	/* A built request without ici: no signed bytes, not a crash. */
	ASSERT_EQ(0, signer_open(&s, "a sha256 hex cr hex:0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\n"));
	req = mc3_request_new();
	ASSERT_EQ(MC3_OK, mc3_request_set(req, "tid", "1", 1, 0, NULL, 0));
	EXPECT_EQ(NULL, mc3_signed_bytes(s.ctx, req, "a", &len));
	mc3_request_free(req);
	signer_close(&s);
}

/* Found in review: a config that ends after libctx still has it used. */
TEST(a_config_without_propq_still_gives_its_library_context)
{
	struct mc3_config cfg = MC3_CONFIG_INIT;
	struct mc3_keystore *ks = NULL;
	OSSL_PROVIDER *null;

	cfg.libctx = OSSL_LIB_CTX_new();
	ASSERT_NE(NULL, cfg.libctx);
	/* Only the null provider: no HMAC there, so the context shows. */
	null = OSSL_PROVIDER_load(cfg.libctx, "null");
	ASSERT_NE(NULL, null);
	cfg.size = offsetof(struct mc3_config, propq);
	EXPECT_EQ(MC3_ECRYPTO, mc3_keystore_new(&cfg, &ks));
	mc3_keystore_free(ks);
	OSSL_PROVIDER_unload(null);
	OSSL_LIB_CTX_free(cfg.libctx);
}

TEST_HARNESS_MAIN

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libmc3: sign and verify MC-3-RESOLVE_ICI requests (OMA Mobile Codes,
 * CMP to CMP) with HMAC, through OpenSSL 3.
 *
 * A request is a set of named string fields, read and written as
 * application/x-www-form-urlencoded or as a flat JSON object. A key store
 * holds the shared keys by apikeyid. A context signs and verifies; it keeps
 * the replay cache, so use one per thread. Nothing here is global.
 *
 * Two signature profiles, chosen per key:
 *   cr  HMAC over the bytes of tid immediately followed by those of ici, as
 *       the change request says. It cannot protect the other fields, and
 *       tid="ab" ici="c" signs the same as tid="a" ici="bc".
 *   v2  HMAC over a canonical text: one "name=value\n" line per field
 *       present (signature excepted), values percent-encoded, known fields
 *       in the table's order, then passed-through ones by name; it covers
 *       apikeyid and a timestamp ts, which must be within the window.
 * Signatures are lower-case hex (the only accepted hex form: one MAC, one
 * text) or standard base64 with padding, per key.
 */
#ifndef MC3_H
#define MC3_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MC3_API __attribute__((visibility("default")))

enum mc3_format {
	MC3_FORM,	/* application/x-www-form-urlencoded */
	MC3_JSON,	/* a flat JSON object of strings */
};

/* Parse flags. */
#define MC3_PASS_UNKNOWN	0x1	/* keep unknown fields instead of failing */

/* Results of mc3_verify; MC3_EAUTH for an unknown key id too. */
enum mc3_verdict {
	MC3_OK = 0,
	MC3_EAUTH,	/* no key of that id makes this signature */
	MC3_EREPLAY,	/* a verified request with a tid seen before */
	MC3_ESTALE,	/* v2: ts outside the window */
	MC3_EINVAL,	/* no apikeyid or signature, or a malformed one */
};

struct mc3_request;
struct mc3_keystore;
struct mc3_ctx;

/*
 * Parse a request; each field's rules are checked. Returns 0, or -1 with
 * the field and the reason in err.
 */
MC3_API int mc3_request_parse(const char *text, size_t len, enum mc3_format format,
			      unsigned int flags, struct mc3_request **out,
			      char *err, size_t errlen);
/* A field's value, or NULL. */
MC3_API const char *mc3_request_get(const struct mc3_request *req, const char *name);
/* The request as text (malloc'd, NUL-terminated, no newline), or NULL. */
MC3_API char *mc3_request_write(const struct mc3_request *req, enum mc3_format format);
MC3_API void mc3_request_free(struct mc3_request *req);

/*
 * Load a key store: one key a line, "APIKEYID HASH ENCODING PROFILE KEY
 * [not-before=T] [not-after=T]" with HASH sha1|sha256|sha384|sha512,
 * ENCODING hex|base64, PROFILE cr|v2 and KEY hex:... or base64:... (16 to
 * 1024 octets); '#' starts a comment; lines end in LF or CRLF. The key is
 * valid from not-before to just before not-after (default: always), T being
 * UNIX seconds or YYYY-MM-DDTHH:MM:SSZ (UTC). A file that group or others
 * may access, or that is owned by neither the effective uid nor root, is
 * refused. Returns 0, or -1 with the line and the reason in err.
 */
MC3_API int mc3_keystore_load(const char *path, struct mc3_keystore **out,
			      char *err, size_t errlen);
/* The same from memory, with no file permissions to check. */
MC3_API int mc3_keystore_parse(const char *text, size_t len, struct mc3_keystore **out,
			       char *err, size_t errlen);
MC3_API void mc3_keystore_free(struct mc3_keystore *ks);

/*
 * A context over a key store, which must outlive it. replay_slots bounds
 * the tids remembered (0: MC3_REPLAY_DEFAULT, at most MC3_REPLAY_MAX; 40
 * bytes each); window is v2's ts window in seconds (0: 300). NULL if out of
 * memory or replay_slots is too large.
 */
#define MC3_REPLAY_DEFAULT	65536
#define MC3_REPLAY_MAX		(1U << 24)
MC3_API struct mc3_ctx *mc3_ctx_new(const struct mc3_keystore *ks, unsigned int replay_slots,
				    unsigned int window);
MC3_API void mc3_ctx_free(struct mc3_ctx *ctx);

/*
 * Sign with the first key listed for apikeyid that is valid at now: sets
 * apikeyid and signature, and ts (now) for a v2 key. Returns 0, or -1 with
 * the reason in err.
 */
MC3_API int mc3_sign(struct mc3_ctx *ctx, struct mc3_request *req, const char *apikeyid,
		     time_t now, char *err, size_t errlen);

/*
 * Verify against every key listed for the request's apikeyid that is valid
 * at now; a request that verifies has its tid remembered. err says why not
 * (the same words for an unknown id, a key out of its validity and a bad
 * signature). An unknown id costs as much work as the costliest known one.
 */
MC3_API enum mc3_verdict mc3_verify(struct mc3_ctx *ctx, const struct mc3_request *req,
				    time_t now, char *err, size_t errlen);

/* The library's release, as "MAJOR.MINOR.PATCH" (the soname is libmc3.so.1). */
MC3_API const char *mc3_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MC3_H */

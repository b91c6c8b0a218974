/* SPDX-License-Identifier: MIT */
/*
 * libmc3: sign and verify MC-3-RESOLVE_ICI requests (OMA Mobile Codes,
 * CMP to CMP) with HMAC, through OpenSSL 3.
 *
 * A request is a set of named string fields, read and written as
 * application/x-www-form-urlencoded or as a flat JSON object, or built
 * field by field. A key store holds the shared keys by apikeyid. A context
 * signs and verifies; a replay cache remembers what verified. Nothing here
 * is global.
 *
 * Two signature profiles, chosen per key:
 *   cr  HMAC over the bytes of tid immediately followed by those of ici, as
 *       the change request says. It cannot protect the other fields, and
 *       tid="ab" ici="c" signs the same as tid="a" ici="bc" (the replay
 *       cache takes them for one request).
 *   v2  HMAC over a canonical text: one "name=value\n" line per field
 *       present (signature excepted), values percent-encoded, known fields
 *       in the table's order, then passed-through ones by name; it covers
 *       apikeyid and a timestamp ts, which must be within the window.
 * Signatures are lower-case hex (the only accepted hex form: one MAC, one
 * text) or standard base64 with padding, per key.
 *
 * Conventions. Functions that can fail return an enum mc3_status (0 is
 * MC3_OK) and, given err (it may be NULL when errlen is 0), say why there
 * in one line of printable ASCII; input is quoted, never copied raw.
 * Objects are made by the caller's call to a _new, _parse or _load and
 * freed by the matching _free, which accepts NULL. Strings a function
 * returns as char * are malloc'd and the caller's to free(); const char *
 * ones belong to the object they came from and live as long as it, or
 * until the field is set again.
 *
 * Threads. A request and a context are used by one thread at a time. A key
 * store is read-only once a context is made over it, and then any number
 * of threads may use it. A replay cache is shared by any number of
 * contexts and threads (it has its own locks). mc3_strerror and
 * mc3_version may be called from anywhere.
 */
#ifndef MC3_H
#define MC3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MC3_API __attribute__((visibility("default")))

/*
 * The release this header is of, and the library's at run time, as
 * "MAJOR.MINOR.PATCH"; the soname is libmc3.so.1. MC3_VERSION_NUMBER is
 * 0xMMmmpp, for #if.
 */
#define MC3_VERSION		"0.2.0"
#define MC3_VERSION_NUMBER	0x000200
MC3_API const char *mc3_version(void);

/*
 * What every function that can fail returns: stable values, never
 * renumbered. mc3_verify's verdicts are the first ones; MC3_EAUTH is also
 * an unknown key id's, so that ids are not revealed.
 */
enum mc3_status {
	MC3_OK = 0,
	MC3_EAUTH = 1,		/* no key of that id valid now makes this signature */
	MC3_EREPLAY = 2,	/* its MAC verified before, within the window */
	MC3_ESTALE = 3,		/* v2: ts outside the window */
	MC3_EINVAL = 4,		/* a malformed request, field or argument */
	MC3_EFULL = 5,		/* verified, but cannot be remembered: refused */
	MC3_ENOMEM = 6,		/* out of memory */
	MC3_ENOKEY = 7,		/* sign: no key of that apikeyid valid now */
	MC3_EKEYSTORE = 8,	/* a key store refused: its text, owner or mode */
	MC3_EIO = 9,		/* a file could not be read or written */
	MC3_ECRYPTO = 10,	/* OpenSSL failed */
};
#define mc3_verdict mc3_status	/* its name before 0.2 */

/* A status in a few words ("signature does not verify"); never NULL. */
MC3_API const char *mc3_strerror(int status);

enum mc3_format {
	MC3_FORM,	/* application/x-www-form-urlencoded */
	MC3_JSON,	/* a flat JSON object of strings */
};

/* Parse and set flags. */
#define MC3_PASS_UNKNOWN	0x1	/* keep unknown fields instead of failing */

struct mc3_request;
struct mc3_keystore;
struct mc3_replay;
struct mc3_ctx;

/* Requests */

/*
 * Parse a request of len octets (no NUL needed); each field's rules are
 * checked, and tid, ici and user must be there. MC3_OK with *out set, or
 * MC3_EINVAL (the field and the reason in err) or MC3_ENOMEM.
 */
MC3_API int mc3_request_parse(const char *text, size_t len, enum mc3_format format,
			      unsigned int flags, struct mc3_request **out,
			      char *err, size_t errlen);
/* An empty request, to fill with mc3_request_set(). NULL if out of memory. */
MC3_API struct mc3_request *mc3_request_new(void);
/*
 * Set the field name to value (len octets, copied), replacing it if set,
 * by the rules parsing applies; an unknown name needs MC3_PASS_UNKNOWN.
 * MC3_OK, MC3_EINVAL (the request unchanged) or MC3_ENOMEM.
 */
MC3_API int mc3_request_set(struct mc3_request *req, const char *name, const char *value,
			    size_t len, unsigned int flags, char *err, size_t errlen);
/* A field's value, or NULL. */
MC3_API const char *mc3_request_get(const struct mc3_request *req, const char *name);
/*
 * The fields present, and the i-th of them (known ones in the table's
 * order, then passed-through ones in the order given): MC3_OK with *name
 * and *value set, or MC3_EINVAL past the last.
 */
MC3_API size_t mc3_request_fields(const struct mc3_request *req);
MC3_API int mc3_request_field(const struct mc3_request *req, size_t i, const char **name,
			      const char **value);
/* The request as text, NUL-terminated, no newline; NULL if out of memory. */
MC3_API char *mc3_request_write(const struct mc3_request *req, enum mc3_format format);
MC3_API void mc3_request_free(struct mc3_request *req);

/* Key stores */

/*
 * How a key store is made, as an extensible struct: set size to
 * sizeof(struct mc3_config) (MC3_CONFIG_INIT does), and fields added in
 * later releases go at its end, so that the library knows what a caller
 * built against an older header set. A NULL config is the defaults.
 */
struct ossl_lib_ctx_st;
struct mc3_config {
	size_t size;
	struct ossl_lib_ctx_st *libctx;	/* an OSSL_LIB_CTX; NULL: the default */
	const char *propq;		/* properties, e.g. "fips=yes"; NULL: none */
};
#define MC3_CONFIG_INIT		{ sizeof(struct mc3_config), NULL, NULL }

/*
 * Load a key store: one key a line, "APIKEYID HASH ENCODING PROFILE KEY
 * [not-before=T] [not-after=T]" with HASH sha1|sha256|sha384|sha512,
 * ENCODING hex|base64, PROFILE cr|v2 and KEY hex:... or base64:... (16 to
 * 1024 octets); '#' starts a comment; lines end in LF or CRLF. The key is
 * valid from not-before to just before not-after (default: always), T being
 * UNIX seconds or YYYY-MM-DDTHH:MM:SSZ (UTC). A file that group or others
 * may access, or that is owned by neither the effective uid nor root, is
 * refused. MC3_OK with *out set; MC3_EIO (the file), MC3_EKEYSTORE (its
 * mode, owner or text: the line and the reason in err), MC3_ENOMEM or
 * MC3_ECRYPTO. The key octets are cleansed from memory once keyed.
 */
MC3_API int mc3_keystore_load(const char *path, struct mc3_keystore **out,
			      char *err, size_t errlen);
MC3_API int mc3_keystore_load_with(const struct mc3_config *cfg, const char *path,
				   struct mc3_keystore **out, char *err, size_t errlen);
/* The same from memory, with no file to check. */
MC3_API int mc3_keystore_parse(const char *text, size_t len, struct mc3_keystore **out,
			       char *err, size_t errlen);
MC3_API int mc3_keystore_parse_with(const struct mc3_config *cfg, const char *text,
				    size_t len, struct mc3_keystore **out,
				    char *err, size_t errlen);
/* An empty key store, for mc3_keystore_add(): MC3_OK, MC3_ENOMEM or MC3_ECRYPTO. */
MC3_API int mc3_keystore_new(const struct mc3_config *cfg, struct mc3_keystore **out);

/* A key from raw octets; extensible as struct mc3_config is. */
struct mc3_key_params {
	size_t size;			/* sizeof(struct mc3_key_params) */
	const char *apikeyid;
	const char *hash;		/* "sha1", "sha256", "sha384", "sha512" */
	const char *encoding;		/* the signature's text: "hex", "base64" */
	const char *profile;		/* "cr", "v2" */
	const unsigned char *key;	/* copied into OpenSSL's keyed state */
	size_t key_len;			/* 16 to 1024 */
	int64_t not_before, not_after;	/* UNIX seconds; 0: unbounded */
};
/*
 * Add a key, after those there: MC3_OK, MC3_EINVAL (a bad parameter, or a
 * context already made over the store), MC3_ENOMEM or MC3_ECRYPTO.
 */
MC3_API int mc3_keystore_add(struct mc3_keystore *ks, const struct mc3_key_params *key,
			     char *err, size_t errlen);
/* Whether the key store has a key of apikeyid (valid or not): 1 or 0. */
MC3_API int mc3_keystore_has(const struct mc3_keystore *ks, const char *apikeyid);
/* After every context over it is freed. */
MC3_API void mc3_keystore_free(struct mc3_keystore *ks);

/* Replay caches */

/*
 * A request that verifies has its MAC (what was signed) remembered for
 * its apikeyid: a v2 request's until its ts leaves the window, a cr
 * request's (it has no time) for window seconds after it verified; the
 * same MAC again within that time is MC3_EREPLAY, and a clock that steps
 * back revives nothing. An id remembers at most per_id MACs (32 to 80
 * bytes each with the table, allocated as they come): past that its
 * requests are refused with MC3_EFULL, and counted, rather than an
 * unexpired MAC forgotten. Size per_id as (2 x window + 1) times the most
 * requests a second one peer may send: a v2 MAC whose ts is a window ahead
 * lives two windows. A cache outlives key stores, so keys can be
 * reloaded (rotated) without forgetting. NULL if out of memory, or window
 * or per_id is 0 or above its maximum.
 */
#define MC3_WINDOW_DEFAULT	300
#define MC3_WINDOW_MAX		86400
#define MC3_REPLAY_DEFAULT	65536
#define MC3_REPLAY_MAX		(1U << 24)
MC3_API struct mc3_replay *mc3_replay_new(unsigned int window, unsigned int per_id);
/*
 * Keep the cache in the files path and path.prev across restarts: what
 * they hold is read (entries expired by now dropped, the others kept even
 * past per_id, a larger window than theirs honoured), written anew, and each MAC
 * remembered from then on is appended before its request is accepted; a
 * request that cannot be appended is refused (MC3_EFULL), and a short
 * write is cut back off. Every 2 x window + 1 seconds the files turn over,
 * so they hold about two windows of requests. They are private (0600),
 * never followed through a link, native byte order; appends are not
 * fsync'd, so a machine's crash may lose the last ones, a process's does
 * not. Call once, before the first verification: MC3_OK, MC3_EINVAL
 * (called again, or late), MC3_ENOMEM or MC3_EIO (a file, damaged, or not
 * a journal of this cache), with the reason in err.
 */
MC3_API int mc3_replay_journal(struct mc3_replay *r, const char *path, time_t now,
			       char *err, size_t errlen);
struct mc3_replay_counts {
	unsigned long long remembered;	/* MACs held now */
	unsigned long long ids;		/* apikeyids that have a cache */
	unsigned long long refused_full;	/* MC3_EFULL verdicts */
	unsigned long long journal_errors;	/* of those, journal writes failed */
};
MC3_API void mc3_replay_counts(struct mc3_replay *r, struct mc3_replay_counts *out);
MC3_API unsigned int mc3_replay_window(const struct mc3_replay *r);
/* After every context that uses it is freed. */
MC3_API void mc3_replay_free(struct mc3_replay *r);

/* Contexts: signing and verifying */

/*
 * A context over a key store and a replay cache, which must outlive it;
 * v2's ts window is the cache's. NULL if out of memory.
 */
MC3_API struct mc3_ctx *mc3_ctx_new_shared(const struct mc3_keystore *ks,
					   struct mc3_replay *replay);
/*
 * The same with a cache of its own, freed with it: mc3_replay_new(window ?
 * window : MC3_WINDOW_DEFAULT, per_id ? per_id : MC3_REPLAY_DEFAULT).
 */
MC3_API struct mc3_ctx *mc3_ctx_new(const struct mc3_keystore *ks, unsigned int per_id,
				    unsigned int window);
MC3_API void mc3_ctx_free(struct mc3_ctx *ctx);

/*
 * Sign with the first key listed for apikeyid that is valid at now: sets
 * apikeyid and signature, and ts (now) for a v2 key, which invalidates
 * what mc3_request_get returned for those fields. MC3_OK, MC3_ENOKEY,
 * MC3_EINVAL (tid or ici missing; a ts for a cr key, which would not sign
 * it), MC3_ENOMEM or MC3_ECRYPTO.
 */
MC3_API int mc3_sign(struct mc3_ctx *ctx, struct mc3_request *req, const char *apikeyid,
		     time_t now, char *err, size_t errlen);

/*
 * Verify against every key listed for the request's apikeyid that is valid
 * at now; a request that verifies has its MAC remembered. MC3_OK, or a
 * verdict (MC3_EAUTH, MC3_EREPLAY, MC3_ESTALE, MC3_EFULL), or MC3_EINVAL
 * (unsigned; a ts in a cr request) or MC3_ECRYPTO; err says why, in the
 * same words for an unknown id, a key out of its validity and a bad
 * signature. An unknown id costs as much work as the costliest known one.
 */
MC3_API int mc3_verify(struct mc3_ctx *ctx, const struct mc3_request *req, time_t now,
		       char *err, size_t errlen);

/*
 * cr directly, for a server that has the fields already: the signature of
 * tid and ici under the first key of apikeyid valid now into sig (sig_len
 * >= 129), or their verification (the replay cache included). A v2 key
 * signs a whole request: MC3_EINVAL from sign, MC3_EAUTH from verify.
 */
MC3_API int mc3_sign_cr(struct mc3_ctx *ctx, const char *apikeyid, const char *tid,
			const char *ici, time_t now, char *sig, size_t sig_len,
			char *err, size_t errlen);
MC3_API int mc3_verify_cr(struct mc3_ctx *ctx, const char *apikeyid, const char *tid,
			  const char *ici, const char *signature, time_t now,
			  char *err, size_t errlen);

/*
 * After mc3_verify(ctx, req) said MC3_OK, and before the next verification
 * in ctx: what of req the signature covered, as text: for a cr key tid and
 * ici only, for v2 every field. Hand this on, not req, to act on signed
 * fields only. NULL if the last verification in ctx did not succeed, was
 * of another request, or req has changed since in what was signed (the MAC
 * is computed again); or out of memory.
 */
MC3_API char *mc3_request_write_signed(struct mc3_ctx *ctx, const struct mc3_request *req,
				       enum mc3_format format);

/*
 * The exact octets the first key of apikeyid (NULL: the request's own)
 * MACs for req as it stands (*len of them), for debugging a peer's
 * signatures: cr tid then ici, v2 its canonical text. NULL if the key
 * store has no such key, or out of memory.
 */
MC3_API unsigned char *mc3_signed_bytes(struct mc3_ctx *ctx, const struct mc3_request *req,
					const char *apikeyid, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* MC3_H */

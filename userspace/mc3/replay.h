/* SPDX-License-Identifier: MIT */
/* libmc3: the replay cache, as the verifying code sees it. */
#ifndef MC3_REPLAY_H
#define MC3_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "mc3.h"

struct id_cache;

/*
 * The cache of id, made at its first request, and never freed before the
 * replay cache: a context may keep it. NULL when MAX_IDS have one already,
 * or out of memory; mc3_replay_check_id() then refuses. Thread-safe.
 */
struct id_cache *mc3_replay_id(struct mc3_replay *r, const char *id);

/*
 * Start loading the table lines a check of mac will touch, so that the
 * HMAC's work hides the cache misses: the MAC's slot, and the slot of the
 * entry that expires next. A hint, taking no lock; thread-safe. c NULL (an
 * unknown id) does the same work on a table of its own, so as to cost what
 * a known one does.
 */
void mc3_replay_prefetch(struct mc3_replay *r, struct id_cache *c, const unsigned char *mac,
			 size_t len);

/*
 * A request whose MAC verified, to be remembered until expiry: MC3_OK
 * (remembered now), MC3_EREPLAY (it was already), MC3_ESTALE (expired by
 * a later now this id has seen: a clock that stepped back), or MC3_EFULL
 * (not remembered: refused). Thread-safe.
 */
int mc3_replay_check_id(struct mc3_replay *r, struct id_cache *c, const unsigned char *mac,
			size_t len, int64_t expiry, int64_t now);

#endif

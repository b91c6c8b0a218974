/* SPDX-License-Identifier: MIT */
/* libmc3: the replay cache, as the verifying code sees it. */
#ifndef MC3_REPLAY_H
#define MC3_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "mc3.h"

/*
 * A request of id whose MAC verified, to be remembered until expiry:
 * MC3_OK (remembered now), MC3_EREPLAY (it was already), or MC3_EFULL
 * (not remembered: refused). Thread-safe.
 */
enum mc3_verdict mc3_replay_check(struct mc3_replay *r, const char *id,
				  const unsigned char *mac, size_t mac_len,
				  int64_t expiry, int64_t now);

#endif

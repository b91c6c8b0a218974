/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replies turned into json-c objects: one model for both outputs, so the
 * JSON (-j) and the human text carry the same fields under the same names.
 */
#ifndef SCTLS_MODEL_H
#define SCTLS_MODEL_H

#include <json-c/json.h>
#include <netlink/attr.h>

/* The gateway's state: config, helper and counters, from SCTLS_CMD_GET. */
json_object *model_state(struct nlattr **tb);

/* A connection, from SCTLS_CMD_CONNS or SCTLS_CMD_EV_OPEN. */
json_object *model_conn(struct nlattr **tb);

/* An event from the events group, with its "event" name first. */
json_object *model_event(struct nlattr **tb, unsigned int cmd);

#endif /* SCTLS_MODEL_H */

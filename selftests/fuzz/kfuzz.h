/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kfuzz: a coverage-guided fuzzer of the sctls module's user-facing surface
 * (the character device, the generic netlink family and the app sockets the
 * module takes), run as root inside the sanitizer kernel. A program is a
 * short sequence of calls spread over a few threads; a program that reaches
 * new module code joins the corpus and is mutated further.
 */
#ifndef SCTLS_KFUZZ_H
#define SCTLS_KFUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KF_MAX_CALLS	24
#define KF_THREADS	3
/* KCOV buffers: one per worker, one for the program's set-up and teardown */
#define KF_COVER_SLOTS	(KF_THREADS + 1)
#define KF_DEVS		2	/* /dev/sctls descriptors per program */
#define KF_SOCKS	6	/* app sockets per program */
#define KF_BLOB		96	/* bytes of raw payload a call may carry */

enum kf_op {
	KF_DEV_OPEN,	/* a: dev slot, b: O_NONBLOCK or not */
	KF_DEV_CLOSE,	/* a: dev slot */
	KF_DEV_READ,	/* a: dev slot, b: buffer length */
	KF_DEV_WRITE,	/* a: dev slot, b: type, c: conn, d: arg/flags, blob: payload */
	KF_DEV_RAW,	/* a: dev slot, blob: written as it is */
	KF_DEV_POLL,	/* a: dev slot, b: events */
	KF_DEV_IOCTL,	/* a: dev slot, b: command choice, c: argument choice */
	KF_NL_GET,
	KF_NL_SET,	/* a: attribute recipe, b..d: values */
	KF_NL_CONNS,
	KF_NL_RESET,	/* c: conn */
	KF_NL_RAW,	/* b: command, blob: attributes as they are */
	KF_NL_LISTEN,	/* a: join (1) or leave (0) the events group */
	KF_APP_CONNECT,	/* a: sock slot, b: family, c: port choice */
	KF_APP_SEND,	/* a: sock slot, b: length */
	KF_APP_RECV,	/* a: sock slot, b: length */
	KF_APP_SHUTDOWN,	/* a: sock slot, b: how */
	KF_APP_CLOSE,	/* a: sock slot, b: reset (SO_LINGER 0) or not */
	KF_HELPER_KILL,	/* a child opens the device, reads, is killed after b ms */
	KF_NETNS,	/* a: 0 back to the program's namespace, 1 a new one */
	KF_SLEEP,	/* b: milliseconds, up to 20 */
	KF_NR_OPS
};

struct kf_call {
	uint8_t op;
	uint8_t thread;
	uint8_t blob_len;
	uint32_t a, b, c, d;
	uint8_t blob[KF_BLOB];
};

struct kf_prog {
	unsigned int nr;
	struct kf_call calls[KF_MAX_CALLS];
};

/* A small seeded generator: runs are reproducible from their seed. */
struct kf_rng {
	uint64_t s;
};

uint64_t kf_rand(struct kf_rng *r);
static inline uint32_t kf_below(struct kf_rng *r, uint32_t n)
{
	return n ? (uint32_t)(kf_rand(r) % n) : 0;
}

const char *kf_op_name(unsigned int op);
void kf_gen(struct kf_rng *r, struct kf_prog *p);
void kf_mutate(struct kf_rng *r, struct kf_prog *p, const struct kf_prog *other);
/* One call per line, "op thread a b c d hexblob"; the parser is strict. */
int kf_prog_write(const struct kf_prog *p, int fd);
int kf_prog_read(const char *text, struct kf_prog *p, char *err, size_t errlen);

/* Coverage of the module's text, through KCOV. */
struct kf_cover;
struct kf_cover *kf_cover_open(const char *points_file, const char *module);
/* Called by each of a program's threads on itself; slot KF_THREADS is set-up's. */
int kf_cover_enable(struct kf_cover *c, unsigned int thread);
void kf_cover_reset(struct kf_cover *c);
/* Fold the buffers into the totals: how many new blocks and edges. */
unsigned int kf_cover_merge(struct kf_cover *c);
void kf_cover_report(struct kf_cover *c, FILE *out, const char *unreached_file);
double kf_cover_share(struct kf_cover *c);

/* Execution: run p in a child with its own network namespace. */
struct kf_result {
	bool hung;		/* the child outlived its time and was killed */
	bool invariant_broken;
	char why[256];
};
/* Bring the current network namespace's loopback up. */
void kf_lo_up(void);
int kf_exec(struct kf_cover *c, const struct kf_prog *p, unsigned int timeout_ms,
	    struct kf_result *res);

/* Systematic fault injection over each operation; 0 if all held. */
int kf_faults(FILE *log);

/* The generic netlink family id of "sctls", resolved once. */
extern int kf_family_id;
/* Its "events" multicast group. */
extern uint32_t kf_events_group;

#endif

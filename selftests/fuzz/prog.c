// SPDX-License-Identifier: GPL-2.0
/*
 * kfuzz programs: generation, mutation and the text form reproducers are
 * saved in. Generation leans towards what the module accepts (a helper, a
 * connection, frames for its id), so that programs get past the first
 * check; mutation then bends single arguments or splices two programs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kfuzz.h"

uint64_t kf_rand(struct kf_rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *const op_names[KF_NR_OPS] = {
	[KF_DEV_OPEN] = "dev_open",	[KF_DEV_CLOSE] = "dev_close",
	[KF_DEV_READ] = "dev_read",	[KF_DEV_WRITE] = "dev_write",
	[KF_DEV_RAW] = "dev_raw",	[KF_DEV_POLL] = "dev_poll",
	[KF_DEV_IOCTL] = "dev_ioctl",	[KF_NL_GET] = "nl_get",
	[KF_NL_SET] = "nl_set",		[KF_NL_CONNS] = "nl_conns",
	[KF_NL_RESET] = "nl_reset",	[KF_NL_RAW] = "nl_raw",
	[KF_NL_LISTEN] = "nl_listen",
	[KF_APP_CONNECT] = "app_connect", [KF_APP_SEND] = "app_send",
	[KF_APP_RECV] = "app_recv",	[KF_APP_SHUTDOWN] = "app_shutdown",
	[KF_APP_CLOSE] = "app_close",	[KF_HELPER_KILL] = "helper_kill",
	[KF_NETNS] = "netns",		[KF_SLEEP] = "sleep",
};

const char *kf_op_name(unsigned int op)
{
	return op < KF_NR_OPS ? op_names[op] : "?";
}

/* How often each call is generated. */
static const unsigned char op_weight[KF_NR_OPS] = {
	[KF_DEV_OPEN] = 6, [KF_DEV_CLOSE] = 2, [KF_DEV_READ] = 12,
	[KF_DEV_WRITE] = 16, [KF_DEV_RAW] = 2, [KF_DEV_POLL] = 3,
	[KF_DEV_IOCTL] = 2, [KF_NL_GET] = 2, [KF_NL_SET] = 4,
	[KF_NL_CONNS] = 3, [KF_NL_RESET] = 3, [KF_NL_RAW] = 2, [KF_NL_LISTEN] = 2,
	[KF_APP_CONNECT] = 9, [KF_APP_SEND] = 8, [KF_APP_RECV] = 6,
	[KF_APP_SHUTDOWN] = 3, [KF_APP_CLOSE] = 5, [KF_HELPER_KILL] = 1,
	[KF_NETNS] = 1, [KF_SLEEP] = 2,
};

/* A value from the edges of a field's range, or any value at all. */
static uint32_t interesting(struct kf_rng *r)
{
	static const uint32_t v[] = {
		0, 1, 2, 3, 4, 15, 16, 17, 255, 256, 1023, 4095, 4096, 4097,
		65535, 65536, 65537, 16777216, 16777217, 0x7fffffff, 0x80000000,
		0xfffffffe, 0xffffffff,
	};

	if (kf_below(r, 4) == 0)
		return (uint32_t)kf_rand(r);
	return v[kf_below(r, sizeof(v) / sizeof(v[0]))];
}

/* Connection ids: below 0x100 an index into the ids the program has seen. */
static uint32_t conn_choice(struct kf_rng *r)
{
	return kf_below(r, 8) ? kf_below(r, 4) : interesting(r) | 0x100;
}

static void gen_args(struct kf_rng *r, struct kf_call *c)
{
	c->a = c->b = c->c = c->d = 0;
	c->blob_len = 0;
	switch (c->op) {
	case KF_DEV_OPEN:
		c->a = kf_below(r, KF_DEVS);
		c->b = kf_below(r, 4) == 0;	/* blocking now and then */
		break;
	case KF_DEV_CLOSE:
	case KF_DEV_POLL:
		c->a = kf_below(r, KF_DEVS);
		c->b = kf_below(r, 8);
		break;
	case KF_DEV_READ:
		c->a = kf_below(r, KF_DEVS);
		c->b = kf_below(r, 3) ? 65552 : interesting(r) % 70000;
		break;
	case KF_DEV_WRITE:
		c->a = kf_below(r, KF_DEVS);
		/* b: type in the low byte; bits 8..15 bend the length field */
		c->b = kf_below(r, 10) ? 2 + kf_below(r, 4) : kf_below(r, 8);
		if (kf_below(r, 2))
			c->b = 2;	/* DATA most of all */
		if (kf_below(r, 10) == 0)
			c->b |= (1 + kf_below(r, 4)) << 8;
		c->c = conn_choice(r);
		c->d = kf_below(r, 3) ? kf_below(r, 2) : interesting(r);
		/* DATA: a length; CREDIT: an amount */
		c->blob_len = 0;
		c->a |= (kf_below(r, 4) ? kf_below(r, 2048) : interesting(r) % 70000) << 8;
		break;
	case KF_DEV_RAW:
	case KF_NL_RAW:
		c->a = kf_below(r, KF_DEVS);
		c->b = kf_below(r, 8);
		c->blob_len = kf_below(r, KF_BLOB + 1);
		for (unsigned int i = 0; i < c->blob_len; i++)
			c->blob[i] = (uint8_t)kf_rand(r);
		/* a plausible header now and then */
		if (c->op == KF_DEV_RAW && c->blob_len >= 16 && kf_below(r, 2)) {
			uint32_t len = c->blob_len;

			memcpy(c->blob, &len, 4);
			c->blob[4] = 1 + kf_below(r, 5);
			c->blob[5] = 0;
		}
		break;
	case KF_DEV_IOCTL:
		c->a = kf_below(r, KF_DEVS);
		c->b = kf_below(r, 4);
		c->c = kf_below(r, 3);
		break;
	case KF_NL_SET:
		c->a = kf_below(r, 8);		/* which attributes */
		c->b = kf_below(r, 2) ? 4116 + kf_below(r, 4) : interesting(r);
		c->c = kf_below(r, 2) ? 1 + kf_below(r, 8) : interesting(r);
		c->d = kf_below(r, 2) ? 4096u << kf_below(r, 6) : interesting(r);
		break;
	case KF_NL_RESET:
		c->c = conn_choice(r);
		break;
	case KF_APP_CONNECT:
		c->a = kf_below(r, KF_SOCKS);
		c->b = kf_below(r, 4) == 0;	/* IPv6 */
		c->c = kf_below(r, 8);
		break;
	case KF_APP_SEND:
	case KF_APP_RECV:
		c->a = kf_below(r, KF_SOCKS);
		c->b = kf_below(r, 4) ? 1 + kf_below(r, 4096) : interesting(r) % 300000;
		break;
	case KF_APP_SHUTDOWN:
	case KF_APP_CLOSE:
		c->a = kf_below(r, KF_SOCKS);
		c->b = kf_below(r, 3);
		break;
	case KF_HELPER_KILL:
		c->b = kf_below(r, 30);
		break;
	case KF_NETNS:
	case KF_NL_LISTEN:
		c->a = kf_below(r, 2);
		break;
	case KF_SLEEP:
		c->b = kf_below(r, 21);
		break;
	default:
		break;
	}
}

static unsigned int pick_op(struct kf_rng *r)
{
	unsigned int total = 0, x, op;

	for (op = 0; op < KF_NR_OPS; op++)
		total += op_weight[op];
	x = kf_below(r, total);
	for (op = 0; op < KF_NR_OPS; op++) {
		if (x < op_weight[op])
			return op;
		x -= op_weight[op];
	}
	return KF_SLEEP;
}

static void gen_call(struct kf_rng *r, struct kf_call *c, unsigned int op)
{
	memset(c, 0, sizeof(*c));
	c->op = (uint8_t)op;
	c->thread = kf_below(r, 3) ? 0 : (uint8_t)kf_below(r, KF_THREADS);
	gen_args(r, c);
}

/*
 * Half of all programs start as a session the module accepts: a helper,
 * an app connecting, the OPEN read, bytes both ways. Random calls follow.
 */
void kf_gen(struct kf_rng *r, struct kf_prog *p)
{
	static const unsigned char session[] = {
		KF_DEV_OPEN, KF_APP_CONNECT, KF_DEV_READ, KF_APP_SEND,
		KF_DEV_READ, KF_DEV_WRITE, KF_APP_RECV,
	};
	unsigned int i = 0;

	memset(p, 0, sizeof(*p));
	if (kf_below(r, 2)) {
		for (; i < sizeof(session); i++) {
			gen_call(r, &p->calls[i], session[i]);
			p->calls[i].thread = 0;
		}
		p->calls[0].b = 0;		/* non-blocking helper */
		p->calls[1].a = 0;
		p->calls[1].c = 0;		/* the default port */
		p->calls[3].a = 0;
		p->calls[5].b = 2;		/* DATA to the first id */
		p->calls[5].c = 0;
		p->calls[6].a = 0;
	}
	p->nr = i + 1 + kf_below(r, KF_MAX_CALLS - i);
	for (; i < p->nr; i++)
		gen_call(r, &p->calls[i], pick_op(r));
}

void kf_mutate(struct kf_rng *r, struct kf_prog *p, const struct kf_prog *other)
{
	unsigned int n = 1 + kf_below(r, 3), i, k;
	struct kf_call *c;

	while (n--) {
		switch (kf_below(r, 7)) {
		case 0:		/* insert a call */
			if (p->nr >= KF_MAX_CALLS)
				break;
			i = kf_below(r, p->nr + 1);
			memmove(&p->calls[i + 1], &p->calls[i],
				(p->nr - i) * sizeof(p->calls[0]));
			gen_call(r, &p->calls[i], pick_op(r));
			p->nr++;
			break;
		case 1:		/* remove one */
			if (p->nr <= 1)
				break;
			i = kf_below(r, p->nr);
			memmove(&p->calls[i], &p->calls[i + 1],
				(p->nr - i - 1) * sizeof(p->calls[0]));
			p->nr--;
			break;
		case 2:		/* splice another program's tail */
			if (!other || !other->nr)
				break;
			i = kf_below(r, p->nr + 1);
			k = kf_below(r, other->nr);
			while (i < KF_MAX_CALLS && k < other->nr)
				p->calls[i++] = other->calls[k++];
			if (i > p->nr)
				p->nr = i;
			break;
		case 3:		/* move a call to another thread */
			if (p->nr)
				p->calls[kf_below(r, p->nr)].thread = (uint8_t)kf_below(r, KF_THREADS);
			break;
		default:	/* bend one argument */
			if (!p->nr)
				break;
			c = &p->calls[kf_below(r, p->nr)];
			switch (kf_below(r, 6)) {
			case 0: c->a ^= 1u << kf_below(r, 32); break;
			case 1: c->b = kf_below(r, 2) ? c->b ^ (1u << kf_below(r, 16)) : interesting(r); break;
			case 2: c->c = kf_below(r, 2) ? conn_choice(r) : interesting(r); break;
			case 3: c->d = interesting(r); break;
			case 4:
				if (c->blob_len)
					c->blob[kf_below(r, c->blob_len)] ^= (uint8_t)(1u << kf_below(r, 8));
				break;
			default: gen_args(r, c); break;
			}
			break;
		}
	}
	if (!p->nr)
		gen_call(r, &p->calls[p->nr++], pick_op(r));
}

int kf_prog_write(const struct kf_prog *p, int fd)
{
	char line[64 + 2 * KF_BLOB];

	for (unsigned int i = 0; i < p->nr; i++) {
		const struct kf_call *c = &p->calls[i];
		int n = snprintf(line, sizeof(line), "%s %u %u %u %u %u ", kf_op_name(c->op),
				 c->thread, c->a, c->b, c->c, c->d);

		for (unsigned int k = 0; k < c->blob_len; k++)
			n += snprintf(line + n, sizeof(line) - n, "%02x", c->blob[k]);
		if (!c->blob_len)
			line[n++] = '-';
		line[n++] = '\n';
		if (write(fd, line, n) != n)
			return -errno;
	}
	return 0;
}

int kf_prog_read(const char *text, struct kf_prog *p, char *err, size_t errlen)
{
	unsigned int lineno = 0;

	memset(p, 0, sizeof(*p));
	while (*text) {
		char name[32], blob[256];
		const char *eol = strchr(text, '\n');
		size_t len = eol ? (size_t)(eol - text) : strlen(text);
		char line[256];
		struct kf_call *c;
		unsigned int thread, op;
		size_t bl;

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "line %u: too long", lineno);
			return -1;
		}
		memcpy(line, text, len);
		line[len] = 0;
		text += len + (eol ? 1 : 0);
		if (!len || line[0] == '#')
			continue;
		if (p->nr >= KF_MAX_CALLS) {
			snprintf(err, errlen, "line %u: more than %d calls", lineno, KF_MAX_CALLS);
			return -1;
		}
		c = &p->calls[p->nr];
		if (sscanf(line, "%31s %u %u %u %u %u %255s", name, &thread, &c->a, &c->b,
			   &c->c, &c->d, blob) != 7) {
			snprintf(err, errlen, "line %u: want 'op thread a b c d blob'", lineno);
			return -1;
		}
		for (op = 0; op < KF_NR_OPS && strcmp(name, op_names[op]); op++)
			;
		if (op == KF_NR_OPS || thread >= KF_THREADS) {
			snprintf(err, errlen, "line %u: unknown call '%s' or thread %u", lineno,
				 name, thread);
			return -1;
		}
		c->op = (uint8_t)op;
		c->thread = (uint8_t)thread;
		bl = strcmp(blob, "-") ? strlen(blob) : 0;
		if (bl % 2 || bl / 2 > KF_BLOB) {
			snprintf(err, errlen, "line %u: bad blob", lineno);
			return -1;
		}
		for (size_t k = 0; k < bl / 2; k++) {
			unsigned int byte;

			if (sscanf(blob + 2 * k, "%2x", &byte) != 1) {
				snprintf(err, errlen, "line %u: bad blob", lineno);
				return -1;
			}
			c->blob[k] = (uint8_t)byte;
		}
		c->blob_len = (uint8_t)(bl / 2);
		p->nr++;
	}
	if (!p->nr) {
		snprintf(err, errlen, "no calls");
		return -1;
	}
	return 0;
}

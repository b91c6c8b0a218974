// SPDX-License-Identifier: MIT
/*
 * The replay cache: the MACs that verified, per apikeyid, each kept until
 * its request could no longer verify anyway. A v2 request carries ts and is
 * stale after ts + window; a cr request carries no time, so its MAC is kept
 * for window seconds after it verified, and that is all cr can promise.
 *
 * The entries are keyed on the MAC, what was signed: two requests that sign
 * the same bytes (cr's tid "ab" ici "c" and tid "a" ici "bc") are one
 * request. An id remembers at most per_id MACs, so that no peer can flush
 * another's; past that its requests are refused and counted, never an
 * unexpired MAC forgotten. One cache serves every thread of a process
 * (a lock per id), outlives key-store reloads, and can keep a journal so
 * that it outlives the process too.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay.h"

#define MAX_IDS		10000	/* the key store's bound */
#define ID_MAX		64
#define JOURNAL_MAGIC	"MC3REPL1"

struct entry {
	uint64_t hash;			/* of the MAC, seeded; never 0 */
	int64_t expiry;			/* seconds: forgotten from then on */
};

/*
 * One id's MACs: a ring in the order they came (so cr's expire from its
 * head), and an open-addressing table of their hashes, at most a quarter
 * full with linear probing. Both grow up to per_id.
 */
struct id_cache {
	char id[ID_MAX + 1];
	pthread_mutex_t lock;
	struct entry *ring;
	uint32_t cap, head, count;
	uint64_t *table;
	uint32_t mask;
};

struct mc3_replay {
	uint64_t seed;
	unsigned int window, per_id;
	pthread_rwlock_t ids_lock;	/* the map; each id has its own lock */
	struct id_cache **ids;		/* open addressing by the id's hash */
	uint32_t ids_mask, nr_ids;
	int journal;			/* -1: none */
	atomic_ullong refused, journal_errors;
};

/* Mix 64 bits (the murmur3 finalizer). */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = mix64(h ^ w);
	}
	w = 0;
	memcpy(&w, s, len);
	return mix64(h ^ w ^ (uint64_t)len << 56);
}

struct mc3_replay *mc3_replay_new(unsigned int window, unsigned int per_id)
{
	struct mc3_replay *r;

	if (!window || window > MC3_WINDOW_MAX || !per_id || per_id > MC3_REPLAY_MAX)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->window = window;
	r->per_id = per_id;
	r->journal = -1;
	r->ids_mask = 63;
	r->ids = calloc(r->ids_mask + 1, sizeof(*r->ids));
	if (!r->ids || pthread_rwlock_init(&r->ids_lock, NULL) ||
	    RAND_bytes((unsigned char *)&r->seed, sizeof(r->seed)) != 1) {
		free(r->ids);
		free(r);
		return NULL;
	}
	return r;
}

#define HUGE_PAGE	(2UL << 20)

/*
 * The table is read at random, twice a request. On 4 KiB pages nearly every
 * read of a large one misses the TLB, and under virtualisation the page
 * walk costs more than the rest of the lookup: a table of 2 MiB or more
 * asks for huge pages. madvise is a hint; without it the table still works.
 */
static uint64_t *table_alloc(size_t entries)
{
	size_t bytes = entries * sizeof(uint64_t);
	void *table;

	if (bytes < HUGE_PAGE)
		return calloc(entries, sizeof(uint64_t));
	/* Zeroed by the kernel as it is touched: not twice, by a memset. */
	table = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED)
		return NULL;
	madvise(table, bytes, MADV_HUGEPAGE);
	return table;
}

static void table_free(uint64_t *table, size_t entries)
{
	size_t bytes = entries * sizeof(uint64_t);

	if (bytes < HUGE_PAGE)
		free(table);
	else if (table)
		munmap(table, bytes);
}

static void id_cache_free(struct id_cache *c)
{
	pthread_mutex_destroy(&c->lock);
	free(c->ring);
	if (c->table)
		table_free(c->table, (size_t)c->mask + 1);
	free(c);
}

void mc3_replay_free(struct mc3_replay *r)
{
	uint32_t i;

	if (!r)
		return;
	for (i = 0; i <= r->ids_mask; i++)
		if (r->ids[i])
			id_cache_free(r->ids[i]);
	free(r->ids);
	pthread_rwlock_destroy(&r->ids_lock);
	if (r->journal >= 0)
		close(r->journal);
	free(r);
}

unsigned int mc3_replay_window(const struct mc3_replay *r)
{
	return r->window;
}

void mc3_replay_counts(struct mc3_replay *r, struct mc3_replay_counts *out)
{
	uint32_t i;

	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&r->ids_lock);
	for (i = 0; i <= r->ids_mask; i++) {
		struct id_cache *c = r->ids[i];

		if (!c)
			continue;
		pthread_mutex_lock(&c->lock);
		out->remembered += c->count;
		pthread_mutex_unlock(&c->lock);
		out->ids++;
	}
	pthread_rwlock_unlock(&r->ids_lock);
	out->refused_full = atomic_load(&r->refused);
	out->journal_errors = atomic_load(&r->journal_errors);
}

/* The map's slot of id: its cache, or the empty slot where it would go. */
static uint32_t id_slot(const struct mc3_replay *r, const char *id, size_t len)
{
	uint32_t i = hash_bytes(r->seed, id, len) & r->ids_mask;

	while (r->ids[i] && strcmp(r->ids[i]->id, id))
		i = (i + 1) & r->ids_mask;
	return i;
}

/* Twice the map, at most half full then: under the write lock. */
static int ids_grow(struct mc3_replay *r)
{
	struct id_cache **old = r->ids;
	uint32_t old_mask = r->ids_mask, i;

	r->ids = calloc((size_t)(old_mask + 1) * 2, sizeof(*r->ids));
	if (!r->ids) {
		r->ids = old;
		return -1;
	}
	r->ids_mask = old_mask * 2 + 1;
	for (i = 0; i <= old_mask; i++)
		if (old[i])
			r->ids[id_slot(r, old[i]->id, strlen(old[i]->id))] = old[i];
	free(old);
	return 0;
}

/* id's cache, made at its first request; NULL past MAX_IDS or memory. */
static struct id_cache *id_cache_get(struct mc3_replay *r, const char *id)
{
	size_t len = strnlen(id, ID_MAX + 1);
	struct id_cache *c;
	uint32_t slot;

	if (len > ID_MAX)
		return NULL;
	pthread_rwlock_rdlock(&r->ids_lock);
	c = r->ids[id_slot(r, id, len)];
	pthread_rwlock_unlock(&r->ids_lock);
	if (c)
		return c;

	pthread_rwlock_wrlock(&r->ids_lock);
	slot = id_slot(r, id, len);
	c = r->ids[slot];
	if (c || r->nr_ids == MAX_IDS)
		goto out;
	if (2 * (r->nr_ids + 1) > r->ids_mask + 1) {
		if (ids_grow(r))
			goto out;
		slot = id_slot(r, id, len);
	}
	c = calloc(1, sizeof(*c));
	if (!c || pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		c = NULL;
		goto out;
	}
	memcpy(c->id, id, len);
	r->ids[slot] = c;
	r->nr_ids++;
out:
	pthread_rwlock_unlock(&r->ids_lock);
	return c;
}

/* The table's place of h, or of the free place where it would go. */
static uint32_t place_of(const struct id_cache *c, uint64_t h)
{
	uint32_t i = h & c->mask;

	while (c->table[i] && c->table[i] != h)
		i = (i + 1) & c->mask;
	return i;
}

/* Take h out of the table, shifting back the entries probed past it. */
static void table_remove(struct id_cache *c, uint64_t h)
{
	uint32_t hole = place_of(c, h), i = hole;

	c->table[hole] = 0;
	for (;;) {
		uint32_t home;

		i = (i + 1) & c->mask;
		if (!c->table[i])
			return;
		home = c->table[i] & c->mask;
		/* Move it back unless its home lies cyclically in (hole, i]. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			c->table[hole] = c->table[i];
			c->table[i] = 0;
			hole = i;
		}
	}
}

/* Room for one more entry (ring and table twice as large): 0, or -1. */
static int id_cache_grow(struct id_cache *c, unsigned int per_id)
{
	uint32_t cap = c->cap ? c->cap * 2 : 64, size, i;
	struct entry *ring;
	uint64_t *table;

	if (cap > per_id)
		cap = per_id;
	for (size = 1; size < 4 * cap; size <<= 1)
		;
	ring = malloc(cap * sizeof(*ring));
	table = table_alloc(size);
	if (!ring || !table) {
		free(ring);
		table_free(table, size);
		return -1;
	}
	for (i = 0; i < c->count; i++)
		ring[i] = c->ring[(c->head + i) % c->cap];
	free(c->ring);
	if (c->table)
		table_free(c->table, (size_t)c->mask + 1);
	c->ring = ring;
	c->table = table;
	c->cap = cap;
	c->head = 0;
	c->mask = size - 1;
	for (i = 0; i < c->count; i++)
		c->table[place_of(c, ring[i].hash)] = ring[i].hash;
	return 0;
}

/* Forget the entries at the ring's head that have expired by now. */
static void id_cache_expire(struct id_cache *c, int64_t now)
{
	while (c->count && c->ring[c->head].expiry <= now) {
		table_remove(c, c->ring[c->head].hash);
		c->head = (c->head + 1) % c->cap;
		c->count--;
	}
}

/* Remember h until expiry: 0, or -1 when the id holds per_id already. */
static int id_cache_add(struct id_cache *c, unsigned int per_id, uint64_t h,
			int64_t expiry)
{
	if (c->count == c->cap && (c->cap == per_id || id_cache_grow(c, per_id)))
		return -1;
	c->ring[(c->head + c->count) % c->cap] = (struct entry){ h, expiry };
	c->count++;
	c->table[place_of(c, h)] = h;
	return 0;
}

struct journal_record {
	int64_t expiry;
	uint64_t hash;
	uint8_t id_len;
	char id[ID_MAX];
};

#define RECORD_HEAD	offsetof(struct journal_record, id)

static int journal_append(int fd, const char *id, uint64_t h, int64_t expiry)
{
	struct journal_record rec = { .expiry = expiry, .hash = h };
	size_t len = strlen(id);

	rec.id_len = len;
	memcpy(rec.id, id, len);
	/* One write of an O_APPEND file: records never interleave. */
	return write(fd, &rec, RECORD_HEAD + len) == (ssize_t)(RECORD_HEAD + len) ? 0 : -1;
}

/*
 * A MAC is a keyed hash already: its first 16 octets, mixed with the seed,
 * spread well. A peer that grinds MACs to collide can only hit its own
 * id's entries.
 */
static uint64_t mac_hash(const struct mc3_replay *r, const unsigned char *mac, size_t len)
{
	uint64_t w[2] = { 0, 0 };

	memcpy(w, mac, len < sizeof(w) ? len : sizeof(w));
	return mix64(mix64(w[0] ^ r->seed) ^ w[1]) | 1;
}

struct id_cache *mc3_replay_id(struct mc3_replay *r, const char *id)
{
	return id_cache_get(r, id);
}

void mc3_replay_prefetch(struct mc3_replay *r, struct id_cache *c, const unsigned char *mac,
			 size_t len)
{
	uint64_t h = mac_hash(r, mac, len);

	pthread_mutex_lock(&c->lock);
	if (c->count) {
		__builtin_prefetch(&c->table[h & c->mask]);
		__builtin_prefetch(&c->table[c->ring[c->head].hash & c->mask]);
	}
	pthread_mutex_unlock(&c->lock);
}

enum mc3_verdict mc3_replay_check_id(struct mc3_replay *r, struct id_cache *c,
				     const unsigned char *mac, size_t len,
				     int64_t expiry, int64_t now)
{
	enum mc3_verdict v = MC3_OK;
	uint64_t h;

	if (!c) {
		atomic_fetch_add(&r->refused, 1);
		return MC3_EFULL;
	}
	h = mac_hash(r, mac, len);
	pthread_mutex_lock(&c->lock);
	id_cache_expire(c, now);
	if (c->count && c->table[place_of(c, h)] == h) {
		v = MC3_EREPLAY;
		goto out;
	}
	if (id_cache_add(c, r->per_id, h, expiry)) {
		atomic_fetch_add(&r->refused, 1);
		v = MC3_EFULL;
		goto out;
	}
	/* Not on record, not remembered: refused rather than replayable later. */
	if (r->journal >= 0 && journal_append(r->journal, c->id, h, expiry)) {
		atomic_fetch_add(&r->journal_errors, 1);
		table_remove(c, h);
		c->count--;
		v = MC3_EFULL;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return v;
}

/* Re-remember one record of a journal: its id, if still to be kept. */
static void journal_restore(struct mc3_replay *r, const struct journal_record *rec,
			    int64_t now)
{
	char id[ID_MAX + 1];
	struct id_cache *c;

	if (rec->expiry <= now)
		return;
	memcpy(id, rec->id, rec->id_len);
	id[rec->id_len] = '\0';
	c = id_cache_get(r, id);
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->count || c->table[place_of(c, rec->hash)] != rec->hash)
		id_cache_add(c, r->per_id, rec->hash, rec->expiry);
	pthread_mutex_unlock(&c->lock);
}

/* Every record of fd after the header; a torn last one is ignored. */
static void journal_read(struct mc3_replay *r, int fd, int64_t now)
{
	struct journal_record rec;

	while (read(fd, &rec, RECORD_HEAD) == (ssize_t)RECORD_HEAD) {
		if (!rec.id_len || rec.id_len > ID_MAX || !(rec.hash & 1) ||
		    read(fd, rec.id, rec.id_len) != rec.id_len)
			return;
		journal_restore(r, &rec, now);
	}
}

/* The live entries into a new file, renamed over path: its fd, or -1. */
static int journal_rewrite(struct mc3_replay *r, const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	uint32_t i, k;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (write(fd, JOURNAL_MAGIC, 8) != 8 || write(fd, &r->seed, 8) != 8)
		goto fail;
	for (i = 0; i <= r->ids_mask; i++) {
		struct id_cache *c = r->ids[i];

		for (k = 0; c && k < c->count; k++) {
			const struct entry *e = &c->ring[(c->head + k) % c->cap];

			if (journal_append(fd, c->id, e->hash, e->expiry))
				goto fail;
		}
	}
	if (fsync(fd) || rename(tmp, path))
		goto fail;
	close(fd);
	return open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
fail:
	snprintf(err, errlen, "%s: %s", fd < 0 ? tmp : path, strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return -1;
}

int mc3_replay_journal(struct mc3_replay *r, const char *path, time_t now,
		       char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char magic[8];
	struct stat st;

	if (r->journal >= 0 || r->nr_ids) {
		snprintf(err, errlen, "a journal is opened once, before the first verification");
		if (fd >= 0)
			close(fd);
		return MC3_EINVAL;
	}
	if (fd < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MC3_EIO;
	}
	if (fd >= 0) {
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
		    read(fd, magic, 8) != 8 || memcmp(magic, JOURNAL_MAGIC, 8) ||
		    read(fd, &r->seed, 8) != 8) {
			snprintf(err, errlen, "%s: not a replay journal of this version", path);
			close(fd);
			return MC3_EIO;
		}
		journal_read(r, fd, now);
		close(fd);
	}
	r->journal = journal_rewrite(r, path, err, errlen);
	return r->journal < 0 ? MC3_EIO : MC3_OK;
}

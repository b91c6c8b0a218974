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
#include <stdbool.h>
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
#define JOURNAL_MAGIC	"MC3REPL2"

struct entry {
	uint64_t hash;			/* of the MAC, seeded; never 0 */
	int64_t expiry;			/* seconds: forgotten from then on */
};

/*
 * Where a check of an id will look, for prefetching without its lock:
 * possibly stale, so only ever prefetched (which cannot fault), never read.
 */
struct prefetch_hint {
	atomic_uintptr_t table;
	atomic_uint mask;
	atomic_ullong head_hash;	/* the ring head's: the next to expire */
};

/*
 * One id's MACs: a ring in the order they came (so cr's expire from its
 * head), and an open-addressing table of their hashes, at most half full
 * with linear probing. Both grow up to per_id.
 */
struct id_cache {
	char id[ID_MAX + 1];
	pthread_mutex_t lock;
	struct entry *ring;
	uint32_t cap, head, count;
	uint64_t *table;
	uint32_t mask;
	struct prefetch_hint hint;
	/*
	 * The latest now seen: a clock that steps back (NTP, or a thread
	 * that read it before another) must not revive what expired.
	 */
	int64_t latest;
};

/*
 * The journal: two generations of append-only files, PATH and PATH.prev.
 * An entry lives at most 2 x window + 1 seconds, so once the current
 * generation is older than that, the previous one holds only expired
 * records: it is dropped, the current one becomes it, and a new one
 * starts. The files stay bounded without rewriting them under load.
 */
struct journal {
	pthread_mutex_t lock;		/* taken inside an id's lock */
	int fd;				/* -1: none */
	char *path, *prev;
	int64_t started;		/* the current generation's first now */
};

struct mc3_replay {
	uint64_t seed;
	unsigned int window, per_id;
	pthread_rwlock_t ids_lock;	/* the map; each id has its own lock */
	struct id_cache **ids;		/* open addressing by the id's hash */
	uint32_t ids_mask, nr_ids;
	/* Unknown ids prefetch too, from a table of one line. */
	struct prefetch_hint decoy;
	uint64_t decoy_table[8];
	struct journal journal;
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
	r->journal.fd = -1;
	atomic_init(&r->decoy.table, (uintptr_t)r->decoy_table);
	atomic_init(&r->decoy.mask, 7);
	r->ids_mask = 63;
	r->ids = calloc(r->ids_mask + 1, sizeof(*r->ids));
	if (!r->ids || pthread_rwlock_init(&r->ids_lock, NULL) ||
	    pthread_mutex_init(&r->journal.lock, NULL) ||
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
 * walk costs more than the rest of the lookup: 2 MiB or more (a table, or
 * the ring it grows with) asks for huge pages. madvise is a hint; without
 * it the memory still works.
 */
static void *big_alloc(size_t bytes)
{
	void *p;

	if (bytes < HUGE_PAGE)
		return calloc(1, bytes);
	/* Zeroed by the kernel as it is touched: not twice, by a memset. */
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void big_free(void *p, size_t bytes)
{
	if (bytes < HUGE_PAGE)
		free(p);
	else if (p)
		munmap(p, bytes);
}

static void id_cache_free(struct id_cache *c)
{
	pthread_mutex_destroy(&c->lock);
	big_free(c->ring, (size_t)c->cap * sizeof(*c->ring));
	if (c->table)
		big_free(c->table, ((size_t)c->mask + 1) * sizeof(*c->table));
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
	pthread_mutex_destroy(&r->journal.lock);
	if (r->journal.fd >= 0)
		close(r->journal.fd);
	free(r->journal.path);
	free(r->journal.prev);
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
struct id_cache *mc3_replay_id(struct mc3_replay *r, const char *id)
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

/*
 * Room for one more entry (ring and table twice as large, up to limit): 0,
 * or -1. The old table is rehashed in its own order, not the ring's: an
 * entry at its home slot i goes to i or i + old size, and one probed past
 * it lands just after, so the new table fills in two ascending runs
 * instead of taking a cache miss per entry.
 */
static int id_cache_grow(struct id_cache *c, unsigned int limit)
{
	uint32_t cap = c->cap ? c->cap * 2 : 64, size, i;
	struct entry *ring;
	uint64_t *table;

	if (cap > limit)
		cap = limit;
	for (size = 1; size < 2 * cap; size <<= 1)
		;
	ring = big_alloc((size_t)cap * sizeof(*ring));
	table = big_alloc((size_t)size * sizeof(*table));
	if (!ring || !table) {
		big_free(ring, (size_t)cap * sizeof(*ring));
		big_free(table, (size_t)size * sizeof(*table));
		return -1;
	}
	for (i = 0; i < c->count; i++)
		ring[i] = c->ring[(c->head + i) % c->cap];
	big_free(c->ring, (size_t)c->cap * sizeof(*c->ring));
	c->ring = ring;
	c->cap = cap;
	c->head = 0;
	if (c->table) {
		uint64_t *old = c->table;
		uint32_t old_size = c->mask + 1;

		c->table = table;
		c->mask = size - 1;
		for (i = 0; i < old_size; i++)
			if (old[i])
				c->table[place_of(c, old[i])] = old[i];
		big_free(old, (size_t)old_size * sizeof(*old));
	} else {
		c->table = table;
		c->mask = size - 1;
	}
	atomic_store_explicit(&c->hint.table, (uintptr_t)table, memory_order_relaxed);
	atomic_store_explicit(&c->hint.mask, c->mask, memory_order_relaxed);
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

/* Remember h until expiry: 0, or -1 when the id holds limit already. */
static int id_cache_add(struct id_cache *c, unsigned int limit, uint64_t h, int64_t expiry)
{
	if (c->count >= limit || (c->count == c->cap && id_cache_grow(c, limit)))
		return -1;
	c->ring[(c->head + c->count) % c->cap] = (struct entry){ h, expiry };
	c->count++;
	c->table[place_of(c, h)] = h;
	return 0;
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

void mc3_replay_prefetch(struct mc3_replay *r, struct id_cache *c, const unsigned char *mac,
			 size_t len)
{
	const struct prefetch_hint *hint = c ? &c->hint : &r->decoy;
	uintptr_t table = atomic_load_explicit(&hint->table, memory_order_relaxed);
	uint32_t mask = atomic_load_explicit(&hint->mask, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&hint->head_hash, memory_order_relaxed);

	if (!table)
		return;		/* nothing remembered yet */
	/* Integer arithmetic: the table may have been freed since. */
	__builtin_prefetch((const void *)(table + (mac_hash(r, mac, len) & mask) * sizeof(uint64_t)));
	__builtin_prefetch((const void *)(table + (head & mask) * sizeof(uint64_t)));
}

struct journal_record {
	int64_t expiry;
	uint64_t hash;
	uint8_t id_len;
	char id[ID_MAX];
};

#define RECORD_HEAD	offsetof(struct journal_record, id)

/* A journal file's first octets: what its hashes and expiries mean. */
struct journal_header {
	char magic[8];
	uint64_t seed;
	uint32_t window;
	uint32_t reserved;
};

/* One record, whole or not at all: a short write is cut back off. */
static int record_write(int fd, const char *id, uint64_t h, int64_t expiry)
{
	struct journal_record rec = { .expiry = expiry, .hash = h };
	size_t len = strlen(id);
	off_t end = lseek(fd, 0, SEEK_END);
	ssize_t n;

	rec.id_len = len;
	memcpy(rec.id, id, len);
	n = write(fd, &rec, RECORD_HEAD + len);
	if (n == (ssize_t)(RECORD_HEAD + len))
		return 0;
	if (n > 0 && end >= 0 && ftruncate(fd, end))
		return -1;
	return -1;
}

/* A new private file at path with the header: its fd, or -1 (errno). */
static int journal_create(const struct mc3_replay *r, const char *path)
{
	struct journal_header hdr = { .magic = JOURNAL_MAGIC, .seed = r->seed,
				      .window = r->window };
	int fd;

	/* Never through a link, never someone else's file or mode. */
	if (unlink(path) && errno != ENOENT)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) || write(fd, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* The next generation, when the current one is old enough: 0, or -1. */
static int journal_turn(struct mc3_replay *r, int64_t now)
{
	struct journal *j = &r->journal;
	int fd;

	if (now - j->started <= 2 * (int64_t)r->window + 1)
		return 0;
	if (rename(j->path, j->prev))
		return -1;
	fd = journal_create(r, j->path);
	if (fd < 0)
		return -1;
	close(j->fd);
	j->fd = fd;
	j->started = now;
	return 0;
}

static int journal_append(struct mc3_replay *r, const char *id, uint64_t h, int64_t expiry,
			  int64_t now)
{
	struct journal *j = &r->journal;
	int ret;

	pthread_mutex_lock(&j->lock);
	ret = journal_turn(r, now) ? -1 : record_write(j->fd, id, h, expiry);
	pthread_mutex_unlock(&j->lock);
	return ret;
}

int mc3_replay_check_id(struct mc3_replay *r, struct id_cache *c, const unsigned char *mac,
			size_t len, int64_t expiry, int64_t now)
{
	int v = MC3_OK;
	uint64_t h;

	if (!c) {
		atomic_fetch_add(&r->refused, 1);
		return MC3_EFULL;
	}
	h = mac_hash(r, mac, len);
	pthread_mutex_lock(&c->lock);
	if (now > c->latest)
		c->latest = now;
	id_cache_expire(c, c->latest);
	if (c->count && c->table[place_of(c, h)] == h) {
		v = MC3_EREPLAY;
		goto out;
	}
	/* Expired by a clock that has already been later: stale, not new. */
	if (expiry <= c->latest) {
		v = MC3_ESTALE;
		goto out;
	}
	if (id_cache_add(c, r->per_id, h, expiry)) {
		atomic_fetch_add(&r->refused, 1);
		v = MC3_EFULL;
		goto out;
	}
	/* Not on record, not remembered: refused rather than replayable later. */
	if (r->journal.fd >= 0 && journal_append(r, c->id, h, expiry, c->latest)) {
		atomic_fetch_add(&r->journal_errors, 1);
		atomic_fetch_add(&r->refused, 1);
		table_remove(c, h);
		c->count--;
		v = MC3_EFULL;
	}
out:
	atomic_store_explicit(&c->hint.head_hash, c->count ? c->ring[c->head].hash : 0,
			      memory_order_relaxed);
	pthread_mutex_unlock(&c->lock);
	return v;
}

/*
 * The records of one journal file into the cache, each expiry moved on by
 * grow (a window larger than the file's), restored even past per_id: an
 * unexpired MAC is never dropped. 0; 1 if the file does not exist; -1 with
 * the reason in err.
 */
static int journal_load(struct mc3_replay *r, const char *path, bool first, int64_t now,
			char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct journal_header hdr;
	struct journal_record rec;
	int64_t grow;
	off_t at = sizeof(hdr);
	struct stat st;
	ssize_t n;

	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    read(fd, &hdr, sizeof(hdr)) != sizeof(hdr) ||
	    memcmp(hdr.magic, JOURNAL_MAGIC, 8) || (!first && hdr.seed != r->seed)) {
		snprintf(err, errlen, "%s: not a replay journal of this version, or not of the same cache",
			 path);
		close(fd);
		return -1;
	}
	r->seed = hdr.seed;
	grow = r->window > hdr.window ? (int64_t)(r->window - hdr.window) : 0;
	while ((n = read(fd, &rec, RECORD_HEAD)) == (ssize_t)RECORD_HEAD) {
		struct id_cache *c;
		char id[ID_MAX + 1];

		if (!rec.id_len || rec.id_len > ID_MAX || !(rec.hash & 1))
			break;
		n = read(fd, rec.id, rec.id_len);
		if (n != rec.id_len) {
			n = n < 0 ? -1 : 0;	/* a torn last record: the end */
			break;
		}
		at += RECORD_HEAD + rec.id_len;
		rec.expiry += grow;
		if (rec.expiry <= now)
			continue;
		memcpy(id, rec.id, rec.id_len);
		id[rec.id_len] = '\0';
		c = mc3_replay_id(r, id);
		if (!c || id_cache_add(c, MC3_REPLAY_MAX, rec.hash, rec.expiry)) {
			snprintf(err, errlen, "%s: cannot hold its records (too many ids, or out of memory)",
				 path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	/* Anything but the end of the file, or a torn last record: damage. */
	if (n != 0 && !(n > 0 && n < (ssize_t)RECORD_HEAD)) {
		snprintf(err, errlen, "%s: damaged at offset %lld", path, (long long)at);
		return -1;
	}
	return 0;
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
	fd = journal_create(r, tmp);
	if (fd < 0)
		goto fail;
	for (i = 0; i <= r->ids_mask; i++) {
		struct id_cache *c = r->ids[i];

		for (k = 0; c && k < c->count; k++) {
			const struct entry *e = &c->ring[(c->head + k) % c->cap];

			if (record_write(fd, c->id, e->hash, e->expiry))
				goto fail;
		}
	}
	if (fsync(fd) || rename(tmp, path))
		goto fail;
	close(fd);
	return open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
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
	struct journal *j = &r->journal;
	int prev, cur;

	if (j->fd >= 0 || r->nr_ids) {
		snprintf(err, errlen, "a journal is opened once, before the first verification");
		return MC3_EINVAL;
	}
	j->path = strdup(path);
	j->prev = malloc(strlen(path) + sizeof(".prev"));
	if (!j->path || !j->prev) {
		snprintf(err, errlen, "out of memory");
		return MC3_ENOMEM;
	}
	strcpy(j->prev, path);
	strcat(j->prev, ".prev");
	/* The older generation first: it sets the seed both must share. */
	prev = journal_load(r, j->prev, true, now, err, errlen);
	cur = prev < 0 ? -1 : journal_load(r, path, prev == 1, now, err, errlen);
	if (prev < 0 || cur < 0)
		return MC3_EIO;
	j->fd = journal_rewrite(r, path, err, errlen);
	if (j->fd < 0)
		return MC3_EIO;
	unlink(j->prev);
	j->started = now;
	return MC3_OK;
}

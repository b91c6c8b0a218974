// SPDX-License-Identifier: GPL-2.0
/*
 * Coverage of the module through KCOV: one buffer per program thread,
 * opened and mapped here (before the program's child is forked) and enabled
 * by each thread for itself. Only PCs inside the module's text count. The
 * module's blocks are the call sites of __sanitizer_cov_trace_pc that the
 * compiler put in sctls.ko, listed by kcov-points (the "points" file, one
 * "section offset file function" per block, offsets of the return address
 * KCOV records).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kfuzz.h"

#define KCOV_INIT_TRACE		_IOR('c', 1, unsigned long)
#define KCOV_ENABLE		_IO('c', 100)
#define KCOV_TRACE_PC		0
#define KF_COVER_WORDS		(1024 * 1024)
#define KF_EDGE_BITS		20

struct kf_point {
	uint64_t pc;
	char file[32];
	char func[64];
};

struct kf_cover {
	struct kf_point *points;
	unsigned int nr_points;
	uint64_t lo, hi;
	unsigned char *hit;		/* per point */
	unsigned char *edges;		/* bitmap of hashed (prev, cur) pairs */
	unsigned int nr_hit;
	int fd[KF_COVER_SLOTS];
	uint64_t *area[KF_COVER_SLOTS];
};

static int by_pc(const void *a, const void *b)
{
	const struct kf_point *x = a, *y = b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static int section_addr(const char *module, const char *section, uint64_t *addr)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/module/%s/sections/%s", module, section);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%lx", (unsigned long *)addr) == 1;
	fclose(f);
	return ok && *addr ? 0 : -EACCES;
}

struct kf_cover *kf_cover_open(const char *points_file, const char *module)
{
	struct kf_cover *c = calloc(1, sizeof(*c));
	char section[64], file[32], func[64];
	unsigned long off;
	unsigned int cap = 0;
	FILE *f;

	if (!c)
		return NULL;
	f = fopen(points_file, "r");
	if (!f) {
		fprintf(stderr, "kfuzz: %s: %s\n", points_file, strerror(errno));
		return NULL;
	}
	while (fscanf(f, "%63s %lx %31s %63s", section, &off, file, func) == 4) {
		uint64_t base;
		struct kf_point *pt;

		if (section_addr(module, section, &base)) {
			fprintf(stderr, "kfuzz: no address for %s's section %s (root? loaded?)\n",
				module, section);
			fclose(f);
			return NULL;
		}
		if (c->nr_points == cap) {
			cap = cap ? 2 * cap : 1024;
			c->points = realloc(c->points, cap * sizeof(*c->points));
			if (!c->points)
				abort();
		}
		pt = &c->points[c->nr_points++];
		pt->pc = base + off;
		snprintf(pt->file, sizeof(pt->file), "%s", file);
		snprintf(pt->func, sizeof(pt->func), "%s", func);
	}
	fclose(f);
	if (!c->nr_points) {
		fprintf(stderr, "kfuzz: %s lists no KCOV points: module built without KCOV?\n",
			points_file);
		return NULL;
	}
	qsort(c->points, c->nr_points, sizeof(*c->points), by_pc);
	c->lo = c->points[0].pc;
	c->hi = c->points[c->nr_points - 1].pc;
	c->hit = calloc(c->nr_points, 1);
	c->edges = calloc(1u << (KF_EDGE_BITS - 3), 1);

	for (unsigned int t = 0; t < KF_COVER_SLOTS; t++) {
		c->fd[t] = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
		if (c->fd[t] < 0 || ioctl(c->fd[t], KCOV_INIT_TRACE, KF_COVER_WORDS)) {
			fprintf(stderr, "kfuzz: kcov: %s (CONFIG_KCOV, debugfs mounted?)\n",
				strerror(errno));
			return NULL;
		}
		c->area[t] = mmap(NULL, KF_COVER_WORDS * sizeof(uint64_t),
				  PROT_READ | PROT_WRITE, MAP_SHARED, c->fd[t], 0);
		if (c->area[t] == MAP_FAILED) {
			fprintf(stderr, "kfuzz: kcov mmap: %s\n", strerror(errno));
			return NULL;
		}
	}
	return c;
}

/* Called by a program's thread on itself. */
int kf_cover_enable(struct kf_cover *c, unsigned int thread)
{
	if (!c)
		return 0;
	__atomic_store_n(&c->area[thread][0], 0, __ATOMIC_RELAXED);
	return ioctl(c->fd[thread], KCOV_ENABLE, KCOV_TRACE_PC);
}

void kf_cover_reset(struct kf_cover *c)
{
	if (!c)
		return;
	for (unsigned int t = 0; t < KF_COVER_SLOTS; t++)
		__atomic_store_n(&c->area[t][0], 0, __ATOMIC_RELAXED);
}

static long point_index(const struct kf_cover *c, uint64_t pc)
{
	long lo = 0, hi = (long)c->nr_points - 1;

	if (pc < c->lo || pc > c->hi)
		return -1;
	while (lo <= hi) {
		long mid = (lo + hi) / 2;

		if (c->points[mid].pc == pc)
			return mid;
		if (c->points[mid].pc < pc)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

unsigned int kf_cover_merge(struct kf_cover *c)
{
	unsigned int fresh = 0;

	if (!c)
		return 0;
	for (unsigned int t = 0; t < KF_COVER_SLOTS; t++) {
		uint64_t n = __atomic_load_n(&c->area[t][0], __ATOMIC_RELAXED);
		long prev = -1;

		if (n >= KF_COVER_WORDS)
			n = KF_COVER_WORDS - 1;
		for (uint64_t i = 1; i <= n; i++) {
			long idx = point_index(c, c->area[t][i]);
			uint32_t edge;

			if (idx < 0)
				continue;
			if (!c->hit[idx]) {
				c->hit[idx] = 1;
				c->nr_hit++;
				fresh++;
			}
			edge = (uint32_t)((prev * 0x9e3779b1u) ^ idx) & ((1u << KF_EDGE_BITS) - 1);
			if (!(c->edges[edge / 8] & (1u << (edge % 8)))) {
				c->edges[edge / 8] |= (unsigned char)(1u << (edge % 8));
				fresh++;
			}
			prev = idx;
		}
	}
	return fresh;
}

double kf_cover_share(struct kf_cover *c)
{
	return c && c->nr_points ? 100.0 * c->nr_hit / c->nr_points : 0;
}

/* Per file: blocks reached of blocks; the unreached, by function, to a file. */
void kf_cover_report(struct kf_cover *c, FILE *out, const char *unreached_file)
{
	FILE *u = unreached_file ? fopen(unreached_file, "w") : NULL;
	char files[16][32];
	unsigned int hit[16] = { 0 }, all[16] = { 0 }, nr_files = 0;

	if (!c)
		return;
	for (unsigned int i = 0; i < c->nr_points; i++) {
		unsigned int f;

		for (f = 0; f < nr_files && strcmp(files[f], c->points[i].file); f++)
			;
		if (f == nr_files && nr_files < 16)
			snprintf(files[nr_files++], sizeof(files[0]), "%s", c->points[i].file);
		if (f < 16) {
			all[f]++;
			hit[f] += c->hit[i];
		}
		if (u && !c->hit[i])
			fprintf(u, "%s %s +0x%lx\n", c->points[i].file, c->points[i].func,
				(unsigned long)c->points[i].pc);
	}
	fprintf(out, "kfuzz: module blocks reached: %u of %u (%.1f%%)\n", c->nr_hit,
		c->nr_points, kf_cover_share(c));
	for (unsigned int f = 0; f < nr_files; f++)
		fprintf(out, "kfuzz:   %-12s %4u of %4u (%.1f%%)\n", files[f], hit[f], all[f],
			100.0 * hit[f] / all[f]);
	/* Functions never entered: where the programs do not go yet. */
	fprintf(out, "kfuzz: functions not reached at all:");
	for (unsigned int i = 0, start = 0; i <= c->nr_points; i++) {
		bool same = i < c->nr_points && !strcmp(c->points[i].func, c->points[start].func);
		bool any = false;

		if (same)
			continue;
		for (unsigned int k = start; k < i; k++)
			any |= c->hit[k];
		if (!any)
			fprintf(out, " %s", c->points[start].func);
		start = i;
	}
	fprintf(out, "\n");
	if (u)
		fclose(u);
}

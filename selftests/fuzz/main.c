// SPDX-License-Identifier: GPL-2.0
/*
 * kfuzz: see kfuzz.h. Modes:
 *   kfuzz fuzz [--points FILE] [--seed N] [--seconds N] [--log FILE]
 *              [--crashes DIR] [--unreached FILE]
 *   kfuzz run [--repeat N] PROG...
 *   kfuzz minimize PROG
 *   kfuzz faults
 * A finding (a kernel report in the log, a broken invariant, a call that
 * never returns) stops the run: the program is printed and saved, and the
 * exit status is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/sctls.h>

#include "kfnl.h"
#include "kfuzz.h"

#define KF_CORPUS_MAX	4096
/* A backstop: an emulated vCPU may go tens of seconds unscheduled. */
#define KF_TIMEOUT_MS	60000

int kf_family_id;
uint32_t kf_events_group;

static struct kf_prog corpus[KF_CORPUS_MAX];
static unsigned int corpus_len;

/* What the kernel log may never say while the module is exercised. */
static const char bad_log[] =
	"BUG:|WARNING:|Oops|KASAN|UBSAN|ODEBUG|kmemleak|general protection|"
	"possible circular|possible recursive|inconsistent lock|suspicious RCU|"
	"refcount_t|list_add corruption|list_del corruption|Kernel panic|"
	"non-static key|detected stall|stalls on CPU|hung_task|blocked for more than";

static int kmsg_fd = -1;
static regex_t bad_re;

static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	if (regcomp(&bad_re, bad_log, REG_EXTENDED | REG_NOSUB))
		abort();
}

/* New kernel log lines that report a problem: printed; how many. */
static unsigned int kmsg_reports(FILE *out)
{
	unsigned int found = 0;
	char rec[2048];
	ssize_t n;

	while (kmsg_fd >= 0 && (n = read(kmsg_fd, rec, sizeof(rec) - 1)) != 0) {
		char *msg;

		if (n < 0) {
			if (errno == EPIPE)	/* overwritten records: go on */
				continue;
			break;
		}
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (found || !regexec(&bad_re, msg, 0, NULL, 0)) {
			if (found++ < 60)
				fprintf(out, "kfuzz: kernel: %s", msg);
		}
	}
	return found;
}

static int load_prog(const char *path, struct kf_prog *p)
{
	char text[16384], err[128];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "kfuzz: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	if (kf_prog_read(text, p, err, sizeof(err))) {
		fprintf(stderr, "kfuzz: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void report_finding(const struct kf_prog *p, const char *what, const char *dir,
			   unsigned long long seed, unsigned long exec, const char *tag)
{
	char path[512];
	int fd;

	printf("kfuzz: FOUND: %s\nkfuzz: the program (seed %llu, run %lu):\n", what, seed, exec);
	fflush(stdout);
	kf_prog_write(p, STDOUT_FILENO);
	if (!dir)
		return;
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/crash-%llu-%lu%s.prog", dir, seed, exec, tag);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dprintf(fd, "# %s\n", what);
		kf_prog_write(p, fd);
		close(fd);
		printf("kfuzz: saved as %s\n", path);
	}
}

static int resolve_family(void)
{
	int nl = kfnl_open();

	kf_family_id = nl < 0 ? nl : kfnl_family(nl, SCTLS_GENL_NAME, &kf_events_group);
	if (nl >= 0)
		close(nl);
	if (kf_family_id <= 0) {
		fprintf(stderr, "kfuzz: no generic netlink family \"sctls\": is the module loaded?\n");
		return -1;
	}
	return 0;
}

enum finding { NONE, KERNEL_REPORT, BROKEN_INVARIANT, HANG };

/* Run p once: what it found; the kernel's report printed when print. */
static enum finding run_once(const struct kf_prog *p, struct kf_cover *c, bool print,
			     struct kf_result *res)
{
	int err = kf_exec(c, p, KF_TIMEOUT_MS, res);

	if (err) {
		fprintf(stderr, "kfuzz: could not run a program: %s\n", strerror(-err));
		exit(2);
	}
	static FILE *quiet;

	if (!quiet)
		quiet = fopen("/dev/null", "w");
	if (kmsg_reports(print || !quiet ? stdout : quiet))
		return KERNEL_REPORT;
	if (res->hung)
		return HANG;
	return res->invariant_broken ? BROKEN_INVARIANT : NONE;
}

/*
 * Shorten a program that found something, in this boot: drop each call in
 * turn and keep the drop if a run or two still finds the same kind of
 * thing. (A kernel report that only comes once per boot, as lockdep's,
 * leaves the program as it is.) Bounded in time.
 */
static void minimize(struct kf_prog *p, enum finding kind)
{
	time_t end = time(NULL) + 300;
	unsigned int before = p->nr;
	struct kf_result res;

	for (unsigned int i = p->nr; i-- > 0 && p->nr > 1 && time(NULL) < end;) {
		struct kf_prog shorter = *p;

		memmove(&shorter.calls[i], &shorter.calls[i + 1],
			(shorter.nr - i - 1) * sizeof(shorter.calls[0]));
		shorter.nr--;
		for (int tries = 0; tries < 2; tries++)
			if (run_once(&shorter, NULL, false, &res) == kind) {
				*p = shorter;
				break;
			}
	}
	printf("kfuzz: minimized from %u to %u calls\n", before, p->nr);
}

/* The result of one run: 0, or 1 with the finding reported and saved. */
static int judge(struct kf_cover *c, const struct kf_prog *p, const char *crashes,
		 unsigned long long seed, unsigned long exec, bool shorten)
{
	struct kf_result res;
	enum finding kind = run_once(p, c, true, &res);
	struct kf_prog min = *p;
	char what[320];

	if (kind == NONE)
		return 0;
	if (kind == KERNEL_REPORT)
		snprintf(what, sizeof(what), "a kernel report (above)");
	else
		snprintf(what, sizeof(what), "%s: %s",
			 kind == HANG ? "a hang" : "a broken invariant", res.why);
	report_finding(p, what, crashes, seed, exec, "");
	if (shorten) {
		minimize(&min, kind);
		if (min.nr < p->nr)
			report_finding(&min, "the same, minimized", crashes, seed, exec, "-min");
	}
	return 1;
}

static int fuzz(struct kf_cover *c, unsigned long long seed, unsigned int seconds,
		const char *log, const char *crashes, const char *unreached)
{
	struct kf_rng rng = { .s = seed };
	time_t start = time(NULL), last = start;
	int log_fd = log ? open(log, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
	unsigned long exec;

	if (log && log_fd < 0)
		fprintf(stderr, "kfuzz: %s: %s (programs not logged)\n", log, strerror(errno));
	printf("kfuzz: seed %llu, %u s\n", seed, seconds);
	for (exec = 0; time(NULL) - start < seconds; exec++) {
		static struct kf_prog p;

		if (!corpus_len || kf_below(&rng, 4) == 0) {
			kf_gen(&rng, &p);
		} else {
			p = corpus[kf_below(&rng, corpus_len)];
			kf_mutate(&rng, &p, &corpus[kf_below(&rng, corpus_len)]);
		}
		/* Out of the guest before it runs: a panic loses the tty's buffer. */
		if (log_fd >= 0) {
			dprintf(log_fd, "# run %lu\n", exec);
			kf_prog_write(&p, log_fd);
			tcdrain(log_fd);
		}
		if (judge(c, &p, crashes, seed, exec, true)) {
			kf_cover_report(c, stdout, unreached);
			return 1;
		}
		if (kf_cover_merge(c) && corpus_len < KF_CORPUS_MAX)
			corpus[corpus_len++] = p;
		if (time(NULL) - last >= 30) {
			last = time(NULL);
			printf("kfuzz: %ld s: %lu programs, corpus %u, module blocks %.1f%%\n",
			       (long)(last - start), exec + 1, corpus_len, kf_cover_share(c));
			fflush(stdout);
		}
	}
	printf("kfuzz: %lu programs in %ld s, corpus %u, no finding\n", exec,
	       (long)(time(NULL) - start), corpus_len);
	kf_cover_report(c, stdout, unreached);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kfuzz fuzz [--points FILE] [--seed N] [--seconds N] [--log FILE]\n"
		"                  [--crashes DIR] [--unreached FILE]\n"
		"       kfuzz run [--repeat N] PROG...\n"
		"       kfuzz minimize PROG\n"
		"       kfuzz faults\n"
		"Fuzzes the loaded sctls module as root, guided by KCOV coverage when given\n"
		"the module's blocks (--points, from kcov-points; blind without), runs saved\n"
		"programs as regression tests (run), shortens a program that finds something\n"
		"(minimize), or fails each operation's n-th\n"
		"allocation and user copy in turn (faults). Exit status 1 on a finding.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "points", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },
		{ "crashes", required_argument, NULL, 'c' },
		{ "unreached", required_argument, NULL, 'u' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *points = NULL, *log = NULL, *crashes = NULL, *unreached = NULL, *mode;
	unsigned long long seed = 1;
	unsigned int seconds = 60, repeat = 1;
	struct kf_cover *c = NULL;
	int opt, status = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	mode = argv[1];
	argv++;
	argc--;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': points = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': seconds = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'l': log = optarg; break;
		case 'c': crashes = optarg; break;
		case 'u': unreached = optarg; break;
		case 'r': repeat = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Nothing of ours may page in over 9p while faults are injected. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		fprintf(stderr, "kfuzz: mlockall: %s\n", strerror(errno));
	if (resolve_family())
		return 2;
	kmsg_open();

	if (!strcmp(mode, "faults")) {
		status = kf_faults(stdout);
		if (kmsg_reports(stdout))
			status = 1;
		return status < 0 ? 2 : status;
	}
	if (!strcmp(mode, "minimize")) {
		struct kf_prog p;
		struct kf_result res;
		enum finding kind;

		if (optind >= argc || load_prog(argv[optind], &p))
			return 2;
		kind = run_once(&p, NULL, true, &res);
		if (kind == NONE) {
			printf("kfuzz: %s: found nothing to minimize\n", argv[optind]);
			return 1;
		}
		minimize(&p, kind);
		kf_prog_write(&p, STDOUT_FILENO);
		return 0;
	}
	if (!strcmp(mode, "run")) {
		if (optind >= argc) {
			usage(stderr);
			return 2;
		}
		for (int i = optind; i < argc; i++) {
			struct kf_prog p;
			int bad = 0;

			if (load_prog(argv[i], &p))
				return 2;
			for (unsigned int k = 0; k < repeat && !bad; k++)
				bad = judge(NULL, &p, NULL, 0, k, false);
			printf("%s - kfuzz: %s, %u runs\n", bad ? "not ok" : "ok", argv[i], repeat);
			status |= bad;
		}
		return status;
	}
	if (strcmp(mode, "fuzz")) {
		usage(stderr);
		return 2;
	}
	/* Without --points (a kernel without KCOV), blind: generation only. */
	if (points) {
		c = kf_cover_open(points, "sctls");
		if (!c)
			return 2;
	}
	return fuzz(c, seed, seconds, log, crashes, unreached);
}

// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

enum log_level log_max = LOG_INFO;

/*
 * Whether stderr is systemd's journal (JOURNAL_STREAM names its device and
 * inode): then each line starts with its syslog priority, "<3>", and the
 * journal keeps the time; elsewhere it starts with the local time.
 */
static bool to_journal(void)
{
	static int cached = -1;
	const char *env;
	struct stat st;
	unsigned long long dev, ino;

	if (cached < 0) {
		env = getenv("JOURNAL_STREAM");
		cached = env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 &&
			 !fstat(2, &st) && st.st_dev == dev && st.st_ino == ino;
	}
	return cached;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int priorities[] = { 3, 4, 6, 7 };	/* syslog's */
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > log_max)
		return;
	/* One line at a time: card links log from threads of their own. */
	flockfile(stderr);
	if (to_journal()) {
		fprintf(stderr, "<%d>", priorities[level]);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		localtime_r(&now.tv_sec, &tm);
		fprintf(stderr, "%04d-%02d-%02d %02d:%02d:%02d.%03ld ", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			now.tv_nsec / 1000000);
	}
	fprintf(stderr, "sctlsd: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: see and steer the smart-card TLS gateway of this network namespace,
 * over the generic netlink family "sctls".
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"

static const char usage[] =
"usage: sctls [-j [-p]] COMMAND [ARGS]\n"
"\n"
"See and steer the sctls gateway of this network namespace: the kernel module\n"
"that carries loopback connections to port 4116 (smartcard-tls) to a helper.\n"
"\n"
"commands:\n"
"  show                 the configuration, the helper's pid and the counters\n"
"  conns                the open connections: addresses, uid, pid, command,\n"
"                       state, bytes and credits each way, age (needs\n"
"                       CAP_NET_ADMIN)\n"
"  set NAME VALUE...    change the configuration at once (needs CAP_NET_ADMIN):\n"
"      ports P[,P...]         loopback ports to serve, 1 to 8; open connections\n"
"                             stay, removed ports refuse new ones\n"
"      max-conns N            concurrent connections, 1..65536\n"
"      window BYTES           credit per connection and direction for new\n"
"                             connections, 4096..16777216\n"
"      allow-uids U[,U...]|all  uids that may connect (up to 64); all: everyone\n"
"  reset ID             reset connection ID: the app sees ECONNRESET (needs\n"
"                       CAP_NET_ADMIN)\n"
"  top [-d SECONDS] [-n COUNT]\n"
"                       the connections, refreshed every SECONDS (default 1)\n"
"                       with their rates each way, and the card links' state\n"
"                       from sctlsd's status file; COUNT rounds, or until\n"
"                       interrupted (needs CAP_NET_ADMIN)\n"
"  monitor [-t]         print events (open, close, helper attach and detach)\n"
"                       as they happen, until interrupted (needs CAP_NET_ADMIN);\n"
"                       -t: each with the local time (JSON: \"time\")\n"
"\n"
"options:\n"
"  -j, --json           print JSON with the same names as the text output\n"
"  -p, --pretty         indent the JSON\n"
"  -V, --version        print this program's version and the loaded module's\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 done, 1 failed (the message says why), 2 bad usage.\n"
"See sctls(8).\n";

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sctls: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sctls --help'.\n");
	return EXIT_USAGE;
}

/* The module's version, as it says in sysfs, when it is loaded. */
static int print_version(void)
{
	char line[64] = "";
	FILE *f = fopen("/sys/module/sctls/version", "r");

	printf("sctls %s\n", SCTLS_VERSION);
	if (f && fgets(line, sizeof(line), f))
		printf("module %s", line);
	else
		printf("module not loaded\n");
	if (f)
		fclose(f);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(const struct opts *o, int argc, char **argv);
} commands[] = {
	{ "show", cmd_show },
	{ "conns", cmd_conns },
	{ "set", cmd_set },
	{ "reset", cmd_reset },
	{ "monitor", cmd_monitor },
	{ "top", cmd_top },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+jpVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'p':
			o.pretty = true;
			break;
		case 'V':
			return print_version();
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'sctls --help'.\n");
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (!argc)
		return usage_error("a command is needed: show, conns, top, set, reset, monitor");
	if (!strcmp(argv[0], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].run(&o, argc, argv);
	return usage_error("unknown command '%s'", argv[0]);
}

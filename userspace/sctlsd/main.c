// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: the sctls helper daemon. Holds /dev/sctls and relays every app
 * connection the kernel hands it to the card link of its port.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/sctls.h>

#include "config.h"
#include "link.h"
#include "log.h"
#include "relay.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: sctlsd [options] --link PORT=KIND:ADDRESS [--link ...]\n"
"       sctlsd [options] -c FILE\n"
"\n"
"Serves the loopback connections sctls.ko takes on PORT (4116 is the\n"
"smartcard-tls port) by relaying each to the card over its link. Runs in\n"
"the foreground and logs to stderr (to the journal with priorities under\n"
"systemd, which it tells when it is ready: Type=notify). It is ready once\n"
"every socket link has answered. SIGHUP reads the configuration again: a\n"
"new uid list applies at once, changed links at the next start. SIGTERM\n"
"or SIGINT closes every connection in an orderly way and exits 0.\n"
"\n"
"  -l, --link PORT=KIND:ADDRESS  route PORT to a card link; KIND is\n"
"                                unix:PATH or tcp:HOST:PORT ([HOST] for IPv6)\n"
"                                to a card's byte stream%s;\n"
"                                or at:DEVICE for a UICC behind a modem: its\n"
"                                AT port (3GPP TS 27.007 USAT commands, the\n"
"                                TE profile claiming BIP; 115200 baud)%s\n"
"  -c, --config FILE             read settings from FILE: one per line,\n"
"                                'link PORT=KIND:ADDRESS' or 'allow-uid LIST';\n"
"                                '#' starts a comment\n"
"  -u, --allow-uid LIST          only these uids (comma-separated) may\n"
"                                connect; others are reset and logged.\n"
"                                Default: everyone\n"
"  -d, --device PATH             the sctls device (default /dev/sctls)\n"
"  -s, --status FILE             write the state of sctlsd and its card links\n"
"                                to FILE each second, as JSON, for sctls show\n"
"                                and sctls top (the unit: /run/sctls/status.json)\n"
"  -v, --verbose                 log more; twice for debug\n"
"  -V, --version                 print the version and exit\n"
"  -h, --help                    this text\n"
"\n"
"Exit status: 0 after SIGTERM/SIGINT; 1 when the device is missing, busy\n"
"or not permitted, or fails; 2 for bad options or configuration.\n",
		link_pcsc_usage, link_mbim_usage);
}

/* Bad usage: the reason (when getopt has not given it), then where to look. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "sctlsd: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "Try 'sctlsd --help'.\n");
	return 2;
}

static const struct option opts[] = {
	{ "link", required_argument, NULL, 'l' },
	{ "config", required_argument, NULL, 'c' },
	{ "allow-uid", required_argument, NULL, 'u' },
	{ "device", required_argument, NULL, 'd' },
	{ "status", required_argument, NULL, 's' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};
static const char optstring[] = "l:c:u:d:s:vVh";

/* An option that is configuration: 1 if opt is one (0 or -1 in *ret), else 0. */
static int config_option(struct config *cfg, int opt, int *ret, char *err, size_t errlen)
{
	switch (opt) {
	case 'l':
		*ret = config_add_link(cfg, optarg, err, errlen);
		return 1;
	case 'c':
		*ret = config_load_file(cfg, optarg, err, errlen);
		return 1;
	case 'u':
		*ret = config_add_uids(cfg, optarg, err, errlen);
		return 1;
	}
	return 0;
}

static int saved_argc;
static char **saved_argv;

/* SIGHUP: the configuration again, from the same options and files. */
static int reread_config(struct config *cfg, char *err, size_t errlen)
{
	int opt, ret = 0;

	optind = 0;	/* glibc: start over */
	opterr = 0;	/* these options were good at start */
	while (!ret && (opt = getopt_long(saved_argc, saved_argv, optstring, opts, NULL)) != -1)
		config_option(cfg, opt, &ret, err, errlen);
	if (!ret && !cfg->nr_links) {
		snprintf(err, errlen, "no card link");
		ret = -1;
	}
	return ret;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	const char *device = "/dev/" SCTLS_DEVICE_NAME, *status_path = NULL;
	struct relay *relay;
	char err[512];
	int opt, status;

	saved_argc = argc;
	saved_argv = argv;
	while ((opt = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		int ret = 0;

		if (config_option(&cfg, opt, &ret, err, sizeof(err))) {
			if (ret)
				return usage_error("%s", err);
			continue;
		}
		switch (opt) {
		case 'd':
			device = optarg;
			break;
		case 's':
			status_path = optarg;
			break;
		case 'v':
			if (log_max < LOG_DEBUG)
				log_max++;
			break;
		case 'V':
			printf("sctlsd %s\n", SCTLS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:	/* getopt said what */
			return usage_error(NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!cfg.nr_links)
		return usage_error("no card link: give --link PORT=KIND:ADDRESS or -c FILE");

	relay = relay_new(&cfg, device, reread_config, status_path);
	if (!relay)
		return 1;
	status = relay_run(relay);
	relay_free(relay);
	return status;
}

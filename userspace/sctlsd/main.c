// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: the sctls helper daemon. Holds /dev/sctls and relays every app
 * connection the kernel hands it to the card link of its port.
 */
#include <getopt.h>
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
"the foreground and logs to stderr; SIGTERM or SIGINT closes every\n"
"connection in an orderly way and exits 0.\n"
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
"  -v, --verbose                 log more; twice for debug\n"
"  -h, --help                    this text\n"
"\n"
"Exit status: 0 after SIGTERM/SIGINT; 1 when the device is missing, busy\n"
"or not permitted, or fails; 2 for bad options or configuration.\n",
		link_pcsc_usage, link_mbim_usage);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "allow-uid", required_argument, NULL, 'u' },
		{ "device", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct config cfg;
	const char *device = "/dev/" SCTLS_DEVICE_NAME;
	struct relay *relay;
	char err[512];
	int opt, status;

	while ((opt = getopt_long(argc, argv, "l:c:u:d:vh", opts, NULL)) != -1) {
		int ret = 0;

		switch (opt) {
		case 'l':
			ret = config_add_link(&cfg, optarg, err, sizeof(err));
			break;
		case 'c':
			ret = config_load_file(&cfg, optarg, err, sizeof(err));
			break;
		case 'u':
			ret = config_add_uids(&cfg, optarg, err, sizeof(err));
			break;
		case 'd':
			device = optarg;
			break;
		case 'v':
			if (log_max < LOG_DEBUG)
				log_max++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (ret) {
			log_err("%s", err);
			return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	if (!cfg.nr_links) {
		log_err("no card link: give --link PORT=KIND:ADDRESS or -c FILE (see --help)");
		return 2;
	}

	relay = relay_new(&cfg, device);
	if (!relay)
		return 1;
	status = relay_run(relay);
	relay_free(relay);
	return status;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cardsim: the card behind a simulated modem, as a phone's SIM sits behind
 * its modem (MT). The modem is a pseudo-terminal that speaks 3GPP TS 27.007
 * AT commands to the terminal equipment (TE) on the other side and drives
 * the card with APDUs, handing its proactive commands to the TE as a modem
 * does for a TE that handles BIP.
 *
 * The line. The TE ends each command with CR (LF and CRLF do too; empty
 * lines are ignored). A line longer than MODEM_LINE_MAX octets is discarded
 * up to its end and answered ERROR. Echo is on at start: each command line
 * comes back with a CR before its answer. Responses are "\r\n<line>\r\n".
 * Prefix and command names are case-insensitive; hex strings may be quoted
 * or not, in either case, and the modem sends them quoted, upper case.
 *
 * Final results: OK; ERROR for a line that is not a command (no AT prefix,
 * a NUL, too long); otherwise errors are ERROR, or with AT+CMEE=1
 * "+CME ERROR: <n>", with AT+CMEE=2 "+CME ERROR: <text>":
 *   3 operation not allowed	(toolkit not enabled, no proactive command
 *				 outstanding, a TE profile that conflicts)
 *   4 operation not supported	(an unknown command or form)
 *   13 SIM failure		(the card refused an APDU: its SW is logged)
 *   50 incorrect parameters	(syntax, range, odd or non-hex strings)
 *   100 unknown		(the card said nothing)
 *
 * Commands (<hex> a hex string):
 *   AT, ATE0, ATE1, ATE (= ATE0)		OK
 *   ATI, ATI0		"cardsim simulated modem"
 *   AT+CMEE=<0|1|2>, AT+CMEE (= 0)		OK; AT+CMEE? "+CMEE: <n>"
 *   AT+CFUN?		"+CFUN: 1"; AT+CFUN=1 OK
 *   AT+CUSATR[=<n>]	"+CUSATR: <n>,<hex>" for n 0 TE profile (as written,
 *			"" if none), 1 MT profile, 2 MT default profile, 3
 *			the profile last sent to the card ("" if none), 5 the
 *			MT-only facilities; all five without <n>
 *   AT+CUSATW=0,<hex>	write the TE profile, 1 to 32 octets; AT+CUSATW=0
 *			clears it. A profile claiming an MT-only facility is
 *			refused: "+CUSATW: 5,<hex conflict mask>", error 3.
 *			AT+CUSATW=1 (the MT profile): error 3, it is fixed.
 *   AT+CUSATA[=<n>]	n 0 or none: status; 1: hand proactive commands to
 *			the TE from then on, the card's profile unchanged; 3:
 *			the same, after sending the card the MT profile OR
 *			the TE profile as TERMINAL PROFILE (the card's
 *			toolkit starts over); 2 (the MT default profile):
 *			error 4. Answers "+CUSATA: <state>,1", state 4 once
 *			enabled, else 2; 1: the card takes an additional
 *			TERMINAL PROFILE after its activation.
 *   AT+CUSATT=<hex>	TERMINAL RESPONSE (1..255 octets) to the outstanding
 *			proactive command, OK.
 *   AT+CUSATE=<hex>	ENVELOPE (1..255 octets): "+CUSATE: <hex response>,
 *			<busy>" and "+CUSATE2: <sw1>,<sw2>" (decimal), OK;
 *			busy is 1 when the card said 9300 (not retried). A
 *			SW other than 90xx, 91xx, 9300: "+CUSATE2: ..." and
 *			error 13.
 *   Test forms (=?) of the above answer their ranges, or just OK.
 * One command per line: no ';' concatenation.
 *
 * Unsolicited, never inside a command's answer (queued until its final
 * result): "+CUSATP: <hex>" a proactive command, fetched whenever the card
 * says 91xx (only one is outstanding until +CUSATT answers it);
 * "+CUSATEND" when the card's answer to a TERMINAL RESPONSE ends the
 * proactive session (9000); after a modem reset, "+CUSATEND" then "RDY".
 * While the toolkit is enabled, nothing is outstanding and no command line
 * waits, the card is polled with STATUS every poll_ms, so that what its web
 * server writes gets out.
 *
 * The pty has no speed: at baud > 0, the modem writes at most baud / 10
 * octets a second and takes length * 10 / baud seconds to receive each
 * command line. While no one has the slave open, output is thrown away
 * (and what the last TE left unread is flushed); commands it had not yet
 * had read are dropped with it.
 */
#ifndef CARDSIM_MODEM_H
#define CARDSIM_MODEM_H

#include <stdbool.h>

#include "uicc.h"

#define MODEM_LINE_MAX		4096
#define MODEM_BAUD_DEFAULT	115200
#define MODEM_POLL_MS_DEFAULT	20

struct modem_options {
	const char *path;		/* the symlink made to the pty's slave */
	unsigned int baud;		/* 0: unthrottled */
	unsigned int poll_ms;		/* STATUS while the toolkit is enabled */
	/* Test modes. */
	bool keeps_bip;			/* BIP is MT-only: the TE may not claim it */
	unsigned long reset_after;	/* reset once after this many TERMINAL
					 * RESPONSEs; 0: never */
	bool no_session_end;		/* never say +CUSATEND */
	unsigned int slow_start_ms;	/* the first lines after a TE opens: this late */
	bool tracing;			/* each AT line and APDU, to stderr */
};

/*
 * Be the modem in front of u until SIGTERM or SIGINT, then remove the
 * symlink: 0. Or -1 having said why in err.
 */
int modem_run(const struct modem_options *opt, struct uicc *u, char *err, size_t errlen);

#endif

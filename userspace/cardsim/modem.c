// SPDX-License-Identifier: GPL-2.0
/*
 * cardsim: a simulated modem in front of the card (the dialect is in
 * modem.h). One thread, one poll loop: the pty's master, a signal pipe and
 * the timers of the line's speed and of the card's polling. The card's
 * sessions are sockets that uicc.c reads itself when given an APDU.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../bip/bip.h"
#include "modem.h"
#include "pty.h"

#define NSEC_PER_SEC		1000000000LL
#define NSEC_PER_MSEC		1000000LL
#define IDLE_NS			(10 * NSEC_PER_SEC)
/* How often to look whether a TE has opened the slave again. */
#define HUP_RETRY_NS		(100 * NSEC_PER_MSEC)
/* At most this much of the line's time may be used in one burst. */
#define TX_BURST_NS		(10 * NSEC_PER_MSEC)

#define OUT_CAP			(16 * 1024)
#define URC_CAP			1024
/* The room a command needs: its echo and its longest answer. */
#define COMMAND_ROOM		(MODEM_LINE_MAX + 4096)
#define PROFILE_MAX		32
#define MAX_PARAMS		4
#define TRACE_MAX		160

/* +CME ERROR codes (TS 27.007 9.2); RESULT_ERROR is a plain ERROR. */
enum result {
	RESULT_ERROR		= -1,
	RESULT_OK		= 0,
	CME_NOT_ALLOWED		= 3,
	CME_NOT_SUPPORTED	= 4,
	CME_SIM_FAILURE		= 13,
	CME_BAD_PARAMETERS	= 50,
	CME_UNKNOWN		= 100,
};

/* The poll: TS 102 221 STATUS, P2 0C (no data back). */
static const uint8_t status_apdu[4] = { BIP_CLA, BIP_INS_STATUS, 0x00, 0x0c };

/*
 * What this MT offers by itself (TS 102 223 5.2): profile download,
 * command result, DISPLAY TEXT, MORE TIME, POLL INTERVAL, POLLING OFF,
 * PROVIDE LOCAL INFORMATION. No BIP: that is the TE's to claim.
 */
static const uint8_t mt_profile[] = { 0x01, 0x01, 0x69, 0x40 };

/*
 * --modem-keeps-bip: BIP is the MT's alone, every bit sctlsd's profile sets
 * beyond profile download (bip/profile.c): SET UP EVENT LIST, the two
 * events, the five BIP commands, the channel count, TCP server mode.
 */
static const uint8_t bip_facilities[17] = {
	[4] = 0x01, [5] = 0x0c, [11] = 0x1f, [12] = 0xe0, [16] = 0x04,
};

struct modem {
	const struct modem_options *opt;
	struct uicc *u;
	int master;
	char slave[PTY_NAME_MAX];
	bool te_present;		/* someone has the slave open */
	int64_t te_check_at;

	/* Input: what was read, and the command line being assembled. */
	char raw[1024];
	size_t raw_pos, raw_len;
	char line[MODEM_LINE_MAX + 1];
	size_t line_len, line_bytes;	/* kept; read for it, ends and all */
	bool overlong, line_ready;
	int64_t line_at;		/* when the ready line has arrived */
	int64_t rx_clock;

	/* Output, paced by tx_clock; unsolicited lines held during a command. */
	char out[OUT_CAP];
	size_t out_len;
	int64_t tx_clock;
	char urc[URC_CAP];
	size_t urc_len;
	bool in_command;
	unsigned long long octets_out, octets_in;	/* over the line, for make bench */

	bool echo;
	int cmee;

	uint8_t te_profile[PROFILE_MAX], sent[PROFILE_MAX];
	size_t te_len, sent_len;
	bool enabled;			/* +CUSATA=1 done */
	bool outstanding;		/* a +CUSATP not yet answered */
	int64_t poll_at;
	unsigned long responses;	/* TERMINAL RESPONSEs, for reset_after */
	bool reset_pending, reset_done;
};

static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;
	ssize_t n = write(signal_pipe[1], &c, 1);

	(void)n;	/* full: a signal is already waiting */
	errno = saved;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The time octets take on the line: ten bits each. */
static int64_t line_time(const struct modem *m, size_t octets)
{
	return m->opt->baud ? (int64_t)octets * 10 * NSEC_PER_SEC / m->opt->baud : 0;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* --trace: a line, its unprintable octets escaped, shortened if long. */
static void trace_line(const struct modem *m, const char *dir, const char *p, size_t len)
{
	size_t i;

	if (!m->opt->tracing)
		return;
	fprintf(stderr, "cardsim: AT%s ", dir);
	for (i = 0; i < len && i < TRACE_MAX; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "%s\n", len > TRACE_MAX ? " ..." : "");
}

/* --trace: an APDU or its response, as vpcd.c logs them. */
static void trace_apdu(const struct modem *m, const char *dir, const uint8_t *p, size_t len)
{
	size_t i;

	if (!m->opt->tracing)
		return;
	fprintf(stderr, "cardsim: %s", dir);
	for (i = 0; i < len && i < 24; i++)
		fprintf(stderr, " %02X", p[i]);
	fprintf(stderr, "%s\n", len > 24 ? " ..." : "");
}

/* Output to the TE, or nowhere while there is none. */
static void emit(struct modem *m, const char *p, size_t len)
{
	if (!m->te_present)
		return;
	if (len > sizeof(m->out) - m->out_len) {
		fprintf(stderr, "cardsim: modem output full: %zu octets dropped\n", len);
		return;
	}
	memcpy(m->out + m->out_len, p, len);
	m->out_len += len;
}

/* A response line, framed. */
static void say_raw(struct modem *m, const char *text, size_t len)
{
	trace_line(m, ">", text, len);
	emit(m, "\r\n", 2);
	emit(m, text, len);
	emit(m, "\r\n", 2);
}

static void __attribute__((format(printf, 2, 3))) say(struct modem *m, const char *fmt, ...)
{
	char text[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= 0)
		say_raw(m, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* "<prefix>"<HEX>"<suffix>": the hex strings of responses, one line. */
static size_t hex_line(char *buf, size_t cap, const char *prefix, const uint8_t *data,
		       size_t len, const char *suffix)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t n = strlen(prefix), i;

	if (n + 2 * len + 2 + strlen(suffix) + 1 > cap)
		return 0;
	memcpy(buf, prefix, n);
	buf[n++] = '"';
	for (i = 0; i < len; i++) {
		buf[n++] = digits[data[i] >> 4];
		buf[n++] = digits[data[i] & 0xf];
	}
	buf[n++] = '"';
	n += sprintf(buf + n, "%s", suffix);
	return n;
}

static void say_hex(struct modem *m, const char *prefix, const uint8_t *data, size_t len,
		    const char *suffix)
{
	char text[32 + 2 * UICC_RESPONSE_MAX];
	size_t n = hex_line(text, sizeof(text), prefix, data, len, suffix);

	if (n)
		say_raw(m, text, n);
}

/*
 * An unsolicited line: straight out between commands, held back during
 * one so as not to fall among its answer's lines.
 */
static void urc_hex(struct modem *m, const char *prefix, const uint8_t *data, size_t len)
{
	char text[32 + 2 * UICC_RESPONSE_MAX];
	size_t n = data ? hex_line(text, sizeof(text), prefix, data, len, "") :
			  (size_t)snprintf(text, sizeof(text), "%s", prefix);

	if (!n || n >= sizeof(text))
		return;
	if (!m->in_command) {
		say_raw(m, text, n);
	} else if (n + 1 > sizeof(m->urc) - m->urc_len) {
		fprintf(stderr, "cardsim: modem: unsolicited line dropped: %s\n", prefix);
	} else {
		memcpy(m->urc + m->urc_len, text, n);
		m->urc[m->urc_len + n] = '\n';
		m->urc_len += n + 1;
	}
}

static void urc(struct modem *m, const char *line)
{
	urc_hex(m, line, NULL, 0);
}

/* An APDU to the card: its status word, the response data into data. */
static unsigned int card_apdu(struct modem *m, const uint8_t *apdu, size_t len,
			      uint8_t *data, size_t *data_len)
{
	uint8_t out[UICC_RESPONSE_MAX];
	size_t n;

	trace_apdu(m, ">", apdu, len);
	n = uicc_apdu(m->u, apdu, len, out, sizeof(out));
	trace_apdu(m, "<", out, n);
	if (data_len)
		*data_len = 0;
	if (n < 2)
		return 0;	/* no status word: not a card's answer */
	if (data && n > 2) {
		memcpy(data, out, n - 2);
		*data_len = n - 2;
	}
	return out[n - 2] << 8 | out[n - 1];
}

/* A command of class 80 with data: the card's status word. */
static unsigned int card_send(struct modem *m, uint8_t ins, const uint8_t *data, size_t len,
			      uint8_t *resp, size_t *resp_len)
{
	uint8_t apdu[5 + BIP_MAX_DATA + 1];
	size_t n = bip_apdu(apdu, sizeof(apdu), ins, data, len, -1);

	return n ? card_apdu(m, apdu, n, resp, resp_len) : 0;
}

static bool sw_ok(unsigned int sw)
{
	return sw >> 8 == 0x90 || bip_sw_pending(sw);
}

/* 91xx: fetch the proactive command and hand it to the TE. */
static void card_proactive(struct modem *m, unsigned int sw)
{
	uint8_t apdu[5], cmd[UICC_RESPONSE_MAX];
	size_t n, len;

	if (!bip_sw_pending(sw) || m->outstanding)
		return;
	n = bip_apdu(apdu, sizeof(apdu), BIP_INS_FETCH, NULL, 0, (sw & 0xff) ?: 256);
	sw = card_apdu(m, apdu, n, cmd, &len);
	if (sw != BIP_SW_OK || !len) {
		fprintf(stderr, "cardsim: modem: FETCH answered %04X\n", sw);
		return;
	}
	m->outstanding = true;
	urc_hex(m, "+CUSATP: ", cmd, len);
}

/* The poll: STATUS, which tells of a command the card has ready. */
static void card_poll(struct modem *m)
{
	unsigned int sw = card_apdu(m, status_apdu, sizeof(status_apdu), NULL, NULL);

	if (!sw_ok(sw))
		fprintf(stderr, "cardsim: modem: STATUS answered %04X\n", sw);
	card_proactive(m, sw);
}

/* Power on, as freshly: the settings of ATE, AT+CMEE and the toolkit. */
static void modem_power_on(struct modem *m)
{
	m->echo = true;
	m->cmee = 0;
	m->te_len = m->sent_len = 0;
	m->enabled = m->outstanding = false;
}

/* --modem-reset-after: the card reset, the TE told as a Quectel modem does. */
static void modem_reset(struct modem *m)
{
	fprintf(stderr, "cardsim: modem: reset after %lu terminal responses\n", m->responses);
	uicc_reset(m->u);
	modem_power_on(m);
	m->reset_pending = false;
	m->reset_done = true;
	urc(m, "+CUSATEND");
	urc(m, "RDY");
}

/* Parameters of an extended command: numbers or strings, quoted or not. */
struct param {
	const char *s;
	size_t len;
	bool quoted;
};

/* args into params: their count, or -1 if malformed or too many. */
static int parse_params(const char *a, struct param *ps, int max)
{
	int n = 0;

	if (!*a)
		return 0;
	for (;;) {
		struct param *p;

		if (n == max)
			return -1;
		p = &ps[n++];
		while (*a == ' ')
			a++;
		p->quoted = *a == '"';
		if (p->quoted) {
			const char *end = strchr(a + 1, '"');

			if (!end)
				return -1;	/* a lone quote */
			p->s = a + 1;
			p->len = end - p->s;
			a = end + 1;
		} else {
			p->s = a;
			a += strcspn(a, ",\"");
			p->len = a - p->s;
			while (p->len && p->s[p->len - 1] == ' ')
				p->len--;
		}
		while (*a == ' ')
			a++;
		if (!*a)
			return n;
		if (*a++ != ',')
			return -1;
	}
}

/* A number parameter up to max, or -1. */
static long param_num(const struct param *p, long max)
{
	long v = 0;
	size_t i;

	if (p->quoted || !p->len || p->len > 6)
		return -1;
	for (i = 0; i < p->len; i++) {
		if (p->s[i] < '0' || p->s[i] > '9')
			return -1;
		v = v * 10 + (p->s[i] - '0');
	}
	return v <= max ? v : -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A hex string parameter of 1 to cap octets into buf: its length, or -1. */
static long param_hex(const struct param *p, uint8_t *buf, size_t cap)
{
	size_t i;

	if (!p->len || p->len % 2 || p->len / 2 > cap)
		return -1;
	for (i = 0; i < p->len / 2; i++) {
		int hi = hex_digit(p->s[2 * i]), lo = hex_digit(p->s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = hi << 4 | lo;
	}
	return p->len / 2;
}

enum form { FORM_ACTION, FORM_READ, FORM_TEST, FORM_SET };

/* One parameter, a number up to max, of a set command; or -1. */
static long one_num(const char *args, long max)
{
	struct param p[MAX_PARAMS];

	return parse_params(args, p, MAX_PARAMS) == 1 ? param_num(&p[0], max) : -1;
}

/* One parameter, a hex string of 1 to cap octets; or -1. */
static long one_hex(const char *args, uint8_t *buf, size_t cap)
{
	struct param p[MAX_PARAMS];

	return parse_params(args, p, MAX_PARAMS) == 1 ? param_hex(&p[0], buf, cap) : -1;
}

static int at_cmee(struct modem *m, enum form form, const char *args)
{
	long n = 0;

	switch (form) {
	case FORM_READ:
		say(m, "+CMEE: %d", m->cmee);
		return RESULT_OK;
	case FORM_TEST:
		say(m, "+CMEE: (0-2)");
		return RESULT_OK;
	case FORM_SET:
		n = one_num(args, 2);
		if (n < 0)
			return CME_BAD_PARAMETERS;
		break;
	case FORM_ACTION:
		break;
	}
	m->cmee = n;
	return RESULT_OK;
}

static int at_cfun(struct modem *m, enum form form, const char *args)
{
	switch (form) {
	case FORM_READ:
		say(m, "+CFUN: 1");
		return RESULT_OK;
	case FORM_TEST:
		say(m, "+CFUN: (1),(0)");
		return RESULT_OK;
	case FORM_SET:
		return one_num(args, 1) == 1 ? RESULT_OK : CME_NOT_SUPPORTED;
	default:
		return CME_NOT_SUPPORTED;
	}
}

static const uint8_t *mt_only(const struct modem *m, size_t *len)
{
	*len = m->opt->keeps_bip ? sizeof(bip_facilities) : 0;
	return bip_facilities;
}

/* One profile storage of +CUSATR; false if there is no such. */
static bool say_profile(struct modem *m, long n)
{
	const uint8_t *p;
	size_t len;
	char prefix[16];

	switch (n) {
	case 0:
		p = m->te_profile;
		len = m->te_len;
		break;
	case 1:
	case 2:
		p = mt_profile;
		len = sizeof(mt_profile);
		break;
	case 3:
		p = m->sent;
		len = m->sent_len;
		break;
	case 5:
		p = mt_only(m, &len);
		break;
	default:
		return false;
	}
	snprintf(prefix, sizeof(prefix), "+CUSATR: %ld,", n);
	say_hex(m, prefix, p, len, "");
	return true;
}

static int at_cusatr(struct modem *m, enum form form, const char *args)
{
	long n;

	switch (form) {
	case FORM_ACTION:
		for (n = 0; n <= 5; n++)
			say_profile(m, n);
		return RESULT_OK;
	case FORM_TEST:
		say(m, "+CUSATR: (0-3,5)");
		return RESULT_OK;
	case FORM_SET:
		n = one_num(args, 5);
		if (n == 4)
			return CME_NOT_SUPPORTED;	/* EF UST: this card has none */
		return n >= 0 && say_profile(m, n) ? RESULT_OK : CME_BAD_PARAMETERS;
	default:
		return CME_NOT_SUPPORTED;
	}
}

/* The TE profile's claims on MT-only facilities: conflict's length, or 0. */
static size_t profile_conflict(const struct modem *m, const uint8_t *tp, size_t len,
			       uint8_t *mask)
{
	size_t only_len, i, n = 0;
	const uint8_t *only = mt_only(m, &only_len);

	for (i = 0; i < len && i < only_len; i++) {
		mask[i] = tp[i] & only[i];
		if (mask[i])
			n = i + 1;
	}
	return n ? (len < only_len ? len : only_len) : 0;
}

static int at_cusatw(struct modem *m, enum form form, const char *args)
{
	struct param p[MAX_PARAMS];
	uint8_t tp[PROFILE_MAX], mask[PROFILE_MAX];
	long storage, len = 0;
	size_t conflict;
	int n;

	if (form == FORM_TEST) {
		say(m, "+CUSATW: (0)");
		return RESULT_OK;
	}
	if (form != FORM_SET)
		return form == FORM_ACTION ? CME_BAD_PARAMETERS : CME_NOT_SUPPORTED;
	n = parse_params(args, p, MAX_PARAMS);
	storage = n >= 1 && n <= 2 ? param_num(&p[0], 1) : -1;
	if (n == 2)
		len = param_hex(&p[1], tp, sizeof(tp));
	if (storage < 0 || len < 0)
		return CME_BAD_PARAMETERS;
	if (storage == 1)
		return CME_NOT_ALLOWED;		/* this MT's profile is fixed */
	conflict = profile_conflict(m, tp, len, mask);
	if (conflict) {
		say_hex(m, "+CUSATW: 5,", mask, conflict, "");
		return CME_NOT_ALLOWED;
	}
	memcpy(m->te_profile, tp, len);
	m->te_len = len;
	return RESULT_OK;
}

/* +CUSATA=1: the combined profile to the card, whose toolkit starts over. */
static int toolkit_enable(struct modem *m)
{
	size_t i, len = m->te_len > sizeof(mt_profile) ? m->te_len : sizeof(mt_profile);
	uint8_t tp[PROFILE_MAX] = { 0 };
	unsigned int sw;

	for (i = 0; i < len; i++)
		tp[i] = (i < m->te_len ? m->te_profile[i] : 0) |
			(i < sizeof(mt_profile) ? mt_profile[i] : 0);
	m->enabled = m->outstanding = false;
	sw = card_send(m, BIP_INS_TERMINAL_PROFILE, tp, len, NULL, NULL);
	if (!sw_ok(sw)) {
		fprintf(stderr, "cardsim: modem: TERMINAL PROFILE answered %04X\n", sw);
		return sw ? CME_SIM_FAILURE : CME_UNKNOWN;
	}
	memcpy(m->sent, tp, len);
	m->sent_len = len;
	m->enabled = true;
	m->poll_at = now_ns();
	card_proactive(m, sw);
	return RESULT_OK;
}

/*
 * 0: status only. 1: TE facility handling on, no profile download: the
 * card keeps the profile it has. 3: the MT and TE profiles merged, sent
 * to the card (whose toolkit starts over: this card supports an
 * additional TERMINAL PROFILE after activation, the ",1"), and handling on.
 */
static int at_cusata(struct modem *m, enum form form, const char *args)
{
	long n = 0;
	int ret;

	if (form == FORM_TEST) {
		say(m, "+CUSATA: (0,1,3)");
		return RESULT_OK;
	}
	if (form == FORM_READ)
		return CME_NOT_SUPPORTED;
	if (form == FORM_SET) {
		n = one_num(args, 3);
		if (n < 0 || n == 2)
			return n < 0 ? CME_BAD_PARAMETERS : CME_NOT_SUPPORTED;
	}
	if (n == 1) {
		m->enabled = true;
		m->poll_at = now_ns();
	} else if (n == 3) {
		ret = toolkit_enable(m);
		if (ret)
			return ret;
	}
	say(m, "+CUSATA: %d,1", m->enabled ? 4 : 2);
	return RESULT_OK;
}

/*
 * The one hex string of +CUSATT=, +CUSATE= into buf, *len its length: -1
 * to go on, else the answer (the test form's OK, or an error).
 */
static int set_hex(enum form form, const char *args, uint8_t *buf, size_t cap, long *len)
{
	if (form == FORM_TEST)
		return RESULT_OK;
	if (form != FORM_SET)
		return form == FORM_ACTION ? CME_BAD_PARAMETERS : CME_NOT_SUPPORTED;
	*len = one_hex(args, buf, cap);
	return *len < 0 ? CME_BAD_PARAMETERS : -1;
}

static int at_cusatt(struct modem *m, enum form form, const char *args)
{
	uint8_t tr[BIP_MAX_DATA];
	unsigned int sw;
	long len;
	int ret;

	ret = set_hex(form, args, tr, sizeof(tr), &len);
	if (ret >= 0)
		return ret;
	if (!m->enabled || !m->outstanding)
		return CME_NOT_ALLOWED;
	sw = card_send(m, BIP_INS_TERMINAL_RESPONSE, tr, len, NULL, NULL);
	m->responses++;
	if (m->opt->reset_after && m->responses >= m->opt->reset_after && !m->reset_done)
		m->reset_pending = true;	/* after this command's answer */
	if (!sw_ok(sw)) {
		fprintf(stderr, "cardsim: modem: TERMINAL RESPONSE answered %04X\n", sw);
		return sw ? CME_SIM_FAILURE : CME_UNKNOWN;
	}
	m->outstanding = false;
	if (m->reset_pending)
		return RESULT_OK;
	if (bip_sw_pending(sw))
		card_proactive(m, sw);
	else if (!m->opt->no_session_end)
		urc(m, "+CUSATEND");
	return RESULT_OK;
}

static int at_cusate(struct modem *m, enum form form, const char *args)
{
	uint8_t env[BIP_MAX_DATA], resp[UICC_RESPONSE_MAX];
	char suffix[8];
	size_t resp_len;
	unsigned int sw;
	long len;
	int ret;

	ret = set_hex(form, args, env, sizeof(env), &len);
	if (ret >= 0)
		return ret;
	if (!m->enabled)
		return CME_NOT_ALLOWED;
	sw = card_send(m, BIP_INS_ENVELOPE, env, len, resp, &resp_len);
	if (!sw)
		return CME_UNKNOWN;
	if (!sw_ok(sw) && sw != BIP_SW_BUSY) {
		fprintf(stderr, "cardsim: modem: ENVELOPE answered %04X\n", sw);
		say(m, "+CUSATE2: %u,%u", sw >> 8, sw & 0xff);
		return CME_SIM_FAILURE;
	}
	snprintf(suffix, sizeof(suffix), ",%d", sw == BIP_SW_BUSY);
	say_hex(m, "+CUSATE: ", resp, resp_len, suffix);
	say(m, "+CUSATE2: %u,%u", sw >> 8, sw & 0xff);
	card_proactive(m, sw);
	return RESULT_OK;
}

static const struct {
	const char *name;
	int (*run)(struct modem *m, enum form form, const char *args);
} extended[] = {
	{ "+CMEE", at_cmee },
	{ "+CFUN", at_cfun },
	{ "+CUSATR", at_cusatr },
	{ "+CUSATW", at_cusatw },
	{ "+CUSATA", at_cusata },
	{ "+CUSATT", at_cusatt },
	{ "+CUSATE", at_cusate },
};

/* +NAME, +NAME?, +NAME=?, +NAME=args. */
static int run_extended(struct modem *m, const char *cmd)
{
	const char *rest = cmd + 1;
	enum form form;
	size_t i, len;

	while (isalnum((unsigned char)*rest))
		rest++;
	len = rest - cmd;
	if (!*rest) {
		form = FORM_ACTION;
	} else if (!strcmp(rest, "?")) {
		form = FORM_READ;
	} else if (!strcmp(rest, "=?")) {
		form = FORM_TEST;
	} else if (*rest == '=') {
		form = FORM_SET;
		rest++;
	} else {
		return CME_NOT_SUPPORTED;	/* ';' and the like */
	}
	for (i = 0; i < sizeof(extended) / sizeof(extended[0]); i++) {
		if (strlen(extended[i].name) == len && !strncasecmp(cmd, extended[i].name, len))
			return extended[i].run(m, form, rest);
	}
	return CME_NOT_SUPPORTED;
}

/* E[n] and I[n]. */
static int run_basic(struct modem *m, const char *cmd)
{
	char name = cmd[0] & ~0x20;
	long n = 0;

	if (cmd[1]) {
		struct param p = { .s = cmd + 1, .len = strlen(cmd + 1) };

		n = param_num(&p, 9);
		if (n < 0)
			return CME_NOT_SUPPORTED;
	}
	if (name == 'E' && n <= 1) {
		m->echo = n;
		return RESULT_OK;
	}
	if (name == 'I' && !n) {
		say(m, "cardsim simulated modem");
		return RESULT_OK;
	}
	return name == 'E' ? CME_BAD_PARAMETERS : CME_NOT_SUPPORTED;
}

/* A command line, without its end: the final result to give. */
static int execute(struct modem *m, char *line, size_t len)
{
	if (memchr(line, '\0', len))
		return RESULT_ERROR;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	line += strspn(line, " \t");
	if (strncasecmp(line, "AT", 2))
		return RESULT_ERROR;
	line += 2;
	if (!*line)
		return RESULT_OK;
	return *line == '+' ? run_extended(m, line) : run_basic(m, line);
}

static const char *cme_text(int code)
{
	switch (code) {
	case CME_NOT_ALLOWED:
		return "operation not allowed";
	case CME_NOT_SUPPORTED:
		return "operation not supported";
	case CME_SIM_FAILURE:
		return "SIM failure";
	case CME_BAD_PARAMETERS:
		return "incorrect parameters";
	default:
		return "unknown";
	}
}

static void final_result(struct modem *m, int res)
{
	if (res == RESULT_OK)
		say(m, "OK");
	else if (res == RESULT_ERROR || !m->cmee)
		say(m, "ERROR");
	else if (m->cmee == 1)
		say(m, "+CME ERROR: %d", res);
	else
		say(m, "+CME ERROR: %s", cme_text(res));
}

/* The unsolicited lines held during a command, each ended by a LF. */
static void flush_urcs(struct modem *m)
{
	const char *p = m->urc, *end = m->urc + m->urc_len, *lf;

	while ((lf = memchr(p, '\n', end - p))) {
		say_raw(m, p, lf - p);
		p = lf + 1;
	}
	m->urc_len = 0;
}

/* The ready line: echo, answer, then what the card said meanwhile. */
static void process_line(struct modem *m)
{
	int res;

	trace_line(m, "<", m->line, m->line_len);
	m->in_command = true;
	if (m->overlong) {
		res = RESULT_ERROR;
	} else {
		if (m->echo) {
			emit(m, m->line, m->line_len);
			emit(m, "\r", 1);
		}
		res = execute(m, m->line, m->line_len);
	}
	final_result(m, res);
	m->in_command = false;
	flush_urcs(m);
	if (m->reset_pending)
		modem_reset(m);
	m->line_len = m->line_bytes = 0;
	m->overlong = m->line_ready = false;
}

/* Assemble a line from what was read: true once one has ended. */
static bool take_line(struct modem *m, int64_t now)
{
	while (m->raw_pos < m->raw_len) {
		char c = m->raw[m->raw_pos++];

		m->line_bytes++;
		if (c == '\r' || c == '\n') {
			if (!m->line_len && !m->overlong)
				continue;	/* empty, or the LF of a CRLF */
			m->line[m->line_len] = '\0';
			m->rx_clock = (m->rx_clock > now ? m->rx_clock : now) +
				      line_time(m, m->line_bytes);
			m->line_at = m->rx_clock;
			m->line_ready = true;
			return true;
		}
		if (m->line_len == MODEM_LINE_MAX)
			m->overlong = true;	/* discarded up to its end */
		else if (!m->overlong)
			m->line[m->line_len++] = c;
	}
	return false;
}

/* The TE closed the slave: what it did not read, or we not yet, goes. */
static void te_gone(struct modem *m, int64_t now)
{
	m->te_present = false;
	m->out_len = m->raw_pos = m->raw_len = 0;
	m->line_len = m->line_bytes = 0;
	m->overlong = m->line_ready = false;
	pty_flush_slave(m->slave);
	m->te_check_at = now + HUP_RETRY_NS;
	fprintf(stderr, "cardsim: modem: the TE closed %s\n", m->opt->path);
}

/*
 * Whether a TE has the slave open: the master reports POLLHUP while none
 * has, at once and every time, so look now and then rather than poll it.
 */
static void te_check(struct modem *m, int64_t now)
{
	struct pollfd p = { .fd = m->master, .events = POLLIN };
	char drop[256];
	unsigned int i;

	if (poll(&p, 1, 0) < 0)
		return;
	if (!(p.revents & POLLHUP)) {
		m->te_present = true;
		/* A modem just powered takes its time over the first lines. */
		m->rx_clock = now + (int64_t)m->opt->slow_start_ms * NSEC_PER_MSEC;
		m->tx_clock = now;
		fprintf(stderr, "cardsim: modem: a TE opened %s\n", m->opt->path);
		return;
	}
	/* Written by a TE come and gone between two looks: not ours to run. */
	for (i = 0; i < 64 && (p.revents & POLLIN); i++) {
		if (read(m->master, drop, sizeof(drop)) <= 0)
			break;
	}
	m->te_check_at = now + HUP_RETRY_NS;
}

static void read_input(struct modem *m, int64_t now)
{
	ssize_t n = read(m->master, m->raw, sizeof(m->raw));

	if (n > 0) {
		m->raw_pos = 0;
		m->raw_len = n;
		m->octets_in += n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		te_gone(m, now);	/* EIO: the last slave descriptor closed */
	}
}

/* Write what the line's speed allows now. */
static void flush_out(struct modem *m, int64_t now)
{
	size_t chunk = m->opt->baud ? m->opt->baud / 1000 + 1 : sizeof(m->out);

	/* Idle time is not saved up beyond a short burst. */
	if (m->tx_clock < now - TX_BURST_NS)
		m->tx_clock = now - TX_BURST_NS;
	while (m->out_len && m->tx_clock <= now) {
		ssize_t n = write(m->master, m->out, m->out_len < chunk ? m->out_len : chunk);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				te_gone(m, now);
			return;
		}
		memmove(m->out, m->out + n, m->out_len - n);
		m->out_len -= n;
		m->octets_out += n;
		m->tx_clock += line_time(m, n);
	}
}

/* Run commands and polls as time and room allow: when to look again. */
static int64_t serve(struct modem *m, int64_t now, struct pollfd *p)
{
	bool room = sizeof(m->out) - m->out_len >= COMMAND_ROOM;
	int64_t wake = now + IDLE_NS;

	while (room && (m->line_ready || take_line(m, now))) {
		if (m->line_at > now) {
			wake = m->line_at;
			break;
		}
		process_line(m);
		room = sizeof(m->out) - m->out_len >= COMMAND_ROOM;
	}
	if (room && m->enabled && !m->outstanding && !m->line_ready) {
		if (m->poll_at <= now) {
			card_poll(m);
			m->poll_at = now + (int64_t)m->opt->poll_ms * NSEC_PER_MSEC;
		}
		if (!m->outstanding)
			wake = min64(wake, m->poll_at);
	}
	flush_out(m, now);
	if (!m->te_present)
		return m->te_check_at;
	p->fd = m->master;
	p->events = !m->line_ready && m->raw_pos == m->raw_len ? POLLIN : 0;
	if (m->out_len && m->tx_clock <= now)
		p->events |= POLLOUT;
	else if (m->out_len)
		wake = min64(wake, m->tx_clock);
	return wake;
}

static int wait_ms(int64_t wake, int64_t now)
{
	if (wake <= now)
		return 0;
	return (int)((min64(wake - now, IDLE_NS) + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

static int loop(struct modem *m, char *err, size_t errlen)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = signal_pipe[0], .events = POLLIN }, { .fd = -1 } };
		int64_t now = now_ns(), wake;

		if (!m->te_present && m->te_check_at <= now)
			te_check(m, now);
		wake = m->te_present ? serve(m, now, &p[1]) : m->te_check_at;
		if (poll(p, 2, wait_ms(wake, now)) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (p[0].revents)
			return 0;
		now = now_ns();
		if (p[1].revents & POLLNVAL) {
			snprintf(err, errlen, "the pseudo-terminal is gone");
			return -1;
		}
		if (p[1].revents & (POLLHUP | POLLERR))
			te_gone(m, now);
		else if (p[1].revents & POLLIN)
			read_input(m, now);
	}
}

static int catch_signals(char *err, size_t errlen)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return 0;
}

int modem_run(const struct modem_options *opt, struct uicc *u, char *err, size_t errlen)
{
	struct modem *m = calloc(1, sizeof(*m));
	int ret = -1;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->opt = opt;
	m->u = u;
	m->master = -1;
	modem_power_on(m);
	if (!catch_signals(err, errlen) && (m->master = pty_open(m->slave, err, errlen)) >= 0 &&
	    !pty_link(opt->path, m->slave, err, errlen)) {
		fprintf(stderr, "cardsim: modem on %s (%s)\n", opt->path, m->slave);
		ret = loop(m, err, errlen);
		pty_unlink(opt->path, m->slave);
		/* For make bench: what the line carried, against the page. */
		fprintf(stderr, "cardsim: modem line: %llu octets to the TE, %llu from it\n",
			m->octets_out, m->octets_in);
	}
	if (m->master >= 0)
		close(m->master);
	free(m);
	return ret;
}

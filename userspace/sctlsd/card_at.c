// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: a UICC behind a modem, through the modem's AT port and the USAT
 * commands of 3GPP TS 27.007 clause 12. The modem (MT) talks APDUs to the
 * card itself: it FETCHes proactive commands and hands those its terminal
 * profile gives to the host (TE) as unsolicited +CUSATP lines, takes their
 * TERMINAL RESPONSEs as +CUSATT, and sends the host's ENVELOPEs with
 * +CUSATE. It polls the card with STATUS on its own, so this link has no
 * poll. The host claims what it handles by writing a TE profile
 * (+CUSATW=0): the BIP server-mode facilities bip_profile_build() sets,
 * nothing else, so the modem keeps the rest of its own (MT) profile; then
 * +CUSATA=1 has the modem send the merged profile to the card.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../at/at.h"
#include "../bip/bip.h"
#include "card.h"
#include "log.h"

#define COMMAND_TIMEOUT_MS	10000	/* a modem answers within seconds, or is gone */
#define PROBE_TIMEOUT_MS	2000
#define PROBES			3
/* After a terminal response, the next +CUSATP or +CUSATEND comes within this. */
#define NEXT_TIMEOUT_MS		2000
#define MAX_PENDING		4	/* proactive commands not yet carried out */
#define MAX_INFO		4	/* a command's own lines kept */
/* The longest command: AT+CUSATT="", a response's octets in hex. */
#define COMMAND_MAX		(32 + 2 * BIP_MAX_DATA)

struct at_card {
	struct card card;
	int fd;
	struct at_reader reader;
	uint8_t in[512];		/* read, not yet split into lines */
	size_t in_len;

	struct {
		uint8_t cmd[BIP_MAX_DATA + 3];
		size_t len;
	} pending[MAX_PENDING];
	unsigned int nr_pending;
	bool restarted;			/* the modem said it started afresh */
	bool awaiting_next;		/* answered a command: the next, or the session's end */
	bool no_session_end;		/* this modem does not say +CUSATEND */
	bool cmee;			/* errors come as +CME ERROR: <n> */
	/*
	 * Final results owed to commands that timed out: when they come late,
	 * they are theirs, not the next command's.
	 */
	unsigned int owed;
	bool timed_out;			/* the last command: no answer in time */

	/* The command waiting for its final result code. */
	bool waiting;
	const char *prefix;		/* its information lines', or NULL */
	char info[MAX_INFO][AT_LINE_MAX];
	unsigned int nr_info;
	char final[AT_LINE_MAX];
	bool done;
};

static struct at_card *at(struct card *c)
{
	return (struct at_card *)c;
}

static struct card *at_create(const char *spec, char *err, size_t errlen)
{
	struct at_card *a = calloc(1, sizeof(*a));

	(void)spec;
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->fd = -1;
	return &a->card;
}

static int lost(struct at_card *a, const char *fmt, const char *arg)
{
	snprintf(a->card.why, sizeof(a->card.why), fmt, arg);
	return CARD_LOST;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A line from the modem: unsolicited ones are kept, a response's collected. */
static int on_line(void *arg, const char *line)
{
	struct at_card *a = arg;
	size_t len;

	switch (at_classify(line)) {
	case AT_PROACTIVE:
		if (a->nr_pending == MAX_PENDING) {
			log_warn("at: %s: more than %d proactive commands at once; dropping one",
				 a->card.name, MAX_PENDING);
		} else if (at_parse_cusatp(line, a->pending[a->nr_pending].cmd,
					   sizeof(a->pending[0].cmd), &len)) {
			log_warn("at: %s: a +CUSATP line that is not a proactive command in hex",
				 a->card.name);
		} else {
			a->pending[a->nr_pending++].len = len;
		}
		a->awaiting_next = false;
		return 0;
	case AT_SESSION_END:
		log_debug("at: %s: the proactive session ended", a->card.name);
		a->awaiting_next = false;
		return 0;
	case AT_RESTARTED:
		a->restarted = true;
		return 0;
	case AT_OK:
	case AT_ERROR:
		if (a->owed) {
			a->owed--;
			log_debug("at: %s: a late '%s', for a command that timed out",
				  a->card.name, line);
			return 0;
		}
		if (!a->waiting)
			return 0;	/* nothing asked: not ours */
		snprintf(a->final, sizeof(a->final), "%s", line);
		a->done = true;
		return 1;
	case AT_INFO:
		if (a->waiting && a->prefix && at_has_prefix(line, a->prefix) &&
		    a->nr_info < MAX_INFO)
			snprintf(a->info[a->nr_info++], AT_LINE_MAX, "%s", line);
		else
			log_debug("at: %s: ignoring '%.80s'", a->card.name, line);
		return 0;
	}
	return 0;
}

/* Split what was read into lines, up to a command's final result. */
static void take_lines(struct at_card *a)
{
	size_t used = at_reader_feed(&a->reader, a->in, a->in_len, on_line, a);

	memmove(a->in, a->in + used, a->in_len - used);
	a->in_len -= used;
}

/* Read what the port has: CARD_OK, or CARD_LOST when it is gone. */
static int read_port(struct at_card *a)
{
	ssize_t n;

	if (a->in_len == sizeof(a->in))
		take_lines(a);	/* a final result stopped it: the rest waits */
	if (a->in_len == sizeof(a->in))
		return CARD_OK;
	n = read(a->fd, a->in + a->in_len, sizeof(a->in) - a->in_len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return lost(a, "the port closed: %s", n ? strerror(errno) : "end of file");
	if (n > 0)
		a->in_len += n;
	take_lines(a);
	if (a->reader.dropped) {
		log_warn("at: %s: dropped %lu line(s) longer than %d octets", a->card.name,
			 a->reader.dropped, AT_LINE_MAX - 1);
		a->reader.dropped = 0;
	}
	return CARD_OK;
}

/* Wait until fd is ready for events, or the deadline: CARD_OK or CARD_LOST. */
static int wait_port(struct at_card *a, short events, long long deadline, const char *doing)
{
	struct pollfd p = { .fd = a->fd, .events = events };
	long long left = deadline - now_ms();
	int n;

	if (left <= 0) {
		a->timed_out = true;
		return lost(a, "the modem did not answer %.40s in time", doing);
	}
	n = poll(&p, 1, left);
	if (n < 0 && errno != EINTR)
		return lost(a, "poll: %s", strerror(errno));
	if (n > 0 && (p.revents & (POLLERR | POLLNVAL)))
		return lost(a, "the port closed while %.40s", doing);
	return CARD_OK;
}

static int write_all(struct at_card *a, const char *s, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = write(a->fd, s, len);

		if (n > 0) {
			s += n;
			len -= n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return lost(a, "the port closed: %s", strerror(errno));
		} else if (wait_port(a, POLLOUT, deadline, "sending a command")) {
			return CARD_LOST;
		}
	}
	return CARD_OK;
}

/*
 * One command: its information lines starting with prefix kept in info,
 * its final result code in final. CARD_OK for OK, 1 for an error result,
 * CARD_LOST if the modem is gone or silent.
 */
static int command(struct at_card *a, const char *cmd, const char *prefix, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	char line[COMMAND_MAX + 2];
	int len = snprintf(line, sizeof(line), "%s\r", cmd);

	if (len < 0 || (size_t)len >= sizeof(line))
		return lost(a, "%.20s: a command too long to send", cmd);
	a->waiting = true;
	a->timed_out = false;
	a->prefix = prefix;
	a->nr_info = 0;
	a->done = false;
	log_debug("at: %s: > %.80s", a->card.name, cmd);
	if (write_all(a, line, len, deadline))
		goto out;
	take_lines(a);
	while (!a->done) {
		if (wait_port(a, POLLIN, deadline, cmd) || read_port(a))
			goto out;
	}
	log_debug("at: %s: < %s", a->card.name, a->final);
out:
	if (!a->done)
		a->owed++;
	a->waiting = false;
	a->prefix = NULL;
	/* What followed the final result in the same read: unsolicited lines. */
	take_lines(a);
	if (!a->done)
		return CARD_LOST;
	return at_classify(a->final) == AT_OK ? CARD_OK : 1;
}

/* A hex argument command: "AT+CUSATT=" then the octets quoted. */
static int hex_command(struct at_card *a, const char *name, const uint8_t *data, size_t len,
		       const char *prefix)
{
	char cmd[COMMAND_MAX];
	int n;

	if (len > BIP_MAX_DATA)
		return lost(a, "%.10s: more octets than a command carries", name);
	n = snprintf(cmd, sizeof(cmd), "AT%s\"", name);
	at_hex_encode(cmd + n, data, len);
	strcat(cmd, "\"");
	return command(a, cmd, prefix, COMMAND_TIMEOUT_MS);
}

static void at_disconnect(struct card *c)
{
	struct at_card *a = at(c);

	if (a->fd >= 0) {
		/* TIOCEXCL outlives close while the tty does: the next open needs it gone. */
		ioctl(a->fd, TIOCNXCL);
		close(a->fd);
	}
	a->fd = -1;
	a->in_len = a->nr_pending = 0;
	a->restarted = a->awaiting_next = false;
	a->owed = 0;
	memset(&a->reader, 0, sizeof(a->reader));
}

/* Open the port for this terminal alone, raw. */
static int open_port(struct at_card *a)
{
	struct termios tio;

	a->fd = open(a->card.spec, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (a->fd < 0) {
		if (errno == EBUSY)
			return lost(a, "%s; another program holds the port (ModemManager? "
				    "see the README's \"Modems\")", strerror(EBUSY));
		return lost(a, "%s", strerror(errno));
	}
	if (flock(a->fd, LOCK_EX | LOCK_NB))
		return lost(a, "%s", errno == EWOULDBLOCK ?
			    "another sctlsd uses the port" : strerror(errno));
	if (!isatty(a->fd))
		return lost(a, "%s", "not a terminal (a modem's AT port is a tty)");
	/* No one else opens it now; those who had it open still can write. */
	ioctl(a->fd, TIOCEXCL);
	if (tcgetattr(a->fd, &tio))
		return lost(a, "tcgetattr: %s", strerror(errno));
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	cfsetspeed(&tio, B115200);
	if (tcsetattr(a->fd, TCSANOW, &tio))
		return lost(a, "tcsetattr: %s", strerror(errno));
	tcflush(a->fd, TCIOFLUSH);
	return CARD_OK;
}

/* The modem's refusal, and the facilities it named as its own. */
static int refused(struct at_card *a, const char *what)
{
	snprintf(a->card.why, sizeof(a->card.why), "%s: %.40s%s%.100s", what, a->final,
		 a->nr_info ? "; " : "", a->nr_info ? a->info[0] : "");
	return CARD_LOST;
}

/* A bare AT, a few times: a modem mid-line, or just powered, answers late. */
static int probe(struct at_card *a)
{
	int i;

	for (i = 0; i < PROBES; i++) {
		/* Even an ERROR says a modem is there. */
		if (command(a, "AT", NULL, PROBE_TIMEOUT_MS) >= 0)
			return CARD_OK;
		if (!a->timed_out)
			return CARD_LOST;	/* the port failed: no use trying again */
	}
	return lost(a, "%s", "no answer to AT: not a modem's AT port, or the modem is off");
}

/*
 * "+CUSATA: <UICC_state>,<additional_profile_support>": whether the card
 * takes another TERMINAL PROFILE now, not only when it starts.
 */
static bool takes_profile_now(struct at_card *a)
{
	const char *p;
	unsigned long state, more = 0;

	if (!a->nr_info || !at_has_prefix(a->info[0], "+CUSATA:"))
		return true;	/* it did not say: try */
	p = a->info[0] + strlen("+CUSATA:");
	if (at_int_arg(&p, 255, &state) || *p++ != ',' || at_int_arg(&p, 1, &more))
		return true;
	return more;
}

static int at_connect(struct card *c, const uint8_t *profile, size_t len)
{
	struct at_card *a = at(c);
	int ret;

	if (open_port(a))
		return CARD_LOST;
	a->restarted = false;
	if (probe(a) || command(a, "ATE0", NULL, COMMAND_TIMEOUT_MS) < 0)
		return CARD_LOST;
	ret = command(a, "AT+CMEE=1", NULL, COMMAND_TIMEOUT_MS);
	if (ret < 0)
		return CARD_LOST;
	a->cmee = !ret;
	ret = hex_command(a, "+CUSATW=0,", profile, len, "+CUSATW:");
	if (ret)
		return ret > 0 ? refused(a, "the modem refused the TE profile (does it keep "
					 "BIP to itself?)") : ret;
	ret = command(a, "AT+CUSATA", "+CUSATA:", COMMAND_TIMEOUT_MS);
	if (ret < 0)
		return ret;
	/*
	 * 3: the MT and TE profiles merged and sent to the card, whose toolkit
	 * starts over and opens its channels for this terminal. A card that
	 * takes a profile only at its start-up gets it at the next (+CUSATD=1);
	 * meanwhile 1 has the modem hand over what the card sends.
	 */
	if (!ret && !takes_profile_now(a)) {
		log_warn("at: %s: the card takes a TERMINAL PROFILE only when it starts: BIP "
			 "works after the modem restarts (AT+CFUN=1,1)", c->name);
		if (command(a, "AT+CUSATD=1,1", NULL, COMMAND_TIMEOUT_MS) < 0 ||
		    (ret = command(a, "AT+CUSATA=1", "+CUSATA:", COMMAND_TIMEOUT_MS)) < 0)
			return CARD_LOST;
	} else {
		ret = command(a, "AT+CUSATA=3", "+CUSATA:", COMMAND_TIMEOUT_MS);
	}
	if (ret)
		return ret > 0 ? refused(a, "the modem would not activate the TE profile") : ret;
	if (a->restarted)
		return lost(a, "%s", "the modem restarted while being set up");
	log_info("at: the modem on %s took the TE profile: BIP is this terminal's", c->name);
	return CARD_OK;
}

static int check_restart(struct at_card *a)
{
	return a->restarted ? lost(a, "%s", "the modem restarted") : CARD_OK;
}

/*
 * After a terminal response the card has its next command or has none, as
 * 91xx or 9000 tells a reader: here +CUSATP or +CUSATEND. Wait for which,
 * so that the card's commands go before the terminal's next envelope (which
 * the card would answer busy meanwhile). A modem that says neither: the
 * session is taken as ended.
 */
static int await_next(struct at_card *a)
{
	long long deadline = now_ms() + NEXT_TIMEOUT_MS;

	while (a->awaiting_next && !a->nr_pending && !a->restarted && !a->no_session_end) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		long long left = deadline - now_ms();

		if (left <= 0) {
			/* Not worth waiting for again: envelopes answered busy are sent again. */
			log_info("at: %s: the modem does not say +CUSATEND; not waiting for it",
				 a->card.name);
			a->no_session_end = true;
			a->awaiting_next = false;
			break;
		}
		if (poll(&p, 1, left) > 0 && read_port(a))
			return CARD_LOST;
	}
	return CARD_OK;
}

static int at_fetch(struct card *c, uint8_t *buf, size_t cap)
{
	struct at_card *a = at(c);
	size_t len;

	if (await_next(a) || check_restart(a))
		return CARD_LOST;
	if (!a->nr_pending)
		return 0;
	len = a->pending[0].len;
	if (len > cap)
		return lost(a, "%s", "a proactive command too long");
	memcpy(buf, a->pending[0].cmd, len);
	memmove(&a->pending[0], &a->pending[1], --a->nr_pending * sizeof(a->pending[0]));
	return len;
}

static int at_respond(struct card *c, const uint8_t *tr, size_t len)
{
	struct at_card *a = at(c);
	int ret;

	/* Before: the answer may come in the same read as the OK. */
	a->awaiting_next = true;
	ret = hex_command(a, "+CUSATT=", tr, len, NULL);
	if (ret > 0) {
		a->awaiting_next = false;
		log_warn("at: %s: the modem refused a terminal response: %s", c->name, a->final);
		return check_restart(a) ? CARD_LOST : CARD_REFUSED;
	}
	return ret < 0 ? ret : check_restart(a);
}

/*
 * 27.007's "SIM busy" (14), as a number or as text; or a bare ERROR from
 * a modem that would not give +CME ERRORs: sent again, a few times.
 */
static bool sim_busy(const struct at_card *a)
{
	const char *p = a->final + strlen("+CME ERROR:");

	if (!at_has_prefix(a->final, "+CME ERROR:"))
		return !a->cmee && !strcasecmp(a->final, "ERROR");
	while (*p == ' ')
		p++;
	return !strcmp(p, "14") || !strcasecmp(p, "SIM busy");
}

static int at_envelope(struct card *c, const uint8_t *data, size_t len)
{
	struct at_card *a = at(c);
	uint8_t resp[BIP_MAX_DATA];
	unsigned int busy = 0, sw = 0, i;
	size_t n;
	int ret = hex_command(a, "+CUSATE=", data, len, "+CUSATE");

	if (ret < 0 || check_restart(a))
		return CARD_LOST;
	if (ret > 0) {
		if (sim_busy(a))
			return CARD_BUSY;
		log_warn("at: %s: the modem refused an envelope: %s", c->name, a->final);
		return CARD_REFUSED;
	}
	for (i = 0; i < a->nr_info; i++) {
		if (at_has_prefix(a->info[i], "+CUSATE2:") ? at_parse_cusate2(a->info[i], &sw) :
		    at_parse_cusate(a->info[i], resp, sizeof(resp), &n, &busy))
			log_warn("at: %s: cannot read '%.80s'", c->name, a->info[i]);
	}
	return busy || sw == BIP_SW_BUSY ? CARD_BUSY : CARD_OK;
}

static bool at_present(struct card *c)
{
	return !check_restart(at(c));
}

static int at_fd(const struct card *c)
{
	return ((const struct at_card *)c)->fd;
}

static int at_input(struct card *c)
{
	struct at_card *a = at(c);

	return read_port(a) ? CARD_LOST : check_restart(a);
}

const struct card_ops card_at_ops = {
	.kind = "at", .what = "device", .create = at_create, .connect = at_connect,
	.disconnect = at_disconnect, .fetch = at_fetch, .respond = at_respond,
	.envelope = at_envelope, .present = at_present, .fd = at_fd, .input = at_input,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: a UICC behind an MBIM modem, through libmbim and MBIM's STK
 * service. The modem function FETCHes proactive commands and polls the
 * card itself; the host claims the commands it handles with STK PAC, gets
 * each as a PAC notification, answers with STK TERMINAL RESPONSE and sends
 * events with STK ENVELOPE. The TERMINAL PROFILE is the function's own:
 * claiming the BIP commands is how the host says it handles them.
 *
 * libmbim is asynchronous, on a GLib main context: a thread of this link's
 * runs that context, the terminal's thread hands it each request and waits
 * for the answer; notifications are queued, and an eventfd tells the
 * terminal's loop. Through mbim-proxy when one runs (ModemManager starts
 * it), so that both share the modem; else the device directly.
 */
#include <errno.h>
#include <libmbim-glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../bip/bip.h"
#include "card.h"
#include "log.h"

#define OPEN_TIMEOUT_S		30
#define COMMAND_TIMEOUT_S	10
#define MAX_PENDING		4	/* proactive commands not yet carried out */

/* The proactive commands a terminal in BIP server mode handles. */
static const uint8_t bip_types[] = {
	BIP_SET_UP_EVENT_LIST, BIP_OPEN_CHANNEL, BIP_CLOSE_CHANNEL, BIP_RECEIVE_DATA,
	BIP_SEND_DATA, BIP_GET_CHANNEL_STATUS,
};

struct mbim_card {
	struct card card;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	MbimDevice *device;		/* the GLib thread's */
	GCancellable *cancel;		/* its commands in flight, when it goes */
	bool proxy;			/* opened through mbim-proxy */
	int wake;			/* eventfd: a notification, or the device gone */

	pthread_mutex_t lock;		/* what the GLib thread hands over */
	struct {
		uint8_t cmd[BIP_MAX_DATA + 3];
		size_t len;
	} pending[MAX_PENDING];
	unsigned int nr_pending, dropped;
	bool removed;
};

/* One request to the GLib thread, and its answer. */
struct call {
	struct mbim_card *m;
	MbimMessage *request, *response;
	GError *error;
	bool done;
	GMutex mutex;
	GCond cond;
};

static struct mbim_card *mbim(struct card *c)
{
	return (struct mbim_card *)c;
}

static int lost(struct mbim_card *m, const char *what, const GError *error)
{
	snprintf(m->card.why, sizeof(m->card.why), "%s%s%s", what, error ? ": " : "",
		 error ? error->message : "");
	return CARD_LOST;
}

static void wake(struct mbim_card *m)
{
	uint64_t one = 1;

	if (write(m->wake, &one, sizeof(one)) != sizeof(one))
		log_err("mbim: cannot wake the terminal: %s", strerror(errno));
}

static void call_done(struct call *call)
{
	g_mutex_lock(&call->mutex);
	call->done = true;
	g_cond_signal(&call->cond);
	g_mutex_unlock(&call->mutex);
}

/* From the terminal's thread: run fn on the GLib thread, wait for call_done. */
static void call_run(struct call *call, GSourceFunc fn)
{
	g_mutex_init(&call->mutex);
	g_cond_init(&call->cond);
	g_main_context_invoke(call->m->ctx, fn, call);
	g_mutex_lock(&call->mutex);
	while (!call->done)
		g_cond_wait(&call->cond, &call->mutex);
	g_mutex_unlock(&call->mutex);
	g_mutex_clear(&call->mutex);
	g_cond_clear(&call->cond);
}

/* --- On the GLib thread ---------------------------------------------- */

static void on_indicate(MbimDevice *device, MbimMessage *msg, gpointer arg)
{
	struct mbim_card *m = arg;
	MbimStkPacType type;
	const guint8 *data;
	guint32 len;
	GError *error = NULL;

	(void)device;
	if (mbim_message_indicate_status_get_service(msg) != MBIM_SERVICE_STK ||
	    mbim_message_indicate_status_get_cid(msg) != MBIM_CID_STK_PAC)
		return;
	if (!mbim_message_stk_pac_notification_parse(msg, &type, &len, &data, &error)) {
		log_warn("mbim: %s: a PAC notification that does not parse: %s", m->card.name,
			 error->message);
		g_error_free(error);
		return;
	}
	if (type != MBIM_STK_PAC_TYPE_PROACTIVE_COMMAND)
		return;		/* handled by the function; we were only told */
	pthread_mutex_lock(&m->lock);
	if (!len || len > sizeof(m->pending[0].cmd) || m->nr_pending == MAX_PENDING) {
		m->dropped++;
	} else {
		memcpy(m->pending[m->nr_pending].cmd, data, len);
		m->pending[m->nr_pending++].len = len;
	}
	pthread_mutex_unlock(&m->lock);
	wake(m);
}

static void on_removed(MbimDevice *device, gpointer arg)
{
	struct mbim_card *m = arg;

	(void)device;
	pthread_mutex_lock(&m->lock);
	m->removed = true;
	pthread_mutex_unlock(&m->lock);
	/* A command waiting for the device would wait out its timeout. */
	g_cancellable_cancel(m->cancel);
	wake(m);
}

static void command_ready(GObject *device, GAsyncResult *res, gpointer arg)
{
	struct call *call = arg;

	call->response = mbim_device_command_finish(MBIM_DEVICE(device), res, &call->error);
	call_done(call);
}

static gboolean command_start(gpointer arg)
{
	struct call *call = arg;

	if (!call->m->device) {
		g_set_error(&call->error, MBIM_CORE_ERROR, MBIM_CORE_ERROR_WRONG_STATE,
			    "not open");
		call_done(call);
	} else {
		mbim_device_command(call->m->device, call->request, COMMAND_TIMEOUT_S,
				    call->m->cancel, command_ready, call);
	}
	return G_SOURCE_REMOVE;
}

static void open_ready(GObject *device, GAsyncResult *res, gpointer arg)
{
	struct call *call = arg;

	if (!mbim_device_open_full_finish(MBIM_DEVICE(device), res, &call->error))
		g_clear_object(&call->m->device);
	call_done(call);
}

/* Whether mbim-proxy listens: ModemManager's, whom we then share the modem with. */
static bool proxy_running(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up;

	/* An abstract socket: a NUL, then the name. */
	memcpy(sun.sun_path + 1, MBIM_PROXY_SOCKET_PATH, strlen(MBIM_PROXY_SOCKET_PATH));
	up = fd >= 0 && !connect(fd, (struct sockaddr *)&sun,
				 offsetof(struct sockaddr_un, sun_path) + 1 +
				 strlen(MBIM_PROXY_SOCKET_PATH));
	if (fd >= 0)
		close(fd);
	return up;
}

static void new_ready(GObject *source, GAsyncResult *res, gpointer arg)
{
	struct call *call = arg;
	struct mbim_card *m = call->m;
	bool proxy = proxy_running();

	(void)source;
	m->device = mbim_device_new_finish(res, &call->error);
	if (!m->device) {
		call_done(call);
		return;
	}
	g_signal_connect(m->device, MBIM_DEVICE_SIGNAL_INDICATE_STATUS, G_CALLBACK(on_indicate), m);
	g_signal_connect(m->device, MBIM_DEVICE_SIGNAL_REMOVED, G_CALLBACK(on_removed), m);
	m->proxy = proxy;
	log_debug("mbim: opening %s%s", m->card.name, proxy ? " through mbim-proxy" : "");
	mbim_device_open_full(m->device, proxy ? MBIM_DEVICE_OPEN_FLAGS_PROXY :
			      MBIM_DEVICE_OPEN_FLAGS_NONE, OPEN_TIMEOUT_S, NULL, open_ready, call);
}

static gboolean open_start(gpointer arg)
{
	struct call *call = arg;
	GFile *file = g_file_new_for_path(call->m->card.spec);

	g_clear_object(&call->m->cancel);
	call->m->cancel = g_cancellable_new();
	mbim_device_new(file, NULL, new_ready, call);
	g_object_unref(file);
	return G_SOURCE_REMOVE;
}

static gboolean close_start(gpointer arg)
{
	struct call *call = arg;
	struct mbim_card *m = call->m;

	if (m->device) {
		g_signal_handlers_disconnect_by_data(m->device, m);
		/* No waiting for a modem that may be gone: the proxy or the fd just closes. */
		mbim_device_close_force(m->device, NULL);
		g_clear_object(&m->device);
	}
	call_done(call);
	return G_SOURCE_REMOVE;
}

static gpointer glib_thread(gpointer arg)
{
	struct mbim_card *m = arg;

	g_main_context_push_thread_default(m->ctx);
	g_main_loop_run(m->loop);
	return NULL;
}

/* --- On the terminal's thread ------------------------------------------ */

static struct card *mbim_create(const char *spec, char *err, size_t errlen)
{
	struct mbim_card *m = calloc(1, sizeof(*m));
	sigset_t all, old;

	(void)spec;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wake < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->ctx = g_main_context_new();
	m->loop = g_main_loop_new(m->ctx, FALSE);
	/* Signals are the relay's (signalfd): this thread must never take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	m->thread = g_thread_new("sctlsd-mbim", glib_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return &m->card;
}

static bool removed(struct mbim_card *m);

/* A command and its answer: CARD_OK, 1 for an MBIM error status, CARD_LOST. */
static int command(struct mbim_card *m, MbimMessage *request, MbimMessage **response,
		   GError **status)
{
	struct call call = { .m = m, .request = request };
	int ret = CARD_OK;

	call_run(&call, command_start);
	mbim_message_unref(request);
	if (!call.response) {
		ret = removed(m) ? CARD_LOST : lost(m, "the modem did not answer", call.error);
	} else if (!mbim_message_response_get_result(call.response, MBIM_MESSAGE_TYPE_COMMAND_DONE,
						     status)) {
		ret = 1;
	}
	if (call.error)
		g_error_free(call.error);
	if (response && call.response)
		*response = call.response;
	else if (call.response)
		mbim_message_unref(call.response);
	return ret;
}

static void mbim_disconnect(struct card *c)
{
	struct mbim_card *m = mbim(c);
	struct call call = { .m = m };
	uint64_t n;

	call_run(&call, close_start);
	pthread_mutex_lock(&m->lock);
	m->nr_pending = 0;
	m->removed = false;
	pthread_mutex_unlock(&m->lock);
	if (read(m->wake, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("mbim: eventfd: %s", strerror(errno));
}

/* Which BIP commands the function would not hand over, named in why. */
static int check_support(struct mbim_card *m, const guint8 *support)
{
	char kept[64] = "";
	size_t i;

	for (i = 0; i < sizeof(bip_types); i++) {
		MbimStkPacProfile p = support[bip_types[i]];

		if (p != MBIM_STK_PAC_PROFILE_HANDLED_BY_HOST_FUNCTION_NOT_ABLE_TO_HANDLE &&
		    p != MBIM_STK_PAC_PROFILE_HANDLED_BY_HOST_FUNCTION_ABLE_TO_HANDLE &&
		    p != MBIM_STK_PAC_PROFILE_NOT_HANDLED_BY_FUNCTION_HANDLED_BY_HOST &&
		    p != MBIM_STK_PAC_PROFILE_NOT_HANDLED_BY_FUNCTION_MAY_BE_HANDLED_BY_HOST)
			snprintf(kept + strlen(kept), sizeof(kept) - strlen(kept), " %02X",
				 bip_types[i]);
	}
	if (!kept[0])
		return CARD_OK;
	snprintf(m->card.why, sizeof(m->card.why),
		 "the modem keeps BIP to itself (proactive commands%s)", kept);
	return CARD_LOST;
}

static int mbim_connect(struct card *c, const uint8_t *profile, size_t len)
{
	struct mbim_card *m = mbim(c);
	struct call call = { .m = m };
	guint8 claim[32] = { 0 };
	MbimMessage *response = NULL;
	const guint8 *support;
	GError *status = NULL;
	struct stat st;
	size_t i;
	int ret;

	/* The function owns the TERMINAL PROFILE; claiming the commands is ours. */
	(void)profile;
	(void)len;
	/* libmbim would call a missing device a wrong file type. */
	if (stat(c->spec, &st))
		return lost(m, strerror(errno), NULL);
	call_run(&call, open_start);
	if (call.error) {
		ret = lost(m, "cannot open the modem", call.error);
		g_error_free(call.error);
		return ret;
	}
	/* PacHostControl: bit n (byte n / 8, bit n % 8) claims command type n. */
	for (i = 0; i < sizeof(bip_types); i++)
		claim[bip_types[i] / 8] |= 1 << (bip_types[i] % 8);
	ret = command(m, mbim_message_stk_pac_set_new(claim, NULL), &response, &status);
	if (ret > 0) {
		ret = lost(m, "the modem refused to hand over the BIP commands (does it keep BIP "
			   "to itself?)", status);
	} else if (!ret && !mbim_message_stk_pac_response_parse(response, &support, &status)) {
		ret = lost(m, "a PAC answer that does not parse", status);
	} else if (!ret) {
		ret = check_support(m, support);
	}
	if (status)
		g_error_free(status);
	if (response)
		mbim_message_unref(response);
	if (!ret)
		log_info("mbim: the modem on %s handed over the BIP commands%s", c->name,
			 m->proxy ? " (through mbim-proxy)" : "");
	return ret;
}

static bool removed(struct mbim_card *m)
{
	bool gone;

	pthread_mutex_lock(&m->lock);
	gone = m->removed;
	pthread_mutex_unlock(&m->lock);
	if (gone)
		lost(m, "the modem went away", NULL);
	return gone;
}

static int mbim_fetch(struct card *c, uint8_t *buf, size_t cap)
{
	struct mbim_card *m = mbim(c);
	int len = 0;

	if (removed(m))
		return CARD_LOST;
	pthread_mutex_lock(&m->lock);
	if (m->dropped) {
		log_warn("mbim: %s: dropped %u proactive command(s): more than %d at once, or "
			 "empty or too long", c->name, m->dropped, MAX_PENDING);
		m->dropped = 0;
	}
	if (m->nr_pending && m->pending[0].len <= cap) {
		len = m->pending[0].len;
		memcpy(buf, m->pending[0].cmd, len);
		memmove(&m->pending[0], &m->pending[1], --m->nr_pending * sizeof(m->pending[0]));
	}
	pthread_mutex_unlock(&m->lock);
	return len;
}

static int mbim_respond(struct card *c, const uint8_t *tr, size_t len)
{
	struct mbim_card *m = mbim(c);
	MbimMessage *response = NULL;
	GError *status = NULL;
	guint32 sw = 0;
	int ret;

	ret = command(m, mbim_message_stk_terminal_response_set_new(len, tr, NULL), &response,
		      &status);
	if (ret > 0)
		log_warn("mbim: %s: the modem refused a terminal response: %s", c->name,
			 status->message);
	else if (!ret && mbim_message_stk_terminal_response_response_parse(response, NULL, NULL,
									   &sw, NULL) &&
		 sw >> 8 != 0x90 && sw >> 8 != 0x91)
		log_warn("mbim: %s: the card answered a terminal response %04x", c->name, sw);
	if (status)
		g_error_free(status);
	if (response)
		mbim_message_unref(response);
	return ret < 0 || removed(m) ? CARD_LOST : ret > 0 ? CARD_REFUSED : CARD_OK;
}

static int mbim_envelope(struct card *c, const uint8_t *data, size_t len)
{
	struct mbim_card *m = mbim(c);
	GError *status = NULL;
	int ret;

	ret = command(m, mbim_message_stk_envelope_set_new(len, data, NULL), NULL, &status);
	if (ret > 0) {
		ret = g_error_matches(status, MBIM_STATUS_ERROR, MBIM_STATUS_ERROR_STK_BUSY) ?
		      CARD_BUSY : CARD_REFUSED;
		if (ret == CARD_REFUSED)
			log_warn("mbim: %s: the modem refused an envelope: %s", c->name,
				 status->message);
		g_error_free(status);
	}
	return ret < 0 ? ret : removed(m) ? CARD_LOST : ret;
}

static bool mbim_present(struct card *c)
{
	return !removed(mbim(c));
}

static int mbim_fd(const struct card *c)
{
	return ((const struct mbim_card *)c)->wake;
}

static int mbim_input(struct card *c)
{
	struct mbim_card *m = mbim(c);
	uint64_t n;

	if (read(m->wake, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("mbim: eventfd: %s", strerror(errno));
	return removed(m) ? CARD_LOST : CARD_OK;
}

const struct card_ops card_mbim_ops = {
	.kind = "mbim", .what = "device", .create = mbim_create, .connect = mbim_connect,
	.disconnect = mbim_disconnect, .fetch = mbim_fetch, .respond = mbim_respond,
	.envelope = mbim_envelope, .present = mbim_present, .fd = mbim_fd, .input = mbim_input,
};

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "privs.h"

#define CLI_MAX_ARGS 32
/*
 * A backstop against a hung command: an ASan build in a KASAN guest on a
 * busy host has been seen to take over 10 s to start.
 */
#define CLI_TIMEOUT_MS 120000

static void nested_ids(struct nlattr *nest, int type, void *out, unsigned int *nr,
		       unsigned int max)
{
	struct nlattr *a;
	int rem;

	*nr = 0;
	if (!nest)
		return;
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != type || *nr >= max)
			continue;
		if (type == SCTLS_A_PORT)
			((uint16_t *)out)[(*nr)++] = nla_get_u16(a);
		else
			((uint32_t *)out)[(*nr)++] = nla_get_u32(a);
	}
}

static int on_state(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct gw_state *st = arg;
	struct nlattr *stats[SCTLS_STAT_MAX + 1];
	int i;

	if (cmd != SCTLS_CMD_GET || !tb[SCTLS_A_STATS] || !tb[SCTLS_A_WINDOW] ||
	    !tb[SCTLS_A_MAX_CONNS] ||
	    nla_parse_nested(stats, SCTLS_STAT_MAX, tb[SCTLS_A_STATS], NULL))
		return -EBADMSG;
	nested_ids(tb[SCTLS_A_PORTS], SCTLS_A_PORT, st->ports, &st->nr_ports,
		   SCTLS_MAX_PORTS + 1);
	nested_ids(tb[SCTLS_A_ALLOW_UIDS], SCTLS_A_UID, st->uids, &st->nr_uids,
		   SCTLS_MAX_ALLOW_UIDS + 1);
	st->max_conns = nla_get_u32(tb[SCTLS_A_MAX_CONNS]);
	st->window = nla_get_u32(tb[SCTLS_A_WINDOW]);
	st->has_helper = tb[SCTLS_A_HELPER_PID];
	st->helper_pid = st->has_helper ? nla_get_u32(tb[SCTLS_A_HELPER_PID]) : 0;
	for (i = 0; i <= SCTLS_STAT_MAX; i++)
		st->stats[i] = stats[i] ? nla_get_u64(stats[i]) : 0;
	return 0;
}

int ctl_get(struct sctls_nl *nl, struct gw_state *st)
{
	struct nl_msg *msg = sctls_nl_new(nl, SCTLS_CMD_GET, 0);

	memset(st, 0, sizeof(*st));
	return msg ? sctls_nl_call(nl, msg, on_state, st) : -ENOMEM;
}

int ctl_send(struct sctls_nl *nl, struct nl_msg *msg)
{
	return sctls_nl_call(nl, msg, NULL, NULL);
}

const char *cli_path(void)
{
	return getenv("SCTLS_CLI");
}

/*
 * Read both of the command's outputs to their ends, NUL-terminated, until
 * the deadline: 0, or -ETIMEDOUT. Both at once, so that neither pipe can
 * fill while we wait on the other.
 */
static int read_outputs(int out_fd, char *out, size_t out_size, int err_fd, char *err,
			size_t err_size)
{
	struct pollfd pfd[2] = { { .fd = out_fd, .events = POLLIN },
				 { .fd = err_fd, .events = POLLIN } };
	char *buf[2] = { out, err };
	size_t size[2] = { out_size, err_size }, len[2] = { 0, 0 };
	int open_fds = 2, ret = 0;

	while (open_fds) {
		int n = poll(pfd, 2, CLI_TIMEOUT_MS);

		if (n <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char sink[4096];
			ssize_t got;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			/* Past the caller's buffer, the rest is read and dropped. */
			if (len[i] < size[i] - 1)
				got = read(pfd[i].fd, buf[i] + len[i], size[i] - 1 - len[i]);
			else
				got = read(pfd[i].fd, sink, sizeof(sink)) > 0 ? 0 : -1;
			if (got > 0)
				len[i] += got;
			else if (got < 0 || len[i] < size[i] - 1) {
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	out[len[0]] = '\0';
	err[len[1]] = '\0';
	return ret;
}

int cli_run(int uid, char *out, size_t out_size, char *err, size_t err_size, ...)
{
	char *argv[CLI_MAX_ARGS + 2] = { (char *)cli_path() };
	int out_pipe[2], err_pipe[2], status, n = 1;
	va_list ap;
	pid_t pid;

	va_start(ap, err_size);
	while (n <= CLI_MAX_ARGS && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	if (!argv[0] || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(out_pipe[1], 1);
		dup2(err_pipe[1], 2);
		if (uid >= 0 && become(uid, uid))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (pid > 0 && read_outputs(out_pipe[0], out, out_size, err_pipe[0], err, err_size)) {
		printf("# %s %s: no end of output within %d s; killed\n", argv[0],
		       argv[1] ? argv[1] : "", CLI_TIMEOUT_MS / 1000);
		kill(pid, SIGKILL);
	}
	close(out_pipe[0]);
	close(err_pipe[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status)) {
		printf("# %s %s: killed by signal %d; its stderr: %.300s\n", argv[0],
		       argv[1] ? argv[1] : "", WTERMSIG(status), err);
		return -1;
	}
	return WEXITSTATUS(status);
}

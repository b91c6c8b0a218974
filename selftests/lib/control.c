// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "privs.h"

#define CLI_MAX_ARGS 32
#define CLI_TIMEOUT_MS 10000

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

/* Read fd to its end into buf within the deadline; NUL-terminated. */
static void read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, CLI_TIMEOUT_MS) <= 0)
			break;
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += n;
		if (len == size - 1)
			break;
	}
	buf[len] = '\0';
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
	/* The outputs are small: stdout first cannot block stderr for long. */
	read_all(out_pipe[0], out, out_size);
	read_all(err_pipe[0], err, err_size);
	close(out_pipe[0]);
	close(err_pipe[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

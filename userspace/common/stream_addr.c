// SPDX-License-Identifier: GPL-2.0
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "stream_addr.h"

static int parse_unix(const char *path, struct sockaddr_storage *ss, socklen_t *len,
		      char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;

	if (!*path || strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "unix socket path empty or longer than %zu bytes",
			 sizeof(sun->sun_path) - 1);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	*len = sizeof(*sun);
	return 0;
}

static int parse_tcp(const char *arg, bool passive, struct sockaddr_storage *ss,
		     socklen_t *len, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	const char *colon = strrchr(arg, ':');
	char host[256];
	size_t hlen;
	int ret;

	if (!colon || colon == arg || !colon[1]) {
		snprintf(err, errlen, "expected tcp:HOST:PORT");
		return -1;
	}
	hlen = colon - arg;
	if (arg[0] == '[' && hlen > 2 && colon[-1] == ']') {
		arg++;		/* [IPv6] */
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	/* getaddrinfo() takes 70000 and wraps it to 4464: refuse it first. */
	if (strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    (strlen(colon + 1) > 5 || !atoi(colon + 1) || atoi(colon + 1) > 65535)) {
		snprintf(err, errlen, "port %s: expected 1..65535", colon + 1);
		return -1;
	}
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	ret = getaddrinfo(host, colon + 1, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "cannot resolve %s port %s: %s", host, colon + 1,
			 gai_strerror(ret));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int stream_addr_parse(const char *spec, bool passive, struct sockaddr_storage *ss,
		      socklen_t *len, char *err, size_t errlen)
{
	if (!strncmp(spec, "unix:", 5))
		return parse_unix(spec + 5, ss, len, err, errlen);
	if (!strncmp(spec, "tcp:", 4))
		return parse_tcp(spec + 4, passive, ss, len, err, errlen);
	snprintf(err, errlen, "'%s': expected unix:PATH or tcp:HOST:PORT", spec);
	return -1;
}

// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http.h"

static const char default_page[] =
	"<!DOCTYPE html>\n<html><head><title>Smart card web server</title></head>\n"
	"<body><h1>Hello from the card</h1>\n"
	"<p>This page comes from the simulated UICC's web server, through sctls.</p>\n"
	"</body></html>\n";

struct conn {
	SSL *ssl;
	size_t io_size;
	char head[HTTP_MAX_HEAD + 1];
	size_t len;		/* bytes in head, this request and maybe the next */
};

struct request {
	bool head_only;
	bool keep_alive;
	char path[HTTP_MAX_HEAD];
};

static int send_all(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		size_t chunk = len < c->io_size ? len : c->io_size;
		int n = SSL_write(c->ssl, p, chunk);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int respond(struct conn *c, int status, const char *reason, const char *type,
		   long long length, bool keep_alive)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\nServer: cardsim\r\nContent-Type: %s\r\n"
			 "Content-Length: %lld\r\nConnection: %s\r\n\r\n",
			 status, reason, type, length, keep_alive ? "keep-alive" : "close");

	return send_all(c, hdr, n);
}

/* An error with a short text body; the connection closes after it. */
static void respond_error(struct conn *c, int status, const char *reason)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	if (!respond(c, status, reason, "text/plain", n, false))
		send_all(c, body, n);
}

/* Read until a whole head is in; its length with the blank line, 0 on EOF, -1 too big. */
static long read_head(struct conn *c)
{
	for (;;) {
		char *end;
		size_t room;
		int n;

		c->head[c->len] = '\0';
		end = strstr(c->head, "\r\n\r\n");
		if (end)
			return end + 4 - c->head;
		if (c->len == HTTP_MAX_HEAD)
			return -1;
		room = HTTP_MAX_HEAD - c->len;
		n = SSL_read(c->ssl, c->head + c->len, room < c->io_size ? room : c->io_size);
		if (n <= 0)
			return 0;
		if (memchr(c->head + c->len, '\0', n))
			return -2;	/* NUL in a head: malformed */
		c->len += n;
	}
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode the target's path into out, dropping the query; 0 or -1. */
static int decode_path(const char *target, size_t tlen, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < tlen && target[i] != '?' && target[i] != '#'; i++) {
		int ch = (unsigned char)target[i];

		if (ch == '%') {
			int hi = i + 2 < tlen ? hexval(target[i + 1]) : -1;
			int lo = i + 2 < tlen ? hexval(target[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			ch = hi * 16 + lo;
			i += 2;
		}
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

/* Parse the head; 0, or the HTTP status to refuse it with. */
static int parse(char *head, struct request *req)
{
	char *line_end = strstr(head, "\r\n"), *sp1, *sp2, *h;
	bool http11;

	*line_end = '\0';
	sp1 = strchr(head, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1[1] != '/')
		return 400;
	if (!strcmp(sp2 + 1, "HTTP/1.1"))
		http11 = true;
	else if (!strcmp(sp2 + 1, "HTTP/1.0"))
		http11 = false;
	else
		return 400;
	if (decode_path(sp1 + 1, sp2 - sp1 - 1, req->path))
		return 400;
	*sp1 = '\0';
	req->keep_alive = http11;

	for (h = line_end + 2; *h && strncmp(h, "\r\n", 2); ) {
		char *end = strstr(h, "\r\n"), *colon, *value;

		*end = '\0';
		colon = strchr(h, ':');
		if (!colon || colon == h)
			return 400;
		*colon = '\0';
		for (value = colon + 1; *value == ' ' || *value == '\t'; value++)
			;
		if (!strcasecmp(h, "Connection"))
			req->keep_alive = strcasecmp(value, "close") &&
					  (http11 || !strcasecmp(value, "keep-alive"));
		else if (!strcasecmp(h, "Transfer-Encoding") ||
			 (!strcasecmp(h, "Content-Length") && strcmp(value, "0")))
			return 400;	/* GET and HEAD carry no body */
		h = end + 2;
	}
	if (!strcmp(head, "GET"))
		req->head_only = false;
	else if (!strcmp(head, "HEAD"))
		req->head_only = true;
	else
		return 501;
	return 0;
}

static const char *content_type(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html" }, { ".htm", "text/html" },
		{ ".txt", "text/plain" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

/* A regular file beneath root, never outside it (not even by symlinks). */
static int open_beneath(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	return syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

static int serve_file(struct conn *c, int root_fd, struct request *req)
{
	char path[HTTP_MAX_HEAD + 16], buf[4096];
	const char *rel = req->path + 1;	/* past the leading '/' */
	struct stat st;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s%s", *rel ? rel : ".",
		 !*rel || rel[strlen(rel) - 1] == '/' ? "/index.html" : "");
	fd = open_beneath(root_fd, path);
	if (fd >= 0 && !fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		int dir = fd;

		fd = open_beneath(dir, "index.html");
		close(dir);
	}
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return respond(c, 404, "Not Found", "text/plain", 10, req->keep_alive) ||
		       (!req->head_only && send_all(c, "not found\n", 10)) ? -1 : 0;
	}
	if (respond(c, 200, "OK", content_type(path), st.st_size, req->keep_alive))
		ret = -1;
	while (!ret && !req->head_only) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0) {
			ret = n ? -1 : 0;
			break;
		}
		ret = send_all(c, buf, n);
	}
	close(fd);
	return ret;
}

static int serve_default(struct conn *c, struct request *req)
{
	size_t len = sizeof(default_page) - 1;

	if (strcmp(req->path, "/") && strcmp(req->path, "/index.html"))
		return respond(c, 404, "Not Found", "text/plain", 10, req->keep_alive) ||
		       (!req->head_only && send_all(c, "not found\n", 10)) ? -1 : 0;
	if (respond(c, 200, "OK", "text/html", len, req->keep_alive))
		return -1;
	return req->head_only ? 0 : send_all(c, default_page, len);
}

void http_serve(SSL *ssl, int root_fd, size_t io_size)
{
	static struct conn c;

	c.ssl = ssl;
	c.io_size = io_size;
	c.len = 0;
	for (;;) {
		struct request req;
		long head_len = read_head(&c);
		int status;

		if (head_len == 0)
			return;		/* the client left */
		if (head_len < 0) {
			if (head_len == -1)
				respond_error(&c, 431, "Request Header Fields Too Large");
			else
				respond_error(&c, 400, "Bad Request");
			return;
		}
		status = parse(c.head, &req);
		if (status) {
			respond_error(&c, status, status == 501 ? "Not Implemented" : "Bad Request");
			return;
		}
		if (root_fd >= 0 ? serve_file(&c, root_fd, &req) : serve_default(&c, &req))
			return;
		if (!req.keep_alive)
			return;
		/* A pipelined next request may follow this one. */
		memmove(c.head, c.head + head_len, c.len - head_len);
		c.len -= head_len;
	}
}

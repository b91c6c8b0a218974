/* SPDX-License-Identifier: GPL-2.0 */
/* cardsim: HTTP/1.1 GET and HEAD over one TLS session. */
#ifndef CARDSIM_HTTP_H
#define CARDSIM_HTTP_H

#include <openssl/ssl.h>
#include <stddef.h>

#define HTTP_MAX_HEAD	8192	/* a request head must fit: cards are small */

/*
 * Serve requests until the client leaves or asks to close. Files come from
 * beneath root_fd, never outside it; root_fd < 0 serves the embedded page.
 * io_size bounds each TLS read and write.
 */
void http_serve(SSL *ssl, int root_fd, size_t io_size);

#endif

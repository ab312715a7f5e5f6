/*
 * server.h - the libmicrohttpd daemon and the request lifecycle.
 *
 * server_run() binds, serves with a thread pool (MHD internal polling,
 * epoll) until SIGTERM or SIGINT, then stops accepting, lets in-flight
 * requests finish (up to SHUTDOWN_GRACE_S) and returns 0.
 */
#ifndef AFTERSALE_HTTP_SERVER_H
#define AFTERSALE_HTTP_SERVER_H

#include "aftersale/core/config.h"

/* The configuration the server was started with (read-only). */
const struct config *server_config(void);

/* Signals SIGTERM/SIGINT must already be blocked in all threads. */
int server_run(const struct config *cfg);

#endif

/*
 * server.h - the libmicrohttpd daemon and the request lifecycle.
 *
 * server_run() binds (a port already in use is an error naming it: exit
 * code 1, no SO_REUSEPORT), serves with one thread per client connection
 * until SIGTERM or SIGINT, then stops accepting, lets in-flight requests
 * finish (up to SHUTDOWN_GRACE_S) and returns 0. Every request gets one
 * access log line as ACCESS_LOG says.
 */
#ifndef AFTERSALE_HTTP_SERVER_H
#define AFTERSALE_HTTP_SERVER_H

#include "aftersale/core/config.h"

/* The configuration the server was started with (read-only). */
const struct config *server_config(void);

/* Bind and listen on BIND:PORT, before anything else starts, so that a
 * busy port stops start-up at once (message on stderr and in the log,
 * naming the port). Returns 0 or -1. */
int server_bind(const struct config *cfg);

/* Serve on the socket server_bind() made (binds first if it was not
 * called). Signals SIGTERM/SIGINT must already be blocked in all threads. */
int server_run(const struct config *cfg);

#endif

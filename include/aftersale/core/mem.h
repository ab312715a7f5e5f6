/*
 * mem.h - allocation that never returns NULL.
 *
 * Running out of memory is fatal in aftersale (as in Redis and Kore): the
 * x* functions print a line to stderr and abort(). Library constructors
 * that can return NULL (json_object, MHD_create_response_*) are still
 * checked where they are called.
 */
#ifndef AFTERSALE_CORE_MEM_H
#define AFTERSALE_CORE_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/*
 * buf.h - a growable byte buffer (request bodies, SQL-free text building).
 *
 * A zeroed struct buf is an empty buffer. The data is always NUL-terminated
 * after `len` bytes so it can be handed to string functions, but may hold
 * NULs inside. Not thread-safe; owned by whoever embeds it.
 */
#ifndef AFTERSALE_CORE_BUF_H
#define AFTERSALE_CORE_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Give the bytes away (caller frees); the buffer is empty afterwards. */
char *buf_steal(struct buf *b);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif

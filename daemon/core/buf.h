/*
 * A growable byte buffer with a hard cap, after curl's dynbuf.
 *
 * The contents are always NUL-terminated (the NUL is not counted in len
 * and not against the cap). A call that would grow the buffer past its
 * cap fails with -1 and frees the contents, so a failed buffer is empty
 * and must not be used again without buf_init(). buf_take() hands the
 * contents to the caller, who frees them with free(3).
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t size;
	size_t cap;
};

void buf_init(struct buf *, size_t cap);
void buf_free(struct buf *);
void buf_reset(struct buf *);
int buf_add(struct buf *, const void *, size_t);
int buf_addstr(struct buf *, const char *);
int buf_addc(struct buf *, char);
int buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
/* Contents ("" when empty); valid until the next change. */
const char *buf_str(const struct buf *);
/* Hand the contents to the caller (never NULL) and reset the buffer. */
char *buf_take(struct buf *, size_t *len);

#endif

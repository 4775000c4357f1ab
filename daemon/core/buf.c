#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

#define BUF_MIN_SIZE 64

void
buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = b->size = 0;
	b->cap = cap;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus the NUL; -1 (and free) past the cap. */
static int
buf_grow(struct buf *b, size_t n)
{
	size_t need, size;

	if (n > b->cap || b->len > b->cap - n) {
		buf_free(b);
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->size)
		return 0;
	size = b->size == 0 ? BUF_MIN_SIZE : b->size;
	while (size < need)
		size = size > (size_t)-1 / 2 ? need : size * 2;
	if (size > b->cap + 1)
		size = b->cap + 1;
	b->data = xreallocarray(b->data, 1, size);
	b->size = size;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		buf_free(b);
		return -1;
	}
	if (buf_grow(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *p = b->data != NULL ? b->data : xstrdup("");

	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->size = 0;
	return p;
}

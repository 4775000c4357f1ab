/*
 * Allocation that cannot fail: on exhaustion the process logs and exits
 * (STYLE: fatal() on allocation failure). Every pointer returned is owned
 * by the caller and released with free(3).
 */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

#endif

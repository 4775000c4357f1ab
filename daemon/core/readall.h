/*
 * Reading a whole file (a configuration, a feed or an OPML export named
 * on the command line) with a hard cap on its size.
 */
#ifndef READALL_H
#define READALL_H

#include <stddef.h>

/*
 * All of fd, at most max bytes, NUL-terminated (the NUL not counted in
 * *len; the caller frees it). NULL with *cause ("NAME: ...", NAME escaped)
 * on a read error or past the cap. fd is not closed.
 */
char *readall_fd(
    int fd, const char *name, size_t max, size_t *len, char **cause);
/* The same for PATH ("-": standard input). */
char *readall_path(const char *path, size_t max, size_t *len, char **cause);

#endif

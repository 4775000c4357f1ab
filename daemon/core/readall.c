/* readall: see readall.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "readall.h"
#include "xmalloc.h"

#define READALL_CHUNK 65536

char *
readall_fd(int fd, const char *name, size_t max, size_t *len, char **cause)
{
	struct buf b;
	char chunk[READALL_CHUNK], esc[512];
	ssize_t n;

	buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "%s: %s",
			    log_escapes(esc, sizeof esc, name),
			    strerror(errno));
			break;
		}
		if (n == 0)
			return buf_take(&b, len);
		if (buf_add(&b, chunk, (size_t)n) == -1) {
			xasprintf(cause, "%s: larger than %zu bytes",
			    log_escapes(esc, sizeof esc, name), max);
			break;
		}
	}
	buf_free(&b);
	return NULL;
}

char *
readall_path(const char *path, size_t max, size_t *len, char **cause)
{
	char *data, esc[512];
	int fd;

	if (strcmp(path, "-") == 0)
		return readall_fd(
		    STDIN_FILENO, "(standard input)", max, len, cause);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", log_escapes(esc, sizeof esc, path),
		    strerror(errno));
		return NULL;
	}
	data = readall_fd(fd, path, max, len, cause);
	close(fd);
	return data;
}

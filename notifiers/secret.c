/*
 * Secrets from the configuration, a file, the environment or a systemd
 * credential. Files that group or others can read are refused, as
 * OpenSMTPD does.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "secret.h"
#include "xmalloc.h"

int
secret_read_file(const char *path, int check_mode, char **out, char **cause)
{
	struct stat st;
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (check_mode && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		xasprintf(cause,
		    "%s: readable or writable by group or others (mode %03o); "
		    "chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	buf_init(&b, SECRET_MAX_FILE);
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(&b, chunk, (size_t)n) == -1) {
			xasprintf(cause, "%s: %s", path,
			    n == -1 ? strerror(errno) : "larger than 64 KiB");
			OPENSSL_cleanse(chunk, sizeof chunk);
			buf_free(&b);
			close(fd);
			return -1;
		}
	}
	OPENSSL_cleanse(chunk, sizeof chunk);
	close(fd);
	while (b.len > 0 &&
	    (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	*out = buf_take(&b, NULL);
	return 0;
}

int
secret_load(const struct notifier_config *cf, const char *name, char **out,
    char **cause)
{
	static const char *const suffixes[] = {
	    "", "_file", "_env", "_credential"};
	const char *given[4], *dir, *v;
	char key[64], *path, *value = NULL;
	size_t i, ngiven = 0, which = 0;
	int rc;

	*out = NULL;
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof key, "%s%s", name, suffixes[i]);
		if ((given[i] = notifier_option(cf, key)) != NULL) {
			ngiven++;
			which = i;
		}
	}
	if (ngiven == 0)
		return 0;
	if (ngiven > 1) {
		xasprintf(cause,
		    "give only one of %s, %s_file, %s_env, %s_credential", name,
		    name, name, name);
		return -1;
	}
	v = given[which];
	switch (which) {
	case 0:
		value = xstrdup(v);
		break;
	case 1:
		path = notifier_path(cf, v);
		rc = secret_read_file(path, 1, &value, cause);
		free(path);
		if (rc == -1)
			return -1;
		break;
	case 2:
		if ((v = getenv(v)) == NULL) {
			xasprintf(cause, "%s_env: %.64s is not set", name,
			    given[which]);
			return -1;
		}
		value = xstrdup(v);
		break;
	case 3:
		if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL) {
			xasprintf(cause,
			    "%s_credential: CREDENTIALS_DIRECTORY is not set "
			    "(LoadCredential= in the unit)",
			    name);
			return -1;
		}
		if (strchr(v, '/') != NULL) {
			xasprintf(cause, "%s_credential: not a credential name",
			    name);
			return -1;
		}
		xasprintf(&path, "%s/%s", dir, v);
		/* systemd makes credentials readable by the service only. */
		rc = secret_read_file(path, 0, &value, cause);
		free(path);
		if (rc == -1)
			return -1;
		break;
	}
	if (value[0] == '\0') {
		xasprintf(
		    cause, "%s%s: the secret is empty", name, suffixes[which]);
		free(value);
		return -1;
	}
	*out = value;
	return 1;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/*
 * Configuration loader: YAML (through yamltree) into struct config.
 * docs/configuration.md is the reference for every key read here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alert.h"
#include "buf.h"
#include "config.h"
#include "curlev.h"
#include "log.h"
#include "parsepool.h"
#include "readall.h"
#include "secret.h"
#include "units.h"
#include "webhook.h"
#include "xmalloc.h"
#include "yamltree.h"

#define CONFIG_MAX_ERRORS 50
/* Longest message of an error, escaped; a longer one (it quotes a huge
 * key) is cut, so that 50 of them fit in the report. */
#define CONFIG_MAX_ERROR_TEXT 1024
#define CONFIG_MAX_NAME 64
#define CONFIG_MAX_VALUE 65536
#define CONFIG_MAX_ENVNAME 128
#define CONFIG_MAX_BODY (100 * 1024 * 1024)
#define CONFIG_TOKEN_CHARS                                                     \
	"!#$%&'*+-.^_`|~"                                                      \
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"            \
	"vwxyz"
#define CONFIG_ENVNAME_CHARS                                                   \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
/* Shortest admin bearer token accepted (guessing must not pay). */
#define CONFIG_ADMIN_TOKEN_MIN 16
#define CONFIG_MAX_DROPINS 256
#define CONFIG_DEFAULT_INTERVAL_MS (10 * 60 * 1000)
#define CONFIG_DEFAULT_TIMEOUT_MS (30 * 1000)
#define CONFIG_MIN_INTERVAL_MS (10 * 1000)
#define CONFIG_DEFAULT_RETENTION_MS (90LL * 24 * 3600 * 1000)
#define CONFIG_MIN_RETENTION_MS (24LL * 3600 * 1000)

#define CONFIG_INDEX_NONE ((size_t)-1)

/* A table of indexes into an array, by the string each one's key is:
 * KEY(CTX, I) is the key of index I. */
typedef const char *(*config_index_key_fn)(const void *ctx, size_t i);

struct config_index {
	size_t *slots; /* indexes, CONFIG_INDEX_NONE when free */
	size_t size; /* a power of two */
	size_t used;
	config_index_key_fn key;
};

struct config_loader {
	struct config *cf;
	const char *file; /* cf->path */
	char *dir; /* directory of the file, for relative paths */
	struct buf errors;
	int nerrors;
	struct config_index feed_urls;
	struct config_index feed_names;
	struct config_index entities;
	struct config_index watchlists;
	struct config_index notifiers;
	int admin_only; /* config_load_for_admin(): nothing but admin: */
};

static char *config_dirname(const char *);
static size_t config_index_find(
    const struct config_index *, const void *, const char *);
static void config_index_add(struct config_index *, const void *, size_t);
static const char *config_map_key(const void *, size_t);

static const char *const config_top_keys[] = {"store", "retention", "defaults",
    "fetch", "admin", "self_alerts", "feeds", "entities", "watchlists",
    "notifiers", NULL};
static const char *const config_admin_keys[] = {
    "enabled", "address", "port", "token", "token_file", NULL};
static const char *const config_self_keys[] = {"notify", "feed_failing_for",
    "outbox_pending_for", "outbox_pending_rows", "severity", NULL};
static const char *const config_fetch_keys[] = {"block_private_addresses",
    "max_connections", "max_connections_per_host", "max_body", "user_agent",
    "parse_threads", NULL};
static const char *const config_defaults_keys[] = {"interval", "timeout", NULL};
static const char *const config_feed_keys[] = {"url", "name", "interval",
    "timeout", "tags", "first_poll_alert_age", "allow_private", "headers",
    "user_agent", "proxy", "ca_file", "username", "password_file",
    "password_env", NULL};
static const char *const config_entity_keys[] = {
    "name", "aliases", "country", NULL};
static const char *const config_alias_keys[] = {"text", "case_sensitive", NULL};
static const char *const config_watchlist_keys[] = {
    "match", "feeds", "notify", "severity", "updates", NULL};

/* Keys each notifier type accepts, "type" included. */
struct config_notifier_schema {
	enum config_notifier_type type;
	const char *name;
	const char *const keys[20];
};
static const struct config_notifier_schema config_notifier_schemas[] = {
    {CONFIG_NOTIFIER_WEBHOOK, "webhook",
	{"type", "url", "secret", "secret_file", "secret_env",
	    "secret_credential", "preset", "topic", "template", "content_type",
	    "headers", "timeout", "allow_private", "rate_limit", "digest",
	    NULL}},
    {CONFIG_NOTIFIER_EMAIL, "email",
	{"type", "url", "from", "to", "subject", "username", "password",
	    "password_file", "password_env", "password_credential", "starttls",
	    "ca_file", "timeout", "allow_private", "rate_limit", "digest",
	    NULL}},
    {CONFIG_NOTIFIER_SYSLOG, "syslog",
	{"type", "ident", "facility", "priorities", "socket", "server",
	    "rate_limit", NULL}},
    {CONFIG_NOTIFIER_EXEC, "exec",
	{"type", "command", "timeout", "rate_limit", NULL}},
    {CONFIG_NOTIFIER_CONSOLE, "console", {"type", "rate_limit", NULL}},
};
#define CONFIG_NSCHEMAS                                                        \
	(sizeof config_notifier_schemas / sizeof config_notifier_schemas[0])

static void config_error(struct config_loader *, const struct yamltree_node *,
    const char *, ...) __attribute__((format(printf, 3, 4)));

static void
config_error(struct config_loader *ld, const struct yamltree_node *node,
    const char *fmt, ...)
{
	char raw[4 * CONFIG_MAX_ERROR_TEXT], msg[CONFIG_MAX_ERROR_TEXT];
	va_list ap;

	if (++ld->nerrors > CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* what the message quotes from the file: no terminal controls */
	log_escapes_text(msg, sizeof msg, raw);
	buf_printf(&ld->errors, "%s:%u:%u: %s\n", ld->file,
	    node != NULL ? node->line : 1, node != NULL ? node->column : 1,
	    msg);
}

/* An error whose text already starts with "LINE:COL: ", or with the
 * file's name (AT_FILE false). */
static void
config_error_at(struct config_loader *ld, const char *msg, int at_file)
{
	if (++ld->nerrors <= CONFIG_MAX_ERRORS)
		buf_printf(&ld->errors, "%s%s%s\n", at_file ? ld->file : "",
		    at_file ? ":" : "", msg);
}

static struct config_mark
config_mark_of(struct config_loader *ld, const struct yamltree_node *node)
{
	struct config_mark mark = {ld->file, node->line, node->column};

	return mark;
}

/* Edit distance, for "did you mean" suggestions on short keys. */
static size_t
config_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (la >= sizeof row / sizeof row[0] ||
	    lb >= sizeof row / sizeof row[0])
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

static const char *
config_suggest(const char *key, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, d, limit;

	for (; *allowed != NULL; allowed++) {
		d = config_distance(key, *allowed);
		if (d < best_d) {
			best_d = d;
			best = *allowed;
		}
	}
	limit = strlen(key) <= 4 ? 1 : 2;
	return best_d <= limit ? best : NULL;
}

static void
config_list_keys(struct buf *b, const char *const *allowed)
{
	for (; *allowed != NULL; allowed++)
		buf_printf(b, "%s%s", *allowed, allowed[1] != NULL ? ", " : "");
}

static int
config_expect(struct config_loader *ld, const struct yamltree_node *node,
    enum yamltree_kind kind, const char *what)
{
	if (node->kind != kind) {
		config_error(ld, node, "%s must be %s, not %s", what,
		    yamltree_kind_name(kind), yamltree_kind_name(node->kind));
		return -1;
	}
	/* "10m\0junk" is not 10m */
	if (kind == YAMLTREE_SCALAR && strlen(node->value) != node->value_len) {
		config_error(ld, node, "%s contains a NUL byte", what);
		return -1;
	}
	return 0;
}

/* Check a mapping's keys against the allowed list: unknown and repeated
 * keys are errors. Returns 0 when every key is fine. */
static int
config_check_keys(struct config_loader *ld, const struct yamltree_node *map,
    const char *const *allowed, const char *where)
{
	const struct yamltree_node *key;
	const char *near;
	const char *const *a;
	struct config_index seen = {NULL, 0, 0, config_map_key};
	size_t i, j;
	int rc = 0;
	struct buf list;

	for (i = 0; i + 1 < map->nchildren; i += 2) {
		key = map->children[i];
		if (key->kind != YAMLTREE_SCALAR) {
			config_error(
			    ld, key, "keys in %s must be scalars", where);
			rc = -1;
			continue;
		}
		if ((j = config_index_find(&seen, map, key->value)) !=
		    CONFIG_INDEX_NONE) {
			config_error(ld, key,
			    "duplicate key \"%s\" in %s (first at line %u)",
			    key->value, where, map->children[2 * j]->line);
			rc = -1;
		} else
			config_index_add(&seen, map, i / 2);
		if (allowed == NULL)
			continue; /* names: the caller checks them */
		if (strlen(key->value) != key->value_len) {
			config_error(
			    ld, key, "a key in %s contains a NUL byte", where);
			rc = -1;
			continue;
		}
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key->value) == 0)
				break;
		if (*a != NULL)
			continue;
		rc = -1;
		if ((near = config_suggest(key->value, allowed)) != NULL) {
			config_error(ld, key,
			    "unknown key \"%.64s\" in %s; "
			    "did you mean \"%s\"?",
			    key->value, where, near);
			continue;
		}
		buf_init(&list, 4096);
		config_list_keys(&list, allowed);
		config_error(ld, key,
		    "unknown key \"%.64s\" in %s; expected "
		    "one of: %s",
		    key->value, where, buf_str(&list));
		buf_free(&list);
	}
	free(seen.slots);
	return rc;
}

/* A YAML null: "key:" with nothing after it, "~" or "null", unquoted. */
static int
config_is_null(const struct yamltree_node *node)
{
	return node->kind == YAMLTREE_SCALAR && node->plain &&
	    (node->value[0] == '\0' || strcmp(node->value, "~") == 0 ||
		strcmp(node->value, "null") == 0);
}

/* The value of KEY in a mapping; a null value counts as absent, so that
 * "feeds:" with every feed commented out is an empty list. */
static const struct yamltree_node *
config_get(const struct yamltree_node *map, const char *key)
{
	size_t i;

	for (i = 0; i + 1 < map->nchildren; i += 2)
		if (map->children[i]->kind == YAMLTREE_SCALAR &&
		    strcmp(map->children[i]->value, key) == 0)
			return config_is_null(map->children[i + 1])
			    ? NULL
			    : map->children[i + 1];
	return NULL;
}

/*
 * Copy a scalar's text to *out with ${NAME} replaced by the environment
 * variable NAME ("$${" stands for a literal "${"). An unset variable is
 * an error: a secret that silently became "" would be worse.
 */
static int
config_expand(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, char **out)
{
	const char *p = node->value, *end, *value;
	struct buf b;
	char name[CONFIG_MAX_ENVNAME + 1];
	size_t n;
	int rc = 0;

	if (strstr(p, "${") == NULL) {
		*out = xstrdup(p);
		return 0;
	}
	buf_init(&b, CONFIG_MAX_VALUE);
	while (*p != '\0' && rc == 0) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			rc = buf_add(&b, "${", 2);
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			rc = buf_addc(&b, *p++);
			continue;
		}
		end = strchr(p + 2, '}');
		n = end != NULL ? (size_t)(end - p - 2) : 0;
		if (n == 0 || n > CONFIG_MAX_ENVNAME ||
		    strspn(p + 2, CONFIG_ENVNAME_CHARS) != n) {
			config_error(ld, node,
			    "%s: \"${\" must be followed by "
			    "an environment variable name and \"}\"",
			    what);
			buf_free(&b);
			return -1;
		}
		memcpy(name, p + 2, n);
		name[n] = '\0';
		if ((value = getenv(name)) == NULL) {
			config_error(ld, node,
			    "%s: environment variable %s is "
			    "not set",
			    what, name);
			buf_free(&b);
			return -1;
		}
		rc = buf_addstr(&b, value);
		p = end + 1;
	}
	if (rc == -1) {
		config_error(ld, node,
		    "%s is longer than %d bytes once "
		    "expanded",
		    what, CONFIG_MAX_VALUE);
		return -1;
	}
	*out = buf_take(&b, NULL);
	return 0;
}

/* A non-empty scalar with no NUL byte, copied to *out. */
static int
config_string(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, char **out)
{
	if (config_expect(ld, node, YAMLTREE_SCALAR, what) == -1)
		return -1;
	if (node->value_len == 0) {
		config_error(ld, node, "%s must not be empty", what);
		return -1;
	}
	if (node->value_len > CONFIG_MAX_VALUE) {
		config_error(ld, node, "%s is longer than %d bytes", what,
		    CONFIG_MAX_VALUE);
		return -1;
	}
	free(*out);
	*out = NULL;
	if (config_expand(ld, node, what, out) == -1)
		return -1;
	if (**out == '\0') {
		config_error(ld, node, "%s is empty once expanded", what);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* A string sent as a header value (a User-Agent): one line, or it
 * would start another header. */
static int
config_header_value(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, char **out)
{
	if (config_string(ld, node, what, out) == -1)
		return -1;
	if (strpbrk(*out, "\r\n") == NULL)
		return 0;
	config_error(ld, node, "%s must be one line (no CR or LF)", what);
	free(*out);
	*out = NULL;
	return -1;
}

/* A list of scalars; a single scalar is a list of one. */
static int
config_string_list(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, char ***out, size_t *nout)
{
	const struct yamltree_node *const *items = &node;
	size_t n = 1, i;
	int rc = 0;
	char *s;

	if (node->kind == YAMLTREE_MAPPING) {
		config_error(
		    ld, node, "%s must be a list, not a mapping", what);
		return -1;
	}
	if (node->kind == YAMLTREE_SEQUENCE) {
		items = (const struct yamltree_node *const *)node->children;
		n = node->nchildren;
	}
	for (i = 0; i < n; i++) {
		s = NULL;
		if (config_string(ld, items[i], what, &s) == -1) {
			rc = -1;
			continue;
		}
		*out = xreallocarray(*out, *nout + 1, sizeof **out);
		(*out)[(*nout)++] = s;
	}
	return rc;
}

static int
config_duration(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, int64_t *ms)
{
	if (config_expect(ld, node, YAMLTREE_SCALAR, what) == -1)
		return -1;
	if (units_duration(node->value, ms) == -1) {
		config_error(ld, node,
		    "%s: \"%.64s\" is not a duration "
		    "(write it like 90s, 10m, 1h30m or 2d)",
		    what, node->value);
		return -1;
	}
	return 0;
}

/* true/false (also yes/no, on/off). */
static int
config_bool(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};
	size_t i;

	if (config_expect(ld, node, YAMLTREE_SCALAR, what) == -1)
		return -1;
	for (i = 0; yes[i] != NULL; i++) {
		if (strcmp(node->value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(node->value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	config_error(ld, node, "%s must be true or false, not \"%.64s\"", what,
	    node->value);
	return -1;
}

/* A whole number in [min, max]. */
static int
config_uint(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *p;
	uint64_t n;

	if (config_expect(ld, node, YAMLTREE_SCALAR, what) == -1)
		return -1;
	p = node->value;
	if (units_number(&p, &n) == -1 || *p != '\0' || n < min || n > max) {
		config_error(ld, node,
		    "%s must be a whole number from %llu to %llu", what,
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = n;
	return 0;
}

static void
config_load_fetch(struct config_loader *ld, const struct yamltree_node *node)
{
	const struct yamltree_node *v;
	struct config *cf = ld->cf;
	uint64_t n;

	if (config_expect(ld, node, YAMLTREE_MAPPING, "fetch") == -1)
		return;
	config_check_keys(ld, node, config_fetch_keys, "fetch");
	if ((v = config_get(node, "block_private_addresses")) != NULL)
		config_bool(ld, v, "fetch.block_private_addresses",
		    &cf->block_private_addresses);
	if ((v = config_get(node, "max_connections")) != NULL &&
	    config_uint(ld, v, "fetch.max_connections", 1, 1024, &n) == 0)
		cf->max_connections = (size_t)n;
	if ((v = config_get(node, "max_connections_per_host")) != NULL &&
	    config_uint(ld, v, "fetch.max_connections_per_host", 1, 64, &n) ==
		0)
		cf->max_connections_per_host = (size_t)n;
	if ((v = config_get(node, "max_body")) != NULL) {
		if (config_expect(ld, v, YAMLTREE_SCALAR, "fetch.max_body") ==
		    0) {
			if (config_parse_size(v->value, &n) == -1 || n < 1024 ||
			    n > CONFIG_MAX_BODY)
				config_error(ld, v,
				    "fetch.max_body must be a size from 1KiB "
				    "to 100MiB, like 10MiB");
			else
				cf->max_body = n;
		}
	}
	if ((v = config_get(node, "user_agent")) != NULL)
		config_header_value(ld, v, "fetch.user_agent", &cf->user_agent);
	if ((v = config_get(node, "parse_threads")) != NULL &&
	    config_uint(ld, v, "fetch.parse_threads", 0, PARSEPOOL_THREADS_MAX,
		&n) == 0)
		cf->parse_threads = (size_t)n;
}

/* "Name: value" lines: a token, a colon, no CR or LF anywhere. */
static void
config_check_headers(struct config_loader *ld, const struct yamltree_node *node,
    char **headers, size_t n)
{
	size_t i, name;

	for (i = 0; i < n; i++) {
		name = strcspn(headers[i], ":");
		if (headers[i][name] != ':' || name == 0 ||
		    strspn(headers[i], CONFIG_TOKEN_CHARS) != name ||
		    strpbrk(headers[i], "\r\n") != NULL)
			config_error(ld, node,
			    "feed header \"%.64s\" must be \"Name: value\" on "
			    "one line",
			    headers[i]);
	}
}

/* A name usable as a key: letters, digits, '_', '-', '.'; 1-64 bytes. */
static int
config_name(struct config_loader *ld, const struct yamltree_node *node,
    const char *what)
{
	const char *p;

	if (config_expect(ld, node, YAMLTREE_SCALAR, what) == -1)
		return -1;
	if (node->value_len == 0 || node->value_len > CONFIG_MAX_NAME)
		goto bad;
	for (p = node->value; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_' && *p != '-' &&
		    *p != '.')
			goto bad;
	if ((size_t)(p - node->value) != node->value_len)
		goto bad;
	return 0;
bad:
	config_error(ld, node,
	    "%s \"%.64s\" must be 1 to %d letters, digits, "
	    "'_', '-' or '.'",
	    what, node->value, CONFIG_MAX_NAME);
	return -1;
}

char *
config_format_duration(char *dst, size_t size, int64_t ms)
{
	static const char *const units[] = {"d", "h", "m", "s"};
	static const int64_t secs[] = {86400, 3600, 60, 1};
	int64_t s = ms > 0 ? ms / 1000 : 0, next;
	size_t i;
	int len;

	for (i = 0; i < 3 && s < secs[i]; i++)
		;
	len = snprintf(dst, size, "%lld%s", (long long)(s / secs[i]), units[i]);
	if (i < 3 && (next = s % secs[i] / secs[i + 1]) > 0 && len > 0 &&
	    (size_t)len < size)
		snprintf(dst + len, size - (size_t)len, "%lld%s",
		    (long long)next, units[i + 1]);
	return dst;
}

int
config_parse_size(const char *s, uint64_t *bytes)
{
	static const char *const units[] = {
	    "KiB", "MiB", "GiB", "KB", "MB", "GB", "B", NULL};
	static const uint64_t factors[] = {1024, 1024 * 1024,
	    1024 * 1024 * 1024, 1000, 1000000, 1000000000, 1};
	uint64_t n, factor;
	const char *p = s;

	if (units_number(&p, &n) == -1 ||
	    units_unit(&p, units, factors, &factor) == -1 || *p != '\0')
		return -1;
	if (n > UINT64_MAX / factor)
		return -1;
	*bytes = n * factor;
	return 0;
}

/* Read a whole file, refusing anything but a regular file of sane size. */
static char *
config_read_file(const char *path, size_t *len, char **cause)
{
	struct stat st;
	char *data;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	data = readall_fd(fd, path, YAMLTREE_MAX_INPUT, len, cause);
	close(fd);
	return data;
}

/* Make PATH absolute against the configuration file's directory. */
static char *
config_abspath(struct config_loader *ld, const char *path)
{
	char *abs;

	if (path[0] == '/')
		return xstrdup(path);
	xasprintf(&abs, "%s/%s", ld->dir, path);
	return abs;
}

static void
config_load_defaults(struct config_loader *ld, const struct yamltree_node *node)
{
	const struct yamltree_node *v;

	if (config_expect(ld, node, YAMLTREE_MAPPING, "defaults") == -1)
		return;
	config_check_keys(ld, node, config_defaults_keys, "defaults");
	if ((v = config_get(node, "interval")) != NULL &&
	    config_duration(ld, v, "defaults.interval",
		&ld->cf->default_interval_ms) == 0 &&
	    ld->cf->default_interval_ms < CONFIG_MIN_INTERVAL_MS)
		config_error(ld, v, "defaults.interval must be at least 10s");
	if ((v = config_get(node, "timeout")) != NULL &&
	    config_duration(
		ld, v, "defaults.timeout", &ld->cf->default_timeout_ms) == 0 &&
	    ld->cf->default_timeout_ms < 1000)
		config_error(ld, v, "defaults.timeout must be at least 1s");
}

/* Append S, writing %XX what libcurl's parser refuses or reads as
 * something else (space, controls, '?', '#'), and '%' too when PERCENT. */
static void
config_url_add(struct buf *b, const char *s, int percent)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#' ||
		    (percent && *p == '%'))
			buf_printf(b, "%%%02X", *p);
		else
			buf_addc(b, (char)*p);
	}
}

/*
 * The file:// URL of REL, a path relative to the configuration's folder.
 * Other bytes than those config_url_add() writes %XX stay as they are,
 * so that a path that made a valid URL before makes the same one (the
 * store knows a feed by its URL), and a "%20" written in REL is still
 * read as a space; the folder's own '%' are written %25.
 */
static char *
config_file_url(const struct config_loader *ld, const char *rel)
{
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	buf_addstr(&b, "file://");
	config_url_add(&b, ld->dir, 1);
	buf_addc(&b, '/');
	config_url_add(&b, rel, 0);
	return buf_take(&b, NULL);
}

/*
 * Check a feed URL: its scheme, and that libcurl's parser takes it;
 * "file:relative/path" becomes a file:// URL of the absolute path.
 */
static int
config_feed_url(struct config_loader *ld, const struct yamltree_node *node,
    struct config_feed *feed)
{
	char *url = NULL, *path, *why, esc[160];

	if (config_string(ld, node, "feed url", &url) == -1)
		return -1;
	if (strlen(url) > CONFIG_MAX_URL) {
		config_error(ld, node, "feed url is longer than %d bytes",
		    CONFIG_MAX_URL);
		free(url);
		return -1;
	}
	if (strncmp(url, "file:", 5) == 0 && url[5] != '/' && url[5] != '\0') {
		path = url;
		url = config_file_url(ld, path + 5);
		free(path);
	} else if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "file:///", 8) != 0) {
		config_error(ld, node,
		    "feed url \"%s\" must start with http://, "
		    "https://, file:/// or file: (a path relative to the "
		    "configuration file)",
		    log_escapes(esc, sizeof esc, url));
		free(url);
		return -1;
	}
	if (curlev_url_check(url, &why) == -1) {
		config_error(ld, node, "feed url \"%s\": %s",
		    log_escapes(esc, sizeof esc, url), why);
		free(why);
		free(url);
		return -1;
	}
	feed->url = url;
	return 0;
}

/*
 * A feed's proxy, parsed as libcurl parses it when it connects (a URL, a
 * scheme guessed when there is none), so that what it would refuse at
 * every poll is refused here.
 */
static void
config_feed_proxy(struct config_loader *ld, const struct yamltree_node *node,
    struct config_feed *feed)
{
	static const char *const schemes[] = {"http", "https", "socks",
	    "socks4", "socks4a", "socks5", "socks5h", NULL};
	char *scheme = NULL, esc[160];
	CURLUcode rc;
	CURLU *u;
	size_t i;

	if (config_string(ld, node, "feed proxy", &feed->proxy) == -1)
		return;
	if ((u = curl_url()) == NULL)
		fatalx("curl_url failed");
	rc = curl_url_set(u, CURLUPART_URL, feed->proxy,
	    CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_cleanup(u);
	log_escapes(esc, sizeof esc, feed->proxy);
	if (rc != CURLUE_OK) {
		config_error(ld, node, "feed proxy \"%s\": %s", esc,
		    curl_url_strerror(rc));
		return;
	}
	for (i = 0; schemes[i] != NULL; i++)
		if (strcasecmp(schemes[i], scheme) == 0)
			break;
	if (schemes[i] == NULL)
		config_error(ld, node,
		    "feed proxy \"%s\" must be an http, https, socks4, "
		    "socks4a, socks5 or socks5h URL",
		    esc);
	curl_free(scheme);
}

/*
 * Feed urls and names, entities, watchlists and notifiers seen so far,
 * for the duplicate checks: open addressing tables of indexes, so that
 * a list of 100,000 feeds or entities loads in linear time.
 */
static uint64_t
config_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t
config_index_find(
    const struct config_index *ix, const void *ctx, const char *key)
{
	size_t i;

	if (ix->size == 0)
		return CONFIG_INDEX_NONE;
	for (i = config_hash(key) & (ix->size - 1);
	     ix->slots[i] != CONFIG_INDEX_NONE; i = (i + 1) & (ix->size - 1))
		if (strcmp(ix->key(ctx, ix->slots[i]), key) == 0)
			return ix->slots[i];
	return CONFIG_INDEX_NONE;
}

/* Put index N (its key: ix->key(CTX, N)) in the table. */
static void
config_index_put(struct config_index *ix, const void *ctx, size_t n)
{
	size_t i;

	for (i = config_hash(ix->key(ctx, n)) & (ix->size - 1);
	     ix->slots[i] != CONFIG_INDEX_NONE; i = (i + 1) & (ix->size - 1))
		;
	ix->slots[i] = n;
}

static void
config_index_add(struct config_index *ix, const void *ctx, size_t n)
{
	size_t *old = ix->slots, oldsize = ix->size, i;

	if (2 * (ix->used + 1) > ix->size) {
		ix->size = ix->size == 0 ? 64 : ix->size * 2;
		ix->slots = xreallocarray(NULL, ix->size, sizeof *ix->slots);
		for (i = 0; i < ix->size; i++)
			ix->slots[i] = CONFIG_INDEX_NONE;
		for (i = 0; i < oldsize; i++)
			if (old[i] != CONFIG_INDEX_NONE)
				config_index_put(ix, ctx, old[i]);
		free(old);
	}
	config_index_put(ix, ctx, n);
	ix->used++;
}

static const char *
config_feed_url_key(const void *cf, size_t i)
{
	return ((const struct config *)cf)->feeds[i].url;
}

static const char *
config_feed_name_key(const void *cf, size_t i)
{
	return ((const struct config *)cf)->feeds[i].name;
}

static const char *
config_entity_key(const void *cf, size_t i)
{
	return ((const struct config *)cf)->entities[i].key;
}

static const char *
config_watchlist_key(const void *cf, size_t i)
{
	return ((const struct config *)cf)->watchlists[i].key;
}

static const char *
config_notifier_key(const void *cf, size_t i)
{
	return ((const struct config *)cf)->notifiers[i].key;
}

/* The key of a mapping's pair I. */
static const char *
config_map_key(const void *map, size_t i)
{
	return ((const struct yamltree_node *)map)->children[2 * i]->value;
}

static void
config_load_feed(struct config_loader *ld, const struct yamltree_node *node)
{
	struct config *cf = ld->cf;
	struct config_feed *feed;
	const struct yamltree_node *v;
	char *path;
	size_t i;

	if (config_expect(ld, node, YAMLTREE_MAPPING, "a feed") == -1)
		return;
	config_check_keys(ld, node, config_feed_keys, "a feed");
	cf->feeds = xreallocarray(cf->feeds, cf->nfeeds + 1, sizeof *cf->feeds);
	feed = &cf->feeds[cf->nfeeds++];
	memset(feed, 0, sizeof *feed);
	feed->mark = config_mark_of(ld, node);
	feed->interval_ms = cf->default_interval_ms;
	feed->timeout_ms = cf->default_timeout_ms;

	if ((v = config_get(node, "url")) == NULL)
		config_error(ld, node, "a feed needs a url");
	else
		config_feed_url(ld, v, feed);
	if ((v = config_get(node, "name")) != NULL)
		config_string(ld, v, "feed name", &feed->name);
	if (feed->name == NULL && feed->url != NULL)
		feed->name = xstrdup(feed->url);
	if ((v = config_get(node, "interval")) != NULL &&
	    config_duration(ld, v, "feed interval", &feed->interval_ms) == 0 &&
	    feed->interval_ms < CONFIG_MIN_INTERVAL_MS)
		config_error(ld, v, "feed interval must be at least 10s");
	if ((v = config_get(node, "timeout")) != NULL &&
	    config_duration(ld, v, "feed timeout", &feed->timeout_ms) == 0 &&
	    feed->timeout_ms < 1000)
		config_error(ld, v, "feed timeout must be at least 1s");
	if ((v = config_get(node, "tags")) != NULL)
		config_string_list(
		    ld, v, "feed tags", &feed->tags, &feed->ntags);
	if ((v = config_get(node, "allow_private")) != NULL)
		config_bool(ld, v, "feed allow_private", &feed->allow_private);
	if ((v = config_get(node, "headers")) != NULL &&
	    config_string_list(
		ld, v, "feed headers", &feed->headers, &feed->nheaders) == 0)
		config_check_headers(ld, v, feed->headers, feed->nheaders);
	if ((v = config_get(node, "user_agent")) != NULL)
		config_header_value(
		    ld, v, "feed user_agent", &feed->user_agent);
	if ((v = config_get(node, "proxy")) != NULL)
		config_feed_proxy(ld, v, feed);
	if ((v = config_get(node, "ca_file")) != NULL &&
	    config_string(ld, v, "feed ca_file", &feed->ca_file) == 0) {
		path = config_abspath(ld, feed->ca_file);
		free(feed->ca_file);
		feed->ca_file = path;
	}
	if ((v = config_get(node, "username")) != NULL)
		config_string(ld, v, "feed username", &feed->username);
	if ((v = config_get(node, "password_file")) != NULL &&
	    config_string(ld, v, "feed password_file", &feed->password_file) ==
		0) {
		path = config_abspath(ld, feed->password_file);
		free(feed->password_file);
		feed->password_file = path;
	}
	if ((v = config_get(node, "password_env")) != NULL)
		config_string(ld, v, "feed password_env", &feed->password_env);
	if ((feed->password_file != NULL || feed->password_env != NULL) &&
	    feed->username == NULL)
		config_error(ld, node, "a feed password needs a username");
	if ((v = config_get(node, "first_poll_alert_age")) != NULL)
		config_duration(ld, v, "feed first_poll_alert_age",
		    &feed->first_poll_alert_age_ms);

	if (feed->url != NULL &&
	    (i = config_index_find(&ld->feed_urls, cf, feed->url)) !=
		CONFIG_INDEX_NONE)
		config_error(ld, node,
		    "feed url \"%.128s\" is already listed at %s:%u", feed->url,
		    cf->feeds[i].mark.file, cf->feeds[i].mark.line);
	else if (feed->name != NULL &&
	    (i = config_index_find(&ld->feed_names, cf, feed->name)) !=
		CONFIG_INDEX_NONE)
		config_error(ld, node,
		    "feed name \"%.128s\" is already used at %s:%u", feed->name,
		    cf->feeds[i].mark.file, cf->feeds[i].mark.line);
	if (feed->url != NULL)
		config_index_add(&ld->feed_urls, cf, cf->nfeeds - 1);
	if (feed->name != NULL)
		config_index_add(&ld->feed_names, cf, cf->nfeeds - 1);
}

/*
 * Whether NAME is already defined in a section; a definition in another
 * file (a drop-in) is an error here, the same file's duplicates are
 * reported as duplicate keys already.
 */
static int
config_redefined(
    struct config_loader *ld, const struct yamltree_node *key, const char *what)
{
	const struct config *cf = ld->cf;
	const struct config_mark *mark;
	size_t i;

	if (strcmp(what, "entity") == 0) {
		if ((i = config_index_find(&ld->entities, cf, key->value)) ==
		    CONFIG_INDEX_NONE)
			return 0;
		mark = &cf->entities[i].mark;
	} else if (strcmp(what, "watchlist") == 0) {
		if ((i = config_index_find(&ld->watchlists, cf, key->value)) ==
		    CONFIG_INDEX_NONE)
			return 0;
		mark = &cf->watchlists[i].mark;
	} else {
		if ((i = config_index_find(&ld->notifiers, cf, key->value)) ==
		    CONFIG_INDEX_NONE)
			return 0;
		mark = &cf->notifiers[i].mark;
	}
	if (mark->file != ld->file)
		config_error(ld, key, "%s \"%s\" is already defined at %s:%u",
		    what, key->value, mark->file, mark->line);
	return 1;
}

static int
config_ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One alias: a string, or {text: STRING, case_sensitive: true|false}. */
static void
config_load_alias(struct config_loader *ld, const struct yamltree_node *node,
    struct config_entity *entity)
{
	const struct yamltree_node *v, *at = node;
	char *text = NULL;
	int mode = CONFIG_CASE_AUTO, cs;

	if (node->kind == YAMLTREE_MAPPING) {
		if (config_check_keys(
			ld, node, config_alias_keys, "an alias") == -1)
			return;
		if ((v = config_get(node, "text")) == NULL) {
			config_error(ld, node, "an alias needs \"text\"");
			return;
		}
		if (config_string(ld, v, "alias text", &text) == -1)
			return;
		at = v;
		if ((v = config_get(node, "case_sensitive")) != NULL) {
			if (config_bool(ld, v, "alias case_sensitive", &cs) ==
			    -1) {
				free(text);
				return;
			}
			mode = cs ? CONFIG_CASE_SENSITIVE
				  : CONFIG_CASE_INSENSITIVE;
		}
	} else if (config_string(ld, node, "entity alias", &text) == -1) {
		return;
	}
	entity->aliases = xreallocarray(
	    entity->aliases, entity->naliases + 1, sizeof *entity->aliases);
	entity->alias_case = xreallocarray(entity->alias_case,
	    entity->naliases + 1, sizeof *entity->alias_case);
	entity->alias_marks = xreallocarray(entity->alias_marks,
	    entity->naliases + 1, sizeof *entity->alias_marks);
	entity->aliases[entity->naliases] = text;
	entity->alias_case[entity->naliases] = mode;
	entity->alias_marks[entity->naliases] = config_mark_of(ld, at);
	entity->naliases++;
}

/* A list of aliases; a single one is a list of one. */
static void
config_load_aliases(struct config_loader *ld, const struct yamltree_node *node,
    struct config_entity *entity)
{
	size_t i;

	if (node->kind != YAMLTREE_SEQUENCE) {
		config_load_alias(ld, node, entity);
		return;
	}
	for (i = 0; i < node->nchildren; i++)
		config_load_alias(ld, node->children[i], entity);
}

static void
config_load_entity(struct config_loader *ld, const struct yamltree_node *key,
    const struct yamltree_node *node)
{
	struct config *cf = ld->cf;
	struct config_entity *entity;
	const struct yamltree_node *v;

	if (config_name(ld, key, "entity name") == -1 ||
	    config_redefined(ld, key, "entity") ||
	    config_expect(ld, node, YAMLTREE_MAPPING, "an entity") == -1)
		return;
	config_check_keys(ld, node, config_entity_keys, "an entity");
	cf->entities = xreallocarray(
	    cf->entities, cf->nentities + 1, sizeof *cf->entities);
	entity = &cf->entities[cf->nentities++];
	memset(entity, 0, sizeof *entity);
	entity->key = xstrdup(key->value);
	entity->mark = config_mark_of(ld, key);
	config_index_add(&ld->entities, cf, cf->nentities - 1);
	if ((v = config_get(node, "name")) != NULL) {
		config_string(ld, v, "entity name", &entity->name);
		entity->name_mark = config_mark_of(ld, v);
	}
	if ((v = config_get(node, "aliases")) != NULL)
		config_load_aliases(ld, v, entity);
	if ((v = config_get(node, "country")) != NULL &&
	    config_string(ld, v, "entity country", &entity->country) == 0) {
		entity->country_mark = config_mark_of(ld, v);
		if (strlen(entity->country) != 2 ||
		    !config_ascii_alpha(entity->country[0]) ||
		    !config_ascii_alpha(entity->country[1]))
			config_error(ld, v,
			    "entity country \"%.64s\" must be an ISO 3166-1 "
			    "two-letter code, like IQ",
			    entity->country);
		else {
			entity->country[0] &= ~0x20;
			entity->country[1] &= ~0x20;
		}
	}
	if (entity->name == NULL && entity->naliases == 0 &&
	    entity->country == NULL)
		config_error(ld, node,
		    "entity \"%s\" needs a name, aliases or a country",
		    entity->key);
}

/* One of the alert severities (notifiers/alert.h). */
static int
config_severity(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, char **out)
{
	char *s = NULL;

	if (config_string(ld, node, what, &s) == -1)
		return -1;
	if (alert_severity_parse(s) != -1) {
		free(*out);
		*out = s;
		return 0;
	}
	config_error(
	    ld, node, "%s must be info, low, medium, high or critical", what);
	free(s);
	return -1;
}

/* A duration, or "off" for 0. */
static int
config_duration_or_off(struct config_loader *ld,
    const struct yamltree_node *node, const char *what, int64_t *ms)
{
	if (node->kind == YAMLTREE_SCALAR && strcmp(node->value, "off") == 0) {
		*ms = 0;
		return 0;
	}
	if (config_duration(ld, node, what, ms) == -1)
		return -1;
	if (*ms < 1000) {
		config_error(ld, node, "%s must be at least 1s (or off)", what);
		return -1;
	}
	return 0;
}

/*
 * self_alerts: {notify, feed_failing_for, outbox_pending_for,
 * outbox_pending_rows, severity}. notify is required: the section exists
 * to say where the daemon's own alerts go.
 */
static void
config_load_self(struct config_loader *ld, const struct yamltree_node *node)
{
	const struct yamltree_node *v;
	struct config *cf = ld->cf;
	uint64_t n;

	if (config_expect(ld, node, YAMLTREE_MAPPING, "self_alerts") == -1)
		return;
	config_check_keys(ld, node, config_self_keys, "self_alerts");
	cf->self_mark = config_mark_of(ld, node);
	if ((v = config_get(node, "notify")) == NULL)
		config_error(ld, node,
		    "self_alerts needs notify: the notifiers that receive "
		    "them");
	else if (config_string_list(ld, v, "self_alerts notify",
		     &cf->self_notify, &cf->nself_notify) == 0 &&
	    cf->nself_notify == 0)
		config_error(ld, v, "self_alerts notify names no notifier");
	if ((v = config_get(node, "feed_failing_for")) != NULL)
		config_duration_or_off(ld, v, "self_alerts feed_failing_for",
		    &cf->self_feed_failing_ms);
	if ((v = config_get(node, "outbox_pending_for")) != NULL)
		config_duration_or_off(ld, v, "self_alerts outbox_pending_for",
		    &cf->self_outbox_pending_ms);
	if ((v = config_get(node, "outbox_pending_rows")) != NULL &&
	    config_uint(ld, v, "self_alerts outbox_pending_rows", 0, UINT32_MAX,
		&n) == 0)
		cf->self_outbox_pending_rows = n;
	if ((v = config_get(node, "severity")) != NULL)
		config_severity(
		    ld, v, "self_alerts severity", &cf->self_severity);
}

static void
config_load_watchlist(struct config_loader *ld, const struct yamltree_node *key,
    const struct yamltree_node *node)
{
	struct config *cf = ld->cf;
	struct config_watchlist *wl;
	const struct yamltree_node *v;

	if (config_name(ld, key, "watchlist name") == -1 ||
	    config_redefined(ld, key, "watchlist") ||
	    config_expect(ld, node, YAMLTREE_MAPPING, "a watchlist") == -1)
		return;
	config_check_keys(ld, node, config_watchlist_keys, "a watchlist");
	cf->watchlists = xreallocarray(
	    cf->watchlists, cf->nwatchlists + 1, sizeof *cf->watchlists);
	wl = &cf->watchlists[cf->nwatchlists++];
	memset(wl, 0, sizeof *wl);
	wl->key = xstrdup(key->value);
	wl->mark = config_mark_of(ld, key);
	config_index_add(&ld->watchlists, cf, cf->nwatchlists - 1);
	if ((v = config_get(node, "match")) == NULL)
		config_error(
		    ld, node, "watchlist \"%s\" needs a match query", wl->key);
	else if (config_string(ld, v, "match", &wl->match) == 0)
		wl->match_mark = config_mark_of(ld, v);
	if ((v = config_get(node, "feeds")) != NULL)
		config_string_list(
		    ld, v, "watchlist feeds", &wl->feeds, &wl->nfeeds);
	if ((v = config_get(node, "notify")) != NULL)
		config_string_list(
		    ld, v, "watchlist notify", &wl->notify, &wl->nnotify);
	if ((v = config_get(node, "updates")) != NULL)
		config_bool(ld, v, "watchlist updates", &wl->updates);
	if ((v = config_get(node, "severity")) != NULL)
		config_severity(ld, v, "watchlist severity", &wl->severity);
}

/*
 * The admin token from token_file: a file only its owner may read (the
 * notifiers' secret files follow the same rule, secret.h), looked up in
 * $CREDENTIALS_DIRECTORY first when relative, then next to the
 * configuration file.
 */
static char *
config_read_secret(struct config_loader *ld, const struct yamltree_node *node,
    const char *what, const char *value)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL, *data = NULL, *cause = NULL;

	if (value[0] != '/' && creds != NULL && creds[0] == '/') {
		xasprintf(&path, "%s/%s", creds, value);
		if (access(path, F_OK) == -1) {
			free(path);
			path = NULL;
		}
	}
	if (path == NULL)
		path = config_abspath(ld, value);
	if (secret_read_file(path, 1, &data, &cause) == -1) {
		config_error(ld, node, "%s: %s", what, cause);
		free(cause);
	} else if (data[0] == '\0') {
		config_error(ld, node, "%s: %s is empty", what, path);
		secret_free(data);
		data = NULL;
	}
	free(path);
	return data;
}

/*
 * admin: {enabled, address, port, token | token_file}. The address must
 * be a numeric IPv4 or IPv6 address (no name lookups at start-up).
 */
static void
config_load_admin(struct config_loader *ld, const struct yamltree_node *node)
{
	const struct yamltree_node *v, *tf;
	struct config *cf = ld->cf;
	struct in6_addr a6;
	struct in_addr a4;
	uint64_t n;
	char *s = NULL;

	if (config_expect(ld, node, YAMLTREE_MAPPING, "admin") == -1)
		return;
	config_check_keys(ld, node, config_admin_keys, "admin");
	if ((v = config_get(node, "enabled")) != NULL)
		config_bool(ld, v, "admin.enabled", &cf->admin_enabled);
	if ((v = config_get(node, "address")) != NULL &&
	    config_string(ld, v, "admin.address", &s) == 0) {
		if (inet_pton(AF_INET, s, &a4) != 1 &&
		    inet_pton(AF_INET6, s, &a6) != 1) {
			config_error(ld, v,
			    "admin.address must be a numeric IP address, "
			    "like 127.0.0.1 or ::1");
			free(s);
		} else {
			free(cf->admin_address);
			cf->admin_address = s;
		}
	}
	if ((v = config_get(node, "port")) != NULL &&
	    config_uint(ld, v, "admin.port", 1, 65535, &n) == 0)
		cf->admin_port = (int)n;
	v = config_get(node, "token");
	tf = config_get(node, "token_file");
	if (v != NULL && tf != NULL)
		config_error(
		    ld, tf, "give either token or token_file, not both");
	else if (v != NULL)
		config_string(ld, v, "admin.token", &cf->admin_token);
	else if (tf != NULL &&
	    config_expect(ld, tf, YAMLTREE_SCALAR, "admin.token_file") == 0)
		cf->admin_token =
		    config_read_secret(ld, tf, "admin.token_file", tf->value);
	if (cf->admin_token != NULL &&
	    strlen(cf->admin_token) < CONFIG_ADMIN_TOKEN_MIN) {
		config_error(ld, v != NULL ? v : tf,
		    "the admin token must have at least %d characters",
		    CONFIG_ADMIN_TOKEN_MIN);
	}
}

static const struct config_notifier_schema *
config_notifier_schema(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NSCHEMAS; i++)
		if (strcmp(config_notifier_schemas[i].name, name) == 0)
			return &config_notifier_schemas[i];
	return NULL;
}

const char *
config_notifier_type_name(enum config_notifier_type type)
{
	size_t i;

	for (i = 0; i < CONFIG_NSCHEMAS; i++)
		if (config_notifier_schemas[i].type == type)
			return config_notifier_schemas[i].name;
	return "?";
}

/* A webhook's headers, each refused at its own place (the notifier
 * would refuse them too, at the notifier's). */
static void
config_check_webhook_headers(struct config_loader *ld,
    const struct config_notifier *n, const struct yamltree_node *list)
{
	char *why;
	size_t i;

	for (i = 0; i < list->nchildren; i++) {
		if (webhook_header_check(list->children[i]->value, &why) == 0)
			continue;
		config_error(
		    ld, list->children[i], "notifier %s: %s", n->key, why);
		free(why);
	}
}

static void
config_load_notifier(struct config_loader *ld, const struct yamltree_node *key,
    const struct yamltree_node *node)
{
	struct config *cf = ld->cf;
	struct config_notifier *n;
	struct config_option *opt;
	const struct config_notifier_schema *schema;
	const struct yamltree_node *v, *k;
	size_t i;

	if (config_name(ld, key, "notifier name") == -1 ||
	    config_redefined(ld, key, "notifier") ||
	    config_expect(ld, node, YAMLTREE_MAPPING, "a notifier") == -1)
		return;
	if ((v = config_get(node, "type")) == NULL) {
		config_error(ld, node,
		    "notifier \"%s\" needs a type (webhook, "
		    "email, syslog, exec or console)",
		    key->value);
		return;
	}
	if (config_expect(ld, v, YAMLTREE_SCALAR, "notifier type") == -1)
		return;
	if ((schema = config_notifier_schema(v->value)) == NULL) {
		config_error(ld, v,
		    "unknown notifier type \"%.64s\"; expected "
		    "webhook, email, syslog, exec or console",
		    v->value);
		return;
	}
	config_check_keys(ld, node, schema->keys, "a notifier");
	cf->notifiers = xreallocarray(
	    cf->notifiers, cf->nnotifiers + 1, sizeof *cf->notifiers);
	n = &cf->notifiers[cf->nnotifiers++];
	memset(n, 0, sizeof *n);
	n->key = xstrdup(key->value);
	n->type = schema->type;
	n->mark = config_mark_of(ld, key);
	config_index_add(&ld->notifiers, cf, cf->nnotifiers - 1);
	for (i = 0; i + 1 < node->nchildren; i += 2) {
		k = node->children[i];
		v = node->children[i + 1];
		/* "secret: ~" is no secret, not the secret "~" */
		if (k->kind != YAMLTREE_SCALAR ||
		    strcmp(k->value, "type") == 0 || config_is_null(v))
			continue;
		n->options = xreallocarray(
		    n->options, n->noptions + 1, sizeof *n->options);
		opt = &n->options[n->noptions++];
		memset(opt, 0, sizeof *opt);
		opt->key = xstrdup(k->value);
		opt->mark = config_mark_of(ld, v);
		if (v->kind == YAMLTREE_SCALAR)
			config_string(ld, v, k->value, &opt->value);
		else if (config_string_list(
			     ld, v, k->value, &opt->list, &opt->nlist) == 0 &&
		    n->type == CONFIG_NOTIFIER_WEBHOOK &&
		    strcmp(k->value, "headers") == 0)
			config_check_webhook_headers(ld, n, v);
	}
}

/* Load each NAME: {...} of a top-level mapping section. */
static void
config_load_section(struct config_loader *ld, const struct yamltree_node *node,
    const char *what,
    void (*load)(struct config_loader *, const struct yamltree_node *,
	const struct yamltree_node *))
{
	size_t i;

	if (config_expect(ld, node, YAMLTREE_MAPPING, what) == -1)
		return;
	config_check_keys(ld, node, NULL, what);
	for (i = 0; i + 1 < node->nchildren; i += 2)
		load(ld, node->children[i], node->children[i + 1]);
}

/* Cross-references: notify names, watchlist feed selectors. */
static int
config_has_notifier(const struct config *cf, const char *name)
{
	size_t k;

	for (k = 0; k < cf->nnotifiers; k++)
		if (strcmp(cf->notifiers[k].key, name) == 0)
			return 1;
	return 0;
}

static void
config_check_refs(struct config_loader *ld)
{
	struct config *cf = ld->cf;
	struct config_watchlist *wl;
	struct yamltree_node at;
	size_t i, j, k, t;
	int found;

	memset(&at, 0, sizeof at);
	for (j = 0; j < cf->nself_notify; j++) {
		if (config_has_notifier(cf, cf->self_notify[j]))
			continue;
		at.line = cf->self_mark.line;
		at.column = cf->self_mark.column;
		config_error(ld, &at,
		    "self_alerts notify \"%.64s\", which is not a notifier",
		    cf->self_notify[j]);
	}
	for (i = 0; i < cf->nwatchlists; i++) {
		wl = &cf->watchlists[i];
		at.line = wl->mark.line;
		at.column = wl->mark.column;
		for (j = 0; j < wl->nnotify; j++) {
			if (!config_has_notifier(cf, wl->notify[j]))
				config_error(ld, &at,
				    "watchlist \"%s\" notifies "
				    "\"%.64s\", which is not a notifier",
				    wl->key, wl->notify[j]);
		}
		for (j = 0; j < wl->nfeeds; j++) {
			found = 0;
			for (k = 0; k < cf->nfeeds && !found; k++) {
				/* A feed whose url was refused has no name. */
				if (cf->feeds[k].name != NULL &&
				    strcmp(cf->feeds[k].name, wl->feeds[j]) ==
					0)
					found = 1;
				for (t = 0; t < cf->feeds[k].ntags; t++)
					if (strcmp(cf->feeds[k].tags[t],
						wl->feeds[j]) == 0)
						found = 1;
			}
			if (!found && cf->nfeeds > 0)
				config_error(ld, &at,
				    "watchlist \"%s\" selects "
				    "feeds \"%.64s\", which is neither a feed "
				    "name nor a tag",
				    wl->key, wl->feeds[j]);
		}
	}
}

/* One file of the configuration: the main file or a drop-in. */
struct config_source {
	const char *path; /* owned by struct config (cf->files) */
	struct yamltree_node *root;
	/* where set */
	const struct yamltree_node *store, *defaults, *retention, *fetch;
	const struct yamltree_node *admin, *self;
};

static void
config_use_source(struct config_loader *ld, const struct config_source *src)
{
	free(ld->dir);
	ld->file = src->path;
	ld->dir = config_dirname(src->path);
}

/*
 * Load every file in two passes, so that defaults apply to the feeds of
 * every file whatever the order: first store and defaults (each may be
 * set in one file only), then the sections. Cross-references are checked
 * once everything is in.
 */
static void
config_load_sources(
    struct config_loader *ld, struct config_source *srcs, size_t nsrcs)
{
	const struct config_source *store = NULL, *defaults = NULL;
	const struct config_source *retention = NULL, *fetch = NULL;
	const struct config_source *admin = NULL, *self = NULL;
	const struct yamltree_node *v, *root;
	size_t i, j;
	char *path = NULL;
	const char *statedir;

	for (i = 0; i < nsrcs; i++) {
		if ((root = srcs[i].root) == NULL)
			continue;
		config_use_source(ld, &srcs[i]);
		if (config_expect(ld, root, YAMLTREE_MAPPING,
			"the configuration") == -1) {
			srcs[i].root = NULL;
			yamltree_free((struct yamltree_node *)root);
			continue;
		}
		if (ld->admin_only) {
			if ((v = config_get(root, "admin")) != NULL &&
			    admin == NULL) {
				config_load_admin(ld, v);
				admin = &srcs[i];
			}
			continue;
		}
		config_check_keys(
		    ld, root, config_top_keys, "the configuration");
		if ((v = config_get(root, "defaults")) != NULL) {
			if (defaults != NULL)
				config_error(ld, v,
				    "defaults are already set "
				    "in %s:%u",
				    defaults->path, defaults->defaults->line);
			else
				config_load_defaults(ld, v);
			srcs[i].defaults = v;
			defaults = defaults != NULL ? defaults : &srcs[i];
		}
		if ((v = config_get(root, "fetch")) != NULL) {
			if (fetch != NULL)
				config_error(ld, v,
				    "fetch is already set in %s:%u",
				    fetch->path, fetch->fetch->line);
			else
				config_load_fetch(ld, v);
			srcs[i].fetch = v;
			fetch = fetch != NULL ? fetch : &srcs[i];
		}
		if ((v = config_get(root, "admin")) != NULL) {
			if (admin != NULL)
				config_error(ld, v,
				    "admin is already set in %s:%u",
				    admin->path, admin->admin->line);
			else
				config_load_admin(ld, v);
			srcs[i].admin = v;
			admin = admin != NULL ? admin : &srcs[i];
		}
		if ((v = config_get(root, "self_alerts")) != NULL) {
			if (self != NULL)
				config_error(ld, v,
				    "self_alerts is already set in %s:%u",
				    self->path, self->self->line);
			else
				config_load_self(ld, v);
			srcs[i].self = v;
			self = self != NULL ? self : &srcs[i];
		}
		if ((v = config_get(root, "retention")) != NULL) {
			if (retention != NULL)
				config_error(ld, v,
				    "retention is already set in %s:%u",
				    retention->path,
				    retention->retention->line);
			else if (config_duration(ld, v, "retention",
				     &ld->cf->retention_ms) == 0 &&
			    ld->cf->retention_ms < CONFIG_MIN_RETENTION_MS)
				config_error(
				    ld, v, "retention must be at least 1d");
			srcs[i].retention = v;
			retention = retention != NULL ? retention : &srcs[i];
		}
		if ((v = config_get(root, "store")) != NULL) {
			srcs[i].store = v;
			if (store != NULL)
				config_error(ld, v,
				    "store is already set in "
				    "%s:%u",
				    store->path, store->store->line);
			else if (config_string(ld, v, "store", &path) == 0) {
				ld->cf->store_path = config_abspath(ld, path);
				free(path);
			}
			store = store != NULL ? store : &srcs[i];
		}
	}
	if (ld->admin_only)
		return;
	if (ld->cf->store_path == NULL) {
		statedir = getenv("STATE_DIRECTORY");
		if (statedir != NULL && statedir[0] == '/' &&
		    strchr(statedir, ':') == NULL)
			xasprintf(&ld->cf->store_path, "%s/state.db", statedir);
		else
			ld->cf->store_path = xstrdup(CONFIG_DEFAULT_STORE);
	}
	for (i = 0; i < nsrcs; i++) {
		if ((root = srcs[i].root) == NULL)
			continue;
		config_use_source(ld, &srcs[i]);
		if ((v = config_get(root, "feeds")) != NULL &&
		    config_expect(ld, v, YAMLTREE_SEQUENCE, "feeds") == 0)
			for (j = 0; j < v->nchildren; j++)
				config_load_feed(ld, v->children[j]);
		if ((v = config_get(root, "entities")) != NULL)
			config_load_section(
			    ld, v, "entities", config_load_entity);
		if ((v = config_get(root, "notifiers")) != NULL)
			config_load_section(
			    ld, v, "notifiers", config_load_notifier);
		if ((v = config_get(root, "watchlists")) != NULL)
			config_load_section(
			    ld, v, "watchlists", config_load_watchlist);
	}
	config_check_refs(ld);
}

/* The directory of PATH, absolute, for relative paths in the file. */
static char *
config_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *cwd, *dir;

	if (slash != NULL && path[0] == '/')
		return xstrndup(
		    path, slash == path ? 1 : (size_t)(slash - path));
	if ((cwd = getcwd(NULL, 0)) == NULL)
		cwd = xstrdup(".");
	if (slash == NULL)
		return cwd;
	xasprintf(&dir, "%s/%.*s", cwd, (int)(slash - path), path);
	free(cwd);
	return dir;
}

/* Keep a file name for the life of the configuration (marks point to it). */
static const char *
config_add_file(struct config *cf, const char *path)
{
	cf->files = xreallocarray(cf->files, cf->nfiles + 1, sizeof *cf->files);
	cf->files[cf->nfiles] = xstrdup(path);
	return cf->files[cf->nfiles++];
}

static struct config_loader *
config_loader_new(const char *path)
{
	struct config_loader *ld = xcalloc(1, sizeof *ld);

	ld->feed_urls.key = config_feed_url_key;
	ld->feed_names.key = config_feed_name_key;
	ld->entities.key = config_entity_key;
	ld->watchlists.key = config_watchlist_key;
	ld->notifiers.key = config_notifier_key;

	ld->cf = xcalloc(1, sizeof *ld->cf);
	ld->cf->path = xstrdup(path);
	ld->cf->default_interval_ms = CONFIG_DEFAULT_INTERVAL_MS;
	ld->cf->default_timeout_ms = CONFIG_DEFAULT_TIMEOUT_MS;
	ld->cf->retention_ms = CONFIG_DEFAULT_RETENTION_MS;
	ld->cf->block_private_addresses = 1;
	ld->cf->admin_enabled = 1;
	ld->cf->admin_address = xstrdup(CONFIG_DEFAULT_ADMIN_ADDRESS);
	ld->cf->admin_port = CONFIG_DEFAULT_ADMIN_PORT;
	ld->cf->self_feed_failing_ms = CONFIG_DEFAULT_FEED_FAILING_MS;
	ld->cf->self_outbox_pending_ms = CONFIG_DEFAULT_OUTBOX_PENDING_MS;
	ld->cf->max_connections = CONFIG_DEFAULT_MAX_CONNECTIONS;
	ld->cf->max_connections_per_host = CONFIG_DEFAULT_MAX_PER_HOST;
	ld->cf->max_body = CONFIG_DEFAULT_MAX_BODY;
	buf_init(&ld->errors, 1024 * 1024);
	return ld;
}

/* Parse one file's text into srcs[n]; a YAML error is recorded. */
static void
config_add_source(struct config_loader *ld, struct config_source *src,
    const char *path, const char *data, size_t len)
{
	char *yaml_cause;

	memset(src, 0, sizeof *src);
	src->path = config_add_file(ld->cf, path);
	ld->file = src->path;
	if ((src->root = yamltree_parse(data, len, &yaml_cause)) == NULL) {
		config_error_at(ld, yaml_cause, 1);
		free(yaml_cause);
	}
}

/* Load the sources, free them and the loader; the config or NULL. */
static struct config *
config_finish(struct config_loader *ld, struct config_source *srcs,
    size_t nsrcs, char **cause)
{
	struct config *cf = ld->cf;
	size_t i;

	config_load_sources(ld, srcs, nsrcs);
	for (i = 0; i < nsrcs; i++)
		yamltree_free(srcs[i].root);
	free(ld->dir);
	if (ld->nerrors > CONFIG_MAX_ERRORS)
		buf_printf(&ld->errors, "%s: %d more errors not shown\n",
		    cf->path, ld->nerrors - CONFIG_MAX_ERRORS);
	if (ld->nerrors > 0) {
		/* Drop the final newline. */
		if (ld->errors.len > 0)
			ld->errors.data[--ld->errors.len] = '\0';
		*cause = buf_take(&ld->errors, NULL);
		config_free(cf);
		cf = NULL;
	}
	buf_free(&ld->errors);
	free(ld->feed_urls.slots);
	free(ld->feed_names.slots);
	free(ld->entities.slots);
	free(ld->watchlists.slots);
	free(ld->notifiers.slots);
	free(ld);
	return cf;
}

struct config *
config_parse(const char *path, const char *data, size_t len, char **cause)
{
	struct config_loader *ld = config_loader_new(path);
	struct config_source src;

	*cause = NULL;
	config_add_source(ld, &src, path, data, len);
	return config_finish(ld, &src, 1, cause);
}

/*
 * Whether S shows in a message as it is (log_escapes_text() leaves it)
 * and cannot be taken for what that escaping writes: no backslash, so
 * that a file named "50-\x1b.yaml" is not shown as one named with an
 * escape character would be.
 */
static int
config_printable(const char *s)
{
	char shown[NAME_MAX * 4 + 8];

	return strchr(s, '\\') == NULL &&
	    strcmp(log_escapes_text(shown, sizeof shown, s), s) == 0;
}

static int
config_dropin_filter(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 5 &&
	    strcmp(de->d_name + len - 5, ".yaml") == 0;
}

static struct config *config_load_with(const char *, int, char **);

struct config *
config_load(const char *path, char **cause)
{
	return config_load_with(path, 0, cause);
}

struct config *
config_load_for_admin(const char *path, char **cause)
{
	return config_load_with(path, 1, cause);
}

static struct config *
config_load_with(const char *path, int admin_only, char **cause)
{
	struct config_loader *ld;
	struct config_source *srcs;
	struct config *cf;
	struct dirent **names = NULL;
	char *data, *dir, *confd, *file, *err;
	char shown[NAME_MAX * 4 + 8];
	size_t len, nsrcs = 0;
	int i, n;

	*cause = NULL;
	if ((data = config_read_file(path, &len, cause)) == NULL)
		return NULL;
	ld = config_loader_new(path);
	ld->admin_only = admin_only;
	dir = config_dirname(path);
	xasprintf(&confd, "%s/conf.d", dir);
	free(dir);
	n = scandir(confd, &names, config_dropin_filter, alphasort);
	if (n == -1 && errno != ENOENT && errno != ENOTDIR) {
		ld->file = ld->cf->path;
		config_error(ld, NULL, "%s: %s", confd, strerror(errno));
	}
	if (n > CONFIG_MAX_DROPINS) {
		ld->file = ld->cf->path;
		config_error(ld, NULL, "%s: more than %d drop-in files", confd,
		    CONFIG_MAX_DROPINS);
	}
	srcs = xcalloc((size_t)(n > 0 ? n : 0) + 1, sizeof *srcs);
	config_add_source(ld, &srcs[nsrcs++], path, data, len);
	free(data);
	for (i = 0; i < n; i++) {
		xasprintf(&file, "%s/%s", confd, names[i]->d_name);
		if (i < CONFIG_MAX_DROPINS &&
		    !config_printable(names[i]->d_name)) {
			/* its name starts every message about it; here it
			 * is shown with its backslashes doubled */
			ld->file = ld->cf->path;
			config_error(ld, NULL,
			    "%s/%s: a drop-in's file name must be printable "
			    "UTF-8 without a backslash, as it is shown in "
			    "messages",
			    confd,
			    log_escapes(shown, sizeof shown, names[i]->d_name));
		} else if (i < CONFIG_MAX_DROPINS) {
			err = NULL;
			if ((data = config_read_file(file, &len, &err)) ==
			    NULL) {
				config_error_at(ld, err, 0);
				free(err);
			} else {
				config_add_source(
				    ld, &srcs[nsrcs++], file, data, len);
				free(data);
			}
		}
		free(file);
		free(names[i]);
	}
	free(names);
	free(confd);
	cf = config_finish(ld, srcs, nsrcs, cause);
	free(srcs);
	return cf;
}

static void
config_free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *cf)
{
	size_t i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nfeeds; i++) {
		free(cf->feeds[i].url);
		free(cf->feeds[i].name);
		config_free_strings(cf->feeds[i].tags, cf->feeds[i].ntags);
		config_free_strings(
		    cf->feeds[i].headers, cf->feeds[i].nheaders);
		free(cf->feeds[i].user_agent);
		free(cf->feeds[i].proxy);
		free(cf->feeds[i].ca_file);
		free(cf->feeds[i].username);
		free(cf->feeds[i].password_file);
		free(cf->feeds[i].password_env);
	}
	free(cf->feeds);
	for (i = 0; i < cf->nentities; i++) {
		free(cf->entities[i].key);
		free(cf->entities[i].name);
		free(cf->entities[i].country);
		free(cf->entities[i].alias_case);
		free(cf->entities[i].alias_marks);
		config_free_strings(
		    cf->entities[i].aliases, cf->entities[i].naliases);
	}
	free(cf->entities);
	for (i = 0; i < cf->nwatchlists; i++) {
		free(cf->watchlists[i].key);
		free(cf->watchlists[i].match);
		config_free_strings(
		    cf->watchlists[i].feeds, cf->watchlists[i].nfeeds);
		free(cf->watchlists[i].severity);
		config_free_strings(
		    cf->watchlists[i].notify, cf->watchlists[i].nnotify);
	}
	free(cf->watchlists);
	for (i = 0; i < cf->nnotifiers; i++) {
		free(cf->notifiers[i].key);
		for (j = 0; j < cf->notifiers[i].noptions; j++) {
			free(cf->notifiers[i].options[j].key);
			free(cf->notifiers[i].options[j].value);
			config_free_strings(cf->notifiers[i].options[j].list,
			    cf->notifiers[i].options[j].nlist);
		}
		free(cf->notifiers[i].options);
	}
	free(cf->notifiers);
	config_free_strings(cf->files, cf->nfiles);
	free(cf->store_path);
	free(cf->user_agent);
	free(cf->admin_address);
	free(cf->admin_token);
	config_free_strings(cf->self_notify, cf->nself_notify);
	free(cf->self_severity);
	free(cf->path);
	free(cf);
}

const struct config_option *
config_notifier_option(const struct config_notifier *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->noptions; i++)
		if (strcmp(n->options[i].key, key) == 0)
			return &n->options[i];
	return NULL;
}

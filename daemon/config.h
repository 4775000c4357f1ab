/*
 * The configuration: a YAML file read through libyaml into one immutable
 * struct. The shape is the contract of docs/configuration.md:
 *
 *   store: PATH
 *   retention: 90d
 *   defaults: {interval: 10m, timeout: 30s}
 *   feeds: [{url, name, interval, timeout, tags, first_poll_alert_age}]
 *   entities: {NAME: {name, aliases}}
 *   watchlists: {NAME: {match, feeds, notify}}
 *   notifiers: {NAME: {type, ...}}
 *   admin: {enabled, address, port, token | token_file}
 *   self_alerts: {notify, feed_failing_for, outbox_pending_for,
 *                 outbox_pending_rows, severity}
 *
 * Errors are reported as "file:line:column: message", every error of the
 * file at once (up to a cap). Unknown keys are errors, with the closest
 * valid key suggested.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH "/etc/feedwatch/feedwatch.yaml"
#define CONFIG_DEFAULT_STORE "/var/lib/feedwatch/state.db"

/* Where a value was written, for messages about it after loading. */
struct config_mark {
	const char *file; /* points into struct config */
	unsigned line;
	unsigned column;
};

struct config_feed {
	char *url;
	char *name;
	int64_t interval_ms; /* the default when not given */
	int64_t timeout_ms;
	char **tags;
	size_t ntags;
	/* On the first poll, alert items dated within this age; 0: none
	 * (the first poll is a silent baseline). */
	int64_t first_poll_alert_age_ms;
	int allow_private; /* exempt from fetch.block_private_addresses */
	char **headers; /* "Name: value" */
	size_t nheaders;
	char *user_agent;
	char *proxy;
	char *ca_file;
	char *username; /* HTTP basic auth, the password from: */
	char *password_file;
	char *password_env;
	struct config_mark mark;
};

/* How an alias treats letter case (alias_case[i]). */
#define CONFIG_CASE_AUTO 0 /* short capitals ("IS") sensitive, others not */
#define CONFIG_CASE_SENSITIVE 1
#define CONFIG_CASE_INSENSITIVE 2

struct config_entity {
	char *key;
	char *name;
	char *country; /* ISO 3166-1 alpha-2 of a built-in country it adds
			  to, upper case, or NULL */
	char **aliases;
	int *alias_case; /* CONFIG_CASE_*, one per alias */
	struct config_mark *alias_marks; /* one per alias */
	size_t naliases;
	struct config_mark mark; /* its key */
	struct config_mark name_mark, country_mark; /* when given */
};

struct config_watchlist {
	char *key;
	char *match;
	struct config_mark match_mark;
	char **feeds; /* tags or feed names; none = all */
	size_t nfeeds;
	char **notify;
	size_t nnotify;
	char *severity; /* info, low, medium, high, critical; NULL: medium */
	int updates; /* also alert when a matching item changes */
	struct config_mark mark;
};

enum config_notifier_type {
	CONFIG_NOTIFIER_WEBHOOK,
	CONFIG_NOTIFIER_EMAIL,
	CONFIG_NOTIFIER_SYSLOG,
	CONFIG_NOTIFIER_EXEC,
	CONFIG_NOTIFIER_CONSOLE,
};

/* A notifier option: a scalar (value) or a list of scalars (list). */
struct config_option {
	char *key;
	char *value;
	char **list;
	size_t nlist;
	struct config_mark mark;
};

struct config_notifier {
	char *key;
	enum config_notifier_type type;
	struct config_option *options;
	size_t noptions;
	struct config_mark mark;
};

/* Longest feed URL: in the configuration, and where a feed moves to. */
#define CONFIG_MAX_URL 4096
#define CONFIG_DEFAULT_MAX_CONNECTIONS 32
#define CONFIG_DEFAULT_MAX_PER_HOST 2
#define CONFIG_DEFAULT_MAX_BODY (10 * 1024 * 1024)
#define CONFIG_DEFAULT_ADMIN_ADDRESS "127.0.0.1"
#define CONFIG_DEFAULT_ADMIN_PORT 8427
/* self_alerts: a feed failing this long, an outbox row pending this long. */
#define CONFIG_DEFAULT_FEED_FAILING_MS (6 * 3600 * 1000LL)
#define CONFIG_DEFAULT_OUTBOX_PENDING_MS (3600 * 1000LL)
#define CONFIG_DEFAULT_SELF_SEVERITY "high"

struct config {
	char *path;
	char **files; /* the main file, then conf.d drop-ins in name order */
	size_t nfiles;
	char *store_path;
	int64_t retention_ms; /* seen items kept this long (default 90d) */
	int64_t default_interval_ms;
	int64_t default_timeout_ms;
	/* fetch: */
	int block_private_addresses; /* default on */
	size_t max_connections;
	size_t max_connections_per_host;
	uint64_t max_body;
	char *user_agent;
	size_t parse_threads; /* 0: one per processor (parsepool.h) */
	/* admin: the HTTP server for health, metrics and the API */
	int admin_enabled; /* default on */
	char *admin_address; /* numeric; default 127.0.0.1 */
	int admin_port; /* default 8427 */
	char *admin_token; /* bearer token, or NULL for none */
	/* self_alerts: the daemon's alerts about itself, sent to these
	 * notifiers (none: off). A threshold of 0 turns its check off. */
	char **self_notify;
	size_t nself_notify;
	int64_t self_feed_failing_ms; /* a feed failing for longer */
	int64_t self_outbox_pending_ms; /* the oldest pending row older */
	uint64_t self_outbox_pending_rows; /* more rows pending than this */
	char *self_severity; /* of the raised alerts (recoveries: info) */
	struct config_mark self_mark;
	struct config_feed *feeds;
	size_t nfeeds;
	struct config_entity *entities;
	size_t nentities;
	struct config_watchlist *watchlists;
	size_t nwatchlists;
	struct config_notifier *notifiers;
	size_t nnotifiers;
};

/* Load and validate PATH. On error returns NULL and sets *cause (owned by
 * the caller) to one "file:line:col: message" line per error. */
struct config *config_load(const char *path, char **cause);
/* Only what `feedwatch status` needs, the admin: section (and its token
 * file), from the same files: a mistake elsewhere in them, which the
 * running daemon did not take, does not keep status from asking it. */
struct config *config_load_for_admin(const char *path, char **cause);
/* The same for a file already in memory; PATH names it in messages and
 * anchors relative paths. */
struct config *config_parse(
    const char *path, const char *data, size_t len, char **cause);
void config_free(struct config *);

const char *config_notifier_type_name(enum config_notifier_type);
/* The option KEY of a notifier, or NULL. */
const struct config_option *config_notifier_option(
    const struct config_notifier *, const char *key);

/* MS as a duration (units_duration() reads them), whole seconds, its
 * two largest units ("6h", "1h30m", "2d4h", "45s"; "0s"): what
 * units_duration() reads back when the rest is zero. Returns DST. */
char *config_format_duration(char *dst, size_t size, int64_t ms);
/* A strict parser: "10MiB", "512KiB", "1GB", "100B". 0 on success, -1
 * when the text is not exactly that. */
int config_parse_size(const char *, uint64_t *bytes);

#endif

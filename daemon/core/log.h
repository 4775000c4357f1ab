/*
 * Logging: levels, stderr, and escaping of untrusted text.
 *
 * log_warn() and fatal() append strerror(errno); the -x variants do not.
 * Started by systemd (JOURNAL_STREAM set, or log_set_journal(1)), every
 * line is prefixed with its syslog priority ("<4>") so the journal keeps
 * the level. Text that came from outside (feeds, HTTP, config values)
 * must pass through log_escape() before it reaches a format string's %s.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(const char *progname);
void log_set_level(enum log_level);
enum log_level log_get_level(void);
int log_level_parse(const char *, enum log_level *);
void log_set_journal(int);
/* Redirect output (tests); NULL restores stderr. Not owned. */
void log_set_stream(void *file);

/* Each line of TEXT as a message of its own at LEVEL, so that a journal
 * files every line at that level (a configuration's errors, one a line). */
void log_lines(enum log_level, const char *text);
void log_warn(const char *, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void log_notice(const char *, ...) LOG_PRINTF(1, 2);
void log_info(const char *, ...) LOG_PRINTF(1, 2);
void log_debug(const char *, ...) LOG_PRINTF(1, 2);
void fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/*
 * Escape untrusted bytes into dst (size dstsz, always NUL-terminated):
 * printable ASCII and valid UTF-8 pass, except that backslash and '"'
 * are escaped; controls, bidi overrides and invalid bytes become \xNN or
 * \u{NNNN}. Output longer than dstsz ends in "...". Returns dst.
 */
char *log_escape(char *dst, size_t dstsz, const char *src, size_t srclen);
/* The same for a NUL-terminated string; NULL prints as "(null)". */
char *log_escapes(char *dst, size_t dstsz, const char *src);
/* The same for text a person reads on its own line or after a label, not
 * inside quotes (a query, a title, a snippet): backslash and '"' stay as
 * they are; what could harm a terminal is escaped all the same. */
char *log_escapes_text(char *dst, size_t dstsz, const char *src);

#endif

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *log_progname = "feedwatch";
static enum log_level log_level = LOG_LEVEL_NOTICE;
static int log_journal;
static FILE *log_stream;

/* syslog(3) priorities for each level, for the journal's "<N>" prefix. */
static const int log_priorities[] = {3, 4, 5, 6, 7};
static const char *const log_names[] = {
    "error", "warning", "notice", "info", "debug"};

/*
 * systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the journal stream it
 * connected to stderr; only when stderr is still that stream do the
 * priority prefixes make sense (systemd.exec(5)).
 */
static int
log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *progname)
{
	if (progname != NULL)
		log_progname = progname;
	log_journal = log_stderr_is_journal();
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warn") == 0) {
		*level = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

void
log_set_journal(int on)
{
	log_journal = on;
}

void
log_set_stream(void *file)
{
	log_stream = file;
}

static void log_vwrite(enum log_level, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	FILE *out = log_stream != NULL ? log_stream : stderr;
	char line[2048];
	int saved_errno = errno;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	if (log_journal)
		fprintf(out, "<%d>%s", log_priorities[level], line);
	else
		fprintf(out, "%s: %s%s%s", log_progname,
		    level <= LOG_LEVEL_WARN ? log_names[level] : "",
		    level <= LOG_LEVEL_WARN ? ": " : "", line);
	if (with_errno)
		fprintf(out, ": %s", strerror(saved_errno));
	fputc('\n', out);
	fflush(out);
	errno = saved_errno;
}

#define LOG_FUNC(name, level, with_errno)                                      \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vwrite(level, with_errno, fmt, ap);                        \
		va_end(ap);                                                    \
	}

LOG_FUNC(log_warn, LOG_LEVEL_WARN, 1)
LOG_FUNC(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FUNC(log_notice, LOG_LEVEL_NOTICE, 0)
LOG_FUNC(log_info, LOG_LEVEL_INFO, 0)
LOG_FUNC(log_debug, LOG_LEVEL_DEBUG, 0)

static void log_line(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_line(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, 0, fmt, ap);
	va_end(ap);
}

void
log_lines(enum log_level level, const char *text)
{
	const char *nl;

	for (; (nl = strchr(text, '\n')) != NULL; text = nl + 1)
		log_line(level, "%.*s", (int)(nl - text), text);
	if (*text != '\0')
		log_line(level, "%s", text);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
log_utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points that must never reach a terminal or log unescaped. */
static int
log_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0xfeff;
}

static char *
log_escape_as(
    char *dst, size_t dstsz, const char *src, size_t srclen, int quoted)
{
	const unsigned char *s = (const unsigned char *)src;
	char piece[16];
	size_t i = 0, o = 0, n, plen;
	uint32_t cp;

	if (dstsz == 0)
		return dst;
	while (i < srclen) {
		n = log_utf8_len(s + i, srclen - i, &cp);
		if (n == 0) {
			plen = (size_t)snprintf(
			    piece, sizeof piece, "\\x%02x", s[i]);
			n = 1;
		} else if (quoted && (cp == '\\' || cp == '"')) {
			piece[0] = '\\';
			piece[1] = (char)cp;
			plen = 2;
		} else if (cp == '\n') {
			plen = (size_t)snprintf(piece, sizeof piece, "\\n");
		} else if (log_unsafe(cp)) {
			plen = (size_t)snprintf(piece, sizeof piece,
			    cp < 0x80 ? "\\x%02x" : "\\u{%04x}", (unsigned)cp);
		} else {
			memcpy(piece, s + i, n);
			plen = n;
		}
		if (o + plen + 1 > dstsz) {
			/* Truncate, leaving room for the ellipsis. */
			while (o > 0 && o + 4 > dstsz)
				o--;
			/* Do not cut a UTF-8 sequence in half. */
			while (o > 0 && ((unsigned char)dst[o] & 0xc0) == 0x80)
				o--;
			if (o + 4 <= dstsz) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, piece, plen);
		o += plen;
		i += n;
	}
	dst[o] = '\0';
	return dst;
}

char *
log_escape(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	return log_escape_as(dst, dstsz, src, srclen, 1);
}

char *
log_escapes(char *dst, size_t dstsz, const char *src)
{
	if (src == NULL)
		src = "(null)";
	return log_escape_as(dst, dstsz, src, strlen(src), 1);
}

char *
log_escapes_text(char *dst, size_t dstsz, const char *src)
{
	if (src == NULL)
		src = "(null)";
	return log_escape_as(dst, dstsz, src, strlen(src), 0);
}

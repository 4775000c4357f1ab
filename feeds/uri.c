/*
 * Reference resolution after RFC 3986 section 5.2 (transform references,
 * remove dot segments), with the habits feed readers share: extra slashes
 * after "scheme://" are dropped, a reference with its own scheme is taken
 * as it is, and only schemes a feed may reasonably link to survive.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "uri.h"
#include "xmalloc.h"

/* Sorted. */
static const char *const uri_safe_schemes[] = {
    "aim",
    "callto",
    "cvs",
    "facetime",
    "feed",
    "file",
    "ftp",
    "git",
    "gopher",
    "gtalk",
    "h323",
    "hdl",
    "http",
    "https",
    "imap",
    "irc",
    "irc6",
    "ircs",
    "itms",
    "magnet",
    "mailto",
    "mms",
    "msnim",
    "news",
    "nntp",
    "prospero",
    "rsync",
    "rtsp",
    "rtspu",
    "sftp",
    "shttp",
    "sip",
    "sips",
    "skype",
    "smb",
    "snews",
    "ssh",
    "svn",
    "svn+ssh",
    "telnet",
    "wais",
    "ymsg",
};

/* Schemes whose references resolve relative to a base. */
static const char *const uri_relative_schemes[] = {
    "file",
    "ftp",
    "gopher",
    "http",
    "https",
    "imap",
    "mms",
    "nntp",
    "prospero",
    "rtsp",
    "rtspu",
    "sftp",
    "shttp",
    "svn",
    "svn+ssh",
    "wais",
    "ws",
    "wss",
};

struct uri_parts {
	const char *scheme, *authority, *path, *query, *fragment;
	size_t scheme_len, authority_len, path_len, query_len, fragment_len;
	int has_authority, has_query, has_fragment;
};

static size_t
uri_scheme_len(const char *s)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (s[i] == ':')
			return i;
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	}
	return 0;
}

static void
uri_split(const char *s, struct uri_parts *u)
{
	size_t n;

	memset(u, 0, sizeof *u);
	if ((n = uri_scheme_len(s)) > 0) {
		u->scheme = s;
		u->scheme_len = n;
		s += n + 1;
	}
	if (s[0] == '/' && s[1] == '/') {
		s += 2;
		u->has_authority = 1;
		u->authority = s;
		u->authority_len = strcspn(s, "/?#");
		s += u->authority_len;
	}
	u->path = s;
	u->path_len = strcspn(s, "?#");
	s += u->path_len;
	if (*s == '?') {
		u->has_query = 1;
		u->query = ++s;
		u->query_len = strcspn(s, "#");
		s += u->query_len;
	}
	if (*s == '#') {
		u->has_fragment = 1;
		u->fragment = s + 1;
		u->fragment_len = strlen(s + 1);
	}
}

/* An authority with "[" but no "]" (or the reverse) is no URL. */
static int
uri_brackets_ok(const struct uri_parts *u)
{
	int open, close;

	if (!u->has_authority)
		return 1;
	open = memchr(u->authority, '[', u->authority_len) != NULL;
	close = memchr(u->authority, ']', u->authority_len) != NULL;
	return open == close;
}

static int
uri_in(const char *const *list, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		/* list is lower case: the first letter rules most out. */
		if (((unsigned char)s[0] | 0x20) == (unsigned char)list[i][0] &&
		    strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0)
			return 1;
	return 0;
}

int
uri_is_safe(const char *uri)
{
	size_t n;

	while (isspace((unsigned char)*uri))
		uri++;
	n = strcspn(uri, ":");
	if (uri[n] != ':')
		return 0;
	return uri_in(uri_safe_schemes,
	    sizeof uri_safe_schemes / sizeof uri_safe_schemes[0], uri, n);
}

/* Append path with its dot segments removed (RFC 3986 5.2.4). */
static int
uri_add_path(struct buf *out, const char *path, size_t len)
{
	size_t start = out->len, seg, i;
	const char *p = path, *end = path + len;

	while (p < end) {
		if (end - p >= 3 && memcmp(p, "../", 3) == 0)
			p += 3;
		else if (end - p >= 2 && memcmp(p, "./", 2) == 0)
			p += 2;
		else if (end - p >= 3 && memcmp(p, "/./", 3) == 0)
			p += 2;
		else if (end - p == 2 && memcmp(p, "/.", 2) == 0) {
			if (buf_addc(out, '/') == -1)
				return -1;
			p += 2;
		} else if ((end - p >= 4 && memcmp(p, "/../", 4) == 0) ||
		    (end - p == 3 && memcmp(p, "/..", 3) == 0)) {
			/* Drop the last output segment. */
			for (i = out->len; i > start && out->data[i - 1] != '/';
			     i--)
				;
			if (i > start)
				i--;
			out->len = i;
			out->data[i] = '\0';
			if (end - p == 3) {
				if (buf_addc(out, '/') == -1)
					return -1;
				p += 3;
			} else
				p += 3;
		} else if ((end - p == 1 && *p == '.') ||
		    (end - p == 2 && memcmp(p, "..", 2) == 0))
			p = end;
		else {
			seg = *p == '/' ? 1 : 0;
			while (p + seg < end && p[seg] != '/')
				seg++;
			if (buf_add(out, p, seg) == -1)
				return -1;
			p += seg;
		}
	}
	return 0;
}

/* Drop extra slashes after "scheme://" (http:///x is http://x). */
static char *
uri_fix(const char *s)
{
	size_t n = uri_scheme_len(s), k;
	char *out;

	if (n == 0 || strncmp(s + n, "://", 3) != 0 || s[n + 3] != '/')
		return xstrdup(s);
	k = n + 3;
	while (s[k] == '/')
		k++;
	out = xmalloc(strlen(s) + 1);
	memcpy(out, s, n + 3);
	strcpy(out + n + 3, s + k);
	return out;
}

char *
uri_resolve(const char *base, const char *rel)
{
	struct uri_parts b, r;
	struct buf out;
	char *fixed, *merged, *res;
	size_t i;
	int ok = 0;

	if (rel != NULL) {
		while (isspace((unsigned char)*rel))
			rel++;
	}
	if (base == NULL || *base == '\0') {
		if (rel == NULL || *rel == '\0')
			return NULL;
		return strlen(rel) > URI_MAX ? NULL : xstrdup(rel);
	}
	if (rel == NULL || *rel == '\0')
		return xstrdup(base);
	if (strlen(rel) > URI_MAX || strlen(base) > URI_MAX)
		return NULL;
	fixed = uri_fix(rel);
	uri_split(base, &b);
	uri_split(fixed, &r);
	if (!uri_brackets_ok(&b) || !uri_brackets_ok(&r)) {
		free(fixed);
		return NULL;
	}
	buf_init(&out, 3 * URI_MAX);
	if (r.scheme != NULL &&
	    (b.scheme == NULL || r.scheme_len != b.scheme_len ||
		strncasecmp(r.scheme, b.scheme, r.scheme_len) != 0 ||
		!uri_in(uri_relative_schemes,
		    sizeof uri_relative_schemes /
			sizeof uri_relative_schemes[0],
		    r.scheme, r.scheme_len))) {
		res = fixed;
		goto check;
	}
	if (b.scheme != NULL) {
		buf_add(&out, b.scheme, b.scheme_len);
		buf_addc(&out, ':');
	}
	if (r.has_authority) {
		buf_addstr(&out, "//");
		buf_add(&out, r.authority, r.authority_len);
		uri_add_path(&out, r.path, r.path_len);
		if (r.has_query) {
			buf_addc(&out, '?');
			buf_add(&out, r.query, r.query_len);
		}
	} else {
		if (b.has_authority) {
			buf_addstr(&out, "//");
			buf_add(&out, b.authority, b.authority_len);
		}
		if (r.path_len == 0) {
			buf_add(&out, b.path, b.path_len);
			if (r.has_query) {
				buf_addc(&out, '?');
				buf_add(&out, r.query, r.query_len);
			} else if (b.has_query) {
				buf_addc(&out, '?');
				buf_add(&out, b.query, b.query_len);
			}
		} else {
			if (r.path[0] == '/')
				uri_add_path(&out, r.path, r.path_len);
			else {
				/* Merge (5.2.3). */
				merged = xmalloc(b.path_len + r.path_len + 2);
				i = b.path_len;
				while (i > 0 && b.path[i - 1] != '/')
					i--;
				if (b.has_authority && b.path_len == 0) {
					merged[0] = '/';
					memcpy(merged + 1, r.path, r.path_len);
					i = 1;
				} else {
					memcpy(merged, b.path, i);
					memcpy(merged + i, r.path, r.path_len);
				}
				uri_add_path(&out, merged, i + r.path_len);
				free(merged);
			}
			if (r.has_query) {
				buf_addc(&out, '?');
				buf_add(&out, r.query, r.query_len);
			}
		}
	}
	if (r.has_fragment) {
		buf_addc(&out, '#');
		buf_add(&out, r.fragment, r.fragment_len);
	}
	free(fixed);
	if (out.data == NULL)
		return NULL;
	res = buf_take(&out, NULL);
	ok = 1;
check:
	if (!ok)
		buf_free(&out);
	if (*res == '\0') {
		free(res);
		return NULL;
	}
	return res;
}

char *
uri_resolve_link(const char *base, const char *rel)
{
	char *res = uri_resolve(base, rel);

	if (res != NULL && uri_scheme_len(res) > 0 && !uri_is_safe(res)) {
		free(res);
		return NULL;
	}
	return res;
}

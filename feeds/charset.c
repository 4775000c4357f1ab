/*
 * Encoding detection for XML feeds, after RFC 3023 (XML media types,
 * section 3: the charset parameter of the Content-Type overrides the XML
 * declaration; text/xml without one means us-ascii) and RFC 7303 (a
 * byte-order mark overrides both), XML 1.0 appendix F
 * (autodetection from the BOM and the first four bytes) and the order in
 * which Universal Feed Parser tries encodings when the declared one fails.
 * Conversion is UTF-8 validation (strict: no overlongs, surrogates or code
 * points past U+10FFFF) or iconv(3) for everything else.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "xmalloc.h"

/* How much of the document start is decoded to find the XML declaration. */
#define CHARSET_SNIFF_MAX 1024
/* iconv output is produced in pieces of this size. */
#define CHARSET_CHUNK 4096

struct charset {
	char name[CHARSET_NAME_MAX];
	iconv_t cd; /* (iconv_t)-1 for UTF-8 */
	unsigned char pending[8];
	size_t npending;
};

/* Encoding names Python knows and glibc's iconv spells differently. */
static const struct {
	const char *name;
	const char *iconv;
} charset_aliases[] = {
    {"cp-is", "CP861"},
    {"csibm861", "IBM861"},
    {"ebcdic-cp-be", "IBM500"},
    {"ebcdic-cp-ca", "IBM037"},
    {"ebcdic-cp-ch", "IBM500"},
    {"ebcdic-cp-nl", "IBM037"},
    {"ebcdic-cp-us", "IBM037"},
    {"ebcdic-cp-wt", "IBM037"},
    {"gb2312", "GB18030"},
    {"ibm039", "IBM037"},
    {"mac-latin2", "MAC-CENTRALEUROPE"},
    {"mac-roman", "MACINTOSH"},
    {"maccentraleurope", "MAC-CENTRALEUROPE"},
    {"maciceland", "MAC-IS"},
    {"maclatin2", "MAC-CENTRALEUROPE"},
    {"macroman", "MACINTOSH"},
    {"utf8", "UTF-8"},
    {"x-mac-roman", "MACINTOSH"},
};

/* Names that do not say the byte order. */
static const char *const charset_generic[] = {"u16", "utf-16", "utf16",
    "utf_16", "u32", "utf-32", "utf32", "utf_32", "iso-10646-ucs-2",
    "iso-10646-ucs-4", "csucs4", "csunicode", "ucs-2", "ucs-4"};

static int
charset_is_utf8(const char *name)
{
	return strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0 ||
	    strcmp(name, "utf_8") == 0 || strcmp(name, "u8") == 0;
}

/* Whether the encoding NAME says what the byte-order mark BOM says. */
static int
charset_bom_agrees(const char *name, const char *bom)
{
	size_t i;

	if (strcmp(name, bom) == 0 ||
	    (charset_is_utf8(name) && charset_is_utf8(bom)))
		return 1;
	/* "utf-16" and the like leave the byte order to the BOM */
	for (i = 0; i < sizeof charset_generic / sizeof charset_generic[0]; i++)
		if (strcmp(name, charset_generic[i]) == 0)
			return strncmp(bom, "utf-", 4) == 0 &&
			    !charset_is_utf8(bom);
	return 0;
}

static void
charset_copy(char *dst, const char *src, size_t len)
{
	size_t i;

	if (len >= CHARSET_NAME_MAX)
		len = CHARSET_NAME_MAX - 1;
	for (i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[len] = '\0';
}

/* The encoding named in an XML declaration at the start of data. */
static void
charset_xml_decl(const char *data, size_t len, char *out)
{
	const char *end, *p, *q, *last;
	char quote;

	out[0] = '\0';
	if (len < 5 || memcmp(data, "<?", 2) != 0)
		return;
	/* The declaration must end on its first line. */
	end = memchr(data, '\n', len);
	if (end == NULL)
		end = data + len;
	last = NULL;
	for (p = data + 2; p + 1 < end; p++)
		if (p[0] == '?' && p[1] == '>')
			last = p;
	if (last == NULL)
		return;
	for (p = data + 2; p + 10 <= last; p++) {
		if (memcmp(p, "encoding=", 9) != 0)
			continue;
		quote = p[9];
		if (quote != '"' && quote != '\'')
			continue;
		q = memchr(p + 10, quote, (size_t)(last - (p + 10)));
		if (q == NULL)
			continue;
		charset_copy(out, p + 10, (size_t)(q - (p + 10)));
		return;
	}
}

void
charset_sniff(const char *data, size_t len, const char *content_type,
    int have_headers, struct charset_sniff *s)
{
	const unsigned char *u = (const unsigned char *)data;
	char mime[128], decoded[CHARSET_SNIFF_MAX + 1];
	const char *p, *semi, *cs;
	size_t n, i;
	struct charset *cv;
	struct buf tmp;

	memset(s, 0, sizeof *s);
	if (len >= 4 && memcmp(u, "\0\0\xfe\xff", 4) == 0) {
		strcpy(s->bom, "utf-32be");
		s->bom_len = 4;
	} else if (len >= 4 && memcmp(u, "\xff\xfe\0\0", 4) == 0) {
		strcpy(s->bom, "utf-32le");
		s->bom_len = 4;
	} else if (len >= 4 && memcmp(u, "\xfe\xff", 2) == 0 &&
	    memcmp(u + 2, "\0\0", 2) != 0) {
		strcpy(s->bom, "utf-16be");
		s->bom_len = 2;
	} else if (len >= 4 && memcmp(u, "\xff\xfe", 2) == 0 &&
	    memcmp(u + 2, "\0\0", 2) != 0) {
		strcpy(s->bom, "utf-16le");
		s->bom_len = 2;
	} else if (len >= 3 && memcmp(u, "\xef\xbb\xbf", 3) == 0) {
		strcpy(s->bom, "utf-8");
		s->bom_len = 3;
	} else if (len >= 4 && memcmp(u, "\x4c\x6f\xa7\x94", 4) == 0)
		strcpy(s->bom, "cp037");
	else if (len >= 4 && memcmp(u, "\0<\0?", 4) == 0)
		strcpy(s->bom, "utf-16be");
	else if (len >= 4 && memcmp(u, "<\0?\0", 4) == 0)
		strcpy(s->bom, "utf-16le");
	else if (len >= 4 && memcmp(u, "\0\0\0<", 4) == 0)
		strcpy(s->bom, "utf-32be");
	else if (len >= 4 && memcmp(u, "<\0\0\0", 4) == 0)
		strcpy(s->bom, "utf-32le");

	data += s->bom_len;
	len -= s->bom_len;
	n = len < CHARSET_SNIFF_MAX ? len : CHARSET_SNIFF_MAX;
	if (s->bom[0] != '\0' && strcmp(s->bom, "utf-8") != 0) {
		/* Decode the start to read the declaration. */
		if ((cv = charset_open(s->bom)) != NULL) {
			buf_init(&tmp, CHARSET_SNIFF_MAX * 4);
			(void)charset_convert(cv, data, n, 1, &tmp);
			i = tmp.len < CHARSET_SNIFF_MAX ? tmp.len
							: CHARSET_SNIFF_MAX;
			if (tmp.data != NULL)
				memcpy(decoded, tmp.data, i);
			decoded[i] = '\0';
			charset_xml_decl(decoded, i, s->xml);
			buf_free(&tmp);
			charset_close(cv);
		}
		/* A generic Unicode name means what the BOM said. */
		for (i = 0;
		     i < sizeof charset_generic / sizeof charset_generic[0];
		     i++)
			if (strcmp(s->xml, charset_generic[i]) == 0)
				break;
		if (i < sizeof charset_generic / sizeof charset_generic[0])
			strcpy(s->xml, s->bom);
	} else
		charset_xml_decl(data, n, s->xml);

	/* Content-Type: type/subtype; charset=... */
	mime[0] = '\0';
	if (content_type != NULL) {
		semi = strchr(content_type, ';');
		n = semi != NULL ? (size_t)(semi - content_type)
				 : strlen(content_type);
		while (n > 0 && isspace((unsigned char)content_type[n - 1]))
			n--;
		while (n > 0 && isspace((unsigned char)*content_type)) {
			content_type++;
			n--;
		}
		if (n >= sizeof mime)
			n = sizeof mime - 1;
		for (i = 0; i < n; i++)
			mime[i] = (char)tolower((unsigned char)content_type[i]);
		mime[n] = '\0';
		for (p = semi; p != NULL; p = strchr(p + 1, ';')) {
			cs = p + 1;
			while (isspace((unsigned char)*cs))
				cs++;
			if (strncasecmp(cs, "charset=", 8) != 0)
				continue;
			cs += 8;
			n = strcspn(cs, "; \t");
			if (n >= 2 && (*cs == '"' || *cs == '\'') &&
			    cs[n - 1] == *cs) {
				cs++;
				n -= 2;
			}
			charset_copy(s->http, cs, n);
			/* Python's parser drops quotes inside the value. */
			for (i = 0; s->http[i] != '\0'; i++)
				if (s->http[i] == '\'' || s->http[i] == '"')
					memmove(s->http + i, s->http + i + 1,
					    strlen(s->http + i));
			break;
		}
	}

#define OR(a, b) ((a)[0] != '\0' ? (a) : (b))
	if (strcmp(mime, "application/xml") == 0 ||
	    strcmp(mime, "application/xml-dtd") == 0 ||
	    strcmp(mime, "application/xml-external-parsed-entity") == 0 ||
	    (strncmp(mime, "application/", 12) == 0 && strlen(mime) > 4 &&
		strcmp(mime + strlen(mime) - 4, "+xml") == 0)) {
		s->xml_type = 1;
		strcpy(s->declared, OR(s->http, OR(s->xml, "utf-8")));
	} else if (strcmp(mime, "text/xml") == 0 ||
	    strcmp(mime, "text/xml-external-parsed-entity") == 0 ||
	    (strncmp(mime, "text/", 5) == 0 && strlen(mime) > 4 &&
		strcmp(mime + strlen(mime) - 4, "+xml") == 0)) {
		s->xml_type = 1;
		strcpy(s->declared, OR(s->http, "us-ascii"));
	} else if (strncmp(mime, "text/", 5) == 0)
		strcpy(s->declared, OR(s->http, "us-ascii"));
	else if (have_headers && content_type == NULL)
		strcpy(s->declared, OR(s->xml, "iso-8859-1"));
	else /* XML 1.0 F.1: without a declaration, the BOM decides */
		strcpy(s->declared, OR(s->xml, OR(s->bom, "utf-8")));
#undef OR
	/* A byte-order mark is authoritative: a charset or a declaration
	 * that says otherwise is wrong ("iso-8859-1" on a UTF-8 body, when
	 * a tool saved it with a BOM and the template kept its old name). */
	if (s->bom_len > 0) {
		if (!charset_bom_agrees(s->declared, s->bom))
			strcpy(s->overridden, s->declared);
		strcpy(s->declared, s->bom);
	}
	if (have_headers && !s->xml_type)
		s->text_plain = 1;
}

size_t
charset_candidates(
    const struct charset_sniff *s, char names[][CHARSET_NAME_MAX], size_t max)
{
	const char *list[6];
	size_t i, j, n = 0;

	list[0] = s->declared;
	list[1] = s->xml;
	list[2] = s->bom;
	list[3] = "utf-8";
	list[4] = "windows-1252";
	list[5] = "iso-8859-2";
	for (i = 0; i < 6 && n < max; i++) {
		if (list[i][0] == '\0')
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(names[j], list[i]) == 0)
				break;
		if (j < n)
			continue;
		charset_copy(names[n++], list[i], strlen(list[i]));
	}
	return n;
}

struct charset *
charset_open(const char *name)
{
	struct charset *cv;
	char norm[CHARSET_NAME_MAX];
	const char *iname;
	size_t i;

	if (name == NULL || strlen(name) >= CHARSET_NAME_MAX)
		return NULL;
	cv = xcalloc(1, sizeof *cv);
	charset_copy(cv->name, name, strlen(name));
	if (charset_is_utf8(cv->name)) {
		cv->cd = (iconv_t)-1;
		return cv;
	}
	/* Python treats '_' and '-' alike. */
	strcpy(norm, cv->name);
	for (i = 0; norm[i] != '\0'; i++)
		if (norm[i] == '_')
			norm[i] = '-';
	iname = norm;
	for (i = 0; i < sizeof charset_aliases / sizeof charset_aliases[0]; i++)
		if (strcmp(norm, charset_aliases[i].name) == 0)
			iname = charset_aliases[i].iconv;
	/* Never let iconv be clever: no //TRANSLIT, no //IGNORE. */
	if (strchr(iname, '/') != NULL ||
	    (cv->cd = iconv_open("UTF-8", iname)) == (iconv_t)-1) {
		free(cv);
		return NULL;
	}
	return cv;
}

void
charset_close(struct charset *cv)
{
	if (cv == NULL)
		return;
	if (cv->cd != (iconv_t)-1)
		iconv_close(cv->cd);
	free(cv);
}

const char *
charset_name(const struct charset *cv)
{
	return cv->name;
}

/* Length of the valid UTF-8 prefix of s; *incomplete if it ends mid-way. */
static size_t
charset_utf8_valid(const unsigned char *s, size_t len, int *incomplete)
{
	size_t i = 0, n, k;
	uint32_t cp;

	*incomplete = 0;
	while (i < len) {
		/* ASCII 32 bytes at a time, then eight. */
		while (i + 32 <= len) {
			uint64_t w[4];

			memcpy(w, s + i, 32);
			if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL)
				break;
			i += 32;
		}
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 2;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 4;
			cp = s[i] & 0x07;
		} else
			return i;
		for (k = 1; k < n; k++) {
			if (i + k >= len) {
				*incomplete = 1;
				return i;
			}
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
			/* Reject overlongs and out-of-range as early as Python. */
			if (k == 1 &&
			    ((n == 3 && cp < 0x20) ||
				(n == 3 && cp >= 0x360 && cp < 0x380) ||
				(n == 4 && cp < 0x10) ||
				(n == 4 && cp > 0x10f)))
				return i;
		}
		i += n;
	}
	return i;
}

static int
charset_convert_utf8(
    struct charset *cv, const char *in, size_t len, int final, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)in;
	unsigned char tmp[8];
	size_t ok, take, n;
	int incomplete;

	/* Finish a sequence split across calls, one byte at a time. */
	while (cv->npending > 0 && len > 0) {
		cv->pending[cv->npending++] = *u++;
		len--;
		memcpy(tmp, cv->pending, cv->npending);
		ok = charset_utf8_valid(tmp, cv->npending, &incomplete);
		if (ok == cv->npending) {
			if (buf_add(out, tmp, ok) == -1)
				return CHARSET_FULL;
			cv->npending = 0;
		} else if (!incomplete)
			return CHARSET_INVALID;
	}
	if (cv->npending > 0) {
		if (final)
			return CHARSET_INVALID;
		return 0;
	}
	ok = charset_utf8_valid(u, len, &incomplete);
	if (buf_add(out, u, ok) == -1)
		return CHARSET_FULL;
	if (ok == len)
		return 0;
	if (!incomplete || final)
		return CHARSET_INVALID;
	n = len - ok;
	take = n < sizeof cv->pending ? n : sizeof cv->pending;
	memcpy(cv->pending, u + ok, take);
	cv->npending = take;
	return 0;
}

size_t
charset_unchanged(const struct charset *cv, const char *in, size_t len)
{
	size_t ok;
	int incomplete;

	if (cv->cd != (iconv_t)-1 || cv->npending > 0)
		return 0;
	ok = charset_utf8_valid((const unsigned char *)in, len, &incomplete);
	return ok == len || incomplete ? ok : 0;
}

int
charset_convert(
    struct charset *cv, const char *in, size_t len, int final, struct buf *out)
{
	char obuf[CHARSET_CHUNK], joined[16];
	char *ip, *op;
	size_t il, ol, r, take;

	if (cv->cd == (iconv_t)-1)
		return charset_convert_utf8(cv, in, len, final, out);
	/* Join a sequence split across calls with the new bytes. */
	while (cv->npending > 0 && len > 0) {
		take = sizeof joined - cv->npending;
		if (take > len)
			take = len;
		memcpy(joined, cv->pending, cv->npending);
		memcpy(joined + cv->npending, in, take);
		ip = joined;
		il = cv->npending + take;
		op = obuf;
		ol = sizeof obuf;
		r = iconv(cv->cd, &ip, &il, &op, &ol);
		if (buf_add(out, obuf, (size_t)(op - obuf)) == -1)
			return CHARSET_FULL;
		if (r == (size_t)-1 && errno == EILSEQ)
			return CHARSET_INVALID;
		if ((size_t)(ip - joined) < cv->npending) {
			/* Still incomplete: keep everything. */
			if (cv->npending + take > sizeof cv->pending)
				return CHARSET_INVALID;
			memcpy(cv->pending, joined, cv->npending + take);
			cv->npending += take;
			in += take;
			len -= take;
			continue;
		}
		take = (size_t)(ip - joined) - cv->npending;
		cv->npending = 0;
		in += take;
		len -= take;
	}
	ip = (char *)(uintptr_t)in;
	il = len;
	while (il > 0) {
		op = obuf;
		ol = sizeof obuf;
		r = iconv(cv->cd, &ip, &il, &op, &ol);
		if (buf_add(out, obuf, (size_t)(op - obuf)) == -1)
			return CHARSET_FULL;
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		if (errno == EINVAL) { /* incomplete at the end */
			if (il > sizeof cv->pending)
				return CHARSET_INVALID;
			memcpy(cv->pending, ip, il);
			cv->npending = il;
			break;
		}
		return CHARSET_INVALID;
	}
	if (final) {
		if (cv->npending > 0)
			return CHARSET_INVALID;
		op = obuf;
		ol = sizeof obuf;
		iconv(cv->cd, NULL, NULL, &op, &ol);
		if (buf_add(out, obuf, (size_t)(op - obuf)) == -1)
			return CHARSET_FULL;
	}
	return 0;
}

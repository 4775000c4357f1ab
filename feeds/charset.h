/*
 * Character encodings of feed documents: which encoding the bytes are in
 * (byte-order mark, XML declaration, HTTP charset per RFC 3023) and a
 * streaming converter from that encoding to UTF-8.
 */
#ifndef CHARSET_H
#define CHARSET_H

#include <stddef.h>

#include "buf.h"

/* Longest encoding name kept. */
#define CHARSET_NAME_MAX 48

/* What the first bytes and the HTTP headers say about the encoding. */
struct charset_sniff {
	char bom[CHARSET_NAME_MAX]; /* from a BOM or the first 4 bytes */
	size_t bom_len; /* bytes of BOM to skip */
	char xml[CHARSET_NAME_MAX]; /* the XML declaration's encoding */
	char http[CHARSET_NAME_MAX]; /* charset of Content-Type */
	char declared[CHARSET_NAME_MAX]; /* what RFC 3023 and a BOM say */
	/* what the charset or the declaration said, when a BOM overrode
	 * it ("" if they agree) */
	char overridden[CHARSET_NAME_MAX];
	int xml_type; /* Content-Type is an XML type */
	int text_plain; /* served as a non-XML type */
};

/*
 * Read the start of a document (the first 1 KiB is plenty) and the
 * Content-Type header (NULL if none; have_headers says whether the bytes
 * came over HTTP at all). A byte-order mark decides over both (RFC 7303,
 * XML 1.0 appendix F): the rest is then what it says.
 */
void charset_sniff(const char *data, size_t len, const char *content_type,
    int have_headers, struct charset_sniff *);

/*
 * The encodings to try, in order, each tried on the whole document: the
 * declared one, then the XML declaration's, the BOM's, UTF-8,
 * windows-1252 and ISO-8859-2 (duplicates dropped). Returns how many were
 * written to names (at most max).
 */
size_t charset_candidates(
    const struct charset_sniff *, char names[][CHARSET_NAME_MAX], size_t max);

struct charset;

/* A converter from the named encoding to UTF-8; NULL if unknown. */
struct charset *charset_open(const char *name);
void charset_close(struct charset *);
/* The name given to charset_open(), lower-cased. */
const char *charset_name(const struct charset *);

/*
 * Convert the next len bytes, appending UTF-8 to out. An incomplete
 * sequence at the end is kept for the next call; final says there is no
 * next call. Returns 0; CHARSET_INVALID on bytes that are not valid in
 * the encoding (out then holds what came before them); CHARSET_FULL when
 * out would pass its cap (out is then emptied, as buf does).
 */
#define CHARSET_INVALID (-1)
#define CHARSET_FULL (-2)
int charset_convert(
    struct charset *, const char *in, size_t len, int final, struct buf *out);
/*
 * How many of the first len bytes charset_convert would append unchanged,
 * so that the caller may use them in place and convert only the rest:
 * for UTF-8 with no sequence pending, the valid bytes before a sequence
 * cut short by the end of in (all of them, usually); 0 for any other
 * encoding, a pending sequence, or bytes that are not UTF-8.
 */
size_t charset_unchanged(const struct charset *, const char *in, size_t len);

#endif

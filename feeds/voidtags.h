/*
 * Two faults of feeds that put raw HTML and URLs in XML text, mended by
 * reading the document again through voidtags_run():
 *
 * VOIDTAGS_CLOSE: HTML's empty elements ("<br>", "<img src=x>", "<hr>")
 * without their "/". The XML parser, recovering, takes the next end tag
 * ("</description>") for theirs and closes the wrong elements: an item
 * nested in the one before it, the rest of the feed deeper at each one,
 * or read as the description's text. Each is written closed ("<br/>")
 * and their end tags ("</br>") dropped.
 *
 * VOIDTAGS_AMP: a bare "&" ("AT&T", "Q&A", "?a=1&b=2") that starts no
 * reference. The XML parser drops it with the name after it ("AT",
 * "?a=1=2"); it is written "&amp;". A reference (&name; &#N; &#xN;)
 * stays as it is.
 *
 * Comments, CDATA sections, processing instructions, declarations and
 * every other tag stay as they are.
 */
#ifndef VOIDTAGS_H
#define VOIDTAGS_H

#include <stddef.h>

#include "buf.h"

/* The longest reference kept as one: "&", a name, ";". */
#define VOIDTAGS_PEND 40

#define VOIDTAGS_CLOSE 0x1
#define VOIDTAGS_AMP 0x2

struct voidtags {
	int flags; /* VOIDTAGS_* */
	int state;
	int back; /* the state a bare '&' was met in */
	unsigned char quote; /* inside an attribute value quoted so */
	int slash; /* the tag's last byte so far was '/' */
	int matched; /* bytes of "-->", "]]>" or "?>" seen */
	int depth; /* '[' open in a declaration */
	/* "<", "</" and a name, or "&" and a reference, not decided yet */
	char pend[VOIDTAGS_PEND];
	size_t npend;
	size_t rewritten; /* tags closed or dropped so far */
	size_t amps; /* bare '&' escaped so far */
};

/* Whether NAME (no namespace prefix) is one of those elements. */
int voidtags_is_void(const char *name);
/* Ready to mend what FLAGS (VOIDTAGS_*) say. */
void voidtags_init(struct voidtags *, int flags);
/* Append DATA, so rewritten, to OUT; a tag may be cut anywhere between
 * two calls. */
void voidtags_run(
    struct voidtags *, const char *data, size_t len, struct buf *out);
/* The end of the document: what is still held goes out as it is. */
void voidtags_finish(struct voidtags *, struct buf *out);

#endif

/*
 * HTML's empty elements ("<br>", "<img src=x>", "<hr>") written in XML
 * text without their "/": feeds that put raw HTML in a description. The
 * XML parser, recovering, takes the next end tag ("</description>") for
 * theirs and closes the wrong elements: an item nested in the one before
 * it, the rest of the feed deeper at each one, or read as the
 * description's text. The parser reads such a document again through
 * voidtags_run(), which writes each of them closed ("<br/>") and drops
 * their end tags ("</br>"), and leaves comments, CDATA sections,
 * processing instructions, declarations and every other tag as they are.
 */
#ifndef VOIDTAGS_H
#define VOIDTAGS_H

#include <stddef.h>

#include "buf.h"

struct voidtags {
	int state;
	unsigned char quote; /* inside an attribute value quoted so */
	int slash; /* the tag's last byte so far was '/' */
	int matched; /* bytes of "-->", "]]>" or "?>" seen */
	int depth; /* '[' open in a declaration */
	char pend[16]; /* "<", "</" and a name not decided yet */
	size_t npend;
	size_t rewritten; /* tags closed or dropped so far */
};

/* Whether NAME (no namespace prefix) is one of those elements. */
int voidtags_is_void(const char *name);
void voidtags_init(struct voidtags *);
/* Append DATA, so rewritten, to OUT; a tag may be cut anywhere between
 * two calls. */
void voidtags_run(
    struct voidtags *, const char *data, size_t len, struct buf *out);
/* The end of the document: what is still held goes out as it is. */
void voidtags_finish(struct voidtags *, struct buf *out);

#endif

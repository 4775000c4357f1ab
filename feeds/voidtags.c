/*
 * HTML's empty elements and bare ampersands in XML text: see voidtags.h.
 *
 * A byte-at-a-time state machine, so that a tag or a reference may be
 * split across any two chunks: what it has not decided yet waits in
 * vt->pend. References are as XML 1.0 writes them (section 4.1): "&"
 * Name ";", "&#" digits ";", "&#x" hex digits ";".
 */
#include <string.h>
#include <strings.h>

#include "voidtags.h"

enum {
	VT_TEXT, /* character data */
	VT_OPEN, /* after '<' */
	VT_NAME, /* a start tag's name */
	VT_END, /* after "</" */
	VT_ENDNAME, /* an end tag's name */
	VT_ENDTAIL, /* white space after an end tag's name */
	VT_TAG, /* the rest of a tag that stays as it is */
	VT_VOID, /* the attributes of an empty element's start tag */
	VT_BANG, /* after "<!": a comment, CDATA or a declaration */
	VT_COMMENT,
	VT_CDATA,
	VT_PI,
	VT_DECL, /* <!DOCTYPE ...> and the like, with its [ ] */
	VT_AMP, /* after '&', in text or an attribute value */
};

/*
 * HTML's empty elements, less the names RSS and Atom use for elements
 * with content or attributes of their own (link, source, base, meta's
 * cousins): those are left to the XML parser.
 */
static const char *const voidtags_names[] = {"br", "hr", "img", "wbr", "col",
    "area", "embed", "input", "param", "track", NULL};

int
voidtags_is_void(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; voidtags_names[i] != NULL; i++)
		if (strcasecmp(name, voidtags_names[i]) == 0)
			return 1;
	return 0;
}

void
voidtags_init(struct voidtags *vt, int flags)
{
	memset(vt, 0, sizeof *vt);
	vt->flags = flags;
}

static int
voidtags_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' ||
	    c == '.' || c >= 0x80;
}

static int
voidtags_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether C is inside an attribute value's quotes, or opens or closes
 * them (the quote is tracked). */
static int
voidtags_quoted(struct voidtags *vt, unsigned char c)
{
	if (vt->quote != 0) {
		if (c == vt->quote)
			vt->quote = 0;
		return 1;
	}
	if (c == '"' || c == '\'') {
		vt->quote = c;
		return 1;
	}
	return 0;
}

/* The held bytes go out as they are. */
static void
voidtags_flush(struct voidtags *vt, struct buf *out)
{
	buf_add(out, vt->pend, vt->npend);
	vt->npend = 0;
}

/* The held bytes go out as they are, and the tag is read on in STATE
 * (the caller reads the current byte again there). */
static void
voidtags_pass(struct voidtags *vt, struct buf *out, int state)
{
	voidtags_flush(vt, out);
	vt->state = state;
	vt->quote = 0;
	vt->slash = 0;
}

/* Hold C; a name too long for any empty element goes out at once. */
static int
voidtags_hold(struct voidtags *vt, unsigned char c)
{
	if (vt->npend + 1 >= sizeof vt->pend)
		return -1;
	vt->pend[vt->npend++] = (char)c;
	return 0;
}

/* Whether the held name (after "<" or "</") is an empty element's, to
 * be mended. */
static int
voidtags_held_void(const struct voidtags *vt, size_t skip)
{
	char name[sizeof vt->pend];

	if (!(vt->flags & VOIDTAGS_CLOSE))
		return 0;
	memcpy(name, vt->pend + skip, vt->npend - skip);
	name[vt->npend - skip] = '\0';
	return voidtags_is_void(name);
}

/* Whether the held bytes and C still begin WORD. */
static int
voidtags_prefix(const struct voidtags *vt, unsigned char c, const char *word)
{
	size_t n = strlen(word);

	return vt->npend < n && memcmp(vt->pend, word, vt->npend) == 0 &&
	    c == (unsigned char)word[vt->npend];
}

/* A '&' met in STATE: held until it is known to start a reference. */
static void
voidtags_amp(struct voidtags *vt, int state)
{
	vt->pend[0] = '&';
	vt->npend = 1;
	vt->back = state;
	vt->state = VT_AMP;
}

/* The held "&..." followed by C: 1 if C goes on a reference, 0 if it
 * ends one (';'), -1 if there is none. */
static int
voidtags_ref_next(const struct voidtags *vt, unsigned char c)
{
	const char *h = vt->pend;
	size_t n = vt->npend;
	int hex;

	if (n == 1)
		return c == '#' ||
			(voidtags_name_char(c) && c != '-' && c != '.' &&
			    !(c >= '0' && c <= '9'))
		    ? 1
		    : -1;
	if (h[1] != '#')
		return voidtags_name_char(c) ? 1 : c == ';' ? 0 : -1;
	if (n == 2)
		return c == 'x' || c == 'X' || (c >= '0' && c <= '9') ? 1 : -1;
	hex = h[2] == 'x' || h[2] == 'X';
	if ((c >= '0' && c <= '9') ||
	    (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))))
		return 1;
	return c == ';' && n > (size_t)(hex ? 3 : 2) ? 0 : -1;
}

/* The held '&' starts no reference: written "&amp;", then what followed
 * it; the caller reads the current byte again in the state it was met
 * in. */
static void
voidtags_bare_amp(struct voidtags *vt, struct buf *out)
{
	buf_addstr(out, "&amp;");
	buf_add(out, vt->pend + 1, vt->npend - 1);
	vt->npend = 0;
	vt->amps++;
	vt->state = vt->back;
}

/* What ends the construct that STATE is in. */
static const char *
voidtags_closer(int state)
{
	switch (state) {
	case VT_COMMENT:
		return "-->";
	case VT_CDATA:
		return "]]>";
	default:
		return "?>";
	}
}

void
voidtags_run(struct voidtags *vt, const char *data, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)data;
	const char *closer;
	size_t i, start;
	unsigned char c;
	int ref;

	for (i = 0; i < len; i++) {
		c = s[i];
		switch (vt->state) {
		case VT_TEXT:
			/* a run of text at once */
			start = i;
			while (i < len && s[i] != '<' &&
			    !(s[i] == '&' && (vt->flags & VOIDTAGS_AMP)))
				i++;
			buf_add(out, data + start, i - start);
			if (i == len)
				return;
			if (s[i] == '&') {
				voidtags_amp(vt, VT_TEXT);
				break;
			}
			vt->pend[0] = '<';
			vt->npend = 1;
			vt->state = VT_OPEN;
			break;
		case VT_AMP:
			ref = voidtags_ref_next(vt, c);
			if (ref == 1 && voidtags_hold(vt, c) == 0)
				break;
			if (ref == 0) {
				voidtags_flush(vt, out);
				buf_addc(out, ';');
				vt->state = vt->back;
				break;
			}
			/* no reference, or one too long to be */
			voidtags_bare_amp(vt, out);
			i--; /* this byte again, where the '&' was */
			break;
		case VT_OPEN:
			if (c == '/') {
				voidtags_hold(vt, c);
				vt->state = VT_END;
			} else if (c == '!') {
				voidtags_hold(vt, c);
				vt->state = VT_BANG;
			} else if (c == '?') {
				voidtags_flush(vt, out);
				buf_addc(out, (char)c);
				vt->matched = 0;
				vt->state = VT_PI;
			} else if (voidtags_name_char(c)) {
				voidtags_hold(vt, c);
				vt->state = VT_NAME;
			} else {
				voidtags_flush(vt, out);
				vt->state = VT_TEXT;
				i--; /* this byte again, as text */
			}
			break;
		case VT_NAME:
			if (voidtags_name_char(c)) {
				if (voidtags_hold(vt, c) == -1) {
					voidtags_pass(vt, out, VT_TAG);
					i--;
				}
				break;
			}
			voidtags_pass(vt, out,
			    voidtags_held_void(vt, 1) ? VT_VOID : VT_TAG);
			i--; /* the byte after the name, in that state */
			break;
		case VT_VOID:
			if (c == '&' && vt->quote != 0 &&
			    (vt->flags & VOIDTAGS_AMP)) {
				voidtags_amp(vt, VT_VOID);
				break;
			}
			if (voidtags_quoted(vt, c)) {
				vt->slash = 0;
			} else if (c == '>') {
				/* <br> becomes <br/>; <br/> stays */
				if (!vt->slash) {
					buf_addc(out, '/');
					vt->rewritten++;
				}
				buf_addc(out, '>');
				vt->state = VT_TEXT;
				break;
			} else if (!voidtags_space(c))
				vt->slash = c == '/';
			buf_addc(out, (char)c);
			break;
		case VT_TAG:
			if (c == '&' && vt->quote != 0 &&
			    (vt->flags & VOIDTAGS_AMP)) {
				voidtags_amp(vt, VT_TAG);
				break;
			}
			buf_addc(out, (char)c);
			if (!voidtags_quoted(vt, c) && c == '>')
				vt->state = VT_TEXT;
			break;
		case VT_END:
			if (voidtags_name_char(c)) {
				voidtags_hold(vt, c);
				vt->state = VT_ENDNAME;
			} else {
				voidtags_pass(vt, out, VT_TAG);
				i--;
			}
			break;
		case VT_ENDNAME:
		case VT_ENDTAIL:
			if (vt->state == VT_ENDNAME && voidtags_name_char(c) &&
			    voidtags_hold(vt, c) == 0)
				break;
			if (c == '>' && voidtags_held_void(vt, 2) &&
			    vt->state == VT_ENDNAME) {
				/* </br>: its start tag is closed already */
				vt->npend = 0;
				vt->rewritten++;
				vt->state = VT_TEXT;
				break;
			}
			if (voidtags_space(c) && voidtags_held_void(vt, 2)) {
				/* </br  >: its name stays held; the spaces go */
				vt->state = VT_ENDTAIL;
				break;
			}
			if (c == '>' && vt->state == VT_ENDTAIL) {
				vt->npend = 0;
				vt->rewritten++;
				vt->state = VT_TEXT;
				break;
			}
			voidtags_pass(vt, out, VT_TAG);
			i--;
			break;
		case VT_BANG:
			/* "<!--" or "<![CDATA[", or a declaration */
			if (voidtags_prefix(vt, c, "<!--") ||
			    voidtags_prefix(vt, c, "<![CDATA[")) {
				voidtags_hold(vt, c);
				if (vt->npend == 4 &&
				    memcmp(vt->pend, "<!--", 4) == 0)
					vt->state = VT_COMMENT;
				else if (vt->npend == 9)
					vt->state = VT_CDATA;
				else
					break;
				voidtags_flush(vt, out);
				vt->matched = 0;
				break;
			}
			voidtags_flush(vt, out);
			vt->depth = 0;
			vt->quote = 0;
			vt->state = VT_DECL;
			i--; /* this byte again, in the declaration */
			break;
		case VT_COMMENT:
		case VT_CDATA:
		case VT_PI:
			buf_addc(out, (char)c);
			closer = voidtags_closer(vt->state);
			if (c == (unsigned char)closer[vt->matched])
				vt->matched++;
			else if (vt->state != VT_PI && vt->matched == 2 &&
			    c == (unsigned char)closer[1])
				vt->matched = 2; /* "--->", "]]]>" */
			else
				vt->matched = c == (unsigned char)closer[0];
			if (closer[vt->matched] == '\0')
				vt->state = VT_TEXT;
			break;
		case VT_DECL:
			buf_addc(out, (char)c);
			if (voidtags_quoted(vt, c))
				break;
			if (c == '[')
				vt->depth++;
			else if (c == ']' && vt->depth > 0)
				vt->depth--;
			else if (c == '>' && vt->depth == 0)
				vt->state = VT_TEXT;
			break;
		}
	}
}

void
voidtags_finish(struct voidtags *vt, struct buf *out)
{
	if (vt->state == VT_AMP)
		voidtags_bare_amp(vt, out);
	voidtags_flush(vt, out);
	vt->state = VT_TEXT;
}

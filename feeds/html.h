/*
 * Plain text of the HTML found in feeds, for matching and for alerts.
 */
#ifndef HTML_H
#define HTML_H

#include <stddef.h>

/* Default cap on the plain text produced, in bytes. */
#define HTML_TEXT_MAX (256 * 1024)
/* Longest HTML looked at; bytes beyond it are not parsed. */
#define HTML_INPUT_MAX (8 * 1024 * 1024)

/*
 * Plain text of the HTML fragment html (len bytes of UTF-8; invalid
 * sequences become U+FFFD), parsed by libxml2's HTML parser without
 * network access: entities decoded (HTML5's names too); tags, comments
 * and the content of script, style and applet dropped; block elements
 * (p, br, div, li, td, h1-h6, ...) become one space; image alt text not
 * kept; runs of ASCII
 * whitespace collapsed to one space and trimmed (U+00A0 is kept); C1
 * controls read as windows-1252 meant them (U+0092 and "&#146;" are
 * U+2019, as HTML reads the reference), the five it leaves undefined,
 * C0 controls and bidi controls (U+200E/F, U+202A-202E, U+2066-2069)
 * stripped. The result is valid UTF-8 of at most cap bytes (cut on a
 * character boundary), NUL-terminated, never NULL; the caller frees it.
 */
char *html_to_text(const char *html, size_t len, size_t cap);

/*
 * html_to_text always through libxml2's parse. html_to_text takes simple
 * markup (the common case) without it, for speed; this is what that must
 * equal, for tests and comparisons.
 */
char *html_to_text_parsed(const char *html, size_t len, size_t cap);

/*
 * The same cleanup for text that is already plain (no markup parsing):
 * whitespace collapsed and trimmed, C1 controls read as windows-1252,
 * other controls and bidi controls stripped,
 * invalid UTF-8 replaced by U+FFFD, at most cap bytes. Never NULL; the
 * caller frees the result.
 */
char *html_clean_text(const char *text, size_t len, size_t cap);

/*
 * What windows-1252 means by the C1 control cp (U+0080-U+009F), as
 * UTF-8: "\xe2\x80\x99" for U+0092. NULL for any other code point and
 * for the five C1 positions windows-1252 leaves undefined.
 */
const char *html_cp1252(unsigned cp);

#endif

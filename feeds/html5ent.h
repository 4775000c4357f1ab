/*
 * HTML5's named character references (the WHATWG list) that HTML 4 did
 * not have, which libxml2's HTML parser leaves as they are ("&lbrace;",
 * "&check;", "&NewLine;").
 */
#ifndef HTML5ENT_H
#define HTML5ENT_H

#include <stddef.h>
#include <stdint.h>

/* Longest name, without '&' and ';'. */
#define HTML5ENT_NAME_MAX 32

/*
 * The code points (one, or two: cp[1] is 0 for one) of the reference
 * named by the LEN bytes at NAME, without '&' and ';' (case matters:
 * "&Gt;" is not "&gt;"). Returns 0 with cp filled, or -1 when HTML5 has
 * no such name or HTML 4 had it.
 */
int html5ent_lookup(const char *name, size_t len, uint32_t cp[2]);

#endif

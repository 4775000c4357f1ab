/*
 * Query parser: a hand-written lexer and recursive descent over the
 * grammar of docs/watchlists.md. Precedence, loosest first: OR, AND
 * (written or implicit), NOT and '-', NEAR/n, then field:term, groups
 * and terms.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "query.h"
#include "xmalloc.h"

#define QUERY_MAX_SHOWN 40 /* bytes of a word quoted in a message */

enum query_tok {
	TOK_END,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_AND,
	TOK_OR,
	TOK_NOT,
	TOK_NEAR,
	TOK_MINUS,
	TOK_WORD,
	TOK_PHRASE,
	TOK_ENTITY,
	TOK_REGEX,
	TOK_FIELD,
};

struct query_parser {
	const char *q;
	size_t len;
	size_t pos; /* where the lexer reads next */
	/* the current token */
	enum query_tok tok;
	size_t tok_start;
	size_t tok_end;
	size_t text_start; /* its text (word, phrase, name, regex) */
	size_t text_len;
	size_t flags_start; /* regex flags */
	size_t flags_len;
	int prefix; /* word ends in '*' */
	unsigned distance;
	unsigned field;
	int depth;
	size_t nterms;
	/* the first error */
	int failed;
	size_t errpos;
	char *cause;
};

static const struct {
	const char *name;
	unsigned mask;
} query_fields[] = {
    {"title", QUERY_FIELD_TITLE},
    {"summary", QUERY_FIELD_SUMMARY},
    {"content", QUERY_FIELD_CONTENT},
    {"author", QUERY_FIELD_AUTHOR},
    {"category", QUERY_FIELD_CATEGORY},
    {"link", QUERY_FIELD_LINK},
    {"feed", QUERY_FIELD_FEED},
};
#define QUERY_NFIELD_NAMES (sizeof query_fields / sizeof query_fields[0])

const char *
query_field_name(unsigned field)
{
	size_t i;

	for (i = 0; i < QUERY_NFIELD_NAMES; i++)
		if (query_fields[i].mask == field)
			return query_fields[i].name;
	return NULL;
}

/* Column (1-based, in characters) of byte offset POS. */
static size_t
query_column(const char *q, size_t pos)
{
	size_t i, col = 1;

	for (i = 0; i < pos; i++)
		if (((unsigned char)q[i] & 0xC0) != 0x80)
			col++;
	return col;
}

static void query_fail(struct query_parser *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
query_fail(struct query_parser *p, size_t pos, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->errpos = pos;
	buf_init(&b, 4096);
	buf_printf(&b, "column %zu: ", query_column(p->q, pos));
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	p->cause = buf_take(&b, NULL);
}

/* A short description of the current token, for "found ...". */
static const char *
query_describe(struct query_parser *p, char *out, size_t outsz)
{
	size_t n = p->tok_end - p->tok_start;

	switch (p->tok) {
	case TOK_END:
		return "the end of the query";
	case TOK_LPAREN:
		return "'('";
	case TOK_RPAREN:
		return "')'";
	case TOK_AND:
		return "'AND'";
	case TOK_OR:
		return "'OR'";
	case TOK_NOT:
		return "'NOT'";
	case TOK_MINUS:
		return "'-'";
	case TOK_NEAR:
		return "'NEAR'";
	case TOK_PHRASE:
		return "a phrase";
	case TOK_REGEX:
		return "a regex";
	default:
		break;
	}
	if (n > QUERY_MAX_SHOWN)
		n = QUERY_MAX_SHOWN;
	snprintf(out, outsz, "'%.*s'", (int)n, p->q + p->tok_start);
	return out;
}

static int
query_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static int
query_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	    c == ':';
}

static int
query_ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Lex a bare run: operator, field, word or prefix. */
static void
query_lex_bare(struct query_parser *p)
{
	const char *q = p->q;
	size_t start = p->pos, end = p->pos, i, n;
	unsigned long d;

	while (end < p->len && !query_space(q[end]) && q[end] != '(' &&
	    q[end] != ')' && q[end] != '"')
		end++;
	n = end - start;
	p->tok_start = start;
	/* field: letters then ':' */
	for (i = start; i < end && query_ascii_letter(q[i]); i++)
		;
	if (i > start && i < end && q[i] == ':') {
		for (n = 0; n < QUERY_NFIELD_NAMES; n++)
			if (strlen(query_fields[n].name) == i - start &&
			    strncasecmp(query_fields[n].name, q + start,
				i - start) == 0)
				break;
		if (n == QUERY_NFIELD_NAMES) {
			query_fail(p, start,
			    "unknown field '%.*s'; expected title, summary, "
			    "content, author, category, link or feed",
			    (int)(i - start), q + start);
			return;
		}
		p->tok = TOK_FIELD;
		p->field = query_fields[n].mask;
		p->tok_end = p->pos = i + 1;
		return;
	}
	p->tok_end = p->pos = end;
	if (n == 3 && memcmp(q + start, "AND", 3) == 0) {
		p->tok = TOK_AND;
		return;
	}
	if (n == 2 && memcmp(q + start, "OR", 2) == 0) {
		p->tok = TOK_OR;
		return;
	}
	if (n == 3 && memcmp(q + start, "NOT", 3) == 0) {
		p->tok = TOK_NOT;
		return;
	}
	if (n >= 4 && memcmp(q + start, "NEAR", 4) == 0 &&
	    (n == 4 || q[start + 4] == '/')) {
		if (n == 4) {
			query_fail(p, start + 4,
			    "expected '/' and a distance after NEAR "
			    "(as in NEAR/5)");
			return;
		}
		d = 0;
		for (i = start + 5; i < end && q[i] >= '0' && q[i] <= '9';
		     i++) {
			d = d * 10 + (unsigned long)(q[i] - '0');
			if (d > QUERY_MAX_NEAR)
				break;
		}
		if (i == start + 5 || i != end || d > QUERY_MAX_NEAR) {
			query_fail(p, start + 5,
			    "expected a distance from 0 to %d after 'NEAR/'",
			    QUERY_MAX_NEAR);
			return;
		}
		p->tok = TOK_NEAR;
		p->distance = (unsigned)d;
		return;
	}
	for (i = start; i < end; i++) {
		if (q[i] != '*')
			continue;
		if (i == start) {
			query_fail(p, i, "expected a word before '*'");
			return;
		}
		if (i + 1 != end) {
			query_fail(p, i, "'*' may only end a word");
			return;
		}
	}
	p->tok = TOK_WORD;
	p->prefix = q[end - 1] == '*';
	p->text_start = start;
	p->text_len = n - (size_t)p->prefix;
}

/* Read the next token into the parser. */
static void
query_lex(struct query_parser *p)
{
	const char *q = p->q;
	size_t start;

	if (p->failed) {
		p->tok = TOK_END;
		return;
	}
	while (p->pos < p->len && query_space(q[p->pos]))
		p->pos++;
	p->prefix = 0;
	p->tok_start = start = p->pos;
	if (p->pos >= p->len) {
		p->tok = TOK_END;
		p->tok_end = p->pos;
		return;
	}
	switch (q[p->pos]) {
	case '(':
		p->tok = TOK_LPAREN;
		p->tok_end = ++p->pos;
		return;
	case ')':
		p->tok = TOK_RPAREN;
		p->tok_end = ++p->pos;
		return;
	case '"':
		p->pos++;
		while (p->pos < p->len && q[p->pos] != '"')
			p->pos++;
		if (p->pos >= p->len) {
			query_fail(p, start,
			    "unterminated phrase: expected a closing '\"'");
			p->tok = TOK_END;
			return;
		}
		p->tok = TOK_PHRASE;
		p->text_start = start + 1;
		p->text_len = p->pos - start - 1;
		p->tok_end = ++p->pos;
		return;
	case '/':
		p->pos++;
		while (p->pos < p->len && q[p->pos] != '/') {
			if (q[p->pos] == '\\' && p->pos + 1 < p->len)
				p->pos++;
			p->pos++;
		}
		if (p->pos >= p->len) {
			query_fail(p, start,
			    "unterminated regex: expected a closing '/'");
			p->tok = TOK_END;
			return;
		}
		if (p->pos == start + 1) {
			query_fail(p, start, "empty regex '//'");
			p->tok = TOK_END;
			return;
		}
		p->tok = TOK_REGEX;
		p->text_start = start + 1;
		p->text_len = p->pos - start - 1;
		p->flags_start = ++p->pos;
		while (p->pos < p->len && query_ascii_letter(q[p->pos]))
			p->pos++;
		p->flags_len = p->pos - p->flags_start;
		p->tok_end = p->pos;
		return;
	case '@':
		p->pos++;
		while (p->pos < p->len && query_name_char(q[p->pos]))
			p->pos++;
		if (p->pos == start + 1) {
			query_fail(
			    p, start + 1, "expected an entity name after '@'");
			p->tok = TOK_END;
			return;
		}
		p->tok = TOK_ENTITY;
		p->text_start = start + 1;
		p->text_len = p->pos - start - 1;
		p->tok_end = p->pos;
		return;
	case '-':
		if (p->pos + 1 >= p->len || query_space(q[p->pos + 1]) ||
		    q[p->pos + 1] == ')') {
			query_fail(
			    p, start + 1, "expected a term right after '-'");
			p->tok = TOK_END;
			return;
		}
		p->tok = TOK_MINUS;
		p->tok_end = ++p->pos;
		return;
	default:
		query_lex_bare(p);
		if (p->failed)
			p->tok = TOK_END;
		return;
	}
}

static struct query_node *
query_node_new(enum query_kind kind, size_t pos, size_t len)
{
	struct query_node *n = xcalloc(1, sizeof *n);

	n->kind = kind;
	n->pos = pos;
	n->len = len;
	return n;
}

void
query_free(struct query_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		query_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n->flags);
	free(n);
}

static void
query_add_kid(struct query_node *n, struct query_node *kid)
{
	n->kids = xreallocarray(n->kids, n->nkids + 1, sizeof *n->kids);
	n->kids[n->nkids++] = kid;
}

/* Join LEFT and RIGHT under KIND, flattening same-kind chains. */
static struct query_node *
query_join(
    enum query_kind kind, struct query_node *left, struct query_node *right)
{
	struct query_node *n;
	size_t end = right->pos + right->len;

	if (left->kind == kind) {
		n = left;
	} else {
		n = query_node_new(kind, left->pos, 0);
		query_add_kid(n, left);
	}
	if (right->kind == kind) {
		while (right->nkids > 0) {
			query_add_kid(n, right->kids[0]);
			memmove(right->kids, right->kids + 1,
			    (right->nkids - 1) * sizeof *right->kids);
			right->nkids--;
		}
		query_free(right);
	} else {
		query_add_kid(n, right);
	}
	n->len = end - n->pos;
	return n;
}

static int
query_starts_term(enum query_tok t)
{
	switch (t) {
	case TOK_LPAREN:
	case TOK_NOT:
	case TOK_MINUS:
	case TOK_WORD:
	case TOK_PHRASE:
	case TOK_ENTITY:
	case TOK_REGEX:
	case TOK_FIELD:
		return 1;
	default:
		return 0;
	}
}

static struct query_node *query_parse_or(struct query_parser *);

static void
query_expected(struct query_parser *p, const char *what)
{
	char shown[QUERY_MAX_SHOWN + 8];

	query_fail(p, p->tok_start, "expected %s, found %s", what,
	    query_describe(p, shown, sizeof shown));
}

static struct query_node *
query_parse_leaf(struct query_parser *p)
{
	struct query_node *n;
	enum query_kind kind;

	switch (p->tok) {
	case TOK_WORD:
		kind = p->prefix ? QUERY_PREFIX : QUERY_WORD;
		break;
	case TOK_PHRASE:
		kind = QUERY_WORD;
		break;
	case TOK_ENTITY:
		kind = QUERY_ENTITY;
		break;
	case TOK_REGEX:
		kind = QUERY_REGEX;
		break;
	default:
		query_expected(p, "a word, phrase, @entity, /regex/ or '('");
		return NULL;
	}
	if (++p->nterms > QUERY_MAX_TERMS) {
		query_fail(p, p->tok_start, "more than %d terms in one query",
		    QUERY_MAX_TERMS);
		return NULL;
	}
	n = query_node_new(kind, p->tok_start, p->tok_end - p->tok_start);
	n->text = xstrndup(p->q + p->text_start, p->text_len);
	n->text_pos = p->text_start;
	if (kind == QUERY_REGEX)
		n->flags = xstrndup(p->q + p->flags_start, p->flags_len);
	query_lex(p);
	return n;
}

/* Give leaves without a field the field MASK. */
static void
query_set_fields(struct query_node *n, unsigned mask)
{
	size_t i;

	if (n->nkids == 0 && n->fields == 0)
		n->fields = mask;
	for (i = 0; i < n->nkids; i++)
		query_set_fields(n->kids[i], mask);
}

/* primary := FIELD (leaf | '(' or ')') | '(' or ')' | leaf */
static struct query_node *
query_parse_primary(struct query_parser *p)
{
	struct query_node *n;
	size_t start = p->tok_start, open;
	unsigned field = 0;
	char shown[QUERY_MAX_SHOWN + 8];

	if (p->tok == TOK_FIELD) {
		field = p->field;
		if (p->tok_end < p->len && query_space(p->q[p->tok_end])) {
			query_fail(p, p->tok_end,
			    "expected a term or '(' right after '%s:' (no "
			    "space)",
			    query_field_name(field));
			return NULL;
		}
		query_lex(p);
		if (p->tok != TOK_LPAREN && p->tok != TOK_WORD &&
		    p->tok != TOK_PHRASE && p->tok != TOK_ENTITY &&
		    p->tok != TOK_REGEX) {
			query_fail(p, p->tok_start,
			    "expected a term or '(' after '%s:', found %s",
			    query_field_name(field),
			    query_describe(p, shown, sizeof shown));
			return NULL;
		}
	}
	if (p->tok == TOK_LPAREN) {
		open = p->tok_start;
		if (++p->depth > QUERY_MAX_DEPTH) {
			query_fail(p, open, "more than %d nested groups",
			    QUERY_MAX_DEPTH);
			return NULL;
		}
		query_lex(p);
		if (p->tok == TOK_RPAREN) {
			query_fail(p, p->tok_start, "empty group '()'");
			return NULL;
		}
		if ((n = query_parse_or(p)) == NULL)
			return NULL;
		if (p->tok != TOK_RPAREN) {
			query_fail(p, p->tok_start,
			    "expected ')' to close the '(' at column %zu, "
			    "found %s",
			    query_column(p->q, open),
			    query_describe(p, shown, sizeof shown));
			query_free(n);
			return NULL;
		}
		p->depth--;
		n->pos = start;
		n->len = p->tok_end - start;
		query_lex(p);
	} else {
		if ((n = query_parse_leaf(p)) == NULL)
			return NULL;
		n->len = n->pos + n->len - start;
		n->pos = start;
	}
	if (field != 0)
		query_set_fields(n, field);
	return n;
}

/* near := primary ('NEAR/n' primary)* */
static struct query_node *
query_parse_near(struct query_parser *p)
{
	struct query_node *left, *right, *n;
	unsigned distance;

	if ((left = query_parse_primary(p)) == NULL)
		return NULL;
	while (p->tok == TOK_NEAR) {
		distance = p->distance;
		query_lex(p);
		if ((right = query_parse_primary(p)) == NULL) {
			query_free(left);
			return NULL;
		}
		if (!query_is_positional(left) || !query_is_positional(right)) {
			query_fail(p,
			    query_is_positional(left) ? right->pos : left->pos,
			    "NEAR takes words, phrases, entities, regexes or "
			    "groups of them joined by OR on each side");
			query_free(left);
			query_free(right);
			return NULL;
		}
		n = query_node_new(
		    QUERY_NEAR, left->pos, right->pos + right->len - left->pos);
		n->distance = distance;
		query_add_kid(n, left);
		query_add_kid(n, right);
		left = n;
	}
	return left;
}

/* unary := ('NOT' | '-') unary | near */
static struct query_node *
query_parse_unary(struct query_parser *p)
{
	struct query_node *kid, *n;
	size_t start = p->tok_start;
	char shown[QUERY_MAX_SHOWN + 8];
	const char *op;

	if (p->tok != TOK_NOT && p->tok != TOK_MINUS)
		return query_parse_near(p);
	op = p->tok == TOK_NOT ? "NOT" : "-";
	if (++p->depth > QUERY_MAX_DEPTH) {
		query_fail(
		    p, start, "more than %d nested NOTs", QUERY_MAX_DEPTH);
		return NULL;
	}
	query_lex(p);
	if (!query_starts_term(p->tok)) {
		query_fail(p, p->tok_start,
		    "expected a term after '%s', found %s", op,
		    query_describe(p, shown, sizeof shown));
		return NULL;
	}
	if ((kid = query_parse_unary(p)) == NULL)
		return NULL;
	p->depth--;
	n = query_node_new(QUERY_NOT, start, kid->pos + kid->len - start);
	query_add_kid(n, kid);
	return n;
}

/* and := unary (['AND'] unary)* */
static struct query_node *
query_parse_and(struct query_parser *p)
{
	struct query_node *left, *right;
	char shown[QUERY_MAX_SHOWN + 8];

	if ((left = query_parse_unary(p)) == NULL)
		return NULL;
	for (;;) {
		if (p->tok == TOK_AND) {
			query_lex(p);
			if (!query_starts_term(p->tok)) {
				query_fail(p, p->tok_start,
				    "expected a term after 'AND', found %s",
				    query_describe(p, shown, sizeof shown));
				query_free(left);
				return NULL;
			}
		} else if (!query_starts_term(p->tok))
			break;
		if ((right = query_parse_unary(p)) == NULL) {
			query_free(left);
			return NULL;
		}
		left = query_join(QUERY_AND, left, right);
	}
	return left;
}

/* or := and ('OR' and)* */
static struct query_node *
query_parse_or(struct query_parser *p)
{
	struct query_node *left, *right;
	char shown[QUERY_MAX_SHOWN + 8];

	if (!query_starts_term(p->tok)) {
		query_expected(p, "a term");
		return NULL;
	}
	if ((left = query_parse_and(p)) == NULL)
		return NULL;
	while (p->tok == TOK_OR) {
		query_lex(p);
		if (!query_starts_term(p->tok)) {
			query_fail(p, p->tok_start,
			    "expected a term after 'OR', found %s",
			    query_describe(p, shown, sizeof shown));
			query_free(left);
			return NULL;
		}
		if ((right = query_parse_and(p)) == NULL) {
			query_free(left);
			return NULL;
		}
		left = query_join(QUERY_OR, left, right);
	}
	return left;
}

/* The first byte of invalid UTF-8 in S, or LEN when it is valid. */
static size_t
query_bad_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned cp;

	while (i < len) {
		if (u[i] < 0x80) {
			if (u[i] == 0)
				return i;
			i++;
			continue;
		}
		if (u[i] >= 0xC2 && u[i] <= 0xDF)
			n = 1, cp = u[i] & 0x1F;
		else if (u[i] >= 0xE0 && u[i] <= 0xEF)
			n = 2, cp = u[i] & 0x0F;
		else if (u[i] >= 0xF0 && u[i] <= 0xF4)
			n = 3, cp = u[i] & 0x07;
		else
			return i;
		if (i + n >= len)
			return i;
		for (k = 1; k <= n; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (u[i + k] & 0x3F);
		}
		if ((n == 2 &&
			(cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return i;
		i += n + 1;
	}
	return len;
}

struct query_node *
query_parse(const char *query, size_t len, size_t *errpos, char **cause)
{
	struct query_parser p;
	struct query_node *n;
	size_t bad;
	char shown[QUERY_MAX_SHOWN + 8];

	memset(&p, 0, sizeof p);
	p.q = query;
	p.len = len;
	if (len > QUERY_MAX_LEN) {
		query_fail(&p, QUERY_MAX_LEN,
		    "the query is longer than %d bytes", QUERY_MAX_LEN);
		goto fail;
	}
	if ((bad = query_bad_utf8(query, len)) != len) {
		query_fail(&p, bad, "invalid UTF-8 or NUL byte");
		goto fail;
	}
	query_lex(&p);
	n = query_parse_or(&p);
	if (n != NULL && !p.failed && p.tok != TOK_END) {
		if (p.tok == TOK_RPAREN)
			query_fail(&p, p.tok_start,
			    "unexpected ')' with no '(' to close");
		else
			query_fail(&p, p.tok_start,
			    "expected 'AND', 'OR' or the end of the query, "
			    "found %s",
			    query_describe(&p, shown, sizeof shown));
	}
	if (n == NULL || p.failed) {
		query_free(n);
		goto fail;
	}
	query_set_fields(n, QUERY_FIELD_DEFAULT);
	return n;
fail:
	if (errpos != NULL)
		*errpos = p.errpos;
	if (cause != NULL)
		*cause = p.cause;
	else
		free(p.cause);
	return NULL;
}

int
query_is_positional(const struct query_node *n)
{
	size_t i;

	switch (n->kind) {
	case QUERY_WORD:
	case QUERY_PREFIX:
	case QUERY_ENTITY:
	case QUERY_REGEX:
		return 1;
	case QUERY_OR:
	case QUERY_NEAR:
		for (i = 0; i < n->nkids; i++)
			if (!query_is_positional(n->kids[i]))
				return 0;
		return 1;
	default:
		return 0;
	}
}

static void
query_format_node(struct buf *b, const struct query_node *n)
{
	static const char *const ops[] = {
	    [QUERY_AND] = "AND", [QUERY_OR] = "OR", [QUERY_NOT] = "NOT"};
	size_t i;

	if (n->nkids == 0 && n->fields != QUERY_FIELD_DEFAULT)
		buf_printf(b, "%s:",
		    query_field_name(n->fields) ? query_field_name(n->fields)
						: "?");
	switch (n->kind) {
	case QUERY_WORD:
		buf_printf(b, "\"%s\"", n->text);
		return;
	case QUERY_PREFIX:
		buf_printf(b, "%s*", n->text);
		return;
	case QUERY_ENTITY:
		buf_printf(b, "@%s", n->text);
		return;
	case QUERY_REGEX:
		buf_printf(b, "/%s/%s", n->text, n->flags);
		return;
	case QUERY_NEAR:
		buf_printf(b, "(NEAR/%u", n->distance);
		break;
	default:
		buf_printf(b, "(%s", ops[n->kind]);
		break;
	}
	for (i = 0; i < n->nkids; i++) {
		buf_addc(b, ' ');
		query_format_node(b, n->kids[i]);
	}
	buf_addc(b, ')');
}

char *
query_format(const struct query_node *n)
{
	struct buf b;

	buf_init(&b, 1024 * 1024);
	query_format_node(&b, n);
	return buf_take(&b, NULL);
}

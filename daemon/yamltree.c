/*
 * YAML 1.1 as libyaml reads it, reduced to scalars, sequences and
 * mappings. Anchors are accepted and ignored; aliases, and more than one
 * document, are errors.
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "xmalloc.h"
#include "yamltree.h"

struct yamltree_builder {
	yaml_parser_t parser;
	struct yamltree_node *stack[YAMLTREE_MAX_DEPTH + 1];
	size_t depth;
	size_t nodes;
	struct yamltree_node *root;
	char *cause;
};

const char *
yamltree_kind_name(enum yamltree_kind kind)
{
	switch (kind) {
	case YAMLTREE_SCALAR:
		return "a scalar";
	case YAMLTREE_SEQUENCE:
		return "a list";
	case YAMLTREE_MAPPING:
		return "a mapping";
	}
	return "?";
}

void
yamltree_free(struct yamltree_node *node)
{
	size_t i;

	if (node == NULL)
		return;
	for (i = 0; i < node->nchildren; i++)
		yamltree_free(node->children[i]);
	free(node->children);
	free(node->value);
	free(node);
}

static void
yamltree_error(
    struct yamltree_builder *b, const yaml_mark_t *mark, const char *msg)
{
	if (b->cause == NULL)
		xasprintf(&b->cause, "%zu:%zu: %s", mark->line + 1,
		    mark->column + 1, msg);
}

static struct yamltree_node *
yamltree_node_new(struct yamltree_builder *b, enum yamltree_kind kind,
    const yaml_mark_t *mark)
{
	struct yamltree_node *node;

	if (++b->nodes > YAMLTREE_MAX_NODES) {
		yamltree_error(b, mark, "too many nodes in the document");
		return NULL;
	}
	node = xcalloc(1, sizeof *node);
	node->kind = kind;
	node->line = (unsigned)mark->line + 1;
	node->column = (unsigned)mark->column + 1;
	return node;
}

/* Attach a finished node to its parent, or make it the root. */
static void
yamltree_attach(struct yamltree_builder *b, struct yamltree_node *node)
{
	struct yamltree_node *parent;

	if (b->depth == 0) {
		b->root = node;
		return;
	}
	parent = b->stack[b->depth - 1];
	/* doubled: a list of thousands of feeds grew by one a node, each
	 * growth a copy of the list */
	if (parent->nchildren == parent->children_alloc) {
		parent->children_alloc = parent->children_alloc == 0
		    ? 4
		    : parent->children_alloc * 2;
		parent->children = xreallocarray(parent->children,
		    parent->children_alloc, sizeof *parent->children);
	}
	parent->children[parent->nchildren++] = node;
}

/* Handle one event; 1 when the document is complete, -1 on error. */
static int
yamltree_event(struct yamltree_builder *b, yaml_event_t *ev)
{
	struct yamltree_node *node;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_START_EVENT:
		if (b->root != NULL) {
			yamltree_error(b, &ev->start_mark,
			    "only one YAML document is allowed");
			return -1;
		}
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_ALIAS_EVENT:
		yamltree_error(
		    b, &ev->start_mark, "aliases (*name) are not supported");
		return -1;
	case YAML_SCALAR_EVENT:
		if ((node = yamltree_node_new(
			 b, YAMLTREE_SCALAR, &ev->start_mark)) == NULL)
			return -1;
		node->value = xmalloc(ev->data.scalar.length + 1);
		memcpy(
		    node->value, ev->data.scalar.value, ev->data.scalar.length);
		node->value[ev->data.scalar.length] = '\0';
		node->value_len = ev->data.scalar.length;
		node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		yamltree_attach(b, node);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth >= YAMLTREE_MAX_DEPTH) {
			yamltree_error(
			    b, &ev->start_mark, "nesting is too deep");
			return -1;
		}
		if ((node = yamltree_node_new(b,
			 ev->type == YAML_SEQUENCE_START_EVENT
			     ? YAMLTREE_SEQUENCE
			     : YAMLTREE_MAPPING,
			 &ev->start_mark)) == NULL)
			return -1;
		yamltree_attach(b, node);
		b->stack[b->depth++] = node;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	case YAML_NO_EVENT:
		break;
	}
	return 0;
}

/*
 * Where a reader error (a byte that is not UTF-8, a control character)
 * is: libyaml gives only its byte offset, not a line and column, and for
 * a bad trailing octet the offset of that octet, here taken back to the
 * start of its sequence. Lines end at LF, CR LF or a lone CR; columns
 * count characters, as libyaml's do, a byte order mark not among them.
 */
static yaml_mark_t
yamltree_offset_mark(const yaml_parser_t *parser, const char *data, size_t len)
{
	size_t i = 0, offset = parser->problem_offset;
	yaml_mark_t mark = {0, 0, 0};

	if (offset > len)
		offset = len;
	if (parser->problem != NULL &&
	    strstr(parser->problem, "trailing") != NULL) {
		for (i = 0; i < 3 && offset > 0 &&
		     ((unsigned char)data[offset - 1] & 0xc0) == 0x80;
		     i++)
			offset--;
		if (offset > 0 &&
		    ((unsigned char)data[offset - 1] & 0xc0) == 0xc0)
			offset--;
		i = 0;
	}
	mark.index = offset;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (; i < offset; i++) {
		if (data[i] == '\n' ||
		    (data[i] == '\r' &&
			(i + 1 >= len || data[i + 1] != '\n'))) {
			mark.line++;
			mark.column = 0;
		} else if (((unsigned char)data[i] & 0xc0) != 0x80 &&
		    data[i] != '\r')
			mark.column++;
	}
	return mark;
}

struct yamltree_node *
yamltree_parse(const char *data, size_t len, char **cause)
{
	struct yamltree_builder b;
	yaml_event_t ev;
	int rc = 0;
	yaml_mark_t start = {0, 0, 0};

	memset(&b, 0, sizeof b);
	*cause = NULL;
	if (len > YAMLTREE_MAX_INPUT) {
		xasprintf(cause, "1:1: file is larger than %u bytes",
		    YAMLTREE_MAX_INPUT);
		return NULL;
	}
	if (!yaml_parser_initialize(&b.parser)) {
		*cause = xstrdup("1:1: cannot initialize the YAML parser");
		return NULL;
	}
	yaml_parser_set_input_string(
	    &b.parser, (const unsigned char *)data, len);
	while (rc == 0) {
		if (!yaml_parser_parse(&b.parser, &ev)) {
			const char *problem = b.parser.problem != NULL
			    ? b.parser.problem
			    : "malformed YAML";
			yaml_mark_t mark = b.parser.problem_mark;
			char *msg;

			if (b.parser.error == YAML_READER_ERROR) {
				/* UTF-16 offsets are not counted here */
				if (b.parser.encoding !=
					YAML_UTF16LE_ENCODING &&
				    b.parser.encoding != YAML_UTF16BE_ENCODING)
					mark = yamltree_offset_mark(
					    &b.parser, data, len);
				if (b.parser.problem_value != -1)
					xasprintf(&msg, "%s (#%X)", problem,
					    (unsigned)b.parser.problem_value);
				else
					msg = xstrdup(problem);
			} else if (b.parser.context != NULL)
				xasprintf(
				    &msg, "%s %s", problem, b.parser.context);
			else
				msg = xstrdup(problem);
			yamltree_error(&b, &mark, msg);
			free(msg);
			rc = -1;
			break;
		}
		rc = yamltree_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&b.parser);
	if (rc == -1) {
		yamltree_free(b.root);
		*cause = b.cause;
		return NULL;
	}
	if (b.root == NULL)
		b.root = yamltree_node_new(&b, YAMLTREE_MAPPING, &start);
	return b.root;
}

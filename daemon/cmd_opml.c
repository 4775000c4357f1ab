/*
 * feedwatch import-opml FILE [-o PATH] [--force]: a reader's OPML export
 * as a "feeds:" YAML list (docs/opml.md).
 * feedwatch export-opml [-o PATH] [--force]: the configured feeds as an
 * OPML 2.0 document.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>
#include <yaml.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "log.h"
#include "norm.h"
#include "opml.h"
#include "readall.h"
#include "utf8.h"
#include "xmalloc.h"
#include "yamltree.h"

/* Longest tag made of a folder name, in bytes (a config name's limit). */
#define CMD_OPML_MAX_TAG 64
/* Largest OPML document export-opml writes. */
#define CMD_OPML_MAX_EXPORT (256u * 1024 * 1024)

/* One line of the import report, sorted by line before printing. */
struct cmd_opml_msg {
	unsigned line;
	size_t seq;
	char *text;
};

struct cmd_opml_report {
	struct cmd_opml_msg *msgs;
	size_t n;
	size_t cap;
	size_t duplicates;
	size_t not_feeds;
	size_t refused;
	size_t configured;
	size_t renamed;
};

static void cmd_opml_say(struct cmd_opml_report *r, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
cmd_opml_say(struct cmd_opml_report *r, unsigned line, const char *fmt, ...)
{
	struct cmd_opml_msg *m;
	va_list ap;

	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 16 : r->cap * 2;
		r->msgs = xreallocarray(r->msgs, r->cap, sizeof *r->msgs);
	}
	m = &r->msgs[r->n];
	m->line = line;
	m->seq = r->n++;
	va_start(ap, fmt);
	if (vasprintf(&m->text, fmt, ap) == -1)
		fatalx("vasprintf: out of memory");
	va_end(ap);
}

static int
cmd_opml_msg_cmp(const void *a, const void *b)
{
	const struct cmd_opml_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
cmd_opml_report_flush(struct cmd_opml_report *r, const char *file, FILE *report)
{
	char esc[512];
	size_t i;

	if (r->n > 0)
		qsort(r->msgs, r->n, sizeof *r->msgs, cmd_opml_msg_cmp);
	for (i = 0; i < r->n; i++) {
		if (report != NULL)
			fprintf(report, "%s:%u: %s\n",
			    log_escapes(esc, sizeof esc, file), r->msgs[i].line,
			    r->msgs[i].text);
		free(r->msgs[i].text);
	}
	free(r->msgs);
	r->msgs = NULL;
	r->n = r->cap = 0;
}

/* An OPML note as a report line. */
static void
cmd_opml_note(struct cmd_opml_report *r, const struct opml_note *note)
{
	char esc[512];
	const char *text =
	    log_escapes(esc, sizeof esc, note->text != NULL ? note->text : "");

	switch (note->kind) {
	case OPML_NOTE_DUPLICATE:
		r->duplicates++;
		cmd_opml_say(r, note->line,
		    "duplicate of the feed at line %u (%s): skipped; its "
		    "folders, if any, become tags of that feed",
		    note->first_line, text);
		break;
	case OPML_NOTE_NOT_FEED:
		r->not_feeds++;
		cmd_opml_say(r, note->line,
		    "outline \"%s\" has no xmlUrl and holds no outlines: "
		    "not a feed, skipped",
		    text);
		break;
	case OPML_NOTE_SCHEME:
		r->refused++;
		cmd_opml_say(r, note->line,
		    "feed url \"%s\" refused: only http:// and https:// urls "
		    "are imported",
		    text);
		break;
	case OPML_NOTE_BAD_URL:
		r->refused++;
		cmd_opml_say(r, note->line,
		    "feed url \"%s\" refused: no host, a space or control "
		    "character, longer than %d bytes, or not a URL libcurl "
		    "reads",
		    text, OPML_MAX_URL);
		break;
	case OPML_NOTE_INCLUDE:
		r->not_feeds++;
		cmd_opml_say(r, note->line,
		    "include outline \"%s\" not followed (OPML inclusion is "
		    "not supported)",
		    text);
		break;
	case OPML_NOTE_SCRAPER:
		r->not_feeds++;
		cmd_opml_say(r, note->line,
		    "outline \"%s\" is a web page to scrape (FreshRSS), not "
		    "a feed: skipped",
		    text);
		break;
	case OPML_NOTE_TAGS_CUT:
		cmd_opml_say(r, note->line,
		    "%s: more than %d folders and categories; the rest are "
		    "not tags",
		    text, OPML_MAX_TAGS);
		break;
	}
}

static int
cmd_opml_is_mark(utf8proc_int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC ||
	    c == UTF8PROC_CATEGORY_ME;
}

/*
 * A folder name as a tag: compatibility-decomposed and case-folded;
 * letters and digits kept, accents on Latin letters dropped (other
 * scripts keep their marks), every other run of characters one '-';
 * recomposed (NFC) and cut to CMD_OPML_MAX_TAG bytes. Applying it twice
 * changes nothing. NULL when no letter or digit is left.
 */
static char *
cmd_opml_slug(const char *name)
{
	utf8proc_uint8_t *folded = NULL, *nfc;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n, i, k;
	unsigned char enc[4];
	struct buf b;
	int dash = 0, after_ascii = 0;
	size_t len;

	n = utf8proc_map((const utf8proc_uint8_t *)name, 0, &folded,
	    UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT |
		UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD);
	if (n < 0)
		return NULL;
	buf_init(&b, (size_t)n * 2 + 8);
	for (i = 0; i < n; i += k) {
		k = utf8proc_iterate(folded + i, n - i, &cp);
		if (k <= 0)
			break;
		if (cmd_opml_is_mark(cp)) {
			/* é is e; a mark in other scripts is part of it */
			if (b.len > 0 && !dash && !after_ascii)
				buf_add(&b, folded + i, (size_t)k);
			continue;
		}
		if (!norm_is_word_category(utf8proc_category(cp))) {
			dash = b.len > 0;
			after_ascii = 0;
			continue;
		}
		if (dash)
			buf_addc(&b, '-');
		dash = 0;
		after_ascii = cp < 0x80;
		buf_add(&b, enc, (size_t)utf8proc_encode_char(cp, enc));
	}
	free(folded);
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	nfc = utf8proc_NFC((const utf8proc_uint8_t *)buf_str(&b));
	buf_free(&b);
	if (nfc == NULL)
		return NULL;
	len = utf8_cut((char *)nfc, strlen((char *)nfc), CMD_OPML_MAX_TAG);
	while (len > 0 && nfc[len - 1] == '-')
		len--;
	nfc[len] = '\0';
	if (len == 0) {
		free(nfc);
		return NULL;
	}
	return (char *)nfc;
}

/*
 * A set of strings (not owned) with a value each, for at most n entries:
 * open addressing with FNV-1a. (glibc's hsearch hashes urls that differ
 * in their last characters into long chains.)
 */
struct cmd_opml_set {
	const char **keys;
	void **values;
	size_t mask;
};

static void
cmd_opml_set_init(struct cmd_opml_set *set, size_t n)
{
	size_t size = 64;

	while (size < n * 2)
		size *= 2;
	set->keys = xcalloc(size, sizeof *set->keys);
	set->values = xcalloc(size, sizeof *set->values);
	set->mask = size - 1;
}

static void
cmd_opml_set_free(struct cmd_opml_set *set)
{
	free(set->keys);
	free(set->values);
}

static size_t
cmd_opml_set_slot(const struct cmd_opml_set *set, const char *key)
{
	uint64_t h = 14695981039346656037ULL;
	const char *p;
	size_t i;

	for (p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (i = (size_t)h & set->mask;
	     set->keys[i] != NULL && strcmp(set->keys[i], key) != 0;
	     i = (i + 1) & set->mask)
		;
	return i;
}

static int
cmd_opml_set_has(const struct cmd_opml_set *set, const char *key, void **value)
{
	size_t i = cmd_opml_set_slot(set, key);

	if (set->keys[i] == NULL)
		return 0;
	if (value != NULL)
		*value = set->values[i];
	return 1;
}

/* Add key unless it is there; the set must have room (see init). */
static void
cmd_opml_set_add(struct cmd_opml_set *set, const char *key, void *value)
{
	size_t i = cmd_opml_set_slot(set, key);

	if (set->keys[i] != NULL)
		return;
	set->keys[i] = key;
	set->values[i] = value;
}

/* Whether path names the same file as the one at st. */
static int
cmd_opml_same_file(const char *path, const struct stat *st)
{
	struct stat other;

	return stat(path, &other) == 0 && other.st_dev == st->st_dev &&
	    other.st_ino == st->st_ino;
}

/* A name not yet used: base, else "base (2)", "base (3)", ... */
static char *
cmd_opml_unique_name(const struct cmd_opml_set *used, const char *base)
{
	char *name;
	size_t len = strlen(base), room;
	unsigned k;

	if (!cmd_opml_set_has(used, base, NULL))
		return xstrdup(base);
	for (k = 2;; k++) {
		/* keep the name within what the OPML reader keeps */
		room = utf8_cut(base, len, OPML_MAX_TITLE - 16);
		xasprintf(&name, "%.*s (%u)", (int)room, base, k);
		if (!cmd_opml_set_has(used, name, NULL))
			return name;
		free(name);
	}
}

size_t
cmd_opml_entries(const struct opml *o, const struct config *existing,
    const char *replace, const char *file, FILE *report,
    struct cmd_opml_entry **out)
{
	struct cmd_opml_report r;
	struct cmd_opml_entry *entries, *e;
	struct cmd_opml_set urls, names;
	const struct config_feed *cfeed;
	struct stat replace_st;
	char *slug, esc[512], esc2[512];
	const char *base;
	size_t i, j, k, nentries = 0, nexisting = 0;
	int have_replace;
	void *found;

	memset(&r, 0, sizeof r);
	for (i = 0; i < o->nnotes; i++)
		cmd_opml_note(&r, &o->notes[i]);
	if (existing != NULL)
		nexisting = existing->nfeeds;
	cmd_opml_set_init(&urls, nexisting);
	cmd_opml_set_init(&names, nexisting + o->nfeeds);
	have_replace = replace != NULL && stat(replace, &replace_st) == 0;
	for (i = 0; i < nexisting; i++) {
		cfeed = &existing->feeds[i];
		/* the file being replaced does not count */
		if (have_replace && cfeed->mark.file != NULL &&
		    cmd_opml_same_file(cfeed->mark.file, &replace_st))
			continue;
		cmd_opml_set_add(&urls, cfeed->url, (void *)cfeed);
		cmd_opml_set_add(&names, cfeed->name, NULL);
	}
	entries = xcalloc(o->nfeeds + 1, sizeof *entries);
	for (i = 0; i < o->nfeeds; i++) {
		const struct opml_feed *f = &o->feeds[i];

		if (cmd_opml_set_has(&urls, f->url, &found)) {
			cfeed = found;
			r.configured++;
			cmd_opml_say(&r, f->line,
			    "%s is already configured (%s:%u): skipped",
			    log_escapes(esc, sizeof esc, f->url),
			    log_escapes(esc2, sizeof esc2, cfeed->mark.file),
			    cfeed->mark.line);
			continue;
		}
		e = &entries[nentries++];
		e->url = xstrdup(f->url);
		e->line = f->line;
		base = f->title != NULL ? f->title : f->url;
		e->name = cmd_opml_unique_name(&names, base);
		if (strcmp(e->name, base) != 0) {
			r.renamed++;
			cmd_opml_say(&r, f->line,
			    "the name \"%s\" is taken: this feed is named "
			    "\"%s\"",
			    log_escapes(esc, sizeof esc, base),
			    log_escapes(esc2, sizeof esc2, e->name));
		}
		if (strcmp(e->name, e->url) == 0) {
			/* the loader names an unnamed feed by its url */
			free(e->name);
			e->name = NULL;
		}
		cmd_opml_set_add(
		    &names, e->name != NULL ? e->name : e->url, NULL);
		for (j = 0; j < f->ntags; j++) {
			if ((slug = cmd_opml_slug(f->tags[j])) == NULL)
				continue;
			for (k = 0; k < e->ntags; k++)
				if (strcmp(e->tags[k], slug) == 0)
					break;
			if (k < e->ntags) {
				free(slug);
				continue;
			}
			e->tags = xreallocarray(
			    e->tags, e->ntags + 1, sizeof *e->tags);
			e->tags[e->ntags++] = slug;
		}
	}
	cmd_opml_set_free(&urls);
	cmd_opml_set_free(&names);
	if (report != NULL && r.n > 0)
		fflush(report);
	cmd_opml_report_flush(&r, file, report);
	if (report != NULL) {
		fprintf(report,
		    "%s: %zu feeds; left out: %zu duplicates, %zu "
		    "outlines that are not feeds, %zu refused urls, %zu "
		    "already configured; %zu renamed\n",
		    log_escapes(esc, sizeof esc, file), nentries, r.duplicates,
		    r.not_feeds, r.refused, r.configured, r.renamed);
	}
	*out = entries;
	return nentries;
}

void
cmd_opml_entries_free(struct cmd_opml_entry *entries, size_t n)
{
	size_t i, j;

	if (entries == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(entries[i].url);
		free(entries[i].name);
		for (j = 0; j < entries[i].ntags; j++)
			free(entries[i].tags[j]);
		free(entries[i].tags);
	}
	free(entries);
}

static int
cmd_opml_yaml_write_cb(void *data, unsigned char *text, size_t len)
{
	return buf_add(data, text, len) == 0;
}

/* Emit a double-quoted scalar; "${" becomes "$${" (see config_expand). */
static int
cmd_opml_yaml_scalar(yaml_emitter_t *em, const char *s, int quoted)
{
	yaml_event_t ev;
	struct buf b;
	int ok;

	buf_init(&b, SIZE_MAX / 2);
	for (; *s != '\0'; s++) {
		if (s[0] == '$' && s[1] == '{')
			buf_addc(&b, '$');
		buf_addc(&b, *s);
	}
	ok = yaml_scalar_event_initialize(&ev, NULL, NULL,
		 (yaml_char_t *)buf_str(&b), (int)b.len, 1, 1,
		 quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
			: YAML_PLAIN_SCALAR_STYLE) &&
	    yaml_emitter_emit(em, &ev);
	buf_free(&b);
	return ok ? 0 : -1;
}

static int
cmd_opml_yaml_event(yaml_emitter_t *em, int ok, yaml_event_t *ev)
{
	return ok && yaml_emitter_emit(em, ev) ? 0 : -1;
}

static int
cmd_opml_yaml_entry(yaml_emitter_t *em, const struct cmd_opml_entry *e)
{
	yaml_event_t ev;
	size_t i;

	if (cmd_opml_yaml_event(em,
		yaml_mapping_start_event_initialize(
		    &ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE),
		&ev) == -1 ||
	    cmd_opml_yaml_scalar(em, "url", 0) == -1 ||
	    cmd_opml_yaml_scalar(em, e->url, 1) == -1)
		return -1;
	if (e->name != NULL &&
	    (cmd_opml_yaml_scalar(em, "name", 0) == -1 ||
		cmd_opml_yaml_scalar(em, e->name, 1) == -1))
		return -1;
	if (e->ntags > 0) {
		if (cmd_opml_yaml_scalar(em, "tags", 0) == -1 ||
		    cmd_opml_yaml_event(em,
			yaml_sequence_start_event_initialize(
			    &ev, NULL, NULL, 1, YAML_FLOW_SEQUENCE_STYLE),
			&ev) == -1)
			return -1;
		for (i = 0; i < e->ntags; i++)
			if (cmd_opml_yaml_scalar(em, e->tags[i], 1) == -1)
				return -1;
		if (cmd_opml_yaml_event(
			em, yaml_sequence_end_event_initialize(&ev), &ev) == -1)
			return -1;
	}
	return cmd_opml_yaml_event(
	    em, yaml_mapping_end_event_initialize(&ev), &ev);
}

char *
cmd_opml_yaml(
    const struct cmd_opml_entry *entries, size_t n, size_t *len, char **cause)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	struct yamltree_node *check;
	struct buf b;
	char *yaml_cause, *text;
	size_t i;
	int rc;

	*cause = NULL;
	buf_init(&b, YAMLTREE_MAX_INPUT);
	buf_addstr(&b, "# Feeds imported by feedwatch import-opml.\n");
	if (!yaml_emitter_initialize(&em))
		fatalx("yaml_emitter_initialize: out of memory");
	yaml_emitter_set_output(&em, cmd_opml_yaml_write_cb, &b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	rc = cmd_opml_yaml_event(&em,
		 yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING),
		 &ev) == -1 ||
	    cmd_opml_yaml_event(&em,
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1),
		&ev) == -1 ||
	    cmd_opml_yaml_event(&em,
		yaml_mapping_start_event_initialize(
		    &ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE),
		&ev) == -1 ||
	    cmd_opml_yaml_scalar(&em, "feeds", 0) == -1 ||
	    cmd_opml_yaml_event(&em,
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    n > 0 ? YAML_BLOCK_SEQUENCE_STYLE
			  : YAML_FLOW_SEQUENCE_STYLE),
		&ev) == -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = cmd_opml_yaml_entry(&em, &entries[i]);
	if (rc == 0)
		rc = cmd_opml_yaml_event(&em,
			 yaml_sequence_end_event_initialize(&ev), &ev) == -1 ||
		    cmd_opml_yaml_event(&em,
			yaml_mapping_end_event_initialize(&ev), &ev) == -1 ||
		    cmd_opml_yaml_event(&em,
			yaml_document_end_event_initialize(&ev, 1),
			&ev) == -1 ||
		    cmd_opml_yaml_event(&em,
			yaml_stream_end_event_initialize(&ev), &ev) == -1 ||
		    !yaml_emitter_flush(&em);
	if (rc != 0) {
		if (b.data == NULL)
			xasprintf(cause,
			    "the feed list would be larger than %u bytes, "
			    "more than a configuration file may hold",
			    YAMLTREE_MAX_INPUT);
		else
			xasprintf(cause, "cannot write YAML: %s",
			    em.problem != NULL ? em.problem : "unknown error");
		yaml_emitter_delete(&em);
		buf_free(&b);
		return NULL;
	}
	yaml_emitter_delete(&em);
	/* what is written must load: the loader's caps are not ours */
	if ((check = yamltree_parse(buf_str(&b), b.len, &yaml_cause)) == NULL) {
		xasprintf(
		    cause, "the feed list would not load: %s", yaml_cause);
		free(yaml_cause);
		buf_free(&b);
		return NULL;
	}
	yamltree_free(check);
	text = buf_take(&b, len);
	return text;
}

/*
 * Write data to path ("-" or NULL: stdout) through a temporary file in
 * the same folder and a rename, so that a reader sees the old file or the
 * new one, never half of one. An existing file is replaced only with
 * force; without it the rename itself refuses (RENAME_NOREPLACE), so a
 * file made meanwhile is not lost either.
 */
static int
cmd_opml_write(
    const char *path, const char *data, size_t len, int force, char **cause)
{
	char *dir, *tmp, esc[512];
	const char *slash, *p;
	size_t left;
	ssize_t n;
	mode_t mask;
	int fd, dirfd, rc;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len ||
		    fflush(stdout) != 0) {
			xasprintf(cause, "stdout: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	log_escapes(esc, sizeof esc, path);
	if (!force && access(path, F_OK) == 0) {
		xasprintf(cause, "%s exists; use --force to replace it", esc);
		return -1;
	}
	slash = strrchr(path, '/');
	dir = slash == NULL
	    ? xstrdup(".")
	    : xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	/* a missing conf.d is made (one level only) */
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		xasprintf(cause, "%s: %s", log_escapes(esc, sizeof esc, dir),
		    strerror(errno));
		free(dir);
		return -1;
	}
	xasprintf(&tmp, "%s/.%s.XXXXXX", dir, slash == NULL ? path : slash + 1);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", log_escapes(esc, sizeof esc, tmp),
		    strerror(errno));
		free(tmp);
		free(dir);
		return -1;
	}
	mask = umask(0);
	umask(mask);
	rc = fchmod(fd, 0666 & ~mask);
	for (p = data, left = len; rc == 0 && left > 0;) {
		n = write(fd, p, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (rc == 0)
		rc = fsync(fd);
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0) {
		if (force)
			rc = rename(tmp, path);
		else {
			rc = renameat2(
			    AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
			if (rc == -1 && (errno == EINVAL || errno == ENOSYS)) {
				/* no RENAME_NOREPLACE here: link refuses
				 * an existing name too */
				if ((rc = link(tmp, path)) == 0)
					unlink(tmp);
			}
		}
	}
	if (rc == -1) {
		xasprintf(cause, "%s: %s", esc,
		    errno == EEXIST ? "exists; use --force to replace it"
				    : strerror(errno));
		unlink(tmp);
	} else if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		fsync(dirfd);
		close(dirfd);
	}
	free(tmp);
	free(dir);
	return rc;
}

static const struct option cmd_opml_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* -o PATH, --force and the operands; -1 on a usage error. */
static int
cmd_opml_args(int argc, char **argv, const char **output, int *force)
{
	int ch;

	optind = 0;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "o:fh", cmd_opml_options, NULL)) !=
	    -1) {
		switch (ch) {
		case 'o':
			*output = optarg;
			break;
		case 'f':
			*force = 1;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

int
cmd_import_opml(int argc, char **argv, const struct cmd_globals *g)
{
	struct config *existing = NULL;
	struct cmd_opml_entry *entries = NULL;
	struct opml *o = NULL;
	const char *output = NULL, *file;
	char *data = NULL, *yaml = NULL, *cause = NULL, esc[512];
	size_t len, nentries = 0;
	int first, force = 0, rc = 1;

	if ((first = cmd_opml_args(argc, argv, &output, &force)) == -1 ||
	    argc - first != 1) {
		fprintf(stderr,
		    "usage: feedwatch import-opml FILE [-o PATH [--force]] "
		    "[-c CONFIG]\n");
		return 2;
	}
	file = argv[first];
	if ((data = readall_path(file, OPML_MAX_INPUT, &len, &cause)) == NULL)
		goto out;
	if ((o = opml_parse(data, len, file, &cause)) == NULL)
		goto out;
	if (g->config_given) {
		if ((existing = config_load(g->config_path, &cause)) == NULL) {
			fprintf(stderr,
			    "feedwatch: %s does not load, so feeds already "
			    "configured are not left out:\n%s\n",
			    log_escapes(esc, sizeof esc, g->config_path),
			    cause);
			free(cause);
			cause = NULL;
		} else
			fprintf(stderr,
			    "feedwatch: leaving out the %zu feeds of %s\n",
			    existing->nfeeds,
			    log_escapes(esc, sizeof esc, g->config_path));
	}
	nentries = cmd_opml_entries(o, existing,
	    output != NULL && force ? output : NULL, file, stderr, &entries);
	if ((yaml = cmd_opml_yaml(entries, nentries, &len, &cause)) == NULL)
		goto out;
	if (cmd_opml_write(output, yaml, len, force, &cause) == -1)
		goto out;
	fprintf(stderr, "feedwatch: %zu feeds written%s%s\n", nentries,
	    output != NULL && strcmp(output, "-") != 0 ? " to " : "",
	    output != NULL && strcmp(output, "-") != 0
		? log_escapes(esc, sizeof esc, output)
		: "");
	rc = 0;
out:
	if (cause != NULL)
		fprintf(stderr, "%s\n", cause);
	free(cause);
	free(data);
	free(yaml);
	opml_free(o);
	config_free(existing);
	cmd_opml_entries_free(entries, nentries);
	return rc;
}

int
cmd_export_opml(int argc, char **argv, const struct cmd_globals *g)
{
	struct config *cf;
	struct opml_feed *feeds;
	const struct config_feed *cfeed;
	const char *output = NULL;
	char *cause = NULL, esc[512], esc2[512];
	size_t i, n = 0, nfoldered = 0;
	struct buf out;
	int first, force = 0, rc = 1;

	if ((first = cmd_opml_args(argc, argv, &output, &force)) == -1 ||
	    first != argc) {
		fprintf(stderr,
		    "usage: feedwatch export-opml [-o PATH [--force]] "
		    "[-c CONFIG]\n");
		return 2;
	}
	if ((cf = config_load(g->config_path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	feeds = xcalloc(cf->nfeeds + 1, sizeof *feeds);
	for (i = 0; i < cf->nfeeds; i++) {
		cfeed = &cf->feeds[i];
		if (strncmp(cfeed->url, "http://", 7) != 0 &&
		    strncmp(cfeed->url, "https://", 8) != 0) {
			fprintf(stderr,
			    "%s:%u: %s is not an http or https url: not "
			    "exported\n",
			    log_escapes(esc, sizeof esc, cfeed->mark.file),
			    cfeed->mark.line,
			    log_escapes(esc2, sizeof esc2, cfeed->url));
			continue;
		}
		feeds[n].url = cfeed->url;
		feeds[n].title =
		    strcmp(cfeed->name, cfeed->url) != 0 ? cfeed->name : NULL;
		feeds[n].tags = (const char **)cfeed->tags;
		feeds[n].ntags = cfeed->ntags;
		feeds[n].line = cfeed->mark.line;
		if (cfeed->ntags > 0)
			nfoldered++;
		n++;
	}
	buf_init(&out, CMD_OPML_MAX_EXPORT);
	if (opml_write(&out, "feedwatch feeds", time(NULL), feeds, n, &cause) ==
		0 &&
	    cmd_opml_write(output, buf_str(&out), out.len, force, &cause) ==
		0) {
		fprintf(stderr,
		    "feedwatch: %zu feeds exported%s%s (%zu in the folder "
		    "of their first tag)\n",
		    n, output != NULL && strcmp(output, "-") != 0 ? " to " : "",
		    output != NULL && strcmp(output, "-") != 0
			? log_escapes(esc, sizeof esc, output)
			: "",
		    nfoldered);
		rc = 0;
	}
	if (cause != NULL)
		fprintf(stderr, "feedwatch: %s\n", cause);
	free(cause);
	buf_free(&out);
	free(feeds);
	config_free(cf);
	return rc;
}

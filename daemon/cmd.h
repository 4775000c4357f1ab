/*
 * The subcommands of the feedwatch binary. Each takes the arguments after
 * its name (argv[0] is the subcommand) and the options common to all
 * (already parsed by main), and returns the process exit status.
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>
#include <stdio.h>

struct config;
struct opml;

struct cmd_globals {
	const char *config_path; /* -c PATH, or the default */
	int config_given; /* -c was on the command line */
};

int cmd_run(int, char **, const struct cmd_globals *);
int cmd_once(int, char **, const struct cmd_globals *);
int cmd_check(int, char **, const struct cmd_globals *);
int cmd_outbox(int, char **, const struct cmd_globals *);
int cmd_status(int, char **, const struct cmd_globals *);
int cmd_parse(int, char **, const struct cmd_globals *);
int cmd_match(int, char **, const struct cmd_globals *);
int cmd_import_opml(int, char **, const struct cmd_globals *);
int cmd_export_opml(int, char **, const struct cmd_globals *);

/* A feed entry as import-opml writes it (cmd_opml.c). */
struct cmd_opml_entry {
	char *url;
	char *name; /* NULL: the url names the feed */
	char **tags; /* slugs */
	size_t ntags;
	unsigned line; /* of its outline */
};

/*
 * The entries import-opml makes of a parsed OPML document: tags are the
 * slugs of its folders and categories; names are made unique, also
 * against the feeds of existing (may be NULL), whose feeds are left out,
 * except those read from the file replace (may be NULL), which is to be
 * overwritten. Each outline left out or changed is reported on report
 * (may be NULL) as "file:LINE: message", file naming the document.
 * Returns the number of entries; *out is freed with
 * cmd_opml_entries_free().
 */
size_t cmd_opml_entries(const struct opml *, const struct config *existing,
    const char *replace, const char *file, FILE *report,
    struct cmd_opml_entry **out);
void cmd_opml_entries_free(struct cmd_opml_entry *, size_t);
/*
 * The "feeds:" YAML document of n entries, every string double-quoted by
 * libyaml's emitter and "${" written as "$${", so that config_load reads
 * back exactly these strings. NULL with *cause set (caller frees) when
 * the result would pass the configuration loader's caps.
 */
char *cmd_opml_yaml(
    const struct cmd_opml_entry *, size_t n, size_t *len, char **cause);

#endif

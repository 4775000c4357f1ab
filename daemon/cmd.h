/*
 * The subcommands of the feedwatch binary. Each takes the arguments after
 * its name (argv[0] is the subcommand) and the options common to all
 * (already parsed by main), and returns the process exit status.
 */
#ifndef CMD_H
#define CMD_H

struct cmd_globals {
	const char *config_path; /* -c PATH, or the default */
	int config_given; /* -c was on the command line */
};

int cmd_run(int, char **, const struct cmd_globals *);
int cmd_once(int, char **, const struct cmd_globals *);
int cmd_check(int, char **, const struct cmd_globals *);
int cmd_outbox(int, char **, const struct cmd_globals *);
int cmd_parse(int, char **, const struct cmd_globals *);
int cmd_match(int, char **, const struct cmd_globals *);

#endif

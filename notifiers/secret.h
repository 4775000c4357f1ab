/*
 * Secrets of notifiers (webhook signing keys, SMTP passwords), never
 * inline by necessity. For an option named NAME, exactly one of:
 *
 *	NAME: VALUE                 inline in the configuration
 *	NAME_file: PATH             a file only its owner can read
 *	NAME_env: VARIABLE          an environment variable
 *	NAME_credential: ID         a systemd credential:
 *	                            $CREDENTIALS_DIRECTORY/ID
 *
 * A file's trailing newlines are dropped. The value is owned by the
 * caller; free it with secret_free(), which wipes it first.
 */
#ifndef SECRET_H
#define SECRET_H

#include "notifier.h"

/* Largest secret file read. */
#define SECRET_MAX_FILE (64 * 1024)

/* 1 and *out set when configured, 0 when none of the four is, -1 with
 * *cause on error (two given, unreadable, readable by others, empty). */
int secret_load(
    const struct notifier_config *, const char *name, char **out, char **cause);
void secret_free(char *);
/* The content of the secret file PATH, trailing newlines dropped; with
 * check_mode, refused when group or others may read it. 0, or -1 with
 * *cause. */
int secret_read_file(
    const char *path, int check_mode, char **out, char **cause);

#endif

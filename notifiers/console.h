/*
 * The console notifier: each alert as one line of JSON (the alert
 * document, docs/alert-schema.json) on standard output. No options.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include "notifier.h"

extern const struct notifier_backend console_backend;

#endif

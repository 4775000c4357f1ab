/* Fuzz the configuration loader (YAML tree and config validation). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cf;
	char *cause = NULL;

	log_set_level(LOG_LEVEL_ERROR);
	cf = config_parse(
	    "/fuzz/feedwatch.yaml", (const char *)data, size, &cause);
	if (cf == NULL && cause == NULL)
		abort(); /* every failure must say why */
	config_free(cf);
	free(cause);
	return 0;
}

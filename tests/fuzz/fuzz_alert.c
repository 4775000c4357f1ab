/* Fuzz the alert document reader and every renderer over what it reads:
 * feed text reaches templates, presets, the email message and syslog. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "buf.h"
#include "email.h"
#include "payload.h"
#include "syslogger.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum payload_preset presets[] = {PAYLOAD_SLACK,
	    PAYLOAD_MATTERMOST, PAYLOAD_DISCORD, PAYLOAD_TEAMS, PAYLOAD_NTFY};
	char to0[] = "a@example.org", *to[] = {to0};
	struct alert *a, *b;
	struct template *t;
	char *cause = NULL, *json, *json2, *out;
	const char *ct;
	struct buf line;
	size_t i, len;

	a = alert_from_json((const char *)data, size, &cause);
	if (a == NULL) {
		if (cause == NULL)
			abort(); /* every failure must say why */
		free(cause);
		return 0;
	}
	/* What we read, we write back the same way. */
	json = alert_to_json(a);
	if ((b = alert_from_json(json, strlen(json), NULL)) == NULL)
		abort();
	json2 = alert_to_json(b);
	if (strcmp(json, json2) != 0)
		abort();
	for (i = 0; i < sizeof presets / sizeof presets[0]; i++) {
		out = payload_render_preset(presets[i], a, json, "t", &ct);
		free(out);
	}
	t = template_parse(
	    "{\"t\":\"{{item.title}}\",\"h\":\"{{hits.text}}\"}", NULL);
	out = template_render(t, a, "ob", TEMPLATE_ESCAPE_JSON);
	free(out);
	template_free(t);
	out = email_compose(a, "ob", "fw@example.org", to, 1,
	    a->item_title != NULL ? a->item_title : "", &len);
	if (strlen(out) != len)
		abort();
	free(out);
	buf_init(&line, SIZE_MAX / 2);
	syslogger_format_5424(&line, a, 13, 0, "h", "fw", 1);
	if (memchr(line.data, '\n', line.len) != NULL)
		abort(); /* one alert, one line */
	buf_free(&line);
	free(json);
	free(json2);
	alert_free(a);
	alert_free(b);
	return 0;
}

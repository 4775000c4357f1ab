/* Rendering: templates and their escaping, webhook presets, the email
 * message and its RFC 2047 subject, syslog lines. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "alert.h"
#include "buf.h"
#include "email.h"
#include "payload.h"
#include "syslogger.h"
#include "template.h"

static struct alert *
sample(const char *title)
{
	struct alert *a = alert_new();

	a->id = strdup("a-1");
	a->watchlist = strdup("iraq");
	a->severity = strdup("critical");
	a->created_at = 1714564800;
	a->feed_title = strdup("Feed");
	a->item_title = strdup(title);
	a->item_link = strdup("https://example.org/1?a=1&b=2");
	a->item_summary = strdup("Sudani met the coalition.");
	alert_add_hit(
	    a, "@sudani", "sudani", "Sudani", "summary", 0, 6, "Sudani met");
	return a;
}

static void
test_template(void **state)
{
	static const struct {
		const char *tmpl;
		enum template_escape esc;
		const char *out;
	} cases[] = {
	    {"{{item.title}}", TEMPLATE_ESCAPE_NONE, "a \"b\" <c> & d\n"},
	    {"{\"t\":\"{{ item.title }}\"}", TEMPLATE_ESCAPE_JSON,
		"{\"t\":\"a \\\"b\\\" <c> & d\\n\"}"},
	    {"<p>{{item.title}}</p>", TEMPLATE_ESCAPE_HTML,
		"<p>a &quot;b&quot; &lt;c&gt; &amp; d\n</p>"},
	    {"t={{item.title}}", TEMPLATE_ESCAPE_URL,
		"t=a%20%22b%22%20%3Cc%3E%20%26%20d%0A"},
	    {"{{alert.watchlist}}/{{alert.severity}}/{{hits.count}}/"
	     "{{outbox.id}}/{{alert.created_at}}/{{item.author}}.",
		TEMPLATE_ESCAPE_NONE,
		"iraq/critical/1/ob-9/2024-05-01T12:00:00Z/."},
	    {"{{hits.text}}", TEMPLATE_ESCAPE_NONE,
		"@sudani as \"Sudani\" in summary: Sudani met"},
	    {"no vars {", TEMPLATE_ESCAPE_NONE, "no vars {"},
	};
	struct alert *a = sample("a \"b\" <c> & d\n");
	struct template *t;
	char *out, *cause = NULL;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t = template_parse(cases[i].tmpl, &cause);
		assert_non_null(t);
		out = template_render(t, a, "ob-9", cases[i].esc);
		assert_string_equal(out, cases[i].out);
		free(out);
		template_free(t);
	}
	assert_null(template_parse("{{item.title", &cause));
	assert_non_null(strstr(cause, "never closed"));
	free(cause);
	assert_null(template_parse("{{item.password}}", &cause));
	assert_non_null(strstr(cause, "unknown variable"));
	free(cause);
	assert_int_equal(template_escape_for("application/json; charset=utf-8"),
	    TEMPLATE_ESCAPE_JSON);
	assert_int_equal(template_escape_for("application/cloudevents+json"),
	    TEMPLATE_ESCAPE_JSON);
	assert_int_equal(
	    template_escape_for("text/html"), TEMPLATE_ESCAPE_HTML);
	assert_int_equal(
	    template_escape_for("text/plain"), TEMPLATE_ESCAPE_NONE);
	alert_free(a);
}

static json_t *
preset(enum payload_preset p, const struct alert *a, const char *topic)
{
	const char *ct;
	char *body = payload_render_preset(p, a, "{}", topic, &ct);
	json_t *doc = json_loads(body, 0, NULL);

	assert_non_null(doc);
	assert_string_equal(ct, "application/json");
	free(body);
	return doc;
}

static void
test_presets(void **state)
{
	struct alert *a = sample("@everyone [click](http://evil) *bold*");
	json_t *doc, *v;
	const char *s;
	char *cut;
	enum payload_preset p;

	doc = preset(PAYLOAD_DISCORD, a, NULL);
	/* Mentions never ping; the title is plain embed text. */
	v = json_object_get(json_object_get(doc, "allowed_mentions"), "parse");
	assert_true(json_is_array(v) && json_array_size(v) == 0);
	v = json_array_get(json_object_get(doc, "embeds"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(v, "title")), a->item_title);
	assert_string_equal(
	    json_string_value(json_object_get(v, "url")), a->item_link);
	json_decref(doc);

	doc = preset(PAYLOAD_MATTERMOST, a, NULL);
	s = json_string_value(json_object_get(doc, "text"));
	assert_non_null(strstr(s, "\\@everyone \\[click\\]\\(http"));
	assert_non_null(strstr(s, "](https://example.org/1?a=1&b=2)"));
	json_decref(doc);

	doc = preset(PAYLOAD_TEAMS, a, NULL);
	v = json_object_get(
	    json_array_get(json_object_get(doc, "attachments"), 0), "content");
	assert_string_equal(
	    json_string_value(json_object_get(v, "type")), "AdaptiveCard");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(v, "actions"), 0), "url")),
	    a->item_link);
	json_decref(doc);

	doc = preset(PAYLOAD_NTFY, a, "news");
	assert_string_equal(
	    json_string_value(json_object_get(doc, "topic")), "news");
	assert_int_equal(
	    json_integer_value(json_object_get(doc, "priority")), 5);
	assert_string_equal(
	    json_string_value(json_object_get(doc, "click")), a->item_link);
	json_decref(doc);

	/* A javascript: link is never made a link. */
	free(a->item_link);
	a->item_link = strdup("javascript:alert(1)");
	doc = preset(PAYLOAD_SLACK, a, NULL);
	s = json_string_value(json_object_get(doc, "text"));
	assert_null(strstr(s, "javascript"));
	json_decref(doc);

	assert_int_equal(payload_preset_parse("teams", &p), 0);
	assert_int_equal(p, PAYLOAD_TEAMS);
	assert_int_equal(payload_preset_parse("Teams", &p), -1);
	cut = payload_cut("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3);
	assert_string_equal(cut, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	free(cut);
	cut = payload_cut("abc", 3);
	assert_string_equal(cut, "abc");
	free(cut);
	alert_free(a);
}

/* Decode a header's RFC 2047 B words (as email_encode_header writes). */
static char *
decode_words(const char *h)
{
	struct buf b;
	unsigned char out[256];
	const char *p = h, *end;
	int n, pad;

	buf_init(&b, 1 << 20);
	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		p += 10;
		end = strstr(p, "?=");
		assert_non_null(end);
		assert_true(end - p <= 60);
		n = EVP_DecodeBlock(
		    out, (const unsigned char *)p, (int)(end - p));
		pad = (end[-1] == '=') + (end[-2] == '=');
		buf_add(&b, out, (size_t)(n - pad));
		p = end + 2;
	}
	return buf_take(&b, NULL);
}

static void
test_email_subject(void **state)
{
	char *enc, *dec, *p;

	enc = email_encode_header("Plain ASCII subject");
	assert_string_equal(enc, "Plain ASCII subject");
	free(enc);
	/* Non-ASCII: encoded words of at most 75 characters, folded, and
	 * never splitting a character. */
	enc = email_encode_header("\xd8\xa7\xd9\x84\xd8\xb3\xd9\x88\xd8\xaf"
				  "\xd8\xa7\xd9\x86\xd9\x8a \xc3\xa9\xc3\xa9 "
				  "coalition talks in Baghdad today");
	for (p = enc; *p != '\0'; p += strcspn(p, "\r"), p += *p ? 3 : 0)
		assert_true(strcspn(p, "\r") <= 75);
	dec = decode_words(enc);
	assert_string_equal(dec,
	    "\xd8\xa7\xd9\x84\xd8\xb3\xd9\x88\xd8\xaf"
	    "\xd8\xa7\xd9\x86\xd9\x8a \xc3\xa9\xc3\xa9 "
	    "coalition talks in Baghdad today");
	free(enc);
	free(dec);
	/* CR/LF become spaces, inside an encoded subject. */
	enc = email_encode_header("x\r\nBcc: evil@example.org");
	assert_null(strstr(enc, "\r\nBcc"));
	dec = decode_words(enc);
	assert_string_equal(dec, "x  Bcc: evil@example.org");
	free(enc);
	free(dec);
	/* "=?" in ASCII text would be read as a word: encoded. */
	enc = email_encode_header("=?UTF-8?B?Zm9v?=");
	dec = decode_words(enc);
	assert_string_equal(dec, "=?UTF-8?B?Zm9v?=");
	free(enc);
	free(dec);
}

/* The header lines of MSG: each at most 78 characters (RFC 5322 2.1.1),
 * and one that holds an encoded word at most 76 (RFC 2047 section 2). */
static void
check_header_lines(const char *msg)
{
	const char *line = msg, *end;
	size_t n;

	for (; (end = strstr(line, "\r\n")) != NULL && end > line;
	     line = end + 2) {
		n = (size_t)(end - line);
		if (memmem(line, n, "=?", 2) != NULL && n > 76)
			fail_msg("a line of %zu with encoded words: %.*s", n,
			    (int)n, line);
		if (n > 78)
			fail_msg("a header line of %zu: %.*s", n, (int)n, line);
	}
}

/* A long subject and a long display name, not ASCII: every line of
 * every header fits. */
static void
test_email_header_lines(void **state)
{
	char to0[] = "a@example.org", *to[] = {to0};
	struct buf title;
	struct alert *a;
	char *msg, *dec;
	size_t len, i;

	buf_init(&title, 1 << 20);
	for (i = 0; i < 40; i++)
		buf_addstr(&title, "\xc3\x9c\xd8\xa7 caf\xc3\xa9 ");
	a = sample(buf_str(&title));
	/* a display name that takes more than one encoded word */
	msg = email_compose(a, "ob-1",
	    "\xc3\x9c"
	    "berwachung der Nachrichtenlage, Abteilung f\xc3\xbcr "
	    "Betrieb <fw@example.net>",
	    to, 1, a->item_title, &len);
	check_header_lines(msg);
	dec = decode_words(strstr(msg, "Subject: "));
	assert_memory_equal(dec, buf_str(&title), 100);
	free(dec);
	free(msg);
	alert_free(a);
	buf_free(&title);
}

/* Header injection through the title: one Subject, no Bcc, and the
 * message body intact (test plan row 11). */
static void
test_email_compose(void **state)
{
	static const char *const titles[] = {
	    "Hi\r\nBcc: x@evil.example\r\n.\r\nMAIL FROM:<a@b>",
	    NULL, /* a 10 KB title */
	};
	char to0[] = "a@example.org", to1[] = "B <b@example.org>";
	char *to[] = {to0, to1};
	char big[10241], *msg, *headers, *line, *save = NULL, *dec;
	struct alert *a;
	size_t len, i, subjects, bcc;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (i = 0; i < 2; i++) {
		a = sample(titles[i] != NULL ? titles[i] : big);
		msg = email_compose(a, "ob/1", "FW <fw@example.net>", to, 2,
		    a->item_title, &len);
		assert_int_equal(strlen(msg), len);
		/* No bare LF, no line over 998, no line that is a dot. */
		for (size_t j = 0; j < len; j++)
			if (msg[j] == '\n')
				assert_int_equal(msg[j - 1], '\r');
		headers = strndup(msg, strstr(msg, "\r\n\r\n") - msg);
		subjects = bcc = 0;
		for (line = strtok_r(headers, "\r\n", &save); line != NULL;
		     line = strtok_r(NULL, "\r\n", &save)) {
			assert_true(strlen(line) <= 998);
			assert_string_not_equal(line, ".");
			if (strncmp(line, "Subject:", 8) == 0)
				subjects++;
			if (strncasecmp(line, "Bcc:", 4) == 0)
				bcc++;
			/* Every line is a header or a continuation. */
			assert_true(
			    line[0] == ' ' || strchr(line, ':') != NULL);
		}
		assert_int_equal(subjects, 1);
		assert_int_equal(bcc, 0);
		assert_non_null(strstr(msg,
		    "Message-ID: <feedwatch.ob_2f1@"
		    "example.net>\r\n"));
		assert_non_null(
		    strstr(msg, "Date: Wed, 01 May 2024 12:00:00 +0000\r\n"));
		assert_non_null(strstr(msg, "To: a@example.org,\r\n B <b@"));
		assert_non_null(strstr(msg, "--=_feedwatch_ob_2f1--\r\n"));
		if (titles[i] == NULL) {
			/* Cut to EMAIL_MAX_SUBJECT characters. */
			dec = decode_words(strstr(msg, "Subject: "));
			assert_int_equal(strlen(dec), 199 + 3);
			assert_string_equal(dec + 199, "\xe2\x80\xa6");
			free(dec);
		} else {
			dec = decode_words(strstr(msg, "Subject: "));
			assert_non_null(strstr(dec, "Hi  Bcc: x@evil.example"));
			free(dec);
		}
		free(headers);
		free(msg);
		alert_free(a);
	}
}

static void
test_syslog_format(void **state)
{
	struct alert *a = sample("Evil\" title] with\nnewline \\");
	struct buf b;

	/* a term hit twice is named once */
	alert_add_hit(a, "@sudani", "sudani", "Sudani", "summary", 0, 6,
	    "\xc2\xabSudani\xc2\xbb said");
	buf_init(&b, 1 << 20);
	syslogger_format_5424(&b, a, 28, 1714564800, "host", "fw", 42);
	assert_string_equal(buf_str(&b),
	    "<28>1 2024-05-01T12:00:00Z host fw 42 alert "
	    "[feedwatch@32473 alert=\"a-1\" watchlist=\"iraq\" "
	    "severity=\"critical\" feed=\"Feed\" "
	    "title=\"Evil\\\" title\\] with newline \\\\\" "
	    "link=\"https://example.org/1?a=1&b=2\" terms=\"@sudani\"] "
	    "alert=\"a-1\" watchlist=\"iraq\" severity=\"critical\" "
	    "feed=\"Feed\" title=\"Evil\\\" title] with newline \\\\\" "
	    "link=\"https://example.org/1?a=1&b=2\" terms=\"@sudani\"");
	buf_free(&b);
	alert_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template),
	    cmocka_unit_test(test_presets),
	    cmocka_unit_test(test_email_subject),
	    cmocka_unit_test(test_email_compose),
	    cmocka_unit_test(test_email_header_lines),
	    cmocka_unit_test(test_syslog_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

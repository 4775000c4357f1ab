/*
 * Webhook bodies: presets for Slack, Mattermost, Discord, Microsoft Teams
 * (Workflows, Adaptive Card 1.4) and ntfy (JSON publishing), all built
 * with jansson.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "buf.h"
#include "log.h"
#include "payload.h"
#include "xmalloc.h"

static const struct {
	const char *name;
	enum payload_preset preset;
} payload_presets[] = {
    {"alert", PAYLOAD_ALERT},
    {"discord", PAYLOAD_DISCORD},
    {"mattermost", PAYLOAD_MATTERMOST},
    {"ntfy", PAYLOAD_NTFY},
    {"slack", PAYLOAD_SLACK},
    {"teams", PAYLOAD_TEAMS},
};

int
payload_preset_parse(const char *name, enum payload_preset *out)
{
	size_t i;

	for (i = 0; i < sizeof payload_presets / sizeof payload_presets[0];
	     i++) {
		if (strcmp(payload_presets[i].name, name) == 0) {
			*out = payload_presets[i].preset;
			return 0;
		}
	}
	return -1;
}

char *
payload_cut(const char *text, size_t max)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t chars = 0, i = 0, cut = 0;
	char *out;

	if (max == 0)
		return xstrdup("");
	for (; p[i] != '\0'; i++) {
		if ((p[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1)
			cut = i; /* room for the ellipsis from here */
		if (++chars > max)
			break;
	}
	if (p[i] == '\0')
		return xstrdup(text);
	out = xmalloc(cut + 4);
	memcpy(out, text, cut);
	memcpy(out + cut, "\xe2\x80\xa6", 4); /* U+2026 and the NUL */
	return out;
}

/* Slack mrkdwn: only &, < and > are control characters. */
static void
payload_slack_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '&')
			buf_addstr(b, "&amp;");
		else if (*s == '<')
			buf_addstr(b, "&lt;");
		else if (*s == '>')
			buf_addstr(b, "&gt;");
		else if (*s == '\r' || *s == '\n')
			buf_addc(b, ' ');
		else
			buf_addc(b, *s);
	}
}

/* Markdown (Mattermost, Discord, Teams): backslash before every ASCII
 * punctuation that could start markup; line breaks become spaces. */
static void
payload_md_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			buf_addc(b, ' ');
		else if (strchr("\\`*_{}[]()#+-.!|<>~@&:", *s) != NULL) {
			buf_addc(b, '\\');
			buf_addc(b, *s);
		} else
			buf_addc(b, *s);
	}
}

/* ntfy messages are plain text. */
static void
payload_plain(struct buf *b, const char *s)
{
	buf_addstr(b, s);
}

/* Only http and https links are rendered as links. */
static int
payload_link_ok(const char *link)
{
	size_t i;

	if (link == NULL ||
	    (strncmp(link, "https://", 8) != 0 &&
		strncmp(link, "http://", 7) != 0))
		return 0;
	for (i = 0; link[i] != '\0'; i++)
		if ((unsigned char)link[i] <= ' ' ||
		    strchr("<>|()\"'", link[i]) != NULL)
			return 0;
	return 1;
}

static const char *
payload_title(const struct alert *a)
{
	return a->item_title != NULL ? a->item_title : "(untitled)";
}

static void
payload_terms(struct buf *b, const struct alert *a,
    void (*escape)(struct buf *, const char *))
{
	size_t i;

	for (i = 0; i < a->nhits; i++) {
		if (a->hits[i].term == NULL)
			continue;
		buf_addstr(b, i == 0 ? "" : ", ");
		escape(b, a->hits[i].term);
		if (a->hits[i].field != NULL) {
			buf_addstr(b, " (");
			escape(b, a->hits[i].field);
			buf_addc(b, ')');
		}
	}
}

static char *
payload_summary(const struct alert *a)
{
	return payload_cut(a->item_summary != NULL ? a->item_summary : "",
	    PAYLOAD_MAX_SUMMARY);
}

static json_t *
payload_slack(const struct alert *a)
{
	struct buf b;
	char *summary = payload_summary(a);
	json_t *root;

	buf_init(&b, SIZE_MAX / 2);
	buf_addstr(&b, "*[");
	payload_slack_escape(&b, a->watchlist != NULL ? a->watchlist : "");
	buf_addstr(&b, "]* ");
	if (payload_link_ok(a->item_link)) {
		buf_printf(&b, "<%s|", a->item_link);
		payload_slack_escape(&b, payload_title(a));
		buf_addc(&b, '>');
	} else
		payload_slack_escape(&b, payload_title(a));
	if (a->feed_title != NULL) {
		buf_addstr(&b, "\n_");
		payload_slack_escape(&b, a->feed_title);
		buf_addc(&b, '_');
	}
	if (a->nhits > 0) {
		buf_addstr(&b, "\nMatched: ");
		payload_terms(&b, a, payload_slack_escape);
	}
	if (summary[0] != '\0') {
		buf_addstr(&b, "\n>");
		payload_slack_escape(&b, summary);
	}
	root = json_pack("{s:s, s:b, s:b}", "text", buf_str(&b), "unfurl_links",
	    0, "unfurl_media", 0);
	buf_free(&b);
	free(summary);
	return root;
}

static char *
payload_markdown(const struct alert *a)
{
	struct buf b;
	char *summary = payload_summary(a);

	buf_init(&b, SIZE_MAX / 2);
	buf_addstr(&b, "**[");
	payload_md_escape(&b, a->watchlist != NULL ? a->watchlist : "");
	buf_addstr(&b, "]** ");
	if (payload_link_ok(a->item_link)) {
		buf_addc(&b, '[');
		payload_md_escape(&b, payload_title(a));
		buf_printf(&b, "](%s)", a->item_link);
	} else
		payload_md_escape(&b, payload_title(a));
	if (a->feed_title != NULL) {
		buf_addstr(&b, "\n*");
		payload_md_escape(&b, a->feed_title);
		buf_addc(&b, '*');
	}
	if (a->nhits > 0) {
		buf_addstr(&b, "\nMatched: ");
		payload_terms(&b, a, payload_md_escape);
	}
	if (summary[0] != '\0') {
		buf_addstr(&b, "\n> ");
		payload_md_escape(&b, summary);
	}
	free(summary);
	return buf_take(&b, NULL);
}

static json_t *
payload_discord(const struct alert *a)
{
	struct buf b;
	char *content, *title, *summary, *desc, *footer;
	json_t *root, *embed;

	buf_init(&b, SIZE_MAX / 2);
	buf_addstr(&b, "**[");
	payload_md_escape(&b, a->watchlist != NULL ? a->watchlist : "");
	buf_addstr(&b, "]**");
	if (a->nhits > 0) {
		buf_addstr(&b, " matched ");
		payload_terms(&b, a, payload_md_escape);
	}
	content = payload_cut(buf_str(&b), PAYLOAD_DISCORD_MAX_CONTENT);
	buf_free(&b);
	/* Embed titles are plain text; descriptions are Markdown. */
	title = payload_cut(payload_title(a), PAYLOAD_DISCORD_MAX_TITLE);
	summary = payload_summary(a);
	buf_init(&b, SIZE_MAX / 2);
	payload_md_escape(&b, summary);
	desc = payload_cut(buf_str(&b), PAYLOAD_DISCORD_MAX_DESCRIPTION);
	buf_free(&b);
	embed = json_pack("{s:s}", "title", title);
	if (desc[0] != '\0')
		json_object_set_new(embed, "description", json_string(desc));
	if (payload_link_ok(a->item_link))
		json_object_set_new(embed, "url", json_string(a->item_link));
	if (a->feed_title != NULL) {
		footer = payload_cut(a->feed_title, 2048);
		json_object_set_new(
		    embed, "footer", json_pack("{s:s}", "text", footer));
		free(footer);
	}
	root = json_pack("{s:s, s:[o], s:{s:[]}}", "content", content, "embeds",
	    embed, "allowed_mentions", "parse");
	free(content);
	free(title);
	free(summary);
	free(desc);
	return root;
}

static json_t *
payload_teams(const struct alert *a)
{
	struct buf b;
	char *summary = payload_summary(a);
	json_t *body, *card, *root;

	body = json_array();
	buf_init(&b, SIZE_MAX / 2);
	payload_md_escape(&b, payload_title(a));
	json_array_append_new(body,
	    json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "TextBlock", "text",
		buf_str(&b), "weight", "Bolder", "size", "Medium", "wrap", 1));
	buf_reset(&b);
	buf_addc(&b, '[');
	payload_md_escape(&b, a->watchlist != NULL ? a->watchlist : "");
	buf_addstr(&b, "] ");
	payload_md_escape(&b, a->feed_title != NULL ? a->feed_title : "");
	if (a->nhits > 0) {
		buf_addstr(&b, " \xe2\x80\x94 matched ");
		payload_terms(&b, a, payload_md_escape);
	}
	json_array_append_new(body,
	    json_pack("{s:s, s:s, s:b, s:b}", "type", "TextBlock", "text",
		buf_str(&b), "isSubtle", 1, "wrap", 1));
	if (summary[0] != '\0') {
		buf_reset(&b);
		payload_md_escape(&b, summary);
		json_array_append_new(body,
		    json_pack("{s:s, s:s, s:b}", "type", "TextBlock", "text",
			buf_str(&b), "wrap", 1));
	}
	buf_free(&b);
	card = json_pack("{s:s, s:s, s:s, s:o}", "$schema",
	    "http://adaptivecards.io/schemas/adaptive-card.json", "type",
	    "AdaptiveCard", "version", "1.4", "body", body);
	if (payload_link_ok(a->item_link))
		json_object_set_new(card, "actions",
		    json_pack("[{s:s, s:s, s:s}]", "type", "Action.OpenUrl",
			"title", "Open", "url", a->item_link));
	root = json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message",
	    "attachments", "contentType",
	    "application/vnd.microsoft.card.adaptive", "contentUrl", "content",
	    card);
	free(summary);
	return root;
}

static json_t *
payload_ntfy(const struct alert *a, const char *topic)
{
	static const int priorities[ALERT_NSEVERITIES] = {2, 3, 3, 4, 5};
	struct buf b;
	char *summary = payload_summary(a), *title;
	json_t *root;

	buf_init(&b, SIZE_MAX / 2);
	buf_printf(&b, "[%s] %s", a->watchlist != NULL ? a->watchlist : "",
	    payload_title(a));
	title = payload_cut(buf_str(&b), 250);
	buf_reset(&b);
	if (summary[0] != '\0')
		buf_addstr(&b, summary);
	if (a->nhits > 0) {
		buf_addstr(&b, b.len > 0 ? "\nMatched: " : "Matched: ");
		payload_terms(&b, a, payload_plain);
	}
	if (b.len == 0)
		buf_addstr(&b, payload_title(a));
	root = json_pack("{s:s, s:s, s:s, s:i}", "topic",
	    topic != NULL ? topic : "", "title", title, "message", buf_str(&b),
	    "priority", priorities[alert_severity_of(a)]);
	if (a->watchlist != NULL)
		json_object_set_new(
		    root, "tags", json_pack("[s]", a->watchlist));
	if (payload_link_ok(a->item_link))
		json_object_set_new(root, "click", json_string(a->item_link));
	buf_free(&b);
	free(title);
	free(summary);
	return root;
}

char *
payload_render_preset(enum payload_preset preset, const struct alert *a,
    const char *payload_json, const char *topic, const char **content_type)
{
	json_t *root = NULL;
	char *out, *md;

	*content_type = "application/json";
	switch (preset) {
	case PAYLOAD_ALERT:
		return xstrdup(payload_json);
	case PAYLOAD_SLACK:
		root = payload_slack(a);
		break;
	case PAYLOAD_MATTERMOST:
		md = payload_markdown(a);
		root = json_pack("{s:s}", "text", md);
		free(md);
		break;
	case PAYLOAD_DISCORD:
		root = payload_discord(a);
		break;
	case PAYLOAD_TEAMS:
		root = payload_teams(a);
		break;
	case PAYLOAD_NTFY:
		root = payload_ntfy(a, topic);
		break;
	}
	/* json_pack fails only on invalid UTF-8, which the alert record
	 * never holds (alert_from_json read it with jansson). */
	if (root == NULL)
		return xstrdup(payload_json);
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (out == NULL)
		fatalx("payload_render_preset: out of memory");
	return out;
}

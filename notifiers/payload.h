/*
 * Webhook bodies: the alert JSON itself (the default), a preset for a
 * chat or push service, or a user template. Presets are built with the
 * JSON library, and feed text in them is escaped for the service's markup
 * (Slack mrkdwn, Markdown) and cut to the service's limits, so a title
 * cannot ping @everyone, forge a link or overflow a message.
 *
 *	preset      body
 *	(none)      the alert document (docs/alert-schema.json)
 *	slack       {"text": mrkdwn}                   Slack incoming webhook
 *	mattermost  {"text": markdown}                 Mattermost incoming webhook
 *	discord     {"content", "embeds", "allowed_mentions": {"parse": []}}
 *	teams       an Adaptive Card message            Teams Workflows webhook
 *	ntfy        {"topic", "title", "message", "click", "priority", "tags"}
 */
#ifndef PAYLOAD_H
#define PAYLOAD_H

#include <stddef.h>

struct alert;
struct template;

enum payload_preset {
	PAYLOAD_ALERT,
	PAYLOAD_SLACK,
	PAYLOAD_MATTERMOST,
	PAYLOAD_DISCORD,
	PAYLOAD_TEAMS,
	PAYLOAD_NTFY,
};

/* Characters kept of the summary in chat presets. */
#define PAYLOAD_MAX_SUMMARY 500
/* Discord's limits (characters): message content, embed title, text. */
#define PAYLOAD_DISCORD_MAX_CONTENT 2000
#define PAYLOAD_DISCORD_MAX_TITLE 256
#define PAYLOAD_DISCORD_MAX_DESCRIPTION 4096

/* 0, or -1 when name is not a preset. */
int payload_preset_parse(const char *name, enum payload_preset *);
/* The body of a preset, owned by the caller; *content_type is static.
 * topic is the ntfy topic (NULL for other presets). */
char *payload_render_preset(enum payload_preset, const struct alert *,
    const char *payload_json, const char *topic, const char **content_type);
/* text cut to at most max characters (code points), "…" marking a cut;
 * owned by the caller. */
char *payload_cut(const char *text, size_t max);

#endif

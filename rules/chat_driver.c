/*
 * chat_driver.c - the table of webhook drivers and what they share (see
 * chat_driver.h).
 *
 * cJSON builds every payload, so no subject, body or name from outside
 * can break out of its string.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_driver.h"
#include "strbuf.h"

/* The services a chat-webhooks entry may name: one row per driver. */
static const struct chat_driver *const webhook_drivers[] = {
	&chat_slack_webhook,
	&chat_mattermost,
	&chat_rocketchat,
	&chat_teams,
};
#define N_WEBHOOK_DRIVERS (sizeof(webhook_drivers) / sizeof(webhook_drivers[0]))

const struct chat_driver *
chat_driver_find(const char *service)
{
	for (size_t i = 0; service != NULL && i < N_WEBHOOK_DRIVERS; i++) {
		if (strcmp(webhook_drivers[i]->name, service) == 0)
			return webhook_drivers[i];
	}
	return NULL;
}

void
chat_driver_names(struct strbuf *out)
{
	for (size_t i = 0; i < N_WEBHOOK_DRIVERS; i++)
		strbuf_addf(out, "%s\"%s\"", i ? ", " : "", webhook_drivers[i]->name);
}

void
chat_printable(char *why, size_t whylen, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; s != NULL && i < len && n + 1 < whylen; i++) {
		if (s[i] > ' ' && s[i] < 0x7F)
			why[n++] = s[i];
	}
	why[n] = '\0';
}

enum chat_outcome
chat_classify_status(const struct chat_answer *a, char *why, size_t whylen)
{
	char error[64];

	if (a->status == 0 || a->status >= 500) {
		snprintf(why, whylen, a->status ? "HTTP %ld" : "no answer", a->status);
		return CHAT_RETRY;
	}
	if (a->status == 429) {
		snprintf(why, whylen, "rate limited");
		return CHAT_RATE_LIMITED;
	}
	chat_printable(error, sizeof(error), a->body, a->len);
	snprintf(why, whylen, "HTTP %ld%s%s", a->status, *error ? " " : "", error);
	return CHAT_REJECTED;
}

long
chat_rate_wait_retry_after(const struct chat_answer *a, long long now_ms)
{
	(void)now_ms;
	return a->retry_after >= 0 ? a->retry_after : -1;
}

/* Add s to out, escaped as Slack asks if escape. */
static void
add_text(struct strbuf *out, const char *s, bool escape)
{
	for (; *s; s++) {
		if (escape && *s == '&')
			strbuf_adds(out, "&amp;");
		else if (escape && *s == '<')
			strbuf_adds(out, "&lt;");
		else if (escape && *s == '>')
			strbuf_adds(out, "&gt;");
		else
			strbuf_addc(out, *s);
	}
}

/* Add key to obj with the value s, escaped as Slack asks if escape. */
static void
add_string(cJSON *obj, const char *key, const char *s, bool escape)
{
	struct strbuf value = STRBUF_INIT;

	add_text(&value, s, escape);
	cJSON_AddStringToObject(obj, key, strbuf_str(&value));
	strbuf_free(&value);
}

char *
chat_slack_style_payload(const struct slack_post *post, const char *channel, bool escape)
{
	cJSON *root = cJSON_CreateObject(), *attachments, *attachment;
	struct strbuf text = STRBUF_INIT;
	char *json;

	if (post->style == SLACK_FULL) {
		strbuf_adds(&text, "Message from: ");
		add_text(&text, post->from, escape);
	}
	if (channel != NULL)
		cJSON_AddStringToObject(root, "channel", channel);
	cJSON_AddStringToObject(root, "text", strbuf_str(&text));
	attachments = cJSON_AddArrayToObject(root, "attachments");
	attachment = cJSON_CreateObject();
	add_string(attachment, "fallback", post->subject, escape);
	add_string(attachment, "title", post->subject, escape);
	add_string(attachment, "text", post->text, escape);
	cJSON_AddStringToObject(attachment, "color", slack_color(post->event));
	cJSON_AddItemToArray(attachments, attachment);
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	strbuf_free(&text);
	if (json == NULL)
		abort();		/* only on out of memory */
	return json;
}

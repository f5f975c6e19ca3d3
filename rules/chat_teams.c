/*
 * chat_teams.c - Microsoft Teams through a Workflows (Power Automate)
 * webhook, "When a Teams webhook request is received", which posts an
 * Adaptive Card to the channel or chat the flow was made for.  The old
 * Office 365 connector webhooks (MessageCard) are retired.
 *
 * The body is a message with one Adaptive Card attachment
 * (https://learn.microsoft.com/en-us/connectors/teams/#microsoft-teams-webhook):
 *   {"type": "message", "attachments": [{"contentType":
 *    "application/vnd.microsoft.card.adaptive", "contentUrl": null,
 *    "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
 *    "type": "AdaptiveCard", "version": "1.4", "body": [...]}}]}
 * The flow's trigger answers 202 Accepted with an empty body; errors are
 * JSON, {"error": {"code": "...", "message": "..."}}, and throttling is a
 * 429 with Retry-After
 * (https://learn.microsoft.com/en-us/power-automate/limits-and-config).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_driver.h"

/* Adaptive Cards have named colours, not RGB: the event's, as Slack's colour. */
static const char *
card_color(enum gocd_event event)
{
	switch (event) {
	case EVENT_BREAKS:
	case EVENT_FAILS:
		return "Attention";
	case EVENT_PASSES:
	case EVENT_FIXED:
		return "Good";
	case EVENT_CANCELLED:
		return "Warning";
	default:
		return "Accent";
	}
}

static cJSON *
text_block(cJSON *body, const char *text)
{
	cJSON *block = cJSON_CreateObject();

	cJSON_AddStringToObject(block, "type", "TextBlock");
	cJSON_AddStringToObject(block, "text", text);
	cJSON_AddBoolToObject(block, "wrap", 1);
	cJSON_AddItemToArray(body, block);
	return block;
}

static char *
payload(const struct slack_post *post, const char *channel)
{
	cJSON *root = cJSON_CreateObject(), *attachments, *attachment, *card, *body, *title;
	char *json;

	(void)channel;		/* the flow says where the card goes */
	cJSON_AddStringToObject(root, "type", "message");
	attachments = cJSON_AddArrayToObject(root, "attachments");
	attachment = cJSON_CreateObject();
	cJSON_AddStringToObject(attachment, "contentType",
	    "application/vnd.microsoft.card.adaptive");
	cJSON_AddNullToObject(attachment, "contentUrl");
	card = cJSON_AddObjectToObject(attachment, "content");
	cJSON_AddStringToObject(card, "$schema",
	    "http://adaptivecards.io/schemas/adaptive-card.json");
	cJSON_AddStringToObject(card, "type", "AdaptiveCard");
	cJSON_AddStringToObject(card, "version", "1.4");
	/* what a notification shows when the card cannot be */
	cJSON_AddStringToObject(card, "fallbackText", post->subject);
	body = cJSON_AddArrayToObject(card, "body");
	title = text_block(body, post->subject);
	cJSON_AddStringToObject(title, "weight", "Bolder");
	cJSON_AddStringToObject(title, "size", "Medium");
	cJSON_AddStringToObject(title, "color", card_color(post->event));
	if (post->style == SLACK_FULL && post->from[0] != '\0') {
		struct strbuf from = STRBUF_INIT;

		strbuf_addf(&from, "Message from: %s", post->from);
		cJSON_AddBoolToObject(text_block(body, from.data), "isSubtle", 1);
		strbuf_free(&from);
	}
	if (post->text[0] != '\0')
		text_block(body, post->text);
	cJSON_AddItemToArray(attachments, attachment);
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (json == NULL)
		abort();		/* only on out of memory */
	return json;
}

static enum chat_outcome
classify(const struct chat_answer *a, char *why, size_t whylen)
{
	enum chat_outcome outcome;
	cJSON *root;
	const char *code;

	if (a->status / 100 == 2)
		return CHAT_SENT;
	outcome = chat_classify_status(a, why, whylen);
	if (outcome != CHAT_REJECTED)
		return outcome;
	root = cJSON_ParseWithLength(a->body ? a->body : "", a->body ? a->len : 0);
	code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "error"), "code"));
	if (code != NULL) {
		char printable[128];

		chat_printable(printable, sizeof(printable), code, strlen(code));
		snprintf(why, whylen, "HTTP %ld %s", a->status, printable);
	}
	cJSON_Delete(root);
	return outcome;
}

const struct chat_driver chat_teams = {
	.name = "teams",
	.payload = payload,
	.classify = classify,
	.rate_wait = chat_rate_wait_retry_after,
};

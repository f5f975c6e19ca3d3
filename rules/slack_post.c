/*
 * slack_post.c - Slack payloads and answers (see slack_post.h).
 *
 * cJSON builds the JSON, so no subject, body or name from outside can
 * break out of its string.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slack_post.h"
#include "strbuf.h"
#include "xalloc.h"

const char *
slack_color(enum gocd_event event)
{
	switch (event) {
	case EVENT_BREAKS:
	case EVENT_FAILS:
		return "#D50200";
	case EVENT_PASSES:
	case EVENT_FIXED:
		return "#2FA44F";
	case EVENT_CANCELLED:
		return "#DE9E31";
	default:
		return "#4ABCF9";
	}
}

char *
slack_payload(const struct slack_post *post)
{
	cJSON *root = cJSON_CreateObject(), *attachments, *attachment;
	struct strbuf text = STRBUF_INIT;
	char *json;

	if (post->style == SLACK_FULL)
		strbuf_addf(&text, "Message from: %s", post->from);
	cJSON_AddStringToObject(root, "channel", post->channel);
	cJSON_AddStringToObject(root, "text", strbuf_str(&text));
	attachments = cJSON_AddArrayToObject(root, "attachments");
	attachment = cJSON_CreateObject();
	cJSON_AddStringToObject(attachment, "title", post->subject);
	cJSON_AddStringToObject(attachment, "text", post->text);
	cJSON_AddStringToObject(attachment, "color", slack_color(post->event));
	cJSON_AddItemToArray(attachments, attachment);
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	strbuf_free(&text);
	if (json == NULL)
		abort();		/* only on out of memory */
	return json;
}

void
slack_post_free(struct slack_post *post)
{
	if (post == NULL)
		return;
	free(post->channel);
	free(post->subject);
	free(post->from);
	free(post->text);
	free(post->queue_id);
	free(post);
}

/* Copy at most whylen-1 printable ASCII characters of s (len bytes). */
static void
printable(char *why, size_t whylen, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < whylen; i++) {
		if (s[i] > ' ' && s[i] < 0x7F)
			why[n++] = s[i];
	}
	why[n] = '\0';
}

static enum slack_outcome
classify_api(const char *body, size_t len, char *why, size_t whylen)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	const char *error = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(root, "error"));
	enum slack_outcome outcome = SLACK_SENT;

	if (!cJSON_IsBool(ok)) {
		snprintf(why, whylen, "unexpected answer (not Slack's JSON)");
		outcome = SLACK_REJECTED;
	} else if (cJSON_IsFalse(ok)) {
		printable(why, whylen, error ? error : "unknown_error",
		    strlen(error ? error : "unknown_error"));
		outcome = SLACK_REJECTED;
	}
	cJSON_Delete(root);
	return outcome;
}

/*
 * Slack's webhooks answer "ok", or an error code in plain text such as
 * "invalid_payload"; Mattermost and Rocket.Chat answer "ok", JSON or
 * nothing on success.  A bare lower-case word other than "ok" is an error.
 */
static enum slack_outcome
classify_webhook(const char *body, size_t len, char *why, size_t whylen)
{
	size_t start = 0, end = len;
	bool word = true;

	while (start < end && (body[start] == ' ' || body[start] == '\n' || body[start] == '\r'))
		start++;
	while (end > start && (body[end - 1] == ' ' || body[end - 1] == '\n' ||
	    body[end - 1] == '\r'))
		end--;
	for (size_t i = start; i < end && word; i++)
		word = (body[i] >= 'a' && body[i] <= 'z') || body[i] == '_';
	if (!word || end == start || (end - start == 2 && memcmp(body + start, "ok", 2) == 0))
		return SLACK_SENT;
	printable(why, whylen, body + start, end - start);
	return SLACK_REJECTED;
}

enum slack_outcome
slack_classify(long status, const char *body, size_t len, bool webhook,
    char *why, size_t whylen)
{
	why[0] = '\0';
	if (status == 0 || status >= 500) {
		snprintf(why, whylen, status ? "HTTP %ld" : "no answer", status);
		return SLACK_RETRY;
	}
	if (status == 429) {
		snprintf(why, whylen, "rate limited");
		return SLACK_RATE_LIMITED;
	}
	if (status / 100 != 2) {
		char error[64];

		/* webhooks answer "invalid_payload", "channel_not_found", ... */
		printable(error, sizeof(error), body ? body : "", body ? len : 0);
		snprintf(why, whylen, "HTTP %ld%s%s", status, *error ? " " : "", error);
		return SLACK_REJECTED;
	}
	if (webhook)
		return classify_webhook(body ? body : "", body ? len : 0, why, whylen);
	return classify_api(body ? body : "", body ? len : 0, why, whylen);
}

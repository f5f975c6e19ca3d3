/*
 * chat_rocketchat.c - Rocket.Chat incoming webhooks.
 *
 * Rocket.Chat takes Slack's body (text and attachments with title, text
 * and color).  Since 6.3.0 a body with "channel" (or "roomId") is
 * refused, 400 {"success": false, "error": "overriding destination
 * channel is disabled for this integration"}, unless the admin enabled
 * the override (apps/meteor/app/integrations/server/api/api.ts,
 * executeIntegrationRest): the hook's own channel is where we post, so
 * we send none.  Success is 200 {"success": true}.  The API rate limiter
 * (apps/meteor/app/api/server/ApiClass.ts, enforceRateLimit) answers
 * 429 with X-RateLimit-Reset, the end of the window in milliseconds
 * since the epoch, and no Retry-After.  Rocket.Chat does not read Slack's
 * "<!channel>" markup, so the text goes as it is (not entity-escaped).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "chat_driver.h"

/* Longest wait taken from X-RateLimit-Reset: a bad clock must not park a post. */
#define RESET_WAIT_MAX 3600

static char *
payload(const struct slack_post *post, const char *channel)
{
	(void)channel;		/* the integration's own channel */
	return chat_slack_style_payload(post, NULL, false);
}

static enum chat_outcome
classify(const struct chat_answer *a, char *why, size_t whylen)
{
	cJSON *root = cJSON_ParseWithLength(a->body ? a->body : "", a->body ? a->len : 0);
	const cJSON *success = cJSON_GetObjectItemCaseSensitive(root, "success");
	const char *error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "error"));
	enum chat_outcome outcome;

	if (a->status / 100 == 2 && !cJSON_IsFalse(success)) {
		cJSON_Delete(root);
		return CHAT_SENT;
	}
	outcome = a->status / 100 == 2 ? CHAT_REJECTED : chat_classify_status(a, why, whylen);
	if (outcome == CHAT_REJECTED && error != NULL) {
		char text[160];

		/* the error is a sentence here: keep its spaces, drop the rest */
		size_t n = 0;

		for (size_t i = 0; error[i] && n + 1 < sizeof(text); i++) {
			if (error[i] >= ' ' && error[i] < 0x7F && error[i] != '"')
				text[n++] = error[i] == ' ' ? '_' : error[i];
		}
		text[n] = '\0';
		snprintf(why, whylen, "HTTP %ld %s", a->status, text);
	} else if (outcome == CHAT_REJECTED && a->status / 100 == 2) {
		snprintf(why, whylen, "HTTP %ld success=false", a->status);
	}
	cJSON_Delete(root);
	return outcome;
}

static long
rate_wait(const struct chat_answer *a, long long now_ms)
{
	long long ms;

	if (a->retry_after >= 0)
		return a->retry_after;
	if (a->ratelimit_reset < 0)
		return -1;
	ms = a->ratelimit_reset - now_ms;
	if (ms <= 0)
		return 0;
	if (ms / 1000 >= RESET_WAIT_MAX)
		return -1;	/* not a time we believe: back off instead */
	return (long)((ms + 999) / 1000);
}

const struct chat_driver chat_rocketchat = {
	.name = "rocketchat",
	.payload = payload,
	.classify = classify,
	.rate_wait = rate_wait,
};

/*
 * chat_mattermost.c - Mattermost incoming webhooks.
 *
 * Mattermost takes Slack's body (text and attachments).  A hook posts to
 * the channel it was made for; a "channel" in the body overrides that
 * unless the hook is locked to its channel, when Mattermost answers 403
 * (server/channels/app/webhook.go, HandleIncomingWebhook), so we send
 * none.  Success is 200 text/plain "ok" (server/channels/web/webhook.go,
 * incomingWebhook); errors are an AppError as JSON, {"id":
 * "web.incoming_webhook.invalid.app_error", "message": "...",
 * "status_code": 400, ...}.  Its rate limiter (server/channels/app/
 * ratelimit.go) answers 429 with Retry-After and X-RateLimit-Reset, both
 * in seconds.  Mattermost reads Slack's markup in text, title and
 * attachment text, "<!channel>" becoming "@channel" (server/channels/app/
 * slack.go, ProcessSlackText and expandAnnouncement), so what comes from
 * mail is escaped as for Slack; its Markdown shows &lt; as "<".
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "chat_driver.h"

static char *
payload(const struct slack_post *post, const char *channel)
{
	(void)channel;		/* the hook's own channel */
	return chat_slack_style_payload(post, NULL, true);
}

static enum chat_outcome
classify(const struct chat_answer *a, char *why, size_t whylen)
{
	enum chat_outcome outcome = chat_classify_status(a, why, whylen);
	cJSON *root;
	const char *id;

	if (a->status / 100 == 2)
		return CHAT_SENT;
	if (outcome != CHAT_REJECTED)
		return outcome;
	/* the AppError's id says more than its translated message */
	root = cJSON_ParseWithLength(a->body ? a->body : "", a->body ? a->len : 0);
	id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "id"));
	if (id != NULL) {
		char printable[128];

		chat_printable(printable, sizeof(printable), id, strlen(id));
		snprintf(why, whylen, "HTTP %ld %s", a->status, printable);
	}
	cJSON_Delete(root);
	return outcome;
}

static long
rate_wait(const struct chat_answer *a, long long now_ms)
{
	(void)now_ms;
	if (a->retry_after >= 0)
		return a->retry_after;
	return a->ratelimit_reset >= 0 && a->ratelimit_reset < 86400 ?
	    (long)a->ratelimit_reset : -1;
}

const struct chat_driver chat_mattermost = {
	.name = "mattermost",
	.payload = payload,
	.classify = classify,
	.rate_wait = rate_wait,
};

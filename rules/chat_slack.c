/*
 * chat_slack.c - the Slack drivers: the Web API's chat.postMessage (with
 * slack-token) and Slack's incoming webhooks.
 *
 * chat.postMessage answers HTTP 200 with {"ok": false, "error": "..."}
 * for most errors; Slack's docs list internal_error, fatal_error,
 * ratelimited, service_unavailable and request_timeout as worth a retry
 * (https://api.slack.com/methods/chat.postMessage#errors).  Webhooks
 * answer "ok", or an error code in plain text such as "invalid_payload"
 * with a 4xx (https://api.slack.com/messaging/webhooks#handling_errors).
 * A webhook belongs to one channel: it ignores "channel", so we send none.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "chat_driver.h"
#include "slack_lookup.h"
#include "xalloc.h"

/* The errors chat.postMessage's documentation calls transient. */
static const char *const transient_errors[] = {
	"internal_error", "fatal_error", "service_unavailable", "request_timeout",
};

static enum chat_outcome
classify_api(const struct chat_answer *a, char *why, size_t whylen)
{
	cJSON *root;
	const cJSON *ok;
	const char *error;
	enum chat_outcome outcome = CHAT_SENT;

	if (a->status / 100 != 2)
		return chat_classify_status(a, why, whylen);
	root = cJSON_ParseWithLength(a->body ? a->body : "", a->body ? a->len : 0);
	ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "error"));
	if (!cJSON_IsBool(ok)) {
		snprintf(why, whylen, "unexpected answer (not Slack's JSON)");
		outcome = CHAT_REJECTED;
	} else if (cJSON_IsFalse(ok)) {
		if (error == NULL)
			error = "unknown_error";
		chat_printable(why, whylen, error, strlen(error));
		outcome = CHAT_REJECTED;
		if (strcmp(error, "ratelimited") == 0)
			outcome = CHAT_RATE_LIMITED;
		for (size_t i = 0; i < sizeof(transient_errors) / sizeof(transient_errors[0]); i++) {
			if (strcmp(error, transient_errors[i]) == 0)
				outcome = CHAT_RETRY;
		}
	}
	cJSON_Delete(root);
	return outcome;
}

/*
 * A webhook's 2xx answer is "ok"; an answer that is a bare lower-case
 * word other than "ok" is an error code even with a 2xx.
 */
static enum chat_outcome
classify_webhook(const struct chat_answer *a, char *why, size_t whylen)
{
	const char *body = a->body ? a->body : "";
	size_t start = 0, end = a->body ? a->len : 0;
	bool word = true;

	if (a->status / 100 != 2)
		return chat_classify_status(a, why, whylen);
	while (start < end && strchr(" \r\n", body[start]) != NULL && body[start])
		start++;
	while (end > start && strchr(" \r\n", body[end - 1]) != NULL && body[end - 1])
		end--;
	for (size_t i = start; i < end && word; i++)
		word = (body[i] >= 'a' && body[i] <= 'z') || body[i] == '_';
	if (!word || end == start || (end - start == 2 && memcmp(body + start, "ok", 2) == 0))
		return CHAT_SENT;
	chat_printable(why, whylen, body + start, end - start);
	return CHAT_REJECTED;
}

static char *
api_payload(const struct slack_post *post, const char *channel)
{
	return chat_slack_style_payload(post, channel, true);
}

static char *
webhook_payload(const struct slack_post *post, const char *channel)
{
	(void)channel;		/* a Slack app's webhook posts to its own channel */
	return chat_slack_style_payload(post, NULL, true);
}

const struct chat_driver chat_slack_api = {
	.name = "slack-api",
	.payload = api_payload,
	.classify = classify_api,
	.rate_wait = chat_rate_wait_retry_after,
};

const struct chat_driver chat_slack_webhook = {
	.name = "slack",
	.payload = webhook_payload,
	.classify = classify_webhook,
	.rate_wait = chat_rate_wait_retry_after,
};

/* The Web API's own verdict on a lookup that came back 2xx. */
static enum slack_lookup
lookup_error(long status, const cJSON *root, char *why, size_t whylen)
{
	const char *error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "error"));
	struct chat_answer a = { .status = status };
	enum chat_outcome o;

	if (status / 100 != 2) {
		o = chat_classify_status(&a, why, whylen);
		return o == CHAT_REJECTED ? SLACK_LOOKUP_FAILED : SLACK_LOOKUP_RETRY;
	}
	if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(root, "ok"))) {
		snprintf(why, whylen, "unexpected answer (not Slack's JSON)");
		return SLACK_LOOKUP_FAILED;
	}
	if (error == NULL)
		error = "unknown_error";
	chat_printable(why, whylen, error, strlen(error));
	if (strcmp(error, "users_not_found") == 0)
		return SLACK_LOOKUP_MISSING;
	if (strcmp(error, "ratelimited") == 0)
		return SLACK_LOOKUP_RETRY;
	for (size_t i = 0; i < sizeof(transient_errors) / sizeof(transient_errors[0]); i++) {
		if (strcmp(error, transient_errors[i]) == 0)
			return SLACK_LOOKUP_RETRY;
	}
	return SLACK_LOOKUP_FAILED;
}

/* A user ID as Slack writes them: letters and digits. */
static bool
is_user_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n <= 32 && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

enum slack_lookup
slack_lookup_email_answer(long status, const char *body, size_t len, char **id,
    char *why, size_t whylen)
{
	cJSON *root = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
	const char *found = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "user"), "id"));
	enum slack_lookup result;

	*id = NULL;
	if (status / 100 == 2 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "ok")) &&
	    is_user_id(found)) {
		*id = xstrdup(found);
		result = SLACK_LOOKUP_FOUND;
	} else {
		result = lookup_error(status, root, why, whylen);
	}
	cJSON_Delete(root);
	return result;
}

enum slack_lookup
slack_lookup_list_answer(long status, const char *body, size_t len, const char *name,
    char **id, char **cursor, char *why, size_t whylen)
{
	cJSON *root = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
	const cJSON *member;
	const char *next;
	enum slack_lookup result = SLACK_LOOKUP_MISSING;

	*id = *cursor = NULL;
	if (status / 100 != 2 || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "ok"))) {
		result = lookup_error(status, root, why, whylen);
		cJSON_Delete(root);
		return result;
	}
	cJSON_ArrayForEach(member, cJSON_GetObjectItemCaseSensitive(root, "members")) {
		const char *uid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(member, "id"));
		const char *uname = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(member, "name"));
		const char *display = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(member, "profile"), "display_name"));

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(member, "deleted")) ||
		    !is_user_id(uid))
			continue;
		if ((uname && strcmp(uname, name) == 0) || (display && strcmp(display, name) == 0)) {
			*id = xstrdup(uid);
			cJSON_Delete(root);
			return SLACK_LOOKUP_FOUND;
		}
	}
	next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "response_metadata"), "next_cursor"));
	if (next != NULL && next[0] != '\0' && strlen(next) < 512) {
		*cursor = xstrdup(next);
		result = SLACK_LOOKUP_MORE;
	} else {
		snprintf(why, whylen, "users_not_found");
	}
	cJSON_Delete(root);
	return result;
}

/*
 * fuzz_slack.c - Slack's answers through slack_classify, and posts built
 * from fuzzer pieces through slack_payload.
 *
 * Input: byte 0 picks the HTTP status, byte 1 holds flags (webhook,
 * style, event, NULL body), byte 2 the size of the reason buffer; the
 * rest is the answer body, and, split at NUL bytes, the post's channel,
 * subject, From, text and queue id.
 *
 * Invariants:
 *   - classify: the outcome follows the status class (0 and 5xx retry,
 *     429 rate-limited, other non-2xx rejected); the reason fits its
 *     buffer and is printable ASCII only;
 *   - payload: valid JSON (cJSON parses it back) whose "channel",
 *     "text" and attachment title/text/color are exactly what went in,
 *     with exactly the documented keys (no injection); no raw control
 *     characters; valid UTF-8 whenever the pieces were.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "slack_post.h"
#include "xalloc.h"

static const long statuses[] = {
	0, 200, 201, 202, 204, 299, 100, 199, 300, 301, 304, 400, 401, 403, 404,
	410, 429, 499, 500, 502, 503, 504, 599, 600, 999, -1, -200, 1,
	LONG_MAX, LONG_MIN,
};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

static void
check_classify(long status, const char *body, size_t len, bool webhook,
    size_t whylen)
{
	char why[257];
	enum slack_outcome o;
	size_t n;

	memset(why, 'X', sizeof(why));
	o = slack_classify(status, body, len, webhook, why, whylen);
	n = strnlen(why, sizeof(why));
	FUZZ_CHECK(n < whylen, "reason of %zu bytes in a buffer of %zu", n, whylen);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(why[i] >= 0x20 && why[i] < 0x7F,
		    "byte 0x%02x in the reason", (unsigned char)why[i]);
	if (status == 0 || status >= 500)
		FUZZ_CHECK(o == SLACK_RETRY, "status %ld: outcome %d", status, (int)o);
	else if (status == 429)
		FUZZ_CHECK(o == SLACK_RATE_LIMITED, "status 429: outcome %d", (int)o);
	else if (status / 100 != 2)
		FUZZ_CHECK(o == SLACK_REJECTED, "status %ld: outcome %d", status, (int)o);
	else
		FUZZ_CHECK(o == SLACK_SENT || o == SLACK_REJECTED, "2xx: outcome %d", (int)o);
}

/* The next NUL-terminated piece of buf (len bytes), or "" when none. */
static const char *
next_piece(const char **p, const char *end)
{
	const char *s = *p;

	if (s >= end)
		return "";
	*p = s + strlen(s) + 1;
	return s;
}

static const char *
string_of(const cJSON *obj, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));

	FUZZ_CHECK(s != NULL, "payload: no string \"%s\"", key);
	return s;
}

static void
check_payload(const struct slack_post *post)
{
	char *json = slack_payload(post);
	size_t len = strlen(json);
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *attachments, *a;
	bool utf8_in = fuzz_utf8_valid(post->channel, strlen(post->channel)) &&
	    fuzz_utf8_valid(post->subject, strlen(post->subject)) &&
	    fuzz_utf8_valid(post->from, strlen(post->from)) &&
	    fuzz_utf8_valid(post->text, strlen(post->text));

	FUZZ_CHECK(root != NULL && cJSON_IsObject(root), "payload is not JSON: %s", json);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)json[i] >= 0x20, "raw control character in payload");
	FUZZ_CHECK(!utf8_in || fuzz_utf8_valid(json, len), "payload is not UTF-8");
	FUZZ_CHECK(cJSON_GetArraySize(root) == 3, "payload has %d keys",
	    cJSON_GetArraySize(root));
	FUZZ_CHECK(strcmp(string_of(root, "channel"), post->channel) == 0,
	    "channel \"%s\" became \"%s\"", post->channel, string_of(root, "channel"));
	if (post->style == SLACK_FULL) {
		const char *text = string_of(root, "text");

		FUZZ_CHECK(strncmp(text, "Message from: ", 14) == 0 &&
		    strcmp(text + 14, post->from) == 0, "full text \"%s\"", text);
	} else {
		FUZZ_CHECK(strcmp(string_of(root, "text"), "") == 0, "brief post with text");
	}
	attachments = cJSON_GetObjectItemCaseSensitive(root, "attachments");
	FUZZ_CHECK(cJSON_IsArray(attachments) && cJSON_GetArraySize(attachments) == 1,
	    "attachments");
	a = cJSON_GetArrayItem(attachments, 0);
	FUZZ_CHECK(cJSON_IsObject(a) && cJSON_GetArraySize(a) == 3, "attachment");
	FUZZ_CHECK(strcmp(string_of(a, "title"), post->subject) == 0, "title");
	FUZZ_CHECK(strcmp(string_of(a, "text"), post->text) == 0, "attachment text");
	FUZZ_CHECK(strcmp(string_of(a, "color"), slack_color(post->event)) == 0, "color");
	cJSON_Delete(root);
	free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t status_pick = fuzz_take_byte(&data, &size);
	uint8_t flags = fuzz_take_byte(&data, &size);
	size_t whylen = 1 + fuzz_take_byte(&data, &size);	/* 1..256 */
	long status = statuses[status_pick % N_STATUSES];
	bool webhook = flags & 1, null_body = (flags & 0x80) && size == 0;
	char *rest = fuzz_cstring(data, size);
	const char *p = rest, *end = rest + size;
	struct slack_post *post;

	if (status_pick >= 2 * N_STATUSES)	/* and statuses nobody listed */
		status = (long)status_pick * 3 - 200;
	check_classify(status, null_body ? NULL : rest, size, webhook, whylen);

	post = xcalloc(1, sizeof(*post));
	post->channel = xstrdup(next_piece(&p, end));
	post->subject = xstrdup(next_piece(&p, end));
	post->from = xstrdup(next_piece(&p, end));
	post->text = xstrdup(next_piece(&p, end));
	post->queue_id = xstrdup(next_piece(&p, end));
	post->style = (flags & 2) ? SLACK_FULL : SLACK_BRIEF;
	post->event = (enum gocd_event)(((unsigned)flags >> 2) % EVENT_COUNT);
	check_payload(post);
	slack_post_free(post);
	free(rest);
	return 0;
}

/*
 * fuzz_slack.c - chat services' answers through every driver's classify
 * and rate_wait, and posts built from fuzzer pieces through every
 * driver's payload (chat_driver.h); Slack's user lookups' answers too.
 *
 * Input: byte 0 picks the HTTP status, byte 1 holds flags (driver,
 * style, event, NULL body), byte 2 the size of the reason buffer; the
 * rest is the answer body, and, split at NUL bytes, the post's channel,
 * subject, From, text and queue id.
 *
 * Invariants:
 *   - classify: the outcome follows the status class (0 and 5xx retry,
 *     429 rate-limited, other non-2xx rejected); the reason fits its
 *     buffer and is printable ASCII only; rate_wait is -1 or >= 0;
 *   - Slack-style payloads: valid JSON (cJSON parses it back) whose
 *     "channel" (the Web API only: webhooks get none), "text" and
 *     attachment fallback/title/text/color are what went in (with & < >
 *     as entities, but for Rocket.Chat), no '<' from mail left, with
 *     exactly the documented keys (no injection); the Teams card holds
 *     the subject and text unchanged; no raw control characters; valid
 *     UTF-8 whenever the pieces were;
 *   - lookups: an ID found is letters and digits; a reason is printable.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat_driver.h"
#include "fuzz_common.h"
#include "slack_lookup.h"
#include "slack_post.h"
#include "xalloc.h"

static const struct chat_driver *const drivers[] = {
	&chat_slack_api, &chat_slack_webhook, &chat_mattermost, &chat_rocketchat, &chat_teams,
};
#define N_DRIVERS (sizeof(drivers) / sizeof(drivers[0]))

static const long statuses[] = {
	0, 200, 201, 202, 204, 299, 100, 199, 300, 301, 304, 400, 401, 403, 404,
	410, 429, 499, 500, 502, 503, 504, 599, 600, 999, -1, -200, 1,
	LONG_MAX, LONG_MIN,
};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

static void
check_reason(const char *why, size_t whylen)
{
	size_t n = strnlen(why, 257);

	FUZZ_CHECK(n < whylen, "reason of %zu bytes in a buffer of %zu", n, whylen);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(why[i] >= 0x20 && why[i] < 0x7F,
		    "byte 0x%02x in the reason", (unsigned char)why[i]);
}

static void
check_classify(const struct chat_driver *d, long status, const char *body, size_t len,
    size_t whylen)
{
	struct chat_answer a = { .status = status, .body = body, .len = len,
	    .retry_after = (long)(len % 7) - 1, .ratelimit_reset = (long long)len * 1000 - 1 };
	char why[257];
	enum chat_outcome o;
	long wait;

	memset(why, 'X', sizeof(why));
	why[0] = '\0';
	o = d->classify(&a, why, whylen);
	if (o != CHAT_SENT)
		check_reason(why, whylen);
	if (status == 0 || status >= 500)
		FUZZ_CHECK(o == CHAT_RETRY, "%s: status %ld: outcome %d", d->name, status, (int)o);
	else if (status == 429)
		FUZZ_CHECK(o == CHAT_RATE_LIMITED, "%s: status 429: outcome %d", d->name, (int)o);
	else if (status / 100 != 2)
		FUZZ_CHECK(o == CHAT_REJECTED, "%s: status %ld: outcome %d", d->name, status,
		    (int)o);
	wait = d->rate_wait(&a, 1700000000000LL);
	FUZZ_CHECK(wait >= -1, "%s: rate_wait %ld", d->name, wait);
}

static void
check_lookups(long status, const char *body, size_t len, size_t whylen)
{
	char why[257], *id, *cursor;
	enum slack_lookup r;

	why[0] = '\0';
	r = slack_lookup_email_answer(status, body, len, &id, why, whylen);
	FUZZ_CHECK((r == SLACK_LOOKUP_FOUND) == (id != NULL), "email: id and result disagree");
	if (id != NULL)
		FUZZ_CHECK(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(id),
		    "email: id \"%s\"", id);
	else
		check_reason(why, whylen);
	free(id);
	why[0] = '\0';
	r = slack_lookup_list_answer(status, body, len, "alice", &id, &cursor, why, whylen);
	FUZZ_CHECK((r == SLACK_LOOKUP_FOUND) == (id != NULL), "list: id and result disagree");
	FUZZ_CHECK((r == SLACK_LOOKUP_MORE) == (cursor != NULL), "list: cursor and result");
	if (r != SLACK_LOOKUP_FOUND && r != SLACK_LOOKUP_MORE)
		check_reason(why, whylen);
	free(id);
	free(cursor);
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

/* The Teams card: the subject and text unchanged, in their TextBlocks. */
static void
check_card(const struct slack_post *post)
{
	char *json = chat_teams.payload(post, post->channel);
	cJSON *root = cJSON_Parse(json);
	const cJSON *card, *body, *block;
	bool subject_found = false, text_found = post->text[0] == '\0';

	FUZZ_CHECK(root != NULL, "card is not JSON: %s", json);
	FUZZ_CHECK(strcmp(string_of(root, "type"), "message") == 0, "card type");
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(root, "channel") == NULL, "card channel");
	card = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(root, "attachments"), 0), "content");
	FUZZ_CHECK(strcmp(string_of(card, "type"), "AdaptiveCard") == 0, "AdaptiveCard");
	body = cJSON_GetObjectItemCaseSensitive(card, "body");
	cJSON_ArrayForEach(block, body) {
		const char *text = string_of(block, "text");

		subject_found = subject_found || strcmp(text, post->subject) == 0;
		text_found = text_found || strcmp(text, post->text) == 0;
	}
	FUZZ_CHECK(subject_found && text_found, "card lost the subject or text: %s", json);
	cJSON_Delete(root);
	free(json);
}

/*
 * What went in, as it must come out: & < > as entities for the drivers
 * that escape (every Slack-style one but Rocket.Chat's), written here
 * independently of the code under test.  malloc'd.
 */
static char *
expected(const char *s, bool escape)
{
	char *out = xmalloc(strlen(s) * 5 + 1), *o = out;

	for (; *s; s++) {
		const char *e = !escape ? NULL : *s == '&' ? "&amp;" : *s == '<' ? "&lt;" :
		    *s == '>' ? "&gt;" : NULL;

		if (e != NULL) {
			memcpy(o, e, strlen(e));
			o += strlen(e);
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static void
check_payload(const struct slack_post *post, const struct chat_driver *d)
{
	bool api = d == &chat_slack_api, escape = d != &chat_rocketchat;
	char *subject = expected(post->subject, escape), *from = expected(post->from, escape);
	char *body = expected(post->text, escape);
	char *json = d->payload(post, post->channel);
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
	FUZZ_CHECK(cJSON_GetArraySize(root) == (api ? 3 : 2), "%s: payload has %d keys",
	    d->name, cJSON_GetArraySize(root));
	if (api)
		FUZZ_CHECK(strcmp(string_of(root, "channel"), post->channel) == 0,
		    "channel \"%s\" became \"%s\"", post->channel, string_of(root, "channel"));
	else
		FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(root, "channel") == NULL,
		    "%s: a webhook payload names a channel", d->name);
	if (post->style == SLACK_FULL) {
		const char *text = string_of(root, "text");

		FUZZ_CHECK(strncmp(text, "Message from: ", 14) == 0 &&
		    strcmp(text + 14, from) == 0, "full text \"%s\"", text);
	} else {
		FUZZ_CHECK(strcmp(string_of(root, "text"), "") == 0, "brief post with text");
	}
	attachments = cJSON_GetObjectItemCaseSensitive(root, "attachments");
	FUZZ_CHECK(cJSON_IsArray(attachments) && cJSON_GetArraySize(attachments) == 1,
	    "attachments");
	a = cJSON_GetArrayItem(attachments, 0);
	FUZZ_CHECK(cJSON_IsObject(a) && cJSON_GetArraySize(a) == 4, "attachment");
	FUZZ_CHECK(strcmp(string_of(a, "fallback"), subject) == 0, "%s: fallback", d->name);
	FUZZ_CHECK(strcmp(string_of(a, "title"), subject) == 0, "%s: title", d->name);
	FUZZ_CHECK(strcmp(string_of(a, "text"), body) == 0, "%s: attachment text", d->name);
	FUZZ_CHECK(strcmp(string_of(a, "color"), slack_color(post->event)) == 0, "color");
	FUZZ_CHECK(!escape || (strchr(string_of(a, "title"), '<') == NULL &&
	    strchr(string_of(a, "text"), '<') == NULL && strchr(string_of(root, "text"), '<') == NULL),
	    "%s: a '<' from mail reached the payload", d->name);
	cJSON_Delete(root);
	free(json);
	free(subject);
	free(from);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t status_pick = fuzz_take_byte(&data, &size);
	uint8_t flags = fuzz_take_byte(&data, &size);
	size_t whylen = 1 + fuzz_take_byte(&data, &size);	/* 1..256 */
	long status = statuses[status_pick % N_STATUSES];
	const struct chat_driver *driver = drivers[((flags & 1) | ((flags >> 4) & 6)) % N_DRIVERS];
	bool null_body = (flags & 0x80) && size == 0;
	char *rest = fuzz_cstring(data, size);
	const char *p = rest, *end = rest + size;
	struct slack_post *post;

	if (status_pick >= 2 * N_STATUSES)	/* and statuses nobody listed */
		status = (long)status_pick * 3 - 200;
	check_classify(driver, status, null_body ? NULL : rest, size, whylen);
	check_lookups(status, null_body ? NULL : rest, size, whylen);

	post = xcalloc(1, sizeof(*post));
	post->channel = xstrdup(next_piece(&p, end));
	post->subject = xstrdup(next_piece(&p, end));
	post->from = xstrdup(next_piece(&p, end));
	post->text = xstrdup(next_piece(&p, end));
	post->queue_id = xstrdup(next_piece(&p, end));
	post->style = (flags & 2) ? SLACK_FULL : SLACK_BRIEF;
	post->event = (enum gocd_event)(((unsigned)flags >> 2) % EVENT_COUNT);
	for (size_t d = 0; d < N_DRIVERS; d++) {
		if (drivers[d] != &chat_teams)
			check_payload(post, drivers[d]);
	}
	check_card(post);
	slack_post_free(post);
	free(rest);
	return 0;
}

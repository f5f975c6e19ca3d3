/*
 * outbox_record.c - a chat post as one line of JSON (see outbox_record.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_target.h"
#include "outbox_record.h"
#include "xalloc.h"

bool
outbox_record_is_id(const char *s)
{
	return s != NULL && strlen(s) == OUTBOX_ID_LEN &&
	    strspn(s, "0123456789abcdef") == OUTBOX_ID_LEN;
}

cJSON *
outbox_record_json(const struct slack_post *post)
{
	cJSON *obj = cJSON_CreateObject();

	if (post->id != NULL)
		cJSON_AddStringToObject(obj, "id", post->id);
	/* a chat:NAME post names its chat-webhooks entry; older readers skip it */
	cJSON_AddStringToObject(obj, post->named ? "chat" : "channel", post->channel);
	cJSON_AddStringToObject(obj, "style", post->style == SLACK_FULL ? "full" : "brief");
	cJSON_AddStringToObject(obj, "subject", post->subject);
	cJSON_AddStringToObject(obj, "from", post->from);
	cJSON_AddStringToObject(obj, "text", post->text);
	cJSON_AddStringToObject(obj, "event", event_name(post->event));
	cJSON_AddStringToObject(obj, "queue_id", post->queue_id);
	return obj;
}

static const char *
string_of(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* A chat-webhooks name as the config accepts it. */
static bool
is_chat_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* A Postfix queue id: letters and digits only. */
static bool
is_queue_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

struct slack_post *
outbox_record_from_json(const cJSON *obj)
{
	const char *channel = string_of(obj, "channel"), *style = string_of(obj, "style");
	const char *subject = string_of(obj, "subject"), *from = string_of(obj, "from");
	const char *text = string_of(obj, "text"), *event = string_of(obj, "event");
	const char *qid = string_of(obj, "queue_id"), *chat = string_of(obj, "chat");
	const char *id = string_of(obj, "id");
	struct slack_post *post;

	/* the config's checks again: what we write out, and log, is as safe as that */
	if (!cJSON_IsObject(obj))
		return NULL;
	if (chat != NULL ? !is_chat_name(chat) : slack_dest_kind(channel) == SLACK_DEST_INVALID)
		return NULL;
	if (subject == NULL || text == NULL)
		return NULL;
	post = xcalloc(1, sizeof(*post));
	post->id = outbox_record_is_id(id) ? xstrdup(id) : NULL;
	post->named = chat != NULL;
	post->channel = xstrdup(chat != NULL ? chat : channel);
	post->style = style && strcmp(style, "full") == 0 ? SLACK_FULL : SLACK_BRIEF;
	post->subject = xstrdup(subject);
	post->from = xstrdup(from ? from : "");
	post->text = xstrdup(text);
	if (event == NULL || !event_from_name(event, &post->event))
		post->event = EVENT_NONE;
	post->queue_id = xstrdup(is_queue_id(qid) ? qid : "NOQUEUE");
	return post;
}

char *
outbox_record_write(const struct slack_post *post)
{
	cJSON *obj = outbox_record_json(post);
	char *text = cJSON_PrintUnformatted(obj);

	cJSON_Delete(obj);
	if (text == NULL)
		abort();		/* only on out of memory */
	return text;
}

int
outbox_record_read(const char *text, size_t len, struct slack_post **out, char *err,
    size_t errlen)
{
	const char *end = NULL;
	cJSON *obj;

	*out = NULL;
	if (len > (size_t)OUTBOX_RECORD_MAX) {
		snprintf(err, errlen, "record of %zu bytes, larger than %ld", len,
		    OUTBOX_RECORD_MAX);
		return -1;
	}
	obj = cJSON_ParseWithLengthOpts(text, len, &end, false);
	/* one object and nothing after it: a torn or joined line is not a record */
	while (obj != NULL && end < text + len && (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (obj == NULL || end != text + len) {
		cJSON_Delete(obj);
		snprintf(err, errlen, "not JSON");
		return -1;
	}
	*out = outbox_record_from_json(obj);
	cJSON_Delete(obj);
	if (*out == NULL) {
		snprintf(err, errlen, "not a chat post (destination, subject or text)");
		return -1;
	}
	if ((*out)->id == NULL) {
		snprintf(err, errlen, "no post id");
		slack_post_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/*
 * outbox_record.h - one chat post as one line of JSON, the unit of the
 * outbox: the journal file (milter/outbox_journal.h) and the shared store
 * keep posts in this form, and the state file's "slack" array holds the
 * same objects.  Pure: no I/O.
 *
 * {"id": "<32 hex>", "channel" | "chat": "...", "style": "brief" | "full",
 *  "subject": "...", "from": "...", "text": "...", "event": "BREAKS" | ...,
 *  "queue_id": "..."}
 *
 * Written unformatted, so a record never holds a newline: control
 * characters inside strings are escaped (\n, \u001b).
 */
#ifndef MAIL2ALERT_OUTBOX_RECORD_H
#define MAIL2ALERT_OUTBOX_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "slack_post.h"

/*
 * Longest record read back.  A post's text is at most body-limit (16 MiB
 * at most) bytes; JSON escaping can make it longer, but a record past
 * this is not one we wrote for any mail worth posting.
 */
#define OUTBOX_RECORD_MAX (48L * 1024 * 1024)
/* A post id: this many lowercase hex digits. */
#define OUTBOX_ID_LEN 32

/* Is s a post id (OUTBOX_ID_LEN lowercase hex digits)? */
bool outbox_record_is_id(const char *s);

/* The post as a JSON object ("id" only if it has one); the caller deletes it. */
cJSON *outbox_record_json(const struct slack_post *post);

/*
 * The post an object describes, or NULL if it is not one we could have
 * written (a destination the config would refuse, no subject or text).
 * A missing or malformed "id" leaves post->id NULL; an unknown queue id
 * becomes "NOQUEUE".
 */
struct slack_post *outbox_record_from_json(const cJSON *obj);

/* The post as one line of JSON, without newline; malloc'd. */
char *outbox_record_write(const struct slack_post *post);

/*
 * Parse one record of len bytes (no newline needed) into *out.  0, or
 * -1 with the reason in err: not JSON, larger than OUTBOX_RECORD_MAX, not
 * a post, or no valid "id".
 */
int outbox_record_read(const char *text, size_t len, struct slack_post **out,
    char *err, size_t errlen);

#endif

/*
 * gocd_subject.h - read pipeline, stage and event from a GoCD stage mail
 * subject: "Stage [PIPELINE/COUNTER/STAGE/COUNTER] EVENTTEXT".
 */
#ifndef MAIL2ALERT_GOCD_SUBJECT_H
#define MAIL2ALERT_GOCD_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "strbuf.h"

/* GoCD's XSD nameType allows at most 255 characters. */
#define GOCD_NAME_MAX 255
#define GOCD_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

struct gocd_subject {
	char pipeline[GOCD_NAME_MAX + 1];
	char stage[GOCD_NAME_MAX + 1];
	unsigned long pipeline_counter;
	unsigned long stage_counter;
	enum gocd_event event;	/* EVENT_NONE for an unknown event text */
};

/*
 * Parse a decoded subject.  Returns false (and leaves *out zeroed) when it
 * is not a stage subject; true with event EVENT_NONE when the pipeline is
 * known but the event text is not.  Names follow GoCD's nameType
 * ([A-Za-z0-9_.-], at most GOCD_NAME_MAX), so they are safe to log.
 */
bool gocd_parse_subject(const char *subject, struct gocd_subject *out);

/* Is s (len bytes) a GoCD name: [A-Za-z0-9_.-], 1 to GOCD_NAME_MAX long? */
bool gocd_is_name(const char *s, size_t len);

/* The subject GoCD writes for a stage event, "Stage [p/1/s/1] is broken". */
void gocd_format_subject(struct strbuf *out, const struct gocd_subject *stage);

#endif

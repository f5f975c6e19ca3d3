/*
 * gocd_subject.h - read pipeline, stage and event from a GoCD stage mail
 * subject: "Stage [PIPELINE/COUNTER/STAGE/COUNTER] EVENTTEXT".
 */
#ifndef MAIL2ALERT_GOCD_SUBJECT_H
#define MAIL2ALERT_GOCD_SUBJECT_H

#include <stdbool.h>

#include "event.h"

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

#endif

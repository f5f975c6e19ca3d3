/*
 * event.h - the five GoCD stage events and the stage states they imply.
 */
#ifndef MAIL2ALERT_EVENT_H
#define MAIL2ALERT_EVENT_H

#include <stdbool.h>

enum gocd_event {
	EVENT_NONE = 0,		/* not a stage mail, or unknown event text */
	EVENT_PASSES,
	EVENT_FAILS,
	EVENT_BREAKS,
	EVENT_FIXED,
	EVENT_CANCELLED,
};
#define EVENT_COUNT 6

/* Bit for an event in an event set (rule filters). */
#define EVENT_BIT(e) (1u << (unsigned)(e))

enum stage_status {
	STAGE_UNKNOWN = 0,
	STAGE_SUCCESS,
	STAGE_FAILURE,
};

/* "BREAKS" etc.; "none" for EVENT_NONE. */
const char *event_name(enum gocd_event event);

/* Parse an upper-case event name as written in config; false if unknown. */
bool event_from_name(const char *name, enum gocd_event *event);

/* "success", "failure" or "unknown". */
const char *event_status_name(enum stage_status status);
bool event_status_from_name(const char *name, enum stage_status *status);

/* The state a stage is in after an event. */
enum stage_status event_status_after(enum gocd_event event);

/*
 * Edge detection (SPEC section 2): the event to act on, given the stage's
 * previous state and the event the subject states.  Only a derived BREAKS
 * or FIXED overrides the parsed event.
 */
enum gocd_event event_edge_detect(enum stage_status previous, enum gocd_event parsed);

#endif

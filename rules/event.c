/*
 * event.c - event names and edge detection.
 */
#include <string.h>

#include "event.h"

static const char *const event_names[EVENT_COUNT] = {
	[EVENT_NONE] = "none",
	[EVENT_PASSES] = "PASSES",
	[EVENT_FAILS] = "FAILS",
	[EVENT_BREAKS] = "BREAKS",
	[EVENT_FIXED] = "FIXED",
	[EVENT_CANCELLED] = "CANCELLED",
};

static const char *const status_names[] = {
	[STAGE_UNKNOWN] = "unknown",
	[STAGE_SUCCESS] = "success",
	[STAGE_FAILURE] = "failure",
};

const char *
event_name(enum gocd_event event)
{
	if ((unsigned)event >= EVENT_COUNT)
		return "none";
	return event_names[event];
}

bool
event_from_name(const char *name, enum gocd_event *event)
{
	for (int e = EVENT_PASSES; e < EVENT_COUNT; e++) {
		if (strcmp(name, event_names[e]) == 0) {
			*event = (enum gocd_event)e;
			return true;
		}
	}
	return false;
}

const char *
event_status_name(enum stage_status status)
{
	if ((unsigned)status > STAGE_FAILURE)
		return "unknown";
	return status_names[status];
}

bool
event_status_from_name(const char *name, enum stage_status *status)
{
	for (int s = STAGE_UNKNOWN; s <= STAGE_FAILURE; s++) {
		if (strcmp(name, status_names[s]) == 0) {
			*status = (enum stage_status)s;
			return true;
		}
	}
	return false;
}

enum stage_status
event_status_after(enum gocd_event event)
{
	switch (event) {
	case EVENT_PASSES:
	case EVENT_FIXED:
		return STAGE_SUCCESS;
	case EVENT_FAILS:
	case EVENT_BREAKS:
		return STAGE_FAILURE;
	default:
		return STAGE_UNKNOWN;
	}
}

enum gocd_event
event_edge_detect(enum stage_status previous, enum gocd_event parsed)
{
	enum stage_status now = event_status_after(parsed);
	enum gocd_event expected;

	if (previous == STAGE_UNKNOWN || now == STAGE_UNKNOWN)
		return parsed;
	if (now == STAGE_SUCCESS)
		expected = previous == STAGE_SUCCESS ? EVENT_PASSES : EVENT_FIXED;
	else
		expected = previous == STAGE_SUCCESS ? EVENT_BREAKS : EVENT_FAILS;
	if ((expected == EVENT_BREAKS || expected == EVENT_FIXED) && expected != parsed)
		return expected;
	return parsed;
}

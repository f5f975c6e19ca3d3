/*
 * slack_post.h - what a Slack post says (SPEC section 5) and what Slack's
 * answer means.  Pure: the daemon's worker does the sending.
 */
#ifndef MAIL2ALERT_SLACK_POST_H
#define MAIL2ALERT_SLACK_POST_H

#include <stdbool.h>
#include <stddef.h>

#include "config_enums.h"
#include "event.h"

struct slack_post {
	char *channel;		/* "#builds" or "@user" */
	enum slack_style style;
	char *subject;		/* decoded */
	char *from;		/* decoded From header ("" if none) */
	char *text;		/* brief: first line; full: decoded body */
	enum gocd_event event;	/* EVENT_NONE: no event (mail manager) */
	char *queue_id;		/* for log lines */
};

/* "#D50200" for BREAKS and FAILS, and so on; "#4ABCF9" without event. */
const char *slack_color(enum gocd_event event);

/* The JSON body for chat.postMessage or a webhook, malloc'd. */
char *slack_payload(const struct slack_post *post);

void slack_post_free(struct slack_post *post);

enum slack_outcome {
	SLACK_SENT,
	SLACK_RETRY,		/* 5xx, timeout, connection error */
	SLACK_RATE_LIMITED,	/* 429: wait Retry-After, then retry */
	SLACK_REJECTED,		/* ok:false, webhook errors, other 4xx: final */
};

/*
 * Classify an answer.  status 0 means no HTTP answer at all.  For
 * SLACK_REJECTED, why gets Slack's error code (or the HTTP status),
 * reduced to printable ASCII.
 */
enum slack_outcome slack_classify(long status, const char *body, size_t len,
    bool webhook, char *why, size_t whylen);

#endif

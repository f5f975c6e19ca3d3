/*
 * slack_post.h - what a chat post says (SPEC section 5) and where it
 * goes.  Pure: the drivers (chat_driver.h) turn it into a service's
 * payload, and the daemon's worker does the sending.
 */
#ifndef MAIL2ALERT_SLACK_POST_H
#define MAIL2ALERT_SLACK_POST_H

#include <stdbool.h>
#include <stddef.h>

#include "config_enums.h"
#include "event.h"

struct slack_post {
	/*
	 * OUTBOX_ID_LEN lowercase hex digits, random, given when the post is
	 * built: what the outbox (outbox_record.h) marks done.  NULL only for
	 * a post read from an older state file, until the daemon queues it.
	 */
	char *id;
	/*
	 * slack:  "#builds", "@user", "@user@example.com" or a user ID;
	 * chat:   the name of a chat-webhooks entry (named is true).
	 */
	char *channel;
	bool named;		/* a chat:NAME post */
	enum slack_style style;
	char *subject;		/* decoded */
	char *from;		/* decoded From header ("" if none) */
	char *text;		/* brief: first line; full: decoded body */
	enum gocd_event event;	/* EVENT_NONE: no event (mail manager) */
	char *queue_id;		/* for log lines */
};

/* "slack" or "chat": the key of a post's destination in log lines. */
#define SLACK_POST_KIND(post) ((post)->named ? "chat" : "slack")

/* "#D50200" for BREAKS and FAILS, and so on; "#4ABCF9" without event. */
const char *slack_color(enum gocd_event event);

void slack_post_free(struct slack_post *post);

#endif

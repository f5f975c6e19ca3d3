/*
 * chat_driver.h - one driver per chat service, behind one small interface:
 * the payload a post becomes, what the service's answer means, and how
 * long its rate limit wants us to wait.  Pure: the daemon's outbound
 * worker (milter/slack.c) does the sending, the queueing and the retries.
 *
 * Like a Postfix map type, a new service is one file (chat_NAME.c with
 * its struct chat_driver) plus its row in the table of chat_driver.c.
 */
#ifndef MAIL2ALERT_CHAT_DRIVER_H
#define MAIL2ALERT_CHAT_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "slack_post.h"
#include "strbuf.h"

enum chat_outcome {
	CHAT_SENT,
	CHAT_RETRY,		/* 5xx, timeout, connection error, transient error */
	CHAT_RATE_LIMITED,	/* 429: wait as the driver says, then retry */
	CHAT_REJECTED,		/* a final error: do not retry */
};

/* What came back for one request. */
struct chat_answer {
	long status;		/* 0: no HTTP answer at all */
	const char *body;	/* may be NULL */
	size_t len;
	long retry_after;	/* Retry-After seconds, or -1 */
	long long ratelimit_reset;	/* X-RateLimit-Reset as sent, or -1 */
};

struct chat_driver {
	const char *name;	/* "slack", "mattermost", ...: chat-webhooks service */
	/*
	 * The JSON body for post, malloc'd.  channel is NULL for a webhook
	 * bound to its channel: the payload must then name none.
	 */
	char *(*payload)(const struct slack_post *post, const char *channel);
	/* The outcome; for anything but CHAT_SENT, a printable reason in why. */
	enum chat_outcome (*classify)(const struct chat_answer *answer,
	    char *why, size_t whylen);
	/*
	 * Seconds to wait after a 429 answered at now_ms (wall clock, ms
	 * since the epoch), or -1 if the answer does not say: then the
	 * worker backs off exponentially.
	 */
	long (*rate_wait)(const struct chat_answer *answer, long long now_ms);
};

/* The Slack Web API (chat.postMessage), reached with slack-token. */
extern const struct chat_driver chat_slack_api;
extern const struct chat_driver chat_slack_webhook;
extern const struct chat_driver chat_mattermost;
extern const struct chat_driver chat_rocketchat;
extern const struct chat_driver chat_teams;

/* The webhook driver for a chat-webhooks service name, or NULL. */
const struct chat_driver *chat_driver_find(const char *service);
/* The service names chat-webhooks accepts, for messages: "slack, mattermost, ...". */
void chat_driver_names(struct strbuf *out);

/* Shared by the drivers. */

/*
 * The outcome of an answer that is not 2xx: 0 and 5xx retry, 429 is
 * rate limited, anything else is final with "HTTP 403 <body>" in why.
 */
enum chat_outcome chat_classify_status(const struct chat_answer *answer,
    char *why, size_t whylen);
/* Copy at most whylen-1 printable ASCII characters of s (len bytes). */
void chat_printable(char *why, size_t whylen, const char *s, size_t len);
/* Retry-After if the answer has it, else -1. */
long chat_rate_wait_retry_after(const struct chat_answer *answer, long long now_ms);
/*
 * The Slack-style body most services take: text ("Message from: ..." for
 * :full) and one attachment with fallback (the subject, for notifications
 * and clients that cannot show attachments), title, text and color;
 * channel only if not NULL.  With escape, every field taken from mail has
 * & < > as &amp; &lt; &gt;, Slack's escaping
 * (https://api.slack.com/reference/surfaces/formatting#escaping), so
 * "<!channel>" or "<http://evil|docs>" in a subject stays text.  malloc'd.
 */
char *chat_slack_style_payload(const struct slack_post *post, const char *channel,
    bool escape);

#endif

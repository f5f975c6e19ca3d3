/*
 * slack.h - the Slack worker: a bounded queue of built posts and one
 * thread that sends them (SPEC section 5).
 *
 * Milter callbacks only enqueue; they never wait for Slack.  A full queue
 * drops the post with an error line and a counter.
 */
#ifndef MAIL2ALERT_SLACK_H
#define MAIL2ALERT_SLACK_H

#include <stdbool.h>
#include <stddef.h>

#include "slack_post.h"

/* Seconds a stopping daemon gives the queue to drain. */
#define SLACK_DRAIN_SECONDS 5
/* Longest single request to Slack. */
#define SLACK_REQUEST_TIMEOUT 10
/* Longest Retry-After honoured; a longer one counts as a failure. */
#define SLACK_RETRY_AFTER_MAX 3600

int slack_start(void);
/*
 * Queue post (ownership passes) unless limit posts wait already.  With
 * the outbox journal open, the post is on disk when this returns (see
 * outbox_journal.h); a post without id gets one.
 */
bool slack_enqueue(struct slack_post *post, size_t limit);
/*
 * Queue posts saved by an earlier run (ownership of each passes; the
 * array stays the caller's), dropping, with a warning, those whose
 * destination the config no longer names.  journaled: they are in the
 * outbox journal already (replayed from it), so not put there again.
 */
void slack_requeue(struct slack_post **posts, size_t n, size_t limit, bool journaled);
/*
 * Let the worker send for up to drain_seconds, then stop it.  What was
 * not sent is handed back (count in *n) for the state file; the caller
 * frees it.
 */
struct slack_post **slack_stop(int drain_seconds, size_t *n);
unsigned long slack_dropped(void);

#endif

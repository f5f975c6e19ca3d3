/*
 * shared_outbox.h - the chat worker's side of the shared outbox (issue
 * 16): posts any relay pushed (shared_state_outbox_push) are taken by
 * exactly one relay's worker, as in Redis's reliable-queue pattern:
 *
 *   <prefix>outbox            posts waiting, oldest first
 *   <prefix>processing:NODE   posts NODE's worker took and has not finished
 *   <prefix>node:NODE         NODE's heartbeat (expires SHARED_NODE_TTL s
 *                             after the worker stops refreshing it)
 *   <prefix>nodes             the nodes that may hold posts
 *   <prefix>sent:ID           posts sent, kept shared-state-ttl s so a post
 *                             handed out twice is not sent twice
 *
 * A post moves from the outbox to the taker's processing list in one step
 * (LMOVE), and leaves that list only once sent or failed for good.  A
 * restarted relay takes back its own list; a relay whose heartbeat expired
 * has its list moved back to the outbox by whichever relay notices first.
 *
 * Called only from the chat worker thread, which owns the connection.
 */
#ifndef MAIL2ALERT_SHARED_OUTBOX_H
#define MAIL2ALERT_SHARED_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "slack_post.h"

/* Seconds a node's heartbeat lives; it is refreshed every second. */
#define SHARED_NODE_TTL 10

/* A post taken from the store, with its record as stored (for the ack). */
struct shared_post {
	struct slack_post *post;
	char *record;
};

/*
 * Heartbeat, recover dead nodes' posts, then take up to room posts into
 * out (the caller frees what it gets).  Returns how many; 0 also when the
 * store is down (the worker then sends what it holds and tries later).
 */
size_t shared_outbox_take(size_t room, struct shared_post *out);

/*
 * Before each attempt: is the post still ours (in our list, sent by no
 * one)?  A node the others thought dead may find its posts handed on.
 * True when the store cannot say: better sent twice than lost.
 */
bool shared_outbox_still_ours(const struct shared_post *taken);

/* The post was sent, or failed for good: it leaves the processing list. */
void shared_outbox_done(const struct shared_post *taken);

/* Close the worker's connection (at stop; the heartbeat then expires). */
void shared_outbox_close(void);

#endif

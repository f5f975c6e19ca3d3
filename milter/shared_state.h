/*
 * shared_state.h - what relays share through the store (issue 16; see
 * store_conn.h), as the mail path sees it: stage states compared and set
 * in one step, and chat posts pushed to the shared outbox before Postfix
 * is answered.
 *
 * Milter callbacks never touch the network: one thread owns the
 * connection and sends what callbacks ask in batches; a callback waits for
 * its answer at most shared-state-timeout, and otherwise decides on this
 * relay alone (SHARED_UNAVAILABLE).  While the store is unreachable or
 * slow, callbacks do not wait at all; the thread reconnects in the
 * background and, when the store answers again, writes back the stage
 * states this relay decided meanwhile.
 */
#ifndef MAIL2ALERT_SHARED_STATE_H
#define MAIL2ALERT_SHARED_STATE_H

#include <stdbool.h>

#include "config.h"
#include "event.h"
#include "store_conn.h"

enum shared_answer {
	SHARED_DONE,
	SHARED_CONFLICT,	/* the store holds another state: *actual */
	SHARED_UNAVAILABLE,	/* decide here; see shared_state_stage_unsynced */
	SHARED_FULL,		/* the shared outbox holds its limit */
};

/* Start the thread when config has shared-state (else nothing); 0 or -1. */
int shared_state_start(const struct config *config);
void shared_state_stop(void);
bool shared_state_configured(void);
/* The settings in force (NULL when not configured). */
const struct store_settings *shared_state_settings(void);

/*
 * Set the stage's state to now if the store holds expected (unknown: no
 * entry); else SHARED_CONFLICT with what it holds in *actual.
 */
enum shared_answer shared_state_stage_commit(const char *pipeline, const char *stage,
    enum stage_status expected, enum stage_status now, enum stage_status *actual);
/* A state this relay set on its own: written back when the store returns. */
void shared_state_stage_unsynced(const char *pipeline, const char *stage,
    enum stage_status status);

/*
 * Append a post record (outbox_record.h) to the shared outbox, unless
 * limit posts wait there already (SHARED_FULL).
 */
enum shared_answer shared_state_outbox_push(const char *record, size_t limit);

/* For -s and /metrics. */
struct shared_state_report {
	bool up;
	unsigned long fallbacks;	/* mail-path calls decided here */
	unsigned long outages;
};
bool shared_state_report(struct shared_state_report *out);

#endif

/*
 * metrics.h - what the daemon counts, for /metrics, /-/ready and -s
 * (issue 15).  The HTTP listener that serves them is metrics_http.h.
 *
 * Counting never takes a lock: every counter is an _Atomic in a fixed
 * array, indexed by outcome, event or result, and for counters per
 * manager or chat driver by a slot found by name in a small fixed table.
 * A name gets its slot once, under a lock, the first time it is seen
 * (managers are registered at start and at every reload, so mail never
 * does this), and keeps it for the life of the process: a manager that a
 * reload removes keeps its counters, as Prometheus expects of counters,
 * and the labels stay bounded by the table's size.  Finding a slot is a
 * scan of at most METRICS_NAMES_MAX names with no lock (slots are
 * published with a release store of the count).
 */
#ifndef MAIL2ALERT_METRICS_H
#define MAIL2ALERT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "disposition.h"
#include "event.h"
#include "strbuf.h"

/* Managers, and chat drivers, counted at most (each): more are not counted. */
#define METRICS_NAMES_MAX 64

/* How one chat post ended, for the chat workers. */
enum metrics_chat_outcome {
	METRICS_CHAT_SENT,		/* the service took it */
	METRICS_CHAT_RETRIED,		/* one failed attempt that will be retried */
	METRICS_CHAT_FAILED,		/* given up: retry time over, or refused for good */
	METRICS_CHAT_DROPPED,		/* never queued: the queue was full */
};
#define METRICS_CHAT_OUTCOME_COUNT 4

/* How one GoCD poll ended. */
enum metrics_poll_result {
	METRICS_POLL_UPDATED,		/* new groups */
	METRICS_POLL_UNCHANGED,		/* 304: the groups we have are current */
	METRICS_POLL_PROCESSING,	/* dashboard 202: asked again soon */
	METRICS_POLL_FAILED,
};
#define METRICS_POLL_RESULT_COUNT 4

/* Start counting (start time, build info); before any thread starts. */
void metrics_init(void);
/* Give every manager of config its slot (at start and after each reload). */
void metrics_register_managers(const struct config *config);
/* Free the names and messages kept (at exit, after every thread stopped). */
void metrics_shutdown(void);

/* The mail path (milter.c): lock-free. */
void metrics_message(const char *manager, enum disposition_outcome outcome);
void metrics_message_not_wanted(void);
void metrics_event(enum gocd_event event);
void metrics_edge_rewrite(void);
/* Time from the end of a message's data to our answer, in nanoseconds. */
void metrics_eom_duration(uint64_t nanoseconds);

/*
 * The GoCD poller: one call per poll.  api is the API that answered
 * (enum gocd_api), why the reason of a failure (NULL otherwise).
 */
void metrics_poll(const char *manager, enum metrics_poll_result result, int api,
    const char *why);

/*
 * The chat workers: one call per post and outcome; driver is the
 * service's name ("slack"), and the queue depth after every change.
 */
void metrics_chat_post(const char *driver, enum metrics_chat_outcome outcome);
void metrics_chat_queue_depth(size_t depth);

/* The state file writer: one call per save. */
void metrics_state_save(bool ok);
/* main.c: one call per reload; why is the error of a failed one. */
void metrics_reload(bool ok, const char *why);

/* The /metrics answer. */
void metrics_exposition(struct strbuf *out);
/*
 * Is the daemon ready: a config loaded, and every manager whose rules need
 * pipeline groups has them, confirmed by GoCD no longer ago than
 * ready-max-poll-age x its poll-interval?  If not, why says so.
 */
bool metrics_ready(struct strbuf *why);
/* The /status.json answer (for mail2alert -s); the caller frees it. */
char *metrics_status_json(void);

#endif

/*
 * snapshots.h - what the milter threads share with the poller and the
 * reload path: immutable, reference-counted snapshots swapped in whole.
 *
 * A connection takes a reference when a message starts and drops it when
 * the message ends, so a reload or a poll never pulls data out from under
 * a message in flight.  Swapping is a pointer store under a short lock.
 */
#ifndef MAIL2ALERT_SNAPSHOTS_H
#define MAIL2ALERT_SNAPSHOTS_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "group_index.h"
#include "route.h"
#include "slack_post.h"
#include "stage_table.h"
#include "state_doc.h"

struct config_snapshot {
	struct config *config;
	int refs;			/* atomic */
};

/* The config in force, with a reference the caller must release. */
struct config_snapshot *config_acquire(void);
void config_release(struct config_snapshot *snap);
/* Make config the one in force (takes ownership). */
void config_publish(struct config *config);

struct groups_snapshot {
	struct group_index *index;
	time_t loaded;			/* when GoCD (or the cache) gave it */
	int refs;			/* atomic */
};

/* The groups of a manager, or NULL if never loaded; release when done. */
struct groups_snapshot *groups_acquire(const char *manager);
void groups_release(struct groups_snapshot *snap);
/* Publish a new index for a manager (takes ownership). */
void groups_publish(const char *manager, struct group_index *index);

/*
 * Stages kept at most.  Only stages of pipelines GoCD knows are recorded
 * from mail and cctray.xml, so this bounds what managers without groups,
 * and junk before the first poll, can add: about 100 bytes a stage.
 */
#define STAGE_STATES_MAX 250000

/*
 * Stage states, shared by all connections, each call a short lock: see
 * route_subject_observe and route_subject_commit.
 */
void stage_states_observe(struct route_subject *subject);
bool stage_states_commit(const struct route_subject *subject);
/* Set the stage's state to what another relay recorded (stage_sync.c). */
void stage_states_adopt(const struct route_subject *subject, enum stage_status status);

/* Seed states of stages not known yet (cctray); returns how many. */
size_t stage_states_seed(const struct stage_table *seed);

/* How many stage states are kept now (for /metrics). */
size_t stage_states_count(void);

/* Counts changes to groups and stage states, so the state file knows when to save. */
unsigned long snapshots_changes(void);

/* The state file's JSON for what is shared now, plus posts (may be NULL). */
char *snapshots_state_json(struct slack_post **posts, size_t nposts);

/* Adopt groups and stage states read from the state file (takes the groups). */
void snapshots_restore(struct state_doc *doc);

/* Drop everything (at exit, so leak checkers see a clean heap). */
void snapshots_shutdown(void);

#endif

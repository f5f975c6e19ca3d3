/*
 * stage_changes.h - stage states a relay decided on its own, each with
 * the time it decided it (ms since the epoch), kept until the shared store
 * can be told.  Pure: the daemon guards it with its own lock.
 *
 * The time lets the store keep the newer word when two relays decided
 * the same stage apart (milter/shared_state.c).
 */
#ifndef MAIL2ALERT_STAGE_CHANGES_H
#define MAIL2ALERT_STAGE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "name_map.h"

struct stage_change {
	enum stage_status status;
	long long at;
};

struct stage_changes {
	struct name_map index;		/* "pipeline/stage" -> slot in changes */
	struct stage_change *changes;
	size_t cap;
	size_t max;			/* stages kept at most */
};

#define STAGE_CHANGES_INIT(max) { NAME_MAP_INIT, NULL, 0, (max) }

/*
 * Record name's state at time at, unless a later one is recorded; false
 * when name is new and max stages are kept already.
 */
bool stage_changes_put(struct stage_changes *c, const char *name,
    enum stage_status status, long long at);

/* Walk: *pos = 0 first; false at the end.  c must not change meanwhile. */
bool stage_changes_next(const struct stage_changes *c, size_t *pos, const char **name,
    struct stage_change *change);

/* Move every change of from into into (the later of two wins); from is emptied. */
void stage_changes_merge(struct stage_changes *into, struct stage_changes *from);

size_t stage_changes_count(const struct stage_changes *c);
void stage_changes_free(struct stage_changes *c);

#endif

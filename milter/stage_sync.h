/*
 * stage_sync.h - recording a stage's new state where it is shared: in the
 * store when shared-state is set (shared_state.h), in this relay's table
 * always (snapshots.h).
 */
#ifndef MAIL2ALERT_STAGE_SYNC_H
#define MAIL2ALERT_STAGE_SYNC_H

#include <stdbool.h>

#include "route.h"

/*
 * Record subject's state after its event, if the stage still holds the
 * state observed (see route_subject_commit); false: observe again.
 */
bool stage_sync_commit(const struct route_subject *subject);

#endif

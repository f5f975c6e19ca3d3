/*
 * stage_sync.c - the store is the truth, this relay's table its copy (see
 * stage_sync.h).
 *
 * The store compares and sets the stage in one step; a conflict (another
 * relay came first) brings the store's state into the table, so observing
 * again sees it.  When the store does not answer, the relay decides alone
 * and the store learns the state when it returns.
 */
#include "shared_state.h"
#include "snapshots.h"
#include "stage_sync.h"

static bool
is_shared(const struct route_subject *subject)
{
	return shared_state_configured() && subject->is_stage && subject->event != EVENT_NONE;
}

bool
stage_sync_commit(const struct route_subject *subject)
{
	enum stage_status now = event_status_after(subject->event), actual = STAGE_UNKNOWN;
	bool committed;

	if (is_shared(subject)) {
		enum shared_answer answer = shared_state_stage_commit(subject->stage.pipeline,
		    subject->stage.stage, subject->previous, now, &actual);

		if (answer != SHARED_UNAVAILABLE) {
			stage_states_adopt(subject, actual);
			return answer == SHARED_DONE;
		}
	}
	committed = stage_states_commit(subject);
	if (committed && is_shared(subject))
		shared_state_stage_unsynced(subject->stage.pipeline, subject->stage.stage, now);
	return committed;
}

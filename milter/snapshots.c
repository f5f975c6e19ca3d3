/*
 * snapshots.c - shared snapshots and stage states (see snapshots.h).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "snapshots.h"
#include "stage_table.h"
#include "xalloc.h"

/* A manager's name and its latest groups; few managers, so a list. */
struct groups_slot {
	char *manager;
	struct groups_snapshot *snap;
	struct groups_slot *next;
};

static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config_snapshot *current_config;
static struct groups_slot *groups_slots;

static pthread_mutex_t stage_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stage_table stage_states = STAGE_TABLE_INIT;
static pthread_once_t stage_states_once = PTHREAD_ONCE_INIT;

static void
stage_states_bound(void)
{
	uint32_t seed = 0;

	/* getrandom cannot fail for 4 bytes once booted; time and pid if it does */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	stage_table_limit(&stage_states, STAGE_STATES_MAX, seed | 1);
}

/* The shared table, bounded and seeded before first use; stage_lock held. */
static struct stage_table *
states_locked(void)
{
	pthread_once(&stage_states_once, stage_states_bound);
	return &stage_states;
}

static unsigned long state_changes;	/* atomic */

/*
 * Every snapshot's reference count: taken under snapshot_lock (so the
 * snapshot cannot be swapped out and freed in between), dropped anywhere.
 * The last one to drop it frees the snapshot.
 */
static void
ref_take(int *refs)
{
	__atomic_add_fetch(refs, 1, __ATOMIC_RELAXED);
}

static bool
ref_drop(int *refs)
{
	return __atomic_sub_fetch(refs, 1, __ATOMIC_ACQ_REL) == 0;
}

unsigned long
snapshots_changes(void)
{
	return __atomic_load_n(&state_changes, __ATOMIC_RELAXED);
}

static void
changed(void)
{
	__atomic_add_fetch(&state_changes, 1, __ATOMIC_RELAXED);
}

struct config_snapshot *
config_acquire(void)
{
	struct config_snapshot *snap;

	pthread_mutex_lock(&snapshot_lock);
	snap = current_config;
	if (snap != NULL)
		ref_take(&snap->refs);
	pthread_mutex_unlock(&snapshot_lock);
	return snap;
}

void
config_release(struct config_snapshot *snap)
{
	if (snap != NULL && ref_drop(&snap->refs)) {
		config_free(snap->config);
		free(snap);
	}
}

void
config_publish(struct config *config)
{
	struct config_snapshot *snap = xmalloc(sizeof(*snap)), *old;

	snap->config = config;
	snap->refs = 1;			/* the reference of "current" */
	pthread_mutex_lock(&snapshot_lock);
	old = current_config;
	current_config = snap;
	pthread_mutex_unlock(&snapshot_lock);
	config_release(old);
}

static struct groups_slot *
find_slot(const char *manager)
{
	for (struct groups_slot *s = groups_slots; s != NULL; s = s->next) {
		if (strcmp(s->manager, manager) == 0)
			return s;
	}
	return NULL;
}

struct groups_snapshot *
groups_acquire(const char *manager)
{
	struct groups_snapshot *snap = NULL;
	struct groups_slot *slot;

	pthread_mutex_lock(&snapshot_lock);
	slot = find_slot(manager);
	if (slot != NULL && slot->snap != NULL) {
		snap = slot->snap;
		ref_take(&snap->refs);
	}
	pthread_mutex_unlock(&snapshot_lock);
	return snap;
}

void
groups_release(struct groups_snapshot *snap)
{
	if (snap != NULL && ref_drop(&snap->refs)) {
		group_index_free(snap->index);
		free(snap);
	}
}

void
groups_publish(const char *manager, struct group_index *index)
{
	struct groups_snapshot *snap = xmalloc(sizeof(*snap)), *old;
	struct groups_slot *slot;

	snap->index = index;
	snap->loaded = time(NULL);
	snap->refs = 1;
	pthread_mutex_lock(&snapshot_lock);
	slot = find_slot(manager);
	if (slot == NULL) {
		slot = xcalloc(1, sizeof(*slot));
		slot->manager = xstrdup(manager);
		slot->next = groups_slots;
		groups_slots = slot;
	}
	old = slot->snap;
	slot->snap = snap;
	pthread_mutex_unlock(&snapshot_lock);
	groups_release(old);
	changed();
}

void
stage_states_observe(struct route_subject *subject)
{
	pthread_mutex_lock(&stage_lock);
	route_subject_observe(subject, states_locked());
	pthread_mutex_unlock(&stage_lock);
}

void
stage_states_adopt(const struct route_subject *subject, enum stage_status status)
{
	pthread_mutex_lock(&stage_lock);
	stage_table_set(states_locked(), subject->stage.pipeline, subject->stage.stage, status);
	pthread_mutex_unlock(&stage_lock);
	changed();
}

bool
stage_states_commit(const struct route_subject *subject)
{
	bool committed;

	pthread_mutex_lock(&stage_lock);
	committed = route_subject_commit(subject, states_locked());
	pthread_mutex_unlock(&stage_lock);
	if (committed)
		changed();
	return committed;
}

size_t
stage_states_seed(const struct stage_table *seed)
{
	size_t seeded;

	pthread_mutex_lock(&stage_lock);
	seeded = stage_table_merge(states_locked(), seed, false);
	pthread_mutex_unlock(&stage_lock);
	if (seeded > 0)
		changed();
	return seeded;
}

char *
snapshots_state_json(struct slack_post **posts, size_t nposts)
{
	struct state_doc doc = { .posts = posts, .nposts = nposts };
	struct groups_snapshot **refs = NULL;
	char *json;
	size_t n = 0;

	/* take references under the lock; build the JSON outside it */
	pthread_mutex_lock(&snapshot_lock);
	for (struct groups_slot *s = groups_slots; s != NULL; s = s->next)
		n++;
	refs = xcalloc(n + 1, sizeof(*refs));
	doc.managers = xcalloc(n + 1, sizeof(char *));
	doc.groups = xcalloc(n + 1, sizeof(*doc.groups));
	for (struct groups_slot *s = groups_slots; s != NULL; s = s->next) {
		if (s->snap == NULL)
			continue;
		ref_take(&s->snap->refs);
		refs[doc.ngroups] = s->snap;
		doc.managers[doc.ngroups] = xstrdup(s->manager);
		doc.groups[doc.ngroups++] = s->snap->index;
	}
	pthread_mutex_unlock(&snapshot_lock);
	pthread_mutex_lock(&stage_lock);
	stage_table_merge(&doc.stages, &stage_states, true);
	pthread_mutex_unlock(&stage_lock);
	json = state_doc_write(&doc);
	for (size_t i = 0; i < doc.ngroups; i++) {
		groups_release(refs[i]);
		free(doc.managers[i]);
	}
	free(refs);
	free(doc.managers);
	free(doc.groups);
	stage_table_free(&doc.stages);
	return json;
}

void
snapshots_restore(struct state_doc *doc)
{
	for (size_t i = 0; i < doc->ngroups; i++) {
		groups_publish(doc->managers[i], doc->groups[i]);
		doc->groups[i] = NULL;
	}
	pthread_mutex_lock(&stage_lock);
	stage_table_merge(states_locked(), &doc->stages, true);
	pthread_mutex_unlock(&stage_lock);
}

size_t
stage_states_count(void)
{
	size_t n;

	pthread_mutex_lock(&stage_lock);
	n = stage_table_count(states_locked());
	pthread_mutex_unlock(&stage_lock);
	return n;
}

void
snapshots_shutdown(void)
{
	pthread_mutex_lock(&snapshot_lock);
	while (groups_slots != NULL) {
		struct groups_slot *next = groups_slots->next;

		groups_release(groups_slots->snap);
		free(groups_slots->manager);
		free(groups_slots);
		groups_slots = next;
	}
	config_release(current_config);
	current_config = NULL;
	pthread_mutex_unlock(&snapshot_lock);
	pthread_mutex_lock(&stage_lock);
	stage_table_free(&stage_states);
	pthread_mutex_unlock(&stage_lock);
}

/*
 * metrics.c - counters, gauges, readiness and status (see metrics.h).
 *
 * Gauges that other modules already hold (groups, stage states, the
 * config) are read from them when asked, not copied here.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "metrics.h"
#include "metrics_text.h"
#include "shared_state.h"
#include "snapshots.h"
#include "xalloc.h"

#ifndef MAIL2ALERT_VERSION
#define MAIL2ALERT_VERSION "dev"
#endif

#define OUTCOME_COUNT (OUTCOME_FALLBACK + 1)

/* End-of-message time buckets, seconds: 10 microseconds to 100 milliseconds. */
static const double eom_bounds[] = {
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
};
#define EOM_BUCKETS (sizeof(eom_bounds) / sizeof(eom_bounds[0]))

static const char *const poll_result_names[] = {
	[METRICS_POLL_UPDATED] = "updated",
	[METRICS_POLL_UNCHANGED] = "unchanged",
	[METRICS_POLL_PROCESSING] = "processing",
	[METRICS_POLL_FAILED] = "failed",
};

static const char *const chat_outcome_names[] = {
	[METRICS_CHAT_SENT] = "sent",
	[METRICS_CHAT_RETRIED] = "retried",
	[METRICS_CHAT_FAILED] = "failed",
	[METRICS_CHAT_DROPPED] = "dropped",
};

struct manager_counters {
	char *name;			/* set before the slot is published */
	atomic_ulong messages[OUTCOME_COUNT];
	atomic_ulong polls[METRICS_POLL_RESULT_COUNT];
	atomic_llong last_poll;		/* unix seconds; 0: never */
	atomic_llong last_success;	/* updated or unchanged */
	atomic_int last_result;		/* enum metrics_poll_result; -1: none */
	atomic_int api;			/* enum gocd_api that answered; -1: none */
	char *last_error;		/* under names_lock */
	long long last_error_time;	/* under names_lock */
};

struct driver_counters {
	char *name;
	atomic_ulong posts[METRICS_CHAT_OUTCOME_COUNT];
};

/* Slots are only added, under names_lock; readers need no lock. */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct manager_counters managers[METRICS_NAMES_MAX];
static atomic_size_t nmanagers;
static struct driver_counters drivers[METRICS_NAMES_MAX];
static atomic_size_t ndrivers;

static atomic_ulong not_wanted;
static atomic_ulong events[EVENT_COUNT];
static atomic_ulong edge_rewrites;
static atomic_ulong eom_counts[EOM_BUCKETS + 1];
static atomic_ullong eom_nanoseconds;
static atomic_size_t chat_queue_depth;
static atomic_ulong state_saves[2];		/* [0] failed, [1] saved */
static atomic_ulong reloads[2];			/* [0] failed, [1] succeeded */
static atomic_llong last_reload;		/* unix seconds of the last good one */
static long long start_time;
static char *reload_error;			/* under names_lock */
static long long reload_error_time;		/* under names_lock */

void
metrics_init(void)
{
	start_time = (long long)time(NULL);
	atomic_store(&last_reload, start_time);
}

/* The slot of a manager, or NULL; a new one if create and there is room. */
static struct manager_counters *
manager_slot(const char *name, bool create)
{
	size_t n = atomic_load_explicit(&nmanagers, memory_order_acquire);
	struct manager_counters *slot = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(managers[i].name, name) == 0)
			return &managers[i];
	}
	if (!create)
		return NULL;
	pthread_mutex_lock(&names_lock);
	n = atomic_load_explicit(&nmanagers, memory_order_relaxed);
	for (size_t i = 0; i < n && slot == NULL; i++) {
		if (strcmp(managers[i].name, name) == 0)
			slot = &managers[i];
	}
	if (slot == NULL && n < METRICS_NAMES_MAX) {
		slot = &managers[n];
		slot->name = xstrdup(name);
		atomic_store(&slot->last_result, -1);
		atomic_store(&slot->api, -1);
		atomic_store_explicit(&nmanagers, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&names_lock);
	return slot;
}

static struct driver_counters *
driver_slot(const char *name)
{
	size_t n = atomic_load_explicit(&ndrivers, memory_order_acquire);
	struct driver_counters *slot = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(drivers[i].name, name) == 0)
			return &drivers[i];
	}
	pthread_mutex_lock(&names_lock);
	n = atomic_load_explicit(&ndrivers, memory_order_relaxed);
	for (size_t i = 0; i < n && slot == NULL; i++) {
		if (strcmp(drivers[i].name, name) == 0)
			slot = &drivers[i];
	}
	if (slot == NULL && n < METRICS_NAMES_MAX) {
		slot = &drivers[n];
		slot->name = xstrdup(name);
		atomic_store_explicit(&ndrivers, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&names_lock);
	return slot;
}

void
metrics_register_managers(const struct config *config)
{
	for (size_t i = 0; i < config->nmanagers; i++)
		manager_slot(config->managers[i].name, true);
}

void
metrics_shutdown(void)
{
	size_t n = atomic_load(&nmanagers);

	for (size_t i = 0; i < n; i++) {
		free(managers[i].name);
		free(managers[i].last_error);
	}
	n = atomic_load(&ndrivers);
	for (size_t i = 0; i < n; i++)
		free(drivers[i].name);
	free(reload_error);
	memset(managers, 0, sizeof(managers));
	memset(drivers, 0, sizeof(drivers));
	atomic_store(&nmanagers, 0);
	atomic_store(&ndrivers, 0);
	reload_error = NULL;
}

/* Counters only ever go up; relaxed order is enough for them. */
static void
count(atomic_ulong *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static unsigned long long
value(atomic_ulong *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

void
metrics_message(const char *manager, enum disposition_outcome outcome)
{
	/* registered before its config was published: no lock here, ever */
	struct manager_counters *slot = manager_slot(manager, false);

	if (slot != NULL && (unsigned)outcome < OUTCOME_COUNT)
		count(&slot->messages[outcome]);
}

void
metrics_message_not_wanted(void)
{
	count(&not_wanted);
}

void
metrics_event(enum gocd_event event)
{
	if ((unsigned)event < EVENT_COUNT)
		count(&events[event]);
}

void
metrics_edge_rewrite(void)
{
	count(&edge_rewrites);
}

void
metrics_eom_duration(uint64_t nanoseconds)
{
	double seconds = (double)nanoseconds / 1e9;
	size_t b = 0;

	while (b < EOM_BUCKETS && seconds > eom_bounds[b])
		b++;
	count(&eom_counts[b]);
	atomic_fetch_add_explicit(&eom_nanoseconds, nanoseconds, memory_order_relaxed);
}

/* Keep a copy of the last error and when; names_lock held. */
static void
keep_error(char **where, long long *when, const char *why)
{
	free(*where);
	*where = xstrdup(why);
	*when = (long long)time(NULL);
}

void
metrics_poll(const char *manager, enum metrics_poll_result result, int api,
    const char *why)
{
	struct manager_counters *slot = manager_slot(manager, true);
	long long now = (long long)time(NULL);

	if (slot == NULL || (unsigned)result >= METRICS_POLL_RESULT_COUNT)
		return;
	count(&slot->polls[result]);
	atomic_store(&slot->last_poll, now);
	atomic_store(&slot->last_result, (int)result);
	if (result == METRICS_POLL_UPDATED || result == METRICS_POLL_UNCHANGED)
		atomic_store(&slot->last_success, now);
	if (result != METRICS_POLL_FAILED)
		atomic_store(&slot->api, api);
	if (result == METRICS_POLL_FAILED && why != NULL) {
		pthread_mutex_lock(&names_lock);
		keep_error(&slot->last_error, &slot->last_error_time, why);
		pthread_mutex_unlock(&names_lock);
	}
}

void
metrics_chat_post(const char *driver, enum metrics_chat_outcome outcome)
{
	struct driver_counters *slot = driver_slot(driver);

	if (slot != NULL && (unsigned)outcome < METRICS_CHAT_OUTCOME_COUNT)
		count(&slot->posts[outcome]);
}

void
metrics_chat_queue_depth(size_t depth)
{
	atomic_store_explicit(&chat_queue_depth, depth, memory_order_relaxed);
}

void
metrics_state_save(bool ok)
{
	count(&state_saves[ok]);
}

void
metrics_reload(bool ok, const char *why)
{
	count(&reloads[ok]);
	if (ok) {
		atomic_store(&last_reload, (long long)time(NULL));
	} else if (why != NULL) {
		pthread_mutex_lock(&names_lock);
		keep_error(&reload_error, &reload_error_time, why);
		pthread_mutex_unlock(&names_lock);
	}
}

/* The groups a manager has now: counts and when GoCD (or the cache) gave them. */
struct groups_now {
	bool loaded;
	size_t groups, pipelines;
	long long loaded_at;
};

static struct groups_now
groups_now(const char *manager)
{
	struct groups_snapshot *snap = groups_acquire(manager);
	struct groups_now g = { 0 };

	if (snap != NULL) {
		g.loaded = true;
		g.groups = group_index_group_count(snap->index);
		g.pipelines = group_index_pipeline_count(snap->index);
		g.loaded_at = (long long)snap->loaded;
	}
	groups_release(snap);
	return g;
}

/* When the manager's groups were last known current: loaded, or a 304 since. */
static long long
groups_confirmed(const struct groups_now *g, const struct manager_counters *slot)
{
	long long success = slot ? atomic_load(&slot->last_success) : 0;

	return success > g->loaded_at ? success : g->loaded_at;
}

bool
metrics_ready(struct strbuf *why)
{
	struct config_snapshot *snap = config_acquire();
	long long now = (long long)time(NULL);
	bool ready = true;

	if (snap == NULL) {
		strbuf_adds(why, "no configuration loaded\n");
		return false;
	}
	for (size_t i = 0; i < snap->config->nmanagers; i++) {
		const struct manager *m = &snap->config->managers[i];
		struct groups_now g;
		long long age, limit;

		if (m->url == NULL || !manager_needs_groups(m))
			continue;
		g = groups_now(m->name);
		limit = (long long)m->poll_interval * snap->config->ready_max_poll_age;
		age = now - groups_confirmed(&g, manager_slot(m->name, false));
		if (!g.loaded) {
			strbuf_addf(why, "manager=%s: pipeline groups never loaded\n", m->name);
			ready = false;
		} else if (age > limit) {
			strbuf_addf(why, "manager=%s: pipeline groups last confirmed %llds ago "
			    "(limit %llds)\n", m->name, age, limit);
			ready = false;
		}
	}
	config_release(snap);
	return ready;
}

/* The label set {manager="name"}. */
#define MANAGER_LABEL(name) { { "manager", (name) } }

static void
expose_messages(struct strbuf *out)
{
	size_t n = atomic_load_explicit(&nmanagers, memory_order_acquire);
	const char *name = "mail2alert_messages_total";

	metrics_text_family(out, name, "counter",
	    "Messages seen, by manager and outcome (not-wanted: no manager wanted it).");
	for (size_t i = 0; i < n; i++) {
		for (int o = 0; o < OUTCOME_COUNT; o++) {
			const struct metrics_label l[] = {
				{ "manager", managers[i].name },
				{ "outcome", disposition_outcome_name((enum disposition_outcome)o) },
			};

			metrics_text_uint(out, name, l, 2, value(&managers[i].messages[o]));
		}
	}
	{
		const struct metrics_label l[] = { { "manager", "" }, { "outcome", "not-wanted" } };

		metrics_text_uint(out, name, l, 2, value(&not_wanted));
	}
	metrics_text_family(out, "mail2alert_events_total", "counter",
	    "Stage events of routed mail, after edge detection, by kind.");
	for (int e = 0; e < EVENT_COUNT; e++) {
		const struct metrics_label l[] = { { "event", event_name((enum gocd_event)e) } };

		metrics_text_uint(out, "mail2alert_events_total", l, 1, value(&events[e]));
	}
	metrics_text_family(out, "mail2alert_edge_rewrites_total", "counter",
	    "Stage events that edge detection rewrote (e.g. FAILS to BREAKS).");
	metrics_text_uint(out, "mail2alert_edge_rewrites_total", NULL, 0, value(&edge_rewrites));
}

static void
expose_eom(struct strbuf *out)
{
	unsigned long long counts[EOM_BUCKETS + 1];

	for (size_t b = 0; b <= EOM_BUCKETS; b++)
		counts[b] = value(&eom_counts[b]);
	metrics_text_family(out, "mail2alert_eom_duration_seconds", "histogram",
	    "Time from a wanted message's end of data to our answer to Postfix.");
	metrics_text_histogram(out, "mail2alert_eom_duration_seconds", NULL, 0, eom_bounds,
	    counts, EOM_BUCKETS, (double)atomic_load(&eom_nanoseconds) / 1e9);
}

static void
expose_polls(struct strbuf *out)
{
	size_t n = atomic_load_explicit(&nmanagers, memory_order_acquire);
	struct config_snapshot *snap = config_acquire();

	metrics_text_family(out, "mail2alert_gocd_polls_total", "counter",
	    "GoCD pipeline-group polls, by manager and result.");
	for (size_t i = 0; i < n; i++) {
		for (int r = 0; r < METRICS_POLL_RESULT_COUNT; r++) {
			const struct metrics_label l[] = {
				{ "manager", managers[i].name }, { "result", poll_result_names[r] },
			};

			metrics_text_uint(out, "mail2alert_gocd_polls_total", l, 2,
			    value(&managers[i].polls[r]));
		}
	}
	metrics_text_family(out, "mail2alert_gocd_last_success_timestamp_seconds", "gauge",
	    "When the manager's last GoCD poll succeeded (0: never since start).");
	for (size_t i = 0; i < n; i++) {
		const struct metrics_label l[] = MANAGER_LABEL(managers[i].name);

		metrics_text_uint(out, "mail2alert_gocd_last_success_timestamp_seconds", l, 1,
		    (unsigned long long)atomic_load(&managers[i].last_success));
	}
	metrics_text_family(out, "mail2alert_gocd_api_info", "gauge",
	    "The GoCD API that last answered the manager's polls.");
	for (size_t i = 0; i < n; i++) {
		int api = atomic_load(&managers[i].api);
		struct metrics_label l[] = { { "manager", managers[i].name }, { "api", NULL } };

		if (api < 0)
			continue;
		l[1].value = gocd_api_name((enum gocd_api)api);
		metrics_text_uint(out, "mail2alert_gocd_api_info", l, 2, 1);
	}
	/* groups: only the managers in force that poll */
	metrics_text_family(out, "mail2alert_gocd_groups", "gauge",
	    "Pipeline groups known, by manager.");
	metrics_text_family(out, "mail2alert_gocd_pipelines", "gauge",
	    "Pipelines known, by manager.");
	metrics_text_family(out, "mail2alert_gocd_groups_loaded_timestamp_seconds", "gauge",
	    "When the manager's pipeline groups were last loaded or confirmed unchanged.");
	for (size_t i = 0; snap != NULL && i < snap->config->nmanagers; i++) {
		const struct manager *m = &snap->config->managers[i];
		const struct metrics_label l[] = MANAGER_LABEL(m->name);
		struct groups_now g;

		if (m->url == NULL)
			continue;
		g = groups_now(m->name);
		if (!g.loaded)
			continue;
		metrics_text_uint(out, "mail2alert_gocd_groups", l, 1, g.groups);
		metrics_text_uint(out, "mail2alert_gocd_pipelines", l, 1, g.pipelines);
		metrics_text_uint(out, "mail2alert_gocd_groups_loaded_timestamp_seconds", l, 1,
		    (unsigned long long)groups_confirmed(&g, manager_slot(m->name, false)));
	}
	config_release(snap);
}

static void
expose_chat(struct strbuf *out)
{
	size_t n = atomic_load_explicit(&ndrivers, memory_order_acquire);

	metrics_text_family(out, "mail2alert_chat_posts_total", "counter",
	    "Chat posts, by driver and outcome.");
	for (size_t i = 0; i < n; i++) {
		for (int o = 0; o < METRICS_CHAT_OUTCOME_COUNT; o++) {
			const struct metrics_label l[] = {
				{ "driver", drivers[i].name }, { "outcome", chat_outcome_names[o] },
			};

			metrics_text_uint(out, "mail2alert_chat_posts_total", l, 2,
			    value(&drivers[i].posts[o]));
		}
	}
	metrics_text_family(out, "mail2alert_chat_queue_depth", "gauge",
	    "Chat posts waiting to be sent.");
	metrics_text_uint(out, "mail2alert_chat_queue_depth", NULL, 0,
	    atomic_load(&chat_queue_depth));
}

/* Present only with shared-state: absent series say "not configured". */
static void
expose_shared_state(struct strbuf *out)
{
	struct shared_state_report r;

	if (!shared_state_report(&r))
		return;
	metrics_text_family(out, "mail2alert_shared_state_up", "gauge",
	    "1 while the shared-state server answers, else 0.");
	metrics_text_uint(out, "mail2alert_shared_state_up", NULL, 0, r.up ? 1 : 0);
	metrics_text_family(out, "mail2alert_shared_state_fallbacks_total", "counter",
	    "Mail-path calls this relay decided alone: the store was down or slow.");
	metrics_text_uint(out, "mail2alert_shared_state_fallbacks_total", NULL, 0, r.fallbacks);
	metrics_text_family(out, "mail2alert_shared_state_outages_total", "counter",
	    "Times the shared-state server stopped answering.");
	metrics_text_uint(out, "mail2alert_shared_state_outages_total", NULL, 0, r.outages);
}

static cJSON *
shared_state_json(void)
{
	struct shared_state_report r;
	cJSON *o;

	if (!shared_state_report(&r))
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "url", shared_state_settings()->url_text);
	cJSON_AddStringToObject(o, "node", shared_state_settings()->node);
	cJSON_AddBoolToObject(o, "up", r.up);
	cJSON_AddNumberToObject(o, "fallbacks", (double)r.fallbacks);
	cJSON_AddNumberToObject(o, "outages", (double)r.outages);
	return o;
}

static void
expose_daemon(struct strbuf *out)
{
	const struct metrics_label ok[] = { { "result", "success" } };
	const struct metrics_label failed[] = { { "result", "failure" } };
	const struct metrics_label version[] = { { "version", MAIL2ALERT_VERSION } };

	metrics_text_family(out, "mail2alert_stage_states", "gauge",
	    "Stages whose last state is kept for edge detection.");
	metrics_text_uint(out, "mail2alert_stage_states", NULL, 0, stage_states_count());
	metrics_text_family(out, "mail2alert_state_file_saves_total", "counter",
	    "State file writes, by result.");
	metrics_text_uint(out, "mail2alert_state_file_saves_total", ok, 1, value(&state_saves[1]));
	metrics_text_uint(out, "mail2alert_state_file_saves_total", failed, 1,
	    value(&state_saves[0]));
	metrics_text_family(out, "mail2alert_config_reloads_total", "counter",
	    "Configuration reloads, by result.");
	metrics_text_uint(out, "mail2alert_config_reloads_total", ok, 1, value(&reloads[1]));
	metrics_text_uint(out, "mail2alert_config_reloads_total", failed, 1, value(&reloads[0]));
	metrics_text_family(out, "mail2alert_config_last_reload_success_timestamp_seconds",
	    "gauge", "When the configuration in force was loaded.");
	metrics_text_uint(out, "mail2alert_config_last_reload_success_timestamp_seconds", NULL, 0,
	    (unsigned long long)atomic_load(&last_reload));
	metrics_text_family(out, "mail2alert_start_time_seconds", "gauge",
	    "When the daemon started.");
	metrics_text_uint(out, "mail2alert_start_time_seconds", NULL, 0,
	    (unsigned long long)start_time);
	metrics_text_family(out, "mail2alert_build_info", "gauge",
	    "Always 1; the version in a label.");
	metrics_text_uint(out, "mail2alert_build_info", version, 1, 1);
}

void
metrics_exposition(struct strbuf *out)
{
	expose_messages(out);
	expose_eom(out);
	expose_polls(out);
	expose_chat(out);
	expose_shared_state(out);
	expose_daemon(out);
}

/* {"routed": n, ...} of a manager's messages. */
static cJSON *
messages_json(struct manager_counters *slot)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; i < OUTCOME_COUNT; i++)
		cJSON_AddNumberToObject(o, disposition_outcome_name((enum disposition_outcome)i),
		    (double)value(&slot->messages[i]));
	return o;
}

static cJSON *
manager_json(const struct manager *m, struct manager_counters *slot)
{
	cJSON *o = cJSON_CreateObject(), *polls = cJSON_CreateObject();
	int result = slot ? atomic_load(&slot->last_result) : -1;
	int api = slot ? atomic_load(&slot->api) : -1;
	struct groups_now g = groups_now(m->name);

	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddBoolToObject(o, "polls", m->url != NULL);
	cJSON_AddStringToObject(o, "api_configured", gocd_api_name(m->api));
	if (api >= 0)
		cJSON_AddStringToObject(o, "api", gocd_api_name((enum gocd_api)api));
	else
		cJSON_AddNullToObject(o, "api");
	cJSON_AddNumberToObject(o, "last_poll", slot ? (double)atomic_load(&slot->last_poll) : 0);
	if (result >= 0)
		cJSON_AddStringToObject(o, "last_poll_result", poll_result_names[result]);
	else
		cJSON_AddNullToObject(o, "last_poll_result");
	cJSON_AddNumberToObject(o, "last_success",
	    slot ? (double)atomic_load(&slot->last_success) : 0);
	cJSON_AddBoolToObject(o, "groups_loaded", g.loaded);
	cJSON_AddNumberToObject(o, "groups", (double)g.groups);
	cJSON_AddNumberToObject(o, "pipelines", (double)g.pipelines);
	cJSON_AddNumberToObject(o, "groups_confirmed", (double)groups_confirmed(&g, slot));
	for (int r = 0; slot != NULL && r < METRICS_POLL_RESULT_COUNT; r++)
		cJSON_AddNumberToObject(polls, poll_result_names[r], (double)value(&slot->polls[r]));
	cJSON_AddItemToObject(o, "poll_counts", polls);
	if (slot != NULL)
		cJSON_AddItemToObject(o, "messages", messages_json(slot));
	pthread_mutex_lock(&names_lock);
	if (slot != NULL && slot->last_error != NULL) {
		cJSON_AddStringToObject(o, "last_error", slot->last_error);
		cJSON_AddNumberToObject(o, "last_error_time", (double)slot->last_error_time);
	} else {
		cJSON_AddNullToObject(o, "last_error");
	}
	pthread_mutex_unlock(&names_lock);
	return o;
}

static cJSON *
chat_json(void)
{
	size_t n = atomic_load_explicit(&ndrivers, memory_order_acquire);
	cJSON *o = cJSON_CreateObject(), *posts = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "queue_depth", (double)atomic_load(&chat_queue_depth));
	for (size_t i = 0; i < n; i++) {
		cJSON *d = cJSON_CreateObject();

		for (int c = 0; c < METRICS_CHAT_OUTCOME_COUNT; c++)
			cJSON_AddNumberToObject(d, chat_outcome_names[c],
			    (double)value(&drivers[i].posts[c]));
		cJSON_AddItemToObject(posts, drivers[i].name, d);
	}
	cJSON_AddItemToObject(o, "posts", posts);
	return o;
}

char *
metrics_status_json(void)
{
	struct config_snapshot *snap = config_acquire();
	struct strbuf why = STRBUF_INIT;
	cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
	cJSON *counters = cJSON_CreateObject(), *events_json = cJSON_CreateObject();
	bool ready = metrics_ready(&why);
	char *text;

	cJSON_AddStringToObject(root, "version", MAIL2ALERT_VERSION);
	cJSON_AddNumberToObject(root, "start_time", (double)start_time);
	cJSON_AddNumberToObject(root, "now", (double)time(NULL));
	cJSON_AddBoolToObject(root, "ready", ready);
	cJSON_AddStringToObject(root, "not_ready_because", strbuf_str(&why));
	for (size_t i = 0; snap != NULL && i < snap->config->nmanagers; i++) {
		const struct manager *m = &snap->config->managers[i];

		cJSON_AddItemToArray(list, manager_json(m, manager_slot(m->name, false)));
	}
	cJSON_AddItemToObject(root, "managers", list);
	cJSON_AddItemToObject(root, "chat", chat_json());
	cJSON_AddItemToObject(root, "shared_state", shared_state_json());
	cJSON_AddNumberToObject(counters, "not_wanted", (double)value(&not_wanted));
	for (int e = 0; e < EVENT_COUNT; e++)
		cJSON_AddNumberToObject(events_json, event_name((enum gocd_event)e),
		    (double)value(&events[e]));
	cJSON_AddItemToObject(counters, "events", events_json);
	cJSON_AddNumberToObject(counters, "edge_rewrites", (double)value(&edge_rewrites));
	cJSON_AddNumberToObject(counters, "stage_states", (double)stage_states_count());
	cJSON_AddNumberToObject(counters, "state_file_saves", (double)value(&state_saves[1]));
	cJSON_AddNumberToObject(counters, "state_file_failures", (double)value(&state_saves[0]));
	cJSON_AddNumberToObject(counters, "reloads", (double)value(&reloads[1]));
	cJSON_AddNumberToObject(counters, "reload_failures", (double)value(&reloads[0]));
	cJSON_AddNumberToObject(counters, "last_reload", (double)atomic_load(&last_reload));
	cJSON_AddItemToObject(root, "counters", counters);
	pthread_mutex_lock(&names_lock);
	if (reload_error != NULL) {
		cJSON_AddStringToObject(root, "last_reload_error", reload_error);
		cJSON_AddNumberToObject(root, "last_reload_error_time", (double)reload_error_time);
	} else {
		cJSON_AddNullToObject(root, "last_reload_error");
	}
	pthread_mutex_unlock(&names_lock);
	config_release(snap);
	strbuf_free(&why);
	text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

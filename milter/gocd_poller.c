/*
 * gocd_poller.c - GoCD pipeline-group polling (see gocd_poller.h).
 *
 * Each poll re-reads the manager's settings from the config snapshot in
 * force, so a reload that changes url or credentials takes effect at the
 * next poll.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cctray.h"
#include "clock_wait.h"
#include "gocd_error.h"
#include "gocd_groups.h"
#include "gocd_poller.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "snapshots.h"
#include "xalloc.h"

/* Auto mode on a fallback API asks the admin API again this often. */
#define AUTO_RETRY_POLLS 10

/* Retry soon after GoCD's 202 "dashboard is being processed". */
#define POLL_RETRY_PROCESSING 5
/* While failing, the wait doubles from poll-interval up to this. */
#define POLL_BACKOFF_MAX 300

struct poller {
	char *manager;			/* name; settings come from the config */
	pthread_t thread;
	enum gocd_api api_in_use;	/* what auto detection settled on */
	enum gocd_api api_asked;	/* what the last poll asked */
	char *etag;			/* of the last response that had one */
	enum gocd_api etag_api;		/* ... from this API */
	unsigned failures;		/* in the current streak */
	unsigned long poll_seen;	/* poll_generation when last woken */
	struct group_index *fetched;	/* one-shot fetch: kept, not published */
	bool seeded_at_start;		/* cctray asked once, whatever the groups did */
	bool one_shot;
	unsigned polls_since_settled;	/* auto mode on a fallback API */
	unsigned jitter_seed;		/* rand_r state: differs per daemon and manager */
	struct poller *next;
};

/* What one poll needs, copied out of the config snapshot. */
struct poll_settings {
	char *url;
	char log_url[256];		/* url without credentials */
	enum gocd_api api;
	char *user, *passwd, *token;
	char *ca_file;
	int connect_timeout, timeout;
	int interval;
	size_t answer_limit;		/* bytes; gocd-answer-limit */
};

static pthread_mutex_t poller_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poller_wake;
static atomic_bool pollers_stopping;
static unsigned long poll_generation;	/* bumped by "poll now" */
static struct poller *pollers;

static const struct {
	const char *path;
	const char *accept;
} endpoints[] = {
	[GOCD_API_ADMIN] = { "/api/admin/pipeline_groups", "application/vnd.go.cd.v1+json" },
	[GOCD_API_DASHBOARD] = { "/api/dashboard", "application/vnd.go.cd.v4+json" },
	[GOCD_API_LEGACY] = { "/api/config/pipeline_groups", "application/json" },
};

static void
settings_copy(const struct manager *m, struct poll_settings *s)
{
	memset(s, 0, sizeof(*s));
	if (m != NULL && m->url != NULL) {
		size_t n;

		s->url = xstrdup(m->url);
		/* ".../go/" and ".../go" are one server: no "//api/..." paths (issue 13) */
		for (n = strlen(s->url); n > 8 && s->url[n - 1] == '/'; n--)
			s->url[n - 1] = '\0';
		http_url_for_log(s->url, s->log_url, sizeof(s->log_url));
		s->api = m->api;
		s->user = m->user ? xstrdup(m->user) : NULL;
		s->passwd = m->passwd ? xstrdup(m->passwd) : NULL;
		s->token = m->token ? xstrdup(m->token) : NULL;
		s->interval = m->poll_interval;
		s->ca_file = m->ca_file ? xstrdup(m->ca_file) : NULL;
		s->connect_timeout = m->connect_timeout;
		s->timeout = m->timeout;
		s->answer_limit = (size_t)m->answer_limit;
	}
}

static bool
settings_load(const char *manager, struct poll_settings *s)
{
	struct config_snapshot *snap = config_acquire();
	const struct manager *m = NULL;

	for (size_t i = 0; snap != NULL && i < snap->config->nmanagers && m == NULL; i++) {
		if (strcmp(snap->config->managers[i].name, manager) == 0)
			m = &snap->config->managers[i];
	}
	settings_copy(m, s);
	config_release(snap);
	return s->url != NULL;
}

static void
settings_free(struct poll_settings *s)
{
	free(s->url);
	free(s->user);
	free(s->ca_file);
	secret_free(s->passwd);
	secret_free(s->token);
}

/* One GET of one endpoint; the response is the caller's to free. */
static int
fetch(struct poller *p, const struct poll_settings *s, enum gocd_api api,
    struct http_response *resp)
{
	struct strbuf url = STRBUF_INIT;
	struct http_request req = {
		.accept = endpoints[api].accept,
		.user = s->user, .passwd = s->passwd, .token = s->token,
		/* admin and dashboard both answer 304 to a matching tag */
		.etag = api == p->etag_api ? p->etag : NULL,
		.ca_file = s->ca_file,
		.connect_timeout = s->connect_timeout,
		.timeout = s->timeout,
		.stop = &pollers_stopping,
		.max_body = s->answer_limit,
	};
	int rc;

	strbuf_addf(&url, "%s%s", s->url, endpoints[api].path);
	req.url = url.data;
	rc = http_request(&req, resp);
	strbuf_free(&url);
	return rc;
}

/* The API to try after api answered status, in auto mode; -1 if none. */
static int
auto_next(enum gocd_api api, long status)
{
	if (api == GOCD_API_ADMIN && (status == 401 || status == 403 || status == 404))
		return GOCD_API_DASHBOARD;
	if (api == GOCD_API_DASHBOARD && status == 404)
		return GOCD_API_LEGACY;
	return -1;
}

/*
 * In auto mode, where to start: the API detection settled on, except that
 * every AUTO_RETRY_POLLS polls the admin API is asked again, so one
 * transient 401/403 does not leave us on the poorer API for good.
 */
static enum gocd_api
auto_start(struct poller *p)
{
	if (p->api_in_use == GOCD_API_AUTO || p->api_in_use == GOCD_API_ADMIN)
		return GOCD_API_ADMIN;
	if (++p->polls_since_settled >= AUTO_RETRY_POLLS) {
		p->polls_since_settled = 0;
		return GOCD_API_ADMIN;
	}
	return p->api_in_use;
}

/*
 * A parse of a large document leaves glibc's arena of this thread holding
 * megabytes it will not need until the next change; give them back.
 */
static void
give_back_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

enum poll_outcome {
	POLL_UPDATED,
	POLL_UNCHANGED,
	POLL_PROCESSING,		/* dashboard 202 */
	POLL_FAILED,
};

static enum poll_outcome
poll_once(struct poller *p, const struct poll_settings *s, char *why, size_t whylen)
{
	enum gocd_api api = s->api != GOCD_API_AUTO ? s->api : auto_start(p);
	struct http_response resp;
	struct group_index *index;

	for (;;) {
		int next;

		if (fetch(p, s, api, &resp) != 0) {
			snprintf(why, whylen, "%s%s: %s", s->log_url, endpoints[api].path, resp.error);
			http_response_free(&resp);
			return POLL_FAILED;
		}
		next = s->api == GOCD_API_AUTO ? auto_next(api, resp.status) : -1;
		if (next < 0) {
			/* what auto detection chose is gone: detect again next time */
			if (resp.status == 404 && p->api_in_use != GOCD_API_AUTO)
				p->api_in_use = GOCD_API_AUTO;
			break;
		}
		http_response_free(&resp);
		api = (enum gocd_api)next;
	}
	p->api_asked = api;
	if (s->api == GOCD_API_AUTO && p->api_in_use != api && resp.status / 100 == 2) {
		log_info("manager=%s api=%s: using %s", p->manager, gocd_api_name(api),
		    endpoints[api].path);
		p->api_in_use = api;
		p->polls_since_settled = 0;
	}
	if (resp.status == 304 && (api != p->etag_api || p->etag == NULL)) {
		/* "not modified" since a document we never had: not a success */
		snprintf(why, whylen, "%s%s: HTTP 304 without a cached answer", s->log_url,
		    endpoints[api].path);
		http_response_free(&resp);
		return POLL_FAILED;
	}
	if (resp.status == 304) {
		http_response_free(&resp);
		return POLL_UNCHANGED;
	}
	if (resp.status == 202 && api == GOCD_API_DASHBOARD) {
		http_response_free(&resp);
		return POLL_PROCESSING;
	}
	if (resp.status != 200) {
		char message[256];

		/* GoCD says why, e.g. that security is off and Basic auth not needed */
		gocd_error_message(resp.body.data, resp.body.len, message, sizeof(message));
		snprintf(why, whylen, "%s%s: HTTP %ld%s%s%s", s->log_url, endpoints[api].path,
		    resp.status, *message ? " \"" : "", message, *message ? "\"" : "");
		http_response_free(&resp);
		return POLL_FAILED;
	}
	index = gocd_groups_parse(api, resp.body.data ? resp.body.data : "", resp.body.len,
	    GOCD_GROUPS_MAX_VALUES(s->answer_limit), why, whylen);
	if (index == NULL) {
		size_t used = strlen(why);

		snprintf(why + used, whylen - used, " from %s%s", s->log_url, endpoints[api].path);
		http_response_free(&resp);
		return POLL_FAILED;
	}
	log_debug("manager=%s groups=%zu pipelines=%zu", p->manager,
	    group_index_group_count(index), group_index_pipeline_count(index));
	if (p->one_shot)
		p->fetched = index;
	else
		groups_publish(p->manager, index);
	free(p->etag);
	p->etag = resp.etag ? xstrdup(resp.etag) : NULL;
	p->etag_api = api;
	http_response_free(&resp);
	return POLL_UPDATED;
}

/* What a cctray.xml seed collects: stages of pipelines GoCD's groups name. */
struct cctray_seed {
	struct stage_table table;
	const struct group_index *known;	/* NULL: no groups yet, keep all */
};

static void
collect_stage(const char *pipeline, const char *stage, enum stage_status status,
    void *arg)
{
	struct cctray_seed *seed = arg;

	if (status == STAGE_UNKNOWN)	/* nothing certain: leave it unseeded */
		return;
	if (seed->known == NULL || group_index_group_of(seed->known, pipeline) != NULL)
		stage_table_set(&seed->table, pipeline, stage, status);
}

/*
 * Seed stage states from cctray.xml; states seen in mail win.  Failing
 * here costs only the seed, so it is logged at debug level.
 */
static void
seed_from_cctray(struct poller *p, const struct poll_settings *s)
{
	struct cctray_seed seed = { STAGE_TABLE_INIT, NULL };
	struct groups_snapshot *groups = p->one_shot ? NULL : groups_acquire(p->manager);
	struct strbuf url = STRBUF_INIT;
	struct http_response resp;
	struct http_request req = {
		.accept = "application/xml",
		.user = s->user, .passwd = s->passwd, .token = s->token,
		.ca_file = s->ca_file,
		.connect_timeout = s->connect_timeout,
		.timeout = s->timeout,
		.stop = &pollers_stopping,
		.max_body = s->answer_limit,
	};
	char why[256];

	seed.known = p->one_shot ? p->fetched : groups ? groups->index : NULL;
	stage_table_limit(&seed.table, STAGE_STATES_MAX, 0);
	strbuf_addf(&url, "%s/cctray.xml", s->url);
	req.url = url.data;
	if (http_request(&req, &resp) != 0 && strncmp(resp.error, "answer larger", 13) == 0)
		log_warning("manager=%s: cctray.xml: %s", p->manager, resp.error);
	else if (resp.status != 200)
		log_debug("manager=%s: no cctray.xml seed: %s", p->manager,
		    resp.status ? "HTTP error" : resp.error);
	else if (cctray_parse(strbuf_str(&resp.body), resp.body.len, collect_stage,
	    &seed, why, sizeof(why)) != 0)
		log_warning("manager=%s: cctray.xml: %s", p->manager, why);
	else
		log_debug("manager=%s: cctray.xml seeded %zu stage states", p->manager,
		    stage_states_seed(&seed.table));
	http_response_free(&resp);
	strbuf_free(&url);
	stage_table_free(&seed.table);
	groups_release(groups);
}

/* Seconds to wait before the next poll. */
static int
next_delay(struct poller *p, enum poll_outcome outcome, int interval)
{
	long delay = interval;

	if (outcome == POLL_PROCESSING)
		return POLL_RETRY_PROCESSING < interval ? POLL_RETRY_PROCESSING : interval;
	if (outcome != POLL_FAILED)
		return interval;
	for (unsigned i = 1; i < p->failures && delay < POLL_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > POLL_BACKOFF_MAX && interval < POLL_BACKOFF_MAX)
		delay = POLL_BACKOFF_MAX;
	/* up to 10% jitter, so many daemons do not poll GoCD in step */
	return (int)(delay + (delay >= 10 ? rand_r(&p->jitter_seed) % (delay / 10) : 0));
}

static void
report(struct poller *p, enum poll_outcome outcome, const char *why)
{
	static const enum metrics_poll_result results[] = {
		[POLL_UPDATED] = METRICS_POLL_UPDATED,
		[POLL_UNCHANGED] = METRICS_POLL_UNCHANGED,
		[POLL_PROCESSING] = METRICS_POLL_PROCESSING,
		[POLL_FAILED] = METRICS_POLL_FAILED,
	};

	metrics_poll(p->manager, results[outcome], (int)p->api_asked, why);
	if (outcome == POLL_FAILED) {
		if (p->failures++ == 0)
			log_warning("manager=%s: GoCD poll failed, keeping the last pipeline "
			    "groups: %s", p->manager, why);
	} else if (p->failures > 0) {
		log_info("manager=%s: GoCD poll works again after %u failures",
		    p->manager, p->failures);
		p->failures = 0;
	}
}

/* Sleep up to seconds or until "poll now"; true if we are to stop. */
static bool
wait_for_next(struct poller *p, int seconds)
{
	struct timespec until = deadline_in(seconds);
	bool stop;

	pthread_mutex_lock(&poller_lock);
	while (!pollers_stopping && p->poll_seen == poll_generation &&
	    pthread_cond_timedwait(&poller_wake, &poller_lock, &until) != ETIMEDOUT)
		;
	p->poll_seen = poll_generation;
	stop = pollers_stopping;
	pthread_mutex_unlock(&poller_lock);
	return stop;
}

static void *
poller_main(void *arg)
{
	struct poller *p = arg;
	int delay;
	char why[512];

	do {
		struct poll_settings s;
		enum poll_outcome outcome = POLL_FAILED;

		delay = CONFIG_DEFAULT_POLL_INTERVAL;
		if (settings_load(p->manager, &s)) {
			why[0] = '\0';
			outcome = poll_once(p, &s, why, sizeof(why));
			/* a large answer, parsed or refused, leaves megabytes behind */
			give_back_memory();
			if (!pollers_stopping)
				report(p, outcome, why);
			/* at start, and after each successful poll (SPEC section 2) */
			if (!p->seeded_at_start || outcome == POLL_UPDATED ||
			    outcome == POLL_UNCHANGED)
				seed_from_cctray(p, &s);
			p->seeded_at_start = true;
			delay = next_delay(p, outcome, s.interval);
		}
		settings_free(&s);
	} while (!wait_for_next(p, delay));
	return NULL;
}

struct group_index *
gocd_fetch_groups(const struct manager *manager, char *why, size_t whylen)
{
	struct poller p = { .manager = manager->name, .one_shot = true };
	struct poll_settings s;

	settings_copy(manager, &s);
	why[0] = '\0';
	if (s.url == NULL)
		snprintf(why, whylen, "manager %s has no url", manager->name);
	else if (poll_once(&p, &s, why, whylen) == POLL_PROCESSING)
		snprintf(why, whylen, "GoCD's dashboard is still being processed (HTTP 202)");
	settings_free(&s);
	free(p.etag);
	return p.fetched;
}

int
pollers_start(const struct config *config)
{
	cond_init_monotonic(&poller_wake);
	for (size_t i = 0; i < config->nmanagers; i++) {
		const struct manager *m = &config->managers[i];
		struct poller *p;
		int rc;

		if (m->url == NULL)
			continue;
		p = xcalloc(1, sizeof(*p));
		p->manager = xstrdup(m->name);
		p->jitter_seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^
		    (unsigned)(uintptr_t)p;
		rc = pthread_create(&p->thread, NULL, poller_main, p);
		if (rc != 0) {
			log_error("manager=%s: cannot start the GoCD poller: %s", m->name,
			    strerror(rc));
			free(p->manager);
			free(p);
			return -1;
		}
		p->next = pollers;
		pollers = p;
	}
	return 0;
}

void
pollers_poll_now(void)
{
	pthread_mutex_lock(&poller_lock);
	poll_generation++;
	pthread_cond_broadcast(&poller_wake);
	pthread_mutex_unlock(&poller_lock);
}

void
pollers_stop(void)
{
	pthread_mutex_lock(&poller_lock);
	pollers_stopping = true;
	pthread_cond_broadcast(&poller_wake);
	pthread_mutex_unlock(&poller_lock);
	while (pollers != NULL) {
		struct poller *next = pollers->next;

		pthread_join(pollers->thread, NULL);
		free(pollers->manager);
		free(pollers->etag);
		free(pollers);
		pollers = next;
	}
}

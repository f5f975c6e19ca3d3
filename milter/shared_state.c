/*
 * shared_state.c - the mail path's connection to the store (see
 * shared_state.h).
 *
 * Callbacks queue a request and wait on a condition variable for at most
 * shared-state-timeout; the store thread sends every queued request in one
 * pipelined batch and wakes them.  A caller that gives up marks the store
 * down, so the next callers do not wait: the thread drops the connection
 * and reconnects, and the store is up again only once it answers, with the
 * states decided meanwhile written back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock_wait.h"
#include "log.h"
#include "shared_state.h"
#include "snapshots.h"
#include "stage_changes.h"
#include "strbuf.h"
#include "xalloc.h"

/* The thread's own bounds: connecting, and any one batch. */
#define CONNECT_MS 1000
#define BATCH_IO_MS 2000
/* How often an unreachable store is tried again, and an idle one pinged. */
#define RETRY_MS 1000
#define IDLE_PING_MS 1000
/* Error replies are logged at most this often (seconds). */
#define ERROR_LOG_INTERVAL 60

/*
 * Compare and set one stage in one step: Redis runs a script without
 * interleaving other commands.  KEYS: the stage's state and the time it
 * was set (ms since the epoch, the deciding relay's clock).  ARGV:
 * expected state, new state, TTL, now.  A stage the store knows nothing
 * of takes what this relay expected (a cctray seed, or a state from
 * before the store was flushed).  Returns {1, new} or {0, what it holds}.
 */
static const char stage_script[] =
	"local cur = redis.call('GET', KEYS[1])\n"
	"if cur and cur ~= ARGV[1] then return {0, cur} end\n"
	"redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])\n"
	"redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[3])\n"
	"return {1, ARGV[2]}\n";

/*
 * Write back a state decided while the store was down, unless another
 * relay set the stage later.  ARGV: state, when, TTL.  Returns 1 if set.
 */
static const char write_back_script[] =
	"local at = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"
	"if at > tonumber(ARGV[2]) then return 0 end\n"
	"redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])\n"
	"redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])\n"
	"return 1\n";

/*
 * Append a post to the outbox unless limit wait there already: the shared
 * outbox is bounded as each relay's queue is.  Returns the length, or -1.
 */
static const char outbox_push_script[] =
	"if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end\n"
	"return redis.call('RPUSH', KEYS[1], ARGV[2])\n";

#define REQUEST_ARGS 9

struct request {
	int argc;
	char *argv[REQUEST_ARGS];
	redisReply *reply;	/* NULL: no answer */
	bool done;
	bool abandoned;		/* the caller gave up: the thread frees it */
	struct request *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* to the thread */
	pthread_cond_t answered;	/* to callers */
	struct request *queue, **tail;
	struct store_settings *settings;
	bool running, stopping, tried;
	bool up;			/* callers may wait for the store */
	bool drop;			/* a caller timed out: reconnect */
	struct timespec down_since;
	struct stage_changes unsynced;	/* decided here while down */
	unsigned long fallbacks, outages;
	time_t error_logged;
	pthread_t thread;
} store = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
request_free(struct request *r)
{
	for (int i = 0; i < r->argc; i++)
		free(r->argv[i]);
	if (r->reply != NULL)
		freeReplyObject(r->reply);
	free(r);
}

/*
 * Mark the store down (lock held); true when that starts an outage, which
 * the caller logs once the lock is released.
 */
static bool
mark_down(void)
{
	if (!store.up)
		return false;
	store.up = false;
	store.outages++;
	clock_gettime(CLOCK_MONOTONIC, &store.down_since);
	return true;
}

static void
log_outage(const char *why)
{
	log_warning("shared state %s: unavailable (%s); deciding on this relay until it "
	    "answers", store.settings->url_text, why);
}

/* Ask the thread to send argv (taken); the reply, or NULL: decide here. */
static redisReply *
ask(int argc, char **argv)
{
	struct request *r = xcalloc(1, sizeof(*r));
	struct timespec deadline;
	redisReply *reply = NULL;
	bool outage = false;

	r->argc = argc;
	memcpy(r->argv, argv, (size_t)argc * sizeof(*argv));
	pthread_mutex_lock(&store.lock);
	if (!store.up) {
		store.fallbacks++;
		pthread_mutex_unlock(&store.lock);
		request_free(r);
		return NULL;
	}
	*store.tail = r;
	store.tail = &r->next;
	pthread_cond_signal(&store.work);
	deadline = deadline_in_ms(store.settings->timeout_ms);
	while (!r->done && pthread_cond_timedwait(&store.answered, &store.lock,
	    &deadline) != ETIMEDOUT)
		;
	if (!r->done) {
		r->abandoned = true;	/* still queued or in flight: the thread frees it */
		store.fallbacks++;
		store.drop = true;
		outage = mark_down();
		pthread_cond_signal(&store.work);
		r = NULL;
	} else if ((reply = r->reply) == NULL) {
		store.fallbacks++;
	}
	pthread_mutex_unlock(&store.lock);
	if (outage) {
		char why[64];

		snprintf(why, sizeof(why), "no answer within %ld ms", store.settings->timeout_ms);
		log_outage(why);
	}
	if (r != NULL) {
		r->reply = NULL;
		request_free(r);
	}
	return reply;
}

/* An error reply: logged now and then, and decided here. */
static redisReply *
check_error(redisReply *reply, const char *what)
{
	time_t now = time(NULL);
	bool log_it;

	if (reply == NULL || reply->type != REDIS_REPLY_ERROR)
		return reply;
	pthread_mutex_lock(&store.lock);
	store.fallbacks++;
	log_it = now - store.error_logged >= ERROR_LOG_INTERVAL;
	if (log_it)
		store.error_logged = now;
	pthread_mutex_unlock(&store.lock);
	if (log_it)
		log_error("shared state %s: %s refused: %.160s", store.settings->url_text,
		    what, reply->str);
	freeReplyObject(reply);
	return NULL;
}

static const char *
state_text(enum stage_status status)
{
	return event_status_name(status);
}

/* The wall clock in ms: when a relay decided, comparable across relays. */
static long long
now_epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum stage_status
state_from_text(const char *text)
{
	enum stage_status status = STAGE_UNKNOWN;

	if (!event_status_from_name(text, &status))
		status = STAGE_UNKNOWN;	/* another writer's junk: as if none */
	return status;
}

/* "pipeline/stage": the name of a stage in the store and in stage_changes. */
static char *
stage_name(const char *pipeline, const char *stage)
{
	struct strbuf name = STRBUF_INIT;

	strbuf_addf(&name, "%s/%s", pipeline, stage);
	return strbuf_detach(&name);
}

enum shared_answer
shared_state_stage_commit(const char *pipeline, const char *stage,
    enum stage_status expected, enum stage_status now, enum stage_status *actual)
{
	struct strbuf ttl = STRBUF_INIT, at = STRBUF_INIT;
	char *name = stage_name(pipeline, stage);
	redisReply *reply;
	enum shared_answer answer = SHARED_UNAVAILABLE;

	strbuf_addf(&ttl, "%ld", store.settings->ttl);
	strbuf_addf(&at, "%lld", now_epoch_ms());
	reply = ask(REQUEST_ARGS, (char *[]){ xstrdup("EVAL"), xstrdup(stage_script),
	    xstrdup("2"), store_key(store.settings, "stage", name),
	    store_key(store.settings, "stage-at", name), xstrdup(state_text(expected)),
	    xstrdup(state_text(now)), strbuf_detach(&ttl), strbuf_detach(&at) });
	free(name);
	reply = check_error(reply, "the stage script");
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_INTEGER &&
	    reply->element[1]->type == REDIS_REPLY_STRING) {
		*actual = state_from_text(reply->element[1]->str);
		answer = reply->element[0]->integer == 1 ? SHARED_DONE : SHARED_CONFLICT;
	}
	if (reply != NULL)
		freeReplyObject(reply);
	return answer;
}

void
shared_state_stage_unsynced(const char *pipeline, const char *stage,
    enum stage_status status)
{
	char *name = stage_name(pipeline, stage);
	long long at = now_epoch_ms();

	pthread_mutex_lock(&store.lock);
	stage_changes_put(&store.unsynced, name, status, at);
	pthread_mutex_unlock(&store.lock);
	free(name);
}

enum shared_answer
shared_state_outbox_push(const char *record, size_t limit)
{
	struct strbuf max = STRBUF_INIT;
	redisReply *reply;
	enum shared_answer answer = SHARED_UNAVAILABLE;

	strbuf_addf(&max, "%zu", limit);
	reply = ask(6, (char *[]){ xstrdup("EVAL"), xstrdup(outbox_push_script), xstrdup("1"),
	    store_key(store.settings, "outbox", NULL), strbuf_detach(&max), xstrdup(record) });
	reply = check_error(reply, "the outbox push");
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		answer = reply->integer < 0 ? SHARED_FULL : SHARED_DONE;
	if (reply != NULL)
		freeReplyObject(reply);
	return answer;
}

/* Answer every queued request with no reply (lock held). */
static void
fail_queued(void)
{
	while (store.queue != NULL) {
		struct request *r = store.queue;

		store.queue = r->next;
		if (r->abandoned)
			request_free(r);
		else
			r->done = true;
	}
	store.tail = &store.queue;
	pthread_cond_broadcast(&store.answered);
}

/*
 * Send a batch and read every reply; -1 (reason in err) when the
 * connection failed, the replies read so far kept.
 */
static int
run_batch(struct store_conn *conn, struct request *batch, char *err, size_t errlen)
{
	for (struct request *r = batch; r != NULL; r = r->next)
		redisAppendCommandArgv(conn->ctx, r->argc, (const char **)r->argv, NULL);
	for (struct request *r = batch; r != NULL; r = r->next) {
		if (redisGetReply(conn->ctx, (void **)&r->reply) != REDIS_OK) {
			r->reply = NULL;
			snprintf(err, errlen, "%s", conn->ctx->errstr[0] ? conn->ctx->errstr :
			    "the connection broke");
			return -1;
		}
	}
	return 0;
}

/* Hand the batch's replies to their callers (lock held). */
static void
finish_batch(struct request *batch)
{
	while (batch != NULL) {
		struct request *r = batch;

		batch = r->next;
		if (r->abandoned)
			request_free(r);
		else
			r->done = true;
	}
	pthread_cond_broadcast(&store.answered);
}

/* One state decided alone, unless the store has a later one: 0, or -1. */
static int
write_back_one(struct store_conn *conn, const char *name, const struct stage_change *change,
    char *err, size_t errlen)
{
	char ttl[24], at[24];
	char *key = store_key(store.settings, "stage", name);
	char *at_key = store_key(store.settings, "stage-at", name);
	const char *argv[] = { "EVAL", write_back_script, "2", key, at_key,
	    state_text(change->status), at, ttl };
	redisReply *reply;

	snprintf(ttl, sizeof(ttl), "%ld", store.settings->ttl);
	snprintf(at, sizeof(at), "%lld", change->at);
	reply = store_conn_command(conn, err, errlen, 8, argv);
	free(key);
	free(at_key);
	if (reply == NULL)
		return -1;
	freeReplyObject(reply);		/* refused or not set: a later word stands */
	return 0;
}

/*
 * Write back the states decided here while the store was down, each
 * unless another relay set the stage since.  Returns how many were
 * offered, or -1 with what was not written kept for the next try.
 */
static long
write_back(struct store_conn *conn, char *err, size_t errlen)
{
	struct stage_changes pending = STAGE_CHANGES_INIT(STAGE_STATES_MAX);
	struct stage_change change;
	const char *name;
	size_t pos = 0;
	long n = 0;

	pthread_mutex_lock(&store.lock);
	pending = store.unsynced;
	store.unsynced = (struct stage_changes)STAGE_CHANGES_INIT(STAGE_STATES_MAX);
	pthread_mutex_unlock(&store.lock);
	while (n >= 0 && stage_changes_next(&pending, &pos, &name, &change))
		n = write_back_one(conn, name, &change, err, errlen) == 0 ? n + 1 : -1;
	pthread_mutex_lock(&store.lock);
	if (n < 0)	/* kept whole: writing one twice is harmless */
		stage_changes_merge(&store.unsynced, &pending);
	pthread_mutex_unlock(&store.lock);
	stage_changes_free(&pending);
	return n;
}

static long
seconds_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - then->tv_sec);
}

/* Connect and write back; up on success.  Called and returns unlocked. */
static bool
reconnect(struct store_conn *conn)
{
	char err[256];
	bool first, outage = false, was_down;
	long written = -1;

	if (store_conn_open(store.settings, CONNECT_MS, BATCH_IO_MS, conn, err,
	    sizeof(err)) == 0 && (written = write_back(conn, err, sizeof(err))) < 0)
		store_conn_close(conn);
	pthread_mutex_lock(&store.lock);
	first = !store.tried;
	store.tried = true;
	was_down = !store.up;
	if (written >= 0) {
		store.up = true;
		store.drop = false;
	} else if (first) {
		store.outages++;	/* down from the start: one outage */
		clock_gettime(CLOCK_MONOTONIC, &store.down_since);
		outage = true;
	}
	pthread_cond_broadcast(&store.answered);
	pthread_mutex_unlock(&store.lock);
	if (written >= 0 && first)
		log_info("shared state %s: connected (node %s)", store.settings->url_text,
		    store.settings->node);
	else if (written >= 0 && was_down)
		log_info("shared state %s: back after %lds; %ld stage states written back",
		    store.settings->url_text, seconds_since(&store.down_since), written);
	else if (outage)
		log_outage(err);
	return written >= 0;
}

/* Is a connection still there?  Asked when idle, so /metrics tells the truth. */
static bool
ping(struct store_conn *conn, char *err, size_t errlen)
{
	const char *argv[] = { "PING" };
	redisReply *reply = store_conn_command(conn, err, errlen, 1, argv);

	if (reply == NULL)
		return false;
	freeReplyObject(reply);
	return true;
}

static void *
store_main(void *arg)
{
	struct store_conn conn = { 0 };
	char err[256];

	(void)arg;
	pthread_mutex_lock(&store.lock);
	while (!store.stopping) {
		struct timespec until;
		struct request *batch;
		bool ok, outage;

		if (conn.ctx == NULL || store.drop) {
			fail_queued();
			pthread_mutex_unlock(&store.lock);
			store_conn_close(&conn);
			ok = reconnect(&conn);
			pthread_mutex_lock(&store.lock);
			if (!ok) {
				until = deadline_in_ms(RETRY_MS);
				pthread_cond_timedwait(&store.work, &store.lock, &until);
			}
			continue;
		}
		if (store.queue == NULL) {
			until = deadline_in_ms(IDLE_PING_MS);
			if (pthread_cond_timedwait(&store.work, &store.lock, &until) != ETIMEDOUT)
				continue;
			pthread_mutex_unlock(&store.lock);
			ok = ping(&conn, err, sizeof(err));
			pthread_mutex_lock(&store.lock);
		} else {
			batch = store.queue;
			store.queue = NULL;
			store.tail = &store.queue;
			pthread_mutex_unlock(&store.lock);
			ok = run_batch(&conn, batch, err, sizeof(err)) == 0;
			pthread_mutex_lock(&store.lock);
			finish_batch(batch);
		}
		if (ok)
			continue;
		store.drop = true;
		outage = mark_down();
		pthread_mutex_unlock(&store.lock);
		if (outage)
			log_outage(err);
		pthread_mutex_lock(&store.lock);
	}
	fail_queued();
	pthread_mutex_unlock(&store.lock);
	store_conn_close(&conn);
	return NULL;
}

int
shared_state_start(const struct config *config)
{
	struct timespec until = deadline_in_ms(CONNECT_MS * 2);
	int rc;

	if ((store.settings = store_settings_new(config)) == NULL)
		return 0;
	cond_init_monotonic(&store.work);
	cond_init_monotonic(&store.answered);
	store.tail = &store.queue;
	store.unsynced = (struct stage_changes)STAGE_CHANGES_INIT(STAGE_STATES_MAX);
	rc = pthread_create(&store.thread, NULL, store_main, NULL);
	if (rc != 0) {
		log_error("cannot start the shared-state thread: %s", strerror(rc));
		store_settings_free(store.settings);
		store.settings = NULL;
		return -1;
	}
	/* mail that comes at once should find the first connection made */
	pthread_mutex_lock(&store.lock);
	store.running = true;
	while (!store.tried && pthread_cond_timedwait(&store.answered, &store.lock,
	    &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&store.lock);
	return 0;
}

void
shared_state_stop(void)
{
	if (store.settings == NULL)
		return;
	pthread_mutex_lock(&store.lock);
	store.stopping = true;
	store.up = false;
	pthread_cond_signal(&store.work);
	pthread_mutex_unlock(&store.lock);
	pthread_join(store.thread, NULL);
	store.running = false;
	stage_changes_free(&store.unsynced);
	store_settings_free(store.settings);
	store.settings = NULL;
}

bool
shared_state_configured(void)
{
	return store.settings != NULL;
}

const struct store_settings *
shared_state_settings(void)
{
	return store.settings;
}

bool
shared_state_report(struct shared_state_report *out)
{
	if (store.settings == NULL)
		return false;
	pthread_mutex_lock(&store.lock);
	out->up = store.up;
	out->fallbacks = store.fallbacks;
	out->outages = store.outages;
	pthread_mutex_unlock(&store.lock);
	return true;
}

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
#include "stage_table.h"
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
 * interleaving other commands.  ARGV: expected ("" for none), new state
 * ("" to forget it), TTL.  Returns {1, new} or {0, what it holds}.
 */
static const char stage_script[] =
	"local cur = redis.call('GET', KEYS[1]) or ''\n"
	"if cur ~= ARGV[1] then return {0, cur} end\n"
	"if ARGV[2] == '' then redis.call('DEL', KEYS[1])\n"
	"else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end\n"
	"return {1, ARGV[2]}\n";

/*
 * Append a post to the outbox unless limit wait there already: the shared
 * outbox is bounded as each relay's queue is.  Returns the length, or -1.
 */
static const char outbox_push_script[] =
	"if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end\n"
	"return redis.call('RPUSH', KEYS[1], ARGV[2])\n";

#define REQUEST_ARGS 7

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
	struct stage_table unsynced;	/* decided here while down */
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
	return status == STAGE_UNKNOWN ? "" : event_status_name(status);
}

static enum stage_status
state_from_text(const char *text)
{
	enum stage_status status = STAGE_UNKNOWN;

	if (!event_status_from_name(text, &status))
		status = STAGE_UNKNOWN;	/* another writer's junk: as if none */
	return status;
}

static char *
stage_key(const char *pipeline, const char *stage)
{
	struct strbuf name = STRBUF_INIT;
	char *key;

	strbuf_addf(&name, "%s/%s", pipeline, stage);
	key = store_key(store.settings, "stage", name.data);
	strbuf_free(&name);
	return key;
}

enum shared_answer
shared_state_stage_commit(const char *pipeline, const char *stage,
    enum stage_status expected, enum stage_status now, enum stage_status *actual)
{
	struct strbuf ttl = STRBUF_INIT;
	redisReply *reply;
	enum shared_answer answer = SHARED_UNAVAILABLE;

	strbuf_addf(&ttl, "%ld", store.settings->ttl);
	reply = ask(REQUEST_ARGS, (char *[]){ xstrdup("EVAL"), xstrdup(stage_script),
	    xstrdup("1"), stage_key(pipeline, stage), xstrdup(state_text(expected)),
	    xstrdup(state_text(now)), strbuf_detach(&ttl) });
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
	pthread_mutex_lock(&store.lock);
	stage_table_set(&store.unsynced, pipeline, stage, status);
	pthread_mutex_unlock(&store.lock);
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

/*
 * Write back the states decided here while the store was down: this
 * relay saw those mails last, so its word wins.  Returns how many, or -1
 * with what was not written kept for the next try.
 */
static long
write_back(struct store_conn *conn, char *err, size_t errlen)
{
	struct stage_table pending = STAGE_TABLE_INIT;
	struct strbuf ttl = STRBUF_INIT;
	const char *name;
	uint32_t value;
	size_t pos = 0;
	long n = 0;
	int rc = 0;

	pthread_mutex_lock(&store.lock);
	pending = store.unsynced;
	memset(&store.unsynced, 0, sizeof(store.unsynced));
	stage_table_limit(&store.unsynced, STAGE_STATES_MAX, 0);
	pthread_mutex_unlock(&store.lock);
	strbuf_addf(&ttl, "%ld", store.settings->ttl);
	while (rc == 0 && name_map_next(&pending.states, &pos, &name, &value)) {
		char *key = store_key(store.settings, "stage", name);
		const char *set[] = { "SET", key, state_text((enum stage_status)value), "EX",
		    ttl.data };
		const char *del[] = { "DEL", key };
		redisReply *reply = value == STAGE_UNKNOWN ?
		    store_conn_command(conn, err, errlen, 2, del) :
		    store_conn_command(conn, err, errlen, 5, set);

		free(key);
		if (reply == NULL)
			rc = -1;
		else
			freeReplyObject(reply);
		n++;
	}
	strbuf_free(&ttl);
	pthread_mutex_lock(&store.lock);
	if (rc != 0)	/* what this relay decided since stays newer: no replace */
		stage_table_merge(&store.unsynced, &pending, false);
	pthread_mutex_unlock(&store.lock);
	stage_table_free(&pending);
	return rc == 0 ? n : -1;
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
	stage_table_limit(&store.unsynced, STAGE_STATES_MAX, 0);
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
	stage_table_free(&store.unsynced);
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

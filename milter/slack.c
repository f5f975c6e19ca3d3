/*
 * slack.c - the outbound chat worker (see slack.h).
 *
 * One thread sends every post, whatever the service: the driver of the
 * post's destination (chat_driver.h) builds the payload, says what the
 * answer means and how long a rate limit wants us to wait.  Settings
 * (token, URLs, retry time) are read from the config in force for each
 * attempt, so a reload applies to the next one.
 *
 * Posts to one destination go in order; a destination that waits (a 429,
 * a 5xx backoff) holds only its own posts: the worker skips ahead to the
 * first post whose destination is free.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat_target.h"
#include "clock_wait.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "outbox_record.h"
#include "outbox_journal.h"
#include "post_id.h"
#include "shared_outbox.h"
#include "shared_state.h"
#include "slack.h"
#include "slack_users.h"
#include "snapshots.h"
#include "strbuf.h"
#include "xalloc.h"

/* Backoff for 5xx, network errors and unexplained 429s doubles from 1 s up to this. */
#define SLACK_BACKOFF_MAX 60
/* How often the shared outbox is asked for posts when nothing says it has some (ms). */
#define SHARED_POLL_MS 500
/* Posts taken from the shared outbox at a time. */
#define SHARED_TAKE_MAX 16

/* A queued post and how far it got. */
struct pending {
	struct slack_post *post;
	long long not_before;	/* monotonic ms: not to be tried before */
	long long deadline;	/* monotonic ms: give up after; 0 until tried */
	long backoff;		/* seconds: the next exponential backoff */
	unsigned attempts;
	char *shared_record;	/* taken from the shared outbox: the record there; */
				/* NULL: this relay's own (in the outbox journal) */
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_wake;
static struct pending *queue;		/* in arrival order */
static size_t queue_cap, queue_len;
static bool worker_running;
static bool sending;			/* a queued post is in flight */
static atomic_bool worker_stop;	/* abort, even mid-request */
static bool draining;			/* stop once the queue is empty */
static unsigned long dropped;
static pthread_t worker;
static bool shared_pushed;		/* a post went to the shared outbox: take now */
static long long shared_next_take;	/* monotonic ms */

static long long
now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The driver a post goes through under the config in force, for the
 * metrics' driver label: "slack" for slack: posts, the chat-webhooks
 * entry's service for chat: ones, "unknown" when it names none any more.
 */
static const char *
driver_name(const struct slack_post *post)
{
	struct config_snapshot *snap = config_acquire();
	struct chat_target target;
	const char *name = "unknown";
	char why[128];

	if (snap != NULL && chat_target_for(snap->config, post, &target, why, sizeof(why)))
		name = target.driver->name;	/* static: outlives the snapshot */
	config_release(snap);
	return name;
}

/* A post that will not be sent: said, counted, done in the journal. */
static bool
drop(struct slack_post *post, const char *reason)
{
	unsigned long total;

	pthread_mutex_lock(&queue_lock);
	total = ++dropped;
	pthread_mutex_unlock(&queue_lock);
	metrics_chat_post(driver_name(post), METRICS_CHAT_DROPPED);
	log_error("%s: %s=%s status=dropped reason=%s dropped_total=%lu", post->queue_id,
	    SLACK_POST_KIND(post), post->channel, reason, total);
	outbox_journal_done(post->id);
	slack_post_free(post);
	return false;
}

/*
 * Queue post unless limit posts wait already.  journal: put it in the
 * outbox journal first (it is not there yet); either way a post that is
 * dropped is done there.
 */
static bool
enqueue(struct slack_post *post, size_t limit, bool journal)
{
	bool running;

	/* on disk before the caller answers Postfix; unlocked, as it waits for the disk */
	if (journal)
		outbox_journal_put(post);
	pthread_mutex_lock(&queue_lock);
	/* the post in flight stays queued (so a stop keeps it) but is not waiting */
	if (!worker_running || queue_len - (sending ? 1 : 0) >= limit) {
		running = worker_running;
		pthread_mutex_unlock(&queue_lock);
		return drop(post, running ? "queue-full" : "not-running");
	}
	queue = xgrow(queue, &queue_cap, queue_len + 1, sizeof(*queue));
	queue[queue_len++] = (struct pending){ .post = post, .backoff = 1 };
	metrics_chat_queue_depth(queue_len);
	pthread_cond_signal(&queue_wake);
	pthread_mutex_unlock(&queue_lock);
	return true;
}

/*
 * With shared-state, a post goes to the shared outbox, where any relay's
 * worker may take it; when the store does not answer, to this relay's
 * own queue and journal.
 */
static enum shared_answer
push_shared(struct slack_post *post, size_t limit)
{
	char *record = outbox_record_write(post);
	enum shared_answer answer = shared_state_outbox_push(record, limit);

	free(record);
	if (answer == SHARED_DONE) {
		slack_post_free(post);
		pthread_mutex_lock(&queue_lock);
		shared_pushed = true;
		pthread_cond_signal(&queue_wake);
		pthread_mutex_unlock(&queue_lock);
	}
	return answer;
}

bool
slack_enqueue(struct slack_post *post, size_t limit)
{
	/* a post from a state file written before posts had ids */
	if (post->id == NULL)
		post->id = post_id_new();
	if (shared_state_configured()) {
		switch (push_shared(post, limit)) {
		case SHARED_DONE:
			return true;
		case SHARED_FULL:
			return drop(post, "shared-outbox-full");
		default:
			break;
		}
	}
	return enqueue(post, limit, true);
}

void
slack_requeue(struct slack_post **posts, size_t n, size_t limit, bool journaled)
{
	struct config_snapshot *config = config_acquire();

	for (size_t i = 0; i < n; i++) {
		struct slack_post *post = posts[i];

		posts[i] = NULL;
		/* a destination since removed from the config gets nothing */
		if (config == NULL ||
		    !config_chat_destination_known(config->config, post->channel, post->named)) {
			log_warning("%s: saved %s post for %s dropped: the config no longer "
			    "names %s", post->queue_id, SLACK_POST_KIND(post), post->channel,
			    post->channel);
			outbox_journal_done(post->id);
			slack_post_free(post);
			continue;
		}
		if (post->id == NULL)
			post->id = post_id_new();
		enqueue(post, limit, !journaled);
	}
	config_release(config);
}

unsigned long
slack_dropped(void)
{
	unsigned long n;

	pthread_mutex_lock(&queue_lock);
	n = dropped;
	pthread_mutex_unlock(&queue_lock);
	return n;
}

static bool
same_destination(const struct slack_post *a, const struct slack_post *b)
{
	return a->named == b->named && strcmp(a->channel, b->channel) == 0;
}

/*
 * The first post that may go now: the oldest of its destination, not
 * waiting.  Else false, with the earliest time one may go in *wake (or
 * -1 if none waits for a time).  Called with queue_lock held.
 */
static bool
pick(long long now, size_t *index, long long *wake)
{
	const struct slack_post **seen = xcalloc(queue_len + 1, sizeof(*seen));
	size_t nseen = 0;
	bool found = false;

	*wake = -1;
	for (size_t i = 0; i < queue_len && !found; i++) {
		const struct pending *p = &queue[i];
		bool behind = false;

		/* destinations are few: the list of those seen stays short */
		for (size_t s = 0; s < nseen && !behind; s++)
			behind = same_destination(seen[s], p->post);
		if (behind)
			continue;
		seen[nseen++] = p->post;
		if (p->not_before <= now) {
			*index = i;
			found = true;
		} else if (*wake < 0 || p->not_before < *wake) {
			*wake = p->not_before;
		}
	}
	free(seen);
	return found;
}

/* What one attempt came to. */
enum attempt_result {
	ATTEMPT_DONE,		/* sent, or failed for good: dequeue */
	ATTEMPT_WAIT,		/* try again at p->not_before */
	ATTEMPT_STOPPED,	/* the worker is stopping: keep the post */
	ATTEMPT_HANDED_ON,	/* another relay has the shared post now: forget it */
};

/*
 * Send once: the outcome, the reason in why, the answer's rate-limit wait
 * in *wait, the driver's name in *driver (left alone if none applies).
 */
static enum chat_outcome
send_once(const struct config *config, const struct slack_post *post,
    const char **driver, long *wait, char *why, size_t whylen)
{
	struct chat_target target;
	struct strbuf url = STRBUF_INIT;
	struct http_response resp = { 0 };
	struct http_request req = {
		.timeout = SLACK_REQUEST_TIMEOUT,
		.stop = &worker_stop,
	};
	const char *channel;
	char *user_id = NULL, *payload;
	enum chat_outcome outcome;

	*wait = -1;
	if (!chat_target_for(config, post, &target, why, whylen))
		return CHAT_REJECTED;
	*driver = target.driver->name;
	channel = target.channel;
	if (target.api) {
		enum slack_dest kind = slack_dest_kind(channel);

		if (kind == SLACK_DEST_USER_NAME || kind == SLACK_DEST_USER_EMAIL) {
			int rc = slack_user_id(config, channel, &worker_stop, &user_id,
			    why, whylen);

			if (rc != 0)
				return rc > 0 ? CHAT_REJECTED : CHAT_RETRY;
			channel = user_id;
		}
		strbuf_addf(&url, "%s/chat.postMessage", target.url);
		req.token = config->slack_token;
	} else {
		strbuf_adds(&url, target.url);
	}
	payload = target.driver->payload(post, channel);
	req.url = url.data;
	req.post_json = payload;
	if (http_request(&req, &resp) != 0) {
		snprintf(why, whylen, "%s", resp.error);
		outcome = CHAT_RETRY;
	} else {
		struct chat_answer answer = {
			.status = resp.status, .body = resp.body.data, .len = resp.body.len,
			.retry_after = resp.retry_after, .ratelimit_reset = resp.ratelimit_reset,
		};

		why[0] = '\0';
		outcome = target.driver->classify(&answer, why, whylen);
		if (outcome == CHAT_RATE_LIMITED)
			*wait = target.driver->rate_wait(&answer, now_ms(CLOCK_REALTIME));
	}
	http_response_free(&resp);
	free(payload);
	free(user_id);
	strbuf_free(&url);
	return outcome;
}

/*
 * One attempt at p's post: sent and failed posts are done; a retry is
 * scheduled after the rate limit's wait or the backoff, within the
 * configured retry time.  Called without queue_lock, on a copy of the
 * queued entry.
 */
static enum attempt_result
attempt(struct pending *p)
{
	struct config_snapshot *snap = config_acquire();
	const struct slack_post *post = p->post;
	const char *kind = SLACK_POST_KIND(post);
	long long now = now_ms(CLOCK_MONOTONIC);
	enum chat_outcome outcome;
	const char *driver = "unknown";
	long wait;
	char why[256] = "";

	if (snap == NULL)
		return ATTEMPT_DONE;
	if (p->shared_record != NULL &&
	    !shared_outbox_still_ours(&(struct shared_post){ p->post, p->shared_record })) {
		config_release(snap);
		log_info("%s: %s=%s status=handed-on reason=another-relay-has-it",
		    post->queue_id, kind, post->channel);
		return ATTEMPT_HANDED_ON;
	}
	if (p->deadline == 0)
		p->deadline = now + snap->config->slack_retry_time * 1000LL;
	p->attempts++;
	outcome = send_once(snap->config, post, &driver, &wait, why, sizeof(why));
	config_release(snap);
	if (worker_stop && outcome != CHAT_SENT)
		return ATTEMPT_STOPPED;
	if (outcome == CHAT_SENT) {
		metrics_chat_post(driver, METRICS_CHAT_SENT);
		log_info("%s: %s=%s status=sent attempts=%u", post->queue_id, kind,
		    post->channel, p->attempts);
		return ATTEMPT_DONE;
	}
	if (outcome == CHAT_REJECTED) {
		metrics_chat_post(driver, METRICS_CHAT_FAILED);
		log_error("%s: %s=%s status=failed error=%s subject=\"%s\"",
		    post->queue_id, kind, post->channel, why, post->subject);
		return ATTEMPT_DONE;
	}
	if (outcome != CHAT_RATE_LIMITED || wait < 0) {
		/* no word from the server on when: back off exponentially */
		wait = p->backoff;
		if (p->backoff < SLACK_BACKOFF_MAX)
			p->backoff *= 2;
	}
	now = now_ms(CLOCK_MONOTONIC);
	if (wait > SLACK_RETRY_AFTER_MAX || now + wait * 1000LL > p->deadline) {
		metrics_chat_post(driver, METRICS_CHAT_FAILED);
		log_error("%s: %s=%s status=failed error=%s attempts=%u "
		    "reason=retry-time-exhausted subject=\"%s\"", post->queue_id, kind,
		    post->channel, why, p->attempts, post->subject);
		return ATTEMPT_DONE;
	}
	metrics_chat_post(driver, METRICS_CHAT_RETRIED);
	log_warning("%s: %s=%s status=deferred error=%s retry_in=%lds",
	    post->queue_id, kind, post->channel, why, wait);
	p->not_before = now + wait * 1000LL;
	return ATTEMPT_WAIT;
}

/* Wait until wake (monotonic ms; -1: until woken).  Called with queue_lock held. */
static void
wait_until(long long wake)
{
	struct timespec until;
	long long delta;

	if (wake < 0) {
		pthread_cond_wait(&queue_wake, &queue_lock);
		return;
	}
	delta = wake - now_ms(CLOCK_MONOTONIC);
	if (delta <= 0)
		return;
	until = deadline_in(0);
	until.tv_sec += (time_t)(delta / 1000);
	until.tv_nsec += (long)(delta % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&queue_wake, &queue_lock, &until);
}

/*
 * A post is finished (sent, failed for good, or handed on): out of the
 * journal or the shared outbox, where it was kept until now.  Called
 * without queue_lock: both may wait for I/O.
 */
static void
finish(struct pending *p, enum attempt_result result)
{
	if (p->shared_record == NULL)
		outbox_journal_done(p->post->id);
	else if (result != ATTEMPT_HANDED_ON)
		shared_outbox_done(&(struct shared_post){ p->post, p->shared_record });
	slack_post_free(p->post);
	free(p->shared_record);
}

/* The queue's limit under the config in force. */
static size_t
queue_limit(void)
{
	struct config_snapshot *snap = config_acquire();
	size_t limit = snap ? (size_t)snap->config->slack_queue_size : 0;

	config_release(snap);
	return limit;
}

/*
 * Take posts from the shared outbox while the queue has room, at once
 * when this relay pushed one, else every SHARED_POLL_MS (which also keeps
 * the heartbeat going).  Called with queue_lock held; drops it for the
 * store's I/O.
 */
static void
take_shared(void)
{
	struct shared_post taken[SHARED_TAKE_MAX];
	long long now = now_ms(CLOCK_MONOTONIC);
	size_t limit, room = 0, n;

	if (!shared_state_configured() || draining || (!shared_pushed && now < shared_next_take))
		return;
	shared_pushed = false;
	shared_next_take = now + SHARED_POLL_MS;
	pthread_mutex_unlock(&queue_lock);
	limit = queue_limit();
	pthread_mutex_lock(&queue_lock);
	if (queue_len < limit)
		room = limit - queue_len < SHARED_TAKE_MAX ? limit - queue_len : SHARED_TAKE_MAX;
	pthread_mutex_unlock(&queue_lock);
	n = shared_outbox_take(room, taken);
	pthread_mutex_lock(&queue_lock);
	queue = xgrow(queue, &queue_cap, queue_len + n, sizeof(*queue));
	for (size_t i = 0; i < n; i++)
		queue[queue_len++] = (struct pending){ .post = taken[i].post, .backoff = 1,
		    .shared_record = taken[i].record };
	if (n > 0 && n == room)
		shared_pushed = true;	/* more may wait */
	metrics_chat_queue_depth(queue_len);
}

/* The earlier of two wake-up times (-1: none). */
static long long
earlier(long long a, long long b)
{
	return a < 0 ? b : b < 0 || a < b ? a : b;
}

static void *
worker_main(void *arg)
{
	(void)arg;
	slack_users_reset();
	pthread_mutex_lock(&queue_lock);
	for (;;) {
		enum attempt_result result;
		struct pending current;
		long long wake;
		size_t i;

		if (worker_stop || (queue_len == 0 && draining))
			break;
		take_shared();
		if (!pick(now_ms(CLOCK_MONOTONIC), &i, &wake)) {
			wait_until(earlier(queue_len == 0 ? -1 : wake, shared_state_configured() &&
			    !draining ? shared_next_take : -1));
			continue;
		}
		/* the post stays queued while it is sent, so a stop keeps it */
		sending = true;
		current = queue[i];	/* an enqueue may move the array meanwhile */
		pthread_mutex_unlock(&queue_lock);
		result = attempt(&current);
		pthread_mutex_lock(&queue_lock);
		sending = false;
		queue[i] = current;	/* only the worker removes: i is still its place */
		if (result == ATTEMPT_STOPPED)
			break;
		if (result != ATTEMPT_WAIT) {
			struct pending finished = queue[i];

			memmove(&queue[i], &queue[i + 1], (queue_len - i - 1) * sizeof(*queue));
			queue_len--;
			metrics_chat_queue_depth(queue_len);
			/* the journal may rewrite itself: not while enqueues wait for us */
			pthread_mutex_unlock(&queue_lock);
			finish(&finished, result);
			pthread_mutex_lock(&queue_lock);
		}
	}
	pthread_mutex_unlock(&queue_lock);
	if (shared_state_configured())
		shared_outbox_close();
	slack_users_reset();
	return NULL;
}

int
slack_start(void)
{
	int rc;

	cond_init_monotonic(&queue_wake);
	pthread_mutex_lock(&queue_lock);
	worker_running = true;
	pthread_mutex_unlock(&queue_lock);
	rc = pthread_create(&worker, NULL, worker_main, NULL);
	if (rc != 0) {
		worker_running = false;
		log_error("cannot start the chat worker: %s", strerror(rc));
		return -1;
	}
	return 0;
}

struct slack_post **
slack_stop(int drain_seconds, size_t *n)
{
	struct slack_post **left;
	long long deadline = now_ms(CLOCK_MONOTONIC) + drain_seconds * 1000LL;
	bool empty = false;

	pthread_mutex_lock(&queue_lock);
	if (worker_running) {
		draining = true;
		pthread_cond_broadcast(&queue_wake);
	}
	pthread_mutex_unlock(&queue_lock);
	while (worker_running && now_ms(CLOCK_MONOTONIC) < deadline && !empty) {
		struct timespec tick = { 0, 50 * 1000 * 1000 };

		nanosleep(&tick, NULL);
		pthread_mutex_lock(&queue_lock);
		empty = queue_len == 0;
		pthread_mutex_unlock(&queue_lock);
	}
	pthread_mutex_lock(&queue_lock);
	worker_stop = true;
	pthread_cond_broadcast(&queue_wake);
	pthread_mutex_unlock(&queue_lock);
	if (worker_running)
		pthread_join(worker, NULL);
	pthread_mutex_lock(&queue_lock);
	worker_running = false;
	left = xcalloc(queue_len ? queue_len : 1, sizeof(*left));
	*n = 0;
	for (size_t i = 0; i < queue_len; i++) {
		/* a shared post stays in this node's list: a restart takes it back */
		if (queue[i].shared_record != NULL) {
			slack_post_free(queue[i].post);
			free(queue[i].shared_record);
		} else {
			left[(*n)++] = queue[i].post;
		}
	}
	free(queue);
	queue = NULL;
	queue_len = queue_cap = 0;
	metrics_chat_queue_depth(0);
	pthread_mutex_unlock(&queue_lock);
	return left;
}

/*
 * slack.c - Slack worker thread (see slack.h).
 *
 * One post at a time, in order: a 429 means Slack wants us to slow down,
 * so the whole queue waits.  Settings (token, API URL, webhooks, retry
 * time) are read from the config in force for each post, so a reload
 * applies to the next post.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock_wait.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "slack.h"
#include "snapshots.h"
#include "strbuf.h"
#include "xalloc.h"

/* Backoff for 5xx and network errors doubles from 1 s up to this. */
#define SLACK_BACKOFF_MAX 60

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_wake;
static struct slack_post **queue;	/* ring buffer */
static size_t queue_cap, queue_head, queue_len;
static bool worker_running;
static bool sending;			/* queue[queue_head] is in flight */
static atomic_bool worker_stop;	/* abort, even mid-request */
static bool draining;			/* stop once the queue is empty */
static unsigned long dropped;
static pthread_t worker;

static time_t
now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

bool
slack_enqueue(struct slack_post *post, size_t limit)
{
	pthread_mutex_lock(&queue_lock);
	/* the post in flight stays queued (so a stop keeps it) but is not waiting */
	if (!worker_running || queue_len - (sending ? 1 : 0) >= limit) {
		unsigned long total = ++dropped;

		pthread_mutex_unlock(&queue_lock);
		log_error("%s: slack=%s status=dropped reason=%s dropped_total=%lu",
		    post->queue_id, post->channel,
		    worker_running ? "queue-full" : "not-running", total);
		slack_post_free(post);
		return false;
	}
	if (queue_len == queue_cap) {
		size_t cap = queue_cap ? queue_cap * 2 : 64;
		struct slack_post **bigger = xcalloc(cap, sizeof(*bigger));

		for (size_t i = 0; i < queue_len; i++)
			bigger[i] = queue[(queue_head + i) % queue_cap];
		free(queue);
		queue = bigger;
		queue_cap = cap;
		queue_head = 0;
	}
	queue[(queue_head + queue_len++) % queue_cap] = post;
	pthread_cond_signal(&queue_wake);
	pthread_mutex_unlock(&queue_lock);
	return true;
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

/* Sleep up to seconds; false if the worker is to stop meanwhile. */
static bool
pause_for(long seconds)
{
	struct timespec until = deadline_in(seconds);
	bool stop;

	pthread_mutex_lock(&queue_lock);
	while (!worker_stop &&
	    pthread_cond_timedwait(&queue_wake, &queue_lock, &until) != ETIMEDOUT)
		;
	stop = worker_stop;
	pthread_mutex_unlock(&queue_lock);
	return !stop;
}

/* Send once; the outcome, with Retry-After in *retry_after. */
static enum slack_outcome
send_once(const struct config *config, const struct slack_post *post,
    const char *payload, long *retry_after, char *why, size_t whylen)
{
	const char *webhook = config_webhook_for(config, post->channel);
	struct strbuf url = STRBUF_INIT;
	struct http_response resp = { 0 };
	struct http_request req = {
		.post_json = payload,
		.token = webhook ? NULL : config->slack_token,
		.timeout = SLACK_REQUEST_TIMEOUT,
		.stop = &worker_stop,
	};
	enum slack_outcome outcome;

	if (webhook != NULL)
		strbuf_adds(&url, webhook);
	else
		strbuf_addf(&url, "%s/chat.postMessage", config->slack_api);
	req.url = url.data;
	if (webhook == NULL && config->slack_token == NULL) {
		snprintf(why, whylen, "no slack-token and no webhook for the channel");
		outcome = SLACK_REJECTED;
	} else if (http_request(&req, &resp) != 0) {
		snprintf(why, whylen, "%s", resp.error);
		outcome = SLACK_RETRY;
	} else {
		outcome = slack_classify(resp.status, resp.body.data, resp.body.len,
		    webhook != NULL, why, whylen);
		*retry_after = resp.retry_after;
	}
	http_response_free(&resp);
	strbuf_free(&url);
	return outcome;
}

/*
 * Send one post, retrying 429 after Retry-After and 5xx or network errors
 * with backoff, for at most the configured retry time.  False if the
 * worker was told to stop before it was done: the post is to be kept.
 */
static bool
deliver(const struct slack_post *post)
{
	struct config_snapshot *snap = config_acquire();
	char *payload = slack_payload(post);
	time_t deadline = now_monotonic() + (snap ? snap->config->slack_retry_time : 0);
	long backoff = 1;
	bool finished = true;
	char why[256] = "";

	for (unsigned attempt = 1; snap != NULL; attempt++) {
		long retry_after = -1, wait;
		enum slack_outcome outcome = send_once(snap->config, post, payload,
		    &retry_after, why, sizeof(why));

		if (worker_stop && outcome != SLACK_SENT) {
			finished = false;
			break;
		}
		if (outcome == SLACK_SENT) {
			log_info("%s: slack=%s status=sent attempts=%u", post->queue_id,
			    post->channel, attempt);
			break;
		}
		if (outcome == SLACK_REJECTED) {
			log_error("%s: slack=%s status=failed error=%s subject=\"%s\"",
			    post->queue_id, post->channel, why, post->subject);
			break;
		}
		wait = outcome == SLACK_RATE_LIMITED ? (retry_after >= 0 ? retry_after : 1) :
		    backoff;
		if (outcome == SLACK_RETRY && backoff < SLACK_BACKOFF_MAX)
			backoff *= 2;
		if (wait > SLACK_RETRY_AFTER_MAX || now_monotonic() + wait > deadline) {
			log_error("%s: slack=%s status=failed error=%s attempts=%u "
			    "reason=retry-time-exhausted subject=\"%s\"", post->queue_id,
			    post->channel, why, attempt, post->subject);
			break;
		}
		log_warning("%s: slack=%s status=deferred error=%s retry_in=%lds",
		    post->queue_id, post->channel, why, wait);
		if (!pause_for(wait)) {
			finished = false;
			break;
		}
	}
	free(payload);
	config_release(snap);
	return finished;
}

static void *
worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&queue_lock);
	for (;;) {
		struct slack_post *post;

		while (queue_len == 0 && !worker_stop && !draining)
			pthread_cond_wait(&queue_wake, &queue_lock);
		if (worker_stop || queue_len == 0)
			break;
		/* the post stays queued while it is sent, so a stop keeps it */
		post = queue[queue_head];
		sending = true;
		pthread_mutex_unlock(&queue_lock);
		if (!deliver(post)) {
			pthread_mutex_lock(&queue_lock);
			sending = false;
			break;
		}
		pthread_mutex_lock(&queue_lock);
		sending = false;
		queue_head = (queue_head + 1) % queue_cap;
		queue_len--;
		slack_post_free(post);
	}
	pthread_mutex_unlock(&queue_lock);
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
		log_error("cannot start the Slack worker: %s", strerror(rc));
		return -1;
	}
	return 0;
}

struct slack_post **
slack_stop(int drain_seconds, size_t *n)
{
	struct slack_post **left;
	time_t deadline = now_monotonic() + drain_seconds;
	bool empty = false;

	pthread_mutex_lock(&queue_lock);
	if (worker_running) {
		draining = true;
		pthread_cond_broadcast(&queue_wake);
	}
	pthread_mutex_unlock(&queue_lock);
	while (worker_running && now_monotonic() < deadline && !empty) {
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
	for (size_t i = 0; i < queue_len; i++)
		left[i] = queue[(queue_head + i) % queue_cap];
	*n = queue_len;
	free(queue);
	queue = NULL;
	queue_len = queue_cap = queue_head = 0;
	pthread_mutex_unlock(&queue_lock);
	return left;
}

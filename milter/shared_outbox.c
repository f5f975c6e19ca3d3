/*
 * shared_outbox.c - the chat worker's side of the shared outbox (see
 * shared_outbox.h).  Only the worker thread calls in, so the connection
 * and this file's state need no lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "outbox_record.h"
#include "shared_outbox.h"
#include "shared_state.h"
#include "store_conn.h"
#include "strbuf.h"
#include "xalloc.h"

#define CONNECT_MS 1000
#define IO_MS 2000
#define RETRY_MS 5000	/* the worker sends this relay's posts meanwhile */
#define TICK_MS 1000
/* Posts taken per call, and moved back from a dead node per tick. */
#define TAKE_BATCH 16
#define RECOVER_BATCH 1000
/* Acks kept while the store is down; past this a resend is possible. */
#define PENDING_ACKS_MAX 10000

/* Is the post still this node's to send: not sent by anyone, still in our list? */
static const char owned_script[] =
	"if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
	"if redis.call('LPOS', KEYS[1], ARGV[1]) == false then return 0 end\n"
	"return 1\n";

static struct {
	struct store_conn conn;
	bool connected;
	bool own_recovered;	/* a previous life's list handed back */
	bool warned;		/* this outage was logged */
	long long next_connect, next_tick;	/* monotonic ms */
	char *outbox, *processing, *node_key, *nodes;
	struct shared_post *acks;	/* done while the store was down */
	size_t nacks, acks_cap;
} ob;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct store_settings *
settings(void)
{
	return shared_state_settings();
}

static void
drop_connection(const char *why)
{
	store_conn_close(&ob.conn);
	ob.connected = false;
	ob.next_connect = now_ms() + RETRY_MS;
	if (!ob.warned)
		log_warning("shared outbox %s: unavailable (%s); sending this relay's own "
		    "posts until it answers", settings()->url_text, why);
	ob.warned = true;
}

/* One command; NULL when it failed (the connection is dropped) or was refused. */
static redisReply *
command(int argc, const char **argv)
{
	char err[256];
	redisReply *reply;

	if (!ob.connected)	/* dropped earlier in this call */
		return NULL;
	reply = store_conn_command(&ob.conn, err, sizeof(err), argc, argv);
	if (reply == NULL) {
		drop_connection(err);
		return NULL;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		log_error("shared outbox %s: %s refused: %.160s", settings()->url_text, argv[0],
		    reply->str);
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

/* A command whose answer does not matter beyond success. */
static bool
run(int argc, const char **argv)
{
	redisReply *reply = command(argc, argv);

	if (reply != NULL)
		freeReplyObject(reply);
	return reply != NULL;
}

static bool
connect_store(void)
{
	char err[256];

	if (ob.connected)
		return true;
	if (now_ms() < ob.next_connect)
		return false;
	if (ob.outbox == NULL) {
		ob.outbox = store_key(settings(), "outbox", NULL);
		ob.processing = store_key(settings(), "processing", settings()->node);
		ob.node_key = store_key(settings(), "node", settings()->node);
		ob.nodes = store_key(settings(), "nodes", NULL);
	}
	if (store_conn_open(settings(), CONNECT_MS, IO_MS, &ob.conn, err, sizeof(err)) != 0) {
		drop_connection(err);
		return false;
	}
	if (ob.warned)
		log_info("shared outbox %s: back", settings()->url_text);
	ob.connected = true;
	ob.warned = false;
	return true;
}

static void
shared_post_free(struct shared_post *p)
{
	slack_post_free(p->post);
	free(p->record);
	memset(p, 0, sizeof(*p));
}

/* Forget a post: sent (so no one sends it again), and out of our list. */
static bool
ack(const struct shared_post *p)
{
	struct strbuf ttl = STRBUF_INIT;
	char *sent = store_key(settings(), "sent", p->post->id);
	bool ok;

	strbuf_addf(&ttl, "%ld", settings()->ttl);
	ok = run(5, (const char *[]){ "SET", sent, "1", "EX", ttl.data }) &&
	    run(4, (const char *[]){ "LREM", ob.processing, "1", p->record });
	strbuf_free(&ttl);
	free(sent);
	return ok;
}

static void
flush_acks(void)
{
	size_t done = 0;

	while (done < ob.nacks && ack(&ob.acks[done]))
		shared_post_free(&ob.acks[done++]);
	if (done == 0)
		return;		/* ob.acks may be NULL: no memmove on it */
	memmove(ob.acks, ob.acks + done, (ob.nacks - done) * sizeof(*ob.acks));
	ob.nacks -= done;
}

void
shared_outbox_done(const struct shared_post *taken)
{
	struct shared_post copy = {
		.post = xcalloc(1, sizeof(struct slack_post)),
		.record = xstrdup(taken->record),
	};

	if (connect_store() && ob.nacks == 0 && ack(taken)) {
		free(copy.post);
		free(copy.record);
		return;
	}
	/* keep the id and record only: that is all an ack needs */
	copy.post->id = xstrdup(taken->post->id);
	if (ob.nacks >= PENDING_ACKS_MAX) {
		log_error("shared outbox: %d acks waiting for the store; post %s may be sent "
		    "again", PENDING_ACKS_MAX, copy.post->id);
		shared_post_free(&copy);
		return;
	}
	ob.acks = xgrow(ob.acks, &ob.acks_cap, ob.nacks + 1, sizeof(*ob.acks));
	ob.acks[ob.nacks++] = copy;
}

/*
 * A node whose heartbeat is gone (or this node, once per life: what a
 * previous life took and did not finish): move its posts back to the head
 * of the outbox, where the next taker finds them first.
 */
static void
recover_node(const char *node, bool own)
{
	char *heartbeat = store_key(settings(), "node", node);
	char *list = store_key(settings(), "processing", node);
	redisReply *alive = own ? NULL : command(2, (const char *[]){ "EXISTS", heartbeat });
	size_t moved = 0;
	bool empty = false;

	if (own || (alive != NULL && alive->type == REDIS_REPLY_INTEGER && alive->integer == 0)) {
		/* our own list is at most a queue's worth: all of it, so takes cannot mix in */
		while ((own || moved < RECOVER_BATCH) && !empty) {
			redisReply *r = command(5, (const char *[]){ "LMOVE", list, ob.outbox,
			    "RIGHT", "LEFT" });

			empty = r == NULL || r->type != REDIS_REPLY_STRING;
			moved += !empty;
			if (r != NULL)
				freeReplyObject(r);
		}
		if (empty && ob.connected && !own)
			run(3, (const char *[]){ "SREM", ob.nodes, node });
		if (moved > 0 && own)
			log_info("shared outbox: %zu posts this node held when it last stopped "
			    "handed back to the outbox", moved);
		else if (moved > 0)
			log_warning("shared outbox: node %s stopped; %zu posts it held handed "
			    "back to the outbox", node, moved);
		ob.own_recovered |= own && empty;
	}
	if (alive != NULL)
		freeReplyObject(alive);
	free(heartbeat);
	free(list);
}

/* Every TICK_MS: our heartbeat, then any dead node's posts. */
static void
tick(void)
{
	redisReply *nodes;
	char ttl[16];

	if (now_ms() < ob.next_tick)
		return;
	ob.next_tick = now_ms() + TICK_MS;
	snprintf(ttl, sizeof(ttl), "%d", SHARED_NODE_TTL);
	if (!run(5, (const char *[]){ "SET", ob.node_key, "1", "EX", ttl }) ||
	    !run(3, (const char *[]){ "SADD", ob.nodes, settings()->node }))
		return;
	nodes = command(2, (const char *[]){ "SMEMBERS", ob.nodes });
	for (size_t i = 0; nodes != NULL && i < nodes->elements && ob.connected; i++) {
		const redisReply *n = nodes->element[i];

		if (n->type == REDIS_REPLY_STRING && strcmp(n->str, settings()->node) != 0)
			recover_node(n->str, false);
	}
	if (nodes != NULL)
		freeReplyObject(nodes);
}

/*
 * A record taken: the post it holds, or NULL when it is no post (dropped
 * from our list, logged) or was sent already (dropped quietly).
 */
static struct slack_post *
accept_record(const redisReply *item)
{
	struct slack_post *post = NULL;
	char err[160];
	char *sent;
	redisReply *seen;

	if (outbox_record_read(item->str, item->len, &post, err, sizeof(err)) != 0) {
		log_error("shared outbox: dropped a record that is no post: %s", err);
		run(4, (const char *[]){ "LREM", ob.processing, "1", item->str });
		return NULL;
	}
	sent = store_key(settings(), "sent", post->id);
	seen = command(2, (const char *[]){ "EXISTS", sent });
	free(sent);
	if (seen != NULL && seen->type == REDIS_REPLY_INTEGER && seen->integer == 1) {
		run(4, (const char *[]){ "LREM", ob.processing, "1", item->str });
		slack_post_free(post);
		post = NULL;
	}
	if (seen != NULL)
		freeReplyObject(seen);
	return post;
}

size_t
shared_outbox_take(size_t room, struct shared_post *out)
{
	size_t n = 0;

	if (!connect_store())
		return 0;
	flush_acks();
	tick();
	if (room > TAKE_BATCH)
		room = TAKE_BATCH;
	if (!ob.own_recovered && ob.connected)
		recover_node(settings()->node, true);
	while (n < room && ob.connected) {
		redisReply *item = command(5, (const char *[]){ "LMOVE", ob.outbox,
		    ob.processing, "LEFT", "RIGHT" });
		struct slack_post *post;

		if (item == NULL || item->type != REDIS_REPLY_STRING) {
			if (item != NULL)
				freeReplyObject(item);
			break;
		}
		if ((post = accept_record(item)) != NULL)
			out[n++] = (struct shared_post){ post, xstrdup(item->str) };
		freeReplyObject(item);
	}
	return n;
}

bool
shared_outbox_still_ours(const struct shared_post *taken)
{
	char *sent;
	redisReply *r;
	bool ours = true;	/* the store cannot say: send rather than lose */

	if (!connect_store())
		return true;
	sent = store_key(settings(), "sent", taken->post->id);
	r = command(6, (const char *[]){ "EVAL", owned_script, "2", ob.processing, sent,
	    taken->record });
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		ours = r->integer == 1;
	if (r != NULL)
		freeReplyObject(r);
	free(sent);
	return ours;
}

void
shared_outbox_close(void)
{
	if (ob.connected)
		flush_acks();
	for (size_t i = 0; i < ob.nacks; i++)
		shared_post_free(&ob.acks[i]);
	free(ob.acks);
	store_conn_close(&ob.conn);
	free(ob.outbox);
	free(ob.processing);
	free(ob.node_key);
	free(ob.nodes);
	memset(&ob, 0, sizeof(ob));
}

/*
 * milter.c - libmilter callbacks (see milter.h).
 *
 * Each callback fetches the message context, does one thing and returns.
 * Nothing here touches the network or waits on a lock held across
 * anything slow: groups and config come from snapshots, stage states from
 * a table behind a short lock.  Every failure is logged and fails open
 * (SMFIS_ACCEPT), so a bug in mail2alert never stops mail.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "disposition.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "mime_body.h"
#include "mime_text.h"
#include "post_id.h"
#include "route.h"
#include "slack.h"
#include "snapshots.h"
#include "stage_sync.h"
#include "strbuf.h"
#include "utf8.h"
#include "xalloc.h"

#define TRACE_HEADER "X-Mail2alert"

struct message {
	struct config_snapshot *config;	/* reference held for this message */
	bool decided;			/* the envelope has been looked at */
	const struct manager *manager;	/* NULL: not ours */
	char *sender;
	char **recipients;		/* as Postfix passed them */
	size_t nrecipients, cap;
	/* raw header values, the first of each, cut at MIME_HEADER_MAX */
	struct strbuf subject, from, content_type, transfer_encoding;
	int to_headers;
	int trace_headers;		/* X-Mail2alert headers that came with it */
	bool wants_body;		/* only for Slack posts */
	struct strbuf body;		/* raw, cut at body-limit x MIME_BODY_RAW_FACTOR */
	unsigned long noreply;		/* SMFIP_NR_* of the connection: kept */
};

static struct message *
message_of(SMFICTX *ctx)
{
	struct message *msg = smfi_getpriv(ctx);

	if (msg == NULL) {
		msg = calloc(1, sizeof(*msg));
		if (msg == NULL || smfi_setpriv(ctx, msg) != MI_SUCCESS) {
			log_error("cannot allocate message context");
			free(msg);
			return NULL;
		}
	}
	return msg;
}

/* Forget the current message; the context stays for the next one. */
static void
message_reset(struct message *msg)
{
	unsigned long noreply;

	config_release(msg->config);
	free(msg->sender);
	for (size_t i = 0; i < msg->nrecipients; i++)
		free(msg->recipients[i]);
	free(msg->recipients);
	strbuf_free(&msg->subject);
	strbuf_free(&msg->from);
	strbuf_free(&msg->content_type);
	strbuf_free(&msg->transfer_encoding);
	strbuf_free(&msg->body);
	noreply = msg->noreply;
	memset(msg, 0, sizeof(*msg));
	msg->noreply = noreply;
}

/* "Go on": no answer at all for the steps negotiated as no-reply. */
static sfsistat
go_on(const struct message *msg, unsigned long noreply_flag)
{
	return msg != NULL && (msg->noreply & noreply_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static const char *
queue_id(SMFICTX *ctx)
{
	const char *qid = smfi_getsymval(ctx, "i");

	return qid ? qid : "NOQUEUE";
}

/*
 * The queue id at end of message is the only macro we read: Postfix need
 * not send the others (client name and address, auth, rcpt_addr...) for
 * every message.  An empty list means none for that step.
 */
static void
ask_only_queue_id(SMFICTX *ctx)
{
	static const int none[] = { SMFIM_CONNECT, SMFIM_HELO, SMFIM_ENVFROM,
	    SMFIM_ENVRCPT, SMFIM_DATA, SMFIM_EOH };

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		if (smfi_setsymlist(ctx, none[i], "") != MI_SUCCESS)
			log_warning("smfi_setsymlist: cannot drop the macros of step %d", none[i]);
	}
	if (smfi_setsymlist(ctx, SMFIM_EOM, "{i}") != MI_SUCCESS)
		log_warning("smfi_setsymlist: cannot ask for {i} at end of message");
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/*
	 * Only the steps we look at; skipped steps cost nothing on the wire.
	 * End-of-headers is not skipped: libmilter then rejects a message with
	 * no header at all (DATA straight to end of body) as out of sequence
	 * and never answers, so Postfix times out.  The body is not skipped
	 * either, even when no rule posts to chat: a reload may add one while
	 * this connection stays open, and its messages would post without
	 * text.  A message that needs no body answers its first chunk with
	 * SMFIS_SKIP, and mail we do not want never gets that far.
	 */
	unsigned long skip = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN |
	    SMFIP_SKIP;
	unsigned long noreply = SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR |
	    SMFIP_NR_EOH;
	struct message *msg = message_of(ctx);

	(void)f2;
	(void)f3;
	/*
	 * No-reply flags turn 17 answered steps of a GoCD mail into 3 (DATA,
	 * end of message, and negotiation).  DATA stays answered: without an
	 * answer there, Postfix's Nagle holds its next packet until our delayed
	 * ACK on TCP, 40 ms per message.
	 */
	if (msg == NULL)
		noreply = 0;
	if (msg != NULL)
		msg->noreply = f1 & noreply;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT |
	    SMFIF_SETSYMLIST);
	*pf1 = f1 & (skip | noreply);
	*pf2 = *pf3 = 0;
	if (*pf0 & SMFIF_SETSYMLIST)
		ask_only_queue_id(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct message *msg = message_of(ctx);

	if (msg == NULL)
		return SMFIS_ACCEPT;
	message_reset(msg);
	msg->config = config_acquire();
	if (msg->config != NULL)
		msg->sender = xstrdup(argv[0] ? argv[0] : "");
	/* without a config, DATA (always answered) lets the message go */
	return go_on(msg, SMFIP_NR_MAIL);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct message *msg = smfi_getpriv(ctx);

	if (msg == NULL || argv[0] == NULL)
		return go_on(msg, SMFIP_NR_RCPT);
	msg->recipients = xgrow(msg->recipients, &msg->cap, msg->nrecipients + 1,
	    sizeof(*msg->recipients));
	msg->recipients[msg->nrecipients++] = xstrdup(argv[0]);
	return go_on(msg, SMFIP_NR_RCPT);
}

/*
 * Once the envelope is complete: does any manager want the message?
 * Normally asked at DATA; mail that Postfix's cleanup hands us may come
 * without that step, so the first header asks too.
 */
static bool
wanted(struct message *msg)
{
	if (msg == NULL || msg->config == NULL)
		return false;
	if (!msg->decided) {
		msg->decided = true;
		msg->manager = route_select_manager(msg->config->config, msg->sender,
		    (const char *const *)msg->recipients, msg->nrecipients);
		if (msg->manager != NULL)
			msg->wants_body = manager_posts_to_slack(msg->manager);
		else
			metrics_message_not_wanted();
	}
	if (msg->manager == NULL) {
		message_reset(msg);
		return false;
	}
	return true;
}

/* Unwanted mail is accepted here, so Postfix stops calling us for it. */
static sfsistat
cb_data(SMFICTX *ctx)
{
	return wanted(smfi_getpriv(ctx)) ? SMFIS_CONTINUE : SMFIS_ACCEPT;
}

/* Keep the first value of a header, cut at MIME_HEADER_MAX. */
static void
keep_first(struct strbuf *sb, const char *value)
{
	size_t len = strlen(value);

	if (sb->data == NULL)
		strbuf_add(sb, value, len < MIME_HEADER_MAX ? len : MIME_HEADER_MAX);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct message *msg = smfi_getpriv(ctx);

	/* with no-reply headers, end of message lets unwanted mail go */
	if (!wanted(msg))
		return msg != NULL && (msg->noreply & SMFIP_NR_HDR) ? SMFIS_NOREPLY : SMFIS_ACCEPT;
	if (strcasecmp(name, "Subject") == 0)
		keep_first(&msg->subject, value);
	else if (strcasecmp(name, "From") == 0)
		keep_first(&msg->from, value);
	else if (strcasecmp(name, "Content-Type") == 0)
		keep_first(&msg->content_type, value);
	else if (strcasecmp(name, "Content-Transfer-Encoding") == 0)
		keep_first(&msg->transfer_encoding, value);
	else if (strcasecmp(name, "To") == 0)
		msg->to_headers++;
	else if (strcasecmp(name, TRACE_HEADER) == 0)
		msg->trace_headers++;
	return go_on(msg, SMFIP_NR_HDR);
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	return go_on(smfi_getpriv(ctx), SMFIP_NR_EOH);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct message *msg = smfi_getpriv(ctx);
	size_t limit, room;

	if (msg == NULL || msg->manager == NULL || !msg->wants_body)
		return SMFIS_SKIP;
	limit = (size_t)msg->config->config->body_limit * MIME_BODY_RAW_FACTOR;
	room = limit > msg->body.len ? limit - msg->body.len : 0;
	strbuf_add(&msg->body, (const char *)chunk, len < room ? len : room);
	return msg->body.len >= limit ? SMFIS_SKIP : SMFIS_CONTINUE;
}

/* The To: header becomes the new recipient list. */
static int
replace_to_header(SMFICTX *ctx, const struct message *msg,
    const char *const *addresses, size_t count)
{
	struct strbuf to = STRBUF_INIT;
	int rc = MI_SUCCESS;

	for (size_t a = 0; a < count; a++)
		strbuf_addf(&to, "%s%s", a ? ", " : "", addresses[a]);
	if (msg->to_headers == 0)
		rc = smfi_addheader(ctx, "To", to.data);
	else
		rc = smfi_chgheader(ctx, "To", 1, to.data);
	for (int extra = msg->to_headers; rc == MI_SUCCESS && extra > 1; extra--)
		rc = smfi_chgheader(ctx, "To", extra, NULL);
	strbuf_free(&to);
	return rc;
}

/*
 * Ours is the only trace header: one that came with the message may be
 * forged to look routed, so it goes before ours is added.
 */
static int
replace_trace_header(SMFICTX *ctx, const struct message *msg, const char *value)
{
	int rc = MI_SUCCESS;

	for (int i = msg->trace_headers; rc == MI_SUCCESS && i > 0; i--)
		rc = smfi_chgheader(ctx, TRACE_HEADER, i, NULL);
	return rc == MI_SUCCESS ? smfi_addheader(ctx, TRACE_HEADER, (char *)value) : rc;
}

/*
 * Apply the envelope and header changes; the first that fails is logged
 * by name and stops the rest.
 */
static void
apply_changes(SMFICTX *ctx, const struct message *msg,
    const struct disposition *d, const char *qid)
{
	for (size_t i = 0; i < d->nremove; i++) {
		if (smfi_delrcpt(ctx, (char *)d->remove[i]) != MI_SUCCESS) {
			/* an envelope recipient as the client sent it: escaped */
			char *rcpt = utf8_escaped(d->remove[i]);

			log_error("%s: smfi_delrcpt <%s> failed", qid, rcpt);
			free(rcpt);
			return;
		}
	}
	for (size_t i = 0; i < d->nadd; i++) {
		if (smfi_addrcpt(ctx, (char *)d->add[i]) != MI_SUCCESS) {
			log_error("%s: smfi_addrcpt <%s> failed", qid, d->add[i]);
			return;
		}
	}
	if (d->nto > 0 && replace_to_header(ctx, msg, d->to, d->nto) != MI_SUCCESS) {
		log_error("%s: smfi_chgheader/smfi_addheader To failed", qid);
		return;
	}
	if (d->trace != NULL && replace_trace_header(ctx, msg, d->trace) != MI_SUCCESS)
		log_error("%s: smfi_addheader " TRACE_HEADER " failed", qid);
}

static struct slack_post *
build_post(const struct message *msg, const struct route_input *in,
    const struct action *action, const char *body_text, const char *qid)
{
	struct slack_post *post = xcalloc(1, sizeof(*post));

	post->id = post_id_new();
	post->channel = xstrdup(action->target);
	post->named = action->kind == ACTION_CHAT;
	post->style = action->style;
	post->subject = xstrdup(in->subject);
	post->from = mime_decode_header(strbuf_str(&msg->from), msg->from.len);
	post->text = action->style == SLACK_FULL ? xstrdup(body_text) :
	    mime_first_line(body_text);
	post->event = in->event;
	post->queue_id = xstrdup(qid);
	return post;
}

/* Hand every chat post to the worker; it never makes us wait. */
static void
queue_posts(const struct message *msg, const struct route_input *in,
    const struct disposition *d, const char *qid)
{
	const struct config *config = msg->config->config;
	char *body_text = NULL;

	for (size_t i = 0; i < d->nposts; i++) {
		if (body_text == NULL)
			body_text = mime_body_text(strbuf_str(&msg->content_type)[0] ?
			    msg->content_type.data : NULL, msg->transfer_encoding.data,
			    strbuf_str(&msg->body), msg->body.len, (size_t)config->body_limit);
		slack_enqueue(build_post(msg, in, d->posts[i], body_text, qid),
		    (size_t)config->slack_queue_size);
	}
	free(body_text);
}

static sfsistat
apply_disposition(SMFICTX *ctx, const struct message *msg,
    const struct route_input *in, const struct route_result *result,
    const struct disposition *d, const char *qid)
{
	struct strbuf line = STRBUF_INIT;

	disposition_describe(&line, d, in, result);
	if (disposition_is_unresolved(d->outcome))
		log_warning("%s: %s", qid, line.data);
	else
		log_info("%s: %s", qid, line.data);
	strbuf_free(&line);
	queue_posts(msg, in, d, qid);
	apply_changes(ctx, msg, d, qid);
	switch (d->outcome) {
	case OUTCOME_TEMPFAIL:
		smfi_setreply(ctx, DISPOSITION_TEMPFAIL_CODE, DISPOSITION_TEMPFAIL_XCODE,
		    DISPOSITION_TEMPFAIL_TEXT);
		return SMFIS_TEMPFAIL;
	case OUTCOME_DISCARDED:
		return SMFIS_DISCARD;
	default:
		return SMFIS_ACCEPT;
	}
}

/*
 * How often a message is routed again because another message of its
 * stage changed the state in between; more would mean a storm of copies,
 * and the last decision is then kept without recording it.
 */
#define ROUTE_TRIES 4

/*
 * Is the stage's state worth keeping?  Only for pipelines the manager's
 * GoCD knows once its groups are loaded: mail can name any pipeline, and
 * states kept for made-up ones would grow the table without bound.
 */
static bool
keeps_state(const struct route_subject *subject, const struct group_index *groups)
{
	return subject->is_stage && (groups == NULL ||
	    group_index_group_of(groups, subject->stage.pipeline) != NULL);
}

/*
 * Edge-detect, route and decide; record the stage's new state unless the
 * message is tempfailed (it comes back) or another copy came first.
 */
static void
decide(const struct message *msg, struct route_subject *subject,
    const struct group_index *groups, struct route_input *in,
    struct route_result *result, struct disposition *d)
{
	for (int tries = 1;; tries++) {
		stage_states_observe(subject);
		route_input_init(in, msg->manager, groups, subject);
		route_message(in, result);
		disposition_decide(d, msg->config->config, in, result,
		    (const char *const *)msg->recipients, msg->nrecipients);
		if (d->outcome == OUTCOME_TEMPFAIL || !keeps_state(subject, groups) ||
		    stage_sync_commit(subject) || tries == ROUTE_TRIES)
			return;
		disposition_free(d);
	}
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct message *msg = smfi_getpriv(ctx);
	struct route_result result = ROUTE_RESULT_INIT;
	struct groups_snapshot *groups = NULL;
	struct route_subject subject;
	struct disposition d;
	struct route_input in;
	const char *qid = queue_id(ctx);
	struct timespec started, ended;
	sfsistat status;

	if (!wanted(msg))
		return SMFIS_ACCEPT;
	clock_gettime(CLOCK_MONOTONIC, &started);
	route_read_subject(&subject, strbuf_str(&msg->subject), msg->subject.len, NULL);
	if (msg->manager->url != NULL)
		groups = groups_acquire(msg->manager->name);
	decide(msg, &subject, groups ? groups->index : NULL, &in, &result, &d);
	status = apply_disposition(ctx, msg, &in, &result, &d, qid);
	metrics_message(msg->manager->name, d.outcome);
	metrics_event(subject.event);
	if (subject.event != subject.parsed) {
		metrics_edge_rewrite();
		log_info("%s: pipeline=%s stage=%s parsed=%s previous=%s event=%s "
		    "reason=edge-detection", qid, subject.stage.pipeline, subject.stage.stage,
		    event_name(subject.parsed), event_status_name(subject.previous),
		    event_name(subject.event));
	}
	disposition_free(&d);
	route_result_free(&result);
	groups_release(groups);
	route_subject_free(&subject);
	message_reset(msg);
	clock_gettime(CLOCK_MONOTONIC, &ended);
	metrics_eom_duration((uint64_t)(ended.tv_sec - started.tv_sec) * 1000000000u +
	    (uint64_t)ended.tv_nsec - (uint64_t)started.tv_nsec);
	return status;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct message *msg = smfi_getpriv(ctx);

	if (msg != NULL)
		message_reset(msg);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct message *msg = smfi_getpriv(ctx);

	if (msg != NULL) {
		message_reset(msg);
		free(msg);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc mail2alert_filter = {
	.xxfi_name = "mail2alert",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

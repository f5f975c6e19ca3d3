/*
 * route.h - decide where a message goes: the owning manager, the rules
 * that match, and the union of their actions (SPEC sections 1 and 3).
 *
 * Pure: the caller supplies the group index (or NULL when none was ever
 * loaded), the decoded subject and the event after edge detection.  The
 * daemon and the dry run both call this, so they cannot disagree.
 */
#ifndef MAIL2ALERT_ROUTE_H
#define MAIL2ALERT_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "gocd_subject.h"
#include "group_index.h"
#include "stage_table.h"
#include "strbuf.h"

/*
 * The first manager that wants a message with this envelope, or NULL.
 * recipients are as Postfix passed them (with or without angle brackets).
 */
const struct manager *route_select_manager(const struct config *config,
    const char *sender, const char *const *recipients, size_t nrecipients);

/* Whether recipient is one the manager's wish is about (to managers). */
bool route_is_trigger(const struct manager *manager, const char *recipient);

/* What the Subject of a wanted message says, read as the daemon reads it. */
struct route_subject {
	char *subject;			/* decoded, malloc'd */
	struct gocd_subject stage;
	bool is_stage;
	enum stage_status previous;	/* of the stage, before this message */
	enum gocd_event parsed;		/* as the subject states it */
	enum gocd_event event;		/* after edge detection */
};

/*
 * Decode the raw Subject (len bytes), parse it as a GoCD stage subject and
 * edge-detect its event against states (NULL: nothing known).
 */
void route_read_subject(struct route_subject *out, const char *raw, size_t len,
    const struct stage_table *states);

/*
 * Edge detection in two steps, each done under the one lock that guards
 * the daemon's table: observe reads the stage's previous state and sets
 * previous and event; commit records the state after the event, but only
 * if the stage is still in the state observe saw.  When commit returns
 * false another message of the stage came first: observe again (and route
 * again), so two copies of one "failed" mail cannot both be BREAKS.  A
 * message that is tempfailed is never committed: it comes back.
 */
void route_subject_observe(struct route_subject *s, const struct stage_table *states);
bool route_subject_commit(const struct route_subject *s, struct stage_table *states);
void route_subject_free(struct route_subject *s);

/*
 * Compiled rules: what routing works out once per configuration load so
 * that no message pays for it: an id per distinct action (for the union),
 * an id per distinct regex and the compiled regex (each is run once per
 * message), and the hash of each group argument.
 *
 * Ownership: config_parse builds the compiled rules of each manager right
 * after parsing it and keeps them as the manager's opaque routes pointer;
 * config_free frees them.  So they live exactly as long as the config they
 * were built from, and a reload, which builds a new config, builds new
 * compiled rules beside the old: a message in flight keeps the config
 * snapshot it started with, compiled rules included.  They are immutable
 * after route_rules_compile, so any number of threads may route through
 * them at once.
 */
struct route_rules *route_rules_compile(const struct manager *manager);
void route_rules_free(struct route_rules *rules);

struct route_input {
	const struct manager *manager;
	const struct group_index *groups;	/* NULL: never loaded */
	const char *subject;			/* decoded */
	const struct gocd_subject *stage;	/* NULL: not a stage subject */
	enum gocd_event event;			/* after edge detection */
};

struct route_result {
	const struct action **actions;	/* union, first-seen order */
	size_t nactions, cap;
	size_t nmailto;
	bool *matched;			/* per rule of the manager, for -n */
	bool unresolved;		/* a rule needed groups never loaded */
	/*
	 * A rule needed the pipeline's group and the loaded groups list the
	 * pipeline in none: GoCD's group APIs show only what the polling
	 * user may view (and the dashboard API applies that user's saved
	 * filter), so the pipeline may exist yet be hidden from that user.
	 */
	bool not_in_group;
};

#define ROUTE_RESULT_INIT { NULL, 0, 0, 0, NULL, false, false }

/* The input for route_message from a manager, groups and a read subject. */
void route_input_init(struct route_input *in, const struct manager *manager,
    const struct group_index *groups, const struct route_subject *subject);

/* Evaluate every rule of in->manager; out must be ROUTE_RESULT_INIT or reset. */
void route_message(const struct route_input *in, struct route_result *out);
void route_result_free(struct route_result *result);

/*
 * Postfix-style description "manager=gocd pipeline=p stage=s event=BREAKS"
 * and the X-Mail2alert header value "gocd; pipeline=p; stage=s; event=E".
 */
void route_describe(struct strbuf *out, const struct route_input *in);
void route_trace_header(struct strbuf *out, const struct route_input *in);
/* "to=<a>,<b> slack=#c chat=ops" for the actions of a result. */
void route_describe_actions(struct strbuf *out, const struct route_result *r);

#endif

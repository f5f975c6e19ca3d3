/*
 * disposition.c - what happens to a wanted message (see disposition.h).
 */
#include <stdlib.h>

#include "address.h"
#include "disposition.h"
#include "xalloc.h"

static const char *const outcome_names[] = {
	[OUTCOME_ROUTED] = "routed",
	[OUTCOME_DISCARDED] = "discarded",
	[OUTCOME_TRIGGER_REMOVED] = "trigger-removed",
	[OUTCOME_UNRESOLVED] = "unresolved",
	[OUTCOME_TEMPFAIL] = "tempfail",
	[OUTCOME_FALLBACK] = "fallback",
};

const char *
disposition_outcome_name(enum disposition_outcome outcome)
{
	return outcome_names[outcome];
}

bool
disposition_is_unresolved(enum disposition_outcome outcome)
{
	return outcome == OUTCOME_UNRESOLVED || outcome == OUTCOME_TEMPFAIL ||
	    outcome == OUTCOME_FALLBACK;
}

static void
push(const char **list, size_t *n, const char *item)
{
	list[(*n)++] = item;
}

/* Is address one of the recipients that stay (not a trigger)? */
static bool
kept_recipient(const struct manager *m, const char *const *recipients,
    size_t nrecipients, const char *address)
{
	for (size_t i = 0; i < nrecipients; i++) {
		if (!route_is_trigger(m, recipients[i]) &&
		    address_equal(recipients[i], address))
			return true;
	}
	return false;
}

/*
 * The triggers go; each target comes unless a recipient that stays
 * already gets the message.  The To: header lists every target.
 */
static void
replace_triggers(struct disposition *d, const struct manager *m,
    const char *const *recipients, size_t nrecipients,
    const char *const *targets, size_t ntargets)
{
	d->remove = xcalloc(nrecipients + 1, sizeof(*d->remove));
	d->add = xcalloc(ntargets + 1, sizeof(*d->add));
	d->to = xcalloc(ntargets + 1, sizeof(*d->to));
	for (size_t i = 0; i < nrecipients; i++) {
		if (route_is_trigger(m, recipients[i]))
			push(d->remove, &d->nremove, recipients[i]);
	}
	for (size_t t = 0; t < ntargets; t++) {
		if (!kept_recipient(m, recipients, nrecipients, targets[t]))
			push(d->add, &d->nadd, targets[t]);
		push(d->to, &d->nto, targets[t]);
	}
}

static bool
has_bystanders(const struct manager *m, const char *const *recipients,
    size_t nrecipients)
{
	for (size_t i = 0; i < nrecipients; i++) {
		if (!route_is_trigger(m, recipients[i]))
			return true;
	}
	return false;
}

/* SPEC 1.7: a rule needed groups that were never loaded. */
static void
decide_unresolved(struct disposition *d, const struct config *config,
    const struct manager *m, const char *const *recipients, size_t nrecipients)
{
	const char *fallback = config->unresolved_mailto;

	d->reason = "groups-not-loaded";
	switch (config->unresolved) {
	case UNRESOLVED_TEMPFAIL:
		d->outcome = OUTCOME_TEMPFAIL;
		return;
	case UNRESOLVED_MAILTO:
		d->outcome = OUTCOME_FALLBACK;
		replace_triggers(d, m, recipients, nrecipients, &fallback, 1);
		break;
	case UNRESOLVED_ACCEPT:
		d->outcome = OUTCOME_UNRESOLVED;
		break;
	}
	d->trace = xstrdup("unresolved");
}

static void
decide_routed(struct disposition *d, const struct route_input *in,
    const struct route_result *result, const char *const *recipients,
    size_t nrecipients)
{
	const char **targets = xcalloc(result->nactions + 1, sizeof(*targets));
	size_t ntargets = 0;
	struct strbuf trace = STRBUF_INIT;

	d->posts = xcalloc(result->nactions + 1, sizeof(*d->posts));
	for (size_t i = 0; i < result->nactions; i++) {
		const struct action *a = result->actions[i];

		if (a->kind == ACTION_MAILTO)
			push(targets, &ntargets, a->target);
		else
			d->posts[d->nposts++] = a;
	}
	if (ntargets > 0) {
		d->outcome = OUTCOME_ROUTED;
		replace_triggers(d, in->manager, recipients, nrecipients, targets, ntargets);
		route_trace_header(&trace, in);
		d->trace = strbuf_detach(&trace);
	} else if (has_bystanders(in->manager, recipients, nrecipients)) {
		/* discarding would lose the mail of recipients the rules are not about */
		d->outcome = OUTCOME_TRIGGER_REMOVED;
		replace_triggers(d, in->manager, recipients, nrecipients, NULL, 0);
	} else {
		d->outcome = OUTCOME_DISCARDED;
	}
	if (ntargets == 0 && result->not_in_group)
		d->reason = "pipeline-not-in-any-group";
	free(targets);
}

void
disposition_decide(struct disposition *out, const struct config *config,
    const struct route_input *in, const struct route_result *result,
    const char *const *recipients, size_t nrecipients)
{
	*out = (struct disposition){ 0 };
	if (result->unresolved)
		decide_unresolved(out, config, in->manager, recipients, nrecipients);
	else
		decide_routed(out, in, result, recipients, nrecipients);
}

void
disposition_free(struct disposition *d)
{
	free(d->remove);
	free(d->add);
	free(d->to);
	free(d->trace);
	free(d->posts);
	*d = (struct disposition){ 0 };
}

void
disposition_describe(struct strbuf *out, const struct disposition *d,
    const struct route_input *in, const struct route_result *result)
{
	route_describe(out, in);
	switch (d->outcome) {
	case OUTCOME_ROUTED:
	case OUTCOME_DISCARDED:
	case OUTCOME_TRIGGER_REMOVED:
		route_describe_actions(out, result);
		strbuf_addf(out, " status=%s", disposition_outcome_name(d->outcome));
		if (d->reason != NULL)
			strbuf_addf(out, " reason=%s", d->reason);
		return;
	case OUTCOME_FALLBACK:
		strbuf_addf(out, " to=<%s>", d->to[0]);
		break;
	case OUTCOME_TEMPFAIL:
	case OUTCOME_UNRESOLVED:
		break;
	}
	/* the fallback's mail is delivered unresolved, as Postfix would say it */
	strbuf_addf(out, " status=%s reason=%s",
	    d->outcome == OUTCOME_TEMPFAIL ? "tempfail" : "unresolved", d->reason);
}

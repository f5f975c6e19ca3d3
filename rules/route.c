/*
 * route.c - manager selection and rule evaluation (see route.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mime_text.h"
#include "route.h"
#include "xalloc.h"

const struct manager *
route_select_manager(const struct config *config, const char *sender,
    const char *const *recipients, size_t nrecipients)
{
	for (size_t i = 0; i < config->nmanagers; i++) {
		const struct manager *m = &config->managers[i];

		if (m->want == WANT_FROM) {
			if (sender != NULL && address_equal(sender, m->want_address))
				return m;
			continue;
		}
		for (size_t r = 0; r < nrecipients; r++) {
			if (address_equal(recipients[r], m->want_address))
				return m;
		}
	}
	return NULL;
}

bool
route_is_trigger(const struct manager *manager, const char *recipient)
{
	return manager->want == WANT_FROM ||
	    address_equal(recipient, manager->want_address);
}

void
route_read_subject(struct route_subject *out, const char *raw, size_t len,
    route_previous_fn previous, void *arg)
{
	memset(out, 0, sizeof(*out));
	out->subject = header_decode(raw, len);
	out->is_stage = gocd_parse_subject(out->subject, &out->stage);
	out->parsed = out->is_stage ? out->stage.event : EVENT_NONE;
	if (out->is_stage && previous != NULL)
		out->previous = previous(out->stage.pipeline, out->stage.stage, arg);
	out->event = edge_detect(out->previous, out->parsed);
}

void
route_subject_free(struct route_subject *s)
{
	free(s->subject);
	s->subject = NULL;
}

void
route_input_init(struct route_input *in, const struct manager *manager,
    const struct group_index *groups, const struct route_subject *subject)
{
	in->manager = manager;
	in->groups = groups;
	in->subject = subject->subject;
	in->stage = subject->is_stage ? &subject->stage : NULL;
	in->event = subject->event;
}

static bool
contains_word(const char *subject, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = subject; *p; p++) {
		if (strncasecmp(p, word, n) == 0)
			return true;
	}
	return n == 0;
}

/* Is the pipeline named by the regex's capture (or whole match) in group? */
static bool
name_like_in_group(const struct rule *rule, const struct route_input *in,
    bool *unresolved)
{
	const char *pipeline = in->stage->pipeline;
	char name[GOCD_NAME_MAX + 1];
	regmatch_t match[2];
	size_t which = rule->regex_has_group ? 1 : 0, len;

	if (regexec(&rule->regex, pipeline, 2, match, 0) != 0 ||
	    match[which].rm_so < 0)
		return false;
	len = (size_t)(match[which].rm_eo - match[which].rm_so);
	memcpy(name, pipeline + match[which].rm_so, len);
	name[len] = '\0';
	if (in->groups == NULL) {
		*unresolved = true;
		return false;
	}
	return group_index_in_group(in->groups, name, rule->args[1]);
}

static bool
function_matches(const struct rule *rule, const struct route_input *in,
    bool *unresolved)
{
	switch (rule->function) {
	case FILTER_ANY:
		return true;
	case FILTER_IN_SUBJECT:
		for (size_t i = 0; i < rule->nargs; i++) {
			if (!contains_word(in->subject, rule->args[i]))
				return false;
		}
		return true;
	case FILTER_IN_GROUP:
		if (in->stage == NULL)
			return false;
		if (in->groups == NULL) {
			*unresolved = true;
			return false;
		}
		return group_index_in_group(in->groups, in->stage->pipeline,
		    rule->args[0]);
	case FILTER_NAME_LIKE:
		return in->stage != NULL && name_like_in_group(rule, in, unresolved);
	}
	return false;
}

static bool
rule_matches(const struct rule *rule, const struct route_input *in,
    bool *unresolved)
{
	if (rule->events != 0 &&
	    (in->event == EVENT_NONE || !(rule->events & EVENT_BIT(in->event))))
		return false;
	return function_matches(rule, in, unresolved);
}

static bool
same_action(const struct action *a, const struct action *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == ACTION_MAILTO)
		return address_equal(a->target, b->target);
	return a->style == b->style && strcmp(a->target, b->target) == 0;
}

static void
add_action(struct route_result *out, const struct action *action)
{
	for (size_t i = 0; i < out->nactions; i++) {
		if (same_action(out->actions[i], action))
			return;
	}
	out->actions = xgrow(out->actions, &out->cap, out->nactions + 1,
	    sizeof(*out->actions));
	out->actions[out->nactions++] = action;
	if (action->kind == ACTION_MAILTO)
		out->nmailto++;
}

void
route_message(const struct route_input *in, struct route_result *out)
{
	const struct manager *m = in->manager;

	out->nactions = out->nmailto = 0;
	out->unresolved = false;
	free(out->matched);
	out->matched = xcalloc(m->nrules, sizeof(bool));
	for (size_t r = 0; r < m->nrules; r++) {
		const struct rule *rule = &m->rules[r];

		out->matched[r] = rule_matches(rule, in, &out->unresolved);
		for (size_t a = 0; out->matched[r] && a < rule->nactions; a++)
			add_action(out, &rule->actions[a]);
	}
}

void
route_result_free(struct route_result *result)
{
	free(result->actions);
	free(result->matched);
	*result = (struct route_result)ROUTE_RESULT_INIT;
}

void
route_describe(struct strbuf *out, const struct route_input *in)
{
	strbuf_addf(out, "manager=%s", in->manager->name);
	if (in->stage != NULL)
		strbuf_addf(out, " pipeline=%s stage=%s", in->stage->pipeline,
		    in->stage->stage);
	strbuf_addf(out, " event=%s", event_name(in->event));
}

void
route_trace_header(struct strbuf *out, const struct route_input *in)
{
	strbuf_adds(out, in->manager->name);
	if (in->stage != NULL)
		strbuf_addf(out, "; pipeline=%s; stage=%s", in->stage->pipeline,
		    in->stage->stage);
	strbuf_addf(out, "; event=%s", event_name(in->event));
}

/* Append " key=v1,v2" (no leading space on an empty buffer) for one kind. */
static void
describe_kind(struct strbuf *out, const struct route_result *r,
    enum action_kind kind, const char *key)
{
	const char *sep = NULL;

	for (size_t i = 0; i < r->nactions; i++) {
		const struct action *a = r->actions[i];

		if (a->kind != kind)
			continue;
		if (sep == NULL)
			strbuf_addf(out, "%s%s=", out->len ? " " : "", key);
		strbuf_addf(out, kind == ACTION_MAILTO ? "%s<%s>" : "%s%s",
		    sep ? sep : "", a->target);
		sep = ",";
	}
}

void
route_describe_actions(struct strbuf *out, const struct route_result *r)
{
	describe_kind(out, r, ACTION_MAILTO, "to");
	describe_kind(out, r, ACTION_SLACK, "slack");
}

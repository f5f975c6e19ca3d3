/*
 * route.c - manager selection and rule evaluation (see route.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mime_text.h"
#include "name_map.h"
#include "pattern.h"
#include "route.h"
#include "xalloc.h"

/* What routing needs of one rule, worked out at load. */
struct route_rule {
	struct pattern *regex;		/* FILTER_NAME_LIKE: compiled args[0] */
	unsigned regex_id;		/* equal for rules with the same regex text */
	uint32_t group_hash;		/* name_hash of the group argument */
	unsigned *action_ids;		/* per action: equal for actions routing
					   treats as one (action_same) */
};

struct route_rules {
	struct route_rule *rules;	/* per rule of the manager */
	size_t nrules;
	unsigned naction_ids;		/* distinct actions (dedup table size) */
	unsigned nregex_ids;		/* distinct name_like regexes */
};

struct route_rules *
route_rules_compile(const struct manager *m)
{
	struct route_rules *c = xcalloc(1, sizeof(*c));
	const struct action **distinct = NULL;
	const char **regexes = NULL;
	size_t cap = 0, rcap = 0;

	c->rules = xcalloc(m->nrules, sizeof(*c->rules));
	c->nrules = m->nrules;
	for (size_t r = 0; r < m->nrules; r++) {
		const struct rule *rule = &m->rules[r];
		struct route_rule *cr = &c->rules[r];

		cr->action_ids = xcalloc(rule->nactions, sizeof(*cr->action_ids));
		for (size_t a = 0; a < rule->nactions; a++) {
			unsigned id = 0;

			while (id < c->naction_ids && !action_same(distinct[id], &rule->actions[a]))
				id++;
			if (id == c->naction_ids) {
				distinct = xgrow(distinct, &cap, id + 1, sizeof(*distinct));
				distinct[c->naction_ids++] = &rule->actions[a];
			}
			cr->action_ids[a] = id;
		}
		if (rule->function == FILTER_IN_GROUP)
			cr->group_hash = name_hash(rule->args[0], strlen(rule->args[0]));
		if (rule->function == FILTER_NAME_LIKE) {
			unsigned id = 0;
			char why[256];

			cr->group_hash = name_hash(rule->args[1], strlen(rule->args[1]));
			while (id < c->nregex_ids && strcmp(regexes[id], rule->args[0]) != 0)
				id++;
			if (id == c->nregex_ids) {
				regexes = xgrow(regexes, &rcap, id + 1, sizeof(*regexes));
				regexes[c->nregex_ids++] = rule->args[0];
			}
			cr->regex_id = id;
			/* config_parse compiled it once already: it cannot fail here
			   but for memory, and then the rule matches nothing */
			cr->regex = pattern_compile(rule->args[0], why, sizeof(why));
		}
	}
	free(distinct);
	free(regexes);
	return c;
}

void
route_rules_free(struct route_rules *c)
{
	if (c == NULL)
		return;
	for (size_t r = 0; r < c->nrules; r++) {
		pattern_free(c->rules[r].regex);
		free(c->rules[r].action_ids);
	}
	free(c->rules);
	free(c);
}

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
    const struct stage_table *states)
{
	memset(out, 0, sizeof(*out));
	out->subject = mime_decode_header(raw, len);
	out->is_stage = gocd_parse_subject(out->subject, &out->stage);
	out->parsed = out->is_stage ? out->stage.event : EVENT_NONE;
	route_subject_observe(out, states);
}

void
route_subject_observe(struct route_subject *s, const struct stage_table *states)
{
	s->previous = STAGE_UNKNOWN;
	if (s->is_stage && states != NULL)
		s->previous = stage_table_get(states, s->stage.pipeline, s->stage.stage);
	s->event = event_edge_detect(s->previous, s->parsed);
}

bool
route_subject_commit(const struct route_subject *s, struct stage_table *states)
{
	if (!s->is_stage || s->event == EVENT_NONE)
		return true;
	if (stage_table_get(states, s->stage.pipeline, s->stage.stage) != s->previous)
		return false;
	stage_table_set(states, s->stage.pipeline, s->stage.stage,
	    event_status_after(s->event));
	return true;
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

/*
 * What one evaluation works out once and every rule then reuses: the
 * pipeline's group, the lower-cased subject, each distinct regex's answer.
 */
struct eval {
	const struct route_input *in;
	bool not_in_group;		/* see struct route_result */
	bool group_known;
	const char *group;		/* of the pipeline, or NULL */
	uint32_t group_hash;
	char *subject_lower;		/* NULL until an in_subject rule asks */
	signed char *regex_done;	/* per regex id: 0 not yet, 1 done */
	const char **regex_group;	/* per regex id: group of the capture */
	uint32_t *regex_group_hash;
};

static bool
group_is(const char *actual, uint32_t actual_hash, const struct route_rule *rule,
    const char *wanted)
{
	return actual != NULL && actual_hash == rule->group_hash &&
	    strcasecmp(actual, wanted) == 0;
}

static void
know_group(struct eval *ev)
{
	if (ev->group_known)
		return;
	ev->group_known = true;
	ev->group = group_index_group_of(ev->in->groups, ev->in->stage->pipeline);
	if (ev->group != NULL)
		ev->group_hash = name_hash(ev->group, strlen(ev->group));
}

static bool
in_subject(struct eval *ev, const struct rule *rule)
{
	if (ev->subject_lower == NULL) {
		ev->subject_lower = xstrdup(ev->in->subject);
		for (char *c = ev->subject_lower; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	/* the words were lower-cased at load */
	for (size_t i = 0; i < rule->nargs; i++) {
		if (strstr(ev->subject_lower, rule->args[i]) == NULL)
			return false;
	}
	return true;
}

/*
 * The group of the pipeline named by a regex's first capture (or whole
 * match), worked out once per distinct regex.
 */
static const char *
regex_group(struct eval *ev, const struct route_rule *rule, uint32_t *hash)
{
	const char *pipeline = ev->in->stage->pipeline;
	unsigned id = rule->regex_id;
	char name[GOCD_NAME_MAX + 1];
	size_t start, len;

	if (!ev->regex_done[id]) {
		ev->regex_done[id] = 1;
		if (rule->regex != NULL &&
		    pattern_search(rule->regex, pipeline, &start, &len)) {
			memcpy(name, pipeline + start, len);
			name[len] = '\0';
			ev->regex_group[id] = group_index_group_of(ev->in->groups, name);
			if (ev->regex_group[id] != NULL)
				ev->regex_group_hash[id] = name_hash(ev->regex_group[id],
				    strlen(ev->regex_group[id]));
		}
	}
	*hash = ev->regex_group_hash[id];
	return ev->regex_group[id];
}

/* Does the regex match at all?  (Unresolved only matters then.) */
static bool
regex_matches(const struct route_rule *rule, const char *pipeline)
{
	size_t start, len;

	return rule->regex != NULL && pattern_search(rule->regex, pipeline, &start, &len);
}

static bool
function_matches(struct eval *ev, const struct rule *rule,
    const struct route_rule *compiled, bool *unresolved)
{
	const struct route_input *in = ev->in;
	uint32_t hash;
	const char *group;

	switch (rule->function) {
	case FILTER_ANY:
		return true;
	case FILTER_IN_SUBJECT:
		return in_subject(ev, rule);
	case FILTER_IN_GROUP:
		if (in->stage == NULL)
			return false;
		if (in->groups == NULL) {
			*unresolved = true;
			return false;
		}
		know_group(ev);
		if (ev->group == NULL)
			ev->not_in_group = true;
		return group_is(ev->group, ev->group_hash, compiled, rule->args[0]);
	case FILTER_NAME_LIKE:
		if (in->stage == NULL)
			return false;
		if (in->groups == NULL) {
			*unresolved = *unresolved ||
			    regex_matches(compiled, in->stage->pipeline);
			return false;
		}
		group = regex_group(ev, compiled, &hash);
		if (group == NULL && regex_matches(compiled, in->stage->pipeline))
			ev->not_in_group = true;
		return group_is(group, hash, compiled, rule->args[1]);
	}
	return false;
}

static bool
rule_matches(struct eval *ev, const struct rule *rule,
    const struct route_rule *compiled, bool *unresolved)
{
	enum gocd_event event = ev->in->event;

	if (rule->events != 0 &&
	    (event == EVENT_NONE || !(rule->events & EVENT_BIT(event))))
		return false;
	return function_matches(ev, rule, compiled, unresolved);
}

static void
add_action(struct route_result *out, bool *seen, unsigned id,
    const struct action *action)
{
	if (seen[id])
		return;
	seen[id] = true;
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
	const struct route_rules *c = m->routes;
	bool *seen = xcalloc(c->naction_ids, sizeof(bool));
	struct eval ev = { .in = in };

	if (c->nregex_ids > 0 && in->stage != NULL && in->groups != NULL) {
		ev.regex_done = xcalloc(c->nregex_ids, sizeof(*ev.regex_done));
		ev.regex_group = xcalloc(c->nregex_ids, sizeof(*ev.regex_group));
		ev.regex_group_hash = xcalloc(c->nregex_ids, sizeof(*ev.regex_group_hash));
	}
	out->nactions = out->nmailto = 0;
	out->unresolved = false;
	free(out->matched);
	out->matched = xcalloc(m->nrules, sizeof(bool));
	for (size_t r = 0; r < m->nrules; r++) {
		const struct rule *rule = &m->rules[r];
		const struct route_rule *compiled = &c->rules[r];

		out->matched[r] = rule_matches(&ev, rule, compiled, &out->unresolved);
		for (size_t a = 0; out->matched[r] && a < rule->nactions; a++)
			add_action(out, seen, compiled->action_ids[a], &rule->actions[a]);
	}
	out->not_in_group = ev.not_in_group;
	free(seen);
	free(ev.subject_lower);
	free(ev.regex_done);
	free(ev.regex_group);
	free(ev.regex_group_hash);
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
	describe_kind(out, r, ACTION_CHAT, "chat");
}

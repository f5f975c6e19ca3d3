/*
 * config_rules.c - the rules language of the configuration: rules,
 * filters, actions and the teams shorthand (SPEC section 3).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "chat_target.h"
#include "config_read.h"
#include "pattern.h"
#include "strbuf.h"
#include "xalloc.h"

/*
 * Split "TARGET[:brief|:full]" (after "slack:" or "chat:") into a->target
 * and a->style.  chat names hold no colon; nor do Slack targets.
 */
static bool
parse_style(struct config_parse *p, const config_setting_t *at, const char *key,
    const char *text, const char *target, struct action *a)
{
	const char *colon = strchr(target, ':');

	a->style = SLACK_BRIEF;
	if (colon != NULL) {
		if (strcmp(colon, ":brief") == 0)
			a->style = SLACK_BRIEF;
		else if (strcmp(colon, ":full") == 0)
			a->style = SLACK_FULL;
		else
			return config_fail(p, at, key,
			    "\"%s\": style must be :brief or :full", text);
	}
	a->target = xstrndup(target, colon ? (size_t)(colon - target) : strlen(target));
	return true;
}

static bool
parse_action(struct config_parse *p, const config_setting_t *at, const char *key,
    const char *text, struct action *a)
{
	a->text = xstrdup(text);
	if (strncmp(text, "mailto:", 7) == 0) {
		a->kind = ACTION_MAILTO;
		if (!address_is_mailbox(text + 7))
			return config_fail(p, at, key, "\"%s\": not a mail address "
			    "(one plain local-part@domain: no lists, comments or routes)", text);
		a->target = xstrdup(text + 7);
		return true;
	}
	if (strncmp(text, "slack:", 6) == 0) {
		a->kind = ACTION_SLACK;
		if (!parse_style(p, at, key, text, text + 6, a))
			return false;
		if (slack_dest_kind(a->target) == SLACK_DEST_INVALID)
			return config_fail(p, at, key, "\"%s\": expected slack:#channel, "
			    "slack:@user, slack:@user@example.com or slack:USERID", text);
		if (p->config->slack_token == NULL &&
		    config_webhook_for(p->config, a->target) == NULL)
			return config_fail(p, at, key, "\"%s\" needs slack-token, or a "
			    "slack-webhooks entry for %s", text, a->target);
		return true;
	}
	if (strncmp(text, "chat:", 5) == 0) {
		a->kind = ACTION_CHAT;
		if (!parse_style(p, at, key, text, text + 5, a))
			return false;
		if (config_chat_webhook(p->config, a->target) == NULL)
			return config_fail(p, at, key, "\"%s\": no chat-webhooks entry named "
			    "\"%s\"", text, a->target);
		return true;
	}
	return config_fail(p, at, key, "\"%s\": unknown action (mailto:ADDRESS, "
	    "slack:#CHANNEL or chat:NAME)", text);
}

/* The actions list of a rule or team, if present. */
static bool
read_actions(struct config_parse *p, const config_setting_t *group, const char *path,
    struct rule *r)
{
	const config_setting_t *s = config_setting_get_member(group, "actions");
	char key[KEY_PATH_MAX], **texts;
	size_t n;
	bool ok = true;

	config_key_path(key, path, "actions");
	if (!config_get_string_list(p, group, path, "actions", &texts, &n))
		return false;
	r->actions = xcalloc(n, sizeof(*r->actions));
	for (size_t i = 0; i < n && ok; i++) {
		ok = parse_action(p, config_setting_get_elem(s, (unsigned)i), key,
		    texts[i], &r->actions[i]);
		r->nactions = i + 1;
	}
	config_free_string_list(texts, n);
	return ok;
}

bool
config_read_actions(struct config_parse *p, const config_setting_t *group,
    const char *path, void *rule)
{
	char key[KEY_PATH_MAX];

	if (config_setting_get_member(group, "actions") == NULL) {
		config_key_path(key, path, "actions");
		return config_fail(p, group, key,
		    "missing (a list like [\"mailto:team@example.com\"])");
	}
	return read_actions(p, group, path, rule);
}

bool
config_read_team_actions(struct config_parse *p, const config_setting_t *group,
    const char *path, void *team)
{
	return read_actions(p, group, path, &((struct config_team *)team)->rule);
}

static const struct {
	const char *name;
	enum filter_function function;
	size_t min_args, max_args;
	const char *usage;
} functions[] = {
	{ "pipelines.any", FILTER_ANY, 0, 0, "no args" },
	{ "pipelines.all", FILTER_ANY, 0, 0, "no args" },
	{ "pipelines.in_group", FILTER_IN_GROUP, 1, 1, "args = [\"group\"]" },
	{ "pipelines.name_like_in_group", FILTER_NAME_LIKE, 2, 2,
	    "args = [\"regex\", \"group\"]" },
	{ "mail.in_subject", FILTER_IN_SUBJECT, 1, 1000, "args = [\"word\", ...]" },
};
#define NFUNCTIONS (sizeof(functions) / sizeof(functions[0]))

/*
 * Check that the regex of a name_like rule (args[0]) compiles; what names
 * it in the error: "regex" for a filter, "release-pattern" for a team.
 * route_rules_compile compiles it for routing once the manager is read.
 */
#define REGEX_QUOTE_MAX 80

static bool
check_regex(struct config_parse *p, const config_setting_t *at, const char *key,
    const char *what, const struct rule *r)
{
	char why[256];
	struct pattern *compiled = pattern_compile(r->args[0], why, sizeof(why));

	if (compiled == NULL)
		/* a long pattern is cut short, so that why still fits the message */
		return config_fail(p, at, key, "%s \"%.*s%s\" %s", what,
		    REGEX_QUOTE_MAX, r->args[0],
		    strlen(r->args[0]) > REGEX_QUOTE_MAX ? "..." : "", why);
	pattern_free(compiled);
	return true;
}

/*
 * function and args, read together: which args are right depends on the
 * function.
 */
bool
config_read_function(struct config_parse *p, const config_setting_t *filter,
    const char *path, void *rule)
{
	const config_setting_t *fs = config_setting_get_member(filter, "function");
	const config_setting_t *as = config_setting_get_member(filter, "args");
	struct rule *r = rule;
	char *name = NULL, key[KEY_PATH_MAX];
	size_t f;

	if (!config_get_string(p, filter, path, "function", &name) ||
	    !config_get_string_list(p, filter, path, "args", &r->args, &r->nargs)) {
		free(name);
		return false;
	}
	config_key_path(key, path, "function");
	if (name == NULL)
		name = xstrdup("pipelines.any");	/* no function: every pipeline */
	for (f = 0; f < NFUNCTIONS && strcmp(functions[f].name, name) != 0; f++)
		;
	if (f == NFUNCTIONS) {
		config_fail(p, fs, key, "unknown function \"%s\" (pipelines.any, "
		    "pipelines.in_group, pipelines.name_like_in_group, mail.in_subject)", name);
		free(name);
		return false;
	}
	free(name);
	r->function = functions[f].function;
	config_key_path(key, path, "args");
	if (r->nargs < functions[f].min_args || r->nargs > functions[f].max_args)
		return config_fail(p, as ? as : fs, key, "%s takes %s", functions[f].name,
		    functions[f].usage);
	if (r->function == FILTER_NAME_LIKE)
		return check_regex(p, as, key, "regex", r);
	return true;
}

/* args are read with function (above). */
bool
config_read_args(struct config_parse *p, const config_setting_t *filter,
    const char *path, void *rule)
{
	(void)p;
	(void)filter;
	(void)path;
	(void)rule;
	return true;
}

bool
config_read_events(struct config_parse *p, const config_setting_t *group,
    const char *path, void *rule)
{
	const config_setting_t *s = config_setting_get_member(group, "events");
	struct rule *r = rule;
	char **names, key[KEY_PATH_MAX];
	size_t n;
	bool ok = true;

	if (!config_get_string_list(p, group, path, "events", &names, &n))
		return false;
	config_key_path(key, path, "events");
	for (size_t i = 0; i < n && ok; i++) {
		enum gocd_event e;

		if (event_from_name(names[i], &e))
			r->events |= EVENT_BIT(e);
		else
			ok = config_fail(p, config_setting_get_elem(s, (unsigned)i), key,
			    "unknown event \"%s\" (PASSES, FAILS, BREAKS, FIXED, CANCELLED)",
			    names[i]);
	}
	if (ok && s != NULL && n == 0)
		ok = config_fail(p, s, key, "empty: leave it out to match every event");
	config_free_string_list(names, n);
	return ok;
}

bool
config_read_filter(struct config_parse *p, const config_setting_t *rs,
    const char *path, void *rule)
{
	const config_setting_t *filter = config_setting_get_member(rs, "filter");
	char fpath[KEY_PATH_MAX];

	if (filter == NULL)
		return true;
	config_key_path(fpath, path, "filter");
	if (!config_setting_is_group(filter))
		return config_fail(p, filter, fpath, "must be a group { ... }");
	return config_read_scope(p, filter, fpath, CONFIG_FILTER, rule);
}

static bool
parse_rule(struct config_parse *p, const config_setting_t *rs, const char *path,
    struct rule *r)
{
	r->line = config_setting_source_line(rs);
	if (!config_setting_is_group(rs))
		return config_fail(p, rs, path,
		    "a rule must be a group { filter = {...}; actions = [...]; }");
	return config_read_scope(p, rs, path, CONFIG_RULE, r);
}

bool
config_read_rules(struct config_parse *p, const config_setting_t *ms,
    const char *path, void *manager)
{
	const config_setting_t *rs = config_setting_get_member(ms, "rules");
	struct manager *m = manager;
	char key[KEY_PATH_MAX];
	int n;

	config_key_path(key, path, "rules");
	if (rs == NULL)
		return true;
	if (config_setting_type(rs) != CONFIG_TYPE_LIST)
		return config_fail(p, rs, key, "must be a list of rules: ( { ... }, { ... } )");
	n = config_setting_length(rs);
	m->rules = xcalloc((size_t)n, sizeof(*m->rules));
	for (int i = 0; i < n; i++) {
		char rpath[KEY_PATH_MAX + 16];

		snprintf(rpath, sizeof(rpath), "%s[%d]", key, i);
		m->nrules = (size_t)i + 1;
		if (!parse_rule(p, config_setting_get_elem(rs, (unsigned)i), rpath, &m->rules[i]))
			return false;
	}
	return true;
}

bool
config_read_team_groups(struct config_parse *p, const config_setting_t *ts,
    const char *path, void *team)
{
	struct config_team *t = team;

	return config_get_string_list(p, ts, path, "groups", &t->groups, &t->ngroups);
}

/* A rule the teams shorthand stands for; args are copied. */
static bool
add_team_rule(struct config_parse *p, const config_setting_t *at, const char *key,
    struct manager *m, const struct rule *team, enum filter_function function,
    const char *arg0, const char *arg1)
{
	struct rule *r;

	m->rules = xrealloc(m->rules, (m->nrules + 1) * sizeof(*m->rules));
	r = &m->rules[m->nrules++];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(team->name);
	r->owner = team->owner ? xstrdup(team->owner) : NULL;
	r->events = team->events;
	r->function = function;
	r->line = team->line;
	r->nargs = arg1 ? 2 : 1;
	r->args = xcalloc(3, sizeof(char *));
	r->args[0] = xstrdup(arg0);
	if (arg1 != NULL)
		r->args[1] = xstrdup(arg1);
	if (function == FILTER_NAME_LIKE && !check_regex(p, at, key, "release-pattern", r))
		return false;
	r->actions = xcalloc(team->nactions, sizeof(*r->actions));
	for (size_t a = 0; a < team->nactions; a++) {
		r->actions[a] = team->actions[a];
		r->actions[a].target = xstrdup(team->actions[a].target);
		r->actions[a].text = xstrdup(team->actions[a].text);
	}
	r->nactions = team->nactions;
	return true;
}

/*
 * teams = ( { address = "team@x"; groups = ["a", "b"]; events = [...];
 *             release-pattern = "(.+)-release.*"; } )
 * stands for one in_group rule per group (and one name_like_in_group rule
 * per group with a release-pattern), all with the team's actions.
 */
static bool
parse_team(struct config_parse *p, const config_setting_t *ts, const char *path,
    struct manager *m)
{
	struct config_team team = { 0 };
	struct rule *tr = &team.rule;
	char gkey[KEY_PATH_MAX];
	bool ok;

	tr->line = config_setting_source_line(ts);
	config_key_path(gkey, path, "groups");
	ok = config_setting_is_group(ts) ? true : config_fail(p, ts, path,
	    "a team must be a group { address = ...; groups = [...]; }");
	ok = ok && config_read_scope(p, ts, path, CONFIG_TEAM, &team);
	if (ok && team.address != NULL) {
		struct strbuf text = STRBUF_INIT;

		strbuf_addf(&text, "mailto:%s", team.address);
		tr->actions = xrealloc(tr->actions, (tr->nactions + 1) * sizeof(*tr->actions));
		memset(&tr->actions[tr->nactions], 0, sizeof(*tr->actions));
		ok = parse_action(p, ts, path, text.data, &tr->actions[tr->nactions++]);
		strbuf_free(&text);
	}
	if (ok && tr->nactions == 0)
		ok = config_fail(p, ts, path, "needs address or actions");
	if (ok && team.ngroups == 0)
		ok = config_fail(p, ts, gkey, "needs at least one group");
	tr->owner = team.address ? xstrdup(team.address) : NULL;
	for (size_t g = 0; ok && g < team.ngroups; g++) {
		struct strbuf name = STRBUF_INIT;

		strbuf_addf(&name, "team %s: group %s",
		    team.address ? team.address : tr->actions[0].text, team.groups[g]);
		tr->name = name.data;
		ok = add_team_rule(p, ts, path, m, tr, FILTER_IN_GROUP, team.groups[g], NULL);
		strbuf_adds(&name, " (release-pattern)");
		tr->name = name.data;
		if (ok && team.pattern != NULL)
			ok = add_team_rule(p, ts, path, m, tr, FILTER_NAME_LIKE, team.pattern,
			    team.groups[g]);
		tr->name = NULL;
		strbuf_free(&name);
	}
	config_free_rule(tr);
	config_free_scope(CONFIG_TEAM, &team);
	config_free_string_list(team.groups, team.ngroups);
	return ok;
}

bool
config_read_teams(struct config_parse *p, const config_setting_t *ms,
    const char *path, void *manager)
{
	const config_setting_t *ts = config_setting_get_member(ms, "teams");
	char key[KEY_PATH_MAX];

	config_key_path(key, path, "teams");
	if (ts == NULL)
		return true;
	if (config_setting_type(ts) != CONFIG_TYPE_LIST)
		return config_fail(p, ts, key,
		    "must be a list: ( { address = ...; groups = [...]; } )");
	for (int i = 0; i < config_setting_length(ts); i++) {
		char tpath[KEY_PATH_MAX + 16];

		snprintf(tpath, sizeof(tpath), "%s[%d]", key, i);
		if (!parse_team(p, config_setting_get_elem(ts, (unsigned)i), tpath, manager))
			return false;
	}
	return true;
}

/* Does routing treat a and b as one action? (mailto: domains ignore case) */
bool
action_same(const struct action *a, const struct action *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == ACTION_MAILTO)
		return address_equal(a->target, b->target);
	return a->style == b->style && strcmp(a->target, b->target) == 0;
}

void
config_free_rule(struct rule *r)
{
	config_free_scope(CONFIG_RULE, r);
	config_free_string_list(r->args, r->nargs);
	for (size_t a = 0; a < r->nactions; a++) {
		free(r->actions[a].target);
		free(r->actions[a].text);
	}
	free(r->actions);
}

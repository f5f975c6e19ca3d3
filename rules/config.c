/*
 * config.c - parse and validate the configuration (see config.h).
 *
 * Every check names the file, the line and the key, because the person
 * reading the message is an administrator with the file open in an
 * editor.  Unknown keys are errors: a typo must not pass silently.
 */
#include <ctype.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "name_map.h"
#include "strbuf.h"
#include "xalloc.h"

/* Largest body-limit accepted: a Slack post cannot usefully be larger. */
#define BODY_LIMIT_MAX (16L * 1024 * 1024)
#define POLL_INTERVAL_MAX 86400
#define KEY_PATH_MAX 256

struct parse {
	const struct config *config;	/* top-level keys are read first */
	const char *path;
	config_env_fn env;
	void *env_arg;
	char *err;
	size_t errlen;
};

static bool __attribute__((format(printf, 4, 5)))
fail(struct parse *p, const config_setting_t *at, const char *key,
    const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s: %s", p->path,
	    at ? config_setting_source_line(at) : 0, key, what);
	return false;
}

static bool
is_name_start(int c)
{
	return isalpha(c) || c == '_';
}

/*
 * Expand $NAME and ${NAME} from the environment; "$$" is a literal "$".
 * An unset variable is an error: a missing secret must not become "".
 */
static bool
expand_env(struct parse *p, const config_setting_t *at, const char *key,
    const char *in, char **out)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; in[i] != '\0';) {
		bool braced = in[i] == '$' && in[i + 1] == '{';
		size_t start = i + (braced ? 2 : 1), end = start;
		char name[128];
		const char *value;

		if (in[i] != '$') {
			strbuf_addc(&sb, in[i++]);
			continue;
		}
		if (in[i + 1] == '$') {
			strbuf_addc(&sb, '$');
			i += 2;
			continue;
		}
		if (!is_name_start((unsigned char)in[start])) {
			strbuf_addc(&sb, in[i++]);
			continue;
		}
		while (isalnum((unsigned char)in[end]) || in[end] == '_')
			end++;
		if (braced && in[end] != '}') {
			strbuf_free(&sb);
			return fail(p, at, key, "unterminated ${ in \"%s\"", in);
		}
		if (end - start >= sizeof(name)) {
			strbuf_free(&sb);
			return fail(p, at, key, "environment variable name too long");
		}
		memcpy(name, in + start, end - start);
		name[end - start] = '\0';
		value = p->env ? p->env(name, p->env_arg) : NULL;
		if (value == NULL) {
			strbuf_free(&sb);
			return fail(p, at, key, "environment variable %s is not set", name);
		}
		strbuf_adds(&sb, value);
		i = end + (braced ? 1 : 0);
	}
	*out = strbuf_detach(&sb);
	return true;
}

/* "path.name" into buf; a deeper path than KEY_PATH_MAX is only cut short. */
static void
key_path(char *buf, const char *path, const char *name)
{
	if (snprintf(buf, KEY_PATH_MAX, "%s%s%s", path, *path ? "." : "", name) >= KEY_PATH_MAX)
		buf[KEY_PATH_MAX - 1] = '\0';
}

/* Reject keys of group that are not in allowed (NULL-terminated). */
static bool
check_keys(struct parse *p, const config_setting_t *group, const char *path,
    const char *const *allowed)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *member = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(member);
		bool known = false;

		for (const char *const *a = allowed; *a && !known; a++)
			known = strcmp(*a, name) == 0;
		if (!known) {
			char key[KEY_PATH_MAX];

			key_path(key, path, name);
			return fail(p, member, key, "unknown key");
		}
	}
	return true;
}


/* An optional string member, env-expanded; *out stays NULL if absent. */
static bool
get_string(struct parse *p, const config_setting_t *group, const char *path,
    const char *name, char **out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];

	if (s == NULL)
		return true;
	key_path(key, path, name);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(p, s, key, "must be a string");
	free(*out);
	*out = NULL;
	return expand_env(p, s, key, config_setting_get_string(s), out);
}

static bool
get_int(struct parse *p, const config_setting_t *group, const char *path,
    const char *name, long min, long max, long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];
	long long v;

	if (s == NULL)
		return true;
	key_path(key, path, name);
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return fail(p, s, key, "must be an integer");
	if (v < min || v > max)
		return fail(p, s, key, "must be between %ld and %ld", min, max);
	*out = (long)v;
	return true;
}

static void free_string_list(char **list, size_t count);

/*
 * A permission mode.  libconfig 1.5 has no octal numbers, so "0660" (a
 * string) and 660 (an integer, its digits read as octal) both mean 0660.
 */
static bool
get_mode(struct parse *p, const config_setting_t *group, const char *name,
    long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char digits[32], *end;
	long mode;

	if (s == NULL)
		return true;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		snprintf(digits, sizeof(digits), "%s", config_setting_get_string(s));
	else if (config_setting_type(s) == CONFIG_TYPE_INT)
		snprintf(digits, sizeof(digits), "%d", config_setting_get_int(s));
	else
		return fail(p, s, name, "must be an octal mode such as \"0660\"");
	mode = strtol(digits, &end, 8);
	if (*digits == '\0' || *end != '\0' || mode < 0 || mode > 0777)
		return fail(p, s, name, "must be an octal mode between 0 and 0777, such as \"0660\"");
	*out = mode;
	return true;
}

static bool
get_bool(struct parse *p, const config_setting_t *group, const char *path,
    const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];

	if (s == NULL)
		return true;
	key_path(key, path, name);
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(p, s, key, "must be true or false");
	*out = config_setting_get_bool(s);
	return true;
}

/* A member that must be an array or list of strings; on error *out is NULL. */
static bool
get_string_list(struct parse *p, const config_setting_t *group,
    const char *path, const char *name, char ***out, size_t *count)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];
	int n;

	*out = NULL;
	*count = 0;
	if (s == NULL)
		return true;
	key_path(key, path, name);
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(p, s, key, "must be a list of strings, like [\"a\", \"b\"]");
	n = config_setting_length(s);
	*out = xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		bool ok;

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			ok = fail(p, e, key, "element %d must be a string", i + 1);
		else
			ok = expand_env(p, e, key, config_setting_get_string(e), &(*out)[i]);
		if (!ok) {
			/* the callers' error paths do not free a partial list */
			free_string_list(*out, *count);
			*out = NULL;
			*count = 0;
			return false;
		}
		*count = (size_t)i + 1;
	}
	return true;
}

static void
free_string_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

/* Addresses and channel names end up in SMTP commands and headers. */
static bool
is_clean_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == ',' ||
		    c == '"' || c == '\\')
			return false;
	}
	return true;
}

static bool
parse_action(struct parse *p, const config_setting_t *at, const char *key,
    const char *text, struct action *a)
{
	a->text = xstrdup(text);
	if (strncmp(text, "mailto:", 7) == 0) {
		const char *sign = strrchr(text + 7, '@');

		a->kind = ACTION_MAILTO;
		/* local part and domain both present */
		if (!is_clean_token(text + 7) || sign == NULL || sign == text + 7 ||
		    sign[1] == '\0')
			return fail(p, at, key, "\"%s\": not a mail address", text);
		a->target = xstrdup(text + 7);
		return true;
	}
	if (strncmp(text, "slack:", 6) == 0) {
		const char *target = text + 6, *colon = strchr(target, ':');

		a->kind = ACTION_SLACK;
		a->style = SLACK_BRIEF;
		if (colon != NULL) {
			if (strcmp(colon, ":brief") == 0)
				a->style = SLACK_BRIEF;
			else if (strcmp(colon, ":full") == 0)
				a->style = SLACK_FULL;
			else
				return fail(p, at, key, "\"%s\": style must be :brief or :full", text);
		}
		a->target = xstrndup(target, colon ? (size_t)(colon - target) : strlen(target));
		if (!is_clean_token(a->target) || (a->target[0] != '#' && a->target[0] != '@') ||
		    a->target[1] == '\0')
			return fail(p, at, key, "\"%s\": expected slack:#channel or slack:@user", text);
		if (p->config->slack_token == NULL &&
		    config_webhook_for(p->config, a->target) == NULL)
			return fail(p, at, key, "\"%s\" needs slack-token, or a slack-webhooks "
			    "entry for %s", text, a->target);
		return true;
	}
	return fail(p, at, key, "\"%s\": unknown action (mailto:ADDRESS or slack:#CHANNEL)", text);
}

static bool
parse_actions(struct parse *p, const config_setting_t *rule, const char *path,
    struct rule *r)
{
	const config_setting_t *s = config_setting_get_member(rule, "actions");
	char key[KEY_PATH_MAX], **texts;
	size_t n;
	bool ok = true;

	key_path(key, path, "actions");
	if (s == NULL)
		return fail(p, rule, key, "missing (a list like [\"mailto:team@example.com\"])");
	if (!get_string_list(p, rule, path, "actions", &texts, &n))
		return false;
	r->actions = xcalloc(n, sizeof(*r->actions));
	for (size_t i = 0; i < n && ok; i++) {
		ok = parse_action(p, config_setting_get_elem(s, (unsigned)i), key,
		    texts[i], &r->actions[i]);
		r->nactions = i + 1;
	}
	free_string_list(texts, n);
	return ok;
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

static bool
parse_function(struct parse *p, const config_setting_t *filter,
    const char *path, struct rule *r)
{
	const config_setting_t *fs = config_setting_get_member(filter, "function");
	char *name = NULL, key[KEY_PATH_MAX];
	size_t f, nf = sizeof(functions) / sizeof(functions[0]);

	if (!get_string(p, filter, path, "function", &name) ||
	    !get_string_list(p, filter, path, "args", &r->args, &r->nargs)) {
		free(name);
		return false;
	}
	key_path(key, path, "function");
	if (name == NULL)
		name = xstrdup("pipelines.any");	/* no function: every pipeline */
	for (f = 0; f < nf && strcmp(functions[f].name, name) != 0; f++)
		;
	if (f == nf) {
		fail(p, fs, key, "unknown function \"%s\" (pipelines.any, "
		    "pipelines.in_group, pipelines.name_like_in_group, mail.in_subject)", name);
		free(name);
		return false;
	}
	free(name);
	r->function = functions[f].function;
	key_path(key, path, "args");
	if (r->nargs < functions[f].min_args || r->nargs > functions[f].max_args)
		return fail(p, config_setting_get_member(filter, "args") ?
		    config_setting_get_member(filter, "args") : fs, key,
		    "%s takes %s", functions[f].name, functions[f].usage);
	if (r->function == FILTER_NAME_LIKE) {
		int rc = regcomp(&r->regex, r->args[0], REG_EXTENDED);

		if (rc != 0) {
			char why[128];

			regerror(rc, &r->regex, why, sizeof(why));
			return fail(p, config_setting_get_member(filter, "args"), key,
			    "regex \"%s\" does not compile: %s", r->args[0], why);
		}
		r->regex_compiled = true;
		r->regex_has_group = r->regex.re_nsub > 0;
	}
	return true;
}

static bool
parse_events(struct parse *p, const config_setting_t *filter, const char *path,
    struct rule *r)
{
	const config_setting_t *s = config_setting_get_member(filter, "events");
	char **names, key[KEY_PATH_MAX];
	size_t n;
	bool ok = true;

	if (!get_string_list(p, filter, path, "events", &names, &n))
		return false;
	key_path(key, path, "events");
	for (size_t i = 0; i < n && ok; i++) {
		enum gocd_event e;

		if (event_from_name(names[i], &e))
			r->events |= EVENT_BIT(e);
		else
			ok = fail(p, config_setting_get_elem(s, (unsigned)i), key,
			    "unknown event \"%s\" (PASSES, FAILS, BREAKS, FIXED, CANCELLED)",
			    names[i]);
	}
	if (ok && s != NULL && n == 0)
		ok = fail(p, s, key, "empty: leave it out to match every event");
	free_string_list(names, n);
	return ok;
}

static bool
parse_rule(struct parse *p, const config_setting_t *rs, const char *path,
    struct rule *r)
{
	static const char *const rule_keys[] = { "name", "owner", "filter", "actions", NULL };
	static const char *const filter_keys[] = { "events", "function", "args", NULL };
	const config_setting_t *filter = config_setting_get_member(rs, "filter");
	char fpath[KEY_PATH_MAX];

	r->line = config_setting_source_line(rs);
	if (!config_setting_is_group(rs))
		return fail(p, rs, path, "a rule must be a group { filter = {...}; actions = [...]; }");
	if (!check_keys(p, rs, path, rule_keys) ||
	    !get_string(p, rs, path, "name", &r->name) ||
	    !get_string(p, rs, path, "owner", &r->owner))
		return false;
	key_path(fpath, path, "filter");
	if (filter != NULL) {
		if (!config_setting_is_group(filter))
			return fail(p, filter, fpath, "must be a group { ... }");
		if (!check_keys(p, filter, fpath, filter_keys) ||
		    !parse_events(p, filter, fpath, r) ||
		    !parse_function(p, filter, fpath, r))
			return false;
	}
	return parse_actions(p, rs, path, r);
}

static bool
parse_wanted(struct parse *p, const config_setting_t *ms, const char *path,
    struct manager *m)
{
	static const char *const want_keys[] = { "to", "from", NULL };
	const config_setting_t *w = config_setting_get_member(ms, "messages-we-want");
	char key[KEY_PATH_MAX];
	char *to = NULL, *from = NULL;

	key_path(key, path, "messages-we-want");
	if (w == NULL)
		return fail(p, ms, key, "missing (messages-we-want = { to = \"address\"; })");
	if (!config_setting_is_group(w))
		return fail(p, w, key, "must be a group { to = \"...\"; } or { from = \"...\"; }");
	if (!check_keys(p, w, key, want_keys) ||
	    !get_string(p, w, key, "to", &to) || !get_string(p, w, key, "from", &from)) {
		free(to);
		free(from);
		return false;
	}
	if ((to == NULL) == (from == NULL)) {
		free(to);
		free(from);
		return fail(p, w, key, "needs exactly one of to or from");
	}
	m->want = to ? WANT_TO : WANT_FROM;
	m->want_address = to ? to : from;
	if (!is_clean_token(m->want_address))
		return fail(p, w, key, "\"%s\" is not a mail address", m->want_address);
	return true;
}

static bool
parse_api(struct parse *p, const config_setting_t *ms, const char *path,
    struct manager *m)
{
	static const char *const names[] = { "auto", "admin", "dashboard", "legacy" };
	char *api = NULL, key[KEY_PATH_MAX];

	if (!get_string(p, ms, path, "api", &api))
		return false;
	m->api = GOCD_API_AUTO;
	if (api == NULL)
		return true;
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(api, names[i]) == 0) {
			m->api = (enum gocd_api)i;
			free(api);
			return true;
		}
	}
	free(api);
	key_path(key, path, "api");
	return fail(p, config_setting_get_member(ms, "api"), key,
	    "must be auto, admin, dashboard or legacy");
}

static bool
parse_rules(struct parse *p, const config_setting_t *ms, const char *path,
    struct manager *m)
{
	const config_setting_t *rs = config_setting_get_member(ms, "rules");
	char key[KEY_PATH_MAX];
	int n;

	key_path(key, path, "rules");
	if (rs == NULL)
		return true;
	if (config_setting_type(rs) != CONFIG_TYPE_LIST)
		return fail(p, rs, key, "must be a list of rules: ( { ... }, { ... } )");
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

static void free_rule(struct rule *r);

/* A rule the teams shorthand stands for; args are copied. */
static bool
add_team_rule(struct parse *p, const config_setting_t *at, const char *key,
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
	if (function == FILTER_NAME_LIKE) {
		int rc = regcomp(&r->regex, arg0, REG_EXTENDED);

		if (rc != 0)
			return fail(p, at, key, "release-pattern \"%s\" does not compile", arg0);
		r->regex_compiled = true;
		r->regex_has_group = r->regex.re_nsub > 0;
	}
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
parse_team(struct parse *p, const config_setting_t *ts, const char *path,
    struct manager *m)
{
	static const char *const team_keys[] = { "address", "actions", "groups",
	    "events", "release-pattern", NULL };
	struct rule team = { 0 };
	char *address = NULL, *pattern = NULL, **groups = NULL, gkey[KEY_PATH_MAX];
	size_t ngroups = 0;
	bool ok;

	team.line = config_setting_source_line(ts);
	key_path(gkey, path, "groups");
	ok = config_setting_is_group(ts) ? true :
	    fail(p, ts, path, "a team must be a group { address = ...; groups = [...]; }");
	ok = ok && check_keys(p, ts, path, team_keys) &&
	    get_string(p, ts, path, "address", &address) &&
	    get_string(p, ts, path, "release-pattern", &pattern) &&
	    get_string_list(p, ts, path, "groups", &groups, &ngroups) &&
	    parse_events(p, ts, path, &team);
	if (ok && config_setting_get_member(ts, "actions") != NULL)
		ok = parse_actions(p, ts, path, &team);
	if (ok && address != NULL) {
		struct strbuf text = STRBUF_INIT;

		strbuf_addf(&text, "mailto:%s", address);
		team.actions = xrealloc(team.actions, (team.nactions + 1) * sizeof(*team.actions));
		memset(&team.actions[team.nactions], 0, sizeof(*team.actions));
		ok = parse_action(p, ts, path, text.data, &team.actions[team.nactions++]);
		strbuf_free(&text);
	}
	if (ok && team.nactions == 0)
		ok = fail(p, ts, path, "needs address or actions");
	if (ok && ngroups == 0)
		ok = fail(p, ts, gkey, "needs at least one group");
	team.owner = address ? xstrdup(address) : NULL;
	for (size_t g = 0; ok && g < ngroups; g++) {
		struct strbuf name = STRBUF_INIT;

		strbuf_addf(&name, "team %s: group %s", address ? address : team.actions[0].text,
		    groups[g]);
		team.name = name.data;
		ok = add_team_rule(p, ts, path, m, &team, FILTER_IN_GROUP, groups[g], NULL);
		strbuf_adds(&name, " (release-pattern)");
		team.name = name.data;
		if (ok && pattern != NULL)
			ok = add_team_rule(p, ts, path, m, &team, FILTER_NAME_LIKE, pattern, groups[g]);
		team.name = NULL;
		strbuf_free(&name);
	}
	free_rule(&team);
	free(address);
	free(pattern);
	free_string_list(groups, ngroups);
	return ok;
}

static bool
parse_teams(struct parse *p, const config_setting_t *ms, const char *path,
    struct manager *m)
{
	const config_setting_t *ts = config_setting_get_member(ms, "teams");
	char key[KEY_PATH_MAX];

	key_path(key, path, "teams");
	if (ts == NULL)
		return true;
	if (config_setting_type(ts) != CONFIG_TYPE_LIST)
		return fail(p, ts, key, "must be a list: ( { address = ...; groups = [...]; } )");
	for (int i = 0; i < config_setting_length(ts); i++) {
		char tpath[KEY_PATH_MAX + 16];

		snprintf(tpath, sizeof(tpath), "%s[%d]", key, i);
		if (!parse_team(p, config_setting_get_elem(ts, (unsigned)i), tpath, m))
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

/*
 * Number what routing needs to compare, once at load instead of for every
 * message: equal actions share an id, equal regexes share an id, group
 * arguments get their hash, in_subject words are lower-cased.
 */
static void
index_manager(struct manager *m)
{
	const struct action **distinct = NULL;
	const char **regexes = NULL;
	size_t cap = 0, rcap = 0;

	for (size_t r = 0; r < m->nrules; r++) {
		struct rule *rule = &m->rules[r];

		for (size_t a = 0; a < rule->nactions; a++) {
			unsigned id = 0;

			while (id < m->naction_ids && !action_same(distinct[id], &rule->actions[a]))
				id++;
			if (id == m->naction_ids) {
				distinct = xgrow(distinct, &cap, id + 1, sizeof(*distinct));
				distinct[m->naction_ids++] = &rule->actions[a];
			}
			rule->actions[a].id = id;
		}
		if (rule->function == FILTER_IN_GROUP)
			rule->group_hash = name_hash(rule->args[0], strlen(rule->args[0]));
		if (rule->function == FILTER_NAME_LIKE) {
			unsigned id = 0;

			rule->group_hash = name_hash(rule->args[1], strlen(rule->args[1]));
			while (id < m->nregex_ids && strcmp(regexes[id], rule->args[0]) != 0)
				id++;
			if (id == m->nregex_ids) {
				regexes = xgrow(regexes, &rcap, id + 1, sizeof(*regexes));
				regexes[m->nregex_ids++] = rule->args[0];
			}
			rule->regex_id = id;
		}
		if (rule->function == FILTER_IN_SUBJECT) {
			for (size_t i = 0; i < rule->nargs; i++) {
				for (char *c = rule->args[i]; *c; c++)
					*c = (char)tolower((unsigned char)*c);
			}
		}
	}
	free(distinct);
	free(regexes);
}

static bool
parse_manager(struct parse *p, const config_setting_t *ms, const char *path,
    struct manager *m)
{
	static const char *const manager_keys[] = { "name", "url", "api", "user",
	    "passwd", "token", "passwd-file", "token-file", "ca-file",
	    "connect-timeout", "timeout", "poll-interval", "messages-we-want", "rules",
	    "teams", NULL };
	long interval = CONFIG_DEFAULT_POLL_INTERVAL;
	long connect_timeout = CONFIG_DEFAULT_CONNECT_TIMEOUT;
	long timeout = CONFIG_DEFAULT_TIMEOUT;

	if (!config_setting_is_group(ms))
		return fail(p, ms, path, "a manager must be a group { name = ...; ... }");
	if (!check_keys(p, ms, path, manager_keys) ||
	    !get_string(p, ms, path, "name", &m->name) ||
	    !get_string(p, ms, path, "url", &m->url) ||
	    !parse_api(p, ms, path, m) ||
	    !get_string(p, ms, path, "user", &m->user) ||
	    !get_string(p, ms, path, "passwd", &m->passwd) ||
	    !get_string(p, ms, path, "token", &m->token) ||
	    !get_string(p, ms, path, "passwd-file", &m->passwd_file) ||
	    !get_string(p, ms, path, "token-file", &m->token_file) ||
	    !get_string(p, ms, path, "ca-file", &m->ca_file) ||
	    !get_int(p, ms, path, "connect-timeout", 1, 300, &connect_timeout) ||
	    !get_int(p, ms, path, "timeout", 1, 3600, &timeout) ||
	    !get_int(p, ms, path, "poll-interval", 1, POLL_INTERVAL_MAX, &interval) ||
	    !parse_wanted(p, ms, path, m) ||
	    !parse_rules(p, ms, path, m) ||
	    !parse_teams(p, ms, path, m))
		return false;
	index_manager(m);
	m->poll_interval = (int)interval;
	m->connect_timeout = (int)connect_timeout;
	m->timeout = (int)timeout;
	if (m->name == NULL || *m->name == '\0')
		return fail(p, ms, path, "name is missing");
	/* the name goes into log lines and the X-Mail2alert header */
	for (const char *c = m->name; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return fail(p, config_setting_get_member(ms, "name"), path,
			    "name \"%s\": use letters, digits, '-', '_' and '.'", m->name);
	}
	if (m->url == NULL && strcmp(m->name, "gocd") == 0)
		return fail(p, ms, path, "manager \"gocd\" polls GoCD and needs url");
	if (m->passwd != NULL && m->passwd_file != NULL)
		return fail(p, ms, path, "use either passwd or passwd-file, not both");
	if (m->token != NULL && m->token_file != NULL)
		return fail(p, ms, path, "use either token or token-file, not both");
	if ((m->user == NULL) != (m->passwd == NULL && m->passwd_file == NULL))
		return fail(p, ms, path, "user and passwd (or passwd-file) go together");
	if (m->user != NULL && (m->token != NULL || m->token_file != NULL))
		return fail(p, ms, path, "use either user/passwd or token, not both");
	if (m->url == NULL && manager_needs_groups(m))
		return fail(p, ms, path, "rules use pipeline groups, so the manager needs url");
	return true;
}

static bool
parse_managers(struct parse *p, const config_setting_t *root, struct config *c)
{
	const config_setting_t *ms = config_setting_get_member(root, "managers");
	int n;

	if (ms == NULL)
		return fail(p, root, "managers", "missing: nothing to do without managers");
	if (config_setting_type(ms) != CONFIG_TYPE_LIST)
		return fail(p, ms, "managers", "must be a list: ( { name = ...; }, ... )");
	n = config_setting_length(ms);
	c->managers = xcalloc((size_t)n, sizeof(*c->managers));
	for (int i = 0; i < n; i++) {
		char path[KEY_PATH_MAX];

		snprintf(path, sizeof(path), "managers[%d]", i);
		c->nmanagers = (size_t)i + 1;
		if (!parse_manager(p, config_setting_get_elem(ms, (unsigned)i), path,
		    &c->managers[i]))
			return false;
		for (int j = 0; j < i; j++) {
			if (strcmp(c->managers[j].name, c->managers[i].name) == 0)
				return fail(p, config_setting_get_elem(ms, (unsigned)i), path,
				    "a manager named \"%s\" already exists", c->managers[i].name);
		}
	}
	return true;
}

static bool
parse_unresolved(struct parse *p, const config_setting_t *root, struct config *c)
{
	char *value = NULL;
	bool ok = true;

	if (!get_string(p, root, "", "unresolved", &value))
		return false;
	if (value == NULL || strcmp(value, "accept") == 0)
		c->unresolved = UNRESOLVED_ACCEPT;
	else if (strcmp(value, "tempfail") == 0)
		c->unresolved = UNRESOLVED_TEMPFAIL;
	else if (strncmp(value, "mailto:", 7) == 0 && is_clean_token(value + 7) &&
	    strchr(value + 7, '@') != NULL) {
		c->unresolved = UNRESOLVED_MAILTO;
		c->unresolved_mailto = xstrdup(value + 7);
	} else
		ok = fail(p, config_setting_get_member(root, "unresolved"), "unresolved",
		    "must be \"accept\", \"tempfail\" or \"mailto:ADDRESS\"");
	free(value);
	return ok;
}

static bool
parse_webhooks(struct parse *p, const config_setting_t *root, struct config *c)
{
	static const char *const webhook_keys[] = { "channel", "url", NULL };
	const config_setting_t *ws = config_setting_get_member(root, "slack-webhooks");
	int n;

	if (ws == NULL)
		return true;
	if (config_setting_type(ws) != CONFIG_TYPE_LIST)
		return fail(p, ws, "slack-webhooks", "must be a list: "
		    "( { channel = \"#builds\"; url = \"https://...\"; } )");
	n = config_setting_length(ws);
	c->webhooks = xcalloc((size_t)n, sizeof(*c->webhooks));
	for (int i = 0; i < n; i++) {
		const config_setting_t *w = config_setting_get_elem(ws, (unsigned)i);
		struct slack_webhook *hook = &c->webhooks[i];
		char path[KEY_PATH_MAX];

		snprintf(path, sizeof(path), "slack-webhooks[%d]", i);
		c->nwebhooks = (size_t)i + 1;
		if (!config_setting_is_group(w))
			return fail(p, w, path, "must be a group { channel = ...; url = ...; }");
		if (!check_keys(p, w, path, webhook_keys) ||
		    !get_string(p, w, path, "channel", &hook->channel) ||
		    !get_string(p, w, path, "url", &hook->url))
			return false;
		if (hook->channel == NULL || hook->url == NULL)
			return fail(p, w, path, "needs both channel and url");
		if (strncmp(hook->url, "https://", 8) != 0 && strncmp(hook->url, "http://", 7) != 0)
			return fail(p, w, path, "url must start with https:// or http://");
	}
	return true;
}

static bool
parse_root(struct parse *p, const config_setting_t *root, struct config *c)
{
	static const char *const root_keys[] = { "socket", "user", "socket-group",
	    "socket-mode", "allow-root", "state-file",
	    "unresolved", "body-limit", "slack-token", "slack-api", "slack-webhooks",
	    "slack-queue-size", "slack-retry-time", "managers", NULL };

	c->body_limit = CONFIG_DEFAULT_BODY_LIMIT;
	c->socket_mode = CONFIG_DEFAULT_SOCKET_MODE;
	c->slack_queue_size = CONFIG_DEFAULT_SLACK_QUEUE;
	c->slack_retry_time = CONFIG_DEFAULT_SLACK_RETRY_TIME;
	if (!check_keys(p, root, "", root_keys) ||
	    !get_string(p, root, "", "socket", &c->socket) ||
	    !get_string(p, root, "", "user", &c->user) ||
	    !get_string(p, root, "", "socket-group", &c->socket_group) ||
	    !get_mode(p, root, "socket-mode", &c->socket_mode) ||
	    !get_bool(p, root, "", "allow-root", &c->allow_root) ||
	    !get_string(p, root, "", "state-file", &c->state_file) ||
	    !parse_unresolved(p, root, c) ||
	    !get_int(p, root, "", "body-limit", 0, BODY_LIMIT_MAX, &c->body_limit) ||
	    !get_string(p, root, "", "slack-token", &c->slack_token) ||
	    !get_string(p, root, "", "slack-api", &c->slack_api) ||
	    !parse_webhooks(p, root, c) ||
	    !get_int(p, root, "", "slack-queue-size", 1, 1000000, &c->slack_queue_size) ||
	    !get_int(p, root, "", "slack-retry-time", 0, 86400, &c->slack_retry_time) ||
	    !parse_managers(p, root, c))
		return false;
	if (c->socket == NULL)
		c->socket = xstrdup(CONFIG_DEFAULT_SOCKET);
	if (c->slack_api == NULL)
		c->slack_api = xstrdup(CONFIG_DEFAULT_SLACK_API);
	return true;
}

struct config *
config_parse(const char *text, const char *path, config_env_fn env,
    void *env_arg, char *err, size_t errlen)
{
	struct config *c = xcalloc(1, sizeof(*c));
	struct parse p = { c, path, env, env_arg, err, errlen };
	config_t cfg;
	bool ok;

	c->path = xstrdup(path);
	config_init(&cfg);
	if (!config_read_string(&cfg, text)) {
		snprintf(err, errlen, "%s:%d: syntax error: %s", path,
		    config_error_line(&cfg), config_error_text(&cfg));
		ok = false;
	} else {
		ok = parse_root(&p, config_root_setting(&cfg), c);
	}
	config_destroy(&cfg);
	if (!ok) {
		config_free(c);
		return NULL;
	}
	return c;
}

static void
free_rule(struct rule *r)
{
	free(r->name);
	free(r->owner);
	if (r->regex_compiled)
		regfree(&r->regex);
	free_string_list(r->args, r->nargs);
	for (size_t a = 0; a < r->nactions; a++) {
		free(r->actions[a].target);
		free(r->actions[a].text);
	}
	free(r->actions);
}

/* Secrets do not linger in freed memory. */
static void
free_secret(char *s)
{
	if (s != NULL)
		memset(s, 0, strlen(s));
	free(s);
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nmanagers; i++) {
		struct manager *m = &c->managers[i];

		for (size_t r = 0; r < m->nrules; r++)
			free_rule(&m->rules[r]);
		free(m->rules);
		free(m->name);
		free(m->want_address);
		free(m->url);
		free(m->user);
		free_secret(m->passwd);
		free_secret(m->token);
		free(m->passwd_file);
		free(m->token_file);
		free(m->ca_file);
	}
	free(c->managers);
	for (size_t i = 0; i < c->nwebhooks; i++) {
		free(c->webhooks[i].channel);
		free(c->webhooks[i].url);
	}
	free(c->webhooks);
	free(c->path);
	free(c->socket);
	free(c->user);
	free(c->socket_group);
	free(c->state_file);
	free(c->unresolved_mailto);
	free_secret(c->slack_token);
	free(c->slack_api);
	free(c);
}

const char *
config_webhook_for(const struct config *config, const char *channel)
{
	for (size_t i = 0; i < config->nwebhooks; i++) {
		if (strcmp(config->webhooks[i].channel, channel) == 0)
			return config->webhooks[i].url;
	}
	return NULL;
}

bool
manager_posts_to_slack(const struct manager *m)
{
	for (size_t r = 0; r < m->nrules; r++) {
		for (size_t a = 0; a < m->rules[r].nactions; a++) {
			if (m->rules[r].actions[a].kind == ACTION_SLACK)
				return true;
		}
	}
	return false;
}

bool
config_posts_to_slack(const struct config *config)
{
	for (size_t i = 0; i < config->nmanagers; i++) {
		if (manager_posts_to_slack(&config->managers[i]))
			return true;
	}
	return false;
}

bool
manager_needs_groups(const struct manager *m)
{
	for (size_t r = 0; r < m->nrules; r++) {
		if (m->rules[r].function == FILTER_IN_GROUP ||
		    m->rules[r].function == FILTER_NAME_LIKE)
			return true;
	}
	return false;
}

const char *
gocd_api_name(enum gocd_api api)
{
	static const char *const names[] = { "auto", "admin", "dashboard", "legacy" };

	return names[api];
}

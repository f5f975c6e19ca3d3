/*
 * fuzz_config.c - config_parse on arbitrary text, with a fake environment
 * of a few variables; then config_free.  LeakSanitizer (on by default
 * under libFuzzer) reports anything the error paths fail to free.
 *
 * Invariants:
 *   - on failure: NULL and a message "fuzz.conf:LINE: ..." in err;
 *   - on success: every manager has a name of [A-Za-z0-9_.-], an address
 *     it wants, and rules whose actions all have a target; the helper
 *     queries (webhook lookup, posts-to-slack, needs-groups) work;
 *   - what is worked out at load holds: every manager has compiled rules,
 *     posts-to-slack and needs-groups agree with its rules, in_subject
 *     words are lower case;
 *   - routing a few fixed messages (stage and not, with and without
 *     groups) through each manager gives a union of the matched rules'
 *     actions without duplicates, a right mailto count, "unresolved" only
 *     without groups, and describes and reports without crashing.
 *
 * Inputs with "@include" are skipped: libconfig would open files named by
 * the fuzzer (/dev/stdin, ...), which is the file system, not the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "address.h"
#include "config.h"
#include "disposition.h"
#include "fuzz_common.h"
#include "group_index.h"
#include "name_map.h"
#include "report.h"
#include "route.h"
#include "strbuf.h"

static const struct {
	const char *name, *value;
} fake_env[] = {
	{ "SLACK_TOKEN", "xoxb-fuzz" },
	{ "GOUSER", "alerts" },
	{ "GOPASS", "s3cret$" },
	{ "GOCD_TOKEN", "tok" },
	{ "EMPTY", "" },
	{ "GROUP", "my-group" },
	{ "DOLLAR", "$HOME" },	/* expanded once, not again */
};

static const char *
env_lookup(const char *name, void *arg)
{
	FUZZ_CHECK(arg == (void *)fake_env, "env_arg not passed through");
	FUZZ_CHECK(name != NULL && *name != '\0', "empty variable name");
	for (size_t i = 0; i < sizeof(fake_env) / sizeof(fake_env[0]); i++) {
		if (strcmp(fake_env[i].name, name) == 0)
			return fake_env[i].value;
	}
	return NULL;
}

/* Subjects routed through every manager; short names keep regexec cheap. */
static const char *const subjects[] = {
	"Stage [up42/12/build/1] is broken",
	"Stage [ppp-release-1.2.3/7/deploy/2] passed",
	"Stage [Other/1/x/1] is cancelled",
	"Server Backup Failed",
};

static struct group_index *
fixed_groups(void)
{
	struct group_index *g = group_index_new();

	group_index_add(g, "my-group", "up42");
	group_index_add(g, "a", "ppp");
	group_index_add(g, "b", "ppp-release-1.2.3");
	group_index_add(g, "first", "UP42");	/* listed twice: "my-group" wins */
	group_index_add(g, "empty", NULL);
	return g;
}

/* Read a subject as the daemon does, the stage failed before if asked. */
static void
read_subject(struct route_subject *subject, const char *raw, bool failed_before)
{
	struct stage_table failed = STAGE_TABLE_INIT;

	route_read_subject(subject, raw, strlen(raw), NULL);
	if (failed_before && subject->is_stage) {
		stage_table_set(&failed, subject->stage.pipeline, subject->stage.stage,
		    STAGE_FAILURE);
		route_subject_observe(subject, &failed);
	}
	stage_table_free(&failed);
}

/* The disposition only moves triggers and only adds mailto: targets. */
static void
check_disposition(const struct config *c, const struct route_input *in,
    const struct route_result *result)
{
	static const char *const rcpts[] = { "<mail2alert@example.com>", "<a@b.c>" };
	struct disposition d;
	struct strbuf sb = STRBUF_INIT;

	disposition_decide(&d, c, in, result, rcpts, 2);
	for (size_t i = 0; i < d.nremove; i++)
		FUZZ_CHECK(route_is_trigger(in->manager, d.remove[i]), "removes a bystander");
	FUZZ_CHECK(result->unresolved == disposition_is_unresolved(d.outcome),
	    "outcome %s", disposition_outcome_name(d.outcome));
	FUZZ_CHECK((d.outcome == OUTCOME_ROUTED) == (!result->unresolved &&
	    result->nmailto > 0), "routed without targets");
	FUZZ_CHECK(d.nadd <= d.nto && d.nto <= result->nmailto + 1, "adds %zu of %zu",
	    d.nadd, d.nto);
	disposition_describe(&sb, &d, in, result);
	strbuf_free(&sb);
	disposition_free(&d);
}

/*
 * The facts worked out at load agree with the rules, and in_subject words
 * are lower case.  (The ids and hashes of the compiled rules are route.c's
 * own; check_route checks what they are for: a union without duplicates.)
 */
static void
check_facts(const struct manager *m)
{
	bool slack = false, groups = false;

	FUZZ_CHECK(m->routes != NULL, "manager %s not compiled", m->name);
	for (size_t r = 0; r < m->nrules; r++) {
		const struct rule *rule = &m->rules[r];

		for (size_t a = 0; a < rule->nactions; a++)
			slack |= rule->actions[a].kind == ACTION_SLACK;
		groups |= rule->function == FILTER_IN_GROUP || rule->function == FILTER_NAME_LIKE;
		if (rule->function == FILTER_IN_SUBJECT) {
			for (size_t i = 0; i < rule->nargs; i++) {
				for (const char *ch = rule->args[i]; *ch; ch++)
					FUZZ_CHECK(!(*ch >= 'A' && *ch <= 'Z'), "in_subject word \"%s\"",
					    rule->args[i]);
			}
		}
	}
	FUZZ_CHECK(manager_posts_to_slack(m) == slack, "posts_to_slack of %s", m->name);
	FUZZ_CHECK(manager_needs_groups(m) == groups, "needs_groups of %s", m->name);
}

static void
check_route(const struct config *c, const struct manager *m,
    const struct group_index *groups, const char *raw, bool with_previous)
{
	struct route_subject subject;
	struct route_input in;
	struct route_result result = ROUTE_RESULT_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t nmailto = 0, nactions = 0;

	read_subject(&subject, raw, with_previous);
	route_input_init(&in, m, groups, &subject);
	route_message(&in, &result);
	for (size_t r = 0; r < m->nrules; r++)
		nactions += m->rules[r].nactions;
	FUZZ_CHECK(result.nactions <= nactions, "%zu actions of %zu", result.nactions,
	    nactions);
	FUZZ_CHECK(!result.unresolved || groups == NULL, "unresolved with groups");
	for (size_t i = 0; i < result.nactions; i++) {
		const struct action *x = result.actions[i];
		bool from_matched = false;

		nmailto += x->kind == ACTION_MAILTO;
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(!action_same(x, result.actions[j]), "duplicate action %s",
			    x->text);
		for (size_t r = 0; r < m->nrules && !from_matched; r++) {
			for (size_t a = 0; a < m->rules[r].nactions; a++)
				from_matched |= result.matched[r] && &m->rules[r].actions[a] == x;
		}
		FUZZ_CHECK(from_matched, "action %s from no matched rule", x->text);
	}
	FUZZ_CHECK(nmailto == result.nmailto, "nmailto %zu, counted %zu",
	    result.nmailto, nmailto);
	for (size_t r = 0; r < m->nrules; r++) {
		const struct rule *rule = &m->rules[r];

		if (!result.matched[r])
			continue;
		FUZZ_CHECK(groups != NULL || (rule->function != FILTER_IN_GROUP &&
		    rule->function != FILTER_NAME_LIKE), "group rule matched without groups");
		for (size_t a = 0; a < rule->nactions; a++) {
			bool found = false;

			for (size_t i = 0; i < result.nactions && !found; i++)
				found = action_same(&rule->actions[a], result.actions[i]);
			FUZZ_CHECK(found, "action %s of matched rule %zu missing",
			    rule->actions[a].text, r);
		}
	}
	check_disposition(c, &in, &result);
	route_describe(&sb, &in);
	route_trace_header(&sb, &in);
	route_describe_actions(&sb, &result);
	strbuf_free(&sb);
	route_result_free(&result);
	route_subject_free(&subject);
}

static void
check_config(const struct config *c)
{
	FUZZ_CHECK(c->socket != NULL && c->slack_api != NULL, "defaults not set");
	FUZZ_CHECK(strcmp(c->path, "fuzz.conf") == 0, "path");
	for (size_t i = 0; i < c->nwebhooks; i++) {
		FUZZ_CHECK(c->webhooks[i].channel && c->webhooks[i].url, "webhook %zu", i);
		FUZZ_CHECK(config_webhook_for(c, c->webhooks[i].channel) != NULL,
		    "webhook %zu not found by its channel", i);
	}
	(void)config_posts_to_slack(c);
	for (size_t i = 0; i < c->nmanagers; i++) {
		const struct manager *m = &c->managers[i];

		FUZZ_CHECK(m->name != NULL && fuzz_is_gocd_name(m->name, (size_t)-1),
		    "manager %zu name", i);
		FUZZ_CHECK(m->want_address != NULL && *m->want_address != '\0',
		    "manager %zu wants nothing", i);
		FUZZ_CHECK(gocd_api_name(m->api) != NULL, "api");
		FUZZ_CHECK(m->url != NULL || !manager_needs_groups(m),
		    "manager %s needs groups but cannot poll", m->name);
		(void)manager_posts_to_slack(m);
		for (size_t r = 0; r < m->nrules; r++) {
			const struct rule *rule = &m->rules[r];

			for (size_t a = 0; a < rule->nactions; a++) {
				const struct action *act = &rule->actions[a];

				FUZZ_CHECK(act->target != NULL && *act->target != '\0' &&
				    act->text != NULL, "action target");
				if (act->kind == ACTION_SLACK)
					FUZZ_CHECK(act->target[0] == '#' || act->target[0] == '@',
					    "slack target %s", act->target);
			}
			for (size_t k = 0; k < rule->nargs; k++)
				FUZZ_CHECK(rule->args[k] != NULL, "arg %zu", k);
		}
		check_facts(m);
	}
}

/* Owner selection: the first manager whose wish the envelope meets. */
static void
check_select(const struct config *c)
{
	static const char *const sender = "<go@Example.COM>";
	static const char *const rcpts[] = { "mail2alert@example.com", "<a@b.c>", "x" };
	const struct manager *m = route_select_manager(c, sender, rcpts, 3);

	for (size_t i = 0; i < c->nmanagers; i++) {
		const struct manager *o = &c->managers[i];
		bool wants = false;

		for (size_t r = 0; r < 3; r++)
			wants |= route_is_trigger(o, rcpts[r]) && (o->want == WANT_FROM ?
			    address_equal(sender, o->want_address) : true);
		if (o == m)
			FUZZ_CHECK(wants, "manager %s selected but does not want it", o->name);
		if (m == NULL || o < m)
			FUZZ_CHECK(!wants, "manager %s wants it but was passed over", o->name);
	}
	FUZZ_CHECK(route_select_manager(c, NULL, NULL, 0) == NULL, "no envelope, an owner");
}

static void
route_all(const struct config *c)
{
	struct group_index *groups = fixed_groups();

	check_select(c);

	for (size_t i = 0; i < c->nmanagers; i++) {
		const struct manager *m = &c->managers[i];
		cJSON *report;

		for (size_t s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++) {
			check_route(c, m, groups, subjects[s], s % 2 == 0);
			check_route(c, m, NULL, subjects[s], s % 2 == 1);
		}
		report = report_manager(m, groups);
		FUZZ_CHECK(report != NULL, "no report");
		cJSON_Delete(report);
	}
	group_index_free(groups);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size), err[1024];
	struct config *c;

	if (strcasestr(text, "@include") != NULL) {
		free(text);
		return 0;
	}
	err[0] = '\0';
	c = config_parse(text, "fuzz.conf", env_lookup, (void *)fake_env, err,
	    sizeof(err));
	if (c == NULL) {
		FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0, "error message \"%s\"", err);
	} else {
		check_config(c);
		route_all(c);
		config_free(c);
	}
	free(text);
	return 0;
}

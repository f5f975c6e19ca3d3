/*
 * cli.c - mail2alert -r and -n (see cli.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <strings.h>

#include "address.h"
#include "chat_target.h"
#include "cli.h"
#include "disposition.h"
#include "eml.h"
#include "files.h"
#include "gocd_poller.h"
#include "http.h"
#include "mime_body.h"
#include "mime_text.h"
#include "report.h"
#include "route.h"
#include "state_doc.h"
#include "state_file.h"
#include "strbuf.h"
#include "utf8.h"
#include "xalloc.h"

/* Largest message file read by -n. */
#define EML_MAX (64L * 1024 * 1024)

/*
 * The groups of a manager for a one-shot command: from GoCD now, else
 * from the state file (saying so), else NULL.  *source says which.
 */
static struct group_index *
load_groups(const struct config *config, const struct manager *m,
    struct strbuf *source)
{
	struct strbuf text = STRBUF_INIT;
	struct group_index *index;
	struct state_doc doc;
	char why[512], err[256];

	index = gocd_fetch_groups(m, why, sizeof(why));
	if (index != NULL) {
		char url[512];

		http_url_for_log(m->url, url, sizeof(url));
		strbuf_addf(source, "GoCD (%s)", url);
		return index;
	}
	strbuf_addf(source, "GoCD unreachable: %s", why);
	if (config->state_file == NULL || file_read(config->state_file, (size_t)STATE_FILE_MAX, &text) != 0 ||
	    state_doc_read(&doc, strbuf_str(&text), text.len, err, sizeof(err)) != 0) {
		strbuf_adds(source, "; no usable state file");
		strbuf_free(&text);
		return NULL;
	}
	for (size_t i = 0; i < doc.ngroups; i++) {
		if (strcmp(doc.managers[i], m->name) == 0) {
			index = doc.groups[i];
			doc.groups[i] = NULL;
		}
	}
	strbuf_addf(source, "; %s state file %s", index ? "using the" : "nothing for it in the",
	    config->state_file);
	state_doc_free(&doc);
	strbuf_free(&text);
	return index;
}

/*
 * s, which came from outside (GoCD, the state file, mail), escaped for the
 * terminal (utf8.h) in sb, for one printf argument.
 */
static const char *
shown(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	utf8_add_escaped(sb, s ? s : "", s ? strlen(s) : 0);
	return strbuf_str(sb);
}

/*
 * GoCD lists only the groups the API user may view, and its dashboard API
 * applies that user's saved view; neither says what it left out.  What
 * can be seen: no group at all, or groups the rules name missing.
 */
static void
print_restricted_warning(const cJSON *report, struct strbuf *sb)
{
	const cJSON *unlisted = cJSON_GetObjectItem(report, "unlisted_groups"), *item;

	if (cJSON_GetArraySize(cJSON_GetObjectItem(report, "groups")) == 0)
		printf("  warning: GoCD lists no pipeline group to the API user: it may lack "
		    "view permission, or its dashboard view hides everything\n");
	if (cJSON_GetArraySize(unlisted) == 0)
		return;
	printf("  warning: groups the rules name that GoCD does not list:");
	cJSON_ArrayForEach(item, unlisted)
		printf(" %s", shown(sb, item->valuestring));
	printf(" (absent, or hidden from the API user: view permission, dashboard view); "
	    "mail of their pipelines is discarded with reason=pipeline-not-in-any-group\n");
}

static void
print_report_text(const cJSON *report, const char *source)
{
	const cJSON *group, *pipeline, *route, *item;
	struct strbuf sb = STRBUF_INIT;

	printf("manager %s: groups from %s\n",
	    cJSON_GetStringValue(cJSON_GetObjectItem(report, "manager")), shown(&sb, source));
	cJSON_ArrayForEach(group, cJSON_GetObjectItem(report, "groups")) {
		printf("  group %s\n",
		    shown(&sb, cJSON_GetStringValue(cJSON_GetObjectItem(group, "name"))));
		cJSON_ArrayForEach(pipeline, cJSON_GetObjectItem(group, "pipelines")) {
			const cJSON *routes = cJSON_GetObjectItem(pipeline, "routes");

			printf("    %s%s\n",
			    shown(&sb, cJSON_GetStringValue(cJSON_GetObjectItem(pipeline, "name"))),
			    cJSON_GetArraySize(routes) ? "" : ": no rule");
			cJSON_ArrayForEach(route, routes) {
				const char *sep = "";

				printf("      ");
				cJSON_ArrayForEach(item, cJSON_GetObjectItem(route, "events")) {
					printf("%s%s", sep, item->valuestring);
					sep = ",";
				}
				printf(" ->");
				cJSON_ArrayForEach(item, cJSON_GetObjectItem(route, "actions"))
					printf(" %s", item->valuestring);
				printf("\n");
			}
		}
	}
	printf("  pipelines no rule covers:");
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(report, "uncovered"))
		printf(" %s", shown(&sb, item->valuestring));
	printf("%s\n  rules that match nothing:",
	    cJSON_GetArraySize(cJSON_GetObjectItem(report, "uncovered")) ? "" : " none");
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(report, "unused_rules")) {
		const cJSON *name = cJSON_GetObjectItem(item, "name");

		printf(" #%d (line %d%s%s%s)", cJSON_GetObjectItem(item, "rule")->valueint,
		    cJSON_GetObjectItem(item, "line")->valueint, name ? ", \"" : "",
		    name ? shown(&sb, name->valuestring) : "", name ? "\"" : "");
	}
	printf("%s\n", cJSON_GetArraySize(cJSON_GetObjectItem(report, "unused_rules")) ?
	    "" : " none");
	print_restricted_warning(report, &sb);
	strbuf_free(&sb);
}

void
cli_print_destinations(const struct config *config, bool lookups_only)
{
	struct strbuf lines = STRBUF_INIT;

	chat_describe_destinations(&lines, config, lookups_only);
	if (lines.len > 0)
		printf("chat destinations:\n%s", lines.data);
	strbuf_free(&lines);
}

int
cli_report(const struct config *config, bool json)
{
	cJSON *all = cJSON_CreateArray();
	int rc = 0;

	for (size_t i = 0; i < config->nmanagers; i++) {
		const struct manager *m = &config->managers[i];
		struct strbuf source = STRBUF_INIT;
		struct group_index *groups;
		cJSON *report;

		if (m->url == NULL) {
			if (!json)
				printf("manager %s: acts on mail %s %s; not tied to pipelines\n",
				    m->name, m->want == WANT_TO ? "to" : "from", m->want_address);
			continue;
		}
		groups = load_groups(config, m, &source);
		if (groups == NULL) {
			/* without groups every rule would look unused: say why instead */
			struct strbuf sb = STRBUF_INIT;

			fprintf(stderr, "mail2alert: manager %s: no pipeline groups: %s\n", m->name,
			    shown(&sb, source.data));
			strbuf_free(&sb);
			strbuf_free(&source);
			rc = EX_UNAVAILABLE;
			continue;
		}
		report = report_manager(m, groups);
		cJSON_AddStringToObject(report, "source", source.data);
		if (json)
			cJSON_AddItemToArray(all, report);
		else {
			print_report_text(report, source.data);
			cJSON_Delete(report);
		}
		group_index_free(groups);
		strbuf_free(&source);
	}
	if (json) {
		char *text = cJSON_Print(all);

		printf("%s\n", text);
		free(text);
	} else {
		cli_print_destinations(config, false);
	}
	cJSON_Delete(all);
	return rc;
}

static void
print_rules(const struct manager *m, const struct route_result *r)
{
	for (size_t i = 0; i < m->nrules; i++) {
		const struct rule *rule = &m->rules[i];

		printf("  rule #%zu (line %d)%s%s%s: %s\n", i + 1, rule->line,
		    rule->name ? " \"" : "", rule->name ? rule->name : "",
		    rule->name ? "\"" : "", r->matched[i] ? "matched" : "no match");
	}
}

static const char *
outcome_text(const struct disposition *d, const struct config *config,
    struct strbuf *actions)
{
	switch (d->outcome) {
	case OUTCOME_ROUTED:
		return actions->data;
	case OUTCOME_TRIGGER_REMOVED:
		return "trigger recipient removed; the other recipients still get it";
	case OUTCOME_DISCARDED:
		return "discarded (no mailto: recipient)";
	case OUTCOME_UNRESOLVED:
		return "unresolved (pipeline groups never loaded): unresolved = accept, "
		    "delivered unchanged";
	case OUTCOME_TEMPFAIL:
		return "unresolved (pipeline groups never loaded): unresolved = tempfail, "
		    DISPOSITION_TEMPFAIL_CODE " " DISPOSITION_TEMPFAIL_XCODE;
	case OUTCOME_FALLBACK:
		strbuf_reset(actions);
		strbuf_addf(actions, "unresolved (pipeline groups never loaded): "
		    "unresolved = %s", config->unresolved_mailto);
		return actions->data;
	}
	return "";
}

/*
 * How a post of action a would go, for -n: ", webhook" for a Slack
 * webhook, ", mattermost webhook" for chat:NAME, and for Slack users
 * looked up by name or address, that the lookup happens at run time.
 */
static const char *
post_via(const struct config *config, const struct action *a, char *via, size_t len)
{
	const struct chat_webhook *hook;

	if (a->kind == ACTION_CHAT) {
		hook = config_chat_webhook(config, a->target);
		snprintf(via, len, ", %s webhook", hook ? hook->service : "no");
		return via;
	}
	if (config_webhook_for(config, a->target) != NULL)
		return ", webhook";
	switch (slack_dest_kind(a->target)) {
	case SLACK_DEST_USER_NAME:
		return ", user ID looked up with users.list at run time";
	case SLACK_DEST_USER_EMAIL:
		return ", user ID looked up with users.lookupByEmail at run time";
	default:
		return "";
	}
}

/* Print what the daemon would do: the same disposition, not a copy of it. */
static void
print_outcome(const struct route_input *in, const struct route_result *r,
    const struct config *config, const struct eml *e, const struct disposition *d)
{
	struct strbuf line = STRBUF_INIT, title_sb = STRBUF_INIT, text_sb = STRBUF_INIT;
	char *text = NULL;

	route_describe_actions(&line, r);
	printf("result:    %s\n", outcome_text(d, config, &line));
	if (d->reason != NULL && strcmp(d->reason, "pipeline-not-in-any-group") == 0)
		printf("reason:    pipeline-not-in-any-group (GoCD's groups, as the API "
		    "user sees them, do not list the pipeline: hidden from that user?)\n");
	if (d->outcome == OUTCOME_ROUTED)
		printf("header:    X-Mail2alert: %s\n", d->trace);
	for (size_t i = 0; i < d->nposts; i++) {
		const struct action *a = d->posts[i];
		char *first, via[80];

		if (text == NULL)
			text = mime_body_text(e->content_type.data, e->encoding.data, e->body,
			    e->body_len, (size_t)config->body_limit);
		first = mime_first_line(text);
		printf("%-10s %s (%s%s) title=\"%s\" text=\"%s\"\n",
		    a->kind == ACTION_CHAT ? "chat:" : "slack:", a->target,
		    a->style == SLACK_FULL ? "full" : "brief", post_via(config, a, via, sizeof(via)),
		    shown(&title_sb, in->subject),
		    shown(&text_sb, a->style == SLACK_FULL ? text : first));
		free(first);
	}
	free(text);
	strbuf_free(&line);
	strbuf_free(&title_sb);
	strbuf_free(&text_sb);
}

int
cli_dry_run(const struct config *config, const char *eml_path, const char *from,
    char *const *to, size_t nto)
{
	struct strbuf text = STRBUF_INIT, source = STRBUF_INIT, sstate = STRBUF_INIT;
	struct strbuf esc = STRBUF_INIT;	/* a field from outside, escaped */
	struct route_result result = ROUTE_RESULT_INIT;
	struct group_index *groups = NULL;
	struct route_subject subject;
	struct disposition d;
	struct route_input in;
	struct state_doc doc = { 0 };
	const struct manager *m;
	char **rcpts = NULL, err[256];
	size_t nrcpts = 0, cap = 0;
	struct eml e;

	if (file_read(eml_path, (size_t)EML_MAX, &text) != 0) {
		fprintf(stderr, "mail2alert: %s: %s\n", eml_path, strerror(errno));
		return EX_NOINPUT;
	}
	eml_parse(&e, strbuf_str(&text), text.len,
	    (size_t)config->body_limit * MIME_BODY_RAW_FACTOR);
	if (from == NULL)
		from = e.return_path.data ? e.return_path.data : e.from.data;
	for (size_t i = 0; i < nto; i++)
		eml_addresses(to[i], &rcpts, &nrcpts, &cap);
	if (nto == 0) {
		eml_addresses(strbuf_str(&e.to), &rcpts, &nrcpts, &cap);
		eml_addresses(strbuf_str(&e.cc), &rcpts, &nrcpts, &cap);
	}
	{
		char **one = NULL;
		size_t n1 = 0, c1 = 0;

		eml_addresses(from ? from : "", &one, &n1, &c1);
		printf("envelope:  from=<%s>", shown(&esc, n1 ? one[0] : ""));
		m = route_select_manager(config, n1 ? one[0] : "", (const char *const *)rcpts, nrcpts);
		for (size_t i = 0; i < n1; i++)
			free(one[i]);
		free(one);
	}
	for (size_t i = 0; i < nrcpts; i++)
		printf("%s<%s>", i ? "," : " to=", shown(&esc, rcpts[i]));
	printf("\n");
	if (m == NULL) {
		printf("manager:   none wants it: accepted untouched\n");
	} else {
		if (config->state_file != NULL) {
			struct strbuf st = STRBUF_INIT;

			if (file_read(config->state_file, (size_t)STATE_FILE_MAX, &st) == 0 &&
			    state_doc_read(&doc, strbuf_str(&st), st.len, err, sizeof(err)) == 0)
				strbuf_addf(&sstate, "from the state file %s", config->state_file);
			strbuf_free(&st);
		}
		route_read_subject(&subject, strbuf_str(&e.subject), e.subject.len,
		    sstate.len ? &doc.stages : NULL);
		if (m->url != NULL && manager_needs_groups(m))
			groups = load_groups(config, m, &source);
		route_input_init(&in, m, groups, &subject);
		route_message(&in, &result);
		disposition_decide(&d, config, &in, &result, (const char *const *)rcpts, nrcpts);
		printf("manager:   %s (%s %s)\n", m->name, m->want == WANT_TO ? "to" : "from",
		    m->want_address);
		printf("subject:   %s\n", shown(&esc, subject.subject));
		if (subject.is_stage)
			printf("stage:     pipeline=%s stage=%s counters=%lu/%lu\n",
			    subject.stage.pipeline, subject.stage.stage,
			    subject.stage.pipeline_counter, subject.stage.stage_counter);
		printf("event:     parsed=%s previous=%s (%s) final=%s\n", event_name(subject.parsed),
		    event_status_name(subject.previous), sstate.len ? sstate.data : "no state file",
		    event_name(subject.event));
		if (source.len)
			printf("groups:    %s\n", shown(&esc, source.data));
		print_rules(m, &result);
		print_outcome(&in, &result, config, &e, &d);
		disposition_free(&d);
		route_subject_free(&subject);
	}
	route_result_free(&result);
	group_index_free(groups);
	state_doc_free(&doc);
	for (size_t i = 0; i < nrcpts; i++)
		free(rcpts[i]);
	free(rcpts);
	eml_free(&e);
	strbuf_free(&text);
	strbuf_free(&source);
	strbuf_free(&sstate);
	strbuf_free(&esc);
	return 0;
}

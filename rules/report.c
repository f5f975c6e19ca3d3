/*
 * report.c - routing report (see report.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report.h"
#include "route.h"
#include "strbuf.h"
#include "xalloc.h"

/* The actions of a result as config text, e.g. ["mailto:a@x", "slack:#c"]. */
static cJSON *
actions_json(const struct route_result *r)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; i < r->nactions; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(r->actions[i]->text));
	return list;
}

/* Add event to the route with the same actions, or start a new route. */
static void
add_route(cJSON *routes, enum gocd_event event, cJSON *actions)
{
	cJSON *route;

	cJSON_ArrayForEach(route, routes) {
		if (cJSON_Compare(cJSON_GetObjectItem(route, "actions"), actions, true)) {
			cJSON_AddItemToArray(cJSON_GetObjectItem(route, "events"),
			    cJSON_CreateString(event_name(event)));
			cJSON_Delete(actions);
			return;
		}
	}
	route = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(route, "events"),
	    cJSON_CreateString(event_name(event)));
	cJSON_AddItemToObject(route, "actions", actions);
	cJSON_AddItemToArray(routes, route);
}

/* Evaluate one pipeline for every event; marks the rules that matched. */
static cJSON *
pipeline_json(const struct manager *m, const struct group_index *groups,
    const char *pipeline, bool *rule_used)
{
	cJSON *obj = cJSON_CreateObject(), *routes;
	struct route_result result = ROUTE_RESULT_INIT;

	cJSON_AddStringToObject(obj, "name", pipeline);
	routes = cJSON_AddArrayToObject(obj, "routes");
	for (int e = EVENT_PASSES; e < EVENT_COUNT; e++) {
		struct gocd_subject stage = { .pipeline_counter = 1, .stage_counter = 1,
		    .event = (enum gocd_event)e };
		struct strbuf subject = STRBUF_INIT;
		struct route_input in = { .manager = m, .groups = groups, .stage = &stage,
		    .event = stage.event };

		/* as GoCD would write it: mail.in_subject rules read the text */
		snprintf(stage.pipeline, sizeof(stage.pipeline), "%s", pipeline);
		snprintf(stage.stage, sizeof(stage.stage), "stage");
		gocd_format_subject(&subject, &stage);
		in.subject = subject.data;
		route_message(&in, &result);
		for (size_t r = 0; r < m->nrules; r++)
			rule_used[r] |= result.matched[r];
		if (result.nactions > 0)
			add_route(routes, (enum gocd_event)e, actions_json(&result));
		strbuf_free(&subject);
	}
	route_result_free(&result);
	return obj;
}

/* Groups the rules name that groups does not list, each once. */
static void
add_unlisted_groups(cJSON *out, const struct manager *m, const struct group_index *groups)
{
	for (size_t r = 0; r < m->nrules; r++) {
		const struct rule *rule = &m->rules[r];
		const char *group = rule->function == FILTER_IN_GROUP ? rule->args[0] :
		    rule->function == FILTER_NAME_LIKE ? rule->args[1] : NULL;
		const cJSON *seen;
		bool dup = false;

		if (group == NULL || (groups != NULL && group_index_has_group(groups, group)))
			continue;
		cJSON_ArrayForEach(seen, out)
			dup = dup || strcasecmp(seen->valuestring, group) == 0;
		if (!dup)
			cJSON_AddItemToArray(out, cJSON_CreateString(group));
	}
}

cJSON *
report_manager(const struct manager *m, const struct group_index *groups)
{
	cJSON *root = cJSON_CreateObject(), *groups_json, *uncovered, *unused;
	bool *rule_used = xcalloc(m->nrules, sizeof(bool));

	cJSON_AddStringToObject(root, "manager", m->name);
	groups_json = cJSON_AddArrayToObject(root, "groups");
	uncovered = cJSON_AddArrayToObject(root, "uncovered");
	for (size_t g = 0; groups != NULL && g < group_index_group_count(groups); g++) {
		cJSON *group = cJSON_CreateObject(), *pipelines;

		cJSON_AddStringToObject(group, "name", group_index_group_name(groups, g));
		pipelines = cJSON_AddArrayToObject(group, "pipelines");
		for (size_t p = 0; p < group_index_group_size(groups, g); p++) {
			const char *name = group_index_pipeline(groups, g, p);
			cJSON *pj = pipeline_json(m, groups, name, rule_used);

			if (cJSON_GetArraySize(cJSON_GetObjectItem(pj, "routes")) == 0)
				cJSON_AddItemToArray(uncovered, cJSON_CreateString(name));
			cJSON_AddItemToArray(pipelines, pj);
		}
		cJSON_AddItemToArray(groups_json, group);
	}
	unused = cJSON_AddArrayToObject(root, "unused_rules");
	for (size_t r = 0; r < m->nrules; r++) {
		cJSON *rule;

		if (rule_used[r])
			continue;
		rule = cJSON_CreateObject();
		cJSON_AddNumberToObject(rule, "rule", (double)(r + 1));
		cJSON_AddNumberToObject(rule, "line", m->rules[r].line);
		if (m->rules[r].name != NULL)
			cJSON_AddStringToObject(rule, "name", m->rules[r].name);
		cJSON_AddItemToArray(unused, rule);
	}
	free(rule_used);
	add_unlisted_groups(cJSON_AddArrayToObject(root, "unlisted_groups"), m, groups);
	return root;
}

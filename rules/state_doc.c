/*
 * state_doc.c - state file JSON (see state_doc.h).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gocd_subject.h"
#include "outbox_record.h"
#include "state_doc.h"
#include "xalloc.h"

static cJSON *
groups_json(const struct group_index *index)
{
	cJSON *obj = cJSON_CreateObject();

	for (size_t g = 0; g < group_index_group_count(index); g++) {
		cJSON *list = cJSON_AddArrayToObject(obj, group_index_group_name(index, g));

		for (size_t p = 0; p < group_index_group_size(index, g); p++)
			cJSON_AddItemToArray(list, cJSON_CreateString(
			    group_index_pipeline(index, g, p)));
	}
	return obj;
}

char *
state_doc_write(const struct state_doc *doc)
{
	cJSON *root = cJSON_CreateObject(), *groups, *stages, *posts;
	const char *key;
	uint32_t status;
	size_t pos = 0;
	char *json;

	cJSON_AddNumberToObject(root, "version", STATE_DOC_VERSION);
	groups = cJSON_AddObjectToObject(root, "groups");
	for (size_t i = 0; i < doc->ngroups; i++)
		cJSON_AddItemToObject(groups, doc->managers[i], groups_json(doc->groups[i]));
	stages = cJSON_AddObjectToObject(root, "stages");
	while (name_map_next(&doc->stages.states, &pos, &key, &status))
		cJSON_AddStringToObject(stages, key, event_status_name((enum stage_status)status));
	posts = cJSON_AddArrayToObject(root, "slack");
	for (size_t i = 0; i < doc->nposts; i++)
		cJSON_AddItemToArray(posts, outbox_record_json(doc->posts[i]));
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (json == NULL)
		abort();		/* only on out of memory */
	return json;
}

/*
 * The reader keeps only what the writer could have written, so what it
 * returns is as safe to log, print and post as what GoCD gave us.
 */
static bool
is_name(const char *s)
{
	return s != NULL && gocd_is_name(s, strlen(s));
}

static void
read_groups(struct state_doc *doc, const cJSON *groups)
{
	const cJSON *manager, *group, *pipeline;

	cJSON_ArrayForEach(manager, groups) {
		struct group_index *index;

		if (!cJSON_IsObject(manager) || !is_name(manager->string))
			continue;
		index = group_index_new();
		cJSON_ArrayForEach(group, manager) {
			if (!is_name(group->string) || !cJSON_IsArray(group))
				continue;
			group_index_add(index, group->string, NULL);
			cJSON_ArrayForEach(pipeline, group) {
				if (is_name(cJSON_GetStringValue(pipeline)))
					group_index_add(index, group->string, pipeline->valuestring);
			}
		}
		doc->managers = xrealloc(doc->managers, (doc->ngroups + 1) * sizeof(char *));
		doc->groups = xrealloc(doc->groups, (doc->ngroups + 1) * sizeof(*doc->groups));
		doc->managers[doc->ngroups] = xstrdup(manager->string);
		doc->groups[doc->ngroups++] = index;
	}
}

static void
read_stages(struct state_doc *doc, const cJSON *stages)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, stages) {
		char pipeline[GOCD_NAME_MAX + 1];
		const char *key = entry->string, *slash;
		enum stage_status status;

		if (key == NULL || !cJSON_IsString(entry) ||
		    !event_status_from_name(entry->valuestring, &status))
			continue;
		/* only what we wrote: GoCD names, so they are safe to log and print */
		slash = strchr(key, '/');
		if (slash == NULL || !gocd_is_name(key, (size_t)(slash - key)) ||
		    !gocd_is_name(slash + 1, strlen(slash + 1)))
			continue;
		memcpy(pipeline, key, (size_t)(slash - key));
		pipeline[slash - key] = '\0';
		stage_table_set(&doc->stages, pipeline, slash + 1, status);
	}
}

static void
read_posts(struct state_doc *doc, const cJSON *posts)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, posts) {
		struct slack_post *post = outbox_record_from_json(entry);

		if (post == NULL)
			continue;
		doc->posts = xrealloc(doc->posts, (doc->nposts + 1) * sizeof(*doc->posts));
		doc->posts[doc->nposts++] = post;
	}
}

int
state_doc_read(struct state_doc *doc, const char *json, size_t len, char *err,
    size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");

	memset(doc, 0, sizeof(*doc));
	if (root == NULL || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "not JSON (truncated or corrupt?)");
		cJSON_Delete(root);
		return -1;
	}
	if (!cJSON_IsNumber(version) || version->valueint != STATE_DOC_VERSION) {
		snprintf(err, errlen, "not a version %d state file", STATE_DOC_VERSION);
		cJSON_Delete(root);
		return -1;
	}
	read_groups(doc, cJSON_GetObjectItemCaseSensitive(root, "groups"));
	read_stages(doc, cJSON_GetObjectItemCaseSensitive(root, "stages"));
	read_posts(doc, cJSON_GetObjectItemCaseSensitive(root, "slack"));
	cJSON_Delete(root);
	return 0;
}

void
state_doc_free(struct state_doc *doc)
{
	for (size_t i = 0; i < doc->ngroups; i++) {
		free(doc->managers[i]);
		group_index_free(doc->groups[i]);
	}
	free(doc->managers);
	free(doc->groups);
	stage_table_free(&doc->stages);
	for (size_t i = 0; i < doc->nposts; i++)
		slack_post_free(doc->posts[i]);
	free(doc->posts);
	memset(doc, 0, sizeof(*doc));
}

/*
 * gocd_groups.c - GoCD pipeline-group documents -> group index
 * (see gocd_groups.h).
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gocd_groups.h"
#include "gocd_subject.h"

/* GoCD's nameType: anything else did not come from GoCD's config. */
static bool
is_gocd_name(const cJSON *item)
{
	const char *s = cJSON_GetStringValue(item);

	return s != NULL && gocd_is_name(s, strlen(s));
}

/* A pipeline entry: an object with "name" (admin, legacy) or a string. */
static const cJSON *
pipeline_name(const cJSON *entry, bool plain_strings)
{
	return plain_strings ? entry : cJSON_GetObjectItemCaseSensitive(entry, "name");
}

static bool
add_groups(struct group_index *index, const cJSON *groups, bool plain_strings,
    char *err, size_t errlen)
{
	const cJSON *group, *pipelines, *entry;

	if (!cJSON_IsArray(groups)) {
		snprintf(err, errlen, "unexpected JSON: no list of pipeline groups");
		return false;
	}
	cJSON_ArrayForEach(group, groups) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(group, "name");

		pipelines = cJSON_GetObjectItemCaseSensitive(group, "pipelines");
		if (!cJSON_IsString(name) || (pipelines && !cJSON_IsArray(pipelines))) {
			snprintf(err, errlen, "unexpected JSON: a group without name or pipelines");
			return false;
		}
		if (!is_gocd_name(name))
			continue;
		group_index_add(index, name->valuestring, NULL);
		cJSON_ArrayForEach(entry, pipelines) {
			const cJSON *p = pipeline_name(entry, plain_strings);

			if (is_gocd_name(p))
				group_index_add(index, name->valuestring, p->valuestring);
		}
	}
	return true;
}

/* How many pipeline entries the document lists, to size the index once. */
static size_t
count_pipelines(const cJSON *groups)
{
	const cJSON *group;
	size_t n = 0;

	cJSON_ArrayForEach(group, groups)
		n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(group, "pipelines"));
	return n;
}

static const cJSON *
embedded(const cJSON *root, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "_embedded"), key);
}

struct group_index *
gocd_groups_parse(enum gocd_api api, const char *json, size_t len, char *err,
    size_t errlen)
{
	struct group_index *index;
	const cJSON *groups;
	cJSON *root = cJSON_ParseWithLength(json, len);
	bool ok;

	if (root == NULL) {
		snprintf(err, errlen, "malformed JSON");
		return NULL;
	}
	switch (api) {
	case GOCD_API_DASHBOARD:
		groups = embedded(root, "pipeline_groups");
		break;
	case GOCD_API_LEGACY:
		groups = root;
		break;
	default:
		groups = embedded(root, "groups");
		break;
	}
	index = group_index_new();
	group_index_reserve(index, count_pipelines(groups));
	ok = add_groups(index, groups, api == GOCD_API_DASHBOARD, err, errlen);
	cJSON_Delete(root);
	if (!ok) {
		group_index_free(index);
		return NULL;
	}
	return index;
}

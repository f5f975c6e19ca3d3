/*
 * group_index.c - pipeline -> group index (see group_index.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "group_index.h"
#include "name_map.h"
#include "xalloc.h"

struct pipeline_group {
	const char *name;	/* the key stored in groups_by_name */
	const char **pipelines;	/* keys stored in group_of_pipeline */
	size_t count, cap;
};

struct group_index {
	struct arena names;			/* every key of both maps */
	struct name_map group_of_pipeline;	/* pipeline -> group number */
	struct name_map groups_by_name;		/* group -> group number */
	struct pipeline_group *groups;
	size_t count, cap;
	size_t pipelines;
};

struct group_index *
group_index_new(void)
{
	struct group_index *index = xcalloc(1, sizeof(struct group_index));

	index->group_of_pipeline.keys = &index->names;
	index->groups_by_name.keys = &index->names;
	return index;
}

void
group_index_reserve(struct group_index *index, size_t pipelines)
{
	name_map_reserve(&index->group_of_pipeline, pipelines);
}

void
group_index_free(struct group_index *index)
{
	if (index == NULL)
		return;
	for (size_t g = 0; g < index->count; g++)
		free(index->groups[g].pipelines);
	free(index->groups);
	name_map_free(&index->group_of_pipeline);
	name_map_free(&index->groups_by_name);
	arena_free(&index->names);
	free(index);
}

static uint32_t
group_number(struct group_index *index, const char *group)
{
	uint32_t g;
	size_t len = strlen(group);

	if (name_map_get(&index->groups_by_name, group, len, &g))
		return g;
	g = (uint32_t)index->count;
	index->groups = xgrow(index->groups, &index->cap, index->count + 1,
	    sizeof(*index->groups));
	name_map_put(&index->groups_by_name, group, len, g);
	index->groups[g] = (struct pipeline_group){
		.name = name_map_key(&index->groups_by_name, group, len),
	};
	index->count++;
	return g;
}

void
group_index_add(struct group_index *index, const char *group,
    const char *pipeline)
{
	uint32_t g = group_number(index, group), first;
	struct pipeline_group *pg = &index->groups[g];
	size_t len;

	if (pipeline == NULL)
		return;
	len = strlen(pipeline);
	/* listed twice: keep the first group, as documented */
	if (name_map_get(&index->group_of_pipeline, pipeline, len, &first))
		return;
	name_map_put(&index->group_of_pipeline, pipeline, len, g);
	pg->pipelines = xgrow(pg->pipelines, &pg->cap, pg->count + 1,
	    sizeof(*pg->pipelines));
	pg->pipelines[pg->count++] = name_map_key(&index->group_of_pipeline,
	    pipeline, len);
	index->pipelines++;
}

const char *
group_index_group_of(const struct group_index *index, const char *pipeline)
{
	uint32_t g;

	if (!name_map_get(&index->group_of_pipeline, pipeline, strlen(pipeline), &g))
		return NULL;
	return index->groups[g].name;
}

bool
group_index_in_group(const struct group_index *index, const char *pipeline,
    const char *group)
{
	const char *actual = group_index_group_of(index, pipeline);

	return actual != NULL && strcasecmp(actual, group) == 0;
}

bool
group_index_has_group(const struct group_index *index, const char *group)
{
	uint32_t g;

	return name_map_get(&index->groups_by_name, group, strlen(group), &g);
}

size_t
group_index_group_count(const struct group_index *index)
{
	return index->count;
}

size_t
group_index_pipeline_count(const struct group_index *index)
{
	return index->pipelines;
}

const char *
group_index_group_name(const struct group_index *index, size_t g)
{
	return index->groups[g].name;
}

size_t
group_index_group_size(const struct group_index *index, size_t g)
{
	return index->groups[g].count;
}

const char *
group_index_pipeline(const struct group_index *index, size_t g, size_t p)
{
	return index->groups[g].pipelines[p];
}

/*
 * stage_table.c - last known stage states (see stage_table.h).
 */
#include <stdio.h>
#include <string.h>

#include "gocd_subject.h"
#include "stage_table.h"

/* Key "pipeline/stage": '/' cannot occur in GoCD names. */
static char *
stage_key(char buf[2 * GOCD_NAME_MAX + 2], const char *pipeline,
    const char *stage)
{
	snprintf(buf, 2 * GOCD_NAME_MAX + 2, "%.*s/%.*s", GOCD_NAME_MAX, pipeline,
	    GOCD_NAME_MAX, stage);
	return buf;
}

enum stage_status
stage_table_get(const struct stage_table *table, const char *pipeline,
    const char *stage)
{
	char buf[2 * GOCD_NAME_MAX + 2];
	const char *key = stage_key(buf, pipeline, stage);
	uint32_t status;

	if (!name_map_get(&table->states, key, strlen(key), &status))
		return STAGE_UNKNOWN;
	return (enum stage_status)status;
}

void
stage_table_limit(struct stage_table *table, size_t max, uint32_t seed)
{
	table->max = max;
	if (table->states.count == 0)
		table->states.seed = seed;
}

/* Put key unless that would take a full table past its bound. */
static bool
put_bounded(struct stage_table *table, const char *key, uint32_t status)
{
	uint32_t known;

	if (table->max != 0 && table->states.count >= table->max &&
	    !name_map_get(&table->states, key, strlen(key), &known))
		return false;
	name_map_put(&table->states, key, strlen(key), status);
	return true;
}

bool
stage_table_set(struct stage_table *table, const char *pipeline,
    const char *stage, enum stage_status status)
{
	char buf[2 * GOCD_NAME_MAX + 2];

	return put_bounded(table, stage_key(buf, pipeline, stage), status);
}

size_t
stage_table_count(const struct stage_table *table)
{
	return table->states.count;
}

size_t
stage_table_merge(struct stage_table *into, const struct stage_table *from,
    bool replace)
{
	size_t set = 0, pos = 0;
	const char *key;
	uint32_t status, known;

	while (name_map_next(&from->states, &pos, &key, &status)) {
		if (!replace && name_map_get(&into->states, key, strlen(key), &known))
			continue;
		set += put_bounded(into, key, status);
	}
	return set;
}

void
stage_table_free(struct stage_table *table)
{
	name_map_free(&table->states);
}

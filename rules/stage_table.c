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
stage_table_set(struct stage_table *table, const char *pipeline,
    const char *stage, enum stage_status status)
{
	char buf[2 * GOCD_NAME_MAX + 2];
	const char *key = stage_key(buf, pipeline, stage);

	name_map_put(&table->states, key, strlen(key), status);
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
		name_map_put(&into->states, key, strlen(key), status);
		set++;
	}
	return set;
}

void
stage_table_free(struct stage_table *table)
{
	name_map_free(&table->states);
}

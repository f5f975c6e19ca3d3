/*
 * stage_changes.c - states decided alone, with their times (see
 * stage_changes.h).
 */
#include <stdlib.h>
#include <string.h>

#include "stage_changes.h"
#include "xalloc.h"

bool
stage_changes_put(struct stage_changes *c, const char *name, enum stage_status status,
    long long at)
{
	size_t len = strlen(name);
	uint32_t slot;

	if (name_map_get(&c->index, name, len, &slot)) {
		if (c->changes[slot].at <= at)
			c->changes[slot] = (struct stage_change){ status, at };
		return true;
	}
	if (c->index.count >= c->max)
		return false;
	slot = (uint32_t)c->index.count;
	c->changes = xgrow(c->changes, &c->cap, (size_t)slot + 1, sizeof(*c->changes));
	c->changes[slot] = (struct stage_change){ status, at };
	name_map_put(&c->index, name, len, slot);
	return true;
}

bool
stage_changes_next(const struct stage_changes *c, size_t *pos, const char **name,
    struct stage_change *change)
{
	uint32_t slot;

	if (!name_map_next(&c->index, pos, name, &slot))
		return false;
	*change = c->changes[slot];
	return true;
}

void
stage_changes_merge(struct stage_changes *into, struct stage_changes *from)
{
	struct stage_change change;
	const char *name;
	size_t pos = 0;

	while (stage_changes_next(from, &pos, &name, &change))
		stage_changes_put(into, name, change.status, change.at);
	stage_changes_free(from);
}

size_t
stage_changes_count(const struct stage_changes *c)
{
	return c->index.count;
}

void
stage_changes_free(struct stage_changes *c)
{
	name_map_free(&c->index);
	free(c->changes);
	c->changes = NULL;
	c->cap = 0;
}

/*
 * stage_table.h - the last known state of every pipeline/stage, for edge
 * detection (SPEC section 2).
 *
 * A plain data structure: the daemon guards it with its own lock.
 */
#ifndef MAIL2ALERT_STAGE_TABLE_H
#define MAIL2ALERT_STAGE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "name_map.h"

struct stage_table {
	struct name_map states;	/* "pipeline/stage" -> enum stage_status */
	size_t max;		/* stages kept at most; 0: no bound */
};

#define STAGE_TABLE_INIT { NAME_MAP_INIT, 0 }

/*
 * Bound a table that outsiders fill (call while it is empty): at most max
 * stages, and a slot hash seeded per process (see name_map.h).
 */
void stage_table_limit(struct stage_table *table, size_t max, uint32_t seed);

enum stage_status stage_table_get(const struct stage_table *table,
    const char *pipeline, const char *stage);
/* Record a state; false when the stage is new and the table is full. */
bool stage_table_set(struct stage_table *table, const char *pipeline,
    const char *stage, enum stage_status status);

/*
 * Copy the states of from into into: all of them (replace), or only those
 * of stages into does not know yet (seeding).  Returns how many were set.
 */
size_t stage_table_merge(struct stage_table *into, const struct stage_table *from,
    bool replace);

/* How many stages the table holds. */
size_t stage_table_count(const struct stage_table *table);

void stage_table_free(struct stage_table *table);

#endif

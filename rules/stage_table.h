/*
 * stage_table.h - the last known state of every pipeline/stage, for edge
 * detection (SPEC section 2).
 *
 * A plain data structure: the daemon guards it with its own lock.
 */
#ifndef MAIL2ALERT_STAGE_TABLE_H
#define MAIL2ALERT_STAGE_TABLE_H

#include <stdbool.h>

#include "event.h"
#include "name_map.h"

struct stage_table {
	struct name_map states;	/* "pipeline/stage" -> enum stage_status */
};

#define STAGE_TABLE_INIT { NAME_MAP_INIT }

enum stage_status stage_table_get(const struct stage_table *table,
    const char *pipeline, const char *stage);
void stage_table_set(struct stage_table *table, const char *pipeline,
    const char *stage, enum stage_status status);
/* Set only if the stage is not known yet (cctray seeding); true if set. */
bool stage_table_seed(struct stage_table *table, const char *pipeline,
    const char *stage, enum stage_status status);

void stage_table_free(struct stage_table *table);

#endif

/*
 * group_index.h - which GoCD pipeline group each pipeline belongs to.
 *
 * Built once from a poll (group_index_add), then shared read-only: the
 * daemon never changes an index that a message may be looking at; a new
 * poll builds a new one.  Lookups are O(1) and case-insensitive.
 */
#ifndef MAIL2ALERT_GROUP_INDEX_H
#define MAIL2ALERT_GROUP_INDEX_H

#include <stdbool.h>
#include <stddef.h>

struct group_index;

struct group_index *group_index_new(void);
void group_index_free(struct group_index *index);

/* Make room for this many pipelines (a hint: adding more still works). */
void group_index_reserve(struct group_index *index, size_t pipelines);

/* Record a group (pipeline NULL: a group with no pipelines yet). */
void group_index_add(struct group_index *index, const char *group,
    const char *pipeline);

/*
 * The group of a pipeline, spelled as GoCD spells it, or NULL.  GoCD keeps
 * a pipeline in one group; should a document list it twice, the first
 * group wins.
 */
const char *group_index_group_of(const struct group_index *index,
    const char *pipeline);
bool group_index_in_group(const struct group_index *index,
    const char *pipeline, const char *group);
bool group_index_has_group(const struct group_index *index, const char *group);

size_t group_index_group_count(const struct group_index *index);
size_t group_index_pipeline_count(const struct group_index *index);
const char *group_index_group_name(const struct group_index *index, size_t g);
size_t group_index_group_size(const struct group_index *index, size_t g);
const char *group_index_pipeline(const struct group_index *index, size_t g,
    size_t p);

#endif

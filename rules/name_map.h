/*
 * name_map.h - hash map from GoCD names to small integers.
 *
 * GoCD compares pipeline, stage and group names case-insensitively, so
 * this map does too (ASCII case folding: GoCD names are ASCII).  Keys
 * are copied and kept as first given, for reports and persistence.
 */
#ifndef MAIL2ALERT_NAME_MAP_H
#define MAIL2ALERT_NAME_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct name_map_slot {
	char *key;		/* NULL: empty slot */
	uint32_t hash;
	uint32_t value;
};

struct name_map {
	struct name_map_slot *slots;
	size_t cap;		/* 0 or a power of two */
	size_t count;
	struct arena *keys;	/* where keys are copied; NULL: malloc each */
};

#define NAME_MAP_INIT { NULL, 0, 0, NULL }

/* Case-insensitive hash of len bytes of key. */
uint32_t name_hash(const char *key, size_t len);

bool name_map_get(const struct name_map *map, const char *key, size_t len,
    uint32_t *value);
/* Insert or update; returns true if the key was new. */
bool name_map_put(struct name_map *map, const char *key, size_t len,
    uint32_t value);
/* The stored key equal to key (original spelling), or NULL. */
const char *name_map_key(const struct name_map *map, const char *key,
    size_t len);
/*
 * Walk every entry, in no particular order: start with *pos = 0 and call
 * until it returns false.  The map must not change during the walk.
 */
bool name_map_next(const struct name_map *map, size_t *pos, const char **key,
    uint32_t *value);
/* Make room for count keys without growing on the way. */
void name_map_reserve(struct name_map *map, size_t count);
void name_map_free(struct name_map *map);

#endif

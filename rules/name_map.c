/*
 * name_map.c - open-addressing, case-insensitive name map (see name_map.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "name_map.h"
#include "xalloc.h"

static unsigned char
fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

uint32_t
name_hash(const char *key, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= fold((unsigned char)key[i]);
		h *= 16777619u;
	}
	return h;
}

static bool
same_name(const char *stored, const char *key, size_t len)
{
	return strlen(stored) == len && strncasecmp(stored, key, len) == 0;
}

/* The slot holding key, or the empty slot where it would go. */
static struct name_map_slot *
find_slot(const struct name_map *map, const char *key, size_t len,
    uint32_t hash)
{
	size_t mask = map->cap - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct name_map_slot *slot = &map->slots[i];

		if (slot->key == NULL ||
		    (slot->hash == hash && same_name(slot->key, key, len)))
			return slot;
	}
}

static void
rehash(struct name_map *map, size_t cap)
{
	struct name_map old = *map;

	map->slots = xcalloc(cap, sizeof(*map->slots));
	map->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		struct name_map_slot *from = &old.slots[i];

		if (from->key != NULL)
			*find_slot(map, from->key, strlen(from->key), from->hash) = *from;
	}
	free(old.slots);
}

bool
name_map_get(const struct name_map *map, const char *key, size_t len,
    uint32_t *value)
{
	const struct name_map_slot *slot;

	if (map->count == 0)
		return false;
	slot = find_slot(map, key, len, name_hash(key, len));
	if (slot->key == NULL)
		return false;
	*value = slot->value;
	return true;
}

const char *
name_map_key(const struct name_map *map, const char *key, size_t len)
{
	if (map->count == 0)
		return NULL;
	return find_slot(map, key, len, name_hash(key, len))->key;
}

bool
name_map_put(struct name_map *map, const char *key, size_t len, uint32_t value)
{
	uint32_t hash = name_hash(key, len);
	struct name_map_slot *slot;

	/* keep the load factor under 1/2 so probes stay short */
	if ((map->count + 1) * 2 > map->cap)
		rehash(map, map->cap ? map->cap * 2 : 16);
	slot = find_slot(map, key, len, hash);
	if (slot->key != NULL) {
		slot->value = value;
		return false;
	}
	slot->key = map->keys ? arena_strndup(map->keys, key, len) : xstrndup(key, len);
	slot->hash = hash;
	slot->value = value;
	map->count++;
	return true;
}

void
name_map_reserve(struct name_map *map, size_t count)
{
	size_t cap = map->cap ? map->cap : 16;

	while (count * 2 > cap)
		cap *= 2;
	if (cap > map->cap)
		rehash(map, cap);
}

void
name_map_free(struct name_map *map)
{
	for (size_t i = 0; i < map->cap && map->keys == NULL; i++)
		free(map->slots[i].key);
	free(map->slots);
	map->slots = NULL;
	map->cap = map->count = 0;
}

bool
name_map_next(const struct name_map *map, size_t *pos, const char **key,
    uint32_t *value)
{
	for (; *pos < map->cap; (*pos)++) {
		const struct name_map_slot *slot = &map->slots[*pos];

		if (slot->key != NULL) {
			*key = slot->key;
			*value = slot->value;
			(*pos)++;
			return true;
		}
	}
	return false;
}

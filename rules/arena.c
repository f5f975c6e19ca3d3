/*
 * arena.c - chunked string storage (see arena.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "xalloc.h"

#define ARENA_CHUNK_SIZE 65536

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

char *
arena_strndup(struct arena *arena, const char *s, size_t len)
{
	struct arena_chunk *c = arena->chunks;
	char *copy;

	if (len >= SIZE_MAX - sizeof(*c) - 1)
		abort();		/* cannot be: as out of memory */
	if (c == NULL || c->size - c->used < len + 1) {
		size_t size = len + 1 > ARENA_CHUNK_SIZE ? len + 1 : ARENA_CHUNK_SIZE;

		c = xmalloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		c->next = arena->chunks;
		arena->chunks = c;
	}
	copy = c->data + c->used;
	memcpy(copy, s, len);
	copy[len] = '\0';
	c->used += len + 1;
	return copy;
}

void
arena_free(struct arena *arena)
{
	while (arena->chunks != NULL) {
		struct arena_chunk *next = arena->chunks->next;

		free(arena->chunks);
		arena->chunks = next;
	}
}

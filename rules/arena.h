/*
 * arena.h - many small strings that live and die together.
 *
 * A group index holds tens of thousands of names; allocating them from a
 * few large chunks makes building it cheaper and freeing it one call per
 * chunk instead of one per name.
 */
#ifndef MAIL2ALERT_ARENA_H
#define MAIL2ALERT_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;
};

#define ARENA_INIT { NULL }

/* A copy of len bytes of s, NUL-terminated, owned by the arena. */
char *arena_strndup(struct arena *arena, const char *s, size_t len);
void arena_free(struct arena *arena);

#endif

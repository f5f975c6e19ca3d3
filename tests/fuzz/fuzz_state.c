/*
 * fuzz_state.c - state file round trip: state_doc_read on the input, then
 * state_doc_write, then read that back and write it again.
 *
 * Invariants:
 *   - a failed read leaves a reason in err and nothing to free;
 *   - what state_doc_write produces always reads back (rc 0);
 *   - the second document equals the first: managers and their groups
 *     and pipelines in order, every stage key with its state and
 *     spelling, every Slack post field by field;
 *   - writing it again gives a document of the same length (stage order
 *     may differ: it is hash-table order).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "state_doc.h"

static void
same_groups(const struct group_index *a, const struct group_index *b)
{
	size_t n = group_index_group_count(a);

	FUZZ_CHECK(n == group_index_group_count(b), "group count %zu != %zu", n,
	    group_index_group_count(b));
	FUZZ_CHECK(group_index_pipeline_count(a) == group_index_pipeline_count(b),
	    "pipeline count");
	for (size_t g = 0; g < n; g++) {
		size_t size = group_index_group_size(a, g);

		FUZZ_CHECK(strcmp(group_index_group_name(a, g), group_index_group_name(b, g)) == 0,
		    "group %zu: \"%s\" != \"%s\"", g, group_index_group_name(a, g),
		    group_index_group_name(b, g));
		FUZZ_CHECK(size == group_index_group_size(b, g), "group %zu size", g);
		for (size_t p = 0; p < size; p++)
			FUZZ_CHECK(strcmp(group_index_pipeline(a, g, p),
			    group_index_pipeline(b, g, p)) == 0, "group %zu pipeline %zu", g, p);
	}
}

static void
same_posts(const struct slack_post *a, const struct slack_post *b)
{
	FUZZ_CHECK(strcmp(a->channel, b->channel) == 0, "post channel");
	FUZZ_CHECK(a->style == b->style, "post style");
	FUZZ_CHECK(strcmp(a->subject, b->subject) == 0, "post subject");
	FUZZ_CHECK(strcmp(a->from, b->from) == 0, "post from");
	FUZZ_CHECK(strcmp(a->text, b->text) == 0, "post text");
	FUZZ_CHECK(a->event == b->event, "post event");
	FUZZ_CHECK(strcmp(a->queue_id, b->queue_id) == 0, "post queue_id");
}

static void
same_doc(const struct state_doc *a, const struct state_doc *b)
{
	const struct name_map *sa = &a->stages.states, *sb = &b->stages.states;
	const char *key;
	uint32_t status;

	FUZZ_CHECK(a->ngroups == b->ngroups, "managers %zu != %zu", a->ngroups, b->ngroups);
	for (size_t i = 0; i < a->ngroups; i++) {
		FUZZ_CHECK(strcmp(a->managers[i], b->managers[i]) == 0, "manager %zu", i);
		same_groups(a->groups[i], b->groups[i]);
	}
	FUZZ_CHECK(sa->count == sb->count, "stages %zu != %zu", sa->count, sb->count);
	for (size_t pos = 0; name_map_next(sa, &pos, &key, &status);) {
		size_t len = strlen(key);
		uint32_t value;

		FUZZ_CHECK(name_map_get(sb, key, len, &value), "stage %s lost", key);
		FUZZ_CHECK(value == status, "stage %s: %u != %u", key, (unsigned)status,
		    (unsigned)value);
		FUZZ_CHECK(strcmp(name_map_key(sb, key, len), key) == 0,
		    "stage %s respelled", key);
	}
	FUZZ_CHECK(a->nposts == b->nposts, "posts %zu != %zu", a->nposts, b->nposts);
	for (size_t i = 0; i < a->nposts; i++)
		same_posts(a->posts[i], b->posts[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_doc first, second;
	char err[256] = "", *json1, *json2;
	/* not NUL-terminated: the reader must honour len */
	char *json = malloc(size ? size : 1);

	if (json == NULL)
		abort();
	if (size)
		memcpy(json, data, size);
	if (state_doc_read(&first, json, size, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0', "failure without a reason");
		FUZZ_CHECK(first.ngroups == 0 && first.nposts == 0 &&
		    first.stages.states.count == 0, "failed read left data");
		state_doc_free(&first);
		free(json);
		return 0;
	}
	json1 = state_doc_write(&first);
	FUZZ_CHECK(state_doc_read(&second, json1, strlen(json1), err, sizeof(err)) == 0,
	    "own output does not read back: %s: %s", err, json1);
	same_doc(&first, &second);
	json2 = state_doc_write(&second);
	FUZZ_CHECK(strlen(json1) == strlen(json2), "rewritten document differs:\n%s\n%s",
	    json1, json2);
	free(json1);
	free(json2);
	state_doc_free(&first);
	state_doc_free(&second);
	free(json);
	return 0;
}

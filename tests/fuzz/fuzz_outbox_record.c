/*
 * fuzz_outbox_record.c - one outbox record (a journal line, an item of the
 * shared outbox in Redis, written by any relay or by anyone who can write
 * to the store): outbox_record_read on the input, then write and read back.
 *
 * Invariants:
 *   - a failed read leaves a reason in err and no post;
 *   - what outbox_record_write produces is one line (no newline: the
 *     journal is line-based) and always reads back;
 *   - the post read back equals the first, field by field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "outbox_record.h"

static void
same_post(const struct slack_post *a, const struct slack_post *b)
{
	FUZZ_CHECK(strcmp(a->id, b->id) == 0, "id");
	FUZZ_CHECK(strcmp(a->channel, b->channel) == 0, "channel");
	FUZZ_CHECK(a->named == b->named, "named");
	FUZZ_CHECK(a->style == b->style, "style");
	FUZZ_CHECK(strcmp(a->subject, b->subject) == 0, "subject");
	FUZZ_CHECK(strcmp(a->from, b->from) == 0, "from");
	FUZZ_CHECK(strcmp(a->text, b->text) == 0, "text");
	FUZZ_CHECK(a->event == b->event, "event");
	FUZZ_CHECK(strcmp(a->queue_id, b->queue_id) == 0, "queue_id");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slack_post *first = NULL, *second = NULL;
	char err[256] = "", *line;
	/* not NUL-terminated: the reader must honour len */
	char *text = malloc(size ? size : 1);

	if (text == NULL)
		abort();
	if (size)
		memcpy(text, data, size);
	if (outbox_record_read(text, size, &first, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0', "failure without a reason");
		FUZZ_CHECK(first == NULL, "failed read left a post");
		free(text);
		return 0;
	}
	line = outbox_record_write(first);
	FUZZ_CHECK(strchr(line, '\n') == NULL, "record holds a newline: %s", line);
	FUZZ_CHECK(outbox_record_read(line, strlen(line), &second, err, sizeof(err)) == 0,
	    "own record does not read back: %s: %s", err, line);
	same_post(first, second);
	free(line);
	slack_post_free(first);
	slack_post_free(second);
	free(text);
	return 0;
}

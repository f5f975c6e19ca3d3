/*
 * test_state_doc.c - the state file reader keeps only what the writer
 * could have written (names GoCD allows, destinations the config allows,
 * queue ids), so a tampered file cannot put controls into logs or posts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "state_doc.h"

static const char tampered[] =
    "{\"version\": 1,"
    " \"groups\": {\"gocd\": {\"team-a\": [\"api\", \"evil\\u001b[31m\", \"a b\"],"
    "                        \"bad group\": [\"web\"]},"
    "              \"bad\\nmanager\": {\"g\": [\"p\"]}},"
    " \"stages\": {\"api/build\": \"failure\", \"api/bad\\rstage\": \"success\","
    "              \"../x/y\": \"success\", \"noslash\": \"success\"},"
    " \"slack\": ["
    "   {\"channel\": \"#builds\", \"subject\": \"s\", \"text\": \"t\", \"queue_id\": \"4Bc1X2Y\"},"
    "   {\"channel\": \"#bu ilds\", \"subject\": \"s\", \"text\": \"t\"},"
    "   {\"channel\": \"builds\", \"subject\": \"s\", \"text\": \"t\"},"
    "   {\"channel\": \"@alice\", \"subject\": \"s\", \"text\": \"t\", \"queue_id\": \"x\\u001b]0;\"}"
    " ]}";

static void
test_tampered_entries_are_dropped(void **state)
{
	struct state_doc doc;
	char err[128];

	(void)state;
	assert_int_equal(state_doc_read(&doc, tampered, strlen(tampered), err, sizeof(err)), 0);
	assert_int_equal(doc.ngroups, 1);
	assert_string_equal(doc.managers[0], "gocd");
	assert_int_equal(group_index_group_count(doc.groups[0]), 1);
	assert_int_equal(group_index_pipeline_count(doc.groups[0]), 1);
	assert_non_null(group_index_group_of(doc.groups[0], "api"));
	assert_int_equal(doc.stages.states.count, 1);
	assert_int_equal(stage_table_get(&doc.stages, "api", "build"), STAGE_FAILURE);
	assert_int_equal(doc.nposts, 2);
	assert_string_equal(doc.posts[0]->channel, "#builds");
	assert_string_equal(doc.posts[0]->queue_id, "4Bc1X2Y");
	assert_null(doc.posts[0]->id);	/* written before posts had ids */
	assert_string_equal(doc.posts[1]->channel, "@alice");
	assert_string_equal(doc.posts[1]->queue_id, "NOQUEUE");
	state_doc_free(&doc);
}

/* What the writer writes, the reader reads back whole. */
static void
test_round_trip(void **state)
{
	struct state_doc doc = { 0 }, back;
	struct slack_post post = { .channel = "#ci", .subject = "Stage [a/1/b/1] failed",
	    .from = "go", .text = "See details", .event = EVENT_FAILS, .queue_id = "ABC123" };
	struct slack_post *posts[] = { &post };
	char err[128], *json;

	(void)state;
	stage_table_set(&doc.stages, "api", "build", STAGE_SUCCESS);
	doc.posts = posts;
	doc.nposts = 1;
	json = state_doc_write(&doc);
	assert_int_equal(state_doc_read(&back, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(stage_table_get(&back.stages, "api", "build"), STAGE_SUCCESS);
	assert_int_equal(back.nposts, 1);
	assert_string_equal(back.posts[0]->channel, "#ci");
	assert_string_equal(back.posts[0]->queue_id, "ABC123");
	assert_int_equal(back.posts[0]->event, EVENT_FAILS);
	state_doc_free(&back);
	stage_table_free(&doc.stages);
	free(json);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tampered_entries_are_dropped),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

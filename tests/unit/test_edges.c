/*
 * test_edges.c - edge detection (SPEC section 2) and the stage table that
 * remembers the last state of every pipeline/stage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "event.h"
#include "stage_table.h"

static const enum gocd_event all_events[] = {
	EVENT_NONE, EVENT_PASSES, EVENT_FAILS, EVENT_BREAKS, EVENT_FIXED,
	EVENT_CANCELLED,
};
#define NEVENTS (sizeof(all_events) / sizeof(all_events[0]))

static void
test_status_after(void **state)
{
	(void)state;
	assert_int_equal(event_status_after(EVENT_PASSES), STAGE_SUCCESS);
	assert_int_equal(event_status_after(EVENT_FIXED), STAGE_SUCCESS);
	assert_int_equal(event_status_after(EVENT_FAILS), STAGE_FAILURE);
	assert_int_equal(event_status_after(EVENT_BREAKS), STAGE_FAILURE);
	assert_int_equal(event_status_after(EVENT_CANCELLED), STAGE_UNKNOWN);
	assert_int_equal(event_status_after(EVENT_NONE), STAGE_UNKNOWN);
}

static void
test_unknown_previous_keeps_parsed(void **state)
{
	(void)state;
	for (size_t i = 0; i < NEVENTS; i++)
		assert_int_equal(event_edge_detect(STAGE_UNKNOWN, all_events[i]), all_events[i]);
}

static void
test_after_success(void **state)
{
	(void)state;
	assert_int_equal(event_edge_detect(STAGE_SUCCESS, EVENT_NONE), EVENT_NONE);
	assert_int_equal(event_edge_detect(STAGE_SUCCESS, EVENT_PASSES), EVENT_PASSES);
	/* "failed" after a success is a BREAKS */
	assert_int_equal(event_edge_detect(STAGE_SUCCESS, EVENT_FAILS), EVENT_BREAKS);
	assert_int_equal(event_edge_detect(STAGE_SUCCESS, EVENT_BREAKS), EVENT_BREAKS);
	/* expected PASSES is neither BREAKS nor FIXED: the parsed event stands */
	assert_int_equal(event_edge_detect(STAGE_SUCCESS, EVENT_FIXED), EVENT_FIXED);
	assert_int_equal(event_edge_detect(STAGE_SUCCESS, EVENT_CANCELLED), EVENT_CANCELLED);
}

static void
test_after_failure(void **state)
{
	(void)state;
	assert_int_equal(event_edge_detect(STAGE_FAILURE, EVENT_NONE), EVENT_NONE);
	/* "passed" after a failure is a FIXED */
	assert_int_equal(event_edge_detect(STAGE_FAILURE, EVENT_PASSES), EVENT_FIXED);
	assert_int_equal(event_edge_detect(STAGE_FAILURE, EVENT_FAILS), EVENT_FAILS);
	/* expected FAILS is neither BREAKS nor FIXED: the parsed event stands */
	assert_int_equal(event_edge_detect(STAGE_FAILURE, EVENT_BREAKS), EVENT_BREAKS);
	assert_int_equal(event_edge_detect(STAGE_FAILURE, EVENT_FIXED), EVENT_FIXED);
	assert_int_equal(event_edge_detect(STAGE_FAILURE, EVENT_CANCELLED), EVENT_CANCELLED);
}

static void
test_names(void **state)
{
	enum gocd_event e;
	enum stage_status s;

	(void)state;
	assert_string_equal(event_name(EVENT_NONE), "none");
	assert_string_equal(event_name(EVENT_PASSES), "PASSES");
	assert_string_equal(event_name(EVENT_FAILS), "FAILS");
	assert_string_equal(event_name(EVENT_BREAKS), "BREAKS");
	assert_string_equal(event_name(EVENT_FIXED), "FIXED");
	assert_string_equal(event_name(EVENT_CANCELLED), "CANCELLED");
	assert_string_equal(event_name((enum gocd_event)99), "none");
	for (size_t i = 1; i < NEVENTS; i++) {
		assert_true(event_from_name(event_name(all_events[i]), &e));
		assert_int_equal(e, all_events[i]);
	}
	assert_false(event_from_name("none", &e));
	assert_false(event_from_name("breaks", &e));
	assert_false(event_from_name("", &e));
	assert_false(event_from_name("BREAK", &e));

	assert_string_equal(event_status_name(STAGE_UNKNOWN), "unknown");
	assert_string_equal(event_status_name(STAGE_SUCCESS), "success");
	assert_string_equal(event_status_name(STAGE_FAILURE), "failure");
	assert_true(event_status_from_name("failure", &s));
	assert_int_equal(s, STAGE_FAILURE);
	assert_true(event_status_from_name("success", &s));
	assert_int_equal(s, STAGE_SUCCESS);
	assert_true(event_status_from_name("unknown", &s));
	assert_int_equal(s, STAGE_UNKNOWN);
	assert_false(event_status_from_name("Success", &s));
}

static void
test_table_get_set(void **state)
{
	struct stage_table t = STAGE_TABLE_INIT;

	(void)state;
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_UNKNOWN);
	stage_table_set(&t, "up42", "build", STAGE_FAILURE);
	stage_table_set(&t, "up42", "test", STAGE_SUCCESS);
	stage_table_set(&t, "other", "build", STAGE_SUCCESS);
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_FAILURE);
	assert_int_equal(stage_table_get(&t, "up42", "test"), STAGE_SUCCESS);
	assert_int_equal(stage_table_get(&t, "other", "build"), STAGE_SUCCESS);
	assert_int_equal(stage_table_get(&t, "other", "test"), STAGE_UNKNOWN);
	/* pipeline and stage are separate: "a/b" + "c" is not "a" + "b/c" */
	assert_int_equal(stage_table_get(&t, "up4", "2build"), STAGE_UNKNOWN);
	stage_table_set(&t, "up42", "build", STAGE_SUCCESS);
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_SUCCESS);
	assert_int_equal(t.states.count, 3);
	stage_table_free(&t);
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_UNKNOWN);
}

/* cctray seeding: merge one state without replacing what is known. */
static bool
seed(struct stage_table *t, const char *pipeline, const char *stage,
    enum stage_status status)
{
	struct stage_table one = STAGE_TABLE_INIT;
	size_t set;

	stage_table_set(&one, pipeline, stage, status);
	set = stage_table_merge(t, &one, false);
	stage_table_free(&one);
	return set == 1;
}

static void
test_table_case_insensitive(void **state)
{
	struct stage_table t = STAGE_TABLE_INIT;

	(void)state;
	stage_table_set(&t, "Up42", "Build", STAGE_FAILURE);
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_FAILURE);
	assert_int_equal(stage_table_get(&t, "UP42", "BUILD"), STAGE_FAILURE);
	stage_table_set(&t, "up42", "build", STAGE_SUCCESS);
	assert_int_equal(stage_table_get(&t, "Up42", "Build"), STAGE_SUCCESS);
	assert_int_equal(t.states.count, 1);
	assert_false(seed(&t, "UP42", "build", STAGE_FAILURE));
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_SUCCESS);
	stage_table_free(&t);
}

static void
test_table_seed(void **state)
{
	struct stage_table t = STAGE_TABLE_INIT;

	(void)state;
	/* an unknown stage is seeded */
	assert_true(seed(&t, "up42", "build", STAGE_FAILURE));
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_FAILURE);
	/* a second seed does not change it */
	assert_false(seed(&t, "up42", "build", STAGE_SUCCESS));
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_FAILURE);
	/* a state seen in mail wins over a later seed */
	stage_table_set(&t, "api", "test", STAGE_SUCCESS);
	assert_false(seed(&t, "api", "test", STAGE_FAILURE));
	assert_int_equal(stage_table_get(&t, "api", "test"), STAGE_SUCCESS);
	/* also "unknown", recorded after a CANCELLED mail */
	stage_table_set(&t, "api", "deploy", event_status_after(EVENT_CANCELLED));
	assert_false(seed(&t, "api", "deploy", STAGE_FAILURE));
	assert_int_equal(stage_table_get(&t, "api", "deploy"), STAGE_UNKNOWN);
	/* mail after a seed replaces the seeded state */
	stage_table_set(&t, "up42", "build", STAGE_SUCCESS);
	assert_int_equal(stage_table_get(&t, "up42", "build"), STAGE_SUCCESS);
	stage_table_free(&t);
}

/* What the daemon does per mail: previous state, edge detection, update. */
static enum gocd_event
receive(struct stage_table *t, const char *pipeline, const char *stage,
    enum gocd_event parsed)
{
	enum gocd_event final = event_edge_detect(stage_table_get(t, pipeline, stage),
	    parsed);

	stage_table_set(t, pipeline, stage, event_status_after(final));
	return final;
}

static void
test_sequence(void **state)
{
	struct stage_table t = STAGE_TABLE_INIT;

	(void)state;
	assert_int_equal(receive(&t, "up42", "build", EVENT_PASSES), EVENT_PASSES);
	assert_int_equal(receive(&t, "up42", "build", EVENT_FAILS), EVENT_BREAKS);
	assert_int_equal(receive(&t, "up42", "build", EVENT_FAILS), EVENT_FAILS);
	assert_int_equal(receive(&t, "up42", "build", EVENT_PASSES), EVENT_FIXED);
	assert_int_equal(receive(&t, "up42", "build", EVENT_PASSES), EVENT_PASSES);
	/* another stage of the same pipeline has its own history */
	assert_int_equal(receive(&t, "up42", "test", EVENT_FAILS), EVENT_FAILS);
	assert_int_equal(receive(&t, "UP42", "BUILD", EVENT_FAILS), EVENT_BREAKS);
	/* a cancel forgets the state: the next result is taken as written */
	assert_int_equal(receive(&t, "up42", "build", EVENT_CANCELLED), EVENT_CANCELLED);
	assert_int_equal(receive(&t, "up42", "build", EVENT_PASSES), EVENT_PASSES);
	assert_int_equal(receive(&t, "up42", "build", EVENT_FAILS), EVENT_BREAKS);
	stage_table_free(&t);
}

static void
test_many_stages(void **state)
{
	struct stage_table t = STAGE_TABLE_INIT;
	char pipeline[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(pipeline, sizeof(pipeline), "p%d", i);
		stage_table_set(&t, pipeline, "s", i % 2 ? STAGE_FAILURE : STAGE_SUCCESS);
	}
	assert_int_equal(t.states.count, 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(pipeline, sizeof(pipeline), "P%d", i);
		assert_int_equal(stage_table_get(&t, pipeline, "S"),
		    i % 2 ? STAGE_FAILURE : STAGE_SUCCESS);
	}
	stage_table_free(&t);
}

/* A bounded table keeps what it has and refuses new stages when full. */
static void
test_table_bound_and_seed(void **state)
{
	struct stage_table t = STAGE_TABLE_INIT, from = STAGE_TABLE_INIT;
	char name[32];

	(void)state;
	stage_table_limit(&t, 3, 0x9e3779b9u);
	assert_true(stage_table_set(&t, "a", "s", STAGE_SUCCESS));
	assert_true(stage_table_set(&t, "b", "s", STAGE_SUCCESS));
	assert_true(stage_table_set(&t, "c", "s", STAGE_FAILURE));
	assert_false(stage_table_set(&t, "d", "s", STAGE_FAILURE));
	assert_int_equal(stage_table_get(&t, "d", "s"), STAGE_UNKNOWN);
	/* a known stage still changes, whatever the case of its name */
	assert_true(stage_table_set(&t, "A", "S", STAGE_FAILURE));
	assert_int_equal(stage_table_get(&t, "a", "s"), STAGE_FAILURE);
	/* merging many leaves it at its bound */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		stage_table_set(&from, name, "s", STAGE_SUCCESS);
	}
	assert_int_equal(stage_table_merge(&t, &from, true), 0);
	assert_int_equal(t.states.count, 3);
	/* the seeded hash finds every key, through growth too */
	stage_table_free(&t);
	t = (struct stage_table)STAGE_TABLE_INIT;
	stage_table_limit(&t, 0, 12345);
	assert_int_equal(stage_table_merge(&t, &from, true), 100);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "P%d", i);
		assert_int_equal(stage_table_get(&t, name, "S"), STAGE_SUCCESS);
	}
	stage_table_free(&t);
	stage_table_free(&from);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_bound_and_seed),
		cmocka_unit_test(test_status_after),
		cmocka_unit_test(test_unknown_previous_keeps_parsed),
		cmocka_unit_test(test_after_success),
		cmocka_unit_test(test_after_failure),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_table_get_set),
		cmocka_unit_test(test_table_case_insensitive),
		cmocka_unit_test(test_table_seed),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_many_stages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

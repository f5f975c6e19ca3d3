/*
 * test_subject.c - gocd_parse_subject on the subjects GoCD really sends
 * (GOCD.md 1.1) and on everything that only looks like them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gocd_subject.h"

/* Parse subject, expecting a stage subject with these parts. */
static void
expect_stage(const char *subject, const char *pipeline,
    unsigned long pipeline_counter, const char *stage,
    unsigned long stage_counter, enum gocd_event event)
{
	struct gocd_subject s;

	assert_true(gocd_parse_subject(subject, &s));
	assert_string_equal(s.pipeline, pipeline);
	assert_int_equal(s.pipeline_counter, pipeline_counter);
	assert_string_equal(s.stage, stage);
	assert_int_equal(s.stage_counter, stage_counter);
	assert_int_equal(s.event, event);
}

/* Parse subject, expecting "not a stage subject" and a zeroed result. */
static void
expect_not_stage(const char *subject)
{
	struct gocd_subject s, zero;

	memset(&s, 0x5a, sizeof(s));
	memset(&zero, 0, sizeof(zero));
	assert_false(gocd_parse_subject(subject, &s));
	assert_memory_equal(&s, &zero, sizeof(s));
}

static void
test_five_events_as_gocd_sends_them(void **state)
{
	(void)state;
	expect_stage("Stage [up42/12/build/1] passed", "up42", 12, "build", 1,
	    EVENT_PASSES);
	expect_stage("Stage [up42/12/build/1] failed", "up42", 12, "build", 1,
	    EVENT_FAILS);
	expect_stage("Stage [up42/12/build/1] is broken", "up42", 12, "build", 1,
	    EVENT_BREAKS);
	expect_stage("Stage [up42/12/build/1] is fixed", "up42", 12, "build", 1,
	    EVENT_FIXED);
	expect_stage("Stage [up42/12/build/1] is cancelled", "up42", 12, "build", 1,
	    EVENT_CANCELLED);
}

static void
test_counters(void **state)
{
	(void)state;
	expect_stage("Stage [p/0/s/0] passed", "p", 0, "s", 0, EVENT_PASSES);
	expect_stage("Stage [p/1234567/s/89] failed", "p", 1234567, "s", 89,
	    EVENT_FAILS);
	expect_stage("Stage [p/007/s/02] passed", "p", 7, "s", 2, EVENT_PASSES);
}

static void
test_unknown_event_text_keeps_pipeline(void **state)
{
	(void)state;
	expect_stage("Stage [up42/12/build/1] [ALL]", "up42", 12, "build", 1,
	    EVENT_NONE);
	expect_stage("Stage [up42/12/build/1] is building", "up42", 12, "build", 1,
	    EVENT_NONE);
	expect_stage("Stage [up42/12/build/1]", "up42", 12, "build", 1, EVENT_NONE);
	/* the texts are GoCD's exact words, not case-folded or abbreviated */
	expect_stage("Stage [up42/12/build/1] PASSED", "up42", 12, "build", 1,
	    EVENT_NONE);
	expect_stage("Stage [up42/12/build/1] is  broken", "up42", 12, "build", 1,
	    EVENT_NONE);
	expect_stage("Stage [up42/12/build/1] passed!", "up42", 12, "build", 1,
	    EVENT_NONE);
	expect_stage("Stage [up42/12/build/1] broken", "up42", 12, "build", 1,
	    EVENT_NONE);
}

static void
test_event_text_whitespace_trimmed(void **state)
{
	(void)state;
	expect_stage("Stage [up42/12/build/1] passed ", "up42", 12, "build", 1,
	    EVENT_PASSES);
	expect_stage("Stage [up42/12/build/1] is broken \t ", "up42", 12, "build",
	    1, EVENT_BREAKS);
	expect_stage("Stage [up42/12/build/1]is fixed", "up42", 12, "build", 1,
	    EVENT_FIXED);
	expect_stage("Stage [up42/12/build/1]   is cancelled", "up42", 12, "build",
	    1, EVENT_CANCELLED);
}

static void
test_not_stage_subjects(void **state)
{
	(void)state;
	expect_not_stage("");
	expect_not_stage("Server Backup Completed Successfully");
	expect_not_stage("Server Backup Failed");
	expect_not_stage("Go Email Notification");
	expect_not_stage("Low artifacts disk space warning message from Go Server at 10.0.0.1");
	/* counters must be numbers */
	expect_not_stage("Stage [a/b/c/d] passed");
	expect_not_stage("Stage [a/1/c/d] passed");
	expect_not_stage("Stage [a/b/c/1] passed");
	expect_not_stage("Stage [a/-1/c/1] passed");
	expect_not_stage("Stage [a/+1/c/1] passed");
	expect_not_stage("Stage [a/ 1/c/1] passed");
	expect_not_stage("Stage [a/1x/c/1] passed");
	/* missing brackets or parts */
	expect_not_stage("Stage up42/12/build/1] passed");
	expect_not_stage("Stage [up42/12/build/1 passed");
	expect_not_stage("Stage [up42/12/build] passed");
	expect_not_stage("Stage [up42/12] passed");
	expect_not_stage("Stage [up42/12/build/1/2] passed");
	expect_not_stage("Stage [up42/12/build/1");
	expect_not_stage("Stage [");
	expect_not_stage("Stage[up42/12/build/1] passed");
	expect_not_stage("stage [up42/12/build/1] passed");
	/* empty names */
	expect_not_stage("Stage [/12/build/1] passed");
	expect_not_stage("Stage [up42/12//1] passed");
	expect_not_stage("Stage [//] passed");
	/* characters GoCD names cannot have */
	expect_not_stage("Stage [up 42/12/build/1] passed");
	expect_not_stage("Stage [up42/12/bu ild/1] passed");
	expect_not_stage("Stage [up42;rm/12/build/1] passed");
	expect_not_stage("Stage [up\xc3\xa9/12/build/1] passed");
}

static void
test_prefixed_subjects(void **state)
{
	(void)state;
	expect_stage("Re: [ci] Stage [api/3/build/2] is broken", "api", 3, "build",
	    2, EVENT_BREAKS);
	expect_stage("Fwd: Stage [api/3/build/2] is fixed", "api", 3, "build", 2,
	    EVENT_FIXED);
	/* a first "Stage [" that does not parse does not hide a later one */
	expect_stage("Stage [x] Stage [api/3/build/2] passed", "api", 3, "build",
	    2, EVENT_PASSES);
	expect_stage("Stage [ Stage [api/3/build/2] failed", "api", 3, "build", 2,
	    EVENT_FAILS);
}

static void
test_names_with_punctuation(void **state)
{
	(void)state;
	expect_stage("Stage [my-very_long.pipeline-name/1234/build-and_test.x/1] is broken",
	    "my-very_long.pipeline-name", 1234, "build-and_test.x", 1, EVENT_BREAKS);
	expect_stage("Stage [A.B-C_D/1/Stage_1/3] passed", "A.B-C_D", 1, "Stage_1",
	    3, EVENT_PASSES);
	expect_stage("Stage [_/1/-/1] passed", "_", 1, "-", 1, EVENT_PASSES);
	/* case is kept as written */
	expect_stage("Stage [Up42/1/Build/1] passed", "Up42", 1, "Build", 1,
	    EVENT_PASSES);
}

static void
test_name_length_limit(void **state)
{
	char name[GOCD_NAME_MAX + 2];
	char subject[2 * GOCD_NAME_MAX + 64];
	struct gocd_subject s;

	(void)state;
	/* exactly 255 characters: GoCD allows it */
	memset(name, 'p', GOCD_NAME_MAX);
	name[GOCD_NAME_MAX] = '\0';
	snprintf(subject, sizeof(subject), "Stage [%s/1/build/1] passed", name);
	expect_stage(subject, name, 1, "build", 1, EVENT_PASSES);
	snprintf(subject, sizeof(subject), "Stage [p/1/%s/1] passed", name);
	expect_stage(subject, "p", 1, name, 1, EVENT_PASSES);

	/* 256 characters: not a GoCD name */
	memset(name, 'p', GOCD_NAME_MAX + 1);
	name[GOCD_NAME_MAX + 1] = '\0';
	snprintf(subject, sizeof(subject), "Stage [%s/1/build/1] passed", name);
	expect_not_stage(subject);
	snprintf(subject, sizeof(subject), "Stage [p/1/%s/1] passed", name);
	expect_not_stage(subject);
	assert_false(gocd_parse_subject(subject, &s));
}

static void
test_result_reset_between_calls(void **state)
{
	struct gocd_subject s;

	(void)state;
	assert_true(gocd_parse_subject("Stage [long-pipeline/99/stage/9] is broken", &s));
	assert_true(gocd_parse_subject("Stage [p/1/s/1] bogus", &s));
	assert_string_equal(s.pipeline, "p");
	assert_string_equal(s.stage, "s");
	assert_int_equal(s.event, EVENT_NONE);
}

/* What the report writes, the parser reads back the same, for every event. */
static void
test_format_round_trip(void **state)
{
	static const enum gocd_event events[] = { EVENT_PASSES, EVENT_FAILS,
	    EVENT_BREAKS, EVENT_FIXED, EVENT_CANCELLED };

	(void)state;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct gocd_subject in = { "my.pipe-1", "build_2", 42, 3, events[i] }, out;
		struct strbuf text = STRBUF_INIT;

		gocd_format_subject(&text, &in);
		assert_true(gocd_parse_subject(text.data, &out));
		assert_string_equal(out.pipeline, in.pipeline);
		assert_string_equal(out.stage, in.stage);
		assert_int_equal(out.pipeline_counter, 42);
		assert_int_equal(out.stage_counter, 3);
		assert_int_equal(out.event, events[i]);
		strbuf_free(&text);
	}
}

static void
test_is_name(void **state)
{
	char longest[GOCD_NAME_MAX + 2];

	(void)state;
	assert_true(gocd_is_name("up42_api-1.x", 12));
	assert_false(gocd_is_name("", 0));
	assert_false(gocd_is_name("a b", 3));
	assert_false(gocd_is_name("a/b", 3));
	assert_false(gocd_is_name("caf\xc3\xa9", 5));
	assert_false(gocd_is_name("a\0b", 3));
	memset(longest, 'x', sizeof(longest));
	assert_true(gocd_is_name(longest, GOCD_NAME_MAX));
	assert_false(gocd_is_name(longest, GOCD_NAME_MAX + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_five_events_as_gocd_sends_them),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_unknown_event_text_keeps_pipeline),
		cmocka_unit_test(test_event_text_whitespace_trimmed),
		cmocka_unit_test(test_not_stage_subjects),
		cmocka_unit_test(test_prefixed_subjects),
		cmocka_unit_test(test_names_with_punctuation),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_result_reset_between_calls),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_is_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

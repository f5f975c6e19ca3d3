/*
 * test_stage_changes.c - states a relay decided alone, with their times:
 * the later word wins, the bound holds, merging keeps the later of two.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "stage_changes.h"

static struct stage_change
find(const struct stage_changes *c, const char *wanted)
{
	struct stage_change change, none = { STAGE_UNKNOWN, -1 };
	const char *name;
	size_t pos = 0;

	while (stage_changes_next(c, &pos, &name, &change))
		if (strcmp(name, wanted) == 0)
			return change;
	return none;
}

static void
test_later_word_wins(void **state)
{
	struct stage_changes c = STAGE_CHANGES_INIT(10);

	(void)state;
	assert_true(stage_changes_put(&c, "api/build", STAGE_FAILURE, 2000));
	assert_true(stage_changes_put(&c, "api/build", STAGE_SUCCESS, 1000));	/* older */
	assert_int_equal(find(&c, "api/build").status, STAGE_FAILURE);
	assert_int_equal(find(&c, "api/build").at, 2000);
	assert_true(stage_changes_put(&c, "api/build", STAGE_SUCCESS, 3000));
	assert_int_equal(find(&c, "api/build").status, STAGE_SUCCESS);
	assert_int_equal(stage_changes_count(&c), 1);
	stage_changes_free(&c);
}

static void
test_bound(void **state)
{
	struct stage_changes c = STAGE_CHANGES_INIT(2);

	(void)state;
	assert_true(stage_changes_put(&c, "a/x", STAGE_SUCCESS, 1));
	assert_true(stage_changes_put(&c, "b/x", STAGE_SUCCESS, 1));
	assert_false(stage_changes_put(&c, "c/x", STAGE_SUCCESS, 1));
	assert_true(stage_changes_put(&c, "a/x", STAGE_FAILURE, 5));	/* known: updated */
	assert_int_equal(stage_changes_count(&c), 2);
	assert_int_equal(find(&c, "c/x").at, -1);
	stage_changes_free(&c);
}

static void
test_merge_keeps_the_later(void **state)
{
	struct stage_changes into = STAGE_CHANGES_INIT(10), from = STAGE_CHANGES_INIT(10);

	(void)state;
	stage_changes_put(&into, "api/build", STAGE_SUCCESS, 500);	/* decided after */
	stage_changes_put(&from, "api/build", STAGE_FAILURE, 100);
	stage_changes_put(&from, "web/test", STAGE_UNKNOWN, 200);
	stage_changes_merge(&into, &from);
	assert_int_equal(stage_changes_count(&from), 0);
	assert_int_equal(stage_changes_count(&into), 2);
	assert_int_equal(find(&into, "api/build").status, STAGE_SUCCESS);
	assert_int_equal(find(&into, "web/test").at, 200);
	stage_changes_free(&into);
	stage_changes_free(&from);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_later_word_wins),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_merge_keeps_the_later),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

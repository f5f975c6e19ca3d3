/*
 * fuzz_gocd_json.c - a GoCD API response read in all three shapes
 * (GOCD_API_ADMIN, GOCD_API_DASHBOARD, GOCD_API_LEGACY).
 *
 * Invariants of a returned index:
 *   - every group and pipeline name is a GoCD name ([A-Za-z0-9_.-],
 *     1..255): anything else must have been skipped;
 *   - every listed pipeline is found again, case-insensitively, in the
 *     group that lists it (the first group wins; it is listed only there);
 *   - the pipeline count is the sum of the group sizes;
 *   - lookups of names that are not there (and of strings taken from the
 *     input) answer without crashing.
 * A NULL result comes with a reason in err.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "gocd_groups.h"
#include "gocd_subject.h"
#include "group_index.h"

static void
swap_case(char *dst, const char *src)
{
	size_t i = 0;

	for (; src[i]; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (char)(isupper(c) ? tolower(c) : toupper(c));
	}
	dst[i] = '\0';
}

static void
check_index(const struct group_index *index, const char *probe)
{
	char other[GOCD_NAME_MAX + 1];
	size_t groups = group_index_group_count(index), total = 0;

	for (size_t g = 0; g < groups; g++) {
		const char *group = group_index_group_name(index, g);
		size_t n = group_index_group_size(index, g);

		FUZZ_CHECK(fuzz_is_gocd_name(group, GOCD_NAME_MAX), "group \"%s\"", group);
		FUZZ_CHECK(group_index_has_group(index, group), "group %s not found", group);
		swap_case(other, group);
		FUZZ_CHECK(group_index_has_group(index, other), "group %s: case", group);
		for (size_t p = 0; p < n; p++) {
			const char *pipeline = group_index_pipeline(index, g, p);

			FUZZ_CHECK(fuzz_is_gocd_name(pipeline, GOCD_NAME_MAX),
			    "pipeline \"%s\"", pipeline);
			FUZZ_CHECK(group_index_group_of(index, pipeline) == group,
			    "pipeline %s listed in %s but found in %s", pipeline, group,
			    group_index_group_of(index, pipeline));
			FUZZ_CHECK(group_index_in_group(index, pipeline, group), "in_group");
			swap_case(other, pipeline);
			FUZZ_CHECK(group_index_group_of(index, other) == group,
			    "pipeline %s: case", pipeline);
			FUZZ_CHECK(group_index_in_group(index, other, other) ==
			    (strcasecmp(other, group) == 0), "in_group with swapped case");
		}
		total += n;
	}
	FUZZ_CHECK(total == group_index_pipeline_count(index), "pipeline count %zu != %zu",
	    total, group_index_pipeline_count(index));
	(void)group_index_group_of(index, probe);
	(void)group_index_in_group(index, probe, probe);
	(void)group_index_has_group(index, probe);
	FUZZ_CHECK(group_index_group_of(index, "") == NULL, "empty name found");
	FUZZ_CHECK(!group_index_has_group(index, "no such group/"), "bogus group found");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum gocd_api apis[] = {
		GOCD_API_ADMIN, GOCD_API_DASHBOARD, GOCD_API_LEGACY,
	};
	/* not NUL-terminated: the parser must honour len */
	char *json = malloc(size ? size : 1), *probe = fuzz_cstring(data, size > 64 ? 64 : size);

	if (json == NULL)
		abort();
	if (size)
		memcpy(json, data, size);
	for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
		char err[256] = "";
		struct group_index *index = gocd_groups_parse(apis[i], json, size, 0, err,
		    sizeof(err));

		if (index == NULL) {
			FUZZ_CHECK(err[0] != '\0', "NULL without a reason");
			continue;
		}
		check_index(index, probe);
		group_index_free(index);
	}
	free(probe);
	free(json);
	return 0;
}

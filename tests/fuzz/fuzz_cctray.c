/*
 * fuzz_cctray.c - cctray.xml through cctray_parse (expat).
 *
 * The callback checks what the stage table relies on: pipeline and stage
 * are non-empty, at most GOCD_NAME_MAX bytes, valid UTF-8, contain no
 * '/' (the table's key is "pipeline/stage") and no " :: " (job entries,
 * "pipeline :: stage :: job", are skipped); the status is one of the
 * three.  The names are also fed to a stage table, as the daemon does.
 * A failed parse comes with a reason in err.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctray.h"
#include "fuzz_common.h"
#include "gocd_subject.h"
#include "stage_table.h"

struct seen {
	struct stage_table table;
	size_t calls;
};

static void
check_name(const char *what, const char *s)
{
	size_t n = strlen(s);

	FUZZ_CHECK(n > 0 && n <= GOCD_NAME_MAX, "%s: %zu bytes", what, n);
	FUZZ_CHECK(fuzz_utf8_valid(s, n), "%s: not UTF-8", what);
	FUZZ_CHECK(strchr(s, '/') == NULL, "%s \"%s\" has a '/'", what, s);
	FUZZ_CHECK(strstr(s, " :: ") == NULL, "%s \"%s\" has \" :: \"", what, s);
}

static void
on_stage(const char *pipeline, const char *stage, enum stage_status status,
    void *arg)
{
	struct seen *seen = arg;

	check_name("pipeline", pipeline);
	check_name("stage", stage);
	FUZZ_CHECK(status == STAGE_UNKNOWN || status == STAGE_SUCCESS ||
	    status == STAGE_FAILURE, "status %d", (int)status);
	stage_table_set(&seen->table, pipeline, stage, status);
	FUZZ_CHECK(stage_table_get(&seen->table, pipeline, stage) == status,
	    "stage %s/%s not found again", pipeline, stage);
	seen->calls++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen seen = { STAGE_TABLE_INIT, 0 };
	char err[256] = "";
	/* not NUL-terminated: the parser must honour len */
	char *xml = malloc(size ? size : 1);

	if (xml == NULL)
		abort();
	if (size)
		memcpy(xml, data, size);
	if (cctray_parse(xml, size, on_stage, &seen, err, sizeof(err)) != 0)
		FUZZ_CHECK(err[0] != '\0', "failure without a reason");
	FUZZ_CHECK(seen.table.states.count <= seen.calls, "more stages than calls");
	stage_table_free(&seen.table);
	free(xml);
	return 0;
}

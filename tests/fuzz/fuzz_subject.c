/*
 * fuzz_subject.c - a raw Subject header value, as Postfix hands it to the
 * milter (possibly folded, possibly RFC 2047 encoded), through
 * mime_decode_header and gocd_parse_subject.
 *
 * Invariants:
 *   - mime_decode_header returns valid UTF-8 with no control characters
 *     (< 0x20, 0x7F), trimmed of spaces, at most 3 bytes per input byte;
 *   - a parsed stage subject has pipeline and stage names of GoCD's
 *     nameType ([A-Za-z0-9_.-], 1..255) and a known event value;
 *   - a subject that does not parse leaves the result zeroed.
 * The raw bytes are parsed too, so the subject parser also sees bytes
 * mime_decode_header would never produce.  route_read_subject (decode, parse,
 * edge detection) must agree with the two steps done by hand.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "gocd_subject.h"
#include "mime_text.h"
#include "route.h"

static void
check_parse(const char *subject)
{
	static const struct gocd_subject zero;
	struct gocd_subject st;

	memset(&st, 0xA5, sizeof(st));		/* must be overwritten */
	if (!gocd_parse_subject(subject, &st)) {
		FUZZ_CHECK(memcmp(&st, &zero, sizeof(st)) == 0,
		    "not a stage subject, but the result is not zeroed");
		return;
	}
	FUZZ_CHECK(memchr(st.pipeline, '\0', sizeof(st.pipeline)) != NULL,
	    "pipeline not terminated");
	FUZZ_CHECK(memchr(st.stage, '\0', sizeof(st.stage)) != NULL,
	    "stage not terminated");
	FUZZ_CHECK(fuzz_is_gocd_name(st.pipeline, GOCD_NAME_MAX),
	    "pipeline \"%s\" is not a GoCD name", st.pipeline);
	FUZZ_CHECK(fuzz_is_gocd_name(st.stage, GOCD_NAME_MAX),
	    "stage \"%s\" is not a GoCD name", st.stage);
	FUZZ_CHECK((unsigned)st.event < EVENT_COUNT, "event %d", (int)st.event);
	/* what the subject says must be in the subject */
	FUZZ_CHECK(strstr(subject, st.pipeline) != NULL, "pipeline not in subject");
	FUZZ_CHECK(strstr(subject, st.stage) != NULL, "stage not in subject");
}

static void
check_route_read(const uint8_t *data, size_t size, const char *decoded)
{
	enum stage_status previous = (enum stage_status)(size % 3);
	struct route_subject rs;
	struct gocd_subject st;
	bool is_stage = gocd_parse_subject(decoded, &st);

	struct stage_table states = STAGE_TABLE_INIT;

	if (is_stage)
		stage_table_set(&states, st.pipeline, st.stage, previous);
	route_read_subject(&rs, (const char *)data, size, &states);
	FUZZ_CHECK(strcmp(rs.subject, decoded) == 0, "route_read_subject decodes differently");
	FUZZ_CHECK(rs.is_stage == is_stage, "route_read_subject parses differently");
	FUZZ_CHECK(rs.parsed == (is_stage ? st.event : EVENT_NONE), "parsed event");
	FUZZ_CHECK(rs.event == event_edge_detect(is_stage ? previous : STAGE_UNKNOWN, rs.parsed),
	    "edge detection");
	/* commit records the state after the event, once: then the state moved */
	FUZZ_CHECK(route_subject_commit(&rs, &states), "commit of an unchanged stage");
	if (is_stage && rs.event != EVENT_NONE)
		FUZZ_CHECK(stage_table_get(&states, st.pipeline, st.stage) ==
		    event_status_after(rs.event), "commit did not record the state");
	stage_table_free(&states);
	route_subject_free(&rs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_hold_charsets(NULL, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *decoded = mime_decode_header((const char *)data, size);
	size_t len = strlen(decoded);
	char *raw;

	FUZZ_CHECK(fuzz_utf8_valid(decoded, len),
	    "mime_decode_header output is not UTF-8 at byte %zu",
	    fuzz_utf8_invalid_at((const unsigned char *)decoded, len));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)decoded[i];

		FUZZ_CHECK(c >= 0x20 && c != 0x7F,
		    "control character 0x%02x at byte %zu of the decoded subject", c, i);
	}
	FUZZ_CHECK(len == 0 || (decoded[0] != ' ' && decoded[len - 1] != ' '),
	    "decoded subject not trimmed");
	FUZZ_CHECK(len <= 3 * size, "%zu bytes decoded from %zu", len, size);
	check_parse(decoded);
	check_route_read(data, size, decoded);
	free(decoded);

	raw = fuzz_cstring(data, size);
	check_parse(raw);
	free(raw);
	return 0;
}

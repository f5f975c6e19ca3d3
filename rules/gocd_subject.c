/*
 * gocd_subject.c - GoCD stage subject parsing (see gocd_subject.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gocd_subject.h"

/*
 * GoCD's texts after "Stage [...]", one per event: the parser reads them
 * and the report writes them.
 */
static const char *const event_texts[EVENT_COUNT] = {
	[EVENT_NONE] = "",
	[EVENT_PASSES] = "passed",
	[EVENT_FAILS] = "failed",
	[EVENT_BREAKS] = "is broken",
	[EVENT_FIXED] = "is fixed",
	[EVENT_CANCELLED] = "is cancelled",
};

static bool
is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

bool
gocd_is_name(const char *s, size_t len)
{
	if (len == 0 || len > GOCD_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* Copy a GoCD name ending at stop from *p into dst; advance *p past stop. */
static bool
take_name(const char **p, char stop, char *dst)
{
	size_t n = 0;

	while (is_name_char((unsigned char)(*p)[n]) && n < GOCD_NAME_MAX) {
		dst[n] = (*p)[n];
		n++;
	}
	if (n == 0 || (*p)[n] != stop)
		return false;
	dst[n] = '\0';
	*p += n + 1;
	return true;
}

static bool
take_counter(const char **p, char stop, unsigned long *dst)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return false;
	*dst = strtoul(*p, &end, 10);
	if (*end != stop)
		return false;
	*p = end + 1;
	return true;
}

static enum gocd_event
event_from_text(const char *text)
{
	size_t len;

	while (*text == ' ' || *text == '\t')
		text++;
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	for (int e = EVENT_PASSES; e < EVENT_COUNT; e++) {
		if (strlen(event_texts[e]) == len && strncmp(text, event_texts[e], len) == 0)
			return (enum gocd_event)e;
	}
	return EVENT_NONE;
}

static bool
parse_at(const char *p, struct gocd_subject *out)
{
	p += strlen("Stage [");
	if (!take_name(&p, '/', out->pipeline) ||
	    !take_counter(&p, '/', &out->pipeline_counter) ||
	    !take_name(&p, '/', out->stage) ||
	    !take_counter(&p, ']', &out->stage_counter))
		return false;
	out->event = event_from_text(p);
	return true;
}

bool
gocd_parse_subject(const char *subject, struct gocd_subject *out)
{
	/* Mailing lists may prefix the subject ("Re:", "[ci]"): search. */
	for (const char *p = strstr(subject, "Stage ["); p != NULL;
	    p = strstr(p + 1, "Stage [")) {
		memset(out, 0, sizeof(*out));
		if (parse_at(p, out))
			return true;
	}
	memset(out, 0, sizeof(*out));
	return false;
}

void
gocd_format_subject(struct strbuf *out, const struct gocd_subject *stage)
{
	unsigned e = (unsigned)stage->event < EVENT_COUNT ? (unsigned)stage->event : 0;

	strbuf_addf(out, "Stage [%s/%lu/%s/%lu] %s", stage->pipeline,
	    stage->pipeline_counter, stage->stage, stage->stage_counter, event_texts[e]);
}

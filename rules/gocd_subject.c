/*
 * gocd_subject.c - GoCD stage subject parsing (see gocd_subject.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gocd_subject.h"

static const struct {
	const char *text;
	enum gocd_event event;
} event_texts[] = {
	{ "passed", EVENT_PASSES },
	{ "failed", EVENT_FAILS },
	{ "is broken", EVENT_BREAKS },
	{ "is fixed", EVENT_FIXED },
	{ "is cancelled", EVENT_CANCELLED },
};

static bool
is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
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
	for (size_t i = 0; i < sizeof(event_texts) / sizeof(event_texts[0]); i++) {
		if (strlen(event_texts[i].text) == len &&
		    strncmp(text, event_texts[i].text, len) == 0)
			return event_texts[i].event;
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

/*
 * cctray.c - cctray.xml stage states with expat (see cctray.h).
 *
 * expat rather than libxml2: the document is a flat list of elements, a
 * streaming parser needs no tree, and expat is small, everywhere, and
 * does not fetch external entities.
 */
#include <expat.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cctray.h"
#include "gocd_subject.h"

struct cctray_parse {
	cctray_stage_fn fn;
	void *arg;
};

/* Split "pipeline :: stage" into its two parts; false for other names. */
static bool
split_stage(const char *name, char *pipeline, char *stage)
{
	const char *sep = strstr(name, " :: ");
	size_t plen, slen;

	if (sep == NULL || strstr(sep + 4, " :: ") != NULL)
		return false;
	plen = (size_t)(sep - name);
	slen = strlen(sep + 4);
	if (plen == 0 || slen == 0 || plen > GOCD_NAME_MAX || slen > GOCD_NAME_MAX)
		return false;
	memcpy(pipeline, name, plen);
	pipeline[plen] = '\0';
	memcpy(stage, sep + 4, slen + 1);
	/* GoCD names only: anything else cannot match a mail subject */
	return gocd_is_name(pipeline, plen) && gocd_is_name(stage, slen);
}

static void XMLCALL
on_start(void *data, const XML_Char *element, const XML_Char **attrs)
{
	struct cctray_parse *p = data;
	const char *name = NULL, *status = NULL;
	char pipeline[GOCD_NAME_MAX + 1], stage[GOCD_NAME_MAX + 1];
	enum stage_status state = STAGE_UNKNOWN;

	if (strcmp(element, "Project") != 0)
		return;
	for (size_t i = 0; attrs[i] != NULL && attrs[i + 1] != NULL; i += 2) {
		if (strcmp(attrs[i], "name") == 0)
			name = attrs[i + 1];
		else if (strcmp(attrs[i], "lastBuildStatus") == 0)
			status = attrs[i + 1];
	}
	if (name == NULL || !split_stage(name, pipeline, stage))
		return;
	/*
	 * Only "Success" is certain.  GoCD's StageState.cctrayStatus()
	 * (domain/.../StageState.java) maps Failed, Failing *and* Cancelled
	 * to "Failure", so a Failure may be a cancelled run after which GoCD
	 * mails "passed", not "fixed"; seeding it as a failure would turn
	 * that "passed" into FIXED.  A Failure is therefore unknown.
	 */
	if (status != NULL && strcmp(status, "Success") == 0)
		state = STAGE_SUCCESS;
	p->fn(pipeline, stage, state, p->arg);
}

int
cctray_parse(const char *xml, size_t len, cctray_stage_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct cctray_parse p = { fn, arg };
	XML_Parser parser = XML_ParserCreate("UTF-8");
	int rc = 0;

	if (parser == NULL) {
		snprintf(err, errlen, "cannot create an XML parser");
		return -1;
	}
	XML_SetUserData(parser, &p);
	XML_SetStartElementHandler(parser, on_start);
	if (len > (size_t)INT32_MAX ||
	    XML_Parse(parser, xml, (int)len, 1) == XML_STATUS_ERROR) {
		snprintf(err, errlen, "malformed XML at line %lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(parser),
		    XML_ErrorString(XML_GetErrorCode(parser)));
		rc = -1;
	}
	XML_ParserFree(parser);
	return rc;
}

/*
 * pattern.c - regular expressions for name_like rules (see pattern.h),
 * through PCRE2.
 *
 * PCRE2 is the dialect of the Python mail2alert's re module for everything
 * its users' rules use (\d, \w, \s and their negations, (?i), non-greedy
 * quantifiers, (?:...)), so a migrated rule means what it meant; POSIX ERE
 * read \d as a plain d without a word.  Patterns are compiled as UTF-8
 * with Unicode properties, as Python's str patterns are.
 *
 * A compiled pcre2_code and a match context may be shared by threads; the
 * match data may not, so each search brings its own.  Match, depth and heap
 * limits bound what one search may cost, so a pattern that backtracks
 * without end gives up (as no match) instead of holding a milter thread.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "xalloc.h"

/* Calls of PCRE2's internal match() per search: a GoCD name is at most
   255 characters, so honest patterns stay far below. */
#define PATTERN_MATCH_LIMIT 100000
/* Backtracking depth, and the heap (KiB) the backtracking may use. */
#define PATTERN_DEPTH_LIMIT 10000
#define PATTERN_HEAP_LIMIT 4096

struct pattern {
	pcre2_general_context *memory;	/* PCRE2 allocates through xmalloc */
	pcre2_code *code;
	pcre2_match_context *limits;
	bool has_group;
};

/* PCRE2's allocations: running out of memory is fatal in xmalloc alone. */
static void *
pattern_malloc(PCRE2_SIZE size, void *arg)
{
	(void)arg;
	return xmalloc(size);
}

static void
pattern_mfree(void *ptr, void *arg)
{
	(void)arg;
	free(ptr);
}

struct pattern *
pattern_compile(const char *text, char *err, size_t errlen)
{
	struct pattern *p = xcalloc(1, sizeof(*p));
	pcre2_compile_context *cc;
	int errcode;
	PCRE2_SIZE erroffset;
	uint32_t ngroups = 0;

	p->memory = pcre2_general_context_create(pattern_malloc, pattern_mfree, NULL);
	cc = pcre2_compile_context_create(p->memory);
	p->code = pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &errcode, &erroffset, cc);
	pcre2_compile_context_free(cc);
	if (p->code == NULL) {
		PCRE2_UCHAR why[256];

		if (pcre2_get_error_message(errcode, why, sizeof(why)) < 0)
			snprintf((char *)why, sizeof(why), "error %d", errcode);
		snprintf(err, errlen, "%s at offset %zu", (const char *)why, (size_t)erroffset);
		pattern_free(p);
		return NULL;
	}
	p->limits = pcre2_match_context_create(p->memory);
	pcre2_set_match_limit(p->limits, PATTERN_MATCH_LIMIT);
	pcre2_set_depth_limit(p->limits, PATTERN_DEPTH_LIMIT);
	pcre2_set_heap_limit(p->limits, PATTERN_HEAP_LIMIT);
	pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &ngroups);
	p->has_group = ngroups > 0;
	return p;
}

bool
pattern_search(const struct pattern *p, const char *subject, size_t *start, size_t *len)
{
	/* room for the whole match and the first group */
	pcre2_match_data *md = pcre2_match_data_create(2, p->memory);
	size_t which = p->has_group ? 1 : 0;
	PCRE2_SIZE *ov;
	bool found = false;
	int rc;

	rc = pcre2_match(p->code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, p->limits);
	/* rc 0: more groups than the match data holds, the first two are set */
	if (rc >= 0) {
		ov = pcre2_get_ovector_pointer(md);
		if (ov[2 * which] != PCRE2_UNSET) {
			*start = ov[2 * which];
			*len = ov[2 * which + 1] - ov[2 * which];
			found = true;
		}
	}
	pcre2_match_data_free(md);
	return found;
}

void
pattern_free(struct pattern *p)
{
	if (p == NULL)
		return;
	pcre2_code_free(p->code);
	pcre2_match_context_free(p->limits);
	pcre2_general_context_free(p->memory);
	free(p);
}

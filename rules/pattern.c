/*
 * pattern.c - regular expressions for name_like rules (see pattern.h),
 * through PCRE2.
 *
 * PCRE2 is the dialect of the Python mail2alert's re module for everything
 * its users' rules use (\d, \w, \s and their negations, (?i), non-greedy
 * quantifiers, (?:...)), so a migrated rule means what it meant, where
 * POSIX ERE silently read \d as the letter d.  Patterns are compiled as UTF-8
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

/*
 * What a pattern may ask for before it is compiled (pattern.h).  A GoCD
 * name is at most 255 characters, so none of these refuses a useful
 * pattern, while each bounds what compiling and searching may cost.
 */
#define PATTERN_MAX_LENGTH 1024		/* characters of the pattern */
#define PATTERN_MAX_NESTING 16		/* groups inside groups */
#define PATTERN_MAX_REPEATS 64		/* *, +, ? and {n,m} in all */
#define PATTERN_MAX_COUNT 255		/* largest n or m of {n,m} */

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

/* Skip a {...} argument of an escape such as \x{41} or \p{L}. */
static size_t
skip_braces(const char *text, size_t i)
{
	if (text[i] != '{')
		return i;
	while (text[i] != '\0' && text[i] != '}')
		i++;
	return text[i] == '}' ? i + 1 : i;
}

/* A bracket expression [...] starting at text[i]: the index after it. */
static size_t
skip_class(const char *text, size_t i)
{
	i++;				/* the [ */
	if (text[i] == '^')
		i++;
	if (text[i] == ']')		/* a ] first is a member */
		i++;
	while (text[i] != '\0' && text[i] != ']') {
		if (text[i] == '\\' && text[i + 1] != '\0')
			i = skip_braces(text, i + 2);
		else if (text[i] == '[' && text[i + 1] == ':' &&
		    strstr(text + i + 2, ":]") != NULL)
			i = (size_t)(strstr(text + i + 2, ":]") - text) + 2;
		else
			i++;
	}
	return text[i] == ']' ? i + 1 : i;
}

/*
 * A counted repetition {n}, {n,} or {n,m} at text[i]: its length, and its
 * largest count in *count; 0 if the brace is a literal.
 */
static size_t
counted_repeat(const char *text, size_t i, unsigned long *count)
{
	size_t j = i + 1;
	unsigned long n = 0, m = 0;	/* both stop growing past 100000 */
	bool digits = false;

	while (text[j] >= '0' && text[j] <= '9') {
		n = n < 100000 ? n * 10 + (unsigned long)(text[j] - '0') : n;
		digits = true;
		j++;
	}
	if (!digits)
		return 0;
	if (text[j] == ',') {
		j++;
		while (text[j] >= '0' && text[j] <= '9') {
			m = m < 100000 ? m * 10 + (unsigned long)(text[j] - '0') : m;
			j++;
		}
	}
	m = m > n ? m : n;		/* {n} and {n,} count n */
	if (text[j] != '}')
		return 0;
	*count = m;
	return j + 1 - i;
}

/*
 * Refuse a pattern whose cost is out of proportion before PCRE2 sees it:
 * too long, groups nested too deep, too many repetitions or too large a
 * count.  Writes why to err.  This is a bound, not a parser: PCRE2 still
 * decides what is valid.
 */
static bool
affordable(const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text), depth = 0, repeats = 0;
	unsigned long count = 0;

	if (len > PATTERN_MAX_LENGTH) {
		snprintf(err, errlen, "is too costly: %zu characters, at most %d", len,
		    PATTERN_MAX_LENGTH);
		return false;
	}
	for (size_t i = 0; i < len;) {
		char c = text[i];
		size_t n = 0;

		if (c == '\\' && text[i + 1] != '\0') {
			i = skip_braces(text, i + 2);
		} else if (c == '[') {
			i = skip_class(text, i);
		} else if (c == '(') {
			if (++depth > PATTERN_MAX_NESTING) {
				snprintf(err, errlen, "is too costly: groups nested more than "
				    "%d deep", PATTERN_MAX_NESTING);
				return false;
			}
			/* (? and (* start group syntax, not a repetition */
			i += text[i + 1] == '?' || text[i + 1] == '*' ? 2 : 1;
		} else if (c == ')') {
			depth -= depth > 0;
			i++;
		} else if (c == '*' || c == '+' || c == '?' ||
		    (c == '{' && (n = counted_repeat(text, i, &count)) > 0)) {
			if (c == '{' && count > PATTERN_MAX_COUNT) {
				snprintf(err, errlen, "is too costly: repeats %lu times, at most %d",
				    count, PATTERN_MAX_COUNT);
				return false;
			}
			if (++repeats > PATTERN_MAX_REPEATS) {
				snprintf(err, errlen, "is too costly: more than %d repetitions "
				    "(*, +, ?, {n,m})", PATTERN_MAX_REPEATS);
				return false;
			}
			i += c == '{' ? n : 1;
			/* a lazy ? or possessive + modifies it, it is no new one */
			if (text[i] == '?' || text[i] == '+')
				i++;
		} else {
			i++;
		}
	}
	return true;
}

struct pattern *
pattern_compile(const char *text, char *err, size_t errlen)
{
	struct pattern *p;
	pcre2_compile_context *cc;
	int errcode;
	PCRE2_SIZE erroffset;
	uint32_t ngroups = 0;

	if (!affordable(text, err, errlen))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->memory = pcre2_general_context_create(pattern_malloc, pattern_mfree, NULL);
	cc = pcre2_compile_context_create(p->memory);
	/* the same bounds once more, as PCRE2 counts them */
	pcre2_set_max_pattern_length(cc, PATTERN_MAX_LENGTH);
	pcre2_set_parens_nest_limit(cc, PATTERN_MAX_NESTING);
	p->code = pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &errcode, &erroffset, cc);
	pcre2_compile_context_free(cc);
	if (p->code == NULL) {
		PCRE2_UCHAR why[256];

		if (pcre2_get_error_message(errcode, why, sizeof(why)) < 0)
			snprintf((char *)why, sizeof(why), "error %d", errcode);
		snprintf(err, errlen, "does not compile: %s at offset %zu", (const char *)why,
		    (size_t)erroffset);
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

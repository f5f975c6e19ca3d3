/*
 * pattern.c - regular expressions for name_like rules (see pattern.h).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "pattern.h"
#include "xalloc.h"

struct pattern {
	regex_t regex;
	bool has_group;
};

struct pattern *
pattern_compile(const char *text, char *err, size_t errlen)
{
	struct pattern *p = xcalloc(1, sizeof(*p));
	int rc = regcomp(&p->regex, text, REG_EXTENDED);

	if (rc != 0) {
		regerror(rc, &p->regex, err, errlen);
		free(p);
		return NULL;
	}
	p->has_group = p->regex.re_nsub > 0;
	return p;
}

bool
pattern_search(const struct pattern *p, const char *subject, size_t *start, size_t *len)
{
	regmatch_t match[2];
	size_t which = p->has_group ? 1 : 0;

	if (regexec(&p->regex, subject, 2, match, 0) != 0 || match[which].rm_so < 0)
		return false;
	*start = (size_t)match[which].rm_so;
	*len = (size_t)(match[which].rm_eo - match[which].rm_so);
	return true;
}

void
pattern_free(struct pattern *p)
{
	if (p == NULL)
		return;
	regfree(&p->regex);
	free(p);
}

/*
 * pattern.h - the regular expressions of pipelines.name_like_in_group
 * rules and of the teams' release-pattern (SPEC section 3).
 *
 * A compiled pattern is immutable and may be searched from many threads at
 * once.  The search is unanchored; what it yields is the text of the first
 * capture group, or of the whole match when the pattern has no group.
 */
#ifndef MAIL2ALERT_PATTERN_H
#define MAIL2ALERT_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

struct pattern;

/*
 * Compile text; NULL and the reason in err ("does not compile: ...", or
 * "is too costly: ..." for a pattern longer than 1024 characters, with groups
 * nested more than 16 deep, more than 64 repetitions or a count {n,m}
 * above 255, refused before it is compiled).
 */
struct pattern *pattern_compile(const char *text, char *err, size_t errlen);

/*
 * Search subject.  True when the pattern matches and the capture it yields
 * took part in the match; then *start and *len give that capture.
 */
bool pattern_search(const struct pattern *pattern, const char *subject,
    size_t *start, size_t *len);

void pattern_free(struct pattern *pattern);

#endif

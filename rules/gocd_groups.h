/*
 * gocd_groups.h - build a group index from a GoCD API response.
 *
 * Three shapes (SPEC section 6, GOCD.md section 2):
 *   admin:     {"_embedded": {"groups": [{"name", "pipelines": [{"name"}]}]}}
 *   dashboard: {"_embedded": {"pipeline_groups": [{"name", "pipelines": ["p"]}]}}
 *   legacy:    [{"name", "pipelines": [{"name"}]}]
 */
#ifndef MAIL2ALERT_GOCD_GROUPS_H
#define MAIL2ALERT_GOCD_GROUPS_H

#include <stddef.h>

#include "config_enums.h"
#include "group_index.h"

/*
 * Parse len bytes of JSON in the shape of api (not GOCD_API_AUTO).
 * Returns NULL and a reason in err for malformed JSON, the wrong shape, or
 * more than max_values JSON values (0: no bound); names that are not GoCD
 * names are skipped, not trusted.
 *
 * The parser's tree costs about 64 bytes a value, so a small document of
 * [0,0,0,...] costs 32 times its size: max_values is checked by a scan
 * before the tree is built.
 */
struct group_index *gocd_groups_parse(enum gocd_api api, const char *json,
    size_t len, size_t max_values, char *err, size_t errlen);

/* A bound on max_values for documents of at most max_bytes: 4 x their size. */
#define GOCD_GROUPS_MAX_VALUES(max_bytes) ((max_bytes) / 16)

#endif

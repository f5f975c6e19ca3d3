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
 * Returns NULL and a reason in err for malformed JSON or the wrong shape;
 * names that are not GoCD names are skipped, not trusted.
 */
struct group_index *gocd_groups_parse(enum gocd_api api, const char *json,
    size_t len, char *err, size_t errlen);

#endif

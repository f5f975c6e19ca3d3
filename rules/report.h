/*
 * report.h - where alerts go, for every pipeline group and pipeline
 * (mail2alert -r).  Pure: every answer comes from route_message, so the
 * report cannot disagree with the daemon.
 */
#ifndef MAIL2ALERT_REPORT_H
#define MAIL2ALERT_REPORT_H

#include <cjson/cJSON.h>

#include "config.h"
#include "group_index.h"

/*
 * The report for one manager, as JSON:
 * {"manager", "groups": [{"name", "pipelines": [{"name",
 *   "routes": [{"events": ["BREAKS", ...], "actions": ["mailto:..."]}]}]}],
 *  "uncovered": ["pipeline", ...],
 *  "unused_rules": [{"rule": N, "line": L, "name": "..."}],
 *  "unlisted_groups": ["group", ...]}
 * Each pipeline is evaluated for every event as a stage mail would be.
 * unlisted_groups are the groups rules name that GoCD did not list: GoCD's
 * group APIs list only what the polling user may view (and the dashboard
 * API applies that user's saved view), so a rule's group can be there and
 * hidden; with no group listed at all the API user looks restricted.
 */
cJSON *report_manager(const struct manager *manager,
    const struct group_index *groups);

#endif

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
 *  "unused_rules": [{"rule": N, "line": L, "name": "..."}]}
 * Each pipeline is evaluated for every event as a stage mail would be.
 */
cJSON *report_manager(const struct manager *manager,
    const struct group_index *groups);

#endif

/*
 * cctray.h - read stage states from GoCD's cctray.xml (SPEC section 2).
 *
 * Only stage entries count: names "pipeline :: stage" (job entries have
 * three parts and are skipped); lastBuildStatus "Success" is success,
 * anything else unknown: "Failure" is unknown too, since GoCD reports a
 * cancelled stage as "Failure" (StageState.cctrayStatus).
 */
#ifndef MAIL2ALERT_CCTRAY_H
#define MAIL2ALERT_CCTRAY_H

#include <stddef.h>

#include "event.h"

typedef void (*cctray_stage_fn)(const char *pipeline, const char *stage,
    enum stage_status status, void *arg);

/* Parse len bytes of XML, calling fn per stage; -1 with err if malformed. */
int cctray_parse(const char *xml, size_t len, cctray_stage_fn fn, void *arg,
    char *err, size_t errlen);

#endif

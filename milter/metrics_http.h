/*
 * metrics_http.h - the HTTP listener for Prometheus and health checks
 * (libmicrohttpd, one thread of its own), on metrics-listen:
 *
 *   /metrics       the counters, Prometheus text format 0.0.4
 *   /-/healthy     200 "OK" while the process serves
 *   /-/ready       200 "OK", or 503 with why not (see metrics_ready)
 *   /status.json   what mail2alert -s shows
 *
 * The address is read at start; a reload that changes it is warned about
 * and takes effect at restart, like the milter socket.
 */
#ifndef MAIL2ALERT_METRICS_HTTP_H
#define MAIL2ALERT_METRICS_HTTP_H

#include "config.h"

/* Listen on config->metrics_listen, if set: 0, or -1 (logged). */
int metrics_http_start(const struct config *config);
/* Stop listening and join the thread (no-op when not started). */
void metrics_http_stop(void);

#endif

/*
 * metrics_text.h - the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), written
 * into a strbuf; and the metrics-listen address.
 *
 * The daemon (milter/metrics.c) reads its counters and calls these to
 * build the /metrics answer.  Pure: no I/O, no clock, no globals.
 */
#ifndef MAIL2ALERT_METRICS_TEXT_H
#define MAIL2ALERT_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_label {
	const char *name;		/* [a-zA-Z_][a-zA-Z0-9_]* */
	const char *value;		/* any UTF-8; escaped here */
};

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void metrics_text_family(struct strbuf *out, const char *name, const char *type,
    const char *help);

/* One sample line with an integer value: name{labels} value */
void metrics_text_uint(struct strbuf *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, unsigned long long value);

/* One sample line with a floating-point value. */
void metrics_text_double(struct strbuf *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, double value);

/*
 * The samples of one histogram: name_bucket{labels,le="bound"} for each of
 * the nbounds upper bounds (ascending) and le="+Inf", then name_sum and
 * name_count.  counts[i] is how many observations fell in bucket i alone
 * (counts[nbounds]: above the last bound); the lines are cumulative.
 */
void metrics_text_histogram(struct strbuf *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, const double *bounds,
    const unsigned long long *counts, size_t nbounds, double sum);

/*
 * Split a metrics-listen value, "HOST:PORT" or "[IPv6]:PORT", into the
 * host (brackets removed) and the port (1..65535).  False with the reason
 * in why when it is not one.
 */
bool metrics_listen_parse(const char *spec, char *host, size_t hostlen,
    unsigned *port, char *why, size_t whylen);

#endif

/*
 * metrics_text.c - Prometheus text exposition (see metrics_text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_text.h"

void
metrics_text_family(struct strbuf *out, const char *name, const char *type,
    const char *help)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and line feed escaped. */
static void
add_label_value(struct strbuf *out, const char *value)
{
	for (const char *s = value; *s; s++) {
		if (*s == '\\')
			strbuf_adds(out, "\\\\");
		else if (*s == '"')
			strbuf_adds(out, "\\\"");
		else if (*s == '\n')
			strbuf_adds(out, "\\n");
		else
			strbuf_addc(out, *s);
	}
}

/* name{a="x",b="y"  - the brace is left open when extra follows */
static void
add_name_labels(struct strbuf *out, const char *name, const char *suffix,
    const struct metrics_label *labels, size_t nlabels, const char *le)
{
	strbuf_addf(out, "%s%s", name, suffix);
	if (nlabels == 0 && le == NULL)
		return;
	strbuf_addc(out, '{');
	for (size_t i = 0; i < nlabels; i++) {
		strbuf_addf(out, "%s%s=\"", i ? "," : "", labels[i].name);
		add_label_value(out, labels[i].value ? labels[i].value : "");
		strbuf_addc(out, '"');
	}
	if (le != NULL)
		strbuf_addf(out, "%sle=\"%s\"", nlabels ? "," : "", le);
	strbuf_addc(out, '}');
}

void
metrics_text_uint(struct strbuf *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, unsigned long long value)
{
	add_name_labels(out, name, "", labels, nlabels, NULL);
	strbuf_addf(out, " %llu\n", value);
}

/* Shortest text that reads back as the same double, as Go's Prometheus client does. */
static void
add_double(struct strbuf *out, double value)
{
	char text[40];

	for (int digits = 1; digits <= 17; digits++) {
		snprintf(text, sizeof(text), "%.*g", digits, value);
		if (strtod(text, NULL) == value)
			break;
	}
	strbuf_adds(out, text);
}

void
metrics_text_double(struct strbuf *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, double value)
{
	add_name_labels(out, name, "", labels, nlabels, NULL);
	strbuf_addc(out, ' ');
	add_double(out, value);
	strbuf_addc(out, '\n');
}

void
metrics_text_histogram(struct strbuf *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, const double *bounds,
    const unsigned long long *counts, size_t nbounds, double sum)
{
	unsigned long long total = 0;
	struct strbuf le = STRBUF_INIT;

	for (size_t i = 0; i <= nbounds; i++) {
		total += counts[i];
		strbuf_reset(&le);
		if (i < nbounds)
			add_double(&le, bounds[i]);
		else
			strbuf_adds(&le, "+Inf");
		add_name_labels(out, name, "_bucket", labels, nlabels, le.data);
		strbuf_addf(out, " %llu\n", total);
	}
	strbuf_free(&le);
	add_name_labels(out, name, "_sum", labels, nlabels, NULL);
	strbuf_addc(out, ' ');
	add_double(out, sum);
	strbuf_addc(out, '\n');
	add_name_labels(out, name, "_count", labels, nlabels, NULL);
	strbuf_addf(out, " %llu\n", total);
}

bool
metrics_listen_parse(const char *spec, char *host, size_t hostlen,
    unsigned *port, char *why, size_t whylen)
{
	const char *colon, *host_start = spec, *host_end;
	char *end;
	unsigned long n;

	if (spec[0] == '[') {
		host_start = spec + 1;
		host_end = strchr(host_start, ']');
		if (host_end == NULL || host_end[1] != ':') {
			snprintf(why, whylen, "\"%s\" is not [IPv6]:PORT", spec);
			return false;
		}
		colon = host_end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || memchr(spec, ':', (size_t)(colon - spec)) != NULL) {
			snprintf(why, whylen, "\"%s\" is not HOST:PORT (IPv6: [ADDRESS]:PORT)", spec);
			return false;
		}
		host_end = colon;
	}
	if (host_end == host_start || (size_t)(host_end - host_start) >= hostlen) {
		snprintf(why, whylen, "\"%s\": no host, or one too long", spec);
		return false;
	}
	n = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || n == 0 || n > 65535) {
		snprintf(why, whylen, "\"%s\": the port must be 1..65535", spec);
		return false;
	}
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	*port = (unsigned)n;
	return true;
}

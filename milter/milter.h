/*
 * milter.h - the libmilter glue: callbacks that record the envelope and
 * headers, let unwanted mail go early, and apply the routing at the end.
 */
#ifndef MAIL2ALERT_MILTER_H
#define MAIL2ALERT_MILTER_H

#include <libmilter/mfapi.h>

/* The filter description handed to smfi_register. */
extern struct smfiDesc mail2alert_filter;

#endif

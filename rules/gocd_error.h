/*
 * gocd_error.h - the text GoCD puts in an error answer, for log lines.
 * Pure.
 */
#ifndef MAIL2ALERT_GOCD_ERROR_H
#define MAIL2ALERT_GOCD_ERROR_H

#include <stddef.h>

/*
 * GoCD's API answers errors as {"message": "..."}, such as "You are not
 * authorized to access this resource!" or, to Basic credentials when
 * security is off, "Basic authentication credentials are not required,
 * since security has been disabled on this server."  Copy that message
 * into out, printable ASCII only, at most 200 characters; "" if the body
 * has none.
 */
void gocd_error_message(const char *body, size_t len, char *out, size_t outlen);

#endif

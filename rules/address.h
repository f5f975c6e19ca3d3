/*
 * address.h - comparing mail addresses as SPEC section 1 says: without
 * angle brackets, local part exactly, domain case-insensitively.
 */
#ifndef MAIL2ALERT_ADDRESS_H
#define MAIL2ALERT_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

bool address_equal(const char *a, const char *b);

#endif

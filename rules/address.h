/*
 * address.h - comparing mail addresses as SPEC section 1 says: without
 * angle brackets, local part exactly, domain case-insensitively.
 */
#ifndef MAIL2ALERT_ADDRESS_H
#define MAIL2ALERT_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

bool address_equal(const char *a, const char *b);

/*
 * Is s exactly a plain RFC 5321 Mailbox: Local-part "@" Domain, where the
 * local part is a dot-string (at most 64 bytes) or a quoted-string, and the
 * domain a host name or an address literal ([192.0.2.1], [IPv6:...])?
 * No angle brackets, comments, source routes, lists or spaces outside
 * quotes: what mailto: hands to Postfix must be one address.
 */
bool address_is_mailbox(const char *s);

#endif

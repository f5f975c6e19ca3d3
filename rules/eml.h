/*
 * eml.h - a message file (RFC 5322, as saved from a mail client or a
 * queue) read as the daemon would see the message: what the dry run
 * (-n) routes.
 *
 * The daemon keeps the first value of each header it looks at, cut at
 * MIME_HEADER_MAX, and a raw body prefix of body-limit x
 * MIME_BODY_RAW_FACTOR bytes; eml_parse keeps no more, so -n decides on
 * the same bytes.
 */
#ifndef MAIL2ALERT_EML_H
#define MAIL2ALERT_EML_H

#include <stddef.h>

#include "strbuf.h"

/*
 * The headers -n looks at, unfolded, the first of each (data is NULL
 * when the header is absent), and the body.
 */
struct eml {
	struct strbuf subject, from, to, cc, return_path, content_type, encoding;
	const char *body;	/* points into the text parsed, not owned */
	size_t body_len;
};

/*
 * Read the message file in text (len bytes, which must outlive e's
 * body).  Header values are cut at MIME_HEADER_MAX bytes, the body at
 * body_max bytes.  Free with eml_free.
 */
void eml_parse(struct eml *e, const char *text, size_t len, size_t body_max);

void eml_free(struct eml *e);

/*
 * Append the addresses of an address-list header value (To:, Cc:, or an
 * address given on the command line) to (*list)[*n], growing it (*cap
 * slots) as needed; each is malloc'd, without display name or angle
 * brackets.  Commas inside quoted display names ("Ops, Team" <ops@x>) or
 * angle brackets do not separate entries; empty entries are left out.
 */
void eml_addresses(const char *value, char ***list, size_t *n, size_t *cap);

#endif

/*
 * mime_header.h - the fields of a header block (RFC 5322 section 2.2),
 * read in place: a message's headers, or a MIME part's.
 *
 * One reader for both, so a message file (eml.h) and the parts of a
 * multipart body (mime_body.h) agree on where a field ends, what a
 * folded line is and where the body starts.
 */
#ifndef MAIL2ALERT_MIME_HEADER_H
#define MAIL2ALERT_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* One field, pointing into the text it was read from (not NUL-terminated). */
struct mime_header {
	const char *name;	/* before the colon */
	size_t name_len;
	const char *value;	/* after the colon and its blanks, folds kept, */
	size_t value_len;	/* the line break that ends the field not */
};

/*
 * Read the field at *pos of a header block that ends at end at the
 * latest.  Returns true with *field set and *pos moved past the field
 * and its continuation lines.  Returns false at the empty line that ends
 * the block (or at end), with *pos moved to the first byte of the body.
 * Lines without a colon are no field and are skipped.
 */
bool mime_header_next(const char **pos, const char *end, struct mime_header *field);

/* Is field called name (ASCII case-insensitive)? */
bool mime_header_is(const struct mime_header *field, const char *name);

/*
 * Append len bytes of a header value to out unfolded (RFC 5322 2.2.3:
 * the line breaks removed, the whitespace after them kept).
 */
void mime_header_unfold(struct strbuf *out, const char *value, size_t len);

/* field's value, unfolded and cut at max bytes of the raw value; malloc'd. */
char *mime_header_value(const struct mime_header *field, size_t max);

/*
 * The value of the first field called name in the header block at
 * [start, end), unfolded and cut at max bytes of the raw value; malloc'd,
 * or NULL if there is none.
 */
char *mime_header_find(const char *start, const char *end, const char *name,
    size_t max);

#endif

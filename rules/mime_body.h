/*
 * mime_body.h - the readable text of a message body, for Slack posts.
 */
#ifndef MAIL2ALERT_MIME_BODY_H
#define MAIL2ALERT_MIME_BODY_H

#include <stddef.h>

/*
 * Raw body to keep per byte of decoded text wanted (body-limit):
 * quoted-printable triples the size of non-ASCII text, and its soft line
 * breaks add a little more.
 */
#define MIME_BODY_RAW_FACTOR 4

/* How deep multiparts are followed; deeper nesting is not text we want. */
#define MIME_MAX_DEPTH 5

/*
 * The text of body: for text/plain (or no Content-Type) the body itself;
 * for a multipart, the first text/plain part, looked for depth-first.
 * Content-Transfer-Encoding quoted-printable and base64 are decoded, the
 * charset is converted to UTF-8, CRLF becomes LF, and the result is cut
 * at limit bytes on a character boundary.  content_type and
 * transfer_encoding are the header values (NULL when absent).  Returns a
 * malloc'd string, "" when there is no text part.
 */
char *mime_body_text(const char *content_type, const char *transfer_encoding,
    const char *body, size_t len, size_t limit);

/*
 * The value of parameter name in a header value such as
 * 'text/plain; charset="utf-8"', malloc'd, or NULL.
 */
char *mime_param(const char *header_value, const char *name);

/* The first non-blank line of text, malloc'd. */
char *mime_first_line(const char *text);

#endif

/*
 * mime_text.h - turn header and body bytes as they travel in mail into
 * plain UTF-8 text.
 *
 * Everything returned is valid UTF-8, so hostile input cannot produce
 * broken UTF-8 downstream (log lines, JSON for Slack).  Charsets glibc's
 * iconv(3) knows are converted by it; text labelled UTF-8 or US-ASCII,
 * or in a charset iconv does not know, is taken as UTF-8 with each
 * invalid byte read as ISO-8859-1 ("repaired").
 */
#ifndef MAIL2ALERT_MIME_TEXT_H
#define MAIL2ALERT_MIME_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Bytes of a header value looked at; GoCD's Subject is < 600. */
#define MIME_HEADER_MAX 4096

/*
 * Decode an unstructured header value (Subject): unfold folded lines,
 * decode RFC 2047 encoded-words, drop whitespace between adjacent
 * encoded-words, replace control characters by spaces and trim.
 * Returns a malloc'd UTF-8 string.
 */
char *mime_decode_header(const char *raw, size_t len);

/*
 * Append len bytes in charset to out as UTF-8, at most 3 bytes of output
 * for each byte of input.  In a charset iconv knows, a byte sequence
 * that is not valid there is kept if it is valid UTF-8 (mislabelled
 * mail) and else becomes U+FFFD; other charsets: see above.
 */
void mime_charset_to_utf8(struct strbuf *out, const char *charset,
    const char *bytes, size_t len);

/*
 * Quoted-printable decoding (RFC 2045; in_header: RFC 2047 "Q", where '_'
 * is a space).  Malformed escapes are kept as they are.
 */
void mime_qp_decode(struct strbuf *out, const char *in, size_t len, bool in_header);

/* Base64 decoding; characters outside the alphabet are skipped. */
void mime_base64_decode(struct strbuf *out, const char *in, size_t len);

#endif

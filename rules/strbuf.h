/*
 * strbuf.h - growable, always NUL-terminated byte strings.
 *
 * External data never goes into a fixed buffer: it goes here, with an
 * explicit length.
 */
#ifndef MAIL2ALERT_STRBUF_H
#define MAIL2ALERT_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *data;		/* NUL-terminated once anything is added */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_add(struct strbuf *sb, const char *bytes, size_t len);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append one Unicode code point as UTF-8. */
void strbuf_add_utf8(struct strbuf *sb, unsigned long cp);
void strbuf_reset(struct strbuf *sb);
/* The contents ("" when empty), still owned by sb. */
const char *strbuf_str(const struct strbuf *sb);
/* Hand the contents to the caller (never NULL) and empty sb. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);

#endif

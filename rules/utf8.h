/*
 * utf8.h - reading UTF-8 (RFC 3629), and showing text that came from
 * outside (mail, GoCD, the state file) on a terminal or in a log line.
 */
#ifndef MAIL2ALERT_UTF8_H
#define MAIL2ALERT_UTF8_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes), with its
 * code point in *cp when cp is not NULL; 0 if none starts there
 * (overlong forms, surrogates and values past U+10FFFF are not valid).
 */
size_t utf8_sequence(const char *s, size_t len, unsigned long *cp);

/*
 * Append len bytes of s to out so that they can neither move a terminal's
 * cursor or colours nor forge or reorder a log field: '"' and '\' get a
 * backslash; TAB, LF and CR become \t, \n and \r; other C0 controls, DEL
 * and bytes that are not UTF-8 become \xHH; C1 controls (NEL U+0085
 * among them), the line and paragraph separators U+2028/U+2029 and the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069) become \uHHHH.  Other text, valid UTF-8, is kept.
 */
void utf8_add_escaped(struct strbuf *out, const char *s, size_t len);

/* utf8_add_escaped of the C string s, as a malloc'd string. */
char *utf8_escaped(const char *s);

#endif

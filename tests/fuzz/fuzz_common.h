/*
 * fuzz_common.h - checks shared by the libFuzzer harnesses.
 *
 * A failed check is a crash (abort), which is what libFuzzer reports and
 * saves as an artifact.  The message says which invariant broke.
 */
#ifndef MAIL2ALERT_FUZZ_COMMON_H
#define MAIL2ALERT_FUZZ_COMMON_H

#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF.  Returns the offset of the first bad byte, or len if valid.
 */
static inline size_t
fuzz_utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 4, cp = c & 0x07;
		else
			return i;
		if (len - i < n)
			return i;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n;
	}
	return len;
}

static inline bool
fuzz_utf8_valid(const char *s, size_t len)
{
	return fuzz_utf8_invalid_at((const unsigned char *)s, len) == len;
}

/* A GoCD nameType character: [A-Za-z0-9_.-] (no locale involved). */
static inline bool
fuzz_is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Non-empty, at most max bytes, only nameType characters. */
static inline bool
fuzz_is_gocd_name(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (!fuzz_is_name_char((unsigned char)s[n]))
			return false;
	}
	return n > 0 && n <= max;
}

/* A NUL-terminated, malloc'd copy of the fuzzer's bytes. */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Consume one byte of input (0 when none is left). */
static inline uint8_t
fuzz_take_byte(const uint8_t **data, size_t *size)
{
	uint8_t b;

	if (*size == 0)
		return 0;
	b = **data;
	(*data)++;
	(*size)--;
	return b;
}

/*
 * rules/ opens and closes an iconv handle per conversion.  Under ASan
 * glibc then maps and unmaps the charset's gconv module every time, which
 * made the mail harnesses ten to a hundred times slower (the daemon,
 * without ASan, pays about a microsecond).  A handle held open for each
 * charset likely to be used keeps its module loaded.  Call once, from
 * LLVMFuzzerInitialize.
 */
static inline void
fuzz_hold_charsets(const char *const *names, size_t n)
{
	static const char *const common[] = { "ISO-8859-1", "ISO-8859-15", "CP1252",
	    "KOI8-R", "ISO-2022-JP", "SHIFT_JIS", "UTF-16", "GB18030" };
	/* static: reachable, so LeakSanitizer does not count them */
	static iconv_t held[64];
	size_t k = 0;

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		held[k++] = iconv_open("UTF-8", common[i]);
	for (size_t i = 0; i < n && k < sizeof(held) / sizeof(held[0]); i++)
		held[k++] = iconv_open("UTF-8", names[i]);
}

#endif

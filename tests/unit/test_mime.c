/*
 * test_mime.c - header unfolding and RFC 2047 decoding, quoted-printable,
 * base64 and charset conversion.  Whatever goes in, valid UTF-8 comes out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gocd_subject.h"
#include "mime_body.h"
#include "mime_text.h"

/* Strict UTF-8 check (no overlongs, surrogates or values past U+10FFFF). */
static bool
valid_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned long cp;
		size_t n;

		if (s[0] < 0x80) {
			s++;
			continue;
		}
		if (s[0] >= 0xC2 && s[0] <= 0xDF)
			n = 2, cp = s[0] & 0x1F;
		else if (s[0] >= 0xE0 && s[0] <= 0xEF)
			n = 3, cp = s[0] & 0x0F;
		else if (s[0] >= 0xF0 && s[0] <= 0xF4)
			n = 4, cp = s[0] & 0x07;
		else
			return false;
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		s += n;
	}
	return true;
}

/* mime_decode_header of a C string, compared with expect; also checks UTF-8. */
static void
expect_header(const char *raw, const char *expect)
{
	char *got = mime_decode_header(raw, strlen(raw));

	assert_non_null(got);
	assert_string_equal(got, expect);
	assert_true(valid_utf8(got));
	free(got);
}

static void
expect_qp(const char *in, bool in_header, const char *expect, size_t expect_len)
{
	struct strbuf sb = STRBUF_INIT;

	mime_qp_decode(&sb, in, strlen(in), in_header);
	assert_int_equal(sb.len, expect_len);
	if (expect_len)
		assert_memory_equal(sb.data, expect, expect_len);
	strbuf_free(&sb);
}

static void
expect_base64(const char *in, const char *expect, size_t expect_len)
{
	struct strbuf sb = STRBUF_INIT;

	mime_base64_decode(&sb, in, strlen(in));
	assert_int_equal(sb.len, expect_len);
	if (expect_len)
		assert_memory_equal(sb.data, expect, expect_len);
	strbuf_free(&sb);
}

static void
expect_charset(const char *charset, const char *bytes, size_t len,
    const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	mime_charset_to_utf8(&sb, charset, bytes, len);
	assert_string_equal(strbuf_str(&sb), expect);
	assert_int_equal(sb.len, strlen(expect));
	assert_true(valid_utf8(strbuf_str(&sb)));
	strbuf_free(&sb);
}

static void
test_plain_subject_unchanged(void **state)
{
	(void)state;
	expect_header("", "");
	expect_header("Stage [up42/12/build/1] passed", "Stage [up42/12/build/1] passed");
	expect_header("Server Backup Completed Successfully",
	    "Server Backup Completed Successfully");
	/* inner runs of spaces are text and stay */
	expect_header("a  b", "a  b");
}

static void
test_unfold(void **state)
{
	(void)state;
	/* as on the wire: CRLF + the whitespace GoCD's mail library folded at */
	expect_header("Stage [up42/12/build/1]\r\n is broken",
	    "Stage [up42/12/build/1] is broken");
	/* as Postfix may pass a header value to a milter: LF + tab */
	expect_header("Stage [up42/12/build/1]\n\tis broken",
	    "Stage [up42/12/build/1] is broken");
	/* several folds */
	expect_header("one\r\n two\r\n\tthree\n four", "one two three four");
	/* a bare line break without whitespace is removed too */
	expect_header("ab\r\ncd", "abcd");
}

static void
test_trim_and_control_characters(void **state)
{
	(void)state;
	expect_header("  \t hello \r\n ", "hello");
	expect_header("\t", "");
	expect_header("a\x01" "b\x7f" "c", "a b c");
	expect_header("\x1b[31mred\x1b[0m", "[31mred [0m");
	expect_header("\x01\x02 x \x7f", "x");
	/* control characters that come out of encoded-words too */
	expect_header("=?utf-8?q?a=0Ab=0Dc?=", "a b c");
	expect_header("=?utf-8?q?a=00b?=", "a b");
	expect_header("=?utf-8?q?=01x=7F?=", "x");
}

static void
test_q_encoding(void **state)
{
	(void)state;
	expect_header("=?utf-8?Q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait");
	expect_header("=?UTF-8?q?caf=c3=a9?=", "caf\xc3\xa9");
	expect_header("=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9");
	expect_header("=?iso-8859-1?q?=A3100_=B0C?=", "\xc2\xa3" "100 \xc2\xb0" "C");
	/* '=' escapes of '_' and '?' */
	expect_header("=?us-ascii?q?a=5Fb=3F?=", "a_b?");
	/* an empty encoded text is a word with no characters */
	expect_header("x =?utf-8?q?\?= y", "x  y");
	/* RFC 2231 language tag after the charset */
	expect_header("=?utf-8*en?q?hi?=", "hi");
}

static void
test_b_encoding(void **state)
{
	(void)state;
	expect_header("=?UTF-8?B?Y2Fmw6k=?=", "caf\xc3\xa9");
	expect_header("=?utf-8?b?4oKsIDEwMA==?=", "\xe2\x82\xac 100");
	expect_header("=?iso-8859-1?b?Y2Fm6Q==?=", "caf\xc3\xa9");
	expect_header("=?ISO-8859-1?B?Y2Fm6Q?=", "caf\xc3\xa9");	/* no padding */
}

static void
test_adjacent_encoded_words(void **state)
{
	(void)state;
	expect_header("=?utf-8?q?a?= =?utf-8?q?b?=", "ab");
	expect_header("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab");
	expect_header("=?utf-8?q?a?=\n\t=?utf-8?B?Yg==?=  \t =?iso-8859-1?q?=E9?=",
	    "ab\xc3\xa9");
	/*
	 * A character split across two words breaks RFC 2047 5 (GoCD's mail
	 * library never does it); each half is repaired on its own, so the
	 * result is still valid UTF-8, with the whitespace dropped.
	 */
	expect_header("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "caf\xc3\x83\xc2\xa9");
	/* plain text around encoded words keeps its spaces */
	expect_header("x =?utf-8?q?a?= =?utf-8?q?b?= y", "x ab y");
	expect_header("Hello  =?utf-8?q?W?=  world", "Hello  W  world");
	expect_header("Re: =?utf-8?q?Stage?= [x]", "Re: Stage [x]");
	/* a space inside the encoded text must be written as _ */
	expect_header("=?utf-8?q?a_?= =?utf-8?q?_b?=", "a  b");
}

static void
test_malformed_encoded_words_are_text(void **state)
{
	(void)state;
	expect_header("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");	/* bad encoding */
	expect_header("=?utf-8?q?abc", "=?utf-8?q?abc");	/* not closed */
	expect_header("=?utf-8?q?a b?=", "=?utf-8?q?a b?=");	/* space inside */
	expect_header("=?\?q?abc?=", "=?\?q?abc?=");		/* no charset */
	expect_header("=?utf-8?qabc?=", "=?utf-8?qabc?=");	/* no '?' after Q */
	expect_header("=?utf-8?=", "=?utf-8?=");
	expect_header("=?", "=?");
	expect_header("a = b ? c", "a = b ? c");
	/* a broken word next to a good one: the broken one keeps its space */
	expect_header("=?utf-8?q?a?= =?bad", "a =?bad");
	expect_header("=?bad =?utf-8?q?a?=", "=?bad a");
	/* a charset name longer than RFC 2047 allows */
	{
		char raw[200], cs[100];

		memset(cs, 'c', 80);
		cs[80] = '\0';
		snprintf(raw, sizeof(raw), "=?%s?q?x?=", cs);
		expect_header(raw, raw);
	}
}

static void
test_invalid_utf8_becomes_latin1(void **state)
{
	(void)state;
	expect_header("caf\xe9", "caf\xc3\xa9");
	expect_header("\xff", "\xc3\xbf");
	/* truncated sequence: each byte is read as ISO-8859-1 */
	expect_header("\xe2\x82", "\xc3\xa2\xc2\x82");
	/* overlong '/' */
	expect_header("\xc0\xaf", "\xc3\x80\xc2\xaf");
	/* UTF-16 surrogate encoded in UTF-8 */
	expect_header("\xed\xa0\x80", "\xc3\xad\xc2\xa0\xc2\x80");
	/* beyond U+10FFFF */
	expect_header("\xf4\x90\x80\x80", "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80");
	/* valid multi-byte text passes through */
	expect_header("\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x82\xac \xf0\x9f\x98\x80");
	/* an encoded-word that claims UTF-8 but is not */
	expect_header("=?utf-8?q?caf=E9?=", "caf\xc3\xa9");
	expect_header("=?utf-8?b?/w==?=", "\xc3\xbf");
	/* charsets iconv does not know are read as UTF-8, repaired */
	expect_header("=?x-unknown?q?abc=FF?=", "abc\xc3\xbf");
}

static void
test_realistic_gocd_subjects(void **state)
{
	static const char expect[] =
	    "Stage [my-very-long-pipeline-name/1234/build-and-test/1] is broken";
	struct gocd_subject s;
	char *got;

	(void)state;
	/* folded at whitespace past 76 characters */
	expect_header("Stage [my-very-long-pipeline-name/1234/build-and-test/1] is\r\n broken",
	    expect);
	/* Q-encoded and folded between two encoded-words */
	got = mime_decode_header(
	    "=?UTF-8?Q?Stage_[my-very-long-pipeline-name/1234/build-and-test/1]?=\r\n"
	    " =?UTF-8?Q?_is_broken?=", 93);
	assert_string_equal(got, expect);
	assert_true(gocd_parse_subject(got, &s));
	assert_string_equal(s.pipeline, "my-very-long-pipeline-name");
	assert_int_equal(s.pipeline_counter, 1234);
	assert_string_equal(s.stage, "build-and-test");
	assert_int_equal(s.stage_counter, 1);
	assert_int_equal(s.event, EVENT_BREAKS);
	free(got);
	/* B-encoded */
	expect_header("=?utf-8?B?U3RhZ2UgW3VwNDIvMTIvYnVpbGQvMV0gaXMgZml4ZWQ=?=",
	    "Stage [up42/12/build/1] is fixed");
}

static void
test_header_decode_uses_len(void **state)
{
	char *got;

	(void)state;
	got = mime_decode_header("abcdef", 3);
	assert_string_equal(got, "abc");
	free(got);
	/* an encoded-word cut by len is text */
	got = mime_decode_header("=?utf-8?q?ab?=", 12);
	assert_string_equal(got, "=?utf-8?q?ab");
	free(got);
	got = mime_decode_header("", 0);
	assert_string_equal(got, "");
	free(got);
}

static void
test_qp_decode(void **state)
{
	(void)state;
	expect_qp("a=3Db", false, "a=b", 3);
	expect_qp("=3d=c3=A9", false, "=\xc3\xa9", 3);
	/* soft line breaks */
	expect_qp("abc=\r\ndef", false, "abcdef", 6);
	expect_qp("abc=\ndef", false, "abcdef", 6);
	expect_qp("abc=", false, "abc", 3);
	expect_qp("line1\r\nline2", false, "line1\r\nline2", 12);
	/* invalid escapes stay as they are */
	expect_qp("a=ZZb", false, "a=ZZb", 5);
	expect_qp("a=4", false, "a=4", 3);
	expect_qp("=G1", false, "=G1", 3);
	expect_qp("=\xe9\xff", false, "=\xe9\xff", 3);
	expect_qp("=F\xe9", true, "=F\xe9", 3);
	expect_qp("100%=", true, "100%=", 5);
	/* '_' is a space only in headers (RFC 2047 Q) */
	expect_qp("a_b", false, "a_b", 3);
	expect_qp("a_b", true, "a b", 3);
	/* soft line breaks are a body thing */
	expect_qp("a=\nb", true, "a=\nb", 4);
	/* NUL can be encoded */
	expect_qp("x=00y", false, "x\0y", 3);
}

static void
test_base64_decode(void **state)
{
	(void)state;
	expect_base64("", "", 0);
	expect_base64("aGVsbG8=", "hello", 5);
	expect_base64("aGVsbG8", "hello", 5);
	expect_base64("Zm9vYmFy", "foobar", 6);
	expect_base64("Zm9vYg==", "foob", 4);
	expect_base64("aGVs\r\nbG8=", "hello", 5);
	expect_base64("aG Vs*bG8=", "hello", 5);	/* junk skipped */
	expect_base64("/w==", "\xff", 1);
	expect_base64("+/+/", "\xfb\xff\xbf", 3);
	expect_base64("AAE=", "\0\x01", 2);
	/* decoding stops at padding */
	expect_base64("YQ==YWJj", "a", 1);
}

static void
test_charset_to_utf8(void **state)
{
	(void)state;
	expect_charset("windows-1252", "\x80", 1, "\xe2\x82\xac");
	expect_charset("WINDOWS-1252", "\x93quoted\x94", 8,
	    "\xe2\x80\x9cquoted\xe2\x80\x9d");
	expect_charset("cp1252", "\x85\x99\xe9", 3, "\xe2\x80\xa6\xe2\x84\xa2\xc3\xa9");
	/* 0x81 is not defined in windows-1252 */
	expect_charset("windows-1252", "\x81", 1, "\xef\xbf\xbd");
	/* in ISO-8859-1 0x80 is the C1 control U+0080 */
	expect_charset("iso-8859-1", "\x80\xe9", 2, "\xc2\x80\xc3\xa9");
	expect_charset("Latin1", "\xff", 1, "\xc3\xbf");
	expect_charset("utf-8", "caf\xc3\xa9", 5, "caf\xc3\xa9");
	expect_charset("utf-8", "caf\xe9", 4, "caf\xc3\xa9");
	expect_charset("us-ascii", "plain", 5, "plain");
	expect_charset("x-unknown", "\xc3\xa9\xe9", 3, "\xc3\xa9\xc3\xa9");
}

/* Issue 11 point 6: charsets the old hand-written table got wrong. */
static void
test_iconv_charsets_in_subjects(void **state)
{
	(void)state;
	/* ISO-8859-15 0xA4 is the euro sign, not ISO-8859-1's currency sign */
	expect_header("=?iso-8859-15?Q?=A4?=", "\xe2\x82\xac");
	expect_header("=?ISO-8859-15?q?Gr=FC=DFe_=A4?=", "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac");
	/* KOI8-R "Сборка сломана" (build broken), B- and Q-encoded */
	expect_header("=?koi8-r?B?88LP0svBINPMz83BzsE=?=",
	    "\xd0\xa1\xd0\xb1\xd0\xbe\xd1\x80\xd0\xba\xd0\xb0 "
	    "\xd1\x81\xd0\xbb\xd0\xbe\xd0\xbc\xd0\xb0\xd0\xbd\xd0\xb0");
	expect_header("Re: =?KOI8-R?Q?=F3=CC=CF=CD=C1=CE=C1?= [x]",
	    "Re: \xd0\xa1\xd0\xbb\xd0\xbe\xd0\xbc\xd0\xb0\xd0\xbd\xd0\xb0 [x]");
	/* ISO-2022-JP (stateful: ESC $ B ... ESC ( B) "ビルド失敗" (build failed) */
	expect_header("=?ISO-2022-JP?B?GyRCJVMlayVJPDpHVBsoQg==?=",
	    "\xe3\x83\x93\xe3\x83\xab\xe3\x83\x89\xe5\xa4\xb1\xe6\x95\x97");
	expect_header("Stage =?iso-2022-jp?B?GyRCJVMlayVJPDpHVBsoQg==?= now",
	    "Stage \xe3\x83\x93\xe3\x83\xab\xe3\x83\x89\xe5\xa4\xb1\xe6\x95\x97 now");
}

static void
test_iconv_invalid_and_bounded(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* a byte Shift_JIS does not have: U+FFFD, and the rest goes on */
	expect_charset("shift_jis", "\x83r\xff\x83h", 5,
	    "\xe3\x83\x93\xef\xbf\xbd\xe3\x83\x89");
	/* a Shift_JIS character cut short at the end is one U+FFFD */
	expect_charset("shift_jis", "\x83r\x83", 3, "\xe3\x83\x93\xef\xbf\xbd");
	/* UTF-8 in a part labelled with another charset is kept */
	expect_charset("iso-2022-jp", "caf\xc3\xa9", 5, "caf\xc3\xa9");
	/* charset names are not paths or iconv suffixes: read as UTF-8 */
	expect_charset("latin1//TRANSLIT", "\xe9", 1, "\xc3\xa9");
	expect_charset("../../x", "\xe9", 1, "\xc3\xa9");
	expect_charset("", "\xe9", 1, "\xc3\xa9");
	/* never more than 3 bytes out for a byte in, whatever the charset */
	static const char *const cs[] = { "UTF-16", "UTF-7", "TSCII", "GB18030",
	    "koi8-r", "ISO-2022-JP", "BIG5" };
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		char in[256];

		for (size_t j = 0; j < sizeof(in); j++)
			in[j] = (char)(255 - j);
		mime_charset_to_utf8(&sb, cs[i], in, sizeof(in));
		assert_true(sb.len <= 3 * sizeof(in));
		assert_true(valid_utf8(strbuf_str(&sb)));	/* up to a NUL */
		strbuf_reset(&sb);
	}
	strbuf_free(&sb);
}

static void
test_body_in_other_charsets(void **state)
{
	static const char multipart[] =
	    "--b\r\nContent-Type: text/plain; charset=ISO-8859-15\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "Co=FBt: 5 =A4\r\n--b--\r\n";
	char *text;

	(void)state;
	/* KOI8-R, 8bit */
	text = mime_body_text("text/plain; charset=\"koi8-r\"", "8bit",
	    "\xf3\xcc\xcf\xcd\xc1\xce\xc1\r\n", 9, 1000);
	assert_string_equal(text,
	    "\xd0\xa1\xd0\xbb\xd0\xbe\xd0\xbc\xd0\xb0\xd0\xbd\xd0\xb0\n");
	free(text);
	/* ISO-8859-15, quoted-printable, in a multipart */
	text = mime_body_text("multipart/alternative; boundary=b", NULL, multipart,
	    strlen(multipart), 1000);
	assert_string_equal(text, "Co\xc3\xbbt: 5 \xe2\x82\xac");
	free(text);
	/* Shift_JIS, base64, cut at the limit on a character boundary */
	text = mime_body_text("text/plain; charset=Shift_JIS", "base64", "g3KDi4No", 8, 7);
	assert_string_equal(text, "\xe3\x83\x93\xe3\x83\xab");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_subject_unchanged),
		cmocka_unit_test(test_unfold),
		cmocka_unit_test(test_trim_and_control_characters),
		cmocka_unit_test(test_q_encoding),
		cmocka_unit_test(test_b_encoding),
		cmocka_unit_test(test_adjacent_encoded_words),
		cmocka_unit_test(test_malformed_encoded_words_are_text),
		cmocka_unit_test(test_invalid_utf8_becomes_latin1),
		cmocka_unit_test(test_realistic_gocd_subjects),
		cmocka_unit_test(test_header_decode_uses_len),
		cmocka_unit_test(test_qp_decode),
		cmocka_unit_test(test_base64_decode),
		cmocka_unit_test(test_charset_to_utf8),
		cmocka_unit_test(test_iconv_charsets_in_subjects),
		cmocka_unit_test(test_iconv_invalid_and_bounded),
		cmocka_unit_test(test_body_in_other_charsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

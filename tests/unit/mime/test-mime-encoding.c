/* Unit tests for core/mime-encoding.c and mime-decoder.c: charsets, RFC 2047
 * words, and streaming base64 / quoted-printable with every split point. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "mime-test.h"
#include "pool.h"

TestSuite(mime_encoding, .init = mtest_setup, .fini = mtest_teardown);

static const char *words(const char *s)
{
        return mime_words_decode(test_pool, s, strlen(s));
}

Test(mime_encoding, encoded_words)
{
        cr_assert_str_eq(words("plain text"), "plain text");
        cr_assert_str_eq(words("=?iso-8859-1?q?this=20is=20some=20text?="), "this is some text");
        cr_assert_str_eq(words("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
        cr_assert_str_eq(words("=?ISO-8859-1?Q?a?=  \t b"), "a  \t b");
        cr_assert_str_eq(words("=?ISO-8859-1?Q?a_b?="), "a b");
        cr_assert_str_eq(words("=?US-ASCII*EN?Q?Keith?="), "Keith");
        /* A UTF-8 character split across two words (RFC 2047 §6.2 says
           this is wrong, mailers do it anyway). */
        cr_assert_str_eq(words("=?utf-8?B?w6k=?= =?utf-8?Q?=C3?= =?utf-8?Q?=A9?="),
                         "\xc3\xa9\xc3\xa9");
        cr_assert_str_eq(words("=?utf-8?q?a?= =?iso-8859-1?q?=E9?="), "a\xc3\xa9");
        cr_assert_str_eq(words("x=?utf-8?q?y?=z"), "xyz");
        /* Kept raw: unknown charset, bad encodings, broken syntax. */
        cr_assert_str_eq(words("=?x-klingon?q?abc?="), "=?x-klingon?q?abc?=");
        cr_assert_str_eq(words("=?utf-8?b?!!!?="), "=?utf-8?b?!!!?=");
        cr_assert_str_eq(words("=?utf-8?q?=ZZ?="), "=?utf-8?q?=ZZ?=");
        cr_assert_str_eq(words("=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
        cr_assert_str_eq(words("=?utf-8?q?abc"), "=?utf-8?q?abc");
        cr_assert_str_eq(words("=?utf-8//TRANSLIT?q?abc?="), "=?utf-8//TRANSLIT?q?abc?=");
        cr_assert_str_eq(words("=?utf-8?q?\xff?="), "\xef\xbf\xbd");
}

Test(mime_encoding, charsets)
{
        char *out;
        size_t len;
        cr_assert(mime_charset_to_utf8(test_pool, "ISO-8859-1", "caf\xe9", 4, &out, &len));
        cr_assert_str_eq(out, "caf\xc3\xa9");
        cr_assert_eq(len, 5);
        cr_assert(mime_charset_to_utf8(test_pool, "windows-1252", "\x80", 1, &out, &len));
        cr_assert_str_eq(out, "\xe2\x82\xac");
        cr_assert(mime_charset_to_utf8(test_pool, "utf-8", "a\xc3(\xed\xa0\x80z", 7, &out, &len));
        cr_assert_str_eq(out, "a\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
        cr_assert(mime_charset_to_utf8(test_pool, "us-ascii", "", 0, &out, &len));
        cr_assert_str_eq(out, "");
        /* Invalid input in a multibyte charset, then a truncated sequence. */
        cr_assert(mime_charset_to_utf8(test_pool, "Shift_JIS", "a\x82 b\x82", 5, &out, &len));
        cr_assert_str_eq(out, "a\xef\xbf\xbd b\xef\xbf\xbd");
        cr_assert_not(mime_charset_to_utf8(test_pool, "x-nonexistent", "a", 1, &out, &len));
        cr_assert_not(mime_charset_to_utf8(test_pool, "UTF-8//TRANSLIT", "a", 1, &out, &len));
        cr_assert_not(mime_charset_to_utf8(test_pool, "../../etc", "a", 1, &out, &len));
        cr_assert_not(mime_charset_to_utf8(test_pool, "", "a", 1, &out, &len));
        cr_assert_not(mime_charset_to_utf8(test_pool, NULL, "a", 1, &out, &len));
}

/* Decodes input whole and split at every position (and byte by byte) and
   asserts the same output every time. */
static void decode_all_ways(enum mime_transfer_encoding te, const char *in,
                            const char *expect, size_t expect_len, bool errors)
{
        size_t len = strlen(in);
        for (size_t split = 0; split <= len + 1; split++) {
                struct mime_decoder *dec = mime_decoder_create(test_pool, te);
                struct buf out;
                buf_init(&out, 0);
                if (split <= len) {
                        cr_assert(mime_decoder_feed(dec, in, split, &out));
                        cr_assert(mime_decoder_feed(dec, in + split, len - split, &out));
                } else {
                        for (size_t i = 0; i < len; i++)
                                cr_assert(mime_decoder_feed(dec, in + i, 1, &out));
                }
                cr_assert(mime_decoder_finish(dec, &out));
                cr_assert_eq(out.len, expect_len, "%s split %zu: got %zu bytes", in, split, out.len);
                cr_assert(out.len == 0 || memcmp(out.data, expect, out.len) == 0,
                          "split %zu: got '%s'", split, out.data);
                cr_assert_eq(mime_decoder_had_errors(dec), errors, "split %zu", split);
                buf_free(&out);
        }
}

Test(mime_encoding, base64_streaming)
{
        decode_all_ways(MIME_TE_BASE64, "SGVsbG8s\r\nIHdvcmxkIQ==\r\n", "Hello, world!", 13, false);
        decode_all_ways(MIME_TE_BASE64, "AAEC/w", "\x00\x01\x02\xff", 4, false);
        decode_all_ways(MIME_TE_BASE64, "SGk*!", "Hi", 2, true);
        decode_all_ways(MIME_TE_BASE64, "SGk=ignored", "Hi", 2, false);
        decode_all_ways(MIME_TE_BASE64, "SGkh\r\nQ", "Hi!", 3, true);
        decode_all_ways(MIME_TE_BASE64, "", "", 0, false);
}

Test(mime_encoding, quoted_printable_streaming)
{
        decode_all_ways(MIME_TE_QP, "caf=C3=A9 =\r\nbar  \r\nx=3d\t\n", "caf\xc3\xa9 bar\r\nx=\n",
                        14, false);
        decode_all_ways(MIME_TE_QP, "soft = \t\r\nbreak=\nend=", "soft breakend", 13, false);
        decode_all_ways(MIME_TE_QP, "bad=ZZ and =4", "bad=ZZ and =4", 13, true);
        decode_all_ways(MIME_TE_QP, "a=\rb", "ab", 2, true);
        decode_all_ways(MIME_TE_QP, "cr\rin text \r", "cr\rin text \r", 12, false);
        decode_all_ways(MIME_TE_QP, "trailing   ", "trailing", 8, false);
        decode_all_ways(MIME_TE_QP, "x= y", "x=y", 3, true);
        decode_all_ways(MIME_TE_IDENTITY, "as=20is\r\n", "as=20is\r\n", 9, false);
}

Test(mime_encoding, decoder_respects_output_limit)
{
        struct mime_decoder *dec = mime_decoder_create(test_pool, MIME_TE_QP);
        struct buf out;
        buf_init(&out, 4);
        cr_assert_not(mime_decoder_feed(dec, "abcdefgh", 8, &out));
        cr_assert_leq(out.len, 4);
        buf_free(&out);
        cr_assert_eq(mime_transfer_encoding_parse("Base64"), MIME_TE_BASE64);
        cr_assert_eq(mime_transfer_encoding_parse("QUOTED-PRINTABLE"), MIME_TE_QP);
        cr_assert_eq(mime_transfer_encoding_parse("x-uuencode"), MIME_TE_IDENTITY);
        cr_assert_eq(mime_transfer_encoding_parse(NULL), MIME_TE_IDENTITY);
}

Test(mime_encoding, unterminated_words_are_kept)
{
        struct buf b;
        buf_init(&b, 0);
        for (int i = 0; i < 10000; i++)
                buf_append_str(&b, "=?a?q?");
        cr_assert_str_eq(mime_words_decode(test_pool, b.data, b.len), b.data);
        buf_reset(&b);
        buf_append_str(&b, "=?utf-8?q?");
        for (int i = 0; i < 3000; i++)
                buf_append_char(&b, 'x');
        buf_append_str(&b, "?=");
        /* Longer than any real encoded word: left alone. */
        cr_assert_str_eq(mime_words_decode(test_pool, b.data, b.len), b.data);
        buf_free(&b);
}

/* test-fetch-string.c - NIL / atom / quoted / literal choice for values. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "fetch-test.h"

static struct buf out;

static void setup(void)
{
        ftest_setup();
        buf_init(&out, 0);
}

static void teardown(void)
{
        buf_free(&out);
        ftest_teardown();
}

TestSuite(fetch_string, .init = setup, .fini = teardown);

Test(fetch_string, nil_and_plain)
{
        imap_fetch_append_nstring(&out, NULL);
        buf_append_char(&out, ' ');
        imap_fetch_append_nstring(&out, "");
        buf_append_char(&out, ' ');
        imap_fetch_append_nstring(&out, "Hello world");
        cr_assert_str_eq(out.data, "NIL \"\" \"Hello world\"");
}

Test(fetch_string, quote_and_backslash_escaped)
{
        imap_fetch_append_nstring(&out, "say \"hi\" \\o/");
        cr_assert_str_eq(out.data, "\"say \\\"hi\\\" \\\\o/\"");
}

Test(fetch_string, eight_bit_goes_literal)
{
        imap_fetch_append_nstring(&out, "Gr\xc3\xbc\xc3\x9f" "e");
        cr_assert_str_eq(out.data, "{7}\r\nGr\xc3\xbc\xc3\x9f" "e");
}

Test(fetch_string, crlf_goes_literal)
{
        imap_fetch_append_string(&out, "a\r\nb", 4);
        cr_assert_str_eq(out.data, "{4}\r\na\r\nb");
        buf_reset(&out);
        imap_fetch_append_string(&out, "lone\rcr", 7);
        cr_assert_str_eq(out.data, "{7}\r\nlone\rcr");
}

Test(fetch_string, nul_goes_literal)
{
        imap_fetch_append_string(&out, "a\0b", 3);
        cr_assert_eq(out.len, 8);
        cr_assert(memcmp(out.data, "{3}\r\na\0b", 8) == 0);
}

Test(fetch_string, upper_touches_ascii_letters_only)
{
        imap_fetch_append_nstring_upper(&out, "text");
        buf_append_char(&out, ' ');
        imap_fetch_append_nstring_upper(&out, "x-m\xc3\xa4il");
        buf_append_char(&out, ' ');
        imap_fetch_append_nstring_upper(&out, NULL);
        cr_assert_str_eq(out.data, "\"TEXT\" {7}\r\nX-M\xc3\xa4IL NIL");
}

Test(fetch_string, long_value_upper)
{
        char big[400];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        imap_fetch_append_nstring_upper(&out, big);
        cr_assert_eq(out.len, 401);
        cr_assert_eq(out.data[1], 'A');
        cr_assert_eq(out.data[399], 'A');
}

Test(fetch_string, astring_atom_or_quoted)
{
        imap_fetch_append_astring(&out, "Message-ID");
        buf_append_char(&out, ' ');
        imap_fetch_append_astring(&out, "X]Y");
        buf_append_char(&out, ' ');
        imap_fetch_append_astring(&out, "a b");
        buf_append_char(&out, ' ');
        imap_fetch_append_astring(&out, "");
        buf_append_char(&out, ' ');
        imap_fetch_append_astring(&out, "nil");
        cr_assert_str_eq(out.data, "Message-ID \"X]Y\" \"a b\" \"\" \"nil\"");
}

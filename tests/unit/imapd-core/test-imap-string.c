/* test-imap-string.c - imapd/imap-string.c: the one NIL / atom / quoted /
 * literal writer behind reply.c and the FETCH renderers. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "imap-string.h"

static struct buf out;

static void setup(void)
{
        buf_init(&out, 0);
}

static void teardown(void)
{
        buf_free(&out);
}

TestSuite(imap_string, .init = setup, .fini = teardown);

static const char *text(void)
{
        buf_append_char(&out, '\0');
        return out.data;
}

Test(imap_string, quoted_escaped)
{
        imap_string_append(&out, "a \"b\" \\c", 8);
        cr_assert_str_eq(text(), "\"a \\\"b\\\" \\\\c\"");
}

Test(imap_string, literal_for_8bit_ctl_and_length)
{
        imap_string_append(&out, "x\r\ny", 4);
        buf_append_char(&out, ' ');
        imap_string_append(&out, "caf\xc3\xa9", 5);
        buf_append_char(&out, ' ');
        imap_string_append(&out, "a\0b", 3);
        static const char expect[] = "{4}\r\nx\r\ny {5}\r\ncaf\xc3\xa9 {3}\r\na\0b";
        cr_assert_eq(out.len, sizeof(expect) - 1);
        cr_assert(memcmp(out.data, expect, out.len) == 0);

        char big[IMAP_STRING_MAX_QUOTED + 1];
        memset(big, 'q', sizeof(big));
        cr_assert(imap_string_quotable(big, IMAP_STRING_MAX_QUOTED));
        cr_assert(!imap_string_quotable(big, sizeof(big)));
        buf_reset(&out);
        imap_string_append(&out, big, sizeof(big));
        cr_assert_eq(out.len, 8 + sizeof(big));
        cr_assert(memcmp(out.data, "{1025}\r\nqq", 10) == 0);
}

Test(imap_string, upper_quoted_and_literal)
{
        imap_string_append_upper(&out, "text/x-\"q\"", 10);
        buf_append_char(&out, ' ');
        imap_string_append_upper(&out, "m\xc3\xa4il", 5);
        cr_assert_str_eq(text(), "\"TEXT/X-\\\"Q\\\"\" {5}\r\nM\xc3\xa4IL");
}

Test(imap_string, nstring_and_astring)
{
        imap_nstring_append(&out, NULL, 0);
        buf_append_char(&out, ' ');
        imap_nstring_append(&out, "", 0);
        buf_append_char(&out, ' ');
        imap_astring_append(&out, "INBOX.Sent");
        buf_append_char(&out, ' ');
        imap_astring_append(&out, "nil");
        buf_append_char(&out, ' ');
        imap_astring_append(&out, "a]b");
        buf_append_char(&out, ' ');
        imap_astring_append(&out, "a b");
        buf_append_char(&out, ' ');
        imap_astring_append(&out, "");
        cr_assert_str_eq(text(), "NIL \"\" INBOX.Sent \"nil\" \"a]b\" \"a b\" \"\"");
}

Test(imap_string, atom_rule)
{
        const char *atoms[] = { "X-Y", "Message-ID", "a.b/c", "NILS", "\\Seen" + 1 };
        const char *not_atoms[] = { "", "NiL", "a(b", "a)", "a{", "%", "*", "\"", "\\x",
                                    "a]", "a b", "\x7f", "\xc3\xa9", "\t" };
        for (size_t i = 0; i < sizeof(atoms) / sizeof(atoms[0]); i++)
                cr_assert(imap_string_is_atom(atoms[i]), "%s", atoms[i]);
        for (size_t i = 0; i < sizeof(not_atoms) / sizeof(not_atoms[0]); i++)
                cr_assert(!imap_string_is_atom(not_atoms[i]), "%s", not_atoms[i]);
}

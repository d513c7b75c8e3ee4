/* test-fetch-envelope.c - ENVELOPE on corpus messages: field order, NIL,
 * Sender/Reply-To defaults, groups, routes, missing domains, quoting. */
#include <criterion/criterion.h>

#include "fetch-test.h"

TestSuite(fetch_envelope, .init = ftest_setup, .fini = ftest_teardown);

static const char *envelope_of(const char *name)
{
        size_t len;
        const char *msg = ftest_load(name, &len);
        return ftest_envelope(ftest_tree(msg, len));
}

Test(fetch_envelope, simple_defaults_sender_and_reply_to)
{
        cr_assert_str_eq(envelope_of("mime/simple-text.eml"),
                "(\"Tue, 5 Mar 2024 09:59:58 +0100\" \"Lunch tomorrow?\" "
                "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
                "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
                "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
                "((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL "
                "\"<20240305095958.1234@example.org>\")");
}

Test(fetch_envelope, groups_routes_and_missing_domain)
{
        cr_assert_str_eq(envelope_of("mime/group.eml"),
                "(NIL \"Groups\" "
                "((\"Mary Smith\" NIL \"mary\" \"x.test\")) "
                "((NIL NIL \"local-only\" \".MISSING-HOST-NAME.\")) "
                "((NIL \"@route1,@route2\" \"jdoe\" \"example.org\")) "
                "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
                "(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")"
                "(NIL NIL NIL NIL)) "
                "((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) "
                "((\"Pete Silly\" NIL \"pete\" \"silly.test\")"
                "(\"Giant; \\\"Big\\\" Box\" NIL \"sysservices\" \"example.net\")) "
                "NIL NIL)");
}

Test(fetch_envelope, encoded_words_stay_encoded)
{
        const char *env = envelope_of("mime/encoded-words.eml");
        cr_assert_str_eq(env,
                "(\"Fri, 8 Mar 2024 11:11:11 +0100\" "
                "\"=?utf-8?B?R3LDvMOfZSBhdXM=?= =?utf-8?Q?_K=C3=B6ln?=\" "
                "((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) "
                "((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) "
                "((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) "
                "((\"=?utf-8?B?SsO2cmc=?=\" NIL \"joerg\" \"example.de\")"
                "(\"Quoted, Name\" NIL \"q\" \"example.com\")) "
                "((\"Keith Moore\" NIL \"moore\" \"cs.utk.edu\")) NIL NIL NIL)");
}

Test(fetch_envelope, quoting_literals_and_empty_fields)
{
        /* The 8-bit subject and name need literals; the empty Reply-To and
           the null Sender "<>" (no name, so no address) default to From. */
        cr_assert_str_eq(envelope_of("quoting.eml"),
                "(NIL {21}\r\na \"quoted\" \\ word \xe2\x82\xac "
                "(({12}\r\nZo\xc3\xab \"Z\" Doe NIL \"zoe\" \"example.org\")) "
                "(({12}\r\nZo\xc3\xab \"Z\" Doe NIL \"zoe\" \"example.org\")) "
                "(({12}\r\nZo\xc3\xab \"Z\" Doe NIL \"zoe\" \"example.org\")) "
                "((\"back\\\\slash\" NIL \"b\" \"example.com\")) NIL NIL "
                "\"<prev@example.org>\" NIL)");
}

Test(fetch_envelope, nested_message_envelope)
{
        size_t len;
        const char *msg = ftest_load("mime/rfc822-attach.eml", &len);
        const struct mime_part *root = ftest_tree(msg, len);
        const struct mime_part *part;

        cr_assert(mime_part_find_section(root, "2", &part));
        cr_assert_not_null(part->children);
        cr_assert_str_eq(ftest_envelope(part->children),
                "(\"Mon, 4 Mar 2024 17:30:00 +0000\" \"original\" "
                "((\"Ivan\" NIL \"ivan\" \"example.net\")) "
                "((\"Ivan\" NIL \"ivan\" \"example.net\")) "
                "((\"Ivan\" NIL \"ivan\" \"example.net\")) "
                "((NIL NIL \"gina\" \"example.org\")) NIL NIL "
                "\"<earlier@example.org>\" \"<orig-1@example.net>\")");
}

Test(fetch_envelope, null_envelope_is_all_nil)
{
        size_t len;
        const char *msg = ftest_load("mime/nested.eml", &len);
        const struct mime_part *root = ftest_tree(msg, len);
        /* A body part has no envelope of its own. */
        cr_assert_str_eq(ftest_envelope(root->children),
                         "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

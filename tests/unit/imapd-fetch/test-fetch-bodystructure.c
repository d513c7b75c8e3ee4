/* test-fetch-bodystructure.c - BODY and BODYSTRUCTURE on a corpus of MIME
 * shapes: single parts, alternatives, attachments with every extension
 * field, nesting, message/rfc822 (inside a multipart, as the message
 * itself, in a digest), RFC 2231 and 8-bit parameters, broken multiparts,
 * bare LF, a header without body. Sizes and line counts were checked by
 * hand against the corpus bytes. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "fetch-test.h"
#include "pool.h"

TestSuite(fetch_body, .init = ftest_setup, .fini = ftest_teardown);

static const struct {
        const char *name;
        const char *body;       /* FETCH BODY */
        const char *bs;         /* FETCH BODYSTRUCTURE */
} cases[] = {
        { "mime/simple-text.eml",
          .body = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 50 3)",
          .bs = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 50 3 NIL NIL"
            " NIL NIL)",
        },
        { "mime/alternative.eml",
          .body = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 47"
            " 1)(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" "
            "54 1) \"ALTERNATIVE\")",
          .bs = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 47"
            " 1 NIL NIL NIL NIL)(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL "
            "\"QUOTED-PRINTABLE\" 54 1 NIL NIL NIL NIL) \"ALTERNATIVE\" (\"BOUNDARY\" "
            "\"=_alt_7f3a\") NIL NIL NIL)",
        },
        { "mime/mixed-attach.eml",
          .body = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\" \"FORMAT\" \"flowed\") NIL "
            "NIL \"7BIT\" 24 1)(\"APPLICATION\" \"PDF\" (\"NAME\" \"report.pdf\") "
            "\"<part2.report@example.org>\" \"Quarterly report\" \"BASE64\" 66) "
            "\"MIXED\")",
          .bs = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\" \"FORMAT\" \"flowed\") NIL "
            "NIL \"7BIT\" 24 1 NIL NIL NIL NIL)(\"APPLICATION\" \"PDF\" (\"NAME\" "
            "\"report.pdf\") \"<part2.report@example.org>\" \"Quarterly report\" "
            "\"BASE64\" 66 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"ATTACHMENT\" (\"FILENAME\" "
            "\"report.pdf\" \"SIZE\" \"24\")) (\"en\" \"de\") "
            "\"http://example.org/reports/q1.pdf\") \"MIXED\" (\"BOUNDARY\" \"mix-b1\") "
            "NIL NIL NIL)",
        },
        { "mime/nested.eml",
          .body = "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 "
            "1)((\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 20 "
            "1)(\"IMAGE\" \"PNG\" NIL \"<logo>\" NIL \"BASE64\" 12) \"RELATED\") "
            "\"ALTERNATIVE\")(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" 5) "
            "\"MIXED\")",
          .bs = "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL "
            "NIL NIL NIL)((\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
            "20 1 NIL NIL NIL NIL)(\"IMAGE\" \"PNG\" NIL \"<logo>\" NIL \"BASE64\" 12 NIL"
            " NIL NIL NIL) \"RELATED\" (\"BOUNDARY\" \"rel\") NIL NIL NIL) "
            "\"ALTERNATIVE\" (\"BOUNDARY\" \"inner\") NIL NIL NIL)(\"APPLICATION\" "
            "\"OCTET-STREAM\" NIL NIL NIL \"7BIT\" 5 NIL NIL NIL NIL) \"MIXED\" "
            "(\"BOUNDARY\" \"outer\") NIL NIL NIL)",
        },
        { "mime/rfc822-attach.eml",
          .body = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 16 "
            "1)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 373 (\"Mon, 4 Mar 2024 "
            "17:30:00 +0000\" \"original\" ((\"Ivan\" NIL \"ivan\" \"example.net\")) "
            "((\"Ivan\" NIL \"ivan\" \"example.net\")) ((\"Ivan\" NIL \"ivan\" "
            "\"example.net\")) ((NIL NIL \"gina\" \"example.org\")) NIL NIL "
            "\"<earlier@example.org>\" \"<orig-1@example.net>\") ((\"TEXT\" \"PLAIN\" "
            "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 1)(\"TEXT\" \"HTML\" "
            "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 1) \"ALTERNATIVE\") 18) "
            "\"MIXED\")",
          .bs = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 16 1 NIL "
            "NIL NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 373 (\"Mon, 4 Mar "
            "2024 17:30:00 +0000\" \"original\" ((\"Ivan\" NIL \"ivan\" \"example.net\"))"
            " ((\"Ivan\" NIL \"ivan\" \"example.net\")) ((\"Ivan\" NIL \"ivan\" "
            "\"example.net\")) ((NIL NIL \"gina\" \"example.org\")) NIL NIL "
            "\"<earlier@example.org>\" \"<orig-1@example.net>\") ((\"TEXT\" \"PLAIN\" "
            "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)(\"TEXT\" "
            "\"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL NIL) "
            "\"ALTERNATIVE\" (\"BOUNDARY\" \"orig-alt\") NIL NIL NIL) 18 NIL (\"INLINE\" "
            "NIL) NIL NIL) \"MIXED\" (\"BOUNDARY\" \"fwd\") NIL NIL NIL)",
        },
        { "mime/digest.eml",
          .body = "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 52 (NIL \"first\" ((NIL NIL "
            "\"a\" \"example.org\")) ((NIL NIL \"a\" \"example.org\")) ((NIL NIL \"a\" "
            "\"example.org\")) NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" "
            "\"us-ascii\") NIL NIL \"7BIT\" 13 1) 4)(\"MESSAGE\" \"RFC822\" NIL NIL NIL "
            "\"7BIT\" 54 (NIL \"second\" ((NIL NIL \"b\" \"example.org\")) ((NIL NIL "
            "\"b\" \"example.org\")) ((NIL NIL \"b\" \"example.org\")) NIL NIL NIL NIL "
            "NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 1) "
            "4)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 13 1) "
            "\"DIGEST\")",
          .bs = "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 52 (NIL \"first\" ((NIL NIL "
            "\"a\" \"example.org\")) ((NIL NIL \"a\" \"example.org\")) ((NIL NIL \"a\" "
            "\"example.org\")) NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" "
            "\"us-ascii\") NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL) 4 NIL NIL NIL "
            "NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 54 (NIL \"second\" ((NIL "
            "NIL \"b\" \"example.org\")) ((NIL NIL \"b\" \"example.org\")) ((NIL NIL "
            "\"b\" \"example.org\")) NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" "
            "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 1 NIL NIL NIL NIL) 4 NIL NIL "
            "NIL NIL)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 13 1"
            " NIL NIL NIL NIL) \"DIGEST\" (\"BOUNDARY\" \"dig\") NIL NIL NIL)",
        },
        { "mime/rfc2231.eml",
          .body = "((\"APPLICATION\" \"OCTET-STREAM\" (\"NAME*\" "
            "\"utf-8''r%C3%A9sum%C3%A9.txt\") NIL NIL \"7BIT\" 4) \"MIXED\")",
          .bs = "((\"APPLICATION\" \"OCTET-STREAM\" (\"NAME*\" "
            "\"utf-8''r%C3%A9sum%C3%A9.txt\") NIL NIL \"7BIT\" 4 NIL (\"ATTACHMENT\" "
            "(\"FILENAME*\" \"utf-8'en'%E2%82%AC%20rates%20for%202024.pdf\")) NIL NIL) "
            "\"MIXED\" (\"BOUNDARY\" \"b2231\") NIL NIL NIL)",
        },
        { "mime/no-boundary.eml",
          .body = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0) "
            "\"MIXED\")",
          .bs = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL NIL"
            " NIL NIL) \"MIXED\" (\"BOUNDARY\" \"ghost\") NIL NIL NIL)",
        },
        { "mime/8bit.eml",
          .body = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"8BIT\" 44 2)",
          .bs = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"8BIT\" 44 2 NIL NIL "
            "NIL NIL)",
        },
        { "mime/bare-lf.eml",
          .body = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 17 "
            "2)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 19 1) "
            "\"MIXED\")",
          .bs = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 17 2 NIL "
            "NIL NIL NIL)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
            "19 1 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"lf\") NIL NIL NIL)",
        },
        { "mime/missing-final.eml",
          .body = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 8 "
            "1)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 38 1) "
            "\"MIXED\")",
          .bs = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 8 1 NIL NIL"
            " NIL NIL)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 38 "
            "1 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"never-closed\") NIL NIL NIL)",
        },
        { "mime/garbage-headers.eml",
          .body = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\") NIL NIL \"7BIT\" 14 1)",
          .bs = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\") NIL NIL \"7BIT\" 14 1 NIL "
            "NIL NIL NIL)",
        },
        { "message-root.eml",
          .body = "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 188 (NIL \"inner\" ((NIL NIL "
            "\"inner\" \"example.org\")) ((NIL NIL \"inner\" \"example.org\")) ((NIL NIL "
            "\"inner\" \"example.org\")) NIL NIL NIL NIL NIL) ((\"TEXT\" \"PLAIN\" "
            "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 1)(\"TEXT\" \"HTML\" "
            "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 11 1) \"ALTERNATIVE\") 13)",
          .bs = "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 188 (NIL \"inner\" ((NIL NIL "
            "\"inner\" \"example.org\")) ((NIL NIL \"inner\" \"example.org\")) ((NIL NIL "
            "\"inner\" \"example.org\")) NIL NIL NIL NIL NIL) ((\"TEXT\" \"PLAIN\" "
            "(\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)(\"TEXT\" "
            "\"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 11 1 NIL NIL NIL NIL) "
            "\"ALTERNATIVE\" (\"BOUNDARY\" \"in\") NIL NIL NIL) 13 NIL NIL NIL NIL)",
        },
        { "quoting.eml",
          .body = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\" \"NAME*\" "
            "\"utf-8''caf%C3%A9.txt\") NIL {5}\r\ncaf\xc3""\xa9"" \"8BIT\" 7 1)",
          .bs = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\" \"NAME*\" "
            "\"utf-8''caf%C3%A9.txt\") NIL {5}\r\ncaf\xc3""\xa9"" \"8BIT\" 7 1 NIL NIL "
            "NIL NIL)",
        },
        { "rfc822-single.eml",
          .body = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 9 "
            "1)(\"MESSAGE\" \"RFC822\" NIL NIL \"the original\" \"7BIT\" 86 (NIL "
            "\"inner\" ((NIL NIL \"c\" \"example.org\")) ((NIL NIL \"c\" "
            "\"example.org\")) ((NIL NIL \"c\" \"example.org\")) NIL NIL NIL NIL NIL) "
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 26 2) 7) "
            "\"MIXED\")",
          .bs = "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 9 1 NIL NIL"
            " NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL \"the original\" \"7BIT\" 86 (NIL "
            "\"inner\" ((NIL NIL \"c\" \"example.org\")) ((NIL NIL \"c\" "
            "\"example.org\")) ((NIL NIL \"c\" \"example.org\")) NIL NIL NIL NIL NIL) "
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 26 2 NIL NIL"
            " NIL NIL) 7 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"B\") NIL NIL NIL)",
        },
        { "header-only.eml",
          .body = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)",
          .bs = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL NIL "
            "NIL NIL)",
        },
};

Test(fetch_body, corpus_shapes)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                size_t len;
                const char *msg = ftest_load(cases[i].name, &len);
                const struct mime_part *root = ftest_tree(msg, len);
                cr_assert_str_eq(ftest_body(root, false), cases[i].body, "BODY of %s",
                                 cases[i].name);
                cr_assert_str_eq(ftest_body(root, true), cases[i].bs, "BODYSTRUCTURE of %s",
                                 cases[i].name);
        }
}

/* Builds a message of `depth` nested multiparts around one text part. */
static const char *deep_message(unsigned depth, size_t *len_r)
{
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "Subject: deep\r\n");
        for (unsigned i = 0; i < depth; i++)
                buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%u\r\n\r\n--b%u\r\n",
                           i, i);
        buf_append_str(&b, "Content-Type: text/plain\r\n\r\nleaf\r\n");
        for (unsigned i = depth; i-- > 0;)
                buf_printf(&b, "--b%u--\r\n", i);
        const char *msg = pool_strndup(test_pool, b.data, b.len);
        *len_r = b.len;
        buf_free(&b);
        return msg;
}

static unsigned count_char(const char *s, char c)
{
        unsigned n = 0;
        for (; *s != '\0'; s++)
                n += *s == c;
        return n;
}

Test(fetch_body, deep_nesting_balanced)
{
        /* The parser stops nesting at its depth limit; whatever tree it
           gives, the output stays balanced and ends in the leaf or in the
           part where parsing stopped. */
        size_t len;
        const char *msg = deep_message(40, &len);
        const struct mime_part *root = ftest_tree(msg, len);
        const char *bs = ftest_body(root, true);
        cr_assert_eq(count_char(bs, '('), count_char(bs, ')'));
        cr_assert_not_null(strstr(bs, "\"MIXED\" (\"BOUNDARY\" \"b0\")"));
        cr_assert_eq(strncmp(bs, "((((", 4), 0);
}

Test(fetch_body, depth_guard_renders_basic_part)
{
        /* A tree deeper than IMAP_FETCH_MAX_DEPTH (possible only from a blob
           written with other limits) ends in a basic part, still balanced. */
        struct mime_part parts[IMAP_FETCH_MAX_DEPTH + 4];
        memset(parts, 0, sizeof(parts));
        size_t n = sizeof(parts) / sizeof(parts[0]);
        for (size_t i = 0; i < n; i++) {
                parts[i].type = i + 1 < n ? "multipart" : "text";
                parts[i].subtype = i + 1 < n ? "mixed" : "plain";
                parts[i].encoding = "7bit";
                parts[i].parent = i > 0 ? &parts[i - 1] : NULL;
                parts[i].children = i + 1 < n ? &parts[i + 1] : NULL;
                parts[i].child_count = i + 1 < n ? 1 : 0;
        }
        const char *bs = ftest_body(&parts[0], true);
        cr_assert_eq(count_char(bs, '('), count_char(bs, ')'));
        cr_assert_not_null(strstr(bs, "(\"MULTIPART\" \"MIXED\" NIL NIL NIL \"7BIT\" 0 NIL"));
        cr_assert_null(strstr(bs, "\"TEXT\""));
}

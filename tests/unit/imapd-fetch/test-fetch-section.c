/* test-fetch-section.c - BODY[section]<partial>: spec grammar, reply names,
 * resolution on corpus shapes (RFC 3501 §6.4.5 numbering, message/rfc822
 * semantics, nonexistent parts), HEADER.FIELDS and partial windows. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "fetch-test.h"
#include "pool.h"

TestSuite(fetch_section, .init = ftest_setup, .fini = ftest_teardown);

static int parse(const char *spec, struct imap_section *sec)
{
        const char *error = NULL;
        memset(sec, 0, sizeof(*sec));
        int ret = imap_section_parse_spec(test_pool, spec, strlen(spec), sec, &error);
        if (ret < 0)
                cr_assert_not_null(error);
        return ret;
}

Test(fetch_section, parse_good_specs)
{
        static const struct {
                const char *spec, *part;
                enum imap_section_text text;
        } cases[] = {
                { "", "", IMAP_SECTION_ALL },
                { "1", "1", IMAP_SECTION_ALL },
                { "1.2.3", "1.2.3", IMAP_SECTION_ALL },
                { "header", "", IMAP_SECTION_HEADER },
                { "HEADER.FIELDS", "", IMAP_SECTION_HEADER_FIELDS },
                { "Header.Fields.Not", "", IMAP_SECTION_HEADER_FIELDS_NOT },
                { "TEXT", "", IMAP_SECTION_TEXT },
                { "1.MIME", "1", IMAP_SECTION_MIME },
                { "2.HEADER", "2", IMAP_SECTION_HEADER },
                { "10.20.text", "10.20", IMAP_SECTION_TEXT },
                { "4294967295", "4294967295", IMAP_SECTION_ALL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct imap_section sec;
                cr_assert_eq(parse(cases[i].spec, &sec), 0, "%s", cases[i].spec);
                cr_assert_str_eq(sec.part, cases[i].part);
                cr_assert_eq(sec.text, cases[i].text, "%s", cases[i].spec);
        }
}

Test(fetch_section, parse_bad_specs)
{
        static const char *bad[] = {
                "0", "1.0", "01", "MIME", "1.", ".1", "1..2", "HEADERS", "1.2.FOO",
                "4294967296", "1 .2", "TEXT.1", "HEADER.", "1.HEADER.FIELDS.NOTX", " ",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct imap_section sec;
                cr_assert_eq(parse(bad[i], &sec), -1, "'%s' accepted", bad[i]);
        }
}

Test(fetch_section, part_depth_bounded)
{
        struct buf b;
        struct imap_section sec;
        buf_init(&b, 0);
        buf_append_str(&b, "1");
        for (unsigned i = 1; i < IMAP_SECTION_MAX_PARTS; i++)
                buf_append_str(&b, ".1");
        cr_assert_eq(parse(b.data, &sec), 0);
        buf_append_str(&b, ".1");
        cr_assert_eq(parse(b.data, &sec), -1);
        buf_free(&b);
}

Test(fetch_section, fields_checked)
{
        struct imap_section sec;
        const char *error;
        const char *good[] = { "From", "X-Long-Name_1" };
        const char *empty[] = { "" };
        const char *space[] = { "From", "Sub ject" };
        const char *colon[] = { "From:" };
        const char *eight[] = { "F\xc3\xa4" };
        char long_name[IMAP_SECTION_MAX_FIELD + 2];
        memset(long_name, 'x', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        const char *too_long[] = { long_name };

        cr_assert_eq(parse("HEADER.FIELDS", &sec), 0);
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, good, 0, &error), -1);
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, empty, 1, &error), -1);
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, space, 2, &error), -1);
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, colon, 1, &error), -1);
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, eight, 1, &error), -1);
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, too_long, 1, &error), -1);
        long_name[IMAP_SECTION_MAX_FIELD] = '\0';
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, too_long, 1, &error), 0);
        cr_assert_eq(imap_section_set_fields(test_pool, &sec, good, 2, &error), 0);
        cr_assert_eq(sec.field_count, 2);
        cr_assert_str_eq(sec.fields[1], "X-Long-Name_1");
}

Test(fetch_section, partial_parse)
{
        struct imap_section sec = { .partial = false };
        const char *error;
        static const char *bad[] = {
                "<0.0>", "<1>", "<a.b>", "0.10", "<4294967296.1>", "<1.4294967296>",
                "<1.2.3>", "<.1>", "<1.>", "<-1.2>", "<1.2", "1.2>", "<>", "<+1.2>",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert_eq(imap_section_parse_partial(bad[i], strlen(bad[i]), &sec,
                                                        &error), -1, "%s", bad[i]);
        cr_assert_not(sec.partial);
        cr_assert_eq(imap_section_parse_partial("<4294967295.4294967295>", 23, &sec,
                                                &error), 0);
        cr_assert_eq(sec.origin, 4294967295u);
        cr_assert_eq(sec.count, 4294967295u);
        cr_assert_eq(imap_section_parse_partial("<0.10>", 6, &sec, &error), 0);
        cr_assert(sec.partial);
        cr_assert_eq(sec.origin, 0);
        cr_assert_eq(sec.count, 10);
}

Test(fetch_section, clip)
{
        struct imap_section sec = { .partial = false };
        uint64_t skip, len;

        imap_section_clip(&sec, 100, &skip, &len);
        cr_assert(skip == 0 && len == 100);
        sec.partial = true;
        sec.origin = 10;
        sec.count = 20;
        imap_section_clip(&sec, 100, &skip, &len);
        cr_assert(skip == 10 && len == 20);
        imap_section_clip(&sec, 25, &skip, &len);
        cr_assert(skip == 10 && len == 15);
        imap_section_clip(&sec, 10, &skip, &len);
        cr_assert(len == 0);
        imap_section_clip(&sec, 0, &skip, &len);
        cr_assert(len == 0);
}

static const char *name_of(const char *spec, const char *const *fields, const char *partial)
{
        struct imap_section sec;
        const char *error;
        struct buf b;

        cr_assert_eq(parse(spec, &sec), 0);
        if (fields != NULL) {
                unsigned n = 0;
                while (fields[n] != NULL)
                        n++;
                cr_assert_eq(imap_section_set_fields(test_pool, &sec, fields, n, &error), 0);
        }
        if (partial != NULL)
                cr_assert_eq(imap_section_parse_partial(partial, strlen(partial), &sec,
                                                        &error), 0);
        buf_init(&b, 0);
        imap_section_append_name(&b, &sec);
        const char *s = pool_strdup(test_pool, b.data);
        buf_free(&b);
        return s;
}

Test(fetch_section, reply_names)
{
        const char *fields[] = { "From", "message-id", NULL };
        cr_assert_str_eq(name_of("", NULL, NULL), "[]");
        cr_assert_str_eq(name_of("1.2", NULL, "<5.10>"), "[1.2]<5>");
        cr_assert_str_eq(name_of("text", NULL, NULL), "[TEXT]");
        cr_assert_str_eq(name_of("3.mime", NULL, NULL), "[3.MIME]");
        cr_assert_str_eq(name_of("header.fields", fields, NULL),
                         "[HEADER.FIELDS (From message-id)]");
        cr_assert_str_eq(name_of("2.HEADER.FIELDS.NOT", fields, "<0.1>"),
                         "[2.HEADER.FIELDS.NOT (From message-id)]<0>");
}

/* ---- resolution ---- */

static const char *msg;
static const struct mime_part *root;

static void load(const char *name)
{
        size_t len;
        msg = ftest_load(name, &len);
        root = ftest_tree(msg, len);
}

static const char *sect(const char *spec, const char *const *fields, const char *partial)
{
        size_t len;
        const char *s = ftest_section(msg, root, spec, fields, partial, &len);
        cr_assert_eq(strlen(s), len);
        return s;
}

Test(fetch_section, top_level)
{
        load("mime/simple-text.eml");
        const char *body = strstr(msg, "\r\n\r\n") + 4;
        cr_assert_str_eq(sect("", NULL, NULL), msg);
        cr_assert_str_eq(sect("TEXT", NULL, NULL), body);
        cr_assert_str_eq(sect("HEADER", NULL, NULL),
                         pool_strndup(test_pool, msg, (size_t)(body - msg)));
        /* A non-multipart message's part 1 is its body (RFC 3501 §6.4.5). */
        cr_assert_str_eq(sect("1", NULL, NULL), body);
        cr_assert_str_eq(sect("2", NULL, NULL), "");
        cr_assert_str_eq(sect("1.1", NULL, NULL), "");
        /* HEADER after a part number needs a message/rfc822 part. */
        cr_assert_str_eq(sect("1.HEADER", NULL, NULL), "");
        cr_assert_str_eq(sect("1.TEXT", NULL, NULL), "");
}

Test(fetch_section, multipart_with_rfc822)
{
        load("mime/rfc822-attach.eml");
        const char *inner = strstr(msg, "From: Ivan");
        const char *inner_end = strstr(msg, "\r\n--fwd--");
        const char *inner_body = strstr(inner, "\r\n\r\n") + 4;

        cr_assert_str_eq(sect("1", NULL, NULL), "Forwarding this.");
        cr_assert_str_eq(sect("1.MIME", NULL, NULL), "Content-Type: text/plain\r\n\r\n");
        cr_assert_str_eq(sect("2", NULL, NULL),
                         pool_strndup(test_pool, inner, (size_t)(inner_end - inner)));
        cr_assert_str_eq(sect("2.MIME", NULL, NULL),
                         "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n");
        cr_assert_str_eq(sect("2.HEADER", NULL, NULL),
                         pool_strndup(test_pool, inner, (size_t)(inner_body - inner)));
        cr_assert_str_eq(sect("2.TEXT", NULL, NULL),
                         pool_strndup(test_pool, inner_body,
                                      (size_t)(inner_end - inner_body)));
        cr_assert_str_eq(sect("2.1", NULL, NULL), "hello");
        cr_assert_str_eq(sect("2.2", NULL, NULL), "<b>hello</b>");
        cr_assert_str_eq(sect("2.2.MIME", NULL, NULL), "Content-Type: text/html\r\n\r\n");
        cr_assert_str_eq(sect("2.3", NULL, NULL), "");
        cr_assert_str_eq(sect("3", NULL, NULL), "");
        cr_assert_str_eq(sect("3.MIME", NULL, NULL), "");
        cr_assert_str_eq(sect("1.HEADER", NULL, NULL), "");
        cr_assert_str_eq(sect("2.1.TEXT", NULL, NULL), "");
        const char *subject[] = { "subject", NULL };
        cr_assert_str_eq(sect("2.HEADER.FIELDS", subject, NULL), "Subject: original\r\n\r\n");
        cr_assert_str_eq(sect("HEADER.FIELDS", subject, NULL), "Subject: Fwd: original\r\n\r\n");
        cr_assert_str_eq(sect("1.HEADER.FIELDS", subject, NULL), "");
}

Test(fetch_section, rfc822_with_single_part)
{
        load("rfc822-single.eml");
        cr_assert_str_eq(sect("2.1", NULL, NULL), "inner line 1\r\ninner line 2");
        cr_assert_str_eq(sect("2.TEXT", NULL, NULL), "inner line 1\r\ninner line 2");
        cr_assert_str_eq(sect("2.1.MIME", NULL, NULL),
                         "From: c@example.org\r\nSubject: inner\r\nX-Extra: one\r\n  two\r\n\r\n");
        cr_assert_str_eq(sect("2.2", NULL, NULL), "");
        const char *extra[] = { "X-EXTRA", NULL };
        cr_assert_str_eq(sect("2.HEADER.FIELDS", extra, NULL), "X-Extra: one\r\n  two\r\n\r\n");
        cr_assert_str_eq(sect("2.HEADER.FIELDS.NOT", extra, NULL),
                         "From: c@example.org\r\nSubject: inner\r\n\r\n");
}

Test(fetch_section, message_root)
{
        /* The message itself is message/rfc822: part 1 is the encapsulated
           message and 1.n its parts. */
        load("message-root.eml");
        const char *inner = strstr(msg, "From: inner");
        cr_assert_str_eq(sect("1", NULL, NULL), inner);
        cr_assert_str_eq(sect("TEXT", NULL, NULL), inner);
        cr_assert_str_eq(sect("1.1", NULL, NULL), "plain");
        cr_assert_str_eq(sect("1.2", NULL, NULL), "<p>html</p>");
        cr_assert_str_eq(sect("1.2.MIME", NULL, NULL), "Content-Type: text/html\r\n\r\n");
        const char *subject[] = { "Subject", NULL };
        cr_assert_str_eq(sect("1.HEADER.FIELDS", subject, NULL), "Subject: inner\r\n\r\n");
        cr_assert_str_eq(sect("HEADER.FIELDS", subject, NULL), "Subject: outer\r\n\r\n");
}

Test(fetch_section, nested_multiparts)
{
        load("mime/nested.eml");
        cr_assert_str_eq(sect("1.1", NULL, NULL), "plain body");
        cr_assert_str_eq(sect("1.2.1", NULL, NULL), "<img src=\"cid:logo\">");
        cr_assert_str_eq(sect("1.2.2", NULL, NULL), "iVBORw0KGgo=");
        cr_assert_str_eq(sect("2", NULL, NULL), "bytes");
        cr_assert_str_eq(sect("1.2.2.MIME", NULL, NULL),
                         "Content-Type: image/png\r\nContent-ID: <logo>\r\n"
                         "Content-Transfer-Encoding: base64\r\n\r\n");
        cr_assert_str_eq(sect("1.2.3", NULL, NULL), "");
        cr_assert_str_eq(sect("1.2.1.1", NULL, NULL), "");
        cr_assert_str_eq(sect("1.2.HEADER", NULL, NULL), "");
}

Test(fetch_section, header_fields)
{
        load("headers.eml");
        const char *subject[] = { "SUBJECT", NULL };
        const char *folded[] = { "x-folded", "to", NULL };
        const char *not[] = { "Subject", "X-Folded", "Date", NULL };
        const char *none[] = { "X-Absent", NULL };
        cr_assert_str_eq(sect("HEADER.FIELDS", subject, NULL),
                         "Subject: headers\r\nsubject: second subject\r\n\r\n");
        cr_assert_str_eq(sect("HEADER.FIELDS", folded, NULL),
                         "X-Folded: first\r\n\tsecond\r\n\tthird\r\nTo: y@example.org\r\n\r\n");
        cr_assert_str_eq(sect("HEADER.FIELDS.NOT", not, NULL),
                         "From: x@example.org\r\nTo: y@example.org\r\nX-Empty:\r\n\r\n");
        cr_assert_str_eq(sect("HEADER.FIELDS", none, NULL), "\r\n");
}

Test(fetch_section, header_without_blank_line)
{
        load("header-only.eml");
        const char *from[] = { "From", NULL };
        cr_assert_str_eq(sect("HEADER", NULL, NULL), msg);
        cr_assert_str_eq(sect("TEXT", NULL, NULL), "");
        cr_assert_str_eq(sect("HEADER.FIELDS", from, NULL), "From: a@example.org\r\n");
}

Test(fetch_section, bare_lf_and_garbage_headers)
{
        load("mime/bare-lf.eml");
        const char *subject[] = { "Subject", NULL };
        cr_assert_str_eq(sect("HEADER.FIELDS", subject, NULL), "Subject: bare LF\n\n");
        cr_assert_str_eq(sect("1", NULL, NULL), "line one\nline two");
        cr_assert_str_eq(sect("2", NULL, NULL), "implicit text/plain");

        load("mime/garbage-headers.eml");
        const char *ct[] = { "content-type", NULL };
        cr_assert_str_eq(sect("HEADER.FIELDS", subject, NULL), "Subject : spaced colon\r\n\r\n");
        cr_assert_str_eq(sect("HEADER.FIELDS.NOT", ct, NULL),
                         "From: r@example.org\r\nX-Bin: \x01\x02\xff\r\n"
                         "Subject : spaced colon\r\n\r\n");
        cr_assert_str_eq(sect("HEADER.FIELDS", ct, NULL),
                         "Content-Type: text/plain; charset=\"iso-8859-1\"\r\n"
                         "Content-Type: text/html\r\n\r\n");
}

Test(fetch_section, partial_windows)
{
        load("mime/simple-text.eml");
        size_t len = strlen(msg);
        cr_assert_str_eq(sect("", NULL, "<0.12>"), "Return-Path:");
        cr_assert_str_eq(sect("TEXT", NULL, "<3.3>"), "Bob");
        cr_assert_str_eq(sect("TEXT", NULL, "<44.100>"), "lice\r\n");
        cr_assert_str_eq(sect("", NULL, pool_printf(test_pool, "<%zu.5>", len)), "");
        cr_assert_str_eq(sect("", NULL, pool_printf(test_pool, "<%zu.5>", len - 1)), "\n");
        const char *subject[] = { "Subject", NULL };
        cr_assert_str_eq(sect("HEADER.FIELDS", subject, "<9.5>"), "Lunch");
        cr_assert_str_eq(sect("HEADER.FIELDS", subject, "<9.4294967295>"),
                         "Lunch\r\n tomorrow?\r\n\r\n");
        cr_assert_str_eq(sect("3", NULL, "<0.10>"), "");
}

/* Unit tests for core/mime.c edge cases and limits: empty and headerless
 * input, boundary matching rules, over-long headers, deep nesting and huge
 * part counts (bounded), each also trickled by mtest_parse. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "mime-test.h"
#include "pool.h"

TestSuite(mime_limits, .init = mtest_setup, .fini = mtest_teardown);

static const struct mime_part *parse_str(const char *msg)
{
        return mtest_parse(msg, strlen(msg), NULL, NULL, NULL);
}

Test(mime_limits, empty_message)
{
        const struct mime_part *root = parse_str("");
        cr_assert_eq(root->header_size, 0);
        cr_assert_eq(root->body_size, 0);
        cr_assert_eq(root->body_lines, 0);
        cr_assert(mime_part_is(root, "text", "plain"));
        cr_assert_eq(root->flags, MIME_PART_FLAG_NO_HEADER_END);
        cr_assert_not_null(root->envelope);
        cr_assert_null(root->envelope->raw[MIME_ENV_SUBJECT]);
}

Test(mime_limits, header_only_without_newline)
{
        const char *msg = "Subject: no body\r\nFrom: a@b";
        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->header_size, strlen(msg));
        cr_assert_eq(root->body_offset, strlen(msg));
        cr_assert_eq(root->body_size, 0);
        cr_assert_str_eq(root->envelope->raw[MIME_ENV_FROM], "a@b");
        cr_assert_str_eq(root->envelope->raw[MIME_ENV_SUBJECT], "no body");
}

Test(mime_limits, no_header_at_all)
{
        const char *msg = "\r\nbody only\r\nsecond";
        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->header_size, 2);
        cr_assert_str_eq(mtest_body(msg, root), "body only\r\nsecond");
        cr_assert_eq(root->body_lines, 2);
        cr_assert_eq(root->flags, 0);
}

Test(mime_limits, text_without_header_block)
{
        /* No colon anywhere: lines are skipped as bad header lines and the
           whole message is header (no blank line). */
        const char *msg = "hello world\r\nthis is not a header";
        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->header_size, strlen(msg));
        cr_assert_eq(root->flags, MIME_PART_FLAG_BAD_HEADER | MIME_PART_FLAG_NO_HEADER_END);
}

Test(mime_limits, boundary_matching_rules)
{
        const char *msg =
                "Content-Type: multipart/mixed; boundary=ab\r\n\r\n"
                "--ab\r\n"
                "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
                "--a \t\r\n"            /* transport padding is allowed */
                "\r\n"
                "one\r\n"
                "--ax\r\n"              /* not a delimiter of "a" */
                "--ab\r\n"              /* outer delimiter ends "a" early */
                "Content-Type: text/plain\r\n"
                "--ab--\r\n";
        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->child_count, 2);
        const struct mime_part *inner = mtest_child(root, 0);
        cr_assert_eq(inner->child_count, 1);
        cr_assert_eq(inner->flags, MIME_PART_FLAG_UNTERMINATED);
        cr_assert_str_eq(mtest_body(msg, mtest_child(inner, 0)), "one\r\n--ax");
        const struct mime_part *hdr_only = mtest_child(root, 1);
        cr_assert_eq(hdr_only->flags, MIME_PART_FLAG_NO_HEADER_END);
        cr_assert_str_eq(mtest_header(msg, hdr_only), "Content-Type: text/plain");
        cr_assert_eq(hdr_only->body_size, 0);
        cr_assert_eq(root->flags, 0);
}

Test(mime_limits, delimiter_right_after_header_and_empty_parts)
{
        const char *msg =
                "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
                "--x\r\n"
                "\r\n"
                "--x\r\n"
                "--x--";
        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->child_count, 2);
        cr_assert_eq(mtest_child(root, 0)->header_size, 2);
        cr_assert_eq(mtest_child(root, 0)->body_size, 0);
        cr_assert_eq(mtest_child(root, 1)->header_size, 0);
        cr_assert_eq(root->flags, 0);
        cr_assert_eq(root->body_offset + root->body_size, strlen(msg));
}

Test(mime_limits, multipart_without_boundary_param)
{
        const char *msg = "Content-Type: multipart/mixed\r\n\r\n--x\r\ntext\r\n";
        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->child_count, 0);
        cr_assert_eq(root->flags, MIME_PART_FLAG_NO_BOUNDARY);
        cr_assert_eq(root->body_lines, 2);
}

Test(mime_limits, encoded_message_rfc822_is_opaque)
{
        const char *msg = "Content-Type: message/rfc822\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA==\r\n";
        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->child_count, 0);
        cr_assert_eq(root->flags, 0);
}

Test(mime_limits, invalid_content_type_defaults)
{
        const struct mime_part *root = parse_str("Content-Type: garbage\r\n\r\nx");
        cr_assert(mime_part_is(root, "text", "plain"));
        cr_assert_str_eq(root->params[0].value, "us-ascii");
        root = parse_str("Content-Type: text/\r\n\r\nx");
        cr_assert(mime_part_is(root, "text", "plain"));
        root = parse_str("Content-Type: (comment) Text / HTML (c) ; Charset = \"UTF-8\"\r\n\r\nx");
        cr_assert_str_eq(root->type, "text");
        cr_assert_str_eq(root->subtype, "html");
        cr_assert_str_eq(root->params[0].name, "charset");
        cr_assert_str_eq(root->params[0].value, "UTF-8");
}

Test(mime_limits, nul_bytes_and_lone_cr)
{
        const char msg[] = "Subject: a\0b\rc\r\n\r\nbody\rmore\0\r\n";
        const struct mime_part *root = mtest_parse(msg, sizeof(msg) - 1, NULL, NULL, NULL);
        cr_assert_str_eq(root->envelope->raw[MIME_ENV_SUBJECT], "ab\rc");
        cr_assert_eq(root->body_size, 12);
        cr_assert_eq(root->body_lines, 1);
}

static char *repeat(char c, size_t n)
{
        char *s = pool_alloc(test_pool, n + 1);
        memset(s, c, n);
        return s;
}

Test(mime_limits, extremely_long_header_is_dropped)
{
        char *x = repeat('x', 1000000);
        char *msg = pool_printf(test_pool, "Subject: %s\r\nFrom: a@b.c\r\n"
                                "Content-Type: text/html\r\n\r\nbody", x);
        const struct mime_part *root = parse_str(msg);
        cr_assert_null(root->envelope->raw[MIME_ENV_SUBJECT]);
        cr_assert_str_eq(root->envelope->raw[MIME_ENV_FROM], "a@b.c");
        cr_assert(mime_part_is(root, "text", "html"));
        cr_assert_eq(root->flags, MIME_PART_FLAG_BAD_HEADER);
        cr_assert_str_eq(mtest_body(msg, root), "body");
}

Test(mime_limits, long_folded_header)
{
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "Subject: start");
        for (int i = 0; i < 100; i++)
                buf_printf(&b, "\r\n %s", repeat('y', 1000));
        buf_append_str(&b, "\r\nTo: z@y.x\r\n\r\n");
        char *msg = pool_strdup(test_pool, b.data);
        buf_free(&b);
        const struct mime_part *root = parse_str(msg);
        cr_assert_null(root->envelope->raw[MIME_ENV_SUBJECT]);
        cr_assert_eq(root->envelope->addr[MIME_ENV_TO].count, 1);

        /* Within the limit, a long value is kept whole. */
        msg = pool_printf(test_pool, "Subject: %s\r\n\r\n", repeat('k', 60000));
        root = parse_str(msg);
        cr_assert_eq(strlen(root->envelope->raw[MIME_ENV_SUBJECT]), 60000);
        cr_assert_eq(root->flags, 0);
}

Test(mime_limits, custom_header_limits)
{
        struct mime_limits lim = { .max_headers = 3, .max_header_line = 20 };
        const char *msg = "Subject: 0123456789012345678901234\r\nX-A: 1\r\n"
                          "To: a@b\r\nFrom: c@d\r\n\r\n";
        const struct mime_part *root = mtest_parse(msg, strlen(msg), &lim, NULL, NULL);
        cr_assert_null(root->envelope->raw[MIME_ENV_SUBJECT]);
        cr_assert_str_eq(root->envelope->raw[MIME_ENV_TO], "a@b");
        cr_assert_null(root->envelope->raw[MIME_ENV_FROM]);
        cr_assert_eq(root->flags, MIME_PART_FLAG_BAD_HEADER);
}

Test(mime_limits, many_header_fields)
{
        struct buf b;
        buf_init(&b, 0);
        for (int i = 0; i < 3000; i++)
                buf_printf(&b, "X-Filler-%d: %d\r\n", i, i);
        buf_append_str(&b, "Subject: too late\r\n\r\nbody\r\n");
        char *msg = pool_strdup(test_pool, b.data);
        buf_free(&b);
        const struct mime_part *root = parse_str(msg);
        cr_assert_null(root->envelope->raw[MIME_ENV_SUBJECT]);
        cr_assert_eq(root->flags, MIME_PART_FLAG_BAD_HEADER);
        cr_assert_str_eq(mtest_body(msg, root), "body\r\n");
}

static unsigned tree_depth(const struct mime_part *part, const struct mime_part **deepest_r)
{
        unsigned depth = 0;
        while (part->children != NULL) {
                part = part->children;
                depth++;
        }
        *deepest_r = part;
        return depth;
}

Test(mime_limits, deep_multipart_nesting_is_bounded)
{
        struct buf b;
        buf_init(&b, 0);
        for (int i = 0; i < 1000; i++)
                buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n",
                           i, i);
        buf_append_str(&b, "Content-Type: text/plain\r\n\r\ndeep\r\n");
        for (int i = 999; i >= 0; i--)
                buf_printf(&b, "--b%d--\r\n", i);
        char *msg = pool_strdup(test_pool, b.data);
        buf_free(&b);

        const struct mime_part *root = parse_str(msg), *deepest;
        cr_assert_eq(tree_depth(root, &deepest), MIME_DEFAULT_MAX_DEPTH - 1);
        cr_assert(mime_part_is(deepest, "multipart", "mixed"));
        cr_assert_eq(deepest->flags, MIME_PART_FLAG_LIMITED);
        cr_assert_eq(deepest->child_count, 0);
        cr_assert(strncmp(mtest_body(msg, deepest), "--b31\r\n", 7) == 0);
        cr_assert_eq(root->flags, 0);
        cr_assert_eq(root->body_offset + root->body_size, strlen(msg));

        struct mime_limits lim = { .max_depth = 1000000 };
        root = mtest_parse(msg, strlen(msg), &lim, NULL, NULL);
        cr_assert_eq(tree_depth(root, &deepest), 1000);
        cr_assert_str_eq(mtest_body(msg, deepest), "deep");
}

Test(mime_limits, deep_message_nesting_is_bounded)
{
        struct buf b;
        buf_init(&b, 0);
        for (int i = 0; i < 1000; i++)
                buf_append_str(&b, "Content-Type: message/rfc822\r\n\r\n");
        buf_append_str(&b, "Subject: deep\r\n\r\nbody");
        char *msg = pool_strdup(test_pool, b.data);
        buf_free(&b);

        const struct mime_part *root = parse_str(msg), *deepest;
        cr_assert_eq(tree_depth(root, &deepest), MIME_DEFAULT_MAX_DEPTH - 1);
        cr_assert_eq(deepest->flags, MIME_PART_FLAG_LIMITED);
        cr_assert_not_null(deepest->envelope);
}

Test(mime_limits, ten_thousand_parts_are_bounded)
{
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "Content-Type: multipart/mixed; boundary=p\r\n\r\n");
        for (int i = 0; i < 10000; i++)
                buf_printf(&b, "--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
        buf_append_str(&b, "--p--\r\nepilogue\r\n");
        char *msg = pool_strdup(test_pool, b.data);
        buf_free(&b);

        const struct mime_part *root = parse_str(msg);
        cr_assert_eq(root->child_count, MIME_DEFAULT_MAX_PARTS - 1);
        cr_assert_eq(root->flags, MIME_PART_FLAG_LIMITED);
        cr_assert_str_eq(mtest_body(msg, mtest_child(root, 1998)), "part 1998");
        cr_assert_eq(root->body_offset + root->body_size, strlen(msg));

        struct mime_limits lim = { .max_parts = 20000 };
        root = mtest_parse(msg, strlen(msg), &lim, NULL, NULL);
        cr_assert_eq(root->child_count, 10000);
        cr_assert_eq(root->flags, 0);
        cr_assert_str_eq(mtest_body(msg, mtest_child(root, 9999)), "part 9999");
}

Test(mime_limits, part_limit_on_message_child)
{
        struct mime_limits lim = { .max_parts = 1 };
        const char *msg = "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ny";
        const struct mime_part *root = mtest_parse(msg, strlen(msg), &lim, NULL, NULL);
        cr_assert_eq(root->child_count, 0);
        cr_assert_eq(root->flags, MIME_PART_FLAG_LIMITED);
}

/* Found by fuzz-mime: a blank line that ends a header is also the line
   break before the next delimiter. The part keeps it, enclosing parts end
   with it, and the tree still nests. */
Test(mime_limits, header_blank_line_right_before_delimiter)
{
        const char *msg =
                "Content-Type: multipart/mixed; boundary=f\r\n\r\n"
                "--f\r\n"
                "Content-Type: message/rfc822\r\n\r\n"
                "Subject: inner\r\n\r\n"
                "--f\r\n"
                "Content-Type: multipart/alternative; boundary=g\r\n\r\n"
                "--g\r\n"
                "--f--\r\n";
        const struct mime_part *root = parse_str(msg);
        const struct mime_part *rfc = mtest_child(root, 0), *inner = rfc->children;
        cr_assert_str_eq(mtest_header(msg, inner), "Subject: inner\r\n\r\n");
        cr_assert_eq(inner->body_size, 0);
        cr_assert_str_eq(mtest_body(msg, rfc), "Subject: inner\r\n\r\n");
        cr_assert_eq(rfc->body_lines, 2);
        const struct mime_part *alt = mtest_child(root, 1);
        cr_assert_eq(alt->child_count, 1);
        cr_assert_str_eq(mtest_body(msg, alt), "--g\r\n");
        cr_assert_eq(mtest_child(alt, 0)->header_size, 0);
        cr_assert_eq(alt->flags, MIME_PART_FLAG_UNTERMINATED);
}

Test(mime_limits, sections_of_a_top_level_message_rfc822)
{
        const char *msg = "Content-Type: message/rfc822\r\n\r\n"
                          "Subject: inner\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
                          "--z\r\n\r\none\r\n--z\r\n\r\ntwo\r\n--z--\r\n";
        const struct mime_part *root = parse_str(msg), *p;
        cr_assert(mime_part_find_section(root, "1", &p));
        cr_assert_eq(p, root);
        cr_assert(mime_part_find_section(root, "1.2", &p));
        cr_assert_str_eq(mtest_body(msg, p), "two");
        cr_assert_not(mime_part_find_section(root, "1.3", &p));
        cr_assert_not(mime_part_find_section(root, "2", &p));
        cr_assert_not(mime_part_find_section(root, "99999999999999999999", &p));
}

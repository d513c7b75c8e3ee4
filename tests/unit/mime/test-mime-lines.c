/* Unit tests for the root's line figures (bare LF count, last line kind):
 * counted the plain way on whole, 1-byte and random-piece feeds (through
 * mtest_parse), read back from the blob head alone, version 1 blobs still
 * parsed without them, and corrupt heads refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "mime-test.h"
#include "pool.h"

TestSuite(mime_lines, .init = mtest_setup, .fini = mtest_teardown);

/* The figures counted byte by byte, independently of the parser. */
static void plain_figures(const char *data, size_t len, unsigned long long *bare_r,
                          enum mime_last_line *last_r)
{
        *bare_r = 0;
        for (size_t i = 0; i < len; i++) {
                if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
                        (*bare_r)++;
        }
        if (len == 0 || data[len - 1] == '\n')
                *last_r = MIME_LAST_LINE_TERMINATED;
        else
                *last_r = data[len - 1] == '\r' ? MIME_LAST_LINE_CR : MIME_LAST_LINE_OPEN;
}

static void check_figures(const char *data, size_t len)
{
        const void *blob;
        size_t blob_len;
        unsigned long long bare;
        enum mime_last_line last;
        uint64_t blob_bare = 0;
        enum mime_last_line blob_last = MIME_LAST_LINE_OPEN;

        /* mtest_parse asserts that trickled feeds give the same blob, which
           now carries the figures. */
        const struct mime_part *root = mtest_parse(data, len, NULL, &blob, &blob_len);
        plain_figures(data, len, &bare, &last);
        cr_assert(root->line_info);
        cr_assert_eq(root->bare_lf_count, bare, "bare LFs %llu, want %llu",
                     (unsigned long long)root->bare_lf_count, bare);
        cr_assert_eq(root->last_line, last);
        cr_assert(mime_structure_line_info(blob, blob_len, &blob_bare, &blob_last));
        cr_assert_eq(blob_bare, bare);
        cr_assert_eq(blob_last, last);
        for (const struct mime_part *c = root->children; c != NULL; c = c->next)
                cr_assert(!c->line_info && c->bare_lf_count == 0);
}

Test(mime_lines, figures_match_the_bytes)
{
        static const char *const msgs[] = {
                "",
                "\n",
                "\r",
                "\r\n",
                "\n\n\r\n",
                "Subject: x\r\n\r\nbody\r\n",
                "Subject: x\n\nbody\n",
                "Subject: x\r\n\nmixed\r\nlines\nend",
                "Subject: x\r\n\r\nends in cr\r",
                "Subject: x\r\n\r\nbare cr\rin the middle\n",
                "\n\r\r\n\n",
                "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\r\n--b--\nx",
        };
        for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
                check_figures(msgs[i], strlen(msgs[i]));
}

Test(mime_lines, corpus_figures_match)
{
        static const char *const corpus[] = {
                "simple-text.eml", "bare-lf.eml", "nested.eml", "missing-final.eml",
                "8bit.eml", "mixed-attach.eml",
        };
        for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
                size_t len;
                const char *msg = mtest_load(corpus[i], &len);
                check_figures(msg, len);
        }
}

Test(mime_lines, long_bare_lf_message)
{
        size_t len = 200000;
        char *msg = pool_alloc(test_pool, len);

        for (size_t i = 0; i < len; i++)
                msg[i] = i % 7 == 6 ? '\n' : i % 13 == 12 ? '\r' : 'a';
        check_figures(msg, len);
}

/* A version 1 blob (written before the figures existed) still parses, says
   it has none, and serializes back to the same version 1 bytes. */
Test(mime_lines, version_1_blob_has_no_figures)
{
        static const char msg[] = "Subject: x\n\nbody\n";
        const void *blob, *again;
        size_t blob_len, again_len;
        const struct mime_part *root;
        const char *error = NULL;
        uint64_t bare;
        enum mime_last_line last;

        mtest_parse(msg, sizeof(msg) - 1, NULL, &blob, &blob_len);
        /* Version 2 minus its head (two one-byte varints here) is version 1. */
        unsigned char *v1 = pool_alloc(test_pool, blob_len - 2);
        v1[0] = 1;
        memcpy(v1 + 1, (const unsigned char *)blob + 3, blob_len - 3);
        cr_assert_eq(mime_structure_parse(test_pool, v1, blob_len - 2, &root, &error), 0,
                     "%s", error);
        cr_assert(!root->line_info);
        cr_assert_eq(root->bare_lf_count, 0);
        cr_assert(!mime_structure_line_info(v1, blob_len - 2, &bare, &last));
        cr_assert_eq(mime_structure_serialize(test_pool, root, &again, &again_len), 0);
        cr_assert(again_len == blob_len - 2 && memcmp(again, v1, again_len) == 0);
}

Test(mime_lines, corrupt_heads_are_refused)
{
        static const char msg[] = "Subject: x\n\nbody\n";
        const void *blob;
        size_t blob_len;
        const struct mime_part *root;
        const char *error = NULL;
        uint64_t bare;
        enum mime_last_line last;

        mtest_parse(msg, sizeof(msg) - 1, NULL, &blob, &blob_len);
        unsigned char *copy = pool_alloc(test_pool, blob_len);
        memcpy(copy, blob, blob_len);
        cr_assert_eq(copy[1], 3);   /* three bare LFs */
        copy[2] = MIME_LAST_LINE_OPEN + 1;
        cr_assert(!mime_structure_line_info(copy, blob_len, &bare, &last));
        cr_assert_eq(mime_structure_parse(test_pool, copy, blob_len, &root, &error), -1);
        cr_assert_str_eq(error, "bad last line kind");
        memcpy(copy, blob, blob_len);
        copy[1] = 0x7f;             /* more bare LFs than the message has bytes */
        cr_assert_eq(mime_structure_parse(test_pool, copy, blob_len, &root, &error), -1);
        cr_assert_str_eq(error, "more bare LFs than bytes");
        cr_assert(!mime_structure_line_info(copy, 1, &bare, &last));
        cr_assert(!mime_structure_line_info(copy, 0, &bare, &last));
}

/* A tree with impossible figures is refused by the writer, as the reader
   would refuse it. */
Test(mime_lines, writer_refuses_impossible_figures)
{
        static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
        const void *blob;
        size_t blob_len;
        const struct mime_part *root = mtest_parse(msg, sizeof(msg) - 1, NULL, &blob,
                                                   &blob_len);
        struct mime_part *copy = pool_alloc(test_pool, sizeof(*copy));

        *copy = *root;
        copy->children = NULL;
        copy->child_count = 0;
        copy->bare_lf_count = sizeof(msg);
        cr_assert_eq(mime_structure_serialize(test_pool, copy, &blob, &blob_len), -1);
        copy->bare_lf_count = 0;
        copy->last_line = MIME_LAST_LINE_OPEN + 1;
        cr_assert_eq(mime_structure_serialize(test_pool, copy, &blob, &blob_len), -1);
}

/* mime-test.c - shared helpers for the MIME unit tests (see mime-test.h). */
#include "mime-test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"

struct pool *test_pool;

void mtest_setup(void)
{
        test_pool = pool_create("test-mime", 4096);
}

void mtest_teardown(void)
{
        pool_destroy(&test_pool);
}

const char *mtest_load(const char *name, size_t *len_r)
{
        char *path = pool_printf(test_pool, "%s/%s", MIME_CORPUS_DIR, name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *data = pool_alloc(test_pool, (size_t)n + 1);
        cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        *len_r = (size_t)n;
        return data;
}

unsigned long long mtest_count_lines(const char *data, size_t len)
{
        unsigned long long lines = 0;
        for (size_t i = 0; i < len; i++)
                lines += data[i] == '\n';
        if (len > 0 && data[len - 1] != '\n')
                lines++;
        return lines;
}

static void check_tree(const char *msg, size_t len, const struct mime_part *part)
{
        /* Iterative walk: trees can be deep. */
        while (part != NULL) {
                cr_assert_eq(part->body_offset, part->header_offset + part->header_size);
                cr_assert_leq(part->body_offset + part->body_size, len);
                cr_assert_eq(part->body_lines,
                             mtest_count_lines(msg + part->body_offset, part->body_size),
                             "lines of part at %llu",
                             (unsigned long long)part->header_offset);
                if (part->parent != NULL) {
                        const struct mime_part *pp = part->parent;
                        cr_assert_geq(part->header_offset, pp->body_offset);
                        cr_assert_leq(part->body_offset + part->body_size,
                                      pp->body_offset + pp->body_size);
                }
                if (part->children != NULL) {
                        part = part->children;
                        continue;
                }
                while (part != NULL && part->next == NULL)
                        part = part->parent;
                if (part != NULL)
                        part = part->next;
        }
}

static const struct mime_part *parse_pieces(const char *data, size_t len,
                                            const struct mime_limits *limits,
                                            unsigned seed)
{
        struct mime_parser *parser = mime_parser_create(test_pool, limits);
        uint32_t x = seed;
        size_t pos = 0;

        while (pos < len) {
                size_t n = 1;
                if (seed != 0) {
                        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                        n = (x % 8 == 0) ? 1 + x % 4096 : 1 + x % 97;
                }
                if (n > len - pos)
                        n = len - pos;
                mime_parser_feed(parser, data + pos, n);
                /* Empty feeds must be harmless too. */
                mime_parser_feed(parser, data + pos, 0);
                pos += n;
        }
        return mime_parser_finish(parser);
}

static void assert_same_blob(const struct mime_part *root, const void *blob, size_t len,
                             const char *how)
{
        const void *b;
        size_t n;
        cr_assert_eq(mime_structure_serialize(test_pool, root, &b, &n), 0);
        cr_assert(n == len && memcmp(b, blob, len) == 0, "%s gives a different tree", how);
}

const struct mime_part *mtest_parse(const void *data, size_t len,
                                    const struct mime_limits *limits,
                                    const void **blob_r, size_t *blob_len_r)
{
        struct mime_parser *parser = mime_parser_create(test_pool, limits);
        mime_parser_feed(parser, data, len);
        const struct mime_part *root = mime_parser_finish(parser);
        cr_assert_not_null(root);
        cr_assert_eq(mime_parser_finish(parser), root);
        check_tree(data, len, root);

        const void *blob;
        size_t blob_len;
        cr_assert_eq(mime_structure_serialize(test_pool, root, &blob, &blob_len), 0);
        cr_assert_gt(blob_len, 1);
        cr_assert_eq(((const unsigned char *)blob)[0], MIME_STRUCTURE_VERSION);

        assert_same_blob(parse_pieces(data, len, limits, 0), blob, blob_len, "1-byte feed");
        for (unsigned seed = 1; seed <= 4; seed++)
                assert_same_blob(parse_pieces(data, len, limits, seed * 2654435761u),
                                 blob, blob_len, "random feed");

        const struct mime_part *back;
        const char *error = NULL;
        cr_assert_eq(mime_structure_parse(test_pool, blob, blob_len, &back, &error), 0,
                     "round trip: %s", error);
        assert_same_blob(back, blob, blob_len, "serialize->parse->serialize");
        if (blob_r != NULL) {
                *blob_r = blob;
                *blob_len_r = blob_len;
        }
        return root;
}

const char *mtest_header(const char *msg, const struct mime_part *part)
{
        return pool_strndup(test_pool, msg + part->header_offset, part->header_size);
}

const char *mtest_body(const char *msg, const struct mime_part *part)
{
        return pool_strndup(test_pool, msg + part->body_offset, part->body_size);
}

const struct mime_part *mtest_child(const struct mime_part *part, unsigned index)
{
        const struct mime_part *c = part->children;
        for (unsigned i = 0; c != NULL && i < index; i++)
                c = c->next;
        cr_assert_not_null(c, "no child %u", index);
        return c;
}

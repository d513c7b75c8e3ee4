/* fetch-test.c - shared helpers for the imapd FETCH unit tests
 * (see fetch-test.h). */
#include "fetch-test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "pool.h"

struct pool *test_pool;

void ftest_setup(void)
{
        test_pool = pool_create("test-imapd-fetch", 4096);
}

void ftest_teardown(void)
{
        pool_destroy(&test_pool);
}

const char *ftest_load(const char *name, size_t *len_r)
{
        const char *path = strncmp(name, "mime/", 5) == 0 ?
                pool_printf(test_pool, "%s/%s", MIME_CORPUS_DIR, name + 5) :
                pool_printf(test_pool, "%s/%s", FETCH_CORPUS_DIR, name);
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

const struct mime_part *ftest_tree(const char *msg, size_t len)
{
        struct mime_parser *parser = mime_parser_create(test_pool, NULL);
        const void *blob;
        size_t blob_len;
        const struct mime_part *root;
        const char *error;

        mime_parser_feed(parser, msg, len);
        cr_assert_eq(mime_structure_serialize(test_pool, mime_parser_finish(parser),
                                              &blob, &blob_len), 0);
        cr_assert_eq(mime_structure_parse(test_pool, blob, blob_len, &root, &error), 0,
                     "%s", error);
        return root;
}

static const char *buf_to_pool(struct buf *b)
{
        const char *s = pool_strndup(test_pool, b->data != NULL ? b->data : "", b->len);
        buf_free(b);
        return s;
}

const char *ftest_envelope(const struct mime_part *root)
{
        struct buf b;
        buf_init(&b, 0);
        imap_fetch_append_envelope(&b, root->envelope);
        return buf_to_pool(&b);
}

const char *ftest_body(const struct mime_part *root, bool extended)
{
        struct buf b;
        buf_init(&b, 0);
        imap_fetch_append_bodystructure(&b, root, extended);
        return buf_to_pool(&b);
}

static void emit_to_buf(void *context, const void *data, size_t len)
{
        cr_assert_gt(len, 0);
        buf_append(context, data, len);
}

const char *ftest_section(const char *msg, const struct mime_part *root, const char *spec,
                          const char *const *fields, const char *partial, size_t *len_r)
{
        struct imap_section sec = { .partial = false };
        struct imap_section_range range;
        const char *error = NULL;
        struct buf b;

        cr_assert_eq(imap_section_parse_spec(test_pool, spec, strlen(spec), &sec, &error), 0,
                     "%s: %s", spec, error);
        if (fields != NULL) {
                unsigned n = 0;
                while (fields[n] != NULL)
                        n++;
                cr_assert_eq(imap_section_set_fields(test_pool, &sec, fields, n, &error), 0);
        }
        if (partial != NULL)
                cr_assert_eq(imap_section_parse_partial(partial, strlen(partial), &sec,
                                                        &error), 0);
        imap_section_resolve(root, &sec, &range);
        buf_init(&b, 0);
        if (range.kind == IMAP_SECTION_RANGE) {
                buf_append(&b, msg + range.offset, range.size);
        } else if (range.kind == IMAP_SECTION_FILTER) {
                struct imap_hdrfilter *f = imap_hdrfilter_create(
                        test_pool, sec.fields, sec.field_count,
                        sec.text == IMAP_SECTION_HEADER_FIELDS_NOT, emit_to_buf, &b);
                imap_hdrfilter_feed(f, msg + range.offset, range.size);
        }
        uint64_t skip, n;
        imap_section_clip(&sec, b.len, &skip, &n);
        char *out = pool_strndup(test_pool, (b.data != NULL ? b.data : "") + skip, n);
        buf_free(&b);
        *len_r = n;
        return out;
}

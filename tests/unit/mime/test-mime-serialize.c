/* Unit tests for core/mime-serialize.c: round trips, every truncation and
 * single-byte corruption of real blobs handled without a crash, canonical
 * re-serialization, hand-made hostile trees. */
#include <criterion/criterion.h>
#include <string.h>

#include "mime-test.h"
#include "pool.h"

TestSuite(mime_serialize, .init = mtest_setup, .fini = mtest_teardown);

static const char *const corpus[] = {
        "simple-text.eml", "alternative.eml", "mixed-attach.eml", "nested.eml",
        "rfc822-attach.eml", "digest.eml", "encoded-words.eml", "rfc2231.eml",
        "group.eml", "bare-lf.eml", "8bit.eml", "missing-final.eml",
        "no-boundary.eml", "garbage-headers.eml",
};

static void corpus_blob(const char *name, const void **blob_r, size_t *len_r)
{
        size_t len;
        const char *msg = mtest_load(name, &len);
        mtest_parse(msg, len, NULL, blob_r, len_r);
}

Test(mime_serialize, blob_is_versioned_and_stable)
{
        for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
                const void *a, *b;
                size_t alen, blen;
                corpus_blob(corpus[i], &a, &alen);
                corpus_blob(corpus[i], &b, &blen);
                cr_assert_eq(((const unsigned char *)a)[0], MIME_STRUCTURE_VERSION);
                cr_assert(alen == blen && memcmp(a, b, alen) == 0);
        }
}

Test(mime_serialize, truncated_blobs_are_rejected)
{
        for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
                const void *blob;
                size_t len;
                corpus_blob(corpus[i], &blob, &len);
                for (size_t n = 0; n < len; n++) {
                        const struct mime_part *root = NULL;
                        const char *error = NULL;
                        cr_assert_eq(mime_structure_parse(test_pool, blob, n, &root, &error), -1,
                                     "%s: prefix %zu accepted", corpus[i], n);
                        cr_assert_not_null(error);
                }
        }
}

Test(mime_serialize, trailing_bytes_and_bad_version_are_rejected)
{
        const void *blob;
        size_t len;
        const struct mime_part *root;
        const char *error;
        corpus_blob("nested.eml", &blob, &len);

        unsigned char *copy = pool_alloc(test_pool, len + 1);
        memcpy(copy, blob, len);
        cr_assert_eq(mime_structure_parse(test_pool, copy, len + 1, &root, &error), -1);
        cr_assert_str_eq(error, "trailing bytes after structure");
        copy[0] = MIME_STRUCTURE_VERSION + 1;
        cr_assert_eq(mime_structure_parse(test_pool, copy, len, &root, &error), -1);
        cr_assert_str_eq(error, "unknown structure version");
}

/* Every single-byte change is either rejected or, if it still describes a
   valid tree, serializes back to exactly the changed bytes. */
Test(mime_serialize, corrupted_blobs_never_crash)
{
        static const unsigned char deltas[] = { 0x01, 0x80, 0xff };
        for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
                const void *blob;
                size_t len;
                corpus_blob(corpus[i], &blob, &len);
                unsigned char *copy = pool_alloc(test_pool, len);
                for (size_t pos = 0; pos < len; pos++) {
                        for (size_t d = 0; d < sizeof(deltas); d++) {
                                memcpy(copy, blob, len);
                                copy[pos] ^= deltas[d];
                                const struct mime_part *root;
                                const char *error;
                                if (mime_structure_parse(test_pool, copy, len, &root, &error) < 0)
                                        continue;
                                const void *again;
                                size_t again_len;
                                cr_assert_eq(mime_structure_serialize(test_pool, root, &again,
                                                                      &again_len), 0);
                                cr_assert(again_len == len && memcmp(again, copy, len) == 0,
                                          "%s: byte %zu", corpus[i], pos);
                        }
                }
        }
}

Test(mime_serialize, hostile_counts_are_rejected)
{
        const struct mime_part *root;
        const char *error;
        /* version, flags 0, offsets 0, child_count 2^32 - 1 */
        static const unsigned char many_children[] = {
                1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f };
        cr_assert_eq(mime_structure_parse(test_pool, many_children, sizeof(many_children),
                                          &root, &error), -1);
        /* over-long varint */
        static const unsigned char long_varint[] = {
                1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
        cr_assert_eq(mime_structure_parse(test_pool, long_varint, sizeof(long_varint),
                                          &root, &error), -1);
        /* non-canonical zero */
        static const unsigned char noncanon[] = { 1, 0x80, 0x00 };
        cr_assert_eq(mime_structure_parse(test_pool, noncanon, sizeof(noncanon),
                                          &root, &error), -1);
        cr_assert_str_eq(error, "non-canonical integer");
        cr_assert_eq(mime_structure_parse(test_pool, "", 0, &root, &error), -1);
}

static struct mime_part *bare_part(struct mime_part *parent, const char *type,
                                   const char *subtype, bool envelope)
{
        struct mime_part *part = pool_alloc(test_pool, sizeof(*part));
        part->parent = parent;
        part->type = type;
        part->subtype = subtype;
        part->encoding = "7bit";
        if (envelope)
                part->envelope = pool_alloc(test_pool, sizeof(struct mime_envelope));
        if (parent != NULL) {
                parent->children = part;
                parent->child_count = 1;
        }
        return part;
}

Test(mime_serialize, very_deep_tree_round_trips_without_recursion)
{
        struct mime_part *root = bare_part(NULL, "message", "rfc822", true), *p = root;
        for (int i = 0; i < 200000; i++)
                p = bare_part(p, "message", "rfc822", true);

        const void *blob, *again;
        size_t len, again_len;
        const struct mime_part *back;
        const char *error = NULL;
        cr_assert_eq(mime_structure_serialize(test_pool, root, &blob, &len), 0);
        cr_assert_eq(mime_structure_parse(test_pool, blob, len, &back, &error), 0, "%s", error);
        cr_assert_eq(mime_structure_serialize(test_pool, back, &again, &again_len), 0);
        cr_assert(again_len == len && memcmp(again, blob, len) == 0);
}

Test(mime_serialize, inconsistent_trees_are_refused)
{
        const void *blob;
        size_t len;
        struct mime_part *root = bare_part(NULL, "multipart", "mixed", true);
        struct mime_part *child = bare_part(root, "text", "plain", false);

        cr_assert_eq(mime_structure_serialize(test_pool, root, &blob, &len), 0);
        root->child_count = 2;
        cr_assert_eq(mime_structure_serialize(test_pool, root, &blob, &len), -1);
        root->child_count = 1;
        child->envelope = pool_alloc(test_pool, sizeof(struct mime_envelope));
        cr_assert_eq(mime_structure_serialize(test_pool, root, &blob, &len), -1);
        child->envelope = NULL;
        child->header_size = 5;     /* body_offset no longer follows */
        cr_assert_eq(mime_structure_serialize(test_pool, root, &blob, &len), -1);
        child->header_size = 0;
        root->flags = 1u << 30;
        cr_assert_eq(mime_structure_serialize(test_pool, root, &blob, &len), -1);
}

Test(mime_serialize, parsed_tree_matches_original)
{
        size_t len;
        const char *msg = mtest_load("rfc822-attach.eml", &len);
        const void *blob;
        size_t blob_len;
        const struct mime_part *orig = mtest_parse(msg, len, NULL, &blob, &blob_len), *back;
        const char *error;
        cr_assert_eq(mime_structure_parse(test_pool, blob, blob_len, &back, &error), 0);
        const struct mime_part *a = mtest_child(orig, 1)->children;
        const struct mime_part *b = mtest_child(back, 1)->children;
        cr_assert_eq(b->parent, mtest_child(back, 1));
        cr_assert_eq(a->header_offset, b->header_offset);
        cr_assert_eq(a->body_size, b->body_size);
        cr_assert_eq(a->body_lines, b->body_lines);
        cr_assert_str_eq(b->envelope->raw[MIME_ENV_SUBJECT], "original");
        cr_assert_str_eq(b->envelope->addr[MIME_ENV_FROM].addrs[0].mailbox, "ivan");
        const struct mime_part *p;
        cr_assert(mime_part_find_section(back, "2.2", &p));
        cr_assert_str_eq(p->subtype, "html");
}

/* fuzz-mime.c - libFuzzer target for the MIME parser and its cached form.
 *
 * Feeds the input in two pieces split at the first byte's value, checks the
 * tree against the one from a single feed, serializes it, parses the blob
 * back and requires the identical blob; then runs the decoders over every
 * leaf body. Any mismatch aborts (a finding). Seeds: corpus/mime/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const void *parse_blob(struct pool *pool, const uint8_t *data, size_t size,
                              size_t split, const struct mime_part **root_r, size_t *len_r)
{
        struct mime_parser *parser = mime_parser_create(pool, NULL);
        mime_parser_feed(parser, data, split);
        mime_parser_feed(parser, data + split, size - split);
        const struct mime_part *root = mime_parser_finish(parser);
        const void *blob;
        if (root == NULL || mime_structure_serialize(pool, root, &blob, len_r) < 0)
                abort();
        *root_r = root;
        return blob;
}

static void decode_leaves(struct pool *pool, const uint8_t *data, const struct mime_part *part)
{
        struct buf out;
        buf_init(&out, 1 << 20);
        while (part != NULL) {
                if (part->children == NULL) {
                        struct mime_decoder *dec = mime_decoder_create(pool,
                                mime_transfer_encoding_parse(part->encoding));
                        mime_decoder_feed(dec, data + part->body_offset, part->body_size, &out);
                        mime_decoder_finish(dec, &out);
                        buf_reset(&out);
                        const char *subject = part->envelope != NULL ?
                                part->envelope->raw[MIME_ENV_SUBJECT] : NULL;
                        if (subject != NULL)
                                mime_words_decode(pool, subject, strlen(subject));
                        const struct mime_part *found;
                        (void)mime_part_find_section(part, "1.1", &found);
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
        buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pool *pool = pool_create("fuzz-mime", 4096);
        size_t split = size > 0 ? data[0] : 0;
        if (split > size)
                split = size;

        const struct mime_part *root, *whole_root, *back;
        size_t len, whole_len, back_len;
        const void *blob = parse_blob(pool, data, size, split, &root, &len);
        const void *whole = parse_blob(pool, data, size, size, &whole_root, &whole_len);
        if (len != whole_len || memcmp(blob, whole, len) != 0)
                abort();    /* chunking changed the result */

        const char *error;
        const void *again;
        if (mime_structure_parse(pool, blob, len, &back, &error) < 0)
                abort();
        if (mime_structure_serialize(pool, back, &again, &back_len) < 0 ||
            back_len != len || memcmp(again, blob, len) != 0)
                abort();

        /* The raw input as a blob: must be rejected or round-trip exactly. */
        if (mime_structure_parse(pool, data, size, &back, &error) == 0) {
                if (mime_structure_serialize(pool, back, &again, &back_len) < 0 ||
                    back_len != size || memcmp(again, data, size) != 0)
                        abort();
        }
        decode_leaves(pool, data, root);
        pool_destroy(&pool);
        return 0;
}

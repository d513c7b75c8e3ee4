/* mime-test.h - helpers for the MIME unit tests: a per-test pool, corpus
 * loading, and a parse helper that checks chunking independence, tree
 * invariants and the serialize/parse round trip on every message. */
#ifndef COVE_MIME_TEST_H
#define COVE_MIME_TEST_H

#include <stddef.h>

#include "mime.h"

extern struct pool *test_pool;
void mtest_setup(void);
void mtest_teardown(void);

/* Reads corpus/<name> into test_pool (NUL-terminated). */
const char *mtest_load(const char *name, size_t *len_r);

/* Parses data fed whole, in 1-byte pieces and in random pieces (several
   seeds); asserts every way gives the same blob, that the tree's offsets
   nest and its line counts match the bytes, and that the blob round-trips.
   Returns the tree of the whole feed and its blob. */
const struct mime_part *mtest_parse(const void *data, size_t len,
                                    const struct mime_limits *limits,
                                    const void **blob_r, size_t *blob_len_r);

/* The part's header / body bytes as a string in test_pool. */
const char *mtest_header(const char *msg, const struct mime_part *part);
const char *mtest_body(const char *msg, const struct mime_part *part);
/* The index-th child (0-based); asserts it exists. */
const struct mime_part *mtest_child(const struct mime_part *part, unsigned index);
/* Lines in a byte range counted the plain way (LFs + unterminated tail). */
unsigned long long mtest_count_lines(const char *data, size_t len);

#endif

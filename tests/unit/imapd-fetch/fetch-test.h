/* fetch-test.h - helpers for the imapd FETCH unit tests: a per-test pool,
 * corpus loading, the part tree as the store hands it out (parsed, cached,
 * re-read), and section results computed the way cmd-fetch.c sends them. */
#ifndef COVE_FETCH_TEST_H
#define COVE_FETCH_TEST_H

#include <stddef.h>

#include "fetch.h"
#include "mime.h"

extern struct pool *test_pool;
void ftest_setup(void);
void ftest_teardown(void);

/* Reads a message: "mime/<name>" from the MIME unit corpus, else <name> from
   this directory's corpus/. NUL-terminated, in test_pool. */
const char *ftest_load(const char *name, size_t *len_r);

/* The part tree after a serialize/parse round trip of the cached blob. */
const struct mime_part *ftest_tree(const char *msg, size_t len);

/* ENVELOPE / BODY / BODYSTRUCTURE of a tree, as a string in test_pool. */
const char *ftest_envelope(const struct mime_part *root);
const char *ftest_body(const struct mime_part *root, bool extended);

/* The bytes a FETCH of the section would send: spec is the text inside the
   brackets, fields a NULL-terminated list for HEADER.FIELDS (else NULL),
   partial "<o.c>" or NULL. Asserts the spec parses. *len_r gets the length. */
const char *ftest_section(const char *msg, const struct mime_part *root, const char *spec,
                          const char *const *fields, const char *partial, size_t *len_r);

#endif

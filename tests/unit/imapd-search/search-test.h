/* search-test.h - helpers for the SEARCH unit tests: a per-test pool, a
 * small test-only splitter from "KEY (a b) {lit}" text to search tokens,
 * corpus loading, and evaluation of one message fed in many chunk sizes. */
#ifndef COVE_SEARCH_TEST_H
#define COVE_SEARCH_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "search-private.h"

extern struct pool *test_pool;
void stest_setup(void);
void stest_teardown(void);

/* Splits text into tokens: atoms, "quoted" strings (\" and \\ escapes),
   parentheses, and {N}<LF> literals (N bytes follow the LF). */
size_t stest_tokens(const char *text, struct imap_search_tok **toks_r);

/* Parses text; returns the result and the program (NULL on error). */
enum imap_search_parse_result stest_parse(const char *text,
                                          struct imap_search_program **prog_r);

/* Reads tests/unit/mime/corpus/<name> into test_pool. */
const char *stest_load(const char *name, size_t *len_r);

/* A message under test: bytes plus the record fields keys look at. */
struct stest_msg {
        const char *data;
        size_t len;
        uint32_t uid, seq;
        uint32_t flags;
        const char *const *keywords;
        size_t keyword_count;
        int64_t internal_date;
        int32_t internal_tz;
        bool recent;
        bool no_structure;      /* leave the cached structure out */
};

/* Evaluates `search` on msg with the bytes served in 1, 2, 7, 64-byte and
   whole chunks; asserts every way agrees and returns the answer. The
   mailbox has `messages` messages and max UID `max_uid` (both 10 if 0). */
bool stest_match(const char *search, const struct stest_msg *msg);
/* Same for a message given as text (uid 1, seq 1, no flags). */
bool stest_match_text(const char *search, const char *message);

/* How many read calls the last stest_match made in whole-chunk mode. */
extern unsigned stest_last_reads;

#endif

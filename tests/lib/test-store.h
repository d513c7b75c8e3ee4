/* test-store.h - scaffolding for tests that open a real store through the
 * facade (storage/store.h): a fresh temp directory per test, a hand-built
 * struct cove_conf naming the engine under test, and small helpers to append,
 * read back and generate messages.
 *
 * Free of Criterion on purpose: functions report failure by return value, so
 * they are safe in forked children (which must _exit, never assert).
 */
#ifndef COVE_TEST_STORE_H
#define COVE_TEST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/storage.h"

struct pool;
struct store;
struct store_stream;
struct cove_conf;

struct test_store {
        struct pool *pool;          /* lives until test_store_destroy() */
        const char *dir;            /* the test's own temp directory */
        const char *engine;         /* engine under test */
        const struct cove_conf *conf;
        struct store *store;        /* the handle; NULL while closed */
};

/* The engine under test: $COVE_TEST_ENGINE, default "lmdb". Static string. */
const char *test_store_engine(void);

/* Makes a fresh temp directory (under $TMPDIR or /tmp), builds a config for
   the engine under test (plugin dir $COVE_TEST_PLUGIN_DIR or the build tree's;
   engine options $COVE_TEST_STORE_OPTIONS or the per-engine table, "%D" in
   them standing for the temp dir) and creates an empty store. Returns 0 and a
   handle to free with test_store_destroy(), or -1 with *error_r (static or in
   a pool that is gone: print it at once). */
int test_store_create(struct test_store **ts_r, const char **error_r);

/* Closes the store handle and frees everything; removes the temp directory
   unless COVE_TEST_KEEP=1 (then its path is printed to stderr). */
void test_store_destroy(struct test_store **ts);

/* Closes ts->store (if open) and opens it again without create.
   Returns 0, or -1 with *error_r (in ts->pool). */
int test_store_reopen(struct test_store *ts, const char **error_r);

/* Opens another, independent handle on the same store (for forked children).
   The caller closes it with store_close(). Returns 0 or -1 with *error_r. */
int test_store_open_handle(struct test_store *ts, struct store **store_r,
                           const char **error_r);

/* Creates user `name` (no password) in its own txn. */
enum cove_store_err test_store_user_add(struct store *store, const char *name,
                                        uint32_t *user_id_r);

/* The id of user_id's mailbox `name`, or 0 when it cannot be looked up. */
uint32_t test_store_mailbox_id(struct store *store, uint32_t user_id, const char *name);

/* Creates mailbox `name` for user_id in its own txn. */
enum cove_store_err test_store_mailbox_add(struct store *store, uint32_t user_id,
                                           const char *name, uint32_t *mailbox_id_r);

/* Appends data (one part) with flags in its own write txn. saved_r may be NULL. */
enum cove_store_err test_store_append(struct store *store, uint32_t mailbox_id,
                                      const void *data, size_t len, uint32_t flags,
                                      struct cove_store_saved *saved_r);

/* A copy of mailbox `id`'s record (the engine's is borrowed), via a read txn. */
enum cove_store_err test_store_mailbox_get(struct store *store, uint32_t mailbox_id,
                                           struct cove_store_mailbox *mailbox_r);

/* A copy of user `id`'s record (name and secrets not kept). */
enum cove_store_err test_store_user_get(struct store *store, uint32_t user_id,
                                        struct cove_store_user *user_r);

/* Reads the whole message through a stream into pool memory (NUL-terminated
   one past the end). Returns the stream's code, or COVE_STORE_CORRUPT when
   the stream gives more or fewer bytes than the size it announced. */
enum cove_store_err test_store_fetch(struct store *store, uint32_t mailbox_id, uint32_t uid,
                                     struct pool *pool, unsigned char **data_r,
                                     size_t *len_r);

/* Reads up to len bytes from offset into out, looping over short runs.
   *got_r is what was read (less than len only at the end of the message). */
enum cove_store_err test_store_read_range(struct store_stream *stream, uint64_t offset,
                                          unsigned char *out, size_t len, size_t *got_r);

/* A deterministic RFC 5322 message of exactly `size` bytes (at least 64) for
   `seed`: a few CRLF header lines, a blank line, then printable text lines.
   The same seed and size always give the same bytes. In pool. */
unsigned char *test_msg_make(struct pool *pool, uint32_t seed, size_t size);

/* A small xorshift PRNG for reproducible test data. */
uint64_t test_rand_next(uint64_t *state);

#endif

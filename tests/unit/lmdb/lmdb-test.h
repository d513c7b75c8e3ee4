/* lmdb-test.h - fixture and helpers for the LMDB engine tests: load the
 * plugin, a temporary store directory, a fake clock, and short-hands that
 * run one operation in its own transaction (asserting success).
 */
#ifndef COVE_LMDB_TEST_H
#define COVE_LMDB_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/storage.h"

extern const struct cove_store_ops *ops;
extern char lt_dir[256];            /* the store directory of this test */
extern int64_t lt_clock;            /* what host->now() returns */
extern const struct cove_store_host lt_host;

/* .init/.fini of every suite: load the plugin, make/remove lt_dir. */
void lt_setup(void);
void lt_teardown(void);

/* Opens with options kv = { key, value, ..., NULL } (path is NOT added). */
enum cove_store_err lt_open_kv(bool create, const char *const *kv,
                               struct cove_store **store_r, const char **error_r);
/* Creates (or opens) the store in lt_dir with extra options; asserts OK. */
struct cove_store *lt_create(const char *const *extra);
struct cove_store *lt_reopen(void);

struct cove_store_txn *lt_begin(struct cove_store *store, bool write);
void lt_commit(struct cove_store_txn **txn);

uint32_t lt_user(struct cove_store *store, const char *name);
uint32_t lt_mailbox(struct cove_store *store, uint32_t user_id, const char *name);
/* Appends one single-part message; returns what was saved. */
struct cove_store_saved lt_append(struct cove_store *store, uint32_t mailbox_id,
                                  const void *data, size_t len);
/* Same, retrying while the engine answers TEMP (map growth). */
struct cove_store_saved lt_append_retry(struct cove_store *store, uint32_t mailbox_id,
                                        const void *data, size_t len, int *retries_r);
void lt_expunge(struct cove_store *store, uint32_t mailbox_id, uint32_t uid);
/* Reads a whole message through a stream in runs; malloc'd, caller frees. */
uint8_t *lt_read_all(struct cove_store *store, uint32_t mailbox_id, uint32_t uid,
                     size_t *len_r);
struct cove_store_stats lt_stats(struct cove_store *store);

/* Deterministic pseudo-random bytes / compressible text (malloc'd). */
uint8_t *lt_random(size_t len, uint32_t seed);
uint8_t *lt_text(size_t len);

#endif

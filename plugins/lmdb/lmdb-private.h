/* lmdb-private.h - internals shared by the files of the LMDB storage engine.
 *
 * Owns: the handle layouts (store, txn, iterator, stream), the on-disk
 * format constants and the helpers every file uses (arena, record codec,
 * error mapping). Not a public header: only plugins/lmdb and its tests
 * include it. The engine's only export is cove_store_entry().
 */
#ifndef COVE_LMDB_PRIVATE_H
#define COVE_LMDB_PRIVATE_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cove/storage.h"

/* On-disk format version kept in the meta database ("format"). Bump it on
   any incompatible layout change; open() refuses newer versions. */
#define LMDB_FORMAT_VERSION 1u
#define LMDB_FORMAT_MIN 1u

/* Record version byte at the front of every user/mailbox/message/blob
   record, so single record layouts can evolve inside a format version. */
#define LMDB_RECORD_V1 1u
/* V2 user records add apop_secret after used_messages; V2 mailbox records
   add recent_uid after bytes. V1 records still decode (apop_secret "",
   recent_uid 1) and are rewritten as V2 on their next write. */
#define LMDB_RECORD_V2 2u

/* Bodies are split into chunks of this size, each compressed on its own. */
#define LMDB_CHUNK_SIZE (64u * 1024u)
#define LMDB_HASH_LEN 32u

/* Name index keys hold at most this many name bytes (LMDB keys are limited
   to 511 bytes); longer names share a bucket, see lmdb-names.c. */
#define LMDB_NAME_KEY_MAX 400u

#define LMDB_DEFAULT_MAP_SIZE (256ull * 1024 * 1024)
#define LMDB_DEFAULT_COMPRESS_THRESHOLD 4096u
#define LMDB_DEFAULT_COMPRESS_LEVEL 6
#define LMDB_DEFAULT_MAX_READERS 1024u

enum lmdb_db {
        LMDB_DB_META = 0,       /* "format", counters */
        LMDB_DB_USERS,          /* be32 user id -> user record */
        LMDB_DB_USER_NAMES,     /* name bucket (owner 0) -> user ids */
        LMDB_DB_MAILBOXES,      /* be32 mailbox id -> mailbox record */
        LMDB_DB_MAILBOX_NAMES,  /* name bucket (owner user id) -> mailbox ids */
        LMDB_DB_SUBSCRIPTIONS,  /* name bucket (owner user id) -> 0 */
        LMDB_DB_MESSAGES,       /* be32 mailbox, be32 uid -> message record */
        LMDB_DB_MODSEQ,         /* be32 mailbox, be64 modseq -> be32 uid */
        LMDB_DB_EXPUNGES,       /* be32 mailbox, be64 modseq -> be32 uid */
        LMDB_DB_BLOBS,          /* sha256 -> blob record */
        LMDB_DB_CHUNKS,         /* sha256, be32 chunk no -> chunk bytes */
        LMDB_DB_COUNT
};

/* Counters in the meta database. */
#define LMDB_META_FORMAT "format"
#define LMDB_META_NEXT_USER "next_user_id"
#define LMDB_META_NEXT_MAILBOX "next_mailbox_id"
#define LMDB_META_NEXT_GID "next_gid"
#define LMDB_META_UIDVALIDITY "last_uidvalidity"
#define LMDB_META_BYTES_STORED "bytes_stored"

/* ---- arena: borrowed records live here until the next call ---- */

struct lmdb_arena_block;
struct lmdb_arena {
        struct lmdb_arena_block *blocks;
};

/* Returns zeroed memory owned by the arena; aborts on out-of-memory. */
void *lmdb_arena_alloc(struct lmdb_arena *arena, size_t size);
char *lmdb_arena_strndup(struct lmdb_arena *arena, const void *data, size_t len);
/* Frees every allocation but keeps the first block for reuse. */
void lmdb_arena_reset(struct lmdb_arena *arena);
void lmdb_arena_free(struct lmdb_arena *arena);

/* malloc/realloc that abort on out-of-memory (an engine cannot recover). */
void *lmdb_xmalloc(size_t size);
void *lmdb_xrealloc(void *ptr, size_t size);

/* ---- record codec ---- */

/* Growable, malloc'd write buffer; free with lmdb_wbuf_free. */
struct lmdb_wbuf {
        uint8_t *data;
        size_t len, cap;
};
void lmdb_wbuf_bytes(struct lmdb_wbuf *buf, const void *data, size_t len);
void lmdb_wbuf_u8(struct lmdb_wbuf *buf, uint8_t v);
void lmdb_wbuf_u16(struct lmdb_wbuf *buf, uint16_t v);
void lmdb_wbuf_u32(struct lmdb_wbuf *buf, uint32_t v);
void lmdb_wbuf_u64(struct lmdb_wbuf *buf, uint64_t v);
/* A length-prefixed (u32) byte string. */
void lmdb_wbuf_lstr(struct lmdb_wbuf *buf, const void *data, size_t len);
void lmdb_wbuf_free(struct lmdb_wbuf *buf);

/* Bounds-checked reader: any overrun sets `bad` and yields zeros. */
struct lmdb_rbuf {
        const uint8_t *p;
        size_t left;
        bool bad;
};
uint8_t lmdb_rbuf_u8(struct lmdb_rbuf *buf);
uint16_t lmdb_rbuf_u16(struct lmdb_rbuf *buf);
uint32_t lmdb_rbuf_u32(struct lmdb_rbuf *buf);
uint64_t lmdb_rbuf_u64(struct lmdb_rbuf *buf);
const uint8_t *lmdb_rbuf_bytes(struct lmdb_rbuf *buf, size_t len);
/* A u32-length-prefixed string copied NUL-terminated into `arena`. */
const char *lmdb_rbuf_lstr(struct lmdb_rbuf *buf, struct lmdb_arena *arena, size_t *len_r);

void lmdb_be32(uint8_t *p, uint32_t v);
void lmdb_be64(uint8_t *p, uint64_t v);
uint32_t lmdb_get_be32(const uint8_t *p);
uint64_t lmdb_get_be64(const uint8_t *p);

/* ---- handles ---- */

struct lmdb_options {
        char *path;                 /* malloc'd */
        uint64_t map_size;          /* 0: not given */
        uint64_t compress_threshold;
        int compress_level;
        unsigned max_readers;
};

struct cove_store {
        const struct cove_store_host *host;
        struct lmdb_options opts;
        MDB_env *env;
        int data_fd;                /* the env's data file (sync_concurrent) */
        MDB_dbi dbi[LMDB_DB_COUNT];
        pid_t pid;                  /* the process that opened the env */
        /* Under count_lock: a handoff txn (txn_begin_handoff) begins and
           commits on a second thread while this one uses the handle. */
        pthread_mutex_t count_lock;
        unsigned active_txns;       /* LMDB txns alive (or beginning) in this handle */
        uint64_t grow_to;           /* pending map size (0: none) */
        uint8_t *zbuf;              /* compression scratch, compressBound(chunk) */
        size_t zbuf_size;
        char error[1024];
};

struct cove_store_txn {
        struct cove_store *store;
        MDB_txn *txn;
        bool write;
        struct cove_store_txn *parent;   /* nested: the txn it commits into */
        bool handoff;               /* txn_begin_handoff: ends on its own thread */
        bool failed;                /* a write failed: commit discards */
        bool map_full;              /* ...because the map was full: grow at the end */
        enum cove_store_err fail_err;
        uint64_t need_hint;         /* bytes the failed write wanted (map growth) */
        struct lmdb_arena arena;    /* borrowed records; reset per call */
        unsigned iters;             /* open iterators (must be 0 at the end) */
};

/* Message part: one single-instance blob. */
struct lmdb_part {
        uint8_t hash[LMDB_HASH_LEN];
        uint64_t size;
};

/* A decoded message record plus what the ABI does not show. */
struct lmdb_msg {
        struct cove_store_msg pub;
        uint32_t part_count;
        struct lmdb_part parts[COVE_STORE_MAX_PARTS];
};

enum lmdb_iter_kind {
        LMDB_ITER_USERS,
        LMDB_ITER_MAILBOXES,
        LMDB_ITER_SUBSCRIPTIONS,
        LMDB_ITER_MESSAGES,
        LMDB_ITER_CHANGES,
};

/* Iterators keep a position (a name, a UID, MODSEQs), not a cursor: each
   next() seeks from it, so writes in the same txn never invalidate them. */
struct cove_store_iter {
        enum lmdb_iter_kind kind;
        struct cove_store_txn *txn;
        struct lmdb_arena arena;    /* the current item; reset per next() */
        uint32_t owner;             /* user id (names) or mailbox id */
        char *last_name;            /* malloc'd position of name iterators */
        uint32_t next_uid, uid_last;
        uint64_t pos_modseq, pos_expunge;
        bool done;
        union {
                struct cove_store_user user;
                struct cove_store_mailbox mailbox;
                struct lmdb_msg msg;
                struct cove_store_change change;
        } item;
};

/* Allocates an iterator of `kind` on txn (lmdb-iter.c). */
struct cove_store_iter *lmdb_iter_new(struct cove_store_txn *txn, enum lmdb_iter_kind kind,
                                      uint32_t owner);

/* ---- errors (lmdb-env.c) ---- */

/* Records a one-line error on the handle; returns `err` for chaining. */
enum cove_store_err lmdb_error(struct cove_store *store, enum cove_store_err err,
                               const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps an LMDB/errno code from `what` to a store code, records the detail,
   and marks the write txn failed when the failure poisons it. */
enum cove_store_err lmdb_txn_error(struct cove_store_txn *txn, int rc, const char *what);

/* Marks a write txn failed (commit will discard it) when err != OK after
   changes may have been made; returns err. */
enum cove_store_err lmdb_txn_fail(struct cove_store_txn *txn, enum cove_store_err err);

/* Starts a call on `txn`: resets its arena; returns non-OK when the txn has
   already failed (writes) so no further changes are attempted. */
enum cove_store_err lmdb_txn_call(struct cove_store_txn *txn, bool writes);

/* Raw LMDB helpers that map errors (NOTFOUND is returned unrecorded). */
enum cove_store_err lmdb_get(struct cove_store_txn *txn, enum lmdb_db db,
                             const void *key, size_t key_len, MDB_val *val_r);
enum cove_store_err lmdb_put(struct cove_store_txn *txn, enum lmdb_db db,
                             const void *key, size_t key_len,
                             const void *val, size_t val_len, unsigned flags);
enum cove_store_err lmdb_del(struct cove_store_txn *txn, enum lmdb_db db,
                             const void *key, size_t key_len);
/* Deletes every key starting with `prefix`. */
enum cove_store_err lmdb_del_prefix(struct cove_store_txn *txn, enum lmdb_db db,
                                    const void *prefix, size_t prefix_len);
/* Reads/increments a u64 counter in the meta database. */
enum cove_store_err lmdb_meta_get(struct cove_store_txn *txn, const char *name,
                                  uint64_t *value_r);
enum cove_store_err lmdb_meta_set(struct cove_store_txn *txn, const char *name,
                                  uint64_t value);
/* Returns the counter's current value + 1 and stores it. */
enum cove_store_err lmdb_meta_next(struct cove_store_txn *txn, const char *name,
                                   uint64_t *value_r);

/* ---- env and transactions (lmdb-env.c) ---- */

enum cove_store_err lmdb_store_open(const struct cove_store_host *host,
                                    const struct cove_store_conf *conf,
                                    struct cove_store **store_r, const char **error_r);
void lmdb_store_close(struct cove_store **store);
const char *lmdb_store_last_error(struct cove_store *store);
enum cove_store_err lmdb_txn_begin(struct cove_store *store, unsigned flags,
                                   struct cove_store_txn **txn_r);
enum cove_store_err lmdb_txn_commit(struct cove_store_txn **txn, unsigned flags);
void lmdb_txn_abort(struct cove_store_txn **txn);
enum cove_store_err lmdb_store_sync(struct cove_store *store);
enum cove_store_err lmdb_txn_begin_nested(struct cove_store_txn *parent,
                                          struct cove_store_txn **txn_r);
enum cove_store_err lmdb_txn_begin_handoff(struct cove_store *store,
                                           struct cove_store_txn **txn_r, char *errbuf,
                                           size_t errlen);
enum cove_store_err lmdb_txn_commit_handoff(struct cove_store_txn **txnp, char *errbuf,
                                            size_t errlen);
enum cove_store_err lmdb_store_sync_concurrent(struct cove_store *store, char *errbuf,
                                               size_t errlen);
/* A short read txn for streams: begins (handling MAP_RESIZED) / ends. */
enum cove_store_err lmdb_raw_read_begin(struct cove_store *store, MDB_txn **txn_r);
void lmdb_raw_read_end(struct cove_store *store, MDB_txn **txn);

/* ---- options (lmdb-options.c) ---- */

/* Parses conf->options into `opts` (defaults filled in). On error *error_r
   is "KEY: reason" in store->error. */
enum cove_store_err lmdb_options_parse(struct cove_store *store,
                                       const struct cove_store_conf *conf,
                                       struct lmdb_options *opts);
void lmdb_options_free(struct lmdb_options *opts);

/* ---- name indexes (lmdb-names.c) ---- */

enum cove_store_err lmdb_name_get(struct cove_store_txn *txn, enum lmdb_db db,
                                  uint32_t owner, const char *name, uint32_t *id_r);
/* @return OK, EXISTS */
enum cove_store_err lmdb_name_put(struct cove_store_txn *txn, enum lmdb_db db,
                                  uint32_t owner, const char *name, uint32_t id);
/* @return OK, NOTFOUND */
enum cove_store_err lmdb_name_del(struct cove_store_txn *txn, enum lmdb_db db,
                                  uint32_t owner, const char *name);
/* Finds the first name of `owner` ordered after `after` (NULL: the first).
   *name_r lives in `arena`. @return OK, NOTFOUND at the end */
enum cove_store_err lmdb_name_next(struct cove_store_txn *txn, enum lmdb_db db,
                                   uint32_t owner, const char *after,
                                   struct lmdb_arena *arena,
                                   const char **name_r, uint32_t *id_r);

/* ---- users (lmdb-users.c) ---- */

enum cove_store_err lmdb_user_read(struct cove_store_txn *txn, uint32_t user_id,
                                   struct lmdb_arena *arena, struct cove_store_user *user_r);
enum cove_store_err lmdb_user_write(struct cove_store_txn *txn,
                                    const struct cove_store_user *user);
/* Adds (signed) deltas to a user's usage. */
enum cove_store_err lmdb_user_add_usage(struct cove_store_txn *txn, uint32_t user_id,
                                        int64_t bytes, int64_t messages);

/* ---- mailboxes (lmdb-mailboxes.c) ---- */

enum cove_store_err lmdb_mailbox_read(struct cove_store_txn *txn, uint32_t mailbox_id,
                                      struct lmdb_arena *arena,
                                      struct cove_store_mailbox *mailbox_r);
enum cove_store_err lmdb_mailbox_write(struct cove_store_txn *txn,
                                       const struct cove_store_mailbox *mailbox);
/* Removes every message, index and log entry of a mailbox (not its record). */
enum cove_store_err lmdb_mailbox_purge(struct cove_store_txn *txn,
                                       const struct cove_store_mailbox *mailbox);
/* Deletes the mailbox record, name entry and contents (user usage too). */
enum cove_store_err lmdb_mailbox_remove(struct cove_store_txn *txn, uint32_t mailbox_id);

/* ---- messages (lmdb-messages.c, lmdb-msgcodec.c) ---- */

void lmdb_msg_key(uint8_t key[8], uint32_t mailbox_id, uint32_t uid);
void lmdb_modseq_key(uint8_t key[12], uint32_t mailbox_id, uint64_t modseq);
void lmdb_msg_encode(const struct lmdb_msg *msg, struct lmdb_wbuf *buf);
enum cove_store_err lmdb_msg_decode(struct cove_store_txn *txn, const MDB_val *val,
                                    struct lmdb_arena *arena, uint32_t uid,
                                    struct lmdb_msg *msg_r);
/* Decodes only the part list (streams, purges): no arena needed. */
bool lmdb_msg_decode_parts(const MDB_val *val, uint64_t *size_r, uint32_t *part_count_r,
                           struct lmdb_part parts[COVE_STORE_MAX_PARTS]);
enum cove_store_err lmdb_msg_read(struct cove_store_txn *txn, uint32_t mailbox_id,
                                  uint32_t uid, struct lmdb_arena *arena,
                                  struct lmdb_msg *msg_r);

/* ---- blobs (lmdb-blobs.c) ---- */

/* Stores `data` single-instance (or adds a reference); fills part->hash. */
enum cove_store_err lmdb_blob_store(struct cove_store_txn *txn, const void *data,
                                    uint64_t size, struct lmdb_part *part);
enum cove_store_err lmdb_blob_ref(struct cove_store_txn *txn, const struct lmdb_part *part);
/* Drops one reference; the last one frees the chunks. */
enum cove_store_err lmdb_blob_unref(struct cove_store_txn *txn, const struct lmdb_part *part);
/* Finds chunk `chunk_no` of blob `hash` in a raw read txn, undecoded:
   *data_r borrows the stored bytes (valid until `txn` ends), *compressed_r
   says they are zlib data, *len_r is the chunk's decoded length. Raw chunks
   are checked to be *len_r bytes; compressed ones at most LMDB_CHUNK_SIZE.
   @return OK, CORRUPT, NOTFOUND (no such blob), INTERNAL */
enum cove_store_err lmdb_blob_chunk_raw(struct cove_store *store, MDB_txn *txn,
                                        const uint8_t hash[LMDB_HASH_LEN],
                                        uint64_t blob_size, uint32_t chunk_no,
                                        MDB_val *data_r, bool *compressed_r, size_t *len_r);

/* ---- the rest of the ops table ---- */

enum cove_store_err lmdb_user_create(struct cove_store_txn *txn,
                                     const struct cove_store_user *user, uint32_t *user_id_r);
enum cove_store_err lmdb_user_lookup(struct cove_store_txn *txn, const char *name,
                                     const struct cove_store_user **user_r);
enum cove_store_err lmdb_user_get(struct cove_store_txn *txn, uint32_t user_id,
                                  const struct cove_store_user **user_r);
enum cove_store_err lmdb_user_update(struct cove_store_txn *txn, uint32_t user_id,
                                     unsigned fields, const struct cove_store_user *values);
enum cove_store_err lmdb_user_delete(struct cove_store_txn *txn, uint32_t user_id);

enum cove_store_err lmdb_mailbox_create(struct cove_store_txn *txn, uint32_t user_id,
                                        const char *name, uint32_t special_use,
                                        uint32_t *mailbox_id_r);
enum cove_store_err lmdb_mailbox_lookup(struct cove_store_txn *txn, uint32_t user_id,
                                        const char *name,
                                        const struct cove_store_mailbox **mailbox_r);
enum cove_store_err lmdb_mailbox_get(struct cove_store_txn *txn, uint32_t mailbox_id,
                                     const struct cove_store_mailbox **mailbox_r);
enum cove_store_err lmdb_mailbox_rename(struct cove_store_txn *txn, uint32_t mailbox_id,
                                        const char *new_name);
enum cove_store_err lmdb_mailbox_delete(struct cove_store_txn *txn, uint32_t mailbox_id);
enum cove_store_err lmdb_mailbox_advance_recent(struct cove_store_txn *txn,
                                                uint32_t mailbox_id, uint32_t uid,
                                                uint32_t *old_r);
enum cove_store_err lmdb_mailbox_set_special_use(struct cove_store_txn *txn,
                                                 uint32_t mailbox_id, uint32_t special_use);
enum cove_store_err lmdb_subscription_set(struct cove_store_txn *txn, uint32_t user_id,
                                          const char *name, bool subscribed);

enum cove_store_err lmdb_msg_append(struct cove_store_txn *txn, uint32_t mailbox_id,
                                    const struct cove_store_append *msg,
                                    struct cove_store_saved *saved_r);
enum cove_store_err lmdb_msg_get(struct cove_store_txn *txn, uint32_t mailbox_id,
                                 uint32_t uid, const struct cove_store_msg **msg_r);
enum cove_store_err lmdb_msg_update_flags(struct cove_store_txn *txn, uint32_t mailbox_id,
                                          uint32_t uid, enum cove_store_flag_op op,
                                          uint32_t flags, const char *const *keywords,
                                          size_t keyword_count, uint64_t *modseq_r);
enum cove_store_err lmdb_msg_expunge(struct cove_store_txn *txn, uint32_t mailbox_id,
                                     uint32_t uid);
enum cove_store_err lmdb_msg_copy(struct cove_store_txn *txn, uint32_t src_mailbox_id,
                                  uint32_t uid, uint32_t dst_mailbox_id,
                                  struct cove_store_saved *saved_r);
enum cove_store_err lmdb_msg_move(struct cove_store_txn *txn, uint32_t src_mailbox_id,
                                  uint32_t uid, uint32_t dst_mailbox_id,
                                  struct cove_store_saved *saved_r);

enum cove_store_err lmdb_user_iter_init(struct cove_store_txn *txn,
                                        struct cove_store_iter **iter_r);
enum cove_store_err lmdb_user_iter_next(struct cove_store_iter *iter,
                                        const struct cove_store_user **user_r);
enum cove_store_err lmdb_mailbox_iter_init(struct cove_store_txn *txn, uint32_t user_id,
                                           struct cove_store_iter **iter_r);
enum cove_store_err lmdb_mailbox_iter_next(struct cove_store_iter *iter,
                                           const struct cove_store_mailbox **mailbox_r);
enum cove_store_err lmdb_subscription_iter_init(struct cove_store_txn *txn, uint32_t user_id,
                                                struct cove_store_iter **iter_r);
enum cove_store_err lmdb_subscription_iter_next(struct cove_store_iter *iter,
                                                const char **name_r);
enum cove_store_err lmdb_msg_iter_init(struct cove_store_txn *txn, uint32_t mailbox_id,
                                       uint32_t uid_first, uint32_t uid_last,
                                       struct cove_store_iter **iter_r);
enum cove_store_err lmdb_msg_iter_next(struct cove_store_iter *iter,
                                       const struct cove_store_msg **msg_r);
enum cove_store_err lmdb_change_iter_init(struct cove_store_txn *txn, uint32_t mailbox_id,
                                          uint64_t since_modseq,
                                          struct cove_store_iter **iter_r);
enum cove_store_err lmdb_change_iter_next(struct cove_store_iter *iter,
                                          const struct cove_store_change **change_r);
void lmdb_iter_deinit(struct cove_store_iter **iter);

enum cove_store_err lmdb_stream_open(struct cove_store *store, uint32_t mailbox_id,
                                     uint32_t uid, struct cove_store_stream **stream_r,
                                     uint64_t *size_r);
enum cove_store_err lmdb_stream_read(struct cove_store_stream *stream, uint64_t offset,
                                     const void **data_r, size_t *len_r);
void lmdb_stream_close(struct cove_store_stream **stream);

enum cove_store_err lmdb_stats(struct cove_store *store, struct cove_store_stats *stats_r);

#endif

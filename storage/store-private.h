/* store-private.h - the facade's handle layouts and shared helpers, for the
 * store*.c files, deliver.c and the storage unit tests only.
 *
 * Front-ends include store.h; nothing here is part of any contract.
 */
#ifndef COVE_STORE_PRIVATE_H
#define COVE_STORE_PRIVATE_H

#include <time.h>

#include "store.h"

struct loader_plugin;
struct notify_watch;

struct store {
        struct pool *pool;                 /* the handle's lifetime */
        struct pool *err_pool;             /* holds last_error; cleared per error */
        struct pool *scratch;              /* per call (locks, watches); cleared on entry */
        struct loader_plugin *plugin;
        const struct cove_store_ops *ops;  /* the loader's checked copy */
        struct cove_store *engine;
        const char *conf_file;
        const char *state_dir;             /* NULL when the engine locks and notifies */
        const struct cove_conf *conf;      /* for option line numbers */
        const char *last_error;            /* in err_pool, never NULL */
        bool local_locks, local_notify;    /* engine left those ops NULL */
};

struct store_lock {
        struct store *store;
        uint32_t user_id;
        int fd;                            /* host-local lock, or -1 */
        struct cove_store_lock *engine;    /* engine lock, or NULL */
};

struct store_watch {
        struct store *store;
        int fd;
        struct notify_watch *local;
        struct cove_store_watch *engine;
};

struct store_txn {
        struct store *store;
        struct cove_store_txn *engine;
        struct store_txn *parent;          /* nested: commits into parent */
        bool has_child;                    /* a nested txn of this one lives */
        struct pool *pool;                 /* scratch, released at commit/abort */
        bool write;
        struct timespec started;           /* for the store trace */
        uint32_t *touched;                 /* users to notify after commit */
        size_t touched_count, touched_cap;
        struct store_lock **guards;        /* expunge guards held until the end */
        size_t guard_count, guard_cap;
        bool holds_maildrop;               /* store_txn_hold_maildrop() */
        uint32_t maildrop_user;
        /* Owner cache: a mailbox's owner and INBOX-ness never change. */
        uint32_t cache_mailbox_id, cache_user_id;
        bool cache_is_inbox;
};

struct store_iter {
        struct store *store;
        struct cove_store_iter *engine;
};

struct store_stream {
        struct store *store;
        struct cove_store_stream *engine;
};

/* The host services given to every engine (host.c). */
const struct cove_store_host *store_host(void);

/* Records a one-line failure detail on the handle and returns err. */
enum cove_store_err store_fail(struct store *store, enum cove_store_err err,
                               const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, appending the engine's own detail: "<what>: <code text>: <engine>". */
enum cove_store_err store_engine_fail(struct store *store, enum cove_store_err err,
                                      const char *what);

/* NOPERM (with detail naming `what`) unless txn is a write txn. */
enum cove_store_err store_txn_need_write(struct store_txn *txn, const char *what);

/* Wraps an engine iterator (heap; freed by store_iter_deinit()). */
struct store_iter *store_iter_wrap(struct store *store, struct cove_store_iter *iter);

/* Marks user_id as changed by this txn (published after commit). */
void store_txn_touch(struct store_txn *txn, uint32_t user_id);

/* Finds the owner of mailbox_id and whether it is the owner's INBOX. */
enum cove_store_err store_mailbox_owner(struct store_txn *txn, uint32_t mailbox_id,
                                        uint32_t *user_id_r, bool *is_inbox_r);

/* Takes user_id's expunge guard for the rest of txn (no-op when txn already
   holds it or holds the maildrop lock). INUSE while a POP3 session has it. */
enum cove_store_err store_txn_guard_expunge(struct store_txn *txn, uint32_t user_id);

/* Validates keywords: atoms, <= COVE_STORE_MAX_KEYWORD bytes, at most
   COVE_STORE_MAX_KEYWORDS after removing case-insensitive duplicates. On
   success *out_r and *count_r (in pool) hold the unique list. */
bool store_keywords_check(struct pool *pool, const char *const *keywords, size_t count,
                          const char *const **out_r, size_t *count_r, const char **error_r);

#endif

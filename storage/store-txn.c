/* store-txn.c - facade transactions, the POP3 maildrop lock, expunge guards,
 * change watches and the publish-after-commit rule.
 *
 * Owns: which users a txn touched, which guards it holds, and picking the
 * engine's lock/notify ops or the host-local ones (lock.c, notify.c). Does not
 * decide what needs a guard: store-mailbox.c and store-msg.c ask for one.
 */
#include "store-private.h"

#include <stdlib.h>
#include <string.h>

#include "lock.h"
#include "log.h"
#include "notify.h"
#include "pool.h"

/* ---- transactions ---- */

/* The facade's handle around a new engine txn (nested in parent, or NULL). */
static struct store_txn *txn_wrap(struct store *store, struct cove_store_txn *etxn, bool write,
                                  struct store_txn *parent)
{
        struct pool *pool = pool_create("store txn", 2048);
        struct store_txn *txn = pool_alloc(pool, sizeof(*txn));
        txn->store = store;
        txn->engine = etxn;
        txn->pool = pool;
        txn->write = write;
        txn->parent = parent;
        if (parent != NULL)
                parent->has_child = true;
        clock_gettime(CLOCK_MONOTONIC, &txn->started);
        return txn;
}

enum cove_store_err store_txn_begin(struct store *store, bool write, struct store_txn **txn_r)
{
        *txn_r = NULL;
        struct cove_store_txn *etxn = NULL;
        enum cove_store_err err = store->ops->txn_begin(
                store->engine, write ? COVE_STORE_TXN_WRITE : COVE_STORE_TXN_READ, &etxn);
        if (err != COVE_STORE_OK)
                return store_engine_fail(store, err, "begin transaction");
        *txn_r = txn_wrap(store, etxn, write, NULL);
        return COVE_STORE_OK;
}

bool store_can_nest(const struct store *store)
{
        return store->ops->txn_begin_nested != NULL;
}

enum cove_store_err store_txn_begin_nested(struct store_txn *parent, struct store_txn **txn_r)
{
        struct store *store = parent->store;
        *txn_r = NULL;
        if (!parent->write || parent->has_child || store->ops->txn_begin_nested == NULL)
                return store_fail(store, COVE_STORE_INTERNAL, "nested transaction: %s",
                                  !parent->write ? "read-only parent" :
                                  parent->has_child ? "the parent already has one" :
                                  "the engine cannot nest");
        struct cove_store_txn *etxn = NULL;
        enum cove_store_err err = store->ops->txn_begin_nested(parent->engine, &etxn);
        if (err != COVE_STORE_OK)
                return store_engine_fail(store, err, "begin nested transaction");
        *txn_r = txn_wrap(store, etxn, true, parent);
        return COVE_STORE_OK;
}

struct store *store_txn_store(struct store_txn *txn)
{
        return txn->store;
}

enum cove_store_err store_txn_need_write(struct store_txn *txn, const char *what)
{
        if (txn->write)
                return COVE_STORE_OK;
        return store_fail(txn->store, COVE_STORE_NOPERM, "%s: read-only transaction", what);
}

void store_txn_touch(struct store_txn *txn, uint32_t user_id)
{
        for (size_t i = 0; i < txn->touched_count; i++) {
                if (txn->touched[i] == user_id)
                        return;
        }
        if (txn->touched_count == txn->touched_cap) {
                size_t cap = txn->touched_cap == 0 ? 4 : txn->touched_cap * 2;
                txn->touched = pool_realloc(txn->pool, txn->touched,
                                            txn->touched_cap * sizeof(*txn->touched),
                                            cap * sizeof(*txn->touched));
                txn->touched_cap = cap;
        }
        txn->touched[txn->touched_count++] = user_id;
}

static void publish(struct store *store, uint32_t user_id, struct pool *pool)
{
        if (store->local_notify) {
                const char *error;
                if (notify_publish(store->state_dir, user_id, pool, &error) < 0)
                        log_warn("store: notify user=%u: %s", user_id, error);
                return;
        }
        enum cove_store_err err = store->ops->notify_publish(store->engine, user_id);
        if (err != COVE_STORE_OK)
                log_warn("store: notify user=%u: %s: %s", user_id, cove_store_strerror(err),
                         store->ops->last_error(store->engine));
}

/* Logs one line per finished txn when `trace=store` is on. */
static void txn_trace(const struct store_txn *txn, const char *how, enum cove_store_err err)
{
        if (!log_trace_enabled(LOG_TRACE_STORE))
                return;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long us = (long long)(now.tv_sec - txn->started.tv_sec) * 1000000 +
                       (now.tv_nsec - txn->started.tv_nsec) / 1000;
        log_info("store: txn %s %s result=%s users=%zu guards=%zu duration_us=%lld",
                 txn->write ? "write" : "read", how, cove_store_strerror(err),
                 txn->touched_count, txn->guard_count, us);
}

/* Ends txn: drops the guards (after the commit, so no POP3 session can lock
   and read the maildrop before our expunges are visible) and frees it. */
static void txn_free(struct store_txn **txnp)
{
        struct store_txn *txn = *txnp;
        *txnp = NULL;
        for (size_t i = 0; i < txn->guard_count; i++)
                store_lock_release(&txn->guards[i]);
        struct pool *pool = txn->pool;
        pool_destroy(&pool);
}

static void txn_add_guard(struct store_txn *txn, struct store_lock *lock)
{
        if (txn->guard_count == txn->guard_cap) {
                size_t cap = txn->guard_cap == 0 ? 2 : txn->guard_cap * 2;
                txn->guards = pool_realloc(txn->pool, txn->guards,
                                           txn->guard_cap * sizeof(*txn->guards),
                                           cap * sizeof(*txn->guards));
                txn->guard_cap = cap;
        }
        txn->guards[txn->guard_count++] = lock;
}

/* A committed child's guards and users to notify now belong to its parent:
   they last, and are published, until the parent ends. */
static void txn_merge_into_parent(struct store_txn *txn)
{
        struct store_txn *parent = txn->parent;
        for (size_t i = 0; i < txn->touched_count; i++)
                store_txn_touch(parent, txn->touched[i]);
        for (size_t i = 0; i < txn->guard_count; i++)
                txn_add_guard(parent, txn->guards[i]);
        txn->guard_count = 0;
}

static enum cove_store_err txn_commit(struct store_txn **txnp, unsigned flags)
{
        struct store_txn *txn = *txnp;
        struct store *store = txn->store;
        enum cove_store_err err = store->ops->txn_commit(&txn->engine, flags);
        txn->engine = NULL;
        if (txn->parent != NULL)
                txn->parent->has_child = false;
        if (err != COVE_STORE_OK) {
                store_engine_fail(store, err, "commit");
        } else if (txn->parent != NULL) {
                txn_merge_into_parent(txn);
        } else {
                for (size_t i = 0; i < txn->touched_count; i++)
                        publish(store, txn->touched[i], txn->pool);
        }
        txn_trace(txn, "commit", err);
        txn_free(txnp);
        return err;
}

enum cove_store_err store_txn_commit_as(struct store_txn **txn, enum store_flush flush)
{
        switch (flush) {
        case STORE_FLUSH_ORDERED:
                return txn_commit(txn, COVE_STORE_COMMIT_ORDERED);
        case STORE_FLUSH_NONE:
                return txn_commit(txn, COVE_STORE_COMMIT_NOSYNC);
        case STORE_FLUSH_DURABLE:
                break;
        }
        return txn_commit(txn, 0);
}

enum cove_store_err store_txn_commit(struct store_txn **txn)
{
        return txn_commit(txn, 0);
}

enum cove_store_err store_txn_commit_nosync(struct store_txn **txn)
{
        return txn_commit(txn, COVE_STORE_COMMIT_NOSYNC);
}

void store_txn_abort(struct store_txn **txnp)
{
        struct store_txn *txn = *txnp;
        if (txn == NULL)
                return;
        if (txn->engine != NULL)
                txn->store->ops->txn_abort(&txn->engine);
        if (txn->parent != NULL)
                txn->parent->has_child = false;
        txn_trace(txn, "abort", COVE_STORE_OK);
        txn_free(txnp);
}

bool store_can_handoff(const struct store *store)
{
        return store->ops->txn_begin_handoff != NULL && store->ops->txn_begin_nested != NULL;
}

enum cove_store_err store_handoff_begin(struct store *store, struct cove_store_txn **etxn_r,
                                        char *errbuf, size_t errlen)
{
        errbuf[0] = '\0';
        return store->ops->txn_begin_handoff(store->engine, etxn_r, errbuf, errlen);
}

enum cove_store_err store_handoff_commit(struct store *store, struct cove_store_txn **etxn,
                                         char *errbuf, size_t errlen)
{
        errbuf[0] = '\0';
        return store->ops->txn_commit_handoff(etxn, errbuf, errlen);
}

struct store_txn *store_handoff_adopt(struct store *store, struct cove_store_txn *etxn)
{
        return txn_wrap(store, etxn, true, NULL);
}

struct cove_store_txn *store_handoff_release(struct store_txn *txn)
{
        COVE_ASSERT(!txn->has_child);
        struct cove_store_txn *etxn = txn->engine;
        txn->engine = NULL;
        return etxn;
}

void store_handoff_end(struct store_txn **txnp, enum cove_store_err result)
{
        struct store_txn *txn = *txnp;
        COVE_ASSERT(txn->engine == NULL);
        if (result == COVE_STORE_OK) {
                for (size_t i = 0; i < txn->touched_count; i++)
                        publish(txn->store, txn->touched[i], txn->pool);
        }
        txn_trace(txn, "commit", result);
        txn_free(txnp);
}

enum cove_store_err store_sync(struct store *store)
{
        /* Without sync the engine flushed at every commit already. */
        if (store->ops->sync == NULL)
                return COVE_STORE_OK;
        enum cove_store_err err = store->ops->sync(store->engine);
        if (err != COVE_STORE_OK)
                return store_engine_fail(store, err, "sync");
        return COVE_STORE_OK;
}

bool store_can_sync_concurrently(const struct store *store)
{
        return store->ops->sync_concurrent != NULL;
}

enum cove_store_err store_sync_concurrent(struct store *store, char *errbuf, size_t errlen)
{
        COVE_ASSERT(store->ops->sync_concurrent != NULL && errlen > 0);
        errbuf[0] = '\0';
        return store->ops->sync_concurrent(store->engine, errbuf, errlen);
}

enum cove_store_err store_mailbox_owner(struct store_txn *txn, uint32_t mailbox_id,
                                        uint32_t *user_id_r, bool *is_inbox_r)
{
        if (txn->cache_mailbox_id == 0 || txn->cache_mailbox_id != mailbox_id) {
                const struct cove_store_mailbox *mb;
                enum cove_store_err err = txn->store->ops->mailbox_get(txn->engine, mailbox_id,
                                                                       &mb);
                if (err != COVE_STORE_OK)
                        return store_engine_fail(txn->store, err,
                                                 pool_printf(txn->pool, "mailbox %u",
                                                             mailbox_id));
                txn->cache_mailbox_id = mailbox_id;
                txn->cache_user_id = mb->user_id;
                txn->cache_is_inbox = strcmp(mb->name, "INBOX") == 0;
        }
        *user_id_r = txn->cache_user_id;
        *is_inbox_r = txn->cache_is_inbox;
        return COVE_STORE_OK;
}

/* ---- locks ---- */

static enum cove_store_err lock_take(struct store *store, uint32_t user_id, bool exclusive,
                                     struct store_lock **lock_r)
{
        *lock_r = NULL;
        struct store_lock *lock = xcalloc(1, sizeof(*lock));
        lock->store = store;
        lock->user_id = user_id;
        lock->fd = -1;
        enum cove_store_err err;
        if (store->local_locks) {
                const char *error = NULL;
                pool_clear(store->scratch);
                err = lock_local_take(store->state_dir, user_id, exclusive, &lock->fd,
                                      store->scratch, &error);
                if (err != COVE_STORE_OK)
                        store_fail(store, err, "%s", error);
        } else {
                err = exclusive
                        ? store->ops->lock_maildrop(store->engine, user_id, &lock->engine)
                        : store->ops->lock_expunge_guard(store->engine, user_id, &lock->engine);
                if (err != COVE_STORE_OK)
                        store_engine_fail(store, err, exclusive ? "maildrop lock"
                                                                : "expunge guard");
        }
        if (log_trace_enabled(LOG_TRACE_LOCK))
                log_info("store: lock user=%u kind=%s result=%s", user_id,
                         exclusive ? "maildrop" : "expunge-guard", cove_store_strerror(err));
        if (err != COVE_STORE_OK) {
                free(lock);
                return err;
        }
        *lock_r = lock;
        return COVE_STORE_OK;
}

enum cove_store_err store_maildrop_lock(struct store *store, uint32_t user_id,
                                        struct store_lock **lock_r)
{
        return lock_take(store, user_id, true, lock_r);
}

void store_lock_release(struct store_lock **lockp)
{
        struct store_lock *lock = *lockp;
        if (lock == NULL)
                return;
        *lockp = NULL;
        if (lock->engine != NULL)
                lock->store->ops->unlock(&lock->engine);
        lock_local_release(&lock->fd);
        free(lock);
}

void store_txn_hold_maildrop(struct store_txn *txn, struct store_lock *lock)
{
        txn->holds_maildrop = lock != NULL;
        txn->maildrop_user = lock != NULL ? lock->user_id : 0;
}

enum cove_store_err store_txn_guard_expunge(struct store_txn *txn, uint32_t user_id)
{
        /* Held by this txn or one it is nested in: nothing to take. */
        for (const struct store_txn *t = txn; t != NULL; t = t->parent) {
                if (t->holds_maildrop && t->maildrop_user == user_id)
                        return COVE_STORE_OK;
                for (size_t i = 0; i < t->guard_count; i++) {
                        if (t->guards[i]->user_id == user_id)
                                return COVE_STORE_OK;
                }
        }
        struct store_lock *lock;
        enum cove_store_err err = lock_take(txn->store, user_id, false, &lock);
        if (err != COVE_STORE_OK)
                return err;
        txn_add_guard(txn, lock);
        return COVE_STORE_OK;
}

/* ---- change watches ---- */

enum cove_store_err store_watch_start(struct store *store, uint32_t user_id,
                                      struct store_watch **watch_r)
{
        *watch_r = NULL;
        struct store_watch *watch = xcalloc(1, sizeof(*watch));
        watch->store = store;
        watch->fd = -1;
        if (store->local_notify) {
                const char *error = NULL;
                pool_clear(store->scratch);
                if (notify_watch_start(store->state_dir, user_id, &watch->local,
                                       store->scratch, &error) < 0) {
                        free(watch);
                        return store_fail(store, COVE_STORE_INTERNAL, "watch user %u: %s",
                                          user_id, error);
                }
                watch->fd = notify_watch_fd(watch->local);
        } else {
                enum cove_store_err err = store->ops->notify_watch(store->engine, user_id,
                                                                   &watch->engine, &watch->fd);
                if (err != COVE_STORE_OK) {
                        free(watch);
                        return store_engine_fail(store, err, "watch");
                }
        }
        *watch_r = watch;
        return COVE_STORE_OK;
}

int store_watch_fd(const struct store_watch *watch)
{
        return watch->fd;
}

void store_watch_drain(struct store_watch *watch)
{
        if (watch->local != NULL)
                notify_watch_drain(watch->local);
        else
                watch->store->ops->notify_drain(watch->engine);
}

void store_watch_stop(struct store_watch **watchp)
{
        struct store_watch *watch = *watchp;
        if (watch == NULL)
                return;
        *watchp = NULL;
        if (watch->local != NULL)
                notify_watch_stop(&watch->local);
        else
                watch->store->ops->notify_unwatch(&watch->engine);
        free(watch);
}

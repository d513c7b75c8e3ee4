/* commit.h - group commit: one store flush shared by every delivery of a
 * worker that committed before it, run in a helper thread so that the
 * worker's loop goes on reading messages while the disk flushes.
 *
 * Deliveries commit without flushing (store_txn_commit_nosync via
 * store_deliver_batch) and queue a waiter. Before the loop next sleeps,
 * after every connection has had its turn, one store_sync() is started in
 * the worker's sync thread for everything queued; when it returns, each
 * waiter is told the result from the loop. Commits made meanwhile queue for
 * the next flush, which starts as soon as the previous one ends.
 *
 * The store handle is never used by two threads at once: while the thread
 * flushes, the store is "busy" and the loop must not touch it; code that
 * needs it parks a waiter with lmtp_commit_when_free() and runs when the
 * flush is over. Owns only the queues and the thread; knows nothing of LMTP.
 */
#ifndef LMTP_COMMIT_H
#define LMTP_COMMIT_H

#include <stdbool.h>

#include <ev.h>

#include "cove/storage.h"

struct store;
struct lmtp_commit;

struct lmtp_commit_waiter;
typedef void lmtp_commit_done_fn(struct lmtp_commit_waiter *waiter, enum cove_store_err err);

/* Embedded in the waiting object (a session); linked while queued. */
struct lmtp_commit_waiter {
        struct lmtp_commit_waiter *next;
        lmtp_commit_done_fn *done;
        bool queued;
};

/* Creates the queue and its sync thread on loop for store (both borrowed;
   they must outlive it). Returns 0, or -1 with *error_r (static) when the
   thread cannot be started. */
int lmtp_commit_create(struct ev_loop *loop, struct store *store,
                       struct lmtp_commit **commit_r, const char **error_r);
/* Waits for a running flush, flushes what is pending (waiters are told),
   stops the thread and frees; *commitp = NULL. */
void lmtp_commit_destroy(struct lmtp_commit **commitp);

/* True while the sync thread flushes: the store must not be used now. */
bool lmtp_commit_store_busy(const struct lmtp_commit *commit);

/* Queues waiter: done(waiter, err) runs from the loop after one store_sync()
   that began after every commit made before this call; err is its result.
   done is never called from inside this function. The store must not be
   busy (the commit being waited for could not have been made otherwise). */
void lmtp_commit_wait(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter,
                      lmtp_commit_done_fn *done);

/* Parks waiter until the store is free: done(waiter, COVE_STORE_OK) runs from
   the loop when the running flush has ended (after the flush's own waiters
   were told). Only while lmtp_commit_store_busy(). */
void lmtp_commit_when_free(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter,
                           lmtp_commit_done_fn *done);

/* Takes a queued or parked waiter out (its owner is going away); a flush
   still runs, so what it committed becomes durable anyway. No-op if not
   queued. */
void lmtp_commit_cancel(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter);

#endif

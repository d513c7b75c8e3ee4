/* commit.h - group commit: one store flush shared by every delivery of a
 * worker that committed before it.
 *
 * Deliveries commit without flushing (store_txn_commit_nosync via
 * store_deliver_batch) and queue a waiter. Before the loop next sleeps, after
 * every ready connection has had its turn (so everything that arrived
 * together committed together), one store_sync() makes all of them durable
 * and then each waiter is told the result. Owns only that queue; knows
 * nothing of LMTP.
 *
 * Caveats: the flush blocks the worker's loop while it runs; deliveries that
 * arrive meanwhile wait in the socket buffers and form the next group.
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

/* Creates the queue on loop for store (both borrowed; they must outlive it). */
struct lmtp_commit *lmtp_commit_create(struct ev_loop *loop, struct store *store);
/* Flushes what is pending (waiters are told) and frees; *commitp = NULL. */
void lmtp_commit_destroy(struct lmtp_commit **commitp);

/* Queues waiter: done(waiter, err) runs from the loop after one store_sync()
   covering every commit made before this call; err is its result. done is
   never called from inside this function. */
void lmtp_commit_wait(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter,
                      lmtp_commit_done_fn *done);

/* Takes a queued waiter out (its owner is going away); the flush still runs,
   so what it committed becomes durable anyway. No-op if not queued. */
void lmtp_commit_cancel(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter);

#endif

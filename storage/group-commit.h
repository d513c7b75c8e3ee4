/* group-commit.h - one store flush shared by every change a worker committed
 * before it, so that a front-end acknowledges many clients' changes for the
 * price of one disk flush and its event loop never waits for the disk.
 *
 * Changes are committed without flushing (store_txn_commit_nosync) and the
 * caller queues a waiter. Before the loop next sleeps, after every
 * connection with input ready has had its turn, one flush is started for
 * everything queued; when it has returned, each waiter is told the result
 * from the loop, and only then may the caller acknowledge (LMTP 250, IMAP
 * tagged OK). Commits made meanwhile wait for the next flush, which starts
 * as soon as the previous one ends.
 *
 * Where the engine offers sync_concurrent (LMDB does), the flush runs in a
 * helper thread and the loop goes on using the store meanwhile: reading,
 * committing. Otherwise store_sync() runs on the loop (still one flush for
 * many commits). Knows nothing of any protocol.
 *
 * Only with [store] flush = group. With the default (commit) the daemons
 * commit with store_txn_commit(), which is durable on return, and never
 * queue a waiter: LMDB's NOSYNC commits can leave the file inconsistent if
 * the machine (not the process) dies before the flush (docs/config.md).
 */
#ifndef COVE_GROUP_COMMIT_H
#define COVE_GROUP_COMMIT_H

#include <stdbool.h>

#include <ev.h>

#include "cove/storage.h"

struct store;
struct group_commit;

struct group_commit_waiter;
typedef void group_commit_done_fn(struct group_commit_waiter *waiter, enum cove_store_err err);

/* Embedded in the waiting object (a session); linked while queued. */
struct group_commit_waiter {
        struct group_commit_waiter *next;
        group_commit_done_fn *done;
        bool queued;
};

/* Creates the queue on loop for store; both are borrowed and must outlive
   it. name prefixes its log lines ("lmtp", "imap"). deferred: [store] flush
   = group (start the flush thread when the engine can flush concurrently);
   false: the queue stays unused. Returns 0, or -1 with a static *error_r. */
int group_commit_create(struct ev_loop *loop, struct store *store, const char *name,
                        bool deferred, struct group_commit **gc_r, const char **error_r);

/* True when commits are deferred ([store] flush = group): commit with
   store_txn_commit_nosync() and queue a waiter before acknowledging. False:
   commit with store_txn_commit() and acknowledge at once. */
bool group_commit_deferred(const struct group_commit *gc);
/* Finishes a running flush, flushes what is still queued (waiters are told),
   stops the thread and frees; *gcp = NULL. */
void group_commit_destroy(struct group_commit **gcp);

/* Queues waiter: done(waiter, err) runs from the loop after one flush that
   began after this call; err is its result. Never called from inside this
   function. Only when deferred. */
void group_commit_wait(struct group_commit *gc, struct group_commit_waiter *waiter,
                       group_commit_done_fn *done);

/* A NOSYNC commit that nobody waits for (e.g. a \Recent watermark advanced
   during IDLE): makes sure a flush follows it anyway. */
void group_commit_note(struct group_commit *gc);

/* Takes a queued waiter out (its owner is going away); the flush still
   runs, so what it committed becomes durable anyway. No-op if not queued. */
void group_commit_cancel(struct group_commit *gc, struct group_commit_waiter *waiter);

/* Flushes completed and waiters told since create (covectl-free figures for
   tests and debug logs). */
unsigned long long group_commit_flushes(const struct group_commit *gc);

#endif

/* group-commit.h - one store flush shared by every change a worker committed
 * before it, so that a front-end acknowledges many clients' changes for the
 * price of one disk flush, run off the event loop.
 *
 * Changes are committed without a full flush (store_txn_commit_as with the
 * queue's mode; usually as one write batch, write-batch.h) and the caller
 * queues a waiter. Before the loop next sleeps, after every
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
 * The mode comes from [store] flush: commit (the default) gives ORDERED
 * commits (LMDB: the pages are flushed at commit, only the root waits for
 * the shared flush; a machine crash never leaves the store inconsistent);
 * group gives NONE (LMDB NOSYNC: nothing flushed at commit; faster, but a
 * machine crash before the flush can corrupt the store; docs/config.md).
 */
#ifndef COVE_GROUP_COMMIT_H
#define COVE_GROUP_COMMIT_H

#include <stdbool.h>

#include <ev.h>

#include "cove/storage.h"
#include "store.h"

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
   it. name prefixes its log lines ("lmtp", "imap"). mode: how the daemon's
   commits reach the disk; DURABLE makes the queue unused (every commit is
   durable on its own). Returns 0, or -1 with a static *error_r. */
int group_commit_create(struct ev_loop *loop, struct store *store, const char *name,
                        enum store_flush mode, struct group_commit **gc_r,
                        const char **error_r);

/* The mode for [store] flush = value ("commit" or "group", as checked by
   the config loader). */
enum store_flush group_commit_mode_for(const char *value);

/* How to commit: store_txn_commit_as(txn, group_commit_mode(gc)). Unless it
   is DURABLE, queue a waiter before acknowledging the change. */
enum store_flush group_commit_mode(const struct group_commit *gc);
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

/* A durable commit is about to start (the write batch's, on its helper
   thread): every waiter queued so far is set aside, since that commit will
   flush everything committed before it. group_commit_claim_end() then tells
   them its result (OK), or, when it failed, puts them back in the queue for
   an ordinary flush. */
void group_commit_claim(struct group_commit *gc);
void group_commit_claim_end(struct group_commit *gc, enum cove_store_err err);

/* Flushes completed and waiters told since create (covectl-free figures for
   tests and debug logs). */
unsigned long long group_commit_flushes(const struct group_commit *gc);

#endif

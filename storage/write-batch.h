/* write-batch.h - one store commit for many clients' changes: a daemon
 * queues the work of each client that wants to write, and once per loop
 * iteration the batch runs all of it inside one write transaction, each
 * client in a transaction nested in it (so one client's failure undoes only
 * its own changes), then commits once. With [store] flush = commit that is
 * one disk flush of the pages (and one shared flush of the root, by the
 * group commit) for the whole batch instead of one per client.
 *
 * Runs from a libev prepare watcher after the connection framework's (so
 * every client with input ready has queued) and before the group commit's
 * (so the flush that follows covers the batch). Without nested transactions
 * in the engine the queued work still runs, each part committing on its
 * own. Knows nothing of any protocol.
 *
 * With flush = commit and an engine offering handoff transactions (LMDB),
 * the batch's transaction is begun and committed, durably, by a helper
 * thread: the loop never waits for the engine's writer lock (another
 * process's batch may hold it through its commit), only nests its work in
 * the transaction once it is there (entries queued meanwhile join it), and
 * goes on serving other sessions while the commit flushes. That commit covers every waiter the
 * group commit had queued when it began, so they are answered when it ends,
 * with no flush of their own (group_commit_claim). The next batch waits for
 * the running commit (the engine's writer lock is the helper's until then).
 * Otherwise the loop begins and commits the batch's transaction itself (its
 * writer lock held only while the batch runs) and the group commit's flush
 * follows.
 */
#ifndef COVE_WRITE_BATCH_H
#define COVE_WRITE_BATCH_H

#include <stdbool.h>

#include <ev.h>

#include "group-commit.h"
#include "store.h"

struct write_batch;
struct write_batch_entry;

/* Runs the entry's work; it begins its write txns with write_batch_begin(). */
typedef void write_batch_run_fn(struct write_batch_entry *entry);
/* The batch's commit failed after the entry's work ran (and committed into
   it): nothing of it is stored. */
typedef void write_batch_failed_fn(struct write_batch_entry *entry, enum cove_store_err err);

/* Embedded in the queued object (a session). */
struct write_batch_entry {
        struct write_batch_entry *next;
        write_batch_run_fn *run;
        write_batch_failed_fn *failed;
        bool queued;                 /* waiting for the next batch */
        bool first;                  /* queued with write_batch_enqueue_first */
        bool ran;                    /* in the running batch, before its commit */
};

/* Creates the batch on loop for store, made durable through gc (all
   borrowed, outliving it; the batch commits with gc's mode). name prefixes
   its log lines. Returns 0, or -1 with a static *error_r when the helper
   thread cannot start. */
int write_batch_create(struct ev_loop *loop, struct store *store, const char *name,
                       struct group_commit *gc, struct write_batch **wb_r,
                       const char **error_r);
/* Finishes a running commit, runs what is still queued (a last batch),
   stops the helper, frees; *wbp = NULL. */
void write_batch_destroy(struct write_batch **wbp);

/* Queues entry: run(entry) is called from the loop in the next batch, never
   from inside this function. */
void write_batch_enqueue(struct write_batch *wb, struct write_batch_entry *entry,
                         write_batch_run_fn *run, write_batch_failed_fn *failed);
/* The same, but entry runs before every entry queued with
   write_batch_enqueue(), so before anything in the batch changed the store:
   a txn it nests in the batch reads the last committed state, and only
   what other "first" entries wrote (say, to read a view and claim
   something in the same txn). */
void write_batch_enqueue_first(struct write_batch *wb, struct write_batch_entry *entry,
                               write_batch_run_fn *run, write_batch_failed_fn *failed);
/* The owner is going away: entry is forgotten (dequeued, or not told about
   the running batch's result). */
void write_batch_cancel(struct write_batch *wb, struct write_batch_entry *entry);

/* True while a batch runs its entries. */
bool write_batch_running(const struct write_batch *wb);
/* True while a batch runs its entries inside a transaction of its own:
   write_batch_begin() then nests, with no writer lock to take. */
bool write_batch_nests(const struct write_batch *wb);

/* A write txn for the running entry: nested in the batch's transaction when
   there is one, else a transaction of its own (commit it with the batch's
   mode). Commit or abort it before run() returns. Every write txn of the
   loop's thread must begin here: while a batch runs, the thread holds the
   engine's writer lock, and a second top-level write txn would wait for
   itself. Outside a batch, while the helper is beginning one, the helper
   commits that (empty) transaction first and the loop waits for it: the
   queue stays for the next batch. */
enum cove_store_err write_batch_begin(struct write_batch *wb, struct store_txn **txn_r);

/* Batches committed since create (for tests and debug logs). */
unsigned long long write_batch_count(const struct write_batch *wb);

#endif

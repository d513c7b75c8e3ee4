/* write-batch.c - the batch queue, its run and its helper thread
 * (write-batch.h).
 *
 * A prepare watcher at priority -1 takes the queue, has one write
 * transaction begun, runs every entry (each nests its own transactions in
 * it) and has it committed. In handoff mode the helper thread begins and
 * commits that transaction and an ev_async reports the end of each: the
 * loop never waits for the engine's writer lock, which another process's
 * batch may hold through its whole commit. The queue is taken when the
 * transaction is there, so entries queued while it was being begun join
 * it. Otherwise the loop begins and commits it. Entries queued while a
 * batch commits wait for the next one.
 */
#include "write-batch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "offload.h"
#include "pool.h"

enum helper_job {
        JOB_NONE,
        JOB_BEGIN,      /* begin a handoff txn */
        JOB_COMMIT,     /* commit it */
        JOB_STOP,
};

struct write_batch {
        struct ev_loop *loop;
        struct store *store;
        const char *name;
        struct group_commit *gc;
        enum store_flush mode;
        ev_prepare prepare;
        struct write_batch_entry *queue, **queue_tail;
        struct write_batch_entry **first_tail;   /* after the last "first" entry */
        struct write_batch_entry *ran;    /* entries of the running batch */
        struct store_txn *txn;            /* the running batch's transaction */
        bool running;                     /* entries are being run */
        bool handoff;                     /* the helper begins and commits */
        bool beginning;                   /* the helper begins the batch */
        bool committing;                  /* the helper commits the batch */
        unsigned entries;                 /* of the batch being committed */
        struct timespec started;
        unsigned long long batches;

        /* The helper thread; job fields under lock. */
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        ev_async async;
        enum helper_job job;
        bool job_done;
        struct cove_store_txn *etxn;
        enum cove_store_err job_err;
        char job_error[256];
};

static void queue_reset(struct write_batch *wb)
{
        wb->queue = NULL;
        wb->queue_tail = &wb->queue;
        wb->first_tail = &wb->queue;
}

/* Both tails again after an entry left the queue ("first" entries are a
   prefix of it). */
static void queue_retail(struct write_batch *wb)
{
        wb->first_tail = &wb->queue;
        wb->queue_tail = &wb->queue;
        while (*wb->queue_tail != NULL) {
                if ((*wb->queue_tail)->first)
                        wb->first_tail = &(*wb->queue_tail)->next;
                wb->queue_tail = &(*wb->queue_tail)->next;
        }
}

static bool list_remove(struct write_batch_entry **head, struct write_batch_entry *entry)
{
        for (struct write_batch_entry **p = head; *p != NULL; p = &(*p)->next) {
                if (*p == entry) {
                        *p = entry->next;
                        entry->next = NULL;
                        return true;
                }
        }
        return false;
}

/* ---- the helper thread ---- */

static void *helper_main(void *arg)
{
        struct write_batch *wb = arg;
        pthread_mutex_lock(&wb->lock);
        for (;;) {
                while (wb->job == JOB_NONE || wb->job_done)
                        pthread_cond_wait(&wb->cond, &wb->lock);
                enum helper_job job = wb->job;
                if (job == JOB_STOP)
                        break;
                char error[sizeof(wb->job_error)];
                struct cove_store_txn *etxn = wb->etxn;
                pthread_mutex_unlock(&wb->lock);
                enum cove_store_err err = job == JOB_BEGIN
                        ? store_handoff_begin(wb->store, &etxn, error, sizeof(error))
                        : store_handoff_commit(wb->store, &etxn, error, sizeof(error));
                pthread_mutex_lock(&wb->lock);
                wb->etxn = etxn;
                wb->job_err = err;
                snprintf(wb->job_error, sizeof(wb->job_error), "%s", error);
                wb->job_done = true;
                pthread_cond_broadcast(&wb->cond);
                ev_async_send(wb->loop, &wb->async);
        }
        pthread_mutex_unlock(&wb->lock);
        return NULL;
}

/* Hands job to the helper; its end comes back through the ev_async
   (helper_take_result). */
static void helper_run(struct write_batch *wb, enum helper_job job)
{
        pthread_mutex_lock(&wb->lock);
        wb->job = job;
        wb->job_done = false;
        pthread_cond_broadcast(&wb->cond);
        pthread_mutex_unlock(&wb->lock);
}

/* If the helper has finished job, takes its result (err, error text) and
   returns true; the helper is then free for the next job. */
static bool helper_take_result(struct write_batch *wb, enum helper_job job,
                               enum cove_store_err *err_r, char *error, size_t errlen)
{
        pthread_mutex_lock(&wb->lock);
        bool done = wb->job == job && wb->job_done;
        if (done) {
                *err_r = wb->job_err;
                snprintf(error, errlen, "%s", wb->job_error);
                wb->job = JOB_NONE;
        }
        pthread_mutex_unlock(&wb->lock);
        return done;
}

/* Blocks until the helper's running job is over (destroy, give back). */
static void helper_wait(struct write_batch *wb)
{
        pthread_mutex_lock(&wb->lock);
        while (wb->job != JOB_NONE && !wb->job_done)
                pthread_cond_wait(&wb->cond, &wb->lock);
        pthread_mutex_unlock(&wb->lock);
}

/* ---- running a batch ---- */

/* Runs the entries of list in order; each moves to wb->ran first, so that
   the failure of the commit can reach it (unless its owner cancels). */
static unsigned batch_run_entries(struct write_batch *wb, struct write_batch_entry *list)
{
        unsigned n = 0;
        while (list != NULL) {
                struct write_batch_entry *e = list;
                list = e->next;
                e->queued = false;
                e->ran = true;
                e->next = wb->ran;
                wb->ran = e;
                n++;
                e->run(e);
        }
        return n;
}

/* The batch's commit failed: every entry that ran (and was not cancelled)
   is told; its changes are gone. */
static void batch_fail(struct write_batch *wb, enum cove_store_err err, const char *error)
{
        log_error("%s: batch commit failed: %s", wb->name, error);
        while (wb->ran != NULL) {
                struct write_batch_entry *e = wb->ran;
                wb->ran = e->next;
                e->next = NULL;
                e->ran = false;
                e->failed(e, err);
        }
}

/* The batch's commit is over (err): tell the entries, let the flush go. */
static void batch_end(struct write_batch *wb, enum cove_store_err err, const char *error)
{
        if (err != COVE_STORE_OK)
                batch_fail(wb, err, error);
        for (struct write_batch_entry *e = wb->ran; e != NULL; e = e->next)
                e->ran = false;
        wb->ran = NULL;
        wb->batches++;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        log_debug("%s: write batch entries=%u duration_us=%lld batches=%llu", wb->name,
                  wb->entries, (long long)(now.tv_sec - wb->started.tv_sec) * 1000000 +
                  (now.tv_nsec - wb->started.tv_nsec) / 1000, wb->batches);
}

/* The loop's own transaction for the batch (no handoff). NULL when there
   is none (the entries then commit on their own). */
static struct store_txn *batch_begin_here(struct write_batch *wb)
{
        struct store_txn *txn = NULL;
        if (store_can_nest(wb->store) && store_txn_begin(wb->store, true, &txn) !=
                                          COVE_STORE_OK) {
                log_warn("%s: batch: %s", wb->name, store_last_error(wb->store));
                txn = NULL;
        }
        return txn;
}

/* Runs the queued entries in txn (NULL: each commits on its own), then has
   it committed. */
static void batch_run(struct write_batch *wb, struct store_txn *txn)
{
        struct write_batch_entry *list = wb->queue;
        queue_reset(wb);
        wb->txn = txn;
        wb->running = true;
        wb->entries = batch_run_entries(wb, list);
        wb->running = false;
        if (wb->txn != NULL && wb->handoff) {
                /* The durable commit covers every waiter queued so far
                   (this batch's and earlier commits'): no flush for them. */
                group_commit_claim(wb->gc);
                wb->etxn = store_handoff_release(wb->txn);
                wb->committing = true;
                helper_run(wb, JOB_COMMIT);
                return;   /* batch_commit_done() ends it */
        }
        enum cove_store_err err = COVE_STORE_OK;
        if (wb->txn != NULL)
                err = store_txn_commit_as(&wb->txn, wb->mode);
        batch_end(wb, err, store_last_error(wb->store));
}

static void batch_start(struct write_batch *wb)
{
        clock_gettime(CLOCK_MONOTONIC, &wb->started);
        if (wb->handoff) {
                wb->beginning = true;
                helper_run(wb, JOB_BEGIN);
                return;   /* batch_begun() runs it */
        }
        batch_run(wb, batch_begin_here(wb));
}

/* The helper has begun the batch's transaction (loop side). */
static void batch_begun(struct write_batch *wb)
{
        enum cove_store_err err;
        char error[sizeof(wb->job_error)];
        if (!wb->beginning || !helper_take_result(wb, JOB_BEGIN, &err, error, sizeof(error)))
                return;
        wb->beginning = false;
        struct store_txn *txn = NULL;
        if (err == COVE_STORE_OK)
                txn = store_handoff_adopt(wb->store, wb->etxn);
        else
                log_warn("%s: batch: %s", wb->name, error);
        batch_run(wb, txn);
}

/* The helper has committed the batch (loop side). */
static void batch_commit_done(struct write_batch *wb)
{
        enum cove_store_err err;
        char error[sizeof(wb->job_error)];
        if (!wb->committing || !helper_take_result(wb, JOB_COMMIT, &err, error, sizeof(error)))
                return;
        wb->committing = false;
        store_handoff_end(&wb->txn, err);
        batch_end(wb, err, error);
        /* After batch_end: the failed batch's own waiters were cancelled. */
        group_commit_claim_end(wb->gc, err);
}

static void batch_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
        struct write_batch *wb = container_of(w, struct write_batch, async);
        batch_begun(wb);
        batch_commit_done(wb);
}

static void batch_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct write_batch *wb = container_of(w, struct write_batch, prepare);
        if (wb->queue != NULL && !wb->running && !wb->beginning && !wb->committing)
                batch_start(wb);
}

/* ---- life cycle ---- */

static int helper_start(struct write_batch *wb, const char **error_r)
{
        pthread_mutex_init(&wb->lock, NULL);
        pthread_cond_init(&wb->cond, NULL);
        if (offload_thread_start(&wb->thread, helper_main, wb) != 0) {
                pthread_cond_destroy(&wb->cond);
                pthread_mutex_destroy(&wb->lock);
                *error_r = "cannot start the write batch thread";
                return -1;
        }
        ev_async_init(&wb->async, batch_async_cb);
        ev_async_start(wb->loop, &wb->async);
        ev_unref(wb->loop);
        return 0;
}

static void helper_stop(struct write_batch *wb)
{
        pthread_mutex_lock(&wb->lock);
        wb->job = JOB_STOP;
        wb->job_done = false;
        pthread_cond_broadcast(&wb->cond);
        pthread_mutex_unlock(&wb->lock);
        pthread_join(wb->thread, NULL);
        ev_ref(wb->loop);
        ev_async_stop(wb->loop, &wb->async);
        pthread_cond_destroy(&wb->cond);
        pthread_mutex_destroy(&wb->lock);
}

/* Blocks until the helper's running job is over, then goes on with the
   batch as the ev_async would: a begun batch runs and is handed over for its
   commit, a committed one ends. */
static void batch_wait_helper(struct write_batch *wb)
{
        while (wb->beginning || wb->committing) {
                helper_wait(wb);
                batch_begun(wb);
                batch_commit_done(wb);
        }
}

int write_batch_create(struct ev_loop *loop, struct store *store, const char *name,
                       struct group_commit *gc, struct write_batch **wb_r,
                       const char **error_r)
{
        struct write_batch *wb = xcalloc(1, sizeof(*wb));
        wb->loop = loop;
        wb->store = store;
        wb->name = name;
        wb->gc = gc;
        wb->mode = group_commit_mode(gc);
        wb->handoff = wb->mode == STORE_FLUSH_ORDERED && store_can_handoff(store);
        queue_reset(wb);
        if (wb->handoff && helper_start(wb, error_r) < 0) {
                free(wb);
                return -1;
        }
        ev_prepare_init(&wb->prepare, batch_prepare_cb);
        /* After the connection manager's prepare (0), which dispatches the
           input that queues entries; before the group commit's (EV_MINPRI),
           whose flush must cover this batch's commit. */
        ev_set_priority(&wb->prepare, EV_MINPRI + 1);
        ev_prepare_start(loop, &wb->prepare);
        ev_unref(loop);   /* must not keep the loop alive on its own */
        *wb_r = wb;
        return 0;
}

void write_batch_destroy(struct write_batch **wbp)
{
        struct write_batch *wb = *wbp;
        if (wb == NULL)
                return;
        *wbp = NULL;
        batch_wait_helper(wb);
        if (wb->queue != NULL) {
                batch_start(wb);
                batch_wait_helper(wb);
        }
        if (wb->handoff)
                helper_stop(wb);
        ev_ref(wb->loop);
        ev_prepare_stop(wb->loop, &wb->prepare);
        free(wb);
}

/* Queues entry at the queue's end, or first: at the end of its "first" part. */
static void enqueue_at(struct write_batch *wb, struct write_batch_entry *entry,
                       write_batch_run_fn *run, write_batch_failed_fn *failed, bool first)
{
        COVE_ASSERT(!entry->queued);
        if (entry->ran) {
                /* Still listed in the batch being committed, yet queued
                   again: its work there committed nothing (an owner whose
                   work did waits for that commit before queueing more), so
                   that batch's failure is none of its business. */
                list_remove(&wb->ran, entry);
                entry->ran = false;
        }
        entry->run = run;
        entry->failed = failed;
        entry->queued = true;
        entry->first = first;
        if (!first) {
                entry->next = NULL;
                *wb->queue_tail = entry;
                wb->queue_tail = &entry->next;
                return;
        }
        bool only_firsts = wb->queue_tail == wb->first_tail;
        entry->next = *wb->first_tail;
        *wb->first_tail = entry;
        wb->first_tail = &entry->next;
        if (only_firsts)
                wb->queue_tail = &entry->next;
}

void write_batch_enqueue(struct write_batch *wb, struct write_batch_entry *entry,
                         write_batch_run_fn *run, write_batch_failed_fn *failed)
{
        enqueue_at(wb, entry, run, failed, false);
}

void write_batch_enqueue_first(struct write_batch *wb, struct write_batch_entry *entry,
                               write_batch_run_fn *run, write_batch_failed_fn *failed)
{
        enqueue_at(wb, entry, run, failed, true);
}

void write_batch_cancel(struct write_batch *wb, struct write_batch_entry *entry)
{
        if (entry->queued) {
                list_remove(&wb->queue, entry);
                queue_retail(wb);   /* the removed entry may have ended a part */
                entry->queued = false;
        } else if (entry->ran) {
                list_remove(&wb->ran, entry);
                entry->ran = false;
        }
}

bool write_batch_running(const struct write_batch *wb)
{
        return wb->running;
}

bool write_batch_nests(const struct write_batch *wb)
{
        return wb->running && wb->txn != NULL;
}

/* A write outside any batch while the helper begins one: that transaction
   holds (or is about to hold) the writer lock, so a top-level txn on this
   thread would wait for a commit that only this thread can ask for. The
   helper commits it empty; the queue stays for the next batch. The loop
   waits, as it would have for the lock. */
static void batch_give_back(struct write_batch *wb)
{
        enum cove_store_err err;
        char error[sizeof(wb->job_error)];
        helper_wait(wb);
        bool begun = helper_take_result(wb, JOB_BEGIN, &err, error, sizeof(error)) &&
                     err == COVE_STORE_OK;
        wb->beginning = false;
        if (!begun)
                return;
        helper_run(wb, JOB_COMMIT);
        helper_wait(wb);
        if (helper_take_result(wb, JOB_COMMIT, &err, error, sizeof(error)) &&
            err != COVE_STORE_OK)
                log_warn("%s: batch: giving back an empty transaction: %s", wb->name, error);
}

enum cove_store_err write_batch_begin(struct write_batch *wb, struct store_txn **txn_r)
{
        if (wb->running && wb->txn != NULL)
                return store_txn_begin_nested(wb->txn, txn_r);
        if (wb->beginning)
                batch_give_back(wb);
        return store_txn_begin(wb->store, true, txn_r);
}

unsigned long long write_batch_count(const struct write_batch *wb)
{
        return wb->batches;
}

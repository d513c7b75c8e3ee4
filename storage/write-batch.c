/* write-batch.c - the batch queue and its run (write-batch.h).
 *
 * A prepare watcher at priority -1 takes the queue, begins one write
 * transaction, runs every entry (each nests its own transactions in it),
 * and commits it with the configured mode. Entries queued while a batch
 * runs wait for the next iteration's batch.
 */
#include "write-batch.h"

#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "pool.h"

struct write_batch {
        struct ev_loop *loop;
        struct store *store;
        const char *name;
        enum store_flush mode;
        ev_prepare prepare;
        struct write_batch_entry *queue, **queue_tail;
        struct write_batch_entry *ran;    /* entries of the running batch */
        struct store_txn *txn;            /* the running batch's transaction */
        bool running;
        unsigned long long batches;
};

static void queue_reset(struct write_batch *wb)
{
        wb->queue = NULL;
        wb->queue_tail = &wb->queue;
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
static void batch_fail(struct write_batch *wb, enum cove_store_err err)
{
        log_error("%s: batch commit failed: %s", wb->name, store_last_error(wb->store));
        while (wb->ran != NULL) {
                struct write_batch_entry *e = wb->ran;
                wb->ran = e->next;
                e->next = NULL;
                e->ran = false;
                e->failed(e, err);
        }
}

static void batch_run(struct write_batch *wb)
{
        struct write_batch_entry *list = wb->queue;
        queue_reset(wb);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        enum cove_store_err err = COVE_STORE_OK;
        wb->txn = NULL;
        if (store_can_nest(wb->store) && store_txn_begin(wb->store, true, &wb->txn) !=
                                          COVE_STORE_OK) {
                /* No batch transaction: the entries commit one by one. */
                log_warn("%s: batch: %s", wb->name, store_last_error(wb->store));
                wb->txn = NULL;
        }
        wb->running = true;
        unsigned n = batch_run_entries(wb, list);
        wb->running = false;
        if (wb->txn != NULL)
                err = store_txn_commit_as(&wb->txn, wb->mode);
        if (err != COVE_STORE_OK)
                batch_fail(wb, err);
        for (struct write_batch_entry *e = wb->ran; e != NULL; e = e->next)
                e->ran = false;
        wb->ran = NULL;
        wb->batches++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        log_debug("%s: write batch entries=%u duration_us=%lld batches=%llu", wb->name, n,
                  (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
                  (t1.tv_nsec - t0.tv_nsec) / 1000, wb->batches);
}

static void batch_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct write_batch *wb = container_of(w, struct write_batch, prepare);
        if (wb->queue != NULL && !wb->running)
                batch_run(wb);
}

struct write_batch *write_batch_create(struct ev_loop *loop, struct store *store,
                                       const char *name, enum store_flush mode)
{
        struct write_batch *wb = xcalloc(1, sizeof(*wb));
        wb->loop = loop;
        wb->store = store;
        wb->name = name;
        wb->mode = mode;
        queue_reset(wb);
        ev_prepare_init(&wb->prepare, batch_prepare_cb);
        /* After the connection manager's prepare (0), which dispatches the
           input that queues entries; before the group commit's (EV_MINPRI),
           whose flush must cover this batch's commit. */
        ev_set_priority(&wb->prepare, EV_MINPRI + 1);
        ev_prepare_start(loop, &wb->prepare);
        ev_unref(loop);   /* must not keep the loop alive on its own */
        return wb;
}

void write_batch_destroy(struct write_batch **wbp)
{
        struct write_batch *wb = *wbp;
        if (wb == NULL)
                return;
        *wbp = NULL;
        if (wb->queue != NULL)
                batch_run(wb);
        ev_ref(wb->loop);
        ev_prepare_stop(wb->loop, &wb->prepare);
        free(wb);
}

void write_batch_enqueue(struct write_batch *wb, struct write_batch_entry *entry,
                         write_batch_run_fn *run, write_batch_failed_fn *failed)
{
        COVE_ASSERT(!entry->queued);
        entry->run = run;
        entry->failed = failed;
        entry->next = NULL;
        entry->queued = true;
        *wb->queue_tail = entry;
        wb->queue_tail = &entry->next;
}

void write_batch_cancel(struct write_batch *wb, struct write_batch_entry *entry)
{
        if (entry->queued) {
                list_remove(&wb->queue, entry);
                /* Rebuild the tail: the removed entry may have been last. */
                wb->queue_tail = &wb->queue;
                while (*wb->queue_tail != NULL)
                        wb->queue_tail = &(*wb->queue_tail)->next;
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

enum cove_store_err write_batch_begin(struct write_batch *wb, struct store_txn **txn_r)
{
        if (wb->running && wb->txn != NULL)
                return store_txn_begin_nested(wb->txn, txn_r);
        return store_txn_begin(wb->store, true, txn_r);
}

unsigned long long write_batch_count(const struct write_batch *wb)
{
        return wb->batches;
}

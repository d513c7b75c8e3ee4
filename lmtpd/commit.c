/* commit.c - the group-commit queues and the sync thread (commit.h).
 *
 * A low-priority ev_prepare watcher starts a flush for the queued deliveries
 * once per loop iteration, after the connection framework's own prepare has
 * dispatched resumed input (so that everything ready has committed). The
 * thread runs store_sync() and wakes the loop with an ev_async; the loop
 * answers the waiters. Does not commit anything itself.
 */
#include "commit.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "store.h"

struct waiter_list {
        struct lmtp_commit_waiter *head, **tail;
};

struct lmtp_commit {
        struct ev_loop *loop;
        struct store *store;
        ev_prepare prepare;
        ev_async async;
        struct waiter_list pending;      /* committed, waiting for a flush to start */
        struct waiter_list inflight;     /* covered by the running flush */
        struct waiter_list parked;       /* waiting for the store to be free */
        bool busy;                       /* the thread owns the store */
        unsigned long long flushes, waiters;

        /* Shared with the thread, under lock. */
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool request, done, stop;
        enum cove_store_err result;
        long long sync_us;
};

static void list_init(struct waiter_list *list)
{
        list->head = NULL;
        list->tail = &list->head;
}

static void list_push(struct waiter_list *list, struct lmtp_commit_waiter *w)
{
        w->next = NULL;
        w->queued = true;
        *list->tail = w;
        list->tail = &w->next;
}

static bool list_remove(struct waiter_list *list, struct lmtp_commit_waiter *w)
{
        for (struct lmtp_commit_waiter **p = &list->head; *p != NULL; p = &(*p)->next) {
                if (*p == w) {
                        *p = w->next;
                        if (*p == NULL)
                                list->tail = p;
                        return true;
                }
        }
        return false;
}

/* Calls done for every waiter of list (taken whole first: callbacks may
   queue new waiters); returns how many. */
static unsigned list_run(struct waiter_list *list, enum cove_store_err err)
{
        struct lmtp_commit_waiter *w = list->head;
        unsigned n = 0;
        list_init(list);
        while (w != NULL) {
                struct lmtp_commit_waiter *next = w->next;
                w->next = NULL;
                w->queued = false;
                n++;
                w->done(w, err);
                w = next;
        }
        return n;
}

static void *sync_thread(void *arg)
{
        struct lmtp_commit *commit = arg;
        pthread_mutex_lock(&commit->lock);
        for (;;) {
                while (!commit->request && !commit->stop)
                        pthread_cond_wait(&commit->cond, &commit->lock);
                if (!commit->request)
                        break;
                commit->request = false;
                pthread_mutex_unlock(&commit->lock);
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                enum cove_store_err err = store_sync(commit->store);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                pthread_mutex_lock(&commit->lock);
                commit->result = err;
                commit->sync_us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
                                  (t1.tv_nsec - t0.tv_nsec) / 1000;
                commit->done = true;
                ev_async_send(commit->loop, &commit->async);
        }
        pthread_mutex_unlock(&commit->lock);
        return NULL;
}

/* Hands the pending waiters to the thread. Loop only; not while busy. */
static void flush_start(struct lmtp_commit *commit)
{
        commit->inflight = commit->pending;
        if (commit->inflight.head == NULL)
                list_init(&commit->inflight);
        list_init(&commit->pending);
        commit->busy = true;
        pthread_mutex_lock(&commit->lock);
        commit->request = true;
        pthread_cond_signal(&commit->cond);
        pthread_mutex_unlock(&commit->lock);
}

/* The flush is over: its waiters learn the result, then the parked ones
   get the store. */
static void flush_end(struct lmtp_commit *commit)
{
        pthread_mutex_lock(&commit->lock);
        bool done = commit->done;
        commit->done = false;
        enum cove_store_err err = commit->result;
        long long sync_us = commit->sync_us;
        pthread_mutex_unlock(&commit->lock);
        if (!done)
                return;
        commit->busy = false;
        if (err != COVE_STORE_OK)
                log_error("lmtp: store sync failed: %s", store_last_error(commit->store));
        unsigned n = list_run(&commit->inflight, err);
        commit->flushes++;
        commit->waiters += n;
        unsigned parked = list_run(&commit->parked, COVE_STORE_OK);
        log_debug("lmtp: group commit waiters=%u parked=%u sync_us=%lld flushes=%llu "
                  "deliveries=%llu", n, parked, sync_us, commit->flushes, commit->waiters);
}

static void commit_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct lmtp_commit *commit = container_of(w, struct lmtp_commit, prepare);
        if (!commit->busy && commit->pending.head != NULL)
                flush_start(commit);
}

static void commit_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
        flush_end(container_of(w, struct lmtp_commit, async));
}

static void commit_free(struct lmtp_commit *commit)
{
        pthread_cond_destroy(&commit->cond);
        pthread_mutex_destroy(&commit->lock);
        free(commit);
}

int lmtp_commit_create(struct ev_loop *loop, struct store *store,
                       struct lmtp_commit **commit_r, const char **error_r)
{
        struct lmtp_commit *commit = xcalloc(1, sizeof(*commit));
        commit->loop = loop;
        commit->store = store;
        list_init(&commit->pending);
        list_init(&commit->inflight);
        list_init(&commit->parked);
        pthread_mutex_init(&commit->lock, NULL);
        pthread_cond_init(&commit->cond, NULL);
        /* Signals stay with the loop's thread. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int rc = pthread_create(&commit->thread, NULL, sync_thread, commit);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
                commit_free(commit);
                *error_r = "cannot start the sync thread";
                return -1;
        }
        ev_prepare_init(&commit->prepare, commit_prepare_cb);
        /* After the connection manager's prepare (priority 0), which
           dispatches resumed input: what it commits joins this flush. */
        ev_set_priority(&commit->prepare, EV_MINPRI);
        ev_prepare_start(loop, &commit->prepare);
        ev_unref(loop);   /* must not keep the loop alive on its own */
        ev_async_init(&commit->async, commit_async_cb);
        ev_async_start(loop, &commit->async);
        ev_unref(loop);
        *commit_r = commit;
        return 0;
}

void lmtp_commit_destroy(struct lmtp_commit **commitp)
{
        struct lmtp_commit *commit = *commitp;
        if (commit == NULL)
                return;
        *commitp = NULL;
        if (!commit->busy && commit->pending.head != NULL)
                flush_start(commit);
        pthread_mutex_lock(&commit->lock);
        commit->stop = true;
        pthread_cond_signal(&commit->cond);
        pthread_mutex_unlock(&commit->lock);
        /* The thread finishes the flush it was asked for, then exits. */
        pthread_join(commit->thread, NULL);
        flush_end(commit);
        COVE_ASSERT(!commit->busy);
        if (commit->pending.head != NULL) {
                /* Committed while the last flush ran: flush here. */
                list_run(&commit->pending, store_sync(commit->store));
        }
        ev_ref(commit->loop);
        ev_prepare_stop(commit->loop, &commit->prepare);
        ev_ref(commit->loop);
        ev_async_stop(commit->loop, &commit->async);
        commit_free(commit);
}

bool lmtp_commit_store_busy(const struct lmtp_commit *commit)
{
        return commit->busy;
}

void lmtp_commit_wait(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter,
                      lmtp_commit_done_fn *done)
{
        COVE_ASSERT(!waiter->queued && !commit->busy);
        waiter->done = done;
        list_push(&commit->pending, waiter);
}

void lmtp_commit_when_free(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter,
                           lmtp_commit_done_fn *done)
{
        COVE_ASSERT(!waiter->queued && commit->busy);
        waiter->done = done;
        list_push(&commit->parked, waiter);
}

void lmtp_commit_cancel(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter)
{
        if (!waiter->queued)
                return;
        if (!list_remove(&commit->pending, waiter) && !list_remove(&commit->inflight, waiter))
                list_remove(&commit->parked, waiter);
        waiter->queued = false;
        waiter->next = NULL;
}

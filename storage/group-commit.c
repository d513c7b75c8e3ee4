/* group-commit.c - the waiter queues and the flush thread (group-commit.h).
 *
 * A low-priority ev_prepare watcher starts a flush for the queued waiters
 * once per loop iteration, after the connection framework's own prepare has
 * dispatched resumed input (so that everything ready has committed). The
 * flush runs store_sync_concurrent() in the thread, or store_sync() right
 * there on the loop when the engine cannot flush concurrently; either way
 * the end is signalled with an ev_async, and the loop answers the waiters.
 * Commits nothing itself.
 */
#include "group-commit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "offload.h"
#include "pool.h"

struct waiter_list {
        struct group_commit_waiter *head, **tail;
};

struct group_commit {
        struct ev_loop *loop;
        struct store *store;
        const char *name;
        enum store_flush mode;
        bool deferred;                   /* mode != DURABLE */
        bool threaded;                   /* the engine can flush concurrently */
        ev_prepare prepare;
        ev_async async;
        struct waiter_list pending;      /* committed, waiting for a flush to start */
        struct waiter_list inflight;     /* covered by the running flush */
        struct waiter_list claimed;      /* covered by a durable commit (claim) */
        bool noted;                      /* an unwaited NOSYNC commit needs a flush */
        bool flushing;                   /* a flush has started and not been answered */
        unsigned long long flushes, waiters;

        /* Shared with the thread, under lock. */
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool request, done, stop;
        enum cove_store_err result;
        char error[256];
        long long sync_us;
};

static void list_init(struct waiter_list *list)
{
        list->head = NULL;
        list->tail = &list->head;
}

static void list_push(struct waiter_list *list, struct group_commit_waiter *w)
{
        w->next = NULL;
        w->queued = true;
        *list->tail = w;
        list->tail = &w->next;
}

static bool list_remove(struct waiter_list *list, struct group_commit_waiter *w)
{
        for (struct group_commit_waiter **p = &list->head; *p != NULL; p = &(*p)->next) {
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
        struct group_commit_waiter *w = list->head;
        unsigned n = 0;
        list_init(list);
        while (w != NULL) {
                struct group_commit_waiter *next = w->next;
                w->next = NULL;
                w->queued = false;
                n++;
                w->done(w, err);
                w = next;
        }
        return n;
}

static long long elapsed_us(const struct timespec *t0)
{
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (long long)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

static void *flush_thread(void *arg)
{
        struct group_commit *gc = arg;
        char error[sizeof(gc->error)];
        pthread_mutex_lock(&gc->lock);
        for (;;) {
                while (!gc->request && !gc->stop)
                        pthread_cond_wait(&gc->cond, &gc->lock);
                if (!gc->request)
                        break;
                gc->request = false;
                pthread_mutex_unlock(&gc->lock);
                struct timespec t0;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                enum cove_store_err err = store_sync_concurrent(gc->store, error, sizeof(error));
                long long us = elapsed_us(&t0);
                pthread_mutex_lock(&gc->lock);
                gc->result = err;
                snprintf(gc->error, sizeof(gc->error), "%s", error);
                gc->sync_us = us;
                gc->done = true;
                ev_async_send(gc->loop, &gc->async);
        }
        pthread_mutex_unlock(&gc->lock);
        return NULL;
}

/* Hands the pending waiters to a flush. Loop only; not while flushing. */
static void flush_start(struct group_commit *gc)
{
        gc->inflight = gc->pending;
        if (gc->inflight.head == NULL)
                list_init(&gc->inflight);
        list_init(&gc->pending);
        gc->noted = false;
        gc->flushing = true;
        if (!gc->threaded) {
                /* No concurrent flush: do it here, answer from the async
                   callback like the thread's (never from inside prepare). */
                struct timespec t0;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                enum cove_store_err err = store_sync(gc->store);
                gc->result = err;
                snprintf(gc->error, sizeof(gc->error), "%s",
                         err == COVE_STORE_OK ? "" : store_last_error(gc->store));
                gc->sync_us = elapsed_us(&t0);
                gc->done = true;
                ev_async_send(gc->loop, &gc->async);
                return;
        }
        pthread_mutex_lock(&gc->lock);
        gc->request = true;
        pthread_cond_signal(&gc->cond);
        pthread_mutex_unlock(&gc->lock);
}

/* The flush is over: its waiters learn the result. */
static void flush_end(struct group_commit *gc)
{
        pthread_mutex_lock(&gc->lock);
        bool done = gc->done;
        gc->done = false;
        enum cove_store_err err = gc->result;
        long long sync_us = gc->sync_us;
        pthread_mutex_unlock(&gc->lock);
        if (!done)
                return;
        gc->flushing = false;
        if (err != COVE_STORE_OK)
                log_error("%s: store flush failed: %s", gc->name, gc->error);
        unsigned n = list_run(&gc->inflight, err);
        gc->flushes++;
        gc->waiters += n;
        log_debug("%s: group commit waiters=%u sync_us=%lld flushes=%llu acknowledged=%llu",
                  gc->name, n, sync_us, gc->flushes, gc->waiters);
}

static void gc_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct group_commit *gc = container_of(w, struct group_commit, prepare);
        if (!gc->flushing && (gc->pending.head != NULL || gc->noted))
                flush_start(gc);
}

static void gc_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
        flush_end(container_of(w, struct group_commit, async));
}

static void gc_free(struct group_commit *gc)
{
        pthread_cond_destroy(&gc->cond);
        pthread_mutex_destroy(&gc->lock);
        free(gc);
}

int group_commit_create(struct ev_loop *loop, struct store *store, const char *name,
                        enum store_flush mode, struct group_commit **gc_r,
                        const char **error_r)
{
        struct group_commit *gc = xcalloc(1, sizeof(*gc));
        gc->loop = loop;
        gc->store = store;
        gc->name = name;
        gc->mode = mode;
        gc->deferred = mode != STORE_FLUSH_DURABLE;
        gc->threaded = gc->deferred && store_can_sync_concurrently(store);
        list_init(&gc->pending);
        list_init(&gc->inflight);
        list_init(&gc->claimed);
        pthread_mutex_init(&gc->lock, NULL);
        pthread_cond_init(&gc->cond, NULL);
        if (gc->threaded) {
                if (offload_thread_start(&gc->thread, flush_thread, gc) != 0) {
                        gc_free(gc);
                        *error_r = "cannot start the store flush thread";
                        return -1;
                }
        }
        ev_prepare_init(&gc->prepare, gc_prepare_cb);
        /* After the connection manager's prepare (priority 0), which
           dispatches resumed input: what it commits joins this flush. */
        ev_set_priority(&gc->prepare, EV_MINPRI);
        ev_prepare_start(loop, &gc->prepare);
        ev_unref(loop);   /* must not keep the loop alive on its own */
        ev_async_init(&gc->async, gc_async_cb);
        ev_async_start(loop, &gc->async);
        ev_unref(loop);
        *gc_r = gc;
        return 0;
}

void group_commit_destroy(struct group_commit **gcp)
{
        struct group_commit *gc = *gcp;
        if (gc == NULL)
                return;
        *gcp = NULL;
        if (!gc->flushing && (gc->pending.head != NULL || gc->noted))
                flush_start(gc);
        if (gc->threaded) {
                pthread_mutex_lock(&gc->lock);
                gc->stop = true;
                pthread_cond_signal(&gc->cond);
                pthread_mutex_unlock(&gc->lock);
                /* The thread finishes the flush it was asked for, then exits. */
                pthread_join(gc->thread, NULL);
        }
        flush_end(gc);
        COVE_ASSERT(!gc->flushing);
        if (gc->pending.head != NULL || gc->noted || gc->claimed.head != NULL) {
                /* Committed while the last flush ran: flush here. */
                enum cove_store_err err = store_sync(gc->store);
                list_run(&gc->claimed, err);
                list_run(&gc->pending, err);
        }
        ev_ref(gc->loop);
        ev_prepare_stop(gc->loop, &gc->prepare);
        ev_ref(gc->loop);
        ev_async_stop(gc->loop, &gc->async);
        gc_free(gc);
}

enum store_flush group_commit_mode_for(const char *value)
{
        return strcmp(value, "group") == 0 ? STORE_FLUSH_NONE : STORE_FLUSH_ORDERED;
}

enum store_flush group_commit_mode(const struct group_commit *gc)
{
        return gc->mode;
}

bool group_commit_deferred(const struct group_commit *gc)
{
        return gc->deferred;
}

void group_commit_wait(struct group_commit *gc, struct group_commit_waiter *waiter,
                       group_commit_done_fn *done)
{
        COVE_ASSERT(gc->deferred && !waiter->queued);
        waiter->done = done;
        list_push(&gc->pending, waiter);
}

void group_commit_note(struct group_commit *gc)
{
        COVE_ASSERT(gc->deferred);
        gc->noted = true;
}

void group_commit_cancel(struct group_commit *gc, struct group_commit_waiter *waiter)
{
        if (!waiter->queued)
                return;
        if (!list_remove(&gc->pending, waiter) && !list_remove(&gc->inflight, waiter))
                list_remove(&gc->claimed, waiter);
        waiter->queued = false;
        waiter->next = NULL;
}

void group_commit_claim(struct group_commit *gc)
{
        COVE_ASSERT(gc->claimed.head == NULL);
        gc->claimed = gc->pending;
        if (gc->claimed.head == NULL)
                list_init(&gc->claimed);
        list_init(&gc->pending);
        gc->noted = false;
}

void group_commit_claim_end(struct group_commit *gc, enum cove_store_err err)
{
        if (err == COVE_STORE_OK) {
                unsigned n = list_run(&gc->claimed, COVE_STORE_OK);
                gc->waiters += n;
                log_debug("%s: durable commit acknowledged=%u", gc->name, n);
                return;
        }
        /* The commit failed: what they committed still needs a flush. */
        while (gc->claimed.head != NULL) {
                struct group_commit_waiter *w = gc->claimed.head;
                gc->claimed.head = w->next;
                list_push(&gc->pending, w);
        }
        list_init(&gc->claimed);
}

unsigned long long group_commit_flushes(const struct group_commit *gc)
{
        return gc->flushes;
}

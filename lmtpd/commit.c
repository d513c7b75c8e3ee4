/* commit.c - the group-commit queue (commit.h): a high-priority ev_prepare
 * watcher flushes once per loop iteration for every queued delivery.
 *
 * Runs before the connection framework's own prepare watcher, so replies
 * written by the waiters are sent in the same iteration. Does not commit
 * anything itself; it only makes earlier NOSYNC commits durable.
 */
#include "commit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "store.h"

struct lmtp_commit {
        struct ev_loop *loop;
        struct store *store;
        ev_prepare prepare;
        ev_idle idle;                    /* no sleeping while waiters are queued */
        struct lmtp_commit_waiter *head, **tail;
        bool dirty;                      /* a commit happened since the last flush */
        unsigned long long flushes, waiters;
};

static void commit_flush(struct lmtp_commit *commit)
{
        struct lmtp_commit_waiter *list = commit->head;
        commit->head = NULL;
        commit->tail = &commit->head;
        ev_idle_stop(commit->loop, &commit->idle);
        if (!commit->dirty)
                return;
        commit->dirty = false;

        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        enum cove_store_err err = store_sync(commit->store);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (err != COVE_STORE_OK)
                log_error("lmtp: store sync failed: %s", store_last_error(commit->store));
        unsigned n = 0;
        while (list != NULL) {
                struct lmtp_commit_waiter *w = list;
                list = w->next;
                w->next = NULL;
                w->queued = false;
                n++;
                w->done(w, err);
        }
        commit->flushes++;
        commit->waiters += n;
        log_debug("lmtp: group commit waiters=%u sync_us=%lld flushes=%llu deliveries=%llu", n,
                  (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
                  (t1.tv_nsec - t0.tv_nsec) / 1000, commit->flushes, commit->waiters);
}

static void commit_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        commit_flush(container_of(w, struct lmtp_commit, prepare));
}

static void commit_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
        /* Nothing: being active only keeps the next poll from blocking. */
}

struct lmtp_commit *lmtp_commit_create(struct ev_loop *loop, struct store *store)
{
        struct lmtp_commit *commit = xcalloc(1, sizeof(*commit));
        commit->loop = loop;
        commit->store = store;
        commit->tail = &commit->head;
        ev_prepare_init(&commit->prepare, commit_prepare_cb);
        /* Before the connection manager's prepare (priority 0), which sends
           the replies our waiters write. */
        ev_set_priority(&commit->prepare, EV_MAXPRI);
        ev_prepare_start(loop, &commit->prepare);
        ev_unref(loop);   /* must not keep the loop alive on its own */
        ev_idle_init(&commit->idle, commit_idle_cb);
        return commit;
}

void lmtp_commit_destroy(struct lmtp_commit **commitp)
{
        struct lmtp_commit *commit = *commitp;
        if (commit == NULL)
                return;
        *commitp = NULL;
        commit_flush(commit);
        ev_ref(commit->loop);
        ev_prepare_stop(commit->loop, &commit->prepare);
        ev_idle_stop(commit->loop, &commit->idle);
        free(commit);
}

void lmtp_commit_wait(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter,
                      lmtp_commit_done_fn *done)
{
        COVE_ASSERT(!waiter->queued);
        waiter->done = done;
        waiter->next = NULL;
        waiter->queued = true;
        *commit->tail = waiter;
        commit->tail = &waiter->next;
        commit->dirty = true;
        ev_idle_start(commit->loop, &commit->idle);
}

void lmtp_commit_cancel(struct lmtp_commit *commit, struct lmtp_commit_waiter *waiter)
{
        if (!waiter->queued)
                return;
        for (struct lmtp_commit_waiter **p = &commit->head; *p != NULL; p = &(*p)->next) {
                if (*p == waiter) {
                        *p = waiter->next;
                        if (*p == NULL)
                                commit->tail = p;
                        break;
                }
        }
        waiter->queued = false;
        waiter->next = NULL;
}

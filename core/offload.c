/* offload.c - a thread pool whose jobs are answered on a libev loop (see
 * offload.h).
 *
 * Owns: the queue and finished list (guarded by one mutex), the threads'
 * loop, the ev_async that drains finished jobs on the loop, and the rule that
 * every job is freed on the loop's thread. Does not: run anything on the
 * loop but done callbacks, or let a thread touch a job after finishing it.
 */
#include "offload.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"

enum offload_state {
        OFFLOAD_NEW = 0,     /* made, not submitted */
        OFFLOAD_QUEUED,      /* in pool->queue */
        OFFLOAD_RUNNING,     /* a thread runs it */
        OFFLOAD_FINISHED,    /* in pool->finished or being drained */
};

struct offload_list {
        struct offload_job *head, *tail;
};

struct offload_job {
        struct offload_job *prev, *next;
        struct offload_pool *pool;
        offload_run_fn *run;
        offload_done_fn *done;
        void *context;
        enum offload_state state;   /* changed under pool->lock */
        bool cancelled;             /* the owner gave it up */
        size_t data_size;
        _Alignas(16) unsigned char data[];
};

struct offload_pool {
        struct ev_loop *loop;
        ev_async async;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct offload_list queue;      /* under lock */
        struct offload_list finished;   /* under lock */
        bool stop;                      /* under lock */
        unsigned thread_count;
        pthread_t *threads;
        size_t outstanding;             /* loop thread only */
};

static void list_append(struct offload_list *list, struct offload_job *job)
{
        job->next = NULL;
        job->prev = list->tail;
        if (list->tail != NULL)
                list->tail->next = job;
        else
                list->head = job;
        list->tail = job;
}

static void list_unlink(struct offload_list *list, struct offload_job *job)
{
        if (job->prev != NULL)
                job->prev->next = job->next;
        else
                list->head = job->next;
        if (job->next != NULL)
                job->next->prev = job->prev;
        else
                list->tail = job->prev;
        job->prev = job->next = NULL;
}

static struct offload_job *list_pop(struct offload_list *list)
{
        struct offload_job *job = list->head;
        if (job != NULL)
                list_unlink(list, job);
        return job;
}

/* Frees a job on the loop's thread; a submitted one no longer keeps the
   loop alive once it is the last. */
static void job_free(struct offload_job *job)
{
        struct offload_pool *pool = job->pool;
        if (job->state != OFFLOAD_NEW) {
                COVE_ASSERT(pool->outstanding > 0);
                if (--pool->outstanding == 0)
                        ev_unref(pool->loop);
        }
        explicit_bzero(job, sizeof(*job) + job->data_size);
        free(job);
}

static void *offload_thread(void *arg)
{
        struct offload_pool *pool = arg;

        pthread_mutex_lock(&pool->lock);
        for (;;) {
                while (pool->queue.head == NULL && !pool->stop)
                        pthread_cond_wait(&pool->cond, &pool->lock);
                if (pool->stop)
                        break;
                struct offload_job *job = list_pop(&pool->queue);
                job->state = OFFLOAD_RUNNING;
                pthread_mutex_unlock(&pool->lock);
                job->run(job->data);
                pthread_mutex_lock(&pool->lock);
                job->state = OFFLOAD_FINISHED;
                list_append(&pool->finished, job);
                /* The job is the loop's from here on. */
                ev_async_send(pool->loop, &pool->async);
        }
        pthread_mutex_unlock(&pool->lock);
        return NULL;
}

static void offload_drain(struct offload_pool *pool, bool answer)
{
        pthread_mutex_lock(&pool->lock);
        struct offload_list list = pool->finished;
        pool->finished = (struct offload_list){ 0 };
        pthread_mutex_unlock(&pool->lock);

        struct offload_job *job;
        while ((job = list_pop(&list)) != NULL) {
                /* A done callback may cancel a job still in `list`: that only
                   sets its flag (FINISHED), so it is skipped here. */
                if (answer && !job->cancelled)
                        job->done(job->data, job->context);
                job_free(job);
        }
}

static void offload_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
        offload_drain(container_of(w, struct offload_pool, async), true);
}

static void offload_stop_threads(struct offload_pool *pool, unsigned count)
{
        pthread_mutex_lock(&pool->lock);
        pool->stop = true;
        pthread_cond_broadcast(&pool->cond);
        pthread_mutex_unlock(&pool->lock);
        for (unsigned i = 0; i < count; i++)
                pthread_join(pool->threads[i], NULL);
}

static void offload_free(struct offload_pool *pool)
{
        pthread_cond_destroy(&pool->cond);
        pthread_mutex_destroy(&pool->lock);
        free(pool->threads);
        free(pool);
}

int offload_thread_start(pthread_t *thread_r, void *(*fn)(void *), void *arg)
{
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int rc = pthread_create(thread_r, NULL, fn, arg);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return rc;
}

int offload_pool_create(struct ev_loop *loop, unsigned threads, struct offload_pool **pool_r,
                        const char **error_r)
{
        struct offload_pool *pool = xcalloc(1, sizeof(*pool));
        pool->loop = loop;
        pool->thread_count = threads != 0 ? threads : 1;
        pool->threads = xcalloc(pool->thread_count, sizeof(*pool->threads));
        pthread_mutex_init(&pool->lock, NULL);
        pthread_cond_init(&pool->cond, NULL);

        for (unsigned i = 0; i < pool->thread_count; i++) {
                if (offload_thread_start(&pool->threads[i], offload_thread, pool) != 0) {
                        offload_stop_threads(pool, i);
                        offload_free(pool);
                        *error_r = "cannot start an offload thread";
                        return -1;
                }
        }

        ev_async_init(&pool->async, offload_async_cb);
        ev_async_start(loop, &pool->async);
        ev_unref(loop);   /* only outstanding jobs keep the loop alive */
        *pool_r = pool;
        return 0;
}

void offload_pool_destroy(struct offload_pool **poolp)
{
        struct offload_pool *pool = *poolp;
        if (pool == NULL)
                return;
        *poolp = NULL;
        offload_stop_threads(pool, pool->thread_count);
        /* No thread runs now: what is left belongs to this thread. */
        struct offload_job *job;
        while ((job = list_pop(&pool->queue)) != NULL)
                job_free(job);
        offload_drain(pool, false);
        COVE_ASSERT(pool->outstanding == 0);
        ev_ref(pool->loop);
        ev_async_stop(pool->loop, &pool->async);
        offload_free(pool);
}

struct offload_job *offload_job_new(struct offload_pool *pool, size_t data_size,
                                    offload_run_fn *run, offload_done_fn *done, void *context)
{
        COVE_ASSERT(run != NULL && done != NULL);
        COVE_ASSERT(data_size <= SIZE_MAX / 2);
        struct offload_job *job = xcalloc(1, sizeof(*job) + data_size);
        job->pool = pool;
        job->run = run;
        job->done = done;
        job->context = context;
        job->data_size = data_size;
        return job;
}

void *offload_job_data(struct offload_job *job)
{
        return job->data;
}

void offload_job_submit(struct offload_job *job)
{
        struct offload_pool *pool = job->pool;
        COVE_ASSERT(job->state == OFFLOAD_NEW);
        if (pool->outstanding++ == 0)
                ev_ref(pool->loop);
        pthread_mutex_lock(&pool->lock);
        job->state = OFFLOAD_QUEUED;
        list_append(&pool->queue, job);
        pthread_cond_signal(&pool->cond);
        pthread_mutex_unlock(&pool->lock);
}

void offload_job_cancel(struct offload_job **jobp)
{
        struct offload_job *job = *jobp;
        if (job == NULL)
                return;
        *jobp = NULL;
        struct offload_pool *pool = job->pool;
        pthread_mutex_lock(&pool->lock);
        switch (job->state) {
        case OFFLOAD_NEW:
                break;
        case OFFLOAD_QUEUED:
                list_unlink(&pool->queue, job);
                break;
        case OFFLOAD_RUNNING:
        case OFFLOAD_FINISHED:
                /* Its thread (or the drain) still holds it: freed by the drain. */
                job->cancelled = true;
                pthread_mutex_unlock(&pool->lock);
                return;
        }
        pthread_mutex_unlock(&pool->lock);
        job_free(job);
}

size_t offload_pool_outstanding(const struct offload_pool *pool)
{
        return pool->outstanding;
}

/* Unit tests for core/offload.c: jobs run off the loop and are answered on
 * it in order, cancellation at every stage (never answered, always freed),
 * destroy with queued and running jobs, many jobs on several threads, and
 * done callbacks that cancel and submit. Memory is checked by ASan. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "offload.h"

static struct ev_loop *loop;
static struct offload_pool *pool;

static void setup(void)
{
        loop = ev_loop_new(EVFLAG_AUTO);
        cr_assert_not_null(loop);
}

static void teardown(void)
{
        offload_pool_destroy(&pool);
        ev_loop_destroy(loop);
}

TestSuite(offload, .init = setup, .fini = teardown, .timeout = 60);

static void make_pool(unsigned threads)
{
        const char *error;
        cr_assert_eq(offload_pool_create(loop, threads, &pool, &error), 0);
}

/* ---- a job recording where it ran ---- */

static atomic_uint run_seq;
static pthread_t loop_thread;

struct rec {
        unsigned index;
        unsigned ran_as;        /* order in which the thread ran it */
        bool on_other_thread;
        char secret[32];
};

static unsigned done_order[64];
static unsigned done_count;

static void rec_run(void *data)
{
        struct rec *r = data;
        r->ran_as = atomic_fetch_add(&run_seq, 1);
        r->on_other_thread = !pthread_equal(pthread_self(), loop_thread);
}

static void rec_done(void *data, void *context)
{
        struct rec *r = data;
        cr_assert(pthread_equal(pthread_self(), loop_thread), "done runs on the loop");
        cr_assert(r->on_other_thread, "run ran on a pool thread");
        cr_assert_eq(r->ran_as, r->index, "one thread runs jobs in submit order");
        cr_assert_str_eq(r->secret, "copied payload");
        cr_assert_eq(context, &done_order);
        done_order[done_count++] = r->index;
}

static struct offload_job *rec_submit(unsigned index)
{
        struct offload_job *job = offload_job_new(pool, sizeof(struct rec), rec_run, rec_done,
                                                  &done_order);
        struct rec *r = offload_job_data(job);
        cr_assert_eq(r->ran_as, 0, "payload is zeroed");
        r->index = index;
        strcpy(r->secret, "copied payload");
        offload_job_submit(job);
        return job;
}

Test(offload, jobs_run_off_the_loop_in_order)
{
        loop_thread = pthread_self();
        atomic_store(&run_seq, 0);
        done_count = 0;
        make_pool(1);
        for (unsigned i = 0; i < 20; i++)
                (void)rec_submit(i);
        cr_assert_eq(offload_pool_outstanding(pool), 20);
        /* Outstanding jobs keep the loop alive; it returns once all are answered. */
        ev_run(loop, 0);
        cr_assert_eq(done_count, 20);
        for (unsigned i = 0; i < 20; i++)
                cr_assert_eq(done_order[i], i);
        cr_assert_eq(offload_pool_outstanding(pool), 0);
}

Test(offload, idle_pool_does_not_keep_the_loop_alive)
{
        make_pool(2);
        ev_run(loop, 0);    /* returns at once */
        cr_assert_eq(offload_pool_outstanding(pool), 0);
}

/* ---- a job that blocks until the test opens a gate ---- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered;
static atomic_uint runs, dones;

static void gate_reset(void)
{
        gate_open = gate_entered = false;
        atomic_store(&runs, 0);
        atomic_store(&dones, 0);
}

static void gate_run(void *data)
{
        pthread_mutex_lock(&gate_lock);
        gate_entered = true;
        pthread_cond_broadcast(&gate_cond);
        while (!gate_open)
                pthread_cond_wait(&gate_cond, &gate_lock);
        pthread_mutex_unlock(&gate_lock);
        atomic_fetch_add(&runs, 1);
}

static void gate_wait_entered(void)
{
        pthread_mutex_lock(&gate_lock);
        while (!gate_entered)
                pthread_cond_wait(&gate_cond, &gate_lock);
        pthread_mutex_unlock(&gate_lock);
}

static void gate_release(void)
{
        pthread_mutex_lock(&gate_lock);
        gate_open = true;
        pthread_cond_broadcast(&gate_cond);
        pthread_mutex_unlock(&gate_lock);
}

static void count_run(void *data)
{
        atomic_fetch_add(&runs, 1);
}

static void count_done(void *data, void *context)
{
        atomic_fetch_add(&dones, 1);
}

static void never_done(void *data, void *context)
{
        cr_assert_fail("a cancelled job was answered");
}

static struct offload_job *submit(offload_run_fn *run, offload_done_fn *done, size_t size)
{
        struct offload_job *job = offload_job_new(pool, size, run, done, NULL);
        offload_job_submit(job);
        return job;
}

Test(offload, cancel_running_and_queued_jobs)
{
        gate_reset();
        make_pool(1);
        struct offload_job *running = submit(gate_run, never_done, 64);
        gate_wait_entered();
        struct offload_job *queued = submit(count_run, never_done, 64);
        struct offload_job *kept = submit(count_run, count_done, 64);
        offload_job_cancel(&queued);
        cr_assert_null(queued);
        cr_assert_eq(offload_pool_outstanding(pool), 2, "a queued job is freed at once");
        offload_job_cancel(&running);
        cr_assert_eq(offload_pool_outstanding(pool), 2, "a running job waits for its thread");
        gate_release();
        ev_run(loop, 0);
        cr_assert_eq(atomic_load(&runs), 2, "the cancelled queued job never ran");
        cr_assert_eq(atomic_load(&dones), 1);
        cr_assert_eq(offload_pool_outstanding(pool), 0);
        (void)kept;
}

Test(offload, cancel_finished_job_before_the_loop_answers)
{
        make_pool(1);
        gate_reset();
        struct offload_job *job = submit(count_run, never_done, 16);
        while (atomic_load(&runs) == 0)
                usleep(1000);
        usleep(10000);      /* it is on the finished list; the loop has not run */
        offload_job_cancel(&job);
        cr_assert_eq(offload_pool_outstanding(pool), 1);
        ev_run(loop, 0);
        cr_assert_eq(offload_pool_outstanding(pool), 0);
}

Test(offload, cancel_unsubmitted_job_and_null)
{
        make_pool(1);
        struct offload_job *job = offload_job_new(pool, 100, count_run, never_done, NULL);
        memset(offload_job_data(job), 'x', 100);
        offload_job_cancel(&job);
        cr_assert_null(job);
        offload_job_cancel(&job);
        cr_assert_eq(offload_pool_outstanding(pool), 0);
}

static void *release_later(void *arg)
{
        usleep(100 * 1000);
        gate_release();
        return NULL;
}

Test(offload, destroy_with_running_and_queued_jobs)
{
        gate_reset();
        make_pool(1);
        (void)submit(gate_run, never_done, 32);
        gate_wait_entered();
        for (int i = 0; i < 5; i++)
                (void)submit(count_run, never_done, 32);
        pthread_t helper;
        cr_assert_eq(pthread_create(&helper, NULL, release_later, NULL), 0);
        /* Waits for the running job; the queued ones are dropped unrun. */
        offload_pool_destroy(&pool);
        cr_assert_null(pool);
        pthread_join(helper, NULL);
        cr_assert_eq(atomic_load(&runs), 1);
        cr_assert_eq(atomic_load(&dones), 0);
        /* The loop has no watcher of the pool left. */
        ev_run(loop, EVRUN_NOWAIT);
}

Test(offload, destroy_with_unanswered_finished_jobs)
{
        gate_reset();
        make_pool(2);
        for (int i = 0; i < 4; i++)
                (void)submit(count_run, never_done, 8);
        while (atomic_load(&runs) < 4)
                usleep(1000);
        offload_pool_destroy(&pool);
        cr_assert_eq(atomic_load(&dones), 0);
}

/* ---- many jobs on several threads, some cancelled ---- */

struct sum_job {
        unsigned long n;
        unsigned long result;
};

static unsigned long sum_total;
static unsigned sum_dones;

static void sum_run(void *data)
{
        struct sum_job *j = data;
        for (unsigned long i = 1; i <= j->n; i++)
                j->result += i;
}

static void sum_done(void *data, void *context)
{
        struct sum_job *j = data;
        cr_assert_eq(j->result, j->n * (j->n + 1) / 2);
        sum_total += j->n;
        sum_dones++;
}

Test(offload, many_jobs_with_cancellations)
{
        enum { JOBS = 5000 };
        make_pool(4);
        sum_total = 0;
        sum_dones = 0;
        unsigned long expect = 0;
        unsigned kept = 0;
        for (unsigned long i = 0; i < JOBS; i++) {
                struct offload_job *job = offload_job_new(pool, sizeof(struct sum_job),
                                                          sum_run, sum_done, NULL);
                ((struct sum_job *)offload_job_data(job))->n = 100 + i % 1000;
                offload_job_submit(job);
                if (i % 3 == 0) {
                        /* queued, running or finished: whatever it is by now */
                        offload_job_cancel(&job);
                        continue;
                }
                expect += 100 + i % 1000;
                kept++;
                if (i % 500 == 0)
                        ev_run(loop, EVRUN_NOWAIT);
        }
        ev_run(loop, 0);
        cr_assert_eq(sum_dones, kept);
        cr_assert_eq(sum_total, expect);
        cr_assert_eq(offload_pool_outstanding(pool), 0);
}

/* ---- done callbacks that cancel and submit ---- */

static struct offload_job *victim;
static unsigned chain_left;

static void chain_done(void *data, void *context)
{
        /* The victim may be queued, running or finished (even later in the
           list being answered): it must never be answered. */
        offload_job_cancel(&victim);
        if (chain_left > 0) {
                chain_left--;
                (void)submit(count_run, chain_done, 4);
                victim = submit(count_run, never_done, 4);
        }
        atomic_fetch_add(&dones, 1);
}

Test(offload, done_callback_cancels_and_submits)
{
        gate_reset();
        make_pool(1);       /* one thread: each victim finishes after its chain job */
        chain_left = 50;
        (void)submit(count_run, chain_done, 4);
        victim = submit(count_run, never_done, 4);
        ev_run(loop, 0);
        cr_assert_eq(atomic_load(&dones), 51);
        cr_assert_null(victim);
        cr_assert_eq(offload_pool_outstanding(pool), 0);
}

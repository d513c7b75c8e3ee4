/* offload.h - CPU-heavy jobs on worker threads, answered on the event loop.
 *
 * Owns: a per-loop pool of threads (signals blocked in them), the job queue,
 * job memory (a payload copied in by the owner, wiped and freed here),
 * cancellation by the owner and the ev_async that brings a finished job back
 * to the loop. Refuses: knowing what a job computes, priorities, and any
 * bound on the queue (each connection has at most a job or two in flight).
 */
#ifndef COVE_OFFLOAD_H
#define COVE_OFFLOAD_H

#include <pthread.h>
#include <stddef.h>

#include <ev.h>

struct offload_pool;
struct offload_job;

/* Runs on a pool thread with the job's payload. It must touch nothing but
   the payload and thread-safe functions (no pools, stores or log state
   shared with the loop). */
typedef void offload_run_fn(void *data);
/* Runs on the loop after run returned, unless the job was cancelled. data is
   the payload (still valid during the call); the job is freed afterwards,
   so the owner must drop its handle here. The callback may submit and
   cancel other jobs of the pool, but not destroy the pool. */
typedef void offload_done_fn(void *data, void *context);

/* Starts `threads` threads (0 means 1) working for loop. -1 with a static
   *error_r when a thread cannot be started. Call from the loop's thread; the
   pool keeps the loop alive only while a submitted job is outstanding. */
/* Starts a helper thread of a loop with every signal blocked in it, so that
   signals keep reaching the loop's thread. Returns pthread_create's code. */
int offload_thread_start(pthread_t *thread_r, void *(*fn)(void *), void *arg);

int offload_pool_create(struct ev_loop *loop, unsigned threads, struct offload_pool **pool_r,
                        const char **error_r);
/* Stops the threads after the jobs they are running and joins them. Queued
   and finished jobs are freed without their done callbacks; running jobs
   finish first. The owners' handles are invalid afterwards. NULL-safe. */
void offload_pool_destroy(struct offload_pool **poolp);

/* A new job of pool with a zeroed payload of data_size bytes (fill it via
   offload_job_data(), then offload_job_submit()). run and done are required;
   context is passed to done. */
struct offload_job *offload_job_new(struct offload_pool *pool, size_t data_size,
                                    offload_run_fn *run, offload_done_fn *done, void *context);
void *offload_job_data(struct offload_job *job);
/* Queues job; jobs start in the order submitted. */
void offload_job_submit(struct offload_job *job);
/* The owner gives the job up (from the loop's thread), at any stage before
   its done callback: its done callback is never called, and its memory is
   wiped and freed now, or once its thread has finished with it. Sets *jobp
   to NULL; NULL-safe. */
void offload_job_cancel(struct offload_job **jobp);

/* Jobs submitted and not yet freed (queued, running or finished but not yet
   answered), for tests and statistics. */
size_t offload_pool_outstanding(const struct offload_pool *pool);

#endif

/* test-commit.c - lmtpd/commit.c on a real LMDB store and a libev loop:
 * waiters are told once after a flush, a cancelled waiter never is, parked
 * waiters get the store only after the flush's own waiters, destroy flushes
 * what is still queued.
 */
#include <criterion/criterion.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"
#include "deliver.h"
#include "log.h"
#include "pool.h"
#include "store.h"
#include "test-store.h"

static struct test_store *ts;
static struct ev_loop *loop;
static struct lmtp_commit *commit;

struct probe {
        struct lmtp_commit_waiter waiter;
        int calls;
        enum cove_store_err err;
        int order;              /* value of seq when called */
        bool busy_seen;         /* the store was busy when called */
};

static int seq;

static void setup(void)
{
        const char *error = NULL;
        setenv("COVE_TEST_ENGINE", "lmdb", 1);
        setenv("COVE_TEST_STORE_OPTIONS", "path=%D/store", 1);
        cr_assert_eq(test_store_create(&ts, &error), 0, "%s", error);
        uint32_t id;
        cr_assert_eq(test_store_user_add(ts->store, "u@example.org", &id), COVE_STORE_OK);
        loop = ev_loop_new(EVFLAG_AUTO);
        cr_assert_eq(lmtp_commit_create(loop, ts->store, &commit, &error), 0, "%s", error);
        seq = 0;
}

static void teardown(void)
{
        lmtp_commit_destroy(&commit);
        ev_loop_destroy(loop);
        test_store_destroy(&ts);
}

TestSuite(lmtp_commit, .init = setup, .fini = teardown);

static void probe_done(struct lmtp_commit_waiter *waiter, enum cove_store_err err)
{
        struct probe *p = container_of(waiter, struct probe, waiter);
        p->calls++;
        p->err = err;
        p->order = ++seq;
        p->busy_seen = commit != NULL && lmtp_commit_store_busy(commit);
}

/* One delivery committed without a flush. */
static void deliver_nosync(void)
{
        struct store_deliver_rcpt rcpt = { .user = "u@example.org" };
        const struct cove_store_part body = { .data = "Subject: x\r\n\r\nx\r\n", .size = 17 };
        store_deliver_batch(ts->store, &rcpt, 1, &body, 1, false);
        cr_assert_eq(rcpt.result, COVE_STORE_OK);
}

/* Runs loop iterations until *calls is set (bounded). */
static void run_until(const int *calls)
{
        for (int i = 0; i < 2000 && *calls == 0; i++) {
                ev_run(loop, EVRUN_NOWAIT);
                if (*calls == 0)
                        usleep(1000);
        }
        cr_assert_neq(*calls, 0, "the waiter was never told");
}

Test(lmtp_commit, waiters_told_once_after_the_flush)
{
        struct probe a = { 0 }, b = { 0 };
        deliver_nosync();
        lmtp_commit_wait(commit, &a.waiter, probe_done);
        deliver_nosync();
        lmtp_commit_wait(commit, &b.waiter, probe_done);
        cr_assert_eq(a.calls + b.calls, 0, "never from inside wait");
        run_until(&b.calls);
        cr_assert_eq(a.calls, 1);
        cr_assert_eq(b.calls, 1);
        cr_assert_eq(a.err, COVE_STORE_OK);
        cr_assert_eq(a.order, 1, "in queue order");
        cr_assert(!a.busy_seen, "the store is free again when waiters run");
        for (int i = 0; i < 5; i++)
                ev_run(loop, EVRUN_NOWAIT);
        cr_assert_eq(a.calls + b.calls, 2, "told once");
}

Test(lmtp_commit, cancelled_waiter_is_not_told)
{
        struct probe a = { 0 }, b = { 0 };
        deliver_nosync();
        lmtp_commit_wait(commit, &a.waiter, probe_done);
        lmtp_commit_wait(commit, &b.waiter, probe_done);
        lmtp_commit_cancel(commit, &a.waiter);
        lmtp_commit_cancel(commit, &a.waiter);   /* no-op */
        run_until(&b.calls);
        cr_assert_eq(a.calls, 0);
        cr_assert(!a.waiter.queued);
}

Test(lmtp_commit, parked_waiters_run_after_the_flush_waiters)
{
        /* The flush starts in the loop's prepare phase and ends when the
           thread's wake-up is handled; catch the store busy in between. */
        int caught = 0;
        for (int attempt = 0; attempt < 200 && caught == 0; attempt++) {
                struct probe w = { 0 }, parked = { 0 };
                seq = 0;
                deliver_nosync();
                lmtp_commit_wait(commit, &w.waiter, probe_done);
                ev_run(loop, EVRUN_NOWAIT);
                if (lmtp_commit_store_busy(commit)) {
                        caught++;
                        lmtp_commit_when_free(commit, &parked.waiter, probe_done);
                        run_until(&parked.calls);
                        cr_assert_eq(w.calls, 1);
                        cr_assert_eq(w.order, 1);
                        cr_assert_eq(parked.order, 2, "parked after the flush's waiters");
                        cr_assert(!parked.busy_seen);
                } else {
                        run_until(&w.calls);
                }
        }
        cr_assert_gt(caught, 0, "the store was never seen busy");
}

Test(lmtp_commit, destroy_flushes_queued_waiters)
{
        struct probe a = { 0 };
        deliver_nosync();
        lmtp_commit_wait(commit, &a.waiter, probe_done);
        lmtp_commit_destroy(&commit);
        cr_assert_null(commit);
        cr_assert_eq(a.calls, 1);
        cr_assert_eq(a.err, COVE_STORE_OK);
}

/* test-group-commit.c - storage/group-commit.c on real stores and a libev
 * loop: waiters are told once, after a flush that began after they queued;
 * a cancelled waiter never is; the loop keeps using the store while the
 * LMDB flush thread runs; an engine without sync_concurrent is flushed on
 * the loop (fault_serial); a failed flush reaches every waiter; destroy
 * flushes what is still queued.
 */
#include <criterion/criterion.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "group-commit.h"
#include "log.h"
#include "pool.h"
#include "store.h"
#include "test-store.h"

static struct test_store *ts;
static struct ev_loop *loop;
static struct group_commit *gc;

struct probe {
        struct group_commit_waiter waiter;
        int calls;
        enum cove_store_err err;
        int order;              /* value of seq when called */
};

static int seq;

/* engine: "lmdb", or a fault engine wrapping it with extra options. */
static void start(const char *engine, const char *options)
{
        const char *error = NULL;
        setenv("COVE_TEST_ENGINE", engine, 1);
        setenv("COVE_TEST_STORE_OPTIONS", options, 1);
        cr_assert_eq(test_store_create(&ts, &error), 0, "%s", error);
        uint32_t id;
        cr_assert_eq(test_store_user_add(ts->store, "u@example.org", &id), COVE_STORE_OK);
        loop = ev_loop_new(EVFLAG_AUTO);
        cr_assert_eq(group_commit_create(loop, ts->store, "test", STORE_FLUSH_NONE, &gc, &error), 0, "%s", error);
        seq = 0;
}

static void setup_lmdb(void)
{
        start("lmdb", "path=%D/store");
}

static void teardown(void)
{
        group_commit_destroy(&gc);
        ev_loop_destroy(loop);
        test_store_destroy(&ts);
        unsetenv("COVE_TEST_ENGINE");
        unsetenv("COVE_TEST_STORE_OPTIONS");
}

TestSuite(group_commit, .init = setup_lmdb, .fini = teardown);

static void probe_done(struct group_commit_waiter *waiter, enum cove_store_err err)
{
        struct probe *p = container_of(waiter, struct probe, waiter);
        p->calls++;
        p->err = err;
        p->order = ++seq;
}

/* One delivery committed without a flush. */
static void deliver_nosync(void)
{
        struct store_deliver_rcpt rcpt = { .user = "u@example.org" };
        const struct cove_store_part body = { .data = "Subject: x\r\n\r\nx\r\n", .size = 17 };
        store_deliver_batch(ts->store, &rcpt, 1, &body, 1, STORE_FLUSH_NONE, NULL);
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

Test(group_commit, waiters_told_once_after_the_flush)
{
        struct probe a = { 0 }, b = { 0 };
        deliver_nosync();
        group_commit_wait(gc, &a.waiter, probe_done);
        deliver_nosync();
        group_commit_wait(gc, &b.waiter, probe_done);
        cr_assert_eq(a.calls + b.calls, 0, "never from inside wait");
        run_until(&b.calls);
        cr_assert_eq(a.calls, 1);
        cr_assert_eq(b.calls, 1);
        cr_assert_eq(a.err, COVE_STORE_OK);
        cr_assert_eq(a.order, 1, "in queue order");
        cr_assert_eq(group_commit_flushes(gc), 1, "one flush for both");
        for (int i = 0; i < 5; i++)
                ev_run(loop, EVRUN_NOWAIT);
        cr_assert_eq(a.calls + b.calls, 2, "told once");
}

Test(group_commit, cancelled_waiter_is_not_told)
{
        struct probe a = { 0 }, b = { 0 };
        deliver_nosync();
        group_commit_wait(gc, &a.waiter, probe_done);
        group_commit_wait(gc, &b.waiter, probe_done);
        group_commit_cancel(gc, &a.waiter);
        group_commit_cancel(gc, &a.waiter);   /* no-op */
        run_until(&b.calls);
        cr_assert_eq(a.calls, 0);
        cr_assert(!a.waiter.queued);
}

/* While the thread flushes, the loop commits and reads; what it commits then
   waits for the next flush, never for the running one. */
Test(group_commit, loop_uses_the_store_during_a_flush)
{
        int overlapped = 0;
        for (int attempt = 0; attempt < 200 && overlapped == 0; attempt++) {
                struct probe first = { 0 }, second = { 0 };
                seq = 0;
                deliver_nosync();
                group_commit_wait(gc, &first.waiter, probe_done);
                unsigned long long before = group_commit_flushes(gc);
                ev_run(loop, EVRUN_NOWAIT);   /* prepare starts the flush */
                if (first.calls == 0) {
                        /* The flush is running: use the store meanwhile. */
                        overlapped++;
                        deliver_nosync();
                        struct store_txn *txn;
                        cr_assert_eq(store_txn_begin(ts->store, false, &txn), COVE_STORE_OK);
                        store_txn_abort(&txn);
                        group_commit_wait(gc, &second.waiter, probe_done);
                        run_until(&second.calls);
                        cr_assert_eq(first.order, 1);
                        cr_assert_eq(second.order, 2);
                        cr_assert_eq(group_commit_flushes(gc), before + 2,
                                     "the second commit got a flush of its own");
                } else {
                        run_until(&first.calls);
                }
        }
        cr_assert_gt(overlapped, 0, "no flush was ever seen running");
}

Test(group_commit, note_without_waiter_still_flushes)
{
        deliver_nosync();
        group_commit_note(gc);
        for (int i = 0; i < 2000 && group_commit_flushes(gc) == 0; i++) {
                ev_run(loop, EVRUN_NOWAIT);
                usleep(1000);
        }
        cr_assert_eq(group_commit_flushes(gc), 1);
}

Test(group_commit, destroy_flushes_queued_waiters)
{
        struct probe a = { 0 };
        deliver_nosync();
        group_commit_wait(gc, &a.waiter, probe_done);
        group_commit_destroy(&gc);
        cr_assert_null(gc);
        cr_assert_eq(a.calls, 1);
        cr_assert_eq(a.err, COVE_STORE_OK);
}

static void setup_serial(void)
{
        start("fault_serial", "fault_inner=lmdb|path=%D/store");
}

TestSuite(group_commit_serial, .init = setup_serial, .fini = teardown);

Test(group_commit_serial, flushes_on_the_loop)
{
        cr_assert(!store_can_sync_concurrently(ts->store));
        struct probe a = { 0 }, b = { 0 };
        deliver_nosync();
        group_commit_wait(gc, &a.waiter, probe_done);
        group_commit_wait(gc, &b.waiter, probe_done);
        cr_assert_eq(a.calls, 0, "never from inside wait");
        run_until(&b.calls);
        cr_assert_eq(a.calls, 1);
        cr_assert_eq(a.err, COVE_STORE_OK);
        cr_assert_eq(group_commit_flushes(gc), 1);
}

static void setup_sync_fail(void)
{
        start("fault", "fault_inner=lmdb|fault_sync=fail|path=%D/store");
}

TestSuite(group_commit_fail, .init = setup_sync_fail, .fini = teardown);

Test(group_commit_fail, failed_flush_reaches_every_waiter)
{
        cr_assert(store_can_sync_concurrently(ts->store));
        struct probe a = { 0 }, b = { 0 };
        deliver_nosync();
        group_commit_wait(gc, &a.waiter, probe_done);
        group_commit_wait(gc, &b.waiter, probe_done);
        run_until(&b.calls);
        cr_assert_eq(a.err, COVE_STORE_INTERNAL);
        cr_assert_eq(b.err, COVE_STORE_INTERNAL);
}

/* test-write-batch.c - storage/write-batch.c on real stores and a libev
 * loop: queued entries run together in one batch, never from inside
 * enqueue, each in a transaction nested in the batch's; what they commit is
 * stored (and visible) only once the batch commits; a cancelled entry never
 * runs; a failed batch commit reaches every entry that ran and stores
 * nothing; a failing entry undoes only its own changes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "group-commit.h"
#include "log.h"
#include "store.h"
#include "test-store.h"
#include "write-batch.h"

static struct test_store *ts;
static struct ev_loop *loop;
static struct group_commit *gc;
static struct write_batch *wb;
static uint32_t inbox;

struct probe {
        struct write_batch_entry entry;
        bool fail_own_work;     /* abort its own nested txn */
        int runs, failures;
        bool nested;            /* its txn was nested in a batch */
        enum cove_store_err err;
        int label;              /* for order checks */
};

static void start(const char *engine, const char *options)
{
        const char *error = NULL;
        setenv("COVE_TEST_ENGINE", engine, 1);
        setenv("COVE_TEST_STORE_OPTIONS", options, 1);
        cr_assert_eq(test_store_create(&ts, &error), 0, "%s", error);
        uint32_t user;
        cr_assert_eq(test_store_user_add(ts->store, "wb@example.org", &user), COVE_STORE_OK);
        inbox = test_store_mailbox_id(ts->store, user, "INBOX");
        loop = ev_loop_new(EVFLAG_AUTO);
        cr_assert_eq(group_commit_create(loop, ts->store, "test", STORE_FLUSH_ORDERED, &gc,
                                         &error), 0, "%s", error);
        cr_assert_eq(write_batch_create(loop, ts->store, "test", gc, &wb, &error), 0, "%s",
                     error);
}

static void setup_lmdb(void)
{
        start("lmdb", "path=%D/store");
}

/* Commits of the handle: 1 = the user's creation in start(), 2 = the
   probe's nested txn, 3 = the batch itself (made to fail). */
static void setup_commit_fail(void)
{
        start("fault", "fault_inner=lmdb|fault_commit_fail=3|path=%D/store");
}

static void teardown(void)
{
        write_batch_destroy(&wb);
        group_commit_destroy(&gc);
        ev_loop_destroy(loop);
        test_store_destroy(&ts);
        unsetenv("COVE_TEST_ENGINE");
        unsetenv("COVE_TEST_STORE_OPTIONS");
}

static uint32_t messages(void)
{
        struct cove_store_mailbox mb;
        cr_assert_eq(test_store_mailbox_get(ts->store, inbox, &mb), COVE_STORE_OK);
        return mb.messages;
}

static void probe_run(struct write_batch_entry *entry)
{
        struct probe *p = container_of(entry, struct probe, entry);
        static const char msg[] = "Subject: wb\r\n\r\nwb\r\n";
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        struct cove_store_saved saved;
        struct store_txn *txn;
        p->runs++;
        cr_assert(write_batch_running(wb));
        cr_assert_eq(write_batch_begin(wb, &txn), COVE_STORE_OK);
        p->nested = write_batch_nests(wb);
        cr_assert_eq(store_msg_append(txn, inbox, &app, &saved), COVE_STORE_OK);
        if (p->fail_own_work)
                store_txn_abort(&txn);
        else
                cr_assert_eq(store_txn_commit_as(&txn, STORE_FLUSH_ORDERED), COVE_STORE_OK);
}

static void probe_failed(struct write_batch_entry *entry, enum cove_store_err err)
{
        struct probe *p = container_of(entry, struct probe, entry);
        p->failures++;
        p->err = err;
}

static void run_until_batches(unsigned long long n)
{
        for (int i = 0; i < 2000 && write_batch_count(wb) < n; i++) {
                ev_run(loop, EVRUN_NOWAIT);
                if (write_batch_count(wb) < n)
                        usleep(1000);
        }
        cr_assert_geq(write_batch_count(wb), n, "the batch never ran");
}

TestSuite(write_batch, .init = setup_lmdb, .fini = teardown);

Test(write_batch, queued_entries_share_one_batch)
{
        struct probe a = { 0 }, b = { 0 }, c = { .fail_own_work = true };
        write_batch_enqueue(wb, &a.entry, probe_run, probe_failed);
        write_batch_enqueue(wb, &b.entry, probe_run, probe_failed);
        write_batch_enqueue(wb, &c.entry, probe_run, probe_failed);
        cr_assert_eq(a.runs + b.runs + c.runs, 0, "never from inside enqueue");
        cr_assert(!write_batch_running(wb));
        run_until_batches(1);
        cr_assert_eq(write_batch_count(wb), 1, "one batch for all three");
        cr_assert_eq(a.runs, 1);
        cr_assert_eq(b.runs, 1);
        cr_assert_eq(c.runs, 1);
        cr_assert(a.nested, "LMDB nests: the entries ran inside the batch's txn");
        cr_assert(!write_batch_nests(wb), "no batch runs now");
        cr_assert_eq(messages(), 2u, "the aborted entry's append was kept");
        cr_assert_eq(a.failures + b.failures + c.failures, 0);
        cr_assert(!a.entry.queued && !a.entry.ran);
}

Test(write_batch, cancelled_entry_never_runs)
{
        struct probe a = { 0 }, b = { 0 };
        write_batch_enqueue(wb, &a.entry, probe_run, probe_failed);
        write_batch_enqueue(wb, &b.entry, probe_run, probe_failed);
        write_batch_cancel(wb, &b.entry);
        write_batch_cancel(wb, &b.entry);   /* no-op */
        run_until_batches(1);
        cr_assert_eq(a.runs, 1);
        cr_assert_eq(b.runs, 0);
        cr_assert_eq(messages(), 1u);
        /* The queue's tail survived the cancel of its last entry. */
        struct probe c = { 0 };
        write_batch_enqueue(wb, &c.entry, probe_run, probe_failed);
        run_until_batches(2);
        cr_assert_eq(c.runs, 1);
}

/* An entry whose work committed nothing is answered at once and may be
   queued again, cancelled and freed while its batch still commits on the
   helper thread: the batch must not touch it afterwards (ASan checks). */
Test(write_batch, entry_queued_again_while_its_batch_commits)
{
        struct probe *a = calloc(1, sizeof(*a));
        struct probe b = { 0 };
        a->fail_own_work = true;
        write_batch_enqueue(wb, &a->entry, probe_run, probe_failed);
        write_batch_enqueue(wb, &b.entry, probe_run, probe_failed);
        /* The batch runs once its txn is begun; its commit is handed off. */
        for (int i = 0; i < 2000 && a->runs == 0; i++) {
                ev_run(loop, EVRUN_NOWAIT);
                if (a->runs == 0)
                        usleep(1000);
        }
        cr_assert_eq(a->runs, 1);
        cr_assert_eq(write_batch_count(wb), 0, "the commit's end is only seen by the loop");
        write_batch_enqueue(wb, &a->entry, probe_run, probe_failed);
        write_batch_cancel(wb, &a->entry);
        free(a);
        run_until_batches(1);
        cr_assert_eq(b.runs, 1);
        cr_assert_eq(b.failures, 0);
        cr_assert_eq(messages(), 1u);
}

/* Records the order in which entries run. */
static int run_order[8], run_count;

static void order_run(struct write_batch_entry *entry)
{
        struct probe *p = container_of(entry, struct probe, entry);
        p->runs++;
        run_order[run_count++] = p->label;
}

/* Entries queued "first" run before the others (in their own order), also
   when queued after them, and the queue's two parts survive a cancel. */
Test(write_batch, first_entries_run_before_the_others)
{
        struct probe a = { .label = 1 }, f1 = { .label = 2 }, b = { .label = 3 }, f2 = { .label = 4 },
                     f3 = { .label = 5 }, c = { .label = 6 };
        run_count = 0;
        write_batch_enqueue(wb, &a.entry, order_run, probe_failed);
        write_batch_enqueue_first(wb, &f1.entry, order_run, probe_failed);
        write_batch_enqueue(wb, &b.entry, order_run, probe_failed);
        write_batch_enqueue_first(wb, &f2.entry, order_run, probe_failed);
        write_batch_enqueue_first(wb, &f3.entry, order_run, probe_failed);
        write_batch_cancel(wb, &f3.entry);    /* the last "first" */
        write_batch_cancel(wb, &b.entry);     /* the last of all */
        write_batch_enqueue(wb, &c.entry, order_run, probe_failed);
        write_batch_enqueue_first(wb, &f3.entry, order_run, probe_failed);
        run_until_batches(1);
        cr_assert_eq(run_count, 5);
        int want[] = { 2, 4, 5, 1, 6 };
        for (int i = 0; i < 5; i++)
                cr_assert_eq(run_order[i], want[i], "position %d: %d", i, run_order[i]);
        cr_assert_eq(b.runs, 0);

        /* Only "first" entries: the tail still follows them. */
        struct probe g = { .label = 7 }, d = { .label = 8 };
        run_count = 0;
        write_batch_enqueue_first(wb, &g.entry, order_run, probe_failed);
        write_batch_enqueue(wb, &d.entry, order_run, probe_failed);
        run_until_batches(2);
        cr_assert_eq(run_count, 2);
        cr_assert_eq(run_order[0], 7);
        cr_assert_eq(run_order[1], 8);
}

Test(write_batch, begin_outside_a_batch_is_a_txn_of_its_own)
{
        struct store_txn *txn;
        cr_assert(!write_batch_running(wb));
        cr_assert_eq(write_batch_begin(wb, &txn), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
}

/* A forked child holds the store's writer lock (as another worker's batch
   does through its commit) until told to let go. */
struct lock_holder {
        pid_t pid;
        int go_fd;      /* write a byte: commit and exit */
};

static void __attribute__((noreturn)) hold_writer_lock(int held_fd, int go_fd)
{
        struct store *store = NULL;
        struct store_txn *txn = NULL;
        const char *error = NULL;
        char c = 'L';
        if (test_store_open_handle(ts, &store, &error) < 0 ||
            store_txn_begin(store, true, &txn) != COVE_STORE_OK)
                _exit(3);
        if (write(held_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
                _exit(4);
        _exit(store_txn_commit(&txn) == COVE_STORE_OK ? 0 : 5);
}

static struct lock_holder lock_holder_start(void)
{
        int held[2], go[2];
        char c;
        cr_assert_eq(pipe(held), 0);
        cr_assert_eq(pipe(go), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(held[0]);
                close(go[1]);
                hold_writer_lock(held[1], go[0]);
        }
        close(held[1]);
        close(go[0]);
        cr_assert_eq(read(held[0], &c, 1), 1, "the child could not take the writer lock");
        close(held[0]);
        return (struct lock_holder){ .pid = pid, .go_fd = go[1] };
}

static void lock_holder_release(struct lock_holder *h)
{
        int status = 0;
        cr_assert_eq(write(h->go_fd, "G", 1), 1);
        close(h->go_fd);
        while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
                ;
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "lock holder: %d", status);
}

/* While another process holds the writer lock the loop goes on: the batch
   waits on the helper thread (if the loop waited, the child would never be
   told to let go and the test would hang). */
Test(write_batch, loop_never_waits_for_the_writer_lock, .timeout = 20)
{
        struct probe a = { 0 };
        struct lock_holder h = lock_holder_start();
        write_batch_enqueue(wb, &a.entry, probe_run, probe_failed);
        for (int i = 0; i < 20; i++) {
                ev_run(loop, EVRUN_NOWAIT);
                usleep(1000);
        }
        cr_assert_eq(a.runs, 0, "the batch ran while another process held the lock");
        lock_holder_release(&h);
        run_until_batches(1);
        cr_assert_eq(a.runs, 1);
        cr_assert(a.nested);
        cr_assert_eq(messages(), 1u);
}

/* A write txn of the loop's own while the helper waits to begin a batch:
   the helper's txn is given back, the write gets a txn of its own, and the
   queued entry runs in a later batch. */
Test(write_batch, begin_outside_while_a_batch_is_being_begun, .timeout = 20)
{
        struct probe a = { 0 };
        struct store_txn *txn;
        struct lock_holder h = lock_holder_start();
        write_batch_enqueue(wb, &a.entry, probe_run, probe_failed);
        ev_run(loop, EVRUN_NOWAIT);   /* the helper now waits for the lock */
        lock_holder_release(&h);
        cr_assert_eq(write_batch_begin(wb, &txn), COVE_STORE_OK);
        cr_assert_eq(a.runs, 0, "the queue stays for the next batch");
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        run_until_batches(1);
        cr_assert_eq(a.runs, 1);
        cr_assert_eq(a.failures, 0);
        cr_assert_eq(messages(), 1u);
}

TestSuite(write_batch_fail, .init = setup_commit_fail, .fini = teardown);

Test(write_batch_fail, failed_batch_commit_reaches_every_entry)
{
        struct probe a = { 0 };
        write_batch_enqueue(wb, &a.entry, probe_run, probe_failed);
        run_until_batches(1);
        cr_assert_eq(a.runs, 1);
        cr_assert_eq(a.failures, 1);
        cr_assert_eq(a.err, COVE_STORE_TEMP);
        cr_assert_eq(messages(), 0u, "a failed batch stored something");
}

/* test-nested.c - conformance: nested write transactions (the optional
 * txn_begin_nested). A committed child's changes become the parent's and
 * reach the store only when the parent commits; an aborted child, or one
 * whose write failed, leaves the parent as it was; aborting the parent
 * drops every child; users are notified at the parent's commit, not the
 * child's; a handoff txn is begun and committed on another thread while
 * this one nests in it and reads. Engines without them skip these cases.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>

#include "conformance.h"

CT_SUITE(nested);

static const char msg[] = "Subject: nested\r\n\r\nnested\r\n";

static void need_nesting(void)
{
        if (!store_can_nest(ts->store))
                cr_skip_test("engine has no nested transactions");
}

static void append_in(struct store_txn *txn, uint32_t mailbox_id, struct cove_store_saved *saved)
{
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        ct_assert_ok(store_msg_append(txn, mailbox_id, &app, saved));
}

static bool readable(int fd)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n;
        while ((n = poll(&pfd, 1, 0)) < 0 && errno == EINTR)
                ;
        return n > 0 && (pfd.revents & POLLIN) != 0;
}

Test(nested, committed_children_land_with_the_parent)
{
        need_nesting();
        uint32_t user = ct_user_add("nest@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct store_txn *parent = NULL, *child = NULL;
        struct cove_store_saved a, b;

        ct_assert_ok(store_txn_begin(ts->store, true, &parent));
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &a);
        ct_assert_ok(store_txn_commit(&child));
        cr_assert_null(child);
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &b);
        ct_assert_ok(store_txn_commit(&child));
        cr_assert_gt(b.uid, a.uid, "the second child sees the first one's UID");
        cr_assert_eq(ct_mailbox_get(inbox).messages, 0u, "visible before the parent commits");
        ct_assert_ok(store_txn_commit_as(&parent, STORE_FLUSH_ORDERED));
        ct_assert_ok(store_sync(ts->store));
        ct_reopen();
        cr_assert_eq(ct_mailbox_get(inbox).messages, 2u);
        ct_assert_body(inbox, b.uid, msg, sizeof(msg) - 1);
}

Test(nested, aborted_child_leaves_the_parent_as_it_was)
{
        need_nesting();
        uint32_t user = ct_user_add("nest@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct store_txn *parent = NULL, *child = NULL;
        struct cove_store_saved a, b;

        ct_assert_ok(store_txn_begin(ts->store, true, &parent));
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &a);
        ct_assert_ok(store_txn_commit(&child));
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &b);
        store_txn_abort(&child);
        cr_assert_null(child);
        /* A failed write in a child (no such mailbox) is the child's alone. */
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        struct cove_store_saved c;
        ct_assert_fails(store_msg_append(child, 999999, &app, &c));
        store_txn_abort(&child);
        ct_assert_ok(store_txn_commit(&parent));
        cr_assert_eq(ct_mailbox_get(inbox).messages, 1u);
        cr_assert_eq(ct_count_messages(inbox), 1u);
        ct_assert_body(inbox, a.uid, msg, sizeof(msg) - 1);
        cr_assert_eq(ct_user_get(user).used_messages, 1u, "the aborted child's usage stayed");
}

Test(nested, aborting_the_parent_drops_every_child)
{
        need_nesting();
        uint32_t user = ct_user_add("nest@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct store_txn *parent = NULL, *child = NULL;
        struct cove_store_saved a;

        ct_assert_ok(store_txn_begin(ts->store, true, &parent));
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &a);
        ct_assert_ok(store_txn_commit(&child));
        store_txn_abort(&parent);
        cr_assert_eq(ct_mailbox_get(inbox).messages, 0u);
        cr_assert_eq(ct_user_get(user).used_messages, 0u);
}

Test(nested, one_child_at_a_time_and_only_in_write_parents)
{
        need_nesting();
        struct store_txn *parent = NULL, *child = NULL, *second = NULL;

        ct_assert_ok(store_txn_begin(ts->store, false, &parent));
        ct_assert_fails(store_txn_begin_nested(parent, &child));
        cr_assert_null(child);
        store_txn_abort(&parent);
        ct_assert_ok(store_txn_begin(ts->store, true, &parent));
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        ct_assert_fails(store_txn_begin_nested(parent, &second));
        cr_assert_null(second);
        store_txn_abort(&child);
        ct_assert_ok(store_txn_begin_nested(parent, &second));
        store_txn_abort(&second);
        store_txn_abort(&parent);
}

Test(nested, users_are_notified_when_the_parent_commits)
{
        need_nesting();
        uint32_t user = ct_user_add("nest@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct store_watch *watch = NULL;
        struct store_txn *parent = NULL, *child = NULL;
        struct cove_store_saved a;

        ct_assert_ok(store_watch_start(ts->store, user, &watch));
        int fd = store_watch_fd(watch);
        store_watch_drain(watch);
        ct_assert_ok(store_txn_begin(ts->store, true, &parent));
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &a);
        ct_assert_ok(store_txn_commit(&child));
        cr_assert(!readable(fd), "notified at the child's commit");
        ct_assert_ok(store_txn_commit(&parent));
        cr_assert(readable(fd), "not notified at the parent's commit");
        store_watch_stop(&watch);
}

/* ---- handoff: the batch's top-level txn lives on another thread ---- */

struct handoff_job {
        bool commit;                    /* false: begin */
        struct cove_store_txn *etxn;
        enum cove_store_err err;
        char error[256];
};

static void *handoff_thread(void *arg)
{
        struct handoff_job *job = arg;
        job->err = job->commit
                ? store_handoff_commit(ts->store, &job->etxn, job->error, sizeof(job->error))
                : store_handoff_begin(ts->store, &job->etxn, job->error, sizeof(job->error));
        return NULL;
}

/* Runs one handoff call on a thread of its own and waits for it. */
static void handoff_on_thread(struct handoff_job *job)
{
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, handoff_thread, job), 0);
        cr_assert_eq(pthread_join(t, NULL), 0);
        cr_assert_eq(job->err, COVE_STORE_OK, "%s", job->error);
}

Test(nested, handoff_txn_begun_and_committed_on_another_thread)
{
        if (!store_can_handoff(ts->store))
                cr_skip_test("engine has no handoff transactions");
        uint32_t user = ct_user_add("nest@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct store_watch *watch = NULL;
        ct_assert_ok(store_watch_start(ts->store, user, &watch));
        store_watch_drain(watch);

        struct handoff_job begin = { .commit = false };
        handoff_on_thread(&begin);
        struct store_txn *parent = store_handoff_adopt(ts->store, begin.etxn);
        struct store_txn *child = NULL;
        struct cove_store_saved a, b;
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &a);
        ct_assert_ok(store_txn_commit(&child));
        ct_assert_ok(store_txn_begin_nested(parent, &child));
        append_in(child, inbox, &b);
        store_txn_abort(&child);
        /* Reads on this thread meanwhile see the state before the parent. */
        cr_assert_eq(ct_mailbox_get(inbox).messages, 0u);

        struct handoff_job commit = { .commit = true,
                                      .etxn = store_handoff_release(parent) };
        handoff_on_thread(&commit);
        cr_assert(!readable(store_watch_fd(watch)), "notified before the end on this thread");
        store_handoff_end(&parent, commit.err);
        cr_assert_null(parent);
        cr_assert(readable(store_watch_fd(watch)), "not notified at the end");
        store_watch_stop(&watch);
        ct_reopen();
        cr_assert_eq(ct_mailbox_get(inbox).messages, 1u);
        ct_assert_body(inbox, a.uid, msg, sizeof(msg) - 1);
}

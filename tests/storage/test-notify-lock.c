/* test-notify-lock.c - conformance: change notification (a watch wakes after
 * another process commits a delivery, and after our own commits) and the
 * POP3 maildrop lock (exclusive, per user, released when the holder dies,
 * refused while an expunge is running).
 * Waits use generous timeouts and assert only that the wake-up happens.
 */
#include "conformance.h"

#include <errno.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

CT_SUITE(notify);

#define WAKE_TIMEOUT_MS 5000

static bool readable(int fd, int timeout_ms)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n;

        while ((n = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
                ;
        return n > 0 && (pfd.revents & POLLIN) != 0;
}

static int wait_child(pid_t pid)
{
        int status = 0;

        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Forks a child that delivers one message to `name` through its own handle.
   Returns its pid; its exit status is 0 on success. */
static pid_t spawn_deliverer(const char *name)
{
        pid_t pid = fork();

        cr_assert_geq(pid, 0);
        if (pid == 0) {
                static const char m[] = "Subject: wake\r\n\r\nwake up\r\n";
                struct cove_store_part part = { m, sizeof(m) - 1 };
                struct cove_store_saved saved;
                struct store *store = NULL;
                const char *error = NULL;
                if (test_store_open_handle(ts, &store, &error) < 0)
                        _exit(3);
                enum cove_store_err err = store_deliver(store, name, NULL, &part, 1, &saved);
                store_close(&store);
                _exit(err == COVE_STORE_OK ? 0 : 10 + (int)err);
        }
        return pid;
}

Test(notify, watch_wakes_on_delivery_from_another_process)
{
        uint32_t user = ct_user_add("watch@example.org");
        struct store_watch *watch = NULL;

        ct_assert_ok(store_watch_start(ts->store, user, &watch));
        int fd = store_watch_fd(watch);
        cr_assert_geq(fd, 0);
        store_watch_drain(watch);
        cr_assert(!readable(fd, 0), "watch readable before any change");

        pid_t pid = spawn_deliverer("watch@example.org");
        bool woke = readable(fd, WAKE_TIMEOUT_MS);
        int status = wait_child(pid);
        cr_assert_eq(status, 0, "deliverer failed with %d", status);
        cr_assert(woke, "no wake-up within %d ms of another process's delivery",
                  WAKE_TIMEOUT_MS);
        cr_assert_eq(ct_mailbox_get(ct_mailbox(user, "INBOX")).messages, 1u);

        store_watch_drain(watch);
        cr_assert(!readable(fd, 0), "still readable after drain with no new change");

        /* Our own commits wake it too (IDLE in one worker, APPEND in another
           session of the same worker). */
        static const char m[] = "Subject: own\r\n\r\nown\r\n";
        uint32_t uid = ct_append(ct_mailbox(user, "Sent"), m, sizeof(m) - 1, 0).uid;
        cr_assert(readable(fd, WAKE_TIMEOUT_MS), "no wake-up after our own append");
        store_watch_drain(watch);

        /* A flag change is a change as well. */
        struct store_txn *txn = NULL;
        uint64_t modseq;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_update_flags(txn, ct_mailbox(user, "Sent"), uid,
                                            COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN, NULL, 0,
                                            &modseq));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert(readable(fd, WAKE_TIMEOUT_MS), "no wake-up after a flag change");
        store_watch_stop(&watch);
        cr_assert_null(watch);
}

/* Child: tries the maildrop lock once; exit 0 = got it, 1 = INUSE. */
static int try_lock_in_child(uint32_t user)
{
        pid_t pid = fork();

        cr_assert_geq(pid, 0);
        if (pid == 0) {
                struct store *store = NULL;
                struct store_lock *lock = NULL;
                const char *error = NULL;
                if (test_store_open_handle(ts, &store, &error) < 0)
                        _exit(3);
                enum cove_store_err err = store_maildrop_lock(store, user, &lock);
                _exit(err == COVE_STORE_OK ? 0 : err == COVE_STORE_INUSE ? 1 : 10 + (int)err);
        }
        return wait_child(pid);
}

Test(notify, maildrop_lock_exclusive_per_user)
{
        uint32_t a = ct_user_add("a@example.org");
        uint32_t b = ct_user_add("b@example.org");
        struct store_lock *lock = NULL, *second = NULL, *other = NULL;

        ct_assert_ok(store_maildrop_lock(ts->store, a, &lock));
        ct_assert_code(store_maildrop_lock(ts->store, a, &second), COVE_STORE_INUSE);
        cr_assert_null(second);
        cr_assert_eq(try_lock_in_child(a), 1, "another process got a held lock");
        ct_assert_ok(store_maildrop_lock(ts->store, b, &other));
        store_lock_release(&other);

        store_lock_release(&lock);
        cr_assert_null(lock);
        cr_assert_eq(try_lock_in_child(a), 0, "lock not free after release");
        /* The child exited holding it: exit released it. */
        ct_assert_ok(store_maildrop_lock(ts->store, a, &lock));
        store_lock_release(&lock);
}

Test(notify, maildrop_lock_released_when_holder_killed)
{
        uint32_t user = ct_user_add("pop@example.org");
        struct store_lock *lock = NULL;
        pid_t holder = ct_spawn_lock_holder(user);

        ct_assert_code(store_maildrop_lock(ts->store, user, &lock), COVE_STORE_INUSE);
        cr_assert_eq(try_lock_in_child(user), 1);
        ct_kill(holder);
        ct_assert_ok(store_maildrop_lock(ts->store, user, &lock));
        cr_assert_eq(try_lock_in_child(user), 1);
        store_lock_release(&lock);
}

Test(notify, maildrop_lock_waits_for_running_expunge)
{
        uint32_t user = ct_user_add("pop@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        static const char m[] = "Subject: e\r\n\r\ne\r\n";
        uint32_t uid = ct_append(inbox, m, sizeof(m) - 1, 0).uid;
        struct store_txn *txn = NULL;

        /* An IMAP EXPUNGE in progress holds the guard until its txn ends. */
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_expunge(txn, inbox, uid));
        cr_assert_eq(try_lock_in_child(user), 1, "POP3 lock granted during an expunge");
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_eq(try_lock_in_child(user), 0, "guard not released at commit");

        uid = ct_append(inbox, m, sizeof(m) - 1, 0).uid;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_expunge(txn, inbox, uid));
        store_txn_abort(&txn);
        cr_assert_eq(try_lock_in_child(user), 0, "guard not released at abort");
        cr_assert_eq(ct_mailbox_get(inbox).messages, 1u, "aborted expunge took effect");
}

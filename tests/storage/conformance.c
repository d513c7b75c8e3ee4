/* conformance.c - the fixture and asserting helpers every conformance case
 * shares (see conformance.h). Owns the per-test store; holds no test cases.
 */
#include "conformance.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct test_store *ts;

void ct_setup(void)
{
        const char *error = NULL;
        char msg[512];

        if (test_store_create(&ts, &error) == 0)
                return;
        /* error may live in ts->pool: copy it before freeing. */
        snprintf(msg, sizeof(msg), "%s", error != NULL ? error : "unknown error");
        test_store_destroy(&ts);
        cr_assert_fail("cannot create a '%s' store: %s", test_store_engine(), msg);
}

void ct_teardown(void)
{
        test_store_destroy(&ts);
}

void ct_reopen(void)
{
        const char *error = NULL;

        cr_assert_eq(test_store_reopen(ts, &error), 0, "reopen: %s", error);
}

uint32_t ct_user_add(const char *name)
{
        uint32_t id = 0;

        ct_assert_ok(test_store_user_add(ts->store, name, &id));
        cr_assert_neq(id, 0u, "user ids start at 1");
        return id;
}

uint32_t ct_mailbox(uint32_t user_id, const char *name)
{
        uint32_t id = test_store_mailbox_id(ts->store, user_id, name);

        cr_assert_neq(id, 0u, "mailbox '%s' of user %u not found", name, user_id);
        return id;
}

uint32_t ct_mailbox_add(uint32_t user_id, const char *name)
{
        uint32_t id = 0;

        ct_assert_ok(test_store_mailbox_add(ts->store, user_id, name, &id));
        cr_assert_neq(id, 0u);
        return id;
}

struct cove_store_mailbox ct_mailbox_get(uint32_t mailbox_id)
{
        struct cove_store_mailbox mb;

        ct_assert_ok(test_store_mailbox_get(ts->store, mailbox_id, &mb));
        return mb;
}

struct cove_store_user ct_user_get(uint32_t user_id)
{
        struct cove_store_user user;

        ct_assert_ok(test_store_user_get(ts->store, user_id, &user));
        return user;
}

struct cove_store_saved ct_append(uint32_t mailbox_id, const void *data, size_t len,
                                  uint32_t flags)
{
        struct cove_store_saved saved = { 0 };

        ct_assert_ok(test_store_append(ts->store, mailbox_id, data, len, flags, &saved));
        cr_assert_neq(saved.uid, 0u, "UID 0 is never valid");
        return saved;
}

void ct_expunge(uint32_t mailbox_id, uint32_t uid)
{
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_expunge(txn, mailbox_id, uid));
        ct_assert_ok(store_txn_commit(&txn));
}

void ct_assert_body(uint32_t mailbox_id, uint32_t uid, const void *data, size_t len)
{
        struct pool *pool = pool_create("ct-body", 1024);
        unsigned char *got = NULL;
        size_t got_len = 0;
        enum cove_store_err err = test_store_fetch(ts->store, mailbox_id, uid, pool, &got,
                                                   &got_len);
        bool same = err == COVE_STORE_OK && got_len == len &&
                    (len == 0 || memcmp(got, data, len) == 0);
        size_t first_diff = 0;

        while (err == COVE_STORE_OK && first_diff < len && first_diff < got_len &&
               got[first_diff] == ((const unsigned char *)data)[first_diff])
                first_diff++;
        pool_destroy(&pool);
        cr_assert(same, "uid %u: read back %s, %zu bytes (want %zu), first difference at %zu",
                  uid, cove_store_strerror(err), got_len, len, first_diff);
}

uint32_t ct_count_messages(uint32_t mailbox_id)
{
        struct cove_store_mailbox mb = ct_mailbox_get(mailbox_id);
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_msg *msg = NULL;
        enum cove_store_err err;
        uint32_t count = 0, last = 0;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_iter_init(txn, mailbox_id, 1, UINT32_MAX, &iter));
        while ((err = store_msg_iter_next(iter, &msg)) == COVE_STORE_OK) {
                cr_assert_gt(msg->uid, last, "UIDs must ascend: %u after %u", msg->uid, last);
                cr_assert_lt(msg->uid, mb.uidnext, "UID %u >= UIDNEXT %u", msg->uid,
                             mb.uidnext);
                last = msg->uid;
                count++;
        }
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        cr_assert_eq(err, COVE_STORE_NOTFOUND, "iteration ended with %s",
                     cove_store_strerror(err));
        return count;
}

struct cove_store_stats ct_stats(void)
{
        struct cove_store_stats stats;

        ct_assert_ok(store_stats(ts->store, &stats));
        return stats;
}

/* Child side of ct_spawn_lock_holder: never returns. */
static void __attribute__((noreturn)) lock_holder(uint32_t user_id, int ready_fd, int hold_fd)
{
        struct store *store = NULL;
        struct store_lock *lock = NULL;
        const char *error = NULL;
        char status = 'F', c;

        if (test_store_open_handle(ts, &store, &error) == 0 &&
            store_maildrop_lock(store, user_id, &lock) == COVE_STORE_OK)
                status = 'L';
        if (write(ready_fd, &status, 1) != 1)
                _exit(2);
        /* Holds the lock until killed or until the parent goes away. */
        while (read(hold_fd, &c, 1) > 0)
                ;
        _exit(0);
}

pid_t ct_spawn_lock_holder(uint32_t user_id)
{
        int ready[2], hold[2];
        char status = 0;

        cr_assert_eq(pipe(ready), 0);
        cr_assert_eq(pipe(hold), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0, "fork");
        if (pid == 0) {
                close(ready[0]);
                close(hold[1]);
                lock_holder(user_id, ready[1], hold[0]);
        }
        close(ready[1]);
        close(hold[0]);
        /* hold[1] stays open (leaked on purpose) until this test process ends,
           so the child also ends if the test fails before killing it. */
        ssize_t n = read(ready[0], &status, 1);
        close(ready[0]);
        if (n != 1 || status != 'L') {
                ct_kill(pid);
                cr_assert_fail("child could not take the maildrop lock");
        }
        return pid;
}

void ct_kill(pid_t pid)
{
        int status;

        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
}

size_t ct_gen_size(uint32_t seed)
{
        return 300 + (size_t)((seed * 131u) % 4000u);
}

uint32_t ct_append_generated(uint32_t mailbox_id, uint32_t seed)
{
        size_t len = ct_gen_size(seed);
        unsigned char *msg = test_msg_make(ts->pool, seed, len);

        return ct_append(mailbox_id, msg, len, 0).uid;
}

uint32_t ct_assert_generated(uint32_t mailbox_id, uint32_t uid)
{
        static const char prefix[] = "From: t@example.org\r\nSubject: ";
        struct pool *pool = pool_create("ct-gen", 8192);
        unsigned char *got = NULL;
        size_t len = 0;
        unsigned seed = 0;

        ct_assert_ok(test_store_fetch(ts->store, mailbox_id, uid, pool, &got, &len));
        bool parsed = len > sizeof(prefix) + 8 &&
                      memcmp(got, prefix, sizeof(prefix) - 1) == 0 &&
                      sscanf((const char *)got + sizeof(prefix) - 1, "%8x", &seed) == 1;
        bool same = parsed && len == ct_gen_size(seed) &&
                    memcmp(got, test_msg_make(pool, seed, len), len) == 0;
        pool_destroy(&pool);
        cr_assert(parsed, "uid %u: not a generated message", uid);
        cr_assert(same, "uid %u: %zu bytes differ from generated message %u", uid, len, seed);
        return seed;
}

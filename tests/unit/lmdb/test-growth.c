/* Engine tests: map growth from a tiny map, reuse of freed space, a writer
 * killed mid-transaction, and several processes writing at once. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lmdb-test.h"

TestSuite(lmdb_growth, .init = lt_setup, .fini = lt_teardown);

Test(lmdb_growth, tiny_map_grows_for_20mb)
{
        const char *opts[] = { "map_size", "1M", NULL };
        struct cove_store *store = lt_create(opts);
        uint32_t user = lt_user(store, "ann@example.org");
        uint32_t box = lt_mailbox(store, user, "INBOX");
        const size_t len = 5 * 1024 * 1024;
        int retries = 0;

        for (uint32_t i = 0; i < 4; i++) {
                uint8_t *body = lt_random(len, 100 + i);
                struct cove_store_saved s = lt_append_retry(store, box, body, len, &retries);
                cr_assert_eq(s.uid, i + 1);
                free(body);
        }
        cr_assert_gt(retries, 0, "the 1M map must have filled at least once");
        cr_assert_leq(retries, 8);
        cr_assert_eq(lt_stats(store).bytes_received, 4 * len);
        ops->close(&store);

        /* The grown size is persistent: reopen (asking for 1M again) and read. */
        const char *kv[] = { "path", lt_dir, "map_size", "1M", NULL };
        const char *error;
        cr_assert_eq(lt_open_kv(false, kv, &store, &error), COVE_STORE_OK, "%s", error);
        for (uint32_t i = 0; i < 4; i++) {
                uint8_t *want = lt_random(len, 100 + i);
                size_t got_len;
                uint8_t *got = lt_read_all(store, box, i + 1, &got_len);
                cr_assert_eq(got_len, len);
                cr_assert_eq(memcmp(got, want, len), 0);
                free(got);
                free(want);
        }
        /* And appends still work there. */
        lt_append(store, box, "small\r\n", 7);
        ops->close(&store);
}

Test(lmdb_growth, expunged_space_is_reused)
{
        const char *opts[] = { "compress_threshold", "0", NULL };
        struct cove_store *store = lt_create(opts);
        uint32_t user = lt_user(store, "ann@example.org");
        uint32_t box = lt_mailbox(store, user, "INBOX");
        const size_t len = 5 * 1024 * 1024;
        uint8_t *body = lt_random(len, 7);

        for (uint32_t i = 0; i < 50; i++) {
                memcpy(body, &i, sizeof(i));    /* distinct bodies: no dedup */
                struct cove_store_saved s = lt_append(store, box, body, len);
                lt_expunge(store, box, s.uid);
        }
        struct cove_store_stats st = lt_stats(store);
        cr_assert_eq(st.messages, 0);
        cr_assert_eq(st.bytes_stored, 0);
        /* 50 x 5 MB went through; the file must stay near one or two copies. */
        cr_assert_lt(st.file_bytes, 24u * 1024 * 1024, "data file grew to %llu bytes",
                     (unsigned long long)st.file_bytes);
        free(body);
        ops->close(&store);
}

/* In a child: open the store, start a write txn, append, tell the parent,
   then wait to be killed while holding the writer lock. */
static void child_hold_write_txn(int fd)
{
        struct cove_store *store;
        struct cove_store_txn *txn;
        const char *kv[] = { "path", lt_dir, NULL };
        const char *error;
        struct cove_store_part p = { "never committed\r\n", 17 };
        struct cove_store_append a = { .parts = &p, .part_count = 1 };
        struct cove_store_saved s;

        if (lt_open_kv(false, kv, &store, &error) != COVE_STORE_OK ||
            ops->txn_begin(store, COVE_STORE_TXN_WRITE, &txn) != COVE_STORE_OK ||
            ops->msg_append(txn, 1, &a, &s) != COVE_STORE_OK)
                _exit(2);
        if (write(fd, "x", 1) != 1)
                _exit(3);
        for (;;)
                pause();
}

Test(lmdb_growth, killed_writer_leaves_store_usable)
{
        struct cove_store *store = lt_create(NULL);
        uint32_t user = lt_user(store, "ann@example.org");
        uint32_t box = lt_mailbox(store, user, "INBOX");
        cr_assert_eq(box, 1);
        ops->close(&store);

        int fds[2];
        char c;
        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                child_hold_write_txn(fds[1]);
        }
        close(fds[1]);
        cr_assert_eq(read(fds[0], &c, 1), 1, "child failed to start its txn");
        close(fds[0]);
        kill(pid, SIGKILL);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status));

        store = lt_reopen();
        struct cove_store_saved s = lt_append(store, box, "after\r\n", 7);
        cr_assert_eq(s.uid, 1, "the killed writer's append was never committed");
        cr_assert_eq(lt_stats(store).messages, 1);
        ops->close(&store);
}

static void child_append_many(int n)
{
        struct cove_store *store;
        const char *kv[] = { "path", lt_dir, NULL };
        const char *error;

        if (lt_open_kv(false, kv, &store, &error) != COVE_STORE_OK)
                _exit(2);
        for (int i = 0; i < n; i++) {
                char msg[64];
                int len = snprintf(msg, sizeof(msg), "From: %d\r\n\r\n%d\r\n", (int)getpid(), i);
                struct cove_store_part p = { msg, (uint64_t)len };
                struct cove_store_append a = { .parts = &p, .part_count = 1 };
                struct cove_store_saved s;
                struct cove_store_txn *txn;
                if (ops->txn_begin(store, COVE_STORE_TXN_WRITE, &txn) != COVE_STORE_OK ||
                    ops->msg_append(txn, 1, &a, &s) != COVE_STORE_OK ||
                    ops->txn_commit(&txn, 0) != COVE_STORE_OK)
                        _exit(3);
        }
        ops->close(&store);
        _exit(0);
}

Test(lmdb_growth, processes_write_concurrently)
{
        struct cove_store *store = lt_create(NULL);
        uint32_t user = lt_user(store, "ann@example.org");
        cr_assert_eq(lt_mailbox(store, user, "INBOX"), 1);
        ops->close(&store);

        pid_t pids[4];
        for (int i = 0; i < 4; i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0)
                        child_append_many(25);
        }
        for (int i = 0; i < 4; i++) {
                int status;
                cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        store = lt_reopen();
        struct cove_store_txn *txn = lt_begin(store, false);
        const struct cove_store_mailbox *box;
        cr_assert_eq(ops->mailbox_get(txn, 1, &box), COVE_STORE_OK);
        cr_assert_eq(box->messages, 100);
        cr_assert_eq(box->uidnext, 101);
        ops->txn_abort(&txn);
        ops->close(&store);
}

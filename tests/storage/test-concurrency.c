/* test-concurrency.c - conformance: several processes, each with its own
 * store handle, appending to one mailbox at once: every message lands once,
 * intact, with unique ascending UIDs, and the counters add up.
 */
#include "conformance.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

CT_SUITE(concurrency);

#define WRITERS 4
#define PER_WRITER 200

/* Child: appends PER_WRITER generated messages; exit status 0 on success. */
static void __attribute__((noreturn)) writer(uint32_t box, uint32_t first_seed, int go_fd)
{
        struct store *store = NULL;
        const char *error = NULL;
        struct pool *pool = pool_create("conc-child", 16384);
        char c;

        if (test_store_open_handle(ts, &store, &error) < 0)
                _exit(3);
        /* Start together, so the writers really overlap. */
        if (read(go_fd, &c, 1) < 0)
                _exit(4);
        for (uint32_t i = 0; i < PER_WRITER; i++) {
                uint32_t seed = first_seed + i;
                size_t len = ct_gen_size(seed);
                enum cove_store_err err = test_store_append(store, box,
                                                            test_msg_make(pool, seed, len),
                                                            len, 0, NULL);
                if (err != COVE_STORE_OK)
                        _exit(10 + (int)err);
                pool_clear(pool);
        }
        store_close(&store);
        pool_destroy(&pool);
        _exit(0);
}

Test(concurrency, parallel_appenders)
{
        uint32_t user = ct_user_add("conc@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        pid_t pids[WRITERS];
        int go[2];

        cr_assert_eq(pipe(go), 0);
        for (int w = 0; w < WRITERS; w++) {
                pids[w] = fork();
                cr_assert_geq(pids[w], 0);
                if (pids[w] == 0) {
                        close(go[1]);
                        writer(box, 1 + (uint32_t)w * 10000u, go[0]);
                }
        }
        close(go[0]);
        close(go[1]);   /* EOF on go: everyone starts */
        int failed = 0, why = 0;
        for (int w = 0; w < WRITERS; w++) {
                int status = 0;
                while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
                        ;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        failed++;
                        why = status;
                }
        }
        cr_assert_eq(failed, 0, "%d writers failed (status 0x%x; exit 10+N = store error N)",
                     failed, why);

        struct cove_store_mailbox mb = ct_mailbox_get(box);
        cr_assert_eq(mb.messages, WRITERS * PER_WRITER);
        cr_assert_eq(ct_count_messages(box), WRITERS * PER_WRITER);

        /* Every generated message exactly once, byte-exact. */
        /* UID of each writer's k-th message: 0 = not seen. */
        uint32_t *uid_of = pool_alloc(ts->pool, sizeof(*uid_of) * WRITERS * PER_WRITER);
        uint64_t bytes = 0;
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_msg *m = NULL;
        uint32_t *uids = pool_alloc(ts->pool, sizeof(*uids) * WRITERS * PER_WRITER);
        size_t n = 0;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_iter_init(txn, box, 1, UINT32_MAX, &iter));
        while (store_msg_iter_next(iter, &m) == COVE_STORE_OK && n < WRITERS * PER_WRITER) {
                uids[n++] = m->uid;
                bytes += m->size;
        }
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        for (size_t i = 0; i < n; i++) {
                uint32_t seed = ct_assert_generated(box, uids[i]);
                uint32_t w = (seed - 1) / 10000u, k = (seed - 1) % 10000u;
                cr_assert(w < WRITERS && k < PER_WRITER, "unexpected message %u", seed);
                cr_assert_eq(uid_of[w * PER_WRITER + k], 0u, "message %u stored twice", seed);
                uid_of[w * PER_WRITER + k] = uids[i];
        }
        /* Each writer's own appends got ascending UIDs, in its order. */
        for (uint32_t w = 0; w < WRITERS; w++)
                for (uint32_t k = 1; k < PER_WRITER; k++)
                        cr_assert_gt(uid_of[w * PER_WRITER + k], uid_of[w * PER_WRITER + k - 1],
                                     "writer %u: message %u got a lower UID than %u", w, k,
                                     k - 1);
        cr_assert_eq(mb.bytes, bytes);
        cr_assert_gt(mb.uidnext, uids[n - 1]);
        struct cove_store_user u = ct_user_get(user);
        cr_assert_eq(u.used_messages, WRITERS * PER_WRITER);
        cr_assert_eq(u.used_bytes, bytes);
}

#define QUOTA_MESSAGES 50
#define DELIVERIES 30

/* Child: delivers DELIVERIES messages; exit status = number refused with
   OVERQUOTA, or 100+ on any other failure. */
static void __attribute__((noreturn)) deliverer(const char *name)
{
        static const char m[] = "Subject: q\r\n\r\nquota race\r\n";
        struct cove_store_part part = { m, sizeof(m) - 1 };
        struct cove_store_saved saved;
        struct store *store = NULL;
        const char *error = NULL;
        int refused = 0;

        if (test_store_open_handle(ts, &store, &error) < 0)
                _exit(100);
        for (int i = 0; i < DELIVERIES; i++) {
                enum cove_store_err err = store_deliver(store, name, NULL, &part, 1, &saved);
                if (err == COVE_STORE_OVERQUOTA)
                        refused++;
                else if (err != COVE_STORE_OK)
                        _exit(100 + (int)err);
        }
        store_close(&store);
        _exit(refused);
}

/* Engines with many writers (PostgreSQL) must not let concurrent deliveries
   overrun a quota between check and insert. */
Test(concurrency, quota_holds_under_parallel_delivery)
{
        uint32_t user = ct_user_add("full@example.org");
        struct store_txn *txn = NULL;
        pid_t pids[WRITERS];
        int refused = 0;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_set_quota(txn, user, 0, QUOTA_MESSAGES));
        ct_assert_ok(store_txn_commit(&txn));
        for (int w = 0; w < WRITERS; w++) {
                pids[w] = fork();
                cr_assert_geq(pids[w], 0);
                if (pids[w] == 0)
                        deliverer("full@example.org");
        }
        for (int w = 0; w < WRITERS; w++) {
                int status = 0;
                while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
                        ;
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) < 100,
                          "deliverer %d failed (status 0x%x)", w, status);
                refused += WEXITSTATUS(status);
        }
        uint32_t inbox = ct_mailbox(user, "INBOX");
        cr_assert_eq(ct_count_messages(inbox), QUOTA_MESSAGES);
        cr_assert_eq(ct_user_get(user).used_messages, QUOTA_MESSAGES);
        cr_assert_eq(refused, WRITERS * DELIVERIES - QUOTA_MESSAGES);
}

/* test-crash.c - conformance: a writer SIGKILLed at a random moment loses
 * nothing it acknowledged and leaves the store consistent (counters equal
 * what is there, every acknowledged UID byte-exact, UIDNEXT above every UID).
 */
#include "conformance.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

CT_SUITE(crash);

#define CRASH_ROUNDS 6
#define MAX_ACKS 40000   /* more than four rounds of full pipes */

struct ack {
        uint32_t uid;
        uint32_t seed;
};

/* The child: appends generated messages forever, writing an ack for each
   commit that returned OK. Never returns. */
static void __attribute__((noreturn)) writer(uint32_t box, uint32_t first_seed, int ack_fd)
{
        struct store *store = NULL;
        const char *error = NULL;
        struct pool *pool = pool_create("crash-child", 16384);

        if (test_store_open_handle(ts, &store, &error) < 0)
                _exit(3);
        for (uint32_t seed = first_seed;; seed++) {
                size_t len = ct_gen_size(seed);
                struct cove_store_saved saved;
                enum cove_store_err err = test_store_append(store, box,
                                                            test_msg_make(pool, seed, len),
                                                            len, 0, &saved);
                if (err != COVE_STORE_OK)
                        _exit(10 + (int)err);
                struct ack ack = { saved.uid, seed };
                if (write(ack_fd, &ack, sizeof(ack)) != sizeof(ack))
                        _exit(4);
                pool_clear(pool);
        }
}

static size_t read_acks(int fd, struct ack *acks, size_t have, size_t want)
{
        while (have < want) {
                ssize_t n = read(fd, &acks[have], sizeof(acks[0]));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 0)
                        break;
                cr_assert_eq(n, (ssize_t)sizeof(acks[0]), "short ack read");
                have++;
        }
        return have;
}

/* Runs one writer, kills it after `kill_after` acks plus a random delay, and
   returns the total of acks received (including those in flight). */
static size_t crash_once(uint32_t box, uint32_t first_seed, size_t kill_after,
                         unsigned delay_us, struct ack *acks, size_t have)
{
        int fds[2];
        int status = 0;

        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                writer(box, first_seed, fds[1]);
        }
        close(fds[1]);
        size_t got = read_acks(fds[0], acks, have, have + kill_after);
        if (got < have + kill_after) {
                waitpid(pid, &status, 0);
                cr_assert_fail("writer died early (status 0x%x) after %zu acks", status,
                               got - have);
        }
        struct timespec ts_delay = { 0, (long)delay_us * 1000 };
        nanosleep(&ts_delay, NULL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        cr_assert(WIFSIGNALED(status), "writer exited with 0x%x before the kill", status);
        got = read_acks(fds[0], acks, got, MAX_ACKS);
        close(fds[0]);
        return got;
}

static void assert_consistent(uint32_t user, uint32_t box, const struct ack *acks, size_t n)
{
        struct cove_store_mailbox mb = ct_mailbox_get(box);
        uint32_t count = ct_count_messages(box);   /* also: ascending, < uidnext */
        uint64_t bytes = 0, max_uid = 0;

        cr_assert_eq(mb.messages, count, "counter says %u, %u present", mb.messages, count);
        cr_assert_geq(count, n, "%zu acknowledged, %u present", n, count);
        /* At most one commit can be durable without its ack having been sent. */
        cr_assert_leq(count, n + 1, "%u present, only %zu acknowledged", count, n);
        for (size_t i = 0; i < n; i++) {
                uint32_t seed = ct_assert_generated(box, acks[i].uid);
                cr_assert_eq(seed, acks[i].seed, "uid %u holds message %u, acked %u",
                             acks[i].uid, seed, acks[i].seed);
                if (i > 0)
                        cr_assert_gt(acks[i].uid, acks[i - 1].uid);
                if (acks[i].uid > max_uid)
                        max_uid = acks[i].uid;
        }
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_msg *m = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_iter_init(txn, box, 1, UINT32_MAX, &iter));
        while (store_msg_iter_next(iter, &m) == COVE_STORE_OK) {
                bytes += m->size;
                if (m->uid > max_uid)
                        max_uid = m->uid;
        }
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        cr_assert_gt(mb.uidnext, max_uid);
        cr_assert_eq(mb.bytes, bytes);
        cr_assert_eq(mb.unseen, count);
        struct cove_store_user u = ct_user_get(user);
        cr_assert_eq(u.used_messages, count);
        cr_assert_eq(u.used_bytes, bytes);
}

Test(crash, sigkill_mid_append_loses_nothing_acknowledged)
{
        uint32_t user = ct_user_add("crash@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        struct ack *acks = pool_alloc(ts->pool, sizeof(*acks) * MAX_ACKS);
        const char *fixed = getenv("COVE_TEST_SEED");
        uint64_t rnd = fixed != NULL ? strtoull(fixed, NULL, 10)
                                     : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
        size_t n = 0;

        /* On stderr, so a failure's output says how to repeat the run. */
        fprintf(stderr, "crash: seed %llu (set COVE_TEST_SEED to repeat)\n",
                (unsigned long long)rnd);
        for (int round = 0; round < CRASH_ROUNDS; round++) {
                size_t kill_after = 3 + (size_t)(test_rand_next(&rnd) % 40);
                unsigned delay_us = (unsigned)(test_rand_next(&rnd) % 50000);
                size_t before = n;
                n = crash_once(box, 1 + (uint32_t)round * 100000u, kill_after, delay_us,
                               acks, n);
                cr_assert_geq(n, before + kill_after);
                cr_log_info("crash round %d: killed after %zu acks (+%u us)", round,
                            n - before, delay_us);
                /* The same process reopens: like a restarted daemon. */
                ct_reopen();
                /* Any unacknowledged but durable message is one more than
                   the acks: drop it from the count by expunging it, so the
                   next round's bound stays exact. */
                assert_consistent(user, box, acks, n);
                uint32_t present = ct_mailbox_get(box).messages;
                if (present > n) {
                        uint32_t last = 0;
                        struct store_txn *txn = NULL;
                        struct store_iter *iter = NULL;
                        const struct cove_store_msg *m = NULL;
                        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
                        ct_assert_ok(store_msg_iter_init(txn, box, 1, UINT32_MAX, &iter));
                        while (store_msg_iter_next(iter, &m) == COVE_STORE_OK)
                                last = m->uid;
                        store_iter_deinit(&iter);
                        store_txn_abort(&txn);
                        cr_assert_gt(last, acks[n - 1].uid, "unacked message is not the last");
                        ct_assert_generated(box, last);
                        ct_expunge(box, last);
                }
        }
        /* The store still takes writes after all that. */
        uint32_t uid = ct_append_generated(box, 999999);
        cr_assert_gt(uid, acks[n - 1].uid);
        ct_assert_generated(box, uid);
}

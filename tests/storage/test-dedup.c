/* test-dedup.c - conformance: single-instance storage. The same body stored
 * in many mailboxes, by append, copy or delivery to several users, occupies
 * about one copy (store_stats bytes_stored), and is freed when its last copy
 * goes.
 */
#include "conformance.h"

#include <stdio.h>

CT_SUITE(dedup);

#define BODY_LEN (256u * 1024)

Test(dedup, one_copy_for_identical_bodies)
{
        uint32_t user = ct_user_add("si@example.org");
        unsigned char *body = test_msg_make(ts->pool, 2024, BODY_LEN);
        struct cove_store_stats s0 = ct_stats();
        uint32_t boxes[10], uids[10];

        for (int i = 0; i < 10; i++)
                boxes[i] = ct_mailbox_add(user, pool_printf(ts->pool, "Box%d", i));
        uids[0] = ct_append(boxes[0], body, BODY_LEN, 0).uid;
        struct cove_store_stats s1 = ct_stats();
        uint64_t one = s1.bytes_stored - s0.bytes_stored;
        cr_assert_gt(one, 0u, "bytes_stored did not grow for a new body");
        cr_assert_eq(s1.bytes_received - s0.bytes_received, BODY_LEN);

        for (int i = 1; i < 10; i++)
                uids[i] = ct_append(boxes[i], body, BODY_LEN, i % 2 ? COVE_FLAG_SEEN : 0).uid;
        struct cove_store_stats s10 = ct_stats();
        uint64_t ten = s10.bytes_stored - s0.bytes_stored;
        cr_log_info("one copy: %llu bytes stored, ten copies: %llu", (unsigned long long)one,
                    (unsigned long long)ten);
        cr_assert_lt(ten, one + one / 2, "ten copies took %llu bytes, one took %llu",
                     (unsigned long long)ten, (unsigned long long)one);
        cr_assert_eq(s10.bytes_received - s0.bytes_received, 10u * BODY_LEN);
        cr_assert_eq(s10.messages - s0.messages, 10u);

        /* A copy shares the bytes too. */
        struct store_txn *txn = NULL;
        struct cove_store_saved saved;
        uint32_t trash = ct_mailbox(user, "Trash");
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_copy(txn, boxes[3], uids[3], trash, &saved));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_lt(ct_stats().bytes_stored - s0.bytes_stored, one + one / 2);

        /* Expunging all but one copy frees nothing; the last frees it all. */
        for (int i = 0; i < 10; i++)
                ct_expunge(boxes[i], uids[i]);
        cr_assert_geq(ct_stats().bytes_stored - s0.bytes_stored, one,
                      "shared body freed while a copy remains");
        ct_assert_body(trash, saved.uid, body, BODY_LEN);
        ct_expunge(trash, saved.uid);
        struct cove_store_stats end = ct_stats();
        cr_assert_eq(end.bytes_stored, s0.bytes_stored, "%llu bytes leaked",
                     (unsigned long long)(end.bytes_stored - s0.bytes_stored));
        cr_assert_eq(end.messages, s0.messages);
        cr_assert_eq(end.bytes_received, s0.bytes_received);
}

Test(dedup, delivery_to_several_users)
{
        static const char *const names[] = {
                "r1@example.org", "r2@example.org", "r3@example.org", "r4@example.net",
        };
        unsigned char *body = test_msg_make(ts->pool, 77, BODY_LEN);
        struct cove_store_part part = { .data = body, .size = BODY_LEN };
        struct cove_store_saved saved[4];
        uint32_t users[4];

        for (int i = 0; i < 4; i++)
                users[i] = ct_user_add(names[i]);
        struct cove_store_stats s0 = ct_stats();
        ct_assert_ok(store_deliver(ts->store, names[0], NULL, &part, 1, &saved[0]));
        uint64_t one = ct_stats().bytes_stored - s0.bytes_stored;
        cr_assert_gt(one, 0u);
        for (int i = 1; i < 4; i++)
                ct_assert_ok(store_deliver(ts->store, names[i], NULL, &part, 1, &saved[i]));
        struct cove_store_stats s4 = ct_stats();
        cr_assert_lt(s4.bytes_stored - s0.bytes_stored, one + one / 2,
                     "four deliveries took %llu bytes, one took %llu",
                     (unsigned long long)(s4.bytes_stored - s0.bytes_stored),
                     (unsigned long long)one);
        for (int i = 0; i < 4; i++) {
                uint32_t inbox = ct_mailbox(users[i], "INBOX");
                ct_assert_body(inbox, saved[i].uid, body, BODY_LEN);
                cr_assert_eq(ct_user_get(users[i]).used_bytes, BODY_LEN,
                             "each user is charged the full size");
        }
        /* Deleting users releases their references. */
        struct store_txn *txn = NULL;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        for (int i = 0; i < 3; i++)
                ct_assert_ok(store_user_delete(txn, users[i]));
        ct_assert_ok(store_txn_commit(&txn));
        ct_assert_body(ct_mailbox(users[3], "INBOX"), saved[3].uid, body, BODY_LEN);
        ct_expunge(ct_mailbox(users[3], "INBOX"), saved[3].uid);
        cr_assert_eq(ct_stats().bytes_stored, s0.bytes_stored);
}

Test(dedup, mailbox_delete_keeps_shared_copies)
{
        uint32_t user = ct_user_add("si@example.org");
        unsigned char *body = test_msg_make(ts->pool, 31, BODY_LEN);
        uint32_t a = ct_mailbox_add(user, "A");
        uint32_t b = ct_mailbox_add(user, "B");
        struct cove_store_stats s0 = ct_stats();
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;

        uint32_t uid = ct_append(a, body, BODY_LEN, 0).uid;
        ct_append(a, body, BODY_LEN, 0);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_copy(txn, a, uid, b, &saved));
        ct_assert_ok(store_txn_commit(&txn));

        /* Deleting A drops two references; B's copy must survive. */
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_mailbox_delete(txn, user, "A"));
        ct_assert_ok(store_txn_commit(&txn));
        ct_assert_body(b, saved.uid, body, BODY_LEN);
        cr_assert_eq(ct_user_get(user).used_bytes, BODY_LEN);
        ct_reopen();
        ct_assert_body(b, saved.uid, body, BODY_LEN);
        ct_expunge(b, saved.uid);
        cr_assert_eq(ct_stats().bytes_stored, s0.bytes_stored);
}

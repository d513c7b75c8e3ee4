/* test-txn.c - conformance: transactions. Aborted work leaves nothing behind,
 * read txns refuse writes, several changes commit together, NOSYNC commits
 * become durable with store_sync, and iterators honour their UID range.
 */
#include "conformance.h"

CT_SUITE(txn);

static const char msg[] = "Subject: txn\r\n\r\ntxn\r\n";

Test(txn, aborted_append_leaves_nothing)
{
        uint32_t user = ct_user_add("txn@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct store_txn *txn = NULL;
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        struct cove_store_saved saved;
        struct cove_store_stats before = ct_stats();

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_append(txn, inbox, &app, &saved));
        store_txn_abort(&txn);
        cr_assert_null(txn);
        cr_assert_eq(ct_mailbox_get(inbox).messages, 0u, "aborted append is visible");
        cr_assert_eq(ct_user_get(user).used_bytes, 0u);
        struct cove_store_stats after = ct_stats();
        cr_assert_eq(after.messages, before.messages);
        cr_assert_eq(after.bytes_stored, before.bytes_stored, "aborted body kept");
        cr_assert_geq(ct_append(inbox, msg, sizeof(msg) - 1, 0).uid, saved.uid,
                      "UIDs went backwards after an abort");
}

Test(txn, read_txn_refuses_writes)
{
        uint32_t user = ct_user_add("txn@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        uint32_t uid = ct_append(inbox, msg, sizeof(msg) - 1, 0).uid;
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;
        uint32_t id;
        uint64_t modseq;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_fails(store_msg_append(txn, inbox, &app, &saved));
        ct_assert_fails(store_msg_update_flags(txn, inbox, uid, COVE_STORE_FLAGS_ADD,
                                               COVE_FLAG_SEEN, NULL, 0, &modseq));
        ct_assert_fails(store_msg_expunge(txn, inbox, uid));
        ct_assert_fails(store_mailbox_create(txn, user, "New", 0, &id));
        ct_assert_fails(store_user_create(txn, "x@example.org", "", "", &id));
        ct_assert_fails(store_subscription_set(txn, user, "INBOX", true));
        store_txn_abort(&txn);
        struct cove_store_mailbox mb = ct_mailbox_get(inbox);
        cr_assert_eq(mb.messages, 1u);
        cr_assert_eq(mb.unseen, 1u);
        cr_assert_eq(test_store_mailbox_id(ts->store, user, "New"), 0u);
}

Test(txn, changes_commit_together)
{
        uint32_t user = ct_user_add("txn@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        struct cove_store_saved saved[3];
        struct store_txn *txn = NULL;
        uint32_t box;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_mailbox_create(txn, user, "Batch", 0, &box));
        for (int i = 0; i < 3; i++)
                ct_assert_ok(store_msg_append(txn, box, &app, &saved[i]));
        ct_assert_ok(store_msg_append(txn, inbox, &app, &saved[0]));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_eq(ct_mailbox_get(box).messages, 3u);
        cr_assert_gt(saved[2].uid, saved[1].uid);
        cr_assert_gt(saved[1].modseq, 0u);
        cr_assert_eq(ct_user_get(user).used_messages, 4u);
}

Test(txn, nosync_commit_then_sync_is_durable)
{
        uint32_t user = ct_user_add("txn@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;

        for (int i = 0; i < 3; i++) {
                ct_assert_ok(store_txn_begin(ts->store, true, &txn));
                ct_assert_ok(store_msg_append(txn, inbox, &app, &saved));
                ct_assert_ok(store_txn_commit_nosync(&txn));
                cr_assert_null(txn);
        }
        ct_assert_ok(store_sync(ts->store));
        ct_reopen();
        cr_assert_eq(ct_mailbox_get(inbox).messages, 3u);
        ct_assert_body(inbox, saved.uid, msg, sizeof(msg) - 1);
}

/* ORDERED commits (mixed with a durable one) followed by a concurrent-safe
   flush where the engine has one, else sync(): all of them survive. */
Test(txn, ordered_commits_then_sync_are_durable)
{
        uint32_t user = ct_user_add("ord@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct cove_store_part part = { msg, sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1 };
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;

        for (int i = 0; i < 4; i++) {
                ct_assert_ok(store_txn_begin(ts->store, true, &txn));
                ct_assert_ok(store_msg_append(txn, inbox, &app, &saved));
                ct_assert_ok(store_txn_commit_as(&txn, i == 2 ? STORE_FLUSH_DURABLE
                                                              : STORE_FLUSH_ORDERED));
                cr_assert_null(txn);
        }
        if (store_can_sync_concurrently(ts->store)) {
                char error[128];
                ct_assert_ok(store_sync_concurrent(ts->store, error, sizeof(error)));
        } else {
                ct_assert_ok(store_sync(ts->store));
        }
        ct_reopen();
        cr_assert_eq(ct_mailbox_get(inbox).messages, 4u);
        ct_assert_body(inbox, saved.uid, msg, sizeof(msg) - 1);
}

static size_t iter_range(uint32_t box, uint32_t first, uint32_t last, uint32_t *out)
{
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_msg *m = NULL;
        enum cove_store_err err;
        size_t n = 0;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_iter_init(txn, box, first, last, &iter));
        while ((err = store_msg_iter_next(iter, &m)) == COVE_STORE_OK)
                out[n++] = m->uid;
        store_iter_deinit(&iter);
        cr_assert_null(iter);
        store_txn_abort(&txn);
        cr_assert_eq(err, COVE_STORE_NOTFOUND);
        return n;
}

Test(txn, message_iterator_range)
{
        uint32_t user = ct_user_add("txn@example.org");
        uint32_t box = ct_mailbox_add(user, "Range");
        uint32_t u[6], got[8];

        for (int i = 0; i < 6; i++)
                u[i] = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        ct_expunge(box, u[2]);
        /* [u1, u4] holds u1, u3, u4: the expunged u2 is skipped. */
        cr_assert_eq(iter_range(box, u[1], u[4], got), 3u);
        cr_assert_eq(got[0], u[1]);
        cr_assert_eq(got[1], u[3]);
        cr_assert_eq(got[2], u[4]);
        cr_assert_eq(iter_range(box, u[5], UINT32_MAX, got), 1u);
        cr_assert_eq(got[0], u[5]);
        cr_assert_eq(iter_range(box, u[5] + 1, UINT32_MAX, got), 0u);
        cr_assert_eq(iter_range(box, u[2], u[2], got), 0u);
        cr_assert_eq(iter_range(box, u[4], u[1], got), 0u, "first > last lists nothing");
}

/* test-recent.c - conformance: the IMAP \Recent watermark (recent_uid) of a
 * mailbox: 1 for a new mailbox, advanced only upwards and never past
 * UIDNEXT, the previous value reported so that each UID is claimed once,
 * untouched by appends, flag changes and expunges, and kept across reopen.
 * Engines without mailbox_advance_recent skip the advancing cases.
 */
#include "conformance.h"

CT_SUITE(recent);

/* Advances in its own write txn; returns the code, *old_r the value before. */
static enum cove_store_err advance(uint32_t mailbox_id, uint32_t uid, uint32_t *old_r)
{
        struct store_txn *txn = NULL;
        enum cove_store_err err;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        err = store_mailbox_advance_recent(txn, mailbox_id, uid, old_r);
        if (err == COVE_STORE_OK)
                ct_assert_ok(store_txn_commit(&txn));
        else
                store_txn_abort(&txn);
        return err;
}

static uint32_t recent_uid(uint32_t mailbox_id)
{
        return ct_mailbox_get(mailbox_id).recent_uid;
}

Test(recent, new_mailbox_starts_at_one)
{
        uint32_t user = ct_user_add("r1@example.org");
        uint32_t box = ct_mailbox_add(user, "Fresh");

        cr_assert_eq(recent_uid(box), 1u);
        ct_append(box, "a\r\n", 3, 0);
        ct_append(box, "b\r\n", 3, 0);
        cr_assert_eq(recent_uid(box), 1u, "appends leave the watermark alone");
}

Test(recent, advances_monotonically_and_claims_once)
{
        uint32_t user = ct_user_add("r2@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        uint32_t old = 0;

        if (!store_tracks_recent(ts->store)) {
                ct_assert_code(advance(box, 2, &old), COVE_STORE_NOPERM);
                cr_skip_test("engine keeps no recent_uid watermark");
        }
        for (int i = 0; i < 3; i++)
                ct_append(box, "m\r\n", 3, 0);
        cr_assert_eq(ct_mailbox_get(box).uidnext, 4u);
        ct_assert_ok(advance(box, 3, &old));
        cr_assert_eq(old, 1u, "first claim gets [1, 3)");
        cr_assert_eq(recent_uid(box), 3u);
        ct_assert_ok(advance(box, 4, &old));
        cr_assert_eq(old, 3u, "second claim gets [3, 4)");
        ct_assert_ok(advance(box, 2, &old));
        cr_assert_eq(old, 4u);
        cr_assert_eq(recent_uid(box), 4u, "never lowered");
        ct_assert_ok(advance(box, 1000, &old));
        cr_assert_eq(recent_uid(box), 4u, "never past UIDNEXT");
        ct_assert_ok(advance(box, 4, NULL));
}

Test(recent, survives_changes_and_reopen)
{
        uint32_t user = ct_user_add("r3@example.org");
        uint32_t box = ct_mailbox_add(user, "Keep");

        if (!store_tracks_recent(ts->store))
                cr_skip_test("engine keeps no recent_uid watermark");
        struct cove_store_saved a = ct_append(box, "a\r\n", 3, 0);
        ct_append(box, "b\r\n", 3, 0);
        ct_assert_ok(advance(box, 3, NULL));
        ct_expunge(box, a.uid);
        struct store_txn *txn = NULL;
        uint64_t flag_modseq = 0;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_update_flags(txn, box, a.uid + 1, COVE_STORE_FLAGS_ADD,
                                            COVE_FLAG_SEEN, NULL, 0, &flag_modseq));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_eq(recent_uid(box), 3u);
        ct_reopen();
        cr_assert_eq(recent_uid(box), 3u, "kept across reopen");
        uint64_t modseq = ct_mailbox_get(box).highestmodseq;
        ct_append(box, "c\r\n", 3, 0);
        ct_assert_ok(advance(box, 4, NULL));
        cr_assert_eq(ct_mailbox_get(box).highestmodseq, modseq + 1,
                     "advancing changes no MODSEQ (only the append did)");
}

Test(recent, errors)
{
        uint32_t user = ct_user_add("r4@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        struct store_txn *txn = NULL;

        if (!store_tracks_recent(ts->store))
                cr_skip_test("engine keeps no recent_uid watermark");
        ct_assert_code(advance(box + 1000, 1, NULL), COVE_STORE_NOTFOUND);
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_code(store_mailbox_advance_recent(txn, box, 1, NULL), COVE_STORE_NOPERM);
        store_txn_abort(&txn);
}

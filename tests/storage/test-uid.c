/* test-uid.c - conformance: UIDs ascend and are never reused, UIDNEXT follows
 * them, UIDVALIDITY is stable across reopen and new after delete+recreate.
 */
#include "conformance.h"

#include <string.h>

CT_SUITE(uid);

static const char msg[] = "Subject: uid\r\n\r\nbody\r\n";

Test(uid, ascend_and_uidnext_follows)
{
        uint32_t user = ct_user_add("uid@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct cove_store_mailbox mb = ct_mailbox_get(inbox);
        uint32_t last = 0;

        cr_assert_eq(mb.messages, 0u);
        cr_assert_geq(mb.uidnext, 1u);
        for (int i = 0; i < 5; i++) {
                uint32_t expect = ct_mailbox_get(inbox).uidnext;
                struct cove_store_saved saved = ct_append(inbox, msg, sizeof(msg) - 1, 0);
                cr_assert_eq(saved.uid, expect, "append got UID %u, UIDNEXT was %u",
                             saved.uid, expect);
                cr_assert_gt(saved.uid, last);
                cr_assert_eq(saved.uidvalidity, mb.uidvalidity);
                last = saved.uid;
                cr_assert_eq(ct_mailbox_get(inbox).uidnext, saved.uid + 1);
        }
        cr_assert_eq(ct_mailbox_get(inbox).messages, 5u);
        cr_assert_eq(ct_count_messages(inbox), 5u);
}

Test(uid, never_reused_after_expunge_or_reopen)
{
        uint32_t user = ct_user_add("uid@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        uint32_t uids[3];

        for (int i = 0; i < 3; i++)
                uids[i] = ct_append(inbox, msg, sizeof(msg) - 1, 0).uid;
        ct_expunge(inbox, uids[2]);
        struct cove_store_saved again = ct_append(inbox, msg, sizeof(msg) - 1, 0);
        cr_assert_gt(again.uid, uids[2], "UID %u reused (highest expunged %u)", again.uid,
                     uids[2]);

        /* Expunge the highest again, then reopen: the engine must not derive
           UIDNEXT from the messages it still has. */
        ct_expunge(inbox, again.uid);
        ct_reopen();
        struct cove_store_mailbox mb = ct_mailbox_get(inbox);
        cr_assert_gt(mb.uidnext, again.uid);
        struct cove_store_saved third = ct_append(inbox, msg, sizeof(msg) - 1, 0);
        cr_assert_gt(third.uid, again.uid);
        cr_assert_eq(ct_count_messages(inbox), 3u);

        struct store_txn *txn = NULL;
        const struct cove_store_msg *m = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_code(store_msg_get(txn, inbox, again.uid, &m), COVE_STORE_NOTFOUND);
        ct_assert_code(store_msg_get(txn, inbox, uids[2], &m), COVE_STORE_NOTFOUND);
        ct_assert_ok(store_msg_get(txn, inbox, uids[0], &m));
        cr_assert_eq(m->uid, uids[0]);
        store_txn_abort(&txn);
}

Test(uid, uidvalidity_stable_across_reopen)
{
        uint32_t user = ct_user_add("uid@example.org");
        uint32_t box = ct_mailbox_add(user, "Projects/Cove");
        struct cove_store_mailbox before = ct_mailbox_get(box);

        cr_assert_neq(before.uidvalidity, 0u, "UIDVALIDITY 0 is invalid (RFC 3501)");
        ct_append(box, msg, sizeof(msg) - 1, 0);
        ct_reopen();
        struct cove_store_mailbox after = ct_mailbox_get(box);
        cr_assert_eq(after.uidvalidity, before.uidvalidity);
        cr_assert_eq(after.uidnext, before.uidnext + 1);
        cr_assert_eq(after.messages, 1u);
}

Test(uid, uidvalidity_new_after_recreate)
{
        uint32_t user = ct_user_add("uid@example.org");
        uint32_t box = ct_mailbox_add(user, "Old");
        uint32_t validity = ct_mailbox_get(box).uidvalidity;
        uint32_t uid = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        struct store_txn *txn = NULL;

        for (int round = 0; round < 3; round++) {
                ct_assert_ok(store_txn_begin(ts->store, true, &txn));
                ct_assert_ok(store_mailbox_delete(txn, user, "Old"));
                ct_assert_ok(store_txn_commit(&txn));
                if (round == 1)
                        ct_reopen();
                uint32_t again = ct_mailbox_add(user, "Old");
                struct cove_store_mailbox mb = ct_mailbox_get(again);
                cr_assert_neq(again, box, "mailbox id %u reused", box);
                cr_assert_neq(mb.uidvalidity, 0u);
                cr_assert_neq(mb.uidvalidity, validity,
                              "round %d: UIDVALIDITY %u repeated for the same name", round,
                              validity);
                cr_assert_eq(mb.messages, 0u);
                /* RFC 3501 2.3.1.1: new UIDVALIDITY so old UIDs may repeat, but
                   they must not name the deleted messages. */
                struct pool *pool = pool_create("uid", 256);
                unsigned char *data = NULL;
                size_t len = 0;
                enum cove_store_err err = test_store_fetch(ts->store, again, uid, pool,
                                                           &data, &len);
                pool_destroy(&pool);
                cr_assert_eq(err, COVE_STORE_NOTFOUND, "deleted message still readable");
                validity = mb.uidvalidity;
                box = again;
                uid = ct_append(again, msg, sizeof(msg) - 1, 0).uid;
        }
}

Test(uid, separate_sequences_per_mailbox)
{
        uint32_t user = ct_user_add("uid@example.org");
        uint32_t a = ct_mailbox_add(user, "A");
        uint32_t b = ct_mailbox_add(user, "B");
        uint32_t b_next = ct_mailbox_get(b).uidnext;

        for (int i = 0; i < 5; i++)
                ct_append(a, msg, sizeof(msg) - 1, 0);
        /* A's traffic does not move B's UIDNEXT. */
        cr_assert_eq(ct_mailbox_get(b).uidnext, b_next);
        cr_assert_eq(ct_append(b, msg, sizeof(msg) - 1, 0).uid, b_next);
        cr_assert_eq(ct_mailbox_get(a).messages, 5u);
        cr_assert_eq(ct_mailbox_get(b).messages, 1u);
}

Test(uid, uidvalidity_new_for_name_freed_by_rename)
{
        uint32_t user = ct_user_add("uid@example.org");
        uint32_t first = ct_mailbox_add(user, "Name");
        uint32_t validity = ct_mailbox_get(first).uidvalidity;
        struct store_txn *txn = NULL;

        ct_append(first, msg, sizeof(msg) - 1, 0);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_mailbox_rename(txn, user, "Name", "Other"));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_eq(ct_mailbox_get(first).uidvalidity, validity, "rename keeps UIDVALIDITY");
        uint32_t second = ct_mailbox_add(user, "Name");
        cr_assert_neq(second, first);
        cr_assert_neq(ct_mailbox_get(second).uidvalidity, validity,
                      "a new mailbox reused the UIDVALIDITY its name had before the rename");
}

Test(uid, uidvalidity_new_for_recreated_user)
{
        uint32_t user = ct_user_add("uid@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        uint32_t validity = ct_mailbox_get(inbox).uidvalidity;
        struct store_txn *txn = NULL;

        ct_append(inbox, msg, sizeof(msg) - 1, 0);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_delete(txn, user));
        ct_assert_ok(store_txn_commit(&txn));
        uint32_t again = ct_user_add("uid@example.org");
        /* A client's cache of the old INBOX must not look valid. */
        cr_assert_neq(ct_mailbox_get(ct_mailbox(again, "INBOX")).uidvalidity, validity);
}

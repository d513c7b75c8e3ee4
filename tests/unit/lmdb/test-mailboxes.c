/* Engine tests: mailboxes, UIDVALIDITY, rename with children, subscriptions. */
#include <criterion/criterion.h>
#include <string.h>

#include "lmdb-test.h"

static struct cove_store *store;
static uint32_t user;
static void setup(void)
{
        lt_setup();
        store = lt_create(NULL);
        user = lt_user(store, "ann@example.org");
}
static void teardown(void) { ops->close(&store); lt_teardown(); }

TestSuite(lmdb_mailboxes, .init = setup, .fini = teardown);

Test(lmdb_mailboxes, create_lookup_get)
{
        struct cove_store_txn *txn = lt_begin(store, true);
        const struct cove_store_mailbox *box;
        uint32_t id, id2;

        cr_assert_eq(ops->mailbox_create(txn, user, "Sent", COVE_SPECIAL_SENT, &id),
                     COVE_STORE_OK);
        cr_assert_eq(ops->mailbox_create(txn, user, "Sent", 0, &id2), COVE_STORE_EXISTS);
        cr_assert_eq(ops->mailbox_create(txn, user + 9, "X", 0, &id2), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->mailbox_lookup(txn, user, "Sent", &box), COVE_STORE_OK);
        cr_assert_eq(box->id, id);
        cr_assert_eq(box->user_id, user);
        cr_assert_str_eq(box->name, "Sent");
        cr_assert_eq(box->uidnext, 1);
        cr_assert_eq(box->messages, 0);
        cr_assert_eq(box->special_use, COVE_SPECIAL_SENT);
        cr_assert_geq(box->uidvalidity, 1700000000);
        cr_assert_gt(box->highestmodseq, 0);
        cr_assert_eq(ops->mailbox_set_special_use(txn, id, COVE_SPECIAL_TRASH), COVE_STORE_OK);
        cr_assert_eq(ops->mailbox_get(txn, id, &box), COVE_STORE_OK);
        cr_assert_eq(box->special_use, COVE_SPECIAL_TRASH);
        cr_assert_eq(ops->mailbox_lookup(txn, user, "sent", &box), COVE_STORE_NOTFOUND);
        lt_commit(&txn);
}

Test(lmdb_mailboxes, uidvalidity_never_repeats)
{
        /* The clock stands still and even goes back: values still ascend. */
        uint32_t a = lt_mailbox(store, user, "A");
        struct cove_store_txn *txn = lt_begin(store, true);
        const struct cove_store_mailbox *box;
        cr_assert_eq(ops->mailbox_get(txn, a, &box), COVE_STORE_OK);
        uint32_t uv_a = box->uidvalidity;
        cr_assert_eq(ops->mailbox_delete(txn, a), COVE_STORE_OK);
        cr_assert_eq(ops->mailbox_delete(txn, a), COVE_STORE_NOTFOUND);
        lt_commit(&txn);
        lt_clock -= 1000;
        uint32_t a2 = lt_mailbox(store, user, "A");
        cr_assert_neq(a2, a, "mailbox ids are never reused");
        txn = lt_begin(store, false);
        cr_assert_eq(ops->mailbox_get(txn, a2, &box), COVE_STORE_OK);
        cr_assert_gt(box->uidvalidity, uv_a);
        ops->txn_abort(&txn);
}

static void expect_names(uint32_t owner, const char *const *want, size_t n)
{
        struct cove_store_txn *txn = lt_begin(store, false);
        struct cove_store_iter *it;
        const struct cove_store_mailbox *box;
        size_t i = 0;

        cr_assert_eq(ops->mailbox_iter_init(txn, owner, &it), COVE_STORE_OK);
        while (ops->mailbox_iter_next(it, &box) == COVE_STORE_OK) {
                cr_assert_lt(i, n);
                cr_assert_str_eq(box->name, want[i]);
                i++;
        }
        cr_assert_eq(i, n);
        ops->iter_deinit(&it);
        ops->txn_abort(&txn);
}

Test(lmdb_mailboxes, rename_moves_children_and_keeps_ids)
{
        uint32_t a = lt_mailbox(store, user, "a");
        uint32_t ab = lt_mailbox(store, user, "a/b");
        uint32_t abc = lt_mailbox(store, user, "a/b/c");
        lt_mailbox(store, user, "ab");
        lt_mailbox(store, user, "a-z");
        lt_append(store, abc, "x\r\n", 3);
        struct cove_store_txn *txn = lt_begin(store, true);
        const struct cove_store_mailbox *box;
        cr_assert_eq(ops->mailbox_get(txn, abc, &box), COVE_STORE_OK);
        uint32_t uv = box->uidvalidity;
        cr_assert_eq(ops->mailbox_rename(txn, a, "ab"), COVE_STORE_EXISTS);
        cr_assert_eq(ops->mailbox_rename(txn, a, "z/y"), COVE_STORE_OK);
        cr_assert_eq(ops->mailbox_lookup(txn, user, "z/y/b/c", &box), COVE_STORE_OK);
        cr_assert_eq(box->id, abc);
        cr_assert_eq(box->uidvalidity, uv);
        cr_assert_eq(box->messages, 1);
        cr_assert_eq(ops->mailbox_lookup(txn, user, "z/y/b", &box), COVE_STORE_OK);
        cr_assert_eq(box->id, ab);
        cr_assert_eq(ops->mailbox_lookup(txn, user, "a/b", &box), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->mailbox_rename(txn, a + 100, "q"), COVE_STORE_NOTFOUND);
        lt_commit(&txn);
        const char *want[] = { "a-z", "ab", "z/y", "z/y/b", "z/y/b/c" };
        expect_names(user, want, 5);
        size_t len;
        uint8_t *data = lt_read_all(store, abc, 1, &len);
        cr_assert_eq(len, 3);
        free(data);
}

Test(lmdb_mailboxes, delete_keeps_children)
{
        uint32_t a = lt_mailbox(store, user, "a");
        lt_mailbox(store, user, "a/b");
        lt_append(store, a, "hello\r\n", 7);
        struct cove_store_txn *txn = lt_begin(store, true);
        cr_assert_eq(ops->mailbox_delete(txn, a), COVE_STORE_OK);
        const struct cove_store_user *u;
        cr_assert_eq(ops->user_get(txn, user, &u), COVE_STORE_OK);
        cr_assert_eq(u->used_bytes, 0);
        cr_assert_eq(u->used_messages, 0);
        lt_commit(&txn);
        const char *want[] = { "a/b" };
        expect_names(user, want, 1);
        struct cove_store_stats st = lt_stats(store);
        cr_assert_eq(st.messages, 0);
        cr_assert_eq(st.bytes_stored, 0);
}

Test(lmdb_mailboxes, mailboxes_are_per_user)
{
        uint32_t bob = lt_user(store, "bob@example.org");
        lt_mailbox(store, user, "INBOX");
        lt_mailbox(store, bob, "INBOX");
        lt_mailbox(store, bob, "Archive");
        const char *want_ann[] = { "INBOX" };
        const char *want_bob[] = { "Archive", "INBOX" };
        expect_names(user, want_ann, 1);
        expect_names(bob, want_bob, 2);
}

Test(lmdb_mailboxes, subscriptions)
{
        struct cove_store_txn *txn = lt_begin(store, true);
        cr_assert_eq(ops->subscription_set(txn, user, "b/c", true), COVE_STORE_OK);
        cr_assert_eq(ops->subscription_set(txn, user, "a", true), COVE_STORE_OK);
        cr_assert_eq(ops->subscription_set(txn, user, "a", true), COVE_STORE_OK);
        cr_assert_eq(ops->subscription_set(txn, user, "gone", true), COVE_STORE_OK);
        cr_assert_eq(ops->subscription_set(txn, user, "gone", false), COVE_STORE_OK);
        cr_assert_eq(ops->subscription_set(txn, user, "never", false), COVE_STORE_OK);
        lt_commit(&txn);
        txn = lt_begin(store, false);
        struct cove_store_iter *it;
        const char *name;
        cr_assert_eq(ops->subscription_iter_init(txn, user, &it), COVE_STORE_OK);
        cr_assert_eq(ops->subscription_iter_next(it, &name), COVE_STORE_OK);
        cr_assert_str_eq(name, "a");
        cr_assert_eq(ops->subscription_iter_next(it, &name), COVE_STORE_OK);
        cr_assert_str_eq(name, "b/c");
        cr_assert_eq(ops->subscription_iter_next(it, &name), COVE_STORE_NOTFOUND);
        ops->iter_deinit(&it);
        ops->txn_abort(&txn);
}

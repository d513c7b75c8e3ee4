/* Engine tests: users, the name index (including long names), deletion. */
#include <criterion/criterion.h>
#include <string.h>

#include "lmdb-test.h"

static struct cove_store *store;
static void setup(void) { lt_setup(); store = lt_create(NULL); }
static void teardown(void) { ops->close(&store); lt_teardown(); }

TestSuite(lmdb_users, .init = setup, .fini = teardown);

Test(lmdb_users, create_lookup_update)
{
        struct cove_store_txn *txn = lt_begin(store, true);
        struct cove_store_user u = { .name = "ann@example.org", .password_hash = "$6$x",
                                     .scram_secret = "SCRAM", .quota_bytes = 1000,
                                     .used_bytes = 77 };
        uint32_t id, id2;
        const struct cove_store_user *got;

        cr_assert_eq(ops->user_create(txn, &u, &id), COVE_STORE_OK);
        cr_assert_eq(ops->user_create(txn, &u, &id2), COVE_STORE_EXISTS);
        cr_assert_eq(ops->user_lookup(txn, "ann@example.org", &got), COVE_STORE_OK);
        cr_assert_eq(got->id, id);
        cr_assert_str_eq(got->password_hash, "$6$x");
        cr_assert_str_eq(got->scram_secret, "SCRAM");
        cr_assert_eq(got->quota_bytes, 1000);
        cr_assert_eq(got->used_bytes, 0, "usage starts at zero");
        struct cove_store_user v = { .password_hash = "$6$y", .quota_messages = 5 };
        cr_assert_eq(ops->user_update(txn, id, COVE_USER_SET_PASSWORD, &v), COVE_STORE_OK);
        cr_assert_eq(ops->user_get(txn, id, &got), COVE_STORE_OK);
        cr_assert_str_eq(got->password_hash, "$6$y");
        cr_assert_str_eq(got->scram_secret, "");
        cr_assert_eq(got->quota_bytes, 1000, "quota untouched without SET_QUOTA");
        cr_assert_eq(ops->user_update(txn, id, COVE_USER_SET_QUOTA, &v), COVE_STORE_OK);
        cr_assert_eq(ops->user_get(txn, id, &got), COVE_STORE_OK);
        cr_assert_eq(got->quota_bytes, 0);
        cr_assert_eq(got->quota_messages, 5);
        cr_assert_eq(ops->user_get(txn, id + 100, &got), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->user_lookup(txn, "nobody@example.org", &got), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->user_update(txn, id + 100, COVE_USER_SET_QUOTA, &v),
                     COVE_STORE_NOTFOUND);
        lt_commit(&txn);
}

Test(lmdb_users, ids_are_never_reused)
{
        uint32_t a = lt_user(store, "a@example.org");
        struct cove_store_txn *txn = lt_begin(store, true);
        cr_assert_eq(ops->user_delete(txn, a), COVE_STORE_OK);
        cr_assert_eq(ops->user_delete(txn, a), COVE_STORE_NOTFOUND);
        lt_commit(&txn);
        uint32_t b = lt_user(store, "a@example.org");
        cr_assert_gt(b, a);
}

static void expect_user_order(const char *const *names, size_t n)
{
        struct cove_store_txn *txn = lt_begin(store, false);
        struct cove_store_iter *it;
        const struct cove_store_user *u;
        size_t i = 0;
        enum cove_store_err err;

        cr_assert_eq(ops->user_iter_init(txn, &it), COVE_STORE_OK);
        while ((err = ops->user_iter_next(it, &u)) == COVE_STORE_OK) {
                cr_assert_lt(i, n);
                cr_assert_str_eq(u->name, names[i], "at %zu", i);
                i++;
        }
        cr_assert_eq(err, COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->user_iter_next(it, &u), COVE_STORE_NOTFOUND);
        cr_assert_eq(i, n);
        ops->iter_deinit(&it);
        cr_assert_null(it);
        ops->txn_abort(&txn);
}

Test(lmdb_users, iterate_in_name_order)
{
        lt_user(store, "zed@example.org");
        lt_user(store, "amy@example.org");
        lt_user(store, "amy@example.com");
        lt_user(store, "b@example.org");
        const char *want[] = { "amy@example.com", "amy@example.org", "b@example.org",
                               "zed@example.org" };
        expect_user_order(want, 4);
}

Test(lmdb_users, long_names_share_buckets_in_order)
{
        /* 1000-byte names with a common 600-byte prefix: beyond LMDB's key
           limit, they must still be distinct and ordered. */
        static char n1[1001], n2[1001], n3[1001], n4[600];
        memset(n1, 'x', 1000);
        memcpy(n2, n1, 1000);
        memcpy(n3, n1, 1000);
        n1[700] = 'b';
        n2[700] = 'a';
        n3[999] = 'a';
        memset(n4, 'x', 599);
        lt_user(store, n1);
        lt_user(store, n2);
        lt_user(store, n3);
        lt_user(store, n4);
        const char *want[] = { n4, n2, n1, n3 };
        expect_user_order(want, 4);

        struct cove_store_txn *txn = lt_begin(store, true);
        const struct cove_store_user *u;
        cr_assert_eq(ops->user_lookup(txn, n3, &u), COVE_STORE_OK);
        cr_assert_str_eq(u->name, n3);
        cr_assert_eq(ops->user_delete(txn, u->id), COVE_STORE_OK);
        cr_assert_eq(ops->user_lookup(txn, n3, &u), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->user_lookup(txn, n1, &u), COVE_STORE_OK);
        lt_commit(&txn);
        const char *want2[] = { n4, n2, n1 };
        expect_user_order(want2, 3);
}

Test(lmdb_users, delete_removes_everything)
{
        uint32_t uid = lt_user(store, "gone@example.org");
        uint32_t keep = lt_user(store, "keep@example.org");
        uint32_t inbox = lt_mailbox(store, uid, "INBOX");
        uint32_t other = lt_mailbox(store, uid, "Work");
        uint32_t kept = lt_mailbox(store, keep, "INBOX");
        lt_append(store, inbox, "a message\r\n", 11);
        lt_append(store, other, "another one\r\n", 13);
        lt_append(store, kept, "kept\r\n", 6);
        struct cove_store_txn *txn = lt_begin(store, true);
        cr_assert_eq(ops->subscription_set(txn, uid, "Work", true), COVE_STORE_OK);
        cr_assert_eq(ops->user_delete(txn, uid), COVE_STORE_OK);
        const struct cove_store_mailbox *box;
        cr_assert_eq(ops->mailbox_get(txn, inbox, &box), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->mailbox_lookup(txn, uid, "Work", &box), COVE_STORE_NOTFOUND);
        struct cove_store_iter *it;
        const char *name;
        cr_assert_eq(ops->subscription_iter_init(txn, uid, &it), COVE_STORE_OK);
        cr_assert_eq(ops->subscription_iter_next(it, &name), COVE_STORE_NOTFOUND);
        ops->iter_deinit(&it);
        lt_commit(&txn);
        struct cove_store_stats st = lt_stats(store);
        cr_assert_eq(st.users, 1);
        cr_assert_eq(st.mailboxes, 1);
        cr_assert_eq(st.messages, 1);
        cr_assert_eq(st.bytes_received, 6);
        cr_assert_eq(st.bytes_stored, 6);
}

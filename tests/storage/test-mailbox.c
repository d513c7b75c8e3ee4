/* test-mailbox.c - conformance: mailbox hierarchy (missing parents, rename
 * with children, RFC 3501 INBOX rename), INBOX protection, name
 * normalisation and validation, listing order, subscriptions.
 */
#include "conformance.h"

#include <stdio.h>
#include <string.h>

CT_SUITE(mailbox);

static enum cove_store_err in_txn_create(uint32_t user, const char *name)
{
        struct store_txn *txn = NULL;
        uint32_t id = 0;
        enum cove_store_err err;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        err = store_mailbox_create(txn, user, name, 0, &id);
        if (err == COVE_STORE_OK)
                ct_assert_ok(store_txn_commit(&txn));
        else
                store_txn_abort(&txn);
        return err;
}

static enum cove_store_err in_txn_rename(uint32_t user, const char *from, const char *to)
{
        struct store_txn *txn = NULL;
        enum cove_store_err err;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        err = store_mailbox_rename(txn, user, from, to);
        if (err == COVE_STORE_OK)
                ct_assert_ok(store_txn_commit(&txn));
        else
                store_txn_abort(&txn);
        return err;
}

static enum cove_store_err in_txn_delete(uint32_t user, const char *name)
{
        struct store_txn *txn = NULL;
        enum cove_store_err err;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        err = store_mailbox_delete(txn, user, name);
        if (err == COVE_STORE_OK)
                ct_assert_ok(store_txn_commit(&txn));
        else
                store_txn_abort(&txn);
        return err;
}

static bool exists(uint32_t user, const char *name)
{
        return test_store_mailbox_id(ts->store, user, name) != 0;
}

Test(mailbox, create_makes_missing_parents)
{
        uint32_t user = ct_user_add("mb@example.org");
        uint32_t leaf = ct_mailbox_add(user, "a/b/c");

        cr_assert(exists(user, "a"));
        cr_assert(exists(user, "a/b"));
        cr_assert_eq(ct_mailbox(user, "a/b/c"), leaf);
        ct_assert_code(in_txn_create(user, "a/b/c"), COVE_STORE_EXISTS);
        ct_assert_code(in_txn_create(user, "a/b"), COVE_STORE_EXISTS);
        ct_assert_ok(in_txn_create(user, "a/b/d"));
        cr_assert_neq(ct_mailbox(user, "a/b/d"), leaf);

        struct store_txn *txn = NULL;
        uint32_t id;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_mailbox_create(txn, user + 1000, "x", 0, &id), COVE_STORE_NOTFOUND);
        store_txn_abort(&txn);
}

Test(mailbox, rename_carries_children)
{
        uint32_t user = ct_user_add("mb@example.org");
        uint32_t a = ct_mailbox_add(user, "a");
        uint32_t ab = ct_mailbox_add(user, "a/b");
        uint32_t abc = ct_mailbox_add(user, "a/b/c");
        uint32_t ax = ct_mailbox_add(user, "ax");   /* shares a prefix, not a child */
        uint32_t v_ab = ct_mailbox_get(ab).uidvalidity;
        static const char m[] = "Subject: r\r\n\r\nrenamed\r\n";
        uint32_t uid = ct_append(ab, m, sizeof(m) - 1, 0).uid;

        ct_mailbox_add(user, "z");
        ct_assert_ok(in_txn_rename(user, "a", "z/moved"));
        cr_assert(!exists(user, "a"));
        cr_assert(!exists(user, "a/b"));
        cr_assert(!exists(user, "a/b/c"));
        cr_assert_eq(ct_mailbox(user, "z/moved"), a, "ids survive rename");
        cr_assert_eq(ct_mailbox(user, "z/moved/b"), ab);
        cr_assert_eq(ct_mailbox(user, "z/moved/b/c"), abc);
        cr_assert_eq(ct_mailbox(user, "ax"), ax, "'ax' is not a child of 'a'");
        cr_assert_eq(ct_mailbox_get(ab).uidvalidity, v_ab, "UIDVALIDITY kept by rename");
        ct_assert_body(ab, uid, m, sizeof(m) - 1);

        ct_assert_code(in_txn_rename(user, "z/moved/b", "ax"), COVE_STORE_EXISTS);
        ct_assert_code(in_txn_rename(user, "nosuch", "other"), COVE_STORE_NOTFOUND);
        ct_assert_fails(in_txn_rename(user, "z/moved", "z/moved/b/c/inside"));
        cr_assert_eq(ct_mailbox(user, "z/moved/b/c"), abc);

        /* Missing parents of the new name are created (RFC 3501 6.3.5). */
        ct_assert_ok(in_txn_rename(user, "ax", "new/parent/ax"));
        cr_assert(exists(user, "new"));
        cr_assert(exists(user, "new/parent"));
        cr_assert_eq(ct_mailbox(user, "new/parent/ax"), ax);

        /* Rename back up to the top level. */
        ct_assert_ok(in_txn_rename(user, "z/moved/b", "top"));
        cr_assert_eq(ct_mailbox(user, "top"), ab);
        cr_assert_eq(ct_mailbox(user, "top/c"), abc);
        cr_assert_eq(ct_mailbox(user, "z/moved"), a);
        ct_reopen();
        cr_assert_eq(ct_mailbox(user, "top/c"), abc);
}

Test(mailbox, rename_inbox)
{
        uint32_t user = ct_user_add("mb@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        uint32_t sub = ct_mailbox_add(user, "INBOX/Sub");
        static const char m1[] = "Subject: 1\r\n\r\none\r\n", m2[] = "Subject: 2\r\n\r\ntwo\r\n";

        ct_append(inbox, m1, sizeof(m1) - 1, COVE_FLAG_SEEN);
        ct_append(inbox, m2, sizeof(m2) - 1, 0);
        ct_assert_ok(in_txn_rename(user, "INBOX", "Old Mail"));

        /* RFC 3501 6.3.5: the messages move, INBOX stays (empty), and its
           inferiors are unaffected. */
        cr_assert_eq(ct_mailbox(user, "INBOX"), inbox);
        struct cove_store_mailbox in = ct_mailbox_get(inbox);
        cr_assert_eq(in.messages, 0u);
        cr_assert_eq(in.unseen, 0u);
        cr_assert_eq(in.bytes, 0u);
        cr_assert_eq(ct_mailbox(user, "INBOX/Sub"), sub);
        uint32_t old = ct_mailbox(user, "Old Mail");
        struct cove_store_mailbox om = ct_mailbox_get(old);
        cr_assert_eq(om.messages, 2u);
        cr_assert_eq(om.unseen, 1u);
        cr_assert_eq(ct_count_messages(old), 2u);
        cr_assert_eq(om.bytes, sizeof(m1) - 1 + sizeof(m2) - 1);
        cr_assert_eq(ct_user_get(user).used_messages, 2u, "rename is quota-neutral");

        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_msg *msg = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_iter_init(txn, old, 1, UINT32_MAX, &iter));
        ct_assert_ok(store_msg_iter_next(iter, &msg));
        uint32_t first = msg->uid;
        ct_assert_ok(store_msg_iter_next(iter, &msg));
        uint32_t second = msg->uid;
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        ct_assert_body(old, first, m1, sizeof(m1) - 1);
        ct_assert_body(old, second, m2, sizeof(m2) - 1);

        /* INBOX keeps accepting mail. */
        ct_append(inbox, m1, sizeof(m1) - 1, 0);
        cr_assert_eq(ct_mailbox_get(inbox).messages, 1u);
        ct_assert_code(in_txn_rename(user, "INBOX", "Old Mail"), COVE_STORE_EXISTS);
        ct_assert_fails(in_txn_rename(user, "Old Mail", "INBOX"));
}

Test(mailbox, delete_rules)
{
        uint32_t user = ct_user_add("mb@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");

        ct_assert_code(in_txn_delete(user, "INBOX"), COVE_STORE_NOPERM);
        ct_assert_code(in_txn_delete(user, "inbox"), COVE_STORE_NOPERM);
        cr_assert_eq(ct_mailbox(user, "INBOX"), inbox);
        ct_assert_code(in_txn_delete(user, "nosuch"), COVE_STORE_NOTFOUND);

        uint32_t p = ct_mailbox_add(user, "p");
        uint32_t pc = ct_mailbox_add(user, "p/c");
        static const char m[] = "Subject: d\r\n\r\nd\r\n";
        ct_append(p, m, sizeof(m) - 1, 0);
        ct_append(pc, m, sizeof(m) - 1, 0);
        cr_assert_eq(ct_user_get(user).used_messages, 2u);
        ct_assert_ok(in_txn_delete(user, "p/c"));
        cr_assert(!exists(user, "p/c"));
        cr_assert(exists(user, "p"));
        cr_assert_eq(ct_user_get(user).used_messages, 1u, "deleted messages still charged");
        cr_assert_eq(ct_user_get(user).used_bytes, sizeof(m) - 1);
        struct cove_store_mailbox gone;
        ct_assert_code(test_store_mailbox_get(ts->store, pc, &gone), COVE_STORE_NOTFOUND);
}

Test(mailbox, names_normalised)
{
        uint32_t user = ct_user_add("mb@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct pool *pool = pool_create("names", 1024);
        const char *normal = NULL, *error = NULL;

        cr_assert_eq(ct_mailbox(user, "inbox"), inbox);
        cr_assert_eq(ct_mailbox(user, "InBoX"), inbox);
        ct_assert_code(in_txn_create(user, "inbox"), COVE_STORE_EXISTS);
        uint32_t sub = ct_mailbox_add(user, "inbox/Work");
        cr_assert_eq(ct_mailbox(user, "INBOX/Work"), sub);
        struct store_txn *txn = NULL;
        const struct cove_store_mailbox *mb = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_mailbox_get(txn, sub, &mb));
        cr_assert_str_eq(mb->name, "INBOX/Work");
        store_txn_abort(&txn);

        /* Only the first component is special; other names keep their case. */
        uint32_t lower = ct_mailbox_add(user, "Work/inbox");
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_mailbox_get(txn, lower, &mb));
        cr_assert_str_eq(mb->name, "Work/inbox");
        store_txn_abort(&txn);
        uint32_t inboxes = ct_mailbox_add(user, "Inboxes");
        cr_assert_neq(inboxes, inbox);

        cr_assert(store_mailbox_name_normalize(pool, "iNbOx/x", &normal, &error));
        cr_assert_str_eq(normal, "INBOX/x");
        cr_assert(store_mailbox_name_normalize(pool, "Caf\xc3\xa9", &normal, &error));
        cr_assert_str_eq(normal, "Caf\xc3\xa9");
        uint32_t utf8 = ct_mailbox_add(user, "Caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
        cr_assert_eq(ct_mailbox(user, "Caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"), utf8);
        cr_assert_neq(ct_mailbox(user, "Caf\xc3\xa9"), utf8);
        pool_destroy(&pool);
}

Test(mailbox, invalid_names_refused)
{
        static const char *const bad[] = {
                "", "/", "/lead", "trail/", "a//b", "ctl\x01", "nl\nx", "del\x7f",
                "bad-utf8-\xff", "overlong-\xc0\xaf", "cut-\xe2\x82",
        };
        uint32_t user = ct_user_add("mb@example.org");
        struct pool *pool = pool_create("names", 4096);
        const char *normal = NULL, *error = NULL;
        size_t before = 0;

        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_mailbox *mb = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_mailbox_iter_init(txn, user, &iter));
        while (store_mailbox_iter_next(iter, &mb) == COVE_STORE_OK)
                before++;
        store_iter_deinit(&iter);
        store_txn_abort(&txn);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                cr_assert(!store_mailbox_name_normalize(pool, bad[i], &normal, &error),
                          "name #%zu accepted by normalize", i);
                cr_assert_not_null(error);
                cr_assert_neq(in_txn_create(user, bad[i]), COVE_STORE_OK,
                              "name #%zu created", i);
        }
        char *longest = pool_alloc(pool, COVE_STORE_MAX_NAME + 2);
        memset(longest, 'n', COVE_STORE_MAX_NAME + 1);
        ct_assert_fails(in_txn_create(user, longest));
        longest[COVE_STORE_MAX_NAME] = '\0';
        ct_assert_ok(in_txn_create(user, longest));
        ct_assert_fails(in_txn_rename(user, longest, "a//b"));

        size_t after = 0;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_mailbox_iter_init(txn, user, &iter));
        while (store_mailbox_iter_next(iter, &mb) == COVE_STORE_OK)
                after++;
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        cr_assert_eq(after, before + 1, "only the valid long name was created");
        pool_destroy(&pool);
}

Test(mailbox, listing_in_byte_order)
{
        uint32_t user = ct_user_add("mb@example.org");
        uint32_t other = ct_user_add("other@example.org");
        const char *names[] = { "b", "a", "a/z", "B", "a/b" };
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_mailbox *mb = NULL;
        char last[COVE_STORE_MAX_NAME + 1] = "";
        size_t count = 0;

        for (size_t i = 0; i < 5; i++)
                ct_mailbox_add(user, names[i]);
        ct_mailbox_add(other, "not-mine");
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_mailbox_iter_init(txn, user, &iter));
        while (store_mailbox_iter_next(iter, &mb) == COVE_STORE_OK) {
                cr_assert_eq(mb->user_id, user);
                cr_assert_gt(strcmp(mb->name, last), 0, "'%s' listed after '%s'", mb->name,
                             last);
                snprintf(last, sizeof(last), "%s", mb->name);
                count++;
        }
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        cr_assert_eq(count, 6u + 5u, "default mailboxes plus five");
}

static bool subscribed(uint32_t user, const char *name)
{
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const char *n = NULL;
        bool found = false;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_subscription_iter_init(txn, user, &iter));
        while (store_subscription_iter_next(iter, &n) == COVE_STORE_OK)
                found = found || strcmp(n, name) == 0;
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        return found;
}

static void subscribe(uint32_t user, const char *name, bool on)
{
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_subscription_set(txn, user, name, on));
        ct_assert_ok(store_txn_commit(&txn));
}

Test(mailbox, subscriptions)
{
        uint32_t user = ct_user_add("mb@example.org");
        uint32_t other = ct_user_add("other@example.org");

        ct_mailbox_add(user, "Lists/cove");
        subscribe(user, "Lists/cove", true);
        subscribe(user, "Never/Created", true);   /* allowed (RFC 3501 6.3.6) */
        subscribe(user, "inbox", true);
        subscribe(user, "Lists/cove", true);      /* twice is once */
        cr_assert(subscribed(user, "Lists/cove"));
        cr_assert(subscribed(user, "Never/Created"));
        cr_assert(subscribed(user, "INBOX"), "subscription names are normalised");
        cr_assert(!subscribed(other, "Lists/cove"), "subscriptions are per user");

        subscribe(user, "Lists/cove", false);
        cr_assert(!subscribed(user, "Lists/cove"));
        cr_assert(subscribed(user, "Never/Created"));
        ct_reopen();
        cr_assert(subscribed(user, "Never/Created"));

        struct store_txn *txn = NULL;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_fails(store_subscription_set(txn, user, "a//b", true));
        store_txn_abort(&txn);
}

/* test-user.c - conformance: users (default mailboxes with special-use,
 * lookup, duplicates, names, password update, listing, delete) and quota
 * (set, enforced at append and copy, usage tracked).
 */
#include "conformance.h"

#include <stdio.h>
#include <string.h>

CT_SUITE(user);

static const struct {
        const char *name;
        uint32_t special_use;
} defaults[] = {
        { "INBOX", 0 },
        { "Drafts", COVE_SPECIAL_DRAFTS },
        { "Sent", COVE_SPECIAL_SENT },
        { "Trash", COVE_SPECIAL_TRASH },
        { "Junk", COVE_SPECIAL_JUNK },
        { "Archive", COVE_SPECIAL_ARCHIVE },
};

Test(user, create_makes_default_mailboxes)
{
        uint32_t user = ct_user_add("new@example.org");
        struct store_txn *txn = NULL;
        const struct cove_store_mailbox *mb = NULL;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
                ct_assert_ok(store_mailbox_lookup(txn, user, defaults[i].name, &mb));
                cr_assert_str_eq(mb->name, defaults[i].name);
                cr_assert_eq(mb->user_id, user);
                cr_assert_eq(mb->special_use, defaults[i].special_use, "%s: special-use 0x%x",
                             defaults[i].name, mb->special_use);
                cr_assert_eq(mb->messages, 0u);
                cr_assert_neq(mb->uidvalidity, 0u);
        }
        const struct cove_store_user *u = NULL;
        ct_assert_ok(store_user_get(txn, user, &u));
        cr_assert_eq(u->used_bytes, 0u);
        cr_assert_eq(u->used_messages, 0u);
        cr_assert_eq(u->quota_bytes, 0u, "new users are unlimited");
        store_txn_abort(&txn);
}

Test(user, lookup_duplicates_and_names)
{
        struct store_txn *txn = NULL;
        const struct cove_store_user *u = NULL;
        uint32_t id = 0, dup = 0;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_create(txn, "Alice@Example.ORG", "$6$salt$hash", "", &id));
        ct_assert_ok(store_txn_commit(&txn));

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_lookup(txn, "Alice@example.org", &u));
        cr_assert_eq(u->id, id);
        cr_assert_str_eq(u->name, "Alice@example.org", "the domain is lower-cased");
        cr_assert_str_eq(u->password_hash, "$6$salt$hash");
        ct_assert_ok(store_user_lookup(txn, "Alice@EXAMPLE.org", &u));
        cr_assert_eq(u->id, id);
        ct_assert_code(store_user_lookup(txn, "bob@example.org", &u), COVE_STORE_NOTFOUND);
        ct_assert_code(store_user_create(txn, "Alice@example.org", "", "", &dup),
                       COVE_STORE_EXISTS);
        ct_assert_code(store_user_get(txn, id + 1000, &u), COVE_STORE_NOTFOUND);
        store_txn_abort(&txn);

        static const char *const bad[] = {
                "", "nodomain", "@example.org", "local@", "two words@example.org",
                "ctl\x01@example.org", "tab@exa\tmple.org",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ct_assert_ok(store_txn_begin(ts->store, true, &txn));
                cr_assert_neq(store_user_create(txn, bad[i], "", "", &dup), COVE_STORE_OK,
                              "user name #%zu accepted", i);
                store_txn_abort(&txn);
        }
        char long_name[COVE_STORE_MAX_NAME + 16];
        memset(long_name, 'l', sizeof(long_name));
        memcpy(long_name + sizeof(long_name) - 13, "@example.org", 13);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_fails(store_user_create(txn, long_name, "", "", &dup));
        store_txn_abort(&txn);
}

Test(user, password_update)
{
        uint32_t user = ct_user_add("pw@example.org");
        struct store_txn *txn = NULL;
        const struct cove_store_user *u = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_set_password(txn, user, "$6$new$hash", "SCRAM-SHA-256$4096:x"));
        ct_assert_ok(store_txn_commit(&txn));
        ct_reopen();
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_user_get(txn, user, &u));
        cr_assert_str_eq(u->password_hash, "$6$new$hash");
        cr_assert_str_eq(u->scram_secret, "SCRAM-SHA-256$4096:x");
        cr_assert_str_eq(u->name, "pw@example.org");
        store_txn_abort(&txn);

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_user_set_password(txn, user + 1000, "x", ""), COVE_STORE_NOTFOUND);
        store_txn_abort(&txn);
}

Test(user, listing_in_name_order)
{
        const char *names[] = { "carol@example.org", "alice@example.org", "bob@example.net" };
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_user *u = NULL;
        char last[COVE_STORE_MAX_NAME + 1] = "";
        size_t count = 0;

        for (size_t i = 0; i < 3; i++)
                ct_user_add(names[i]);
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_user_iter_init(txn, &iter));
        while (store_user_iter_next(iter, &u) == COVE_STORE_OK) {
                cr_assert_gt(strcmp(u->name, last), 0, "'%s' after '%s'", u->name, last);
                snprintf(last, sizeof(last), "%s", u->name);
                count++;
        }
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        cr_assert_eq(count, 3u);
}

static void set_quota(uint32_t user, uint64_t bytes, uint64_t messages)
{
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_set_quota(txn, user, bytes, messages));
        ct_assert_ok(store_txn_commit(&txn));
}

Test(user, quota_enforced_and_usage_tracked)
{
        uint32_t user = ct_user_add("quota@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        uint32_t sent = ct_mailbox(user, "Sent");
        unsigned char *m = test_msg_make(ts->pool, 7, 600);

        set_quota(user, 1500, 0);
        struct cove_store_user u = ct_user_get(user);
        cr_assert_eq(u.quota_bytes, 1500u);
        cr_assert_eq(u.quota_messages, 0u);

        uint32_t a = ct_append(inbox, m, 600, 0).uid;
        ct_append(sent, m, 600, 0);
        u = ct_user_get(user);
        cr_assert_eq(u.used_bytes, 1200u);
        cr_assert_eq(u.used_messages, 2u);

        /* 1200 + 600 > 1500: refused, nothing stored. */
        ct_assert_code(test_store_append(ts->store, inbox, m, 600, 0, NULL),
                       COVE_STORE_OVERQUOTA);
        cr_assert_eq(ct_mailbox_get(inbox).messages, 1u);
        cr_assert_eq(ct_user_get(user).used_bytes, 1200u);
        /* 1200 + 300 = 1500: fits exactly. */
        uint32_t b = ct_append(inbox, m, 300, 0).uid;
        cr_assert_eq(ct_user_get(user).used_bytes, 1500u);

        ct_expunge(inbox, a);
        u = ct_user_get(user);
        cr_assert_eq(u.used_bytes, 900u);
        cr_assert_eq(u.used_messages, 2u);
        ct_expunge(inbox, b);
        cr_assert_eq(ct_user_get(user).used_bytes, 600u);

        /* Copy is charged; a copy that does not fit is refused. */
        struct store_txn *txn = NULL;
        struct cove_store_saved saved;
        uint32_t s = ct_append(sent, m, 400, 0).uid;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_copy(txn, sent, s, inbox, &saved));
        ct_assert_ok(store_txn_commit(&txn));
        u = ct_user_get(user);
        cr_assert_eq(u.used_bytes, 1400u);
        cr_assert_eq(u.used_messages, 3u);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_msg_copy(txn, sent, s, inbox, &saved), COVE_STORE_OVERQUOTA);
        store_txn_abort(&txn);

        /* Lifting the quota lifts the limit; usage is kept. */
        set_quota(user, 0, 0);
        ct_append(inbox, m, 600, 0);
        cr_assert_eq(ct_user_get(user).used_bytes, 2000u);
        ct_reopen();
        cr_assert_eq(ct_user_get(user).used_bytes, 2000u);
        cr_assert_eq(ct_user_get(user).used_messages, 4u);
}

Test(user, message_quota)
{
        uint32_t user = ct_user_add("quota@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        static const char m[] = "Subject: q\r\n\r\nq\r\n";

        set_quota(user, 0, 2);
        ct_append(inbox, m, sizeof(m) - 1, 0);
        uint32_t last = ct_append(inbox, m, sizeof(m) - 1, 0).uid;
        ct_assert_code(test_store_append(ts->store, inbox, m, sizeof(m) - 1, 0, NULL),
                       COVE_STORE_OVERQUOTA);
        ct_expunge(inbox, last);
        ct_append(inbox, m, sizeof(m) - 1, 0);
        cr_assert_eq(ct_user_get(user).used_messages, 2u);
}

Test(user, delete_removes_everything)
{
        uint32_t keep = ct_user_add("keep@example.org");
        uint32_t keep_inbox = ct_mailbox(keep, "INBOX");
        struct cove_store_stats before = ct_stats();
        uint32_t user = ct_user_add("gone@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        uint32_t sub = ct_mailbox_add(user, "Folder/Sub");
        unsigned char *m = test_msg_make(ts->pool, 9, 4000);
        uint32_t uid = ct_append(inbox, m, 4000, 0).uid;
        ct_append(sub, m, 2000, 0);
        uint32_t kept_uid = ct_append(keep_inbox, m, 3000, 0).uid;
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_subscription_set(txn, user, "Folder/Sub", true));
        ct_assert_ok(store_user_delete(txn, user));
        ct_assert_ok(store_txn_commit(&txn));

        const struct cove_store_user *u = NULL;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_user_lookup(txn, "gone@example.org", &u), COVE_STORE_NOTFOUND);
        ct_assert_code(store_user_get(txn, user, &u), COVE_STORE_NOTFOUND);
        ct_assert_code(store_user_delete(txn, user), COVE_STORE_NOTFOUND);
        store_txn_abort(&txn);
        struct cove_store_mailbox mb;
        ct_assert_code(test_store_mailbox_get(ts->store, inbox, &mb), COVE_STORE_NOTFOUND);
        ct_assert_code(test_store_mailbox_get(ts->store, sub, &mb), COVE_STORE_NOTFOUND);
        struct store_stream *stream = NULL;
        uint64_t size;
        ct_assert_code(store_stream_open(ts->store, inbox, uid, &stream, &size),
                       COVE_STORE_NOTFOUND);

        /* The other user is untouched. */
        ct_assert_body(keep_inbox, kept_uid, m, 3000);
        struct cove_store_stats after = ct_stats();
        cr_assert_eq(after.users, before.users);
        cr_assert_eq(after.mailboxes, before.mailboxes);
        cr_assert_eq(after.messages, before.messages + 1);

        /* The name is free again, for a new, empty user with a new id. */
        uint32_t again = ct_user_add("gone@example.org");
        cr_assert_neq(again, user, "user id reused");
        uint32_t new_inbox = ct_mailbox(again, "INBOX");
        cr_assert_neq(new_inbox, inbox);
        cr_assert_eq(ct_mailbox_get(new_inbox).messages, 0u);
        cr_assert_eq(test_store_mailbox_id(ts->store, again, "Folder/Sub"), 0u);
        cr_assert_eq(ct_user_get(again).used_bytes, 0u);
        struct store_iter *iter = NULL;
        const char *name = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_subscription_iter_init(txn, again, &iter));
        while (store_subscription_iter_next(iter, &name) == COVE_STORE_OK)
                cr_assert_str_neq(name, "Folder/Sub", "old subscription survived");
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
}

/* The user's APOP secret as stored, copied. */
static char *apop_of(uint32_t user, char *out, size_t size)
{
        struct store_txn *txn = NULL;
        const struct cove_store_user *u = NULL;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_user_get(txn, user, &u));
        cr_assert_not_null(u->apop_secret);
        snprintf(out, size, "%s", u->apop_secret);
        store_txn_abort(&txn);
        return out;
}

static void set_apop(uint32_t user, const char *secret)
{
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_set_apop_secret(txn, user, secret));
        ct_assert_ok(store_txn_commit(&txn));
}

Test(user, apop_secret_set_kept_and_cleared)
{
        uint32_t user = ct_user_add("apop@example.org");
        char got[64];
        struct store_txn *txn = NULL;

        cr_assert_str_eq(apop_of(user, got, sizeof(got)), "", "none by default");
        set_apop(user, "s3cret with space");
        cr_assert_str_eq(apop_of(user, got, sizeof(got)), "s3cret with space");
        /* Other updates keep it. */
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_set_password(txn, user, "$6$x$y", ""));
        ct_assert_ok(store_user_set_quota(txn, user, 1000, 10));
        ct_assert_ok(store_txn_commit(&txn));
        ct_append(ct_mailbox(user, "INBOX"), "m\r\n", 3, 0);
        ct_reopen();
        cr_assert_str_eq(apop_of(user, got, sizeof(got)), "s3cret with space");
        set_apop(user, NULL);
        cr_assert_str_eq(apop_of(user, got, sizeof(got)), "");
        set_apop(user, "again");
        set_apop(user, "");
        cr_assert_str_eq(apop_of(user, got, sizeof(got)), "");
}

/* test-deliver.c - conformance: store_deliver (covectl deliver, LMTP):
 * unknown user, fallback to INBOX, quota refusal with nothing stored,
 * header-prefix parts, durability.
 */
#include "conformance.h"

#include <string.h>

CT_SUITE(deliver);

static const char msg[] = "From: x@example.net\r\nSubject: deliver\r\n\r\nHello\r\n";

static struct cove_store_part one_part(void)
{
        return (struct cove_store_part){ msg, sizeof(msg) - 1 };
}

Test(deliver, unknown_user)
{
        struct cove_store_part part = one_part();
        struct cove_store_saved saved;
        struct cove_store_stats before = ct_stats();

        ct_user_add("known@example.org");
        ct_assert_code(store_deliver(ts->store, "nobody@example.org", NULL, &part, 1, &saved),
                       COVE_STORE_NOTFOUND);
        ct_assert_code(store_deliver(ts->store, "known@example.net", "INBOX", &part, 1, &saved),
                       COVE_STORE_NOTFOUND);
        ct_assert_fails(store_deliver(ts->store, "not a user", NULL, &part, 1, &saved));
        cr_assert_eq(ct_stats().messages, before.messages);
}

Test(deliver, mailbox_choice_and_fallback)
{
        uint32_t user = ct_user_add("rcpt@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        uint32_t lists = ct_mailbox_add(user, "Lists/cove");
        struct cove_store_part part = one_part();
        struct cove_store_saved saved;

        ct_assert_ok(store_deliver(ts->store, "rcpt@example.org", NULL, &part, 1, &saved));
        cr_assert_eq(saved.uidvalidity, ct_mailbox_get(inbox).uidvalidity);
        ct_assert_body(inbox, saved.uid, msg, sizeof(msg) - 1);

        ct_assert_ok(store_deliver(ts->store, "rcpt@example.org", "Lists/cove", &part, 1,
                                   &saved));
        cr_assert_eq(saved.uidvalidity, ct_mailbox_get(lists).uidvalidity);
        ct_assert_body(lists, saved.uid, msg, sizeof(msg) - 1);

        ct_assert_ok(store_deliver(ts->store, "rcpt@example.org", "No/Such/Box", &part, 1,
                                   &saved));
        cr_assert_eq(saved.uidvalidity, ct_mailbox_get(inbox).uidvalidity,
                     "a missing mailbox falls back to INBOX");
        ct_assert_body(inbox, saved.uid, msg, sizeof(msg) - 1);
        cr_assert_eq(test_store_mailbox_id(ts->store, user, "No/Such/Box"), 0u,
                     "delivery must not create mailboxes");

        ct_assert_ok(store_deliver(ts->store, "rcpt@example.org", "inbox", &part, 1, &saved));
        ct_assert_ok(store_deliver(ts->store, "rcpt@EXAMPLE.ORG", NULL, &part, 1, &saved));
        struct cove_store_mailbox in = ct_mailbox_get(inbox);
        cr_assert_eq(in.messages, 4u);
        cr_assert_eq(in.unseen, 4u);
        cr_assert_eq(ct_mailbox_get(lists).messages, 1u);

        /* Durable on return: visible after reopen. */
        ct_reopen();
        ct_assert_body(inbox, saved.uid, msg, sizeof(msg) - 1);
        cr_assert_eq(ct_user_get(user).used_messages, 5u);
}

Test(deliver, over_quota_stores_nothing)
{
        uint32_t user = ct_user_add("full@example.org");
        uint32_t inbox = ct_mailbox(user, "INBOX");
        struct cove_store_part part = one_part();
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_user_set_quota(txn, user, 2 * (sizeof(msg) - 1) + 10, 0));
        ct_assert_ok(store_txn_commit(&txn));
        ct_assert_ok(store_deliver(ts->store, "full@example.org", NULL, &part, 1, &saved));
        ct_assert_ok(store_deliver(ts->store, "full@example.org", NULL, &part, 1, &saved));
        struct cove_store_mailbox before = ct_mailbox_get(inbox);
        struct cove_store_stats stats = ct_stats();

        ct_assert_code(store_deliver(ts->store, "full@example.org", NULL, &part, 1, &saved),
                       COVE_STORE_OVERQUOTA);
        ct_assert_code(store_deliver(ts->store, "full@example.org", "Sent", &part, 1, &saved),
                       COVE_STORE_OVERQUOTA);
        struct cove_store_mailbox after = ct_mailbox_get(inbox);
        cr_assert_eq(after.messages, before.messages);
        cr_assert_eq(after.uidnext, before.uidnext, "refused delivery used a UID");
        cr_assert_eq(after.highestmodseq, before.highestmodseq);
        cr_assert_eq(ct_count_messages(inbox), 2u);
        cr_assert_eq(ct_user_get(user).used_bytes, 2 * (sizeof(msg) - 1));
        cr_assert_eq(ct_stats().messages, stats.messages);
        cr_assert_eq(ct_stats().bytes_stored, stats.bytes_stored);
}

Test(deliver, header_prefix_parts)
{
        uint32_t user = ct_user_add("lmtp@example.org");
        static const char prefix[] = "Return-Path: <x@example.net>\r\n"
                                     "Delivered-To: lmtp@example.org\r\n";
        struct cove_store_part parts[2] = {
                { prefix, sizeof(prefix) - 1 }, { msg, sizeof(msg) - 1 },
        };
        struct cove_store_saved saved;
        char whole[sizeof(prefix) + sizeof(msg)];

        ct_assert_ok(store_deliver(ts->store, "lmtp@example.org", NULL, parts, 2, &saved));
        memcpy(whole, prefix, sizeof(prefix) - 1);
        memcpy(whole + sizeof(prefix) - 1, msg, sizeof(msg) - 1);
        ct_assert_body(ct_mailbox(user, "INBOX"), saved.uid, whole,
                       sizeof(prefix) - 1 + sizeof(msg) - 1);
}

/* test-deliver.c - storage/deliver.c as cove-lmtpd uses it: recipient
 * resolution (default domain, plus-addressing, case, quota with a size
 * hint) and batch delivery (per-recipient results, one stored body for all,
 * a failed commit retried per recipient without duplicates).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "pool.h"
#include "store.h"
#include "test-store.h"

static struct test_store *ts;
static struct pool *pool;

static void open_engine(const char *engine, const char *options)
{
        const char *error = NULL;
        setenv("COVE_TEST_ENGINE", engine, 1);
        setenv("COVE_TEST_STORE_OPTIONS", options, 1);
        cr_assert_eq(test_store_create(&ts, &error), 0, "%s", error);
        pool = pool_create("test deliver", 1024);
}

static void teardown(void)
{
        test_store_destroy(&ts);
        pool_destroy(&pool);
}

static void setup_lmdb(void)
{
        open_engine("lmdb", "path=%D/store|compress_threshold=0");
}

TestSuite(deliver, .init = setup_lmdb, .fini = teardown);

static uint32_t user(const char *name)
{
        uint32_t id;
        cr_assert_eq(test_store_user_add(ts->store, name, &id), COVE_STORE_OK);
        return id;
}

static enum cove_store_err resolve(const struct store_rcpt_rules *rules, const char *address,
                                   uint64_t size, struct store_rcpt *rcpt)
{
        const char *error;
        return store_rcpt_resolve(ts->store, rules, pool, address, size, rcpt, &error);
}

Test(deliver, resolve_rules)
{
        const struct store_rcpt_rules plus = { .default_domain = "example.org",
                                               .delimiter = '+' };
        const struct store_rcpt_rules strict = { 0 };
        struct store_rcpt r;
        uint32_t u = user("u@example.org");
        uint32_t p = user("u+fixed@example.org");

        cr_assert_eq(resolve(&plus, "u@EXAMPLE.org", 0, &r), COVE_STORE_OK);
        cr_assert_eq(r.user_id, u);
        cr_assert_null(r.mailbox);
        cr_assert_eq(resolve(&plus, "U", 0, &r), COVE_STORE_OK, "default domain, lower case");
        cr_assert_str_eq(r.address, "U@example.org");
        cr_assert_eq(r.user_id, u);
        cr_assert_eq(resolve(&plus, "u+Lists/x@example.org", 0, &r), COVE_STORE_OK);
        cr_assert_str_eq(r.mailbox, "Lists/x");
        cr_assert_str_eq(r.address, "u+Lists/x@example.org");
        cr_assert_eq(resolve(&plus, "u+fixed@example.org", 0, &r), COVE_STORE_OK);
        cr_assert_eq(r.user_id, p, "an existing user with '+' wins over the detail");
        cr_assert_eq(resolve(&plus, "u+@example.org", 0, &r), COVE_STORE_OK);
        cr_assert_null(r.mailbox);
        cr_assert_eq(resolve(&plus, "u+inbox@example.org", 0, &r), COVE_STORE_OK);
        cr_assert_str_eq(r.mailbox, "INBOX");

        cr_assert_eq(resolve(&strict, "u+Lists@example.org", 0, &r), COVE_STORE_NOTFOUND);
        cr_assert_eq(resolve(&strict, "u", 0, &r), COVE_STORE_NOPERM);
        cr_assert_eq(resolve(&plus, "+x@example.org", 0, &r), COVE_STORE_NOTFOUND);
        cr_assert_eq(resolve(&plus, "nobody@example.org", 0, &r), COVE_STORE_NOTFOUND);
        cr_assert_eq(resolve(&plus, "@example.org", 0, &r), COVE_STORE_NOPERM);
        cr_assert_eq(resolve(&plus, "a b@example.org", 0, &r), COVE_STORE_NOPERM);
}

Test(deliver, resolve_checks_quota_with_the_size_hint)
{
        const struct store_rcpt_rules rules = { .delimiter = '+' };
        struct store_rcpt r;
        uint32_t u = user("q@example.org");
        struct store_txn *txn;
        cr_assert_eq(store_txn_begin(ts->store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_set_quota(txn, u, 1000, 2), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        cr_assert_eq(resolve(&rules, "q@example.org", 1000, &r), COVE_STORE_OK);
        cr_assert_eq(resolve(&rules, "q@example.org", 1001, &r), COVE_STORE_OVERQUOTA);
        uint32_t inbox = test_store_mailbox_id(ts->store, u, "INBOX");
        cr_assert_eq(test_store_append(ts->store, inbox, "a\r\n", 3, 0, NULL), COVE_STORE_OK);
        cr_assert_eq(test_store_append(ts->store, inbox, "b\r\n", 3, 0, NULL), COVE_STORE_OK);
        cr_assert_eq(resolve(&rules, "q@example.org", 0, &r), COVE_STORE_OVERQUOTA,
                     "the message quota is full whatever the size");
}

static const char body_text[] = "Subject: batch\r\n\r\nthe same body for everyone\r\n";

static void rcpt_init(struct store_deliver_rcpt *r, const char *name, const char *box)
{
        const char *prefix = pool_printf(pool, "Delivered-To: %s\r\n", name);
        *r = (struct store_deliver_rcpt){
                .user = name, .mailbox = box,
                .prefix = { .data = prefix, .size = strlen(prefix) },
        };
}

static void assert_stored(const char *name, const char *box, uint32_t uid)
{
        const char *prefix = pool_printf(pool, "Delivered-To: %s\r\n", name);
        unsigned char *data;
        size_t len;
        uint32_t u = 0;
        struct store_txn *txn;
        const struct cove_store_user *rec;
        cr_assert_eq(store_txn_begin(ts->store, false, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_lookup(txn, name, &rec), COVE_STORE_OK);
        u = rec->id;
        store_txn_abort(&txn);
        uint32_t mb = test_store_mailbox_id(ts->store, u, box);
        cr_assert_eq(test_store_fetch(ts->store, mb, uid, pool, &data, &len), COVE_STORE_OK);
        cr_assert_eq(len, strlen(prefix) + strlen(body_text));
        cr_assert(memcmp(data, prefix, strlen(prefix)) == 0);
        cr_assert(memcmp(data + strlen(prefix), body_text, strlen(body_text)) == 0);
}

Test(deliver, batch_per_recipient_results_and_one_body)
{
        user("a@example.org");
        user("b@example.org");
        uint32_t full = user("full@example.org");
        struct store_txn *txn;
        cr_assert_eq(store_txn_begin(ts->store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_set_quota(txn, full, 10, 0), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        struct cove_store_stats before, after;
        cr_assert_eq(store_stats(ts->store, &before), COVE_STORE_OK);

        struct store_deliver_rcpt r[4];
        rcpt_init(&r[0], "a@example.org", NULL);
        rcpt_init(&r[1], "ghost@example.org", NULL);
        rcpt_init(&r[2], "full@example.org", NULL);
        rcpt_init(&r[3], "b@example.org", "Trash");
        struct cove_store_part body = { body_text, strlen(body_text) };
        store_deliver_batch(ts->store, r, 4, &body, 1, STORE_FLUSH_NONE, NULL);
        cr_assert_eq(store_sync(ts->store), COVE_STORE_OK);
        cr_assert_eq(r[0].result, COVE_STORE_OK);
        cr_assert_eq(r[1].result, COVE_STORE_NOTFOUND);
        cr_assert_eq(r[2].result, COVE_STORE_OVERQUOTA);
        cr_assert_eq(r[3].result, COVE_STORE_OK);
        assert_stored("a@example.org", "INBOX", r[0].saved.uid);
        assert_stored("b@example.org", "Trash", r[3].saved.uid);

        cr_assert_eq(store_stats(ts->store, &after), COVE_STORE_OK);
        cr_assert_eq(after.messages, before.messages + 2);
        /* Two prefixes and one body: less than two whole messages. */
        cr_assert_lt(after.bytes_stored - before.bytes_stored,
                     2 * strlen(body_text) + 2 * strlen("Delivered-To: b@example.org\r\n"),
                     "the body was stored twice");
}

static void setup_fault(void)
{
        /* Commits: 1-3 create users, 4 is the batch. */
        open_engine("fault", "path=%D/store|fault_inner=lmdb|fault_commit_fail=4");
}

TestSuite(deliver_fault, .init = setup_fault, .fini = teardown);

Test(deliver_fault, failed_batch_commit_is_retried_per_recipient)
{
        user("a@example.org");
        user("b@example.org");
        user("c@example.org");
        struct store_deliver_rcpt r[3];
        rcpt_init(&r[0], "a@example.org", NULL);
        rcpt_init(&r[1], "nobody@example.org", NULL);
        rcpt_init(&r[2], "c@example.org", NULL);
        struct cove_store_part body = { body_text, strlen(body_text) };
        store_deliver_batch(ts->store, r, 3, &body, 1, STORE_FLUSH_DURABLE, NULL);
        cr_assert_eq(r[0].result, COVE_STORE_OK, "%s", store_last_error(ts->store));
        cr_assert_eq(r[1].result, COVE_STORE_NOTFOUND);
        cr_assert_eq(r[2].result, COVE_STORE_OK);
        struct cove_store_stats stats;
        cr_assert_eq(store_stats(ts->store, &stats), COVE_STORE_OK);
        cr_assert_eq(stats.messages, 2, "exactly one copy each");
        assert_stored("a@example.org", "INBOX", r[0].saved.uid);
        assert_stored("c@example.org", "INBOX", r[2].saved.uid);
}

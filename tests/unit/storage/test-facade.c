/* Unit tests for the store facade (storage/store*.c, deliver.c): default
 * mailboxes, name and rename rules, quota, the expunge guard, publish after
 * commit, and error paths injected by the fault engine (tests/lib). */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>

#include "conf.h"
#include "pool.h"
#include "storage-test.h"
#include "store.h"

static struct pool *pool;
static const char *dir;
static struct store *store;

static void setup(void)
{
        pool = pool_create("test", 0);
        dir = storage_test_tmpdir(pool);
        cr_assert(storage_test_have_engine("lmdb"), "cove_store_lmdb.so is not built");
}

static void teardown(void)
{
        store_close(&store);
        storage_test_rmtree(dir);
        pool_destroy(&pool);
}

TestSuite(facade, .init = setup, .fini = teardown);

/* Creates a store of `engine` in the test dir with the extra "key=value"
   options. Returns store_open's result. */
static int open_store(const char *engine, const char *const *extra, size_t count,
                      const char **error_r)
{
        const char *opts[16];
        size_t n = 0;
        opts[n++] = pool_printf(pool, "path=%s/store", dir);
        if (strcmp(engine, "fault") == 0)
                opts[n++] = "fault_inner=lmdb";
        for (size_t i = 0; i < count && n < 16; i++)
                opts[n++] = extra[i];
        const struct cove_conf *conf = storage_test_conf(pool, engine,
                                                         COVE_TEST_BUILD_PLUGIN_DIR, opts, n);
        return store_open(conf, true, pool, &store, error_r);
}

/* Same, asserting success; the options end with NULL. */
static void open_ok(const char *engine, ...)
{
        const char *extra[8], *error = NULL;
        size_t n = 0;
        va_list ap;
        va_start(ap, engine);
        for (const char *o; (o = va_arg(ap, const char *)) != NULL && n < 8;)
                extra[n++] = o;
        va_end(ap);
        cr_assert_eq(open_store(engine, extra, n, &error), 0, "%s", error);
}

static uint32_t add_user(const char *name)
{
        struct store_txn *txn;
        uint32_t id;
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_create(txn, name, NULL, NULL, &id), COVE_STORE_OK, "%s",
                     store_last_error(store));
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        return id;
}

static uint32_t mailbox_id(uint32_t user, const char *name)
{
        struct store_txn *txn;
        const struct cove_store_mailbox *mb;
        uint32_t id = 0;
        cr_assert_eq(store_txn_begin(store, false, &txn), COVE_STORE_OK);
        if (store_mailbox_lookup(txn, user, name, &mb) == COVE_STORE_OK)
                id = mb->id;
        store_txn_abort(&txn);
        return id;
}

static uint32_t mailbox_messages(uint32_t id)
{
        struct store_txn *txn;
        const struct cove_store_mailbox *mb;
        cr_assert_eq(store_txn_begin(store, false, &txn), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_get(txn, id, &mb), COVE_STORE_OK);
        uint32_t n = mb->messages;
        store_txn_abort(&txn);
        return n;
}

static const char test_msg[] = "From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n";

static enum cove_store_err append(uint32_t mailbox, const char *data)
{
        struct store_txn *txn;
        struct cove_store_part part = { .data = data, .size = strlen(data) };
        struct store_append msg = { .parts = &part, .part_count = 1 };
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        enum cove_store_err err = store_msg_append(txn, mailbox, &msg, NULL);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return err;
        }
        return store_txn_commit(&txn);
}

static bool readable(int fd, int timeout_ms)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        return poll(&pfd, 1, timeout_ms) == 1;
}

Test(facade, new_user_gets_default_mailboxes)
{
        static const struct { const char *name; uint32_t special; } want[] = {
                { "Archive", COVE_SPECIAL_ARCHIVE }, { "Drafts", COVE_SPECIAL_DRAFTS },
                { "INBOX", 0 }, { "Junk", COVE_SPECIAL_JUNK }, { "Sent", COVE_SPECIAL_SENT },
                { "Trash", COVE_SPECIAL_TRASH },
        };
        open_ok("lmdb", NULL);
        uint32_t user = add_user("Bob@Example.ORG");
        struct store_txn *txn;
        struct store_iter *iter;
        const struct cove_store_mailbox *mb;
        const struct cove_store_user *u;
        cr_assert_eq(store_txn_begin(store, false, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_lookup(txn, "Bob@example.org", &u), COVE_STORE_OK);
        cr_assert_str_eq(u->name, "Bob@example.org");
        cr_assert_eq(store_user_lookup(txn, "bob@example.org", &u), COVE_STORE_NOTFOUND,
                     "the local part keeps its case");
        cr_assert_eq(store_mailbox_iter_init(txn, user, &iter), COVE_STORE_OK);
        size_t n = 0;
        while (store_mailbox_iter_next(iter, &mb) == COVE_STORE_OK) {
                cr_assert_lt(n, 6);
                cr_assert_str_eq(mb->name, want[n].name);
                cr_assert_eq(mb->special_use, want[n].special, "%s", mb->name);
                n++;
        }
        cr_assert_eq(n, 6);
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
}

Test(facade, mailbox_create_makes_parents_and_refuses_bad_names)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        struct store_txn *txn;
        uint32_t id;
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_create(txn, user, "a/b/c", 0, &id), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_create(txn, user, "a/b/c", 0, &id), COVE_STORE_EXISTS);
        cr_assert_eq(store_mailbox_create(txn, user, "a", 0, &id), COVE_STORE_EXISTS);
        cr_assert_eq(store_mailbox_create(txn, user, "inbox", 0, &id), COVE_STORE_EXISTS);
        cr_assert_eq(store_mailbox_create(txn, user, "a//b", 0, &id), COVE_STORE_NOPERM);
        cr_assert_eq(store_mailbox_create(txn, user, "x", 1u << 20, &id), COVE_STORE_NOPERM);
        cr_assert_eq(store_mailbox_create(txn, user, "inbox/Sub", 0, &id), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        cr_assert_neq(mailbox_id(user, "a"), 0);
        cr_assert_neq(mailbox_id(user, "a/b"), 0);
        cr_assert_neq(mailbox_id(user, "INBOX/Sub"), 0);
        cr_assert_eq(mailbox_id(user, "a/"), 0);
}

Test(facade, read_only_txn_refuses_writes)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        struct store_txn *txn;
        uint32_t id;
        cr_assert_eq(store_txn_begin(store, false, &txn), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_create(txn, user, "x", 0, &id), COVE_STORE_NOPERM);
        cr_assert_str_eq(store_last_error(store), "create mailbox: read-only transaction");
        store_txn_abort(&txn);
}

Test(facade, rename_and_delete_rules)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        struct store_txn *txn;
        uint32_t id;
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_create(txn, user, "a/x", 0, &id), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_create(txn, user, "b/x", 0, &id), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_delete(txn, user, "Inbox"), COVE_STORE_NOPERM);
        cr_assert_eq(store_mailbox_rename(txn, user, "a", "Sent"), COVE_STORE_EXISTS);
        cr_assert_eq(store_mailbox_rename(txn, user, "a", "a/x/y"), COVE_STORE_NOPERM);
        cr_assert_eq(store_mailbox_rename(txn, user, "a", "b"), COVE_STORE_EXISTS);
        cr_assert_eq(store_mailbox_rename(txn, user, "nosuch", "z"), COVE_STORE_NOTFOUND);
        /* b does not exist as such; a/x would land on the taken b/x. */
        cr_assert_eq(store_mailbox_delete(txn, user, "b"), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_rename(txn, user, "a", "b"), COVE_STORE_EXISTS);
        cr_assert_str_eq(store_last_error(store), "rename a to b: b/x already exists");
        cr_assert_eq(store_mailbox_rename(txn, user, "a", "new/deep/a"), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        cr_assert_neq(mailbox_id(user, "new/deep"), 0, "missing parents are created");
        cr_assert_neq(mailbox_id(user, "new/deep/a/x"), 0, "children move along");
        cr_assert_eq(mailbox_id(user, "a"), 0);
        cr_assert_neq(mailbox_id(user, "INBOX"), 0);
}

Test(facade, rename_inbox_moves_messages_and_keeps_inbox)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        uint32_t inbox = mailbox_id(user, "INBOX");
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        struct store_txn *txn;
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_mailbox_rename(txn, user, "inbox", "Old/Inbox"), COVE_STORE_OK,
                     "%s", store_last_error(store));
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        cr_assert_eq(mailbox_id(user, "INBOX"), inbox, "INBOX stays, same id");
        cr_assert_eq(mailbox_messages(inbox), 0);
        cr_assert_eq(mailbox_messages(mailbox_id(user, "Old/Inbox")), 2);
}

Test(facade, append_caches_structure_and_checks_input)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        uint32_t inbox = mailbox_id(user, "INBOX");
        struct store_txn *txn;
        struct cove_store_saved saved;
        const struct cove_store_msg *msg;
        struct cove_store_part parts[2] = {
                { .data = "Subject: x\r\n", .size = 12 },
                { .data = "\r\nbody\r\n", .size = 8 },
        };
        const char *bad_kw[] = { "bad keyword" };
        struct store_append a = { .parts = parts, .part_count = 2, .flags = COVE_FLAG_SEEN };
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_msg_append(txn, inbox, &a, &saved), COVE_STORE_OK);
        cr_assert_eq(store_msg_get(txn, inbox, saved.uid, &msg), COVE_STORE_OK);
        cr_assert_eq(msg->size, 20);
        cr_assert_gt(msg->structure_len, 0, "the MIME structure is cached at append");
        cr_assert_gt(msg->internal_date, 0, "internal date defaults to now");
        a.flags = 1u << 12;
        cr_assert_eq(store_msg_append(txn, inbox, &a, &saved), COVE_STORE_NOPERM);
        a.flags = 0;
        a.keywords = bad_kw;
        a.keyword_count = 1;
        cr_assert_eq(store_msg_append(txn, inbox, &a, &saved), COVE_STORE_NOPERM);
        a.keyword_count = 0;
        a.part_count = COVE_STORE_MAX_PARTS + 1;
        cr_assert_eq(store_msg_append(txn, inbox, &a, &saved), COVE_STORE_NOPERM);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        cr_assert_eq(mailbox_messages(inbox), 1);
}

Test(facade, quota_is_checked_at_append_and_copy)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        uint32_t inbox = mailbox_id(user, "INBOX");
        size_t len = strlen(test_msg);
        struct store_txn *txn;
        struct cove_store_saved saved;
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_set_quota(txn, user, 2 * len + 1, 0), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OVERQUOTA);
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_msg_copy(txn, inbox, 1, mailbox_id(user, "Trash"), &saved),
                     COVE_STORE_OVERQUOTA);
        cr_assert_eq(store_user_set_quota(txn, user, 0, 2), COVE_STORE_OK);
        cr_assert_eq(store_msg_copy(txn, inbox, 1, mailbox_id(user, "Trash"), &saved),
                     COVE_STORE_OVERQUOTA, "message-count quota");
        store_txn_abort(&txn);
        cr_assert_eq(store_deliver(store, "u@example.org", NULL,
                                   &(struct cove_store_part){ test_msg, len }, 1, NULL),
                     COVE_STORE_OVERQUOTA);
}

Test(facade, deliver_falls_back_to_inbox)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        struct cove_store_part part = { test_msg, strlen(test_msg) };
        struct cove_store_saved saved;
        cr_assert_eq(store_deliver(store, "u@EXAMPLE.org", "Sent", &part, 1, &saved),
                     COVE_STORE_OK);
        cr_assert_eq(saved.uid, 1);
        cr_assert_eq(store_deliver(store, "u@example.org", "No/Such", &part, 1, NULL),
                     COVE_STORE_OK);
        cr_assert_eq(store_deliver(store, "u@example.org", "bad//name", &part, 1, NULL),
                     COVE_STORE_OK);
        cr_assert_eq(store_deliver(store, "nobody@example.org", NULL, &part, 1, NULL),
                     COVE_STORE_NOTFOUND);
        cr_assert_eq(store_deliver(store, "not a user", NULL, &part, 1, NULL),
                     COVE_STORE_NOTFOUND);
        cr_assert_eq(mailbox_messages(mailbox_id(user, "Sent")), 1);
        cr_assert_eq(mailbox_messages(mailbox_id(user, "INBOX")), 2);
}

/* A delivery that fills the LMDB map must not be deferred: the engine grows
   the map once the failed txn ends and store_deliver retries. Random bytes
   defeat compression, so each message really needs its 3 MB. */
Test(facade, deliver_survives_a_full_map)
{
        open_ok("lmdb", "map_size=1M", "compress_threshold=0", NULL);
        add_user("u@example.org");
        size_t size = 3 * 1024 * 1024;
        unsigned char *data = pool_alloc(pool, size);
        uint32_t seed = 12345;
        for (int round = 0; round < 4; round++) {
                for (size_t i = 0; i < size; i++) {
                        seed = seed * 1103515245u + 12345u;
                        data[i] = (unsigned char)(seed >> 16);
                }
                struct cove_store_part part = { data, size };
                cr_assert_eq(store_deliver(store, "u@example.org", NULL, &part, 1, NULL),
                             COVE_STORE_OK, "round %d: %s", round, store_last_error(store));
        }
}

Test(facade, expunge_guard_against_maildrop_lock)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        uint32_t inbox = mailbox_id(user, "INBOX"), trash = mailbox_id(user, "Trash");
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        cr_assert_eq(append(trash, test_msg), COVE_STORE_OK);
        struct store_lock *pop, *again;
        struct store_txn *txn;
        struct cove_store_saved saved;
        cr_assert_eq(store_maildrop_lock(store, user, &pop), COVE_STORE_OK);
        cr_assert_eq(store_maildrop_lock(store, user, &again), COVE_STORE_INUSE);
        cr_assert_null(again);

        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_msg_expunge(txn, inbox, 1), COVE_STORE_INUSE);
        cr_assert_eq(store_msg_move(txn, inbox, 1, trash, &saved), COVE_STORE_INUSE);
        cr_assert_eq(store_mailbox_rename(txn, user, "INBOX", "Old"), COVE_STORE_INUSE);
        cr_assert_eq(store_msg_expunge(txn, trash, 1), COVE_STORE_OK, "only INBOX is guarded");
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);

        /* The lock holder's own txn (POP3 QUIT) may expunge. */
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        store_txn_hold_maildrop(txn, pop);
        cr_assert_eq(store_msg_expunge(txn, inbox, 1), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        store_lock_release(&pop);
        cr_assert_null(pop);

        /* A txn holding the guard keeps POP3 out until it ends. */
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_msg_expunge(txn, inbox, 2), COVE_STORE_OK);
        cr_assert_eq(store_maildrop_lock(store, user, &pop), COVE_STORE_INUSE);
        store_txn_abort(&txn);
        cr_assert_eq(store_maildrop_lock(store, user, &pop), COVE_STORE_OK);
        store_lock_release(&pop);
}

Test(facade, commit_publishes_to_watchers)
{
        open_ok("lmdb", NULL);
        uint32_t user = add_user("u@example.org");
        uint32_t other = add_user("v@example.org");
        struct store_watch *watch;
        cr_assert_eq(store_watch_start(store, user, &watch), COVE_STORE_OK);
        int fd = store_watch_fd(watch);
        cr_assert(!readable(fd, 0));
        cr_assert_eq(append(mailbox_id(other, "INBOX"), test_msg), COVE_STORE_OK);
        cr_assert(!readable(fd, 0), "another user's change");
        cr_assert_eq(append(mailbox_id(user, "INBOX"), test_msg), COVE_STORE_OK);
        cr_assert(readable(fd, 20000));
        store_watch_drain(watch);
        cr_assert(!readable(fd, 0));

        struct store_txn *txn;
        uint64_t modseq;
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_msg_update_flags(txn, mailbox_id(user, "INBOX"), 1,
                                            COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN, NULL, 0,
                                            &modseq), COVE_STORE_OK);
        cr_assert(!readable(fd, 0), "nothing is published before commit");
        store_txn_abort(&txn);
        cr_assert(!readable(fd, 0), "nor after abort");
        store_watch_stop(&watch);
        cr_assert_null(watch);
}

/* ---- error paths through the fault engine ---- */

Test(facade, fault_option_errors_name_their_line)
{
        const char *error = NULL;
        const char *bogus[] = { "fault_bogus=1" }, *bad[] = { "fault_commit_fail=x" };
        cr_assert_eq(open_store("fault", bogus, 1, &error), -1);
        cr_assert_str_eq(error, "cove.conf:7: [store] fault_bogus: unknown fault option");
        cr_assert_eq(open_store("fault", bad, 1, &error), -1);
        cr_assert_str_eq(error, "cove.conf:7: [store] fault_commit_fail: invalid value 'x'");
}

Test(facade, engine_option_errors_name_their_line)
{
        const char *error = NULL;
        const char *bad[] = { "map_size=lots" };
        cr_assert_eq(open_store("lmdb", bad, 1, &error), -1);
        cr_assert(strncmp(error, "cove.conf:6: [store] map_size: ", 31) == 0, "%s", error);
        cr_assert_null(store);
}

Test(facade, write_failure_leaves_nothing_behind)
{
        /* user_create is write #1, the default mailboxes #2..#7. */
        open_ok("fault", "fault_write_fail=4", NULL);
        struct store_txn *txn;
        const struct cove_store_user *u;
        uint32_t id;
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_create(txn, "u@example.org", NULL, NULL, &id), COVE_STORE_TEMP);
        cr_assert_str_eq(store_last_error(store), "create user u@example.org: mailbox Sent: "
                         "temporary failure: injected failure of write #4 (mailbox_create)");
        store_txn_abort(&txn);
        cr_assert_null(txn);
        cr_assert_eq(store_txn_begin(store, false, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_lookup(txn, "u@example.org", &u), COVE_STORE_NOTFOUND);
        store_txn_abort(&txn);
        add_user("u@example.org");
}

Test(facade, write_error_kind_is_configurable)
{
        open_ok("fault", "fault_write_fail=8", "fault_write_error=internal", NULL);
        uint32_t user = add_user("u@example.org");
        cr_assert_eq(append(mailbox_id(user, "INBOX"), test_msg), COVE_STORE_INTERNAL);
        cr_assert_eq(append(mailbox_id(user, "INBOX"), test_msg), COVE_STORE_OK);
        cr_assert_eq(mailbox_messages(mailbox_id(user, "INBOX")), 1);
}

Test(facade, failed_commit_publishes_nothing)
{
        open_ok("fault", "fault_commit_fail=2", NULL);
        uint32_t user = add_user("u@example.org");
        uint32_t inbox = mailbox_id(user, "INBOX");
        struct store_watch *watch;
        cr_assert_eq(store_watch_start(store, user, &watch), COVE_STORE_OK);
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_TEMP);
        cr_assert_str_eq(store_last_error(store),
                         "commit: temporary failure: injected failure of commit #2");
        cr_assert(!readable(store_watch_fd(watch), 0));
        cr_assert_eq(mailbox_messages(inbox), 0);
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        cr_assert(readable(store_watch_fd(watch), 20000));
        store_watch_stop(&watch);
}

/* A failed commit (TEMP: nothing stored) is retried by store_deliver; the
   retry stores exactly one copy. */
Test(facade, deliver_retries_a_failed_commit_once_stored)
{
        open_ok("fault", "fault_commit_fail=2", NULL);
        uint32_t user = add_user("u@example.org");
        struct cove_store_part part = { test_msg, strlen(test_msg) };
        cr_assert_eq(store_deliver(store, "u@example.org", NULL, &part, 1, NULL),
                     COVE_STORE_OK);
        cr_assert_eq(mailbox_messages(mailbox_id(user, "INBOX")), 1);
}

Test(facade, engine_lock_refusal)
{
        open_ok("fault", "fault_lock=inuse", NULL);
        uint32_t user = add_user("u@example.org");
        uint32_t inbox = mailbox_id(user, "INBOX");
        struct store_lock *lock;
        struct store_txn *txn;
        cr_assert_eq(append(inbox, test_msg), COVE_STORE_OK);
        cr_assert_eq(store_maildrop_lock(store, user, &lock), COVE_STORE_INUSE);
        cr_assert_null(lock);
        cr_assert_str_eq(store_last_error(store), "maildrop lock: in use by another session: "
                         "injected lock refusal for user 1");
        cr_assert_eq(store_txn_begin(store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_msg_expunge(txn, inbox, 1), COVE_STORE_INUSE);
        cr_assert_eq(store_user_delete(txn, user), COVE_STORE_INUSE);
        store_txn_abort(&txn);
        cr_assert_eq(mailbox_messages(inbox), 1);
}

Test(facade, engine_locks_are_used_when_present)
{
        open_ok("fault", NULL);
        uint32_t user = add_user("u@example.org");
        struct store_lock *a, *b;
        cr_assert_eq(store_maildrop_lock(store, user, &a), COVE_STORE_OK);
        cr_assert_eq(store_maildrop_lock(store, user, &b), COVE_STORE_INUSE);
        store_lock_release(&a);
        cr_assert_eq(store_maildrop_lock(store, user, &b), COVE_STORE_OK);
        store_lock_release(&b);
}

Test(facade, stats_count_without_engine_stats)
{
        open_ok("lmdb", NULL);
        add_user("u@example.org");
        add_user("v@example.org");
        struct cove_store_stats st;
        cr_assert_eq(store_stats(store, &st), COVE_STORE_OK);
        cr_assert_eq(st.users, 2);
}

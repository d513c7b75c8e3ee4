/* Engine tests: versioned user and mailbox records. Records written before
 * apop_secret and recent_uid existed (version 1, forged here with raw LMDB)
 * still decode, with "" and 1; their next write is version 2. An unknown
 * version is CORRUPT, never a crash.
 */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "lmdb-test.h"

static struct cove_store *store;
static void setup(void) { lt_setup(); store = lt_create(NULL); }
static void teardown(void) { if (store != NULL) ops->close(&store); lt_teardown(); }

TestSuite(lmdb_records, .init = setup, .fini = teardown);

/* Replaces record `id` of `db` by its first version byte `version` and its
   bytes minus the last `drop`. Returns the old version byte. */
static uint8_t forge_record(const char *db, uint32_t id, uint8_t version, size_t drop)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        uint8_t key[4] = { (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
                           (uint8_t)id };
        MDB_val k = { sizeof(key), key }, v;

        cr_assert_eq(mdb_env_create(&env), 0);
        mdb_env_set_maxdbs(env, 32);
        cr_assert_eq(mdb_env_open(env, lt_dir, 0, 0600), 0);
        cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
        cr_assert_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
        cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
        cr_assert_gt(v.mv_size, drop);
        uint8_t *copy = malloc(v.mv_size);
        memcpy(copy, v.mv_data, v.mv_size);
        uint8_t old = copy[0];
        copy[0] = version;
        MDB_val nv = { v.mv_size - drop, copy };
        cr_assert_eq(mdb_put(txn, dbi, &k, &nv, 0), 0);
        cr_assert_eq(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
        free(copy);
        return old;
}

Test(lmdb_records, version1_records_decode_with_defaults)
{
        uint32_t user = lt_user(store, "old@example.org");
        uint32_t box = lt_mailbox(store, user, "INBOX");
        lt_append(store, box, "m\r\n", 3);
        ops->close(&store);

        /* V1 user: no trailing apop_secret (an empty one is 4 length bytes). */
        cr_assert_eq(forge_record("users", user, 1, 4), 2, "new records are version 2");
        cr_assert_eq(forge_record("mailboxes", box, 1, 4), 2);
        store = lt_reopen();
        struct cove_store_txn *txn = lt_begin(store, true);
        const struct cove_store_user *u;
        const struct cove_store_mailbox *mb;
        cr_assert_eq(ops->user_get(txn, user, &u), COVE_STORE_OK, "%s", ops->last_error(store));
        cr_assert_str_eq(u->name, "old@example.org");
        cr_assert_str_eq(u->apop_secret, "");
        cr_assert_eq(u->used_messages, 1);
        cr_assert_eq(ops->mailbox_get(txn, box, &mb), COVE_STORE_OK, "%s",
                     ops->last_error(store));
        cr_assert_str_eq(mb->name, "INBOX");
        cr_assert_eq(mb->recent_uid, 1u);
        cr_assert_eq(mb->uidnext, 2u);
        cr_assert_eq(mb->messages, 1u);

        /* Writing upgrades them. */
        struct cove_store_user v = { .apop_secret = "pw" };
        uint32_t old = 0;
        cr_assert_eq(ops->user_update(txn, user, COVE_USER_SET_APOP, &v), COVE_STORE_OK);
        cr_assert_eq(ops->mailbox_advance_recent(txn, box, 2, &old), COVE_STORE_OK);
        cr_assert_eq(old, 1u);
        lt_commit(&txn);
        ops->close(&store);
        cr_assert_eq(forge_record("users", user, 2, 0), 2);
        cr_assert_eq(forge_record("mailboxes", box, 2, 0), 2);
        store = lt_reopen();
        txn = lt_begin(store, false);
        cr_assert_eq(ops->user_get(txn, user, &u), COVE_STORE_OK);
        cr_assert_str_eq(u->apop_secret, "pw");
        cr_assert_eq(ops->mailbox_get(txn, box, &mb), COVE_STORE_OK);
        cr_assert_eq(mb->recent_uid, 2u);
        ops->txn_abort(&txn);
}

Test(lmdb_records, unknown_versions_are_corrupt)
{
        uint32_t user = lt_user(store, "new@example.org");
        uint32_t box = lt_mailbox(store, user, "INBOX");
        ops->close(&store);
        forge_record("users", user, 3, 0);
        forge_record("mailboxes", box, 0, 0);
        store = lt_reopen();
        struct cove_store_txn *txn = lt_begin(store, false);
        const struct cove_store_user *u;
        const struct cove_store_mailbox *mb;
        cr_assert_eq(ops->user_get(txn, user, &u), COVE_STORE_CORRUPT);
        cr_assert_eq(ops->mailbox_get(txn, box, &mb), COVE_STORE_CORRUPT);
        ops->txn_abort(&txn);
}

Test(lmdb_records, advance_recent_rules)
{
        uint32_t user = lt_user(store, "adv@example.org");
        uint32_t box = lt_mailbox(store, user, "INBOX");
        lt_append(store, box, "a\r\n", 3);
        lt_append(store, box, "b\r\n", 3);
        struct cove_store_txn *txn = lt_begin(store, true);
        const struct cove_store_mailbox *mb;
        uint32_t old = 0;
        cr_assert_eq(ops->mailbox_advance_recent(txn, box, 99, &old), COVE_STORE_OK);
        cr_assert_eq(old, 1u);
        cr_assert_eq(ops->mailbox_get(txn, box, &mb), COVE_STORE_OK);
        cr_assert_eq(mb->recent_uid, 3u, "clamped to uidnext");
        cr_assert_eq(ops->mailbox_advance_recent(txn, box, 1, NULL), COVE_STORE_OK);
        cr_assert_eq(ops->mailbox_get(txn, box, &mb), COVE_STORE_OK);
        cr_assert_eq(mb->recent_uid, 3u, "never lowered");
        cr_assert_eq(ops->mailbox_advance_recent(txn, box + 50, 1, NULL), COVE_STORE_NOTFOUND);
        lt_commit(&txn);
        txn = lt_begin(store, false);
        cr_assert_neq(ops->mailbox_advance_recent(txn, box, 3, NULL), COVE_STORE_OK,
                      "needs a write txn");
        ops->txn_abort(&txn);
}

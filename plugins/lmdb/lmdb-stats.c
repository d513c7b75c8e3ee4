/* lmdb-stats.c - store-wide figures for `covectl stats`.
 *
 * Owns: counting users, mailboxes and messages (LMDB entry counts), the sum
 * of message sizes (over mailbox records), the stored body bytes (the meta
 * counter kept by lmdb-blobs.c) and the data file size. Read-only.
 */
#include "lmdb-private.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static enum cove_store_err count_entries(struct cove_store_txn *txn, enum lmdb_db db,
                                         uint64_t *count_r)
{
        MDB_stat st;
        int rc = mdb_stat(txn->txn, txn->store->dbi[db], &st);

        if (rc != 0)
                return lmdb_txn_error(txn, rc, "stat");
        *count_r = st.ms_entries;
        return COVE_STORE_OK;
}

static enum cove_store_err sum_mailbox_bytes(struct cove_store_txn *txn, uint64_t *sum_r)
{
        MDB_cursor *cur;
        MDB_val k, v;
        enum cove_store_err err = COVE_STORE_OK;
        int rc = mdb_cursor_open(txn->txn, txn->store->dbi[LMDB_DB_MAILBOXES], &cur);

        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        *sum_r = 0;
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        while (rc == 0 && err == COVE_STORE_OK) {
                struct cove_store_mailbox box;
                if (k.mv_size != 4) {
                        err = lmdb_error(txn->store, COVE_STORE_CORRUPT, "bad mailbox key");
                        break;
                }
                lmdb_arena_reset(&txn->arena);
                err = lmdb_mailbox_read(txn, lmdb_get_be32(k.mv_data), &txn->arena, &box);
                *sum_r += box.bytes;
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(cur);
        if (err == COVE_STORE_OK && rc != MDB_NOTFOUND)
                err = lmdb_txn_error(txn, rc, "cursor");
        return err;
}

enum cove_store_err lmdb_stats(struct cove_store *store, struct cove_store_stats *stats_r)
{
        struct cove_store_txn *txn;
        struct cove_store_stats s = { 0 };
        enum cove_store_err err = lmdb_txn_begin(store, COVE_STORE_TXN_READ, &txn);

        if (err != COVE_STORE_OK)
                return err;
        err = count_entries(txn, LMDB_DB_USERS, &s.users);
        if (err == COVE_STORE_OK)
                err = count_entries(txn, LMDB_DB_MAILBOXES, &s.mailboxes);
        if (err == COVE_STORE_OK)
                err = count_entries(txn, LMDB_DB_MESSAGES, &s.messages);
        if (err == COVE_STORE_OK)
                err = sum_mailbox_bytes(txn, &s.bytes_received);
        if (err == COVE_STORE_OK)
                err = lmdb_meta_get(txn, LMDB_META_BYTES_STORED, &s.bytes_stored);
        lmdb_txn_abort(&txn);
        if (err != COVE_STORE_OK)
                return err;
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof(path), "%s/data.mdb", store->opts.path) < (int)sizeof(path) &&
            stat(path, &st) == 0)
                s.file_bytes = (uint64_t)st.st_size;
        *stats_r = s;
        return COVE_STORE_OK;
}

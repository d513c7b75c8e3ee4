/* lmdb-db.c - thin wrappers over LMDB calls for the engine's operations.
 *
 * Owns: mapping LMDB and errno codes to enum cove_store_err with a one-line
 * detail, marking a write txn failed when LMDB poisons it, prefix deletes and
 * the u64 counters of the meta database. Knows no record layouts.
 */
#include "lmdb-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum cove_store_err lmdb_error(struct cove_store *store, enum cove_store_err err,
                               const char *fmt, ...)
{
        va_list args;

        va_start(args, fmt);
        vsnprintf(store->error, sizeof(store->error), fmt, args);
        va_end(args);
        return err;
}

static enum cove_store_err map_rc(int rc)
{
        switch (rc) {
        case MDB_NOTFOUND:
                return COVE_STORE_NOTFOUND;
        case MDB_KEYEXIST:
                return COVE_STORE_EXISTS;
        case MDB_MAP_FULL:
        case MDB_TXN_FULL:
        case MDB_READERS_FULL:
        case MDB_MAP_RESIZED:
        case ENOSPC:
        case EAGAIN:
        case EBUSY:
        case ENOMEM:
                return COVE_STORE_TEMP;
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH:
                return COVE_STORE_CORRUPT;
        default:
                return COVE_STORE_INTERNAL;
        }
}

enum cove_store_err lmdb_txn_error(struct cove_store_txn *txn, int rc, const char *what)
{
        enum cove_store_err err = map_rc(rc);

        lmdb_error(txn->store, err, "lmdb: %s: %s", what, mdb_strerror(rc));
        if (txn->write && rc != MDB_NOTFOUND && rc != MDB_KEYEXIST) {
                txn->failed = true;
                txn->fail_err = err;
                if (rc == MDB_MAP_FULL)
                        txn->map_full = true;
        }
        return err;
}

enum cove_store_err lmdb_txn_fail(struct cove_store_txn *txn, enum cove_store_err err)
{
        if (err != COVE_STORE_OK && txn->write && !txn->failed) {
                txn->failed = true;
                txn->fail_err = err;
        }
        return err;
}

enum cove_store_err lmdb_txn_call(struct cove_store_txn *txn, bool writes)
{
        lmdb_arena_reset(&txn->arena);
        if (txn->failed)
                return lmdb_error(txn->store, txn->fail_err,
                                  "transaction already failed; abort it (%s)",
                                  cove_store_strerror(txn->fail_err));
        if (writes && !txn->write)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL,
                                  "change requested in a read transaction");
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_get(struct cove_store_txn *txn, enum lmdb_db db,
                             const void *key, size_t key_len, MDB_val *val_r)
{
        MDB_val k = { .mv_size = key_len, .mv_data = (void *)key };
        int rc = mdb_get(txn->txn, txn->store->dbi[db], &k, val_r);

        if (rc == MDB_NOTFOUND)
                return COVE_STORE_NOTFOUND;
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "get");
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_put(struct cove_store_txn *txn, enum lmdb_db db,
                             const void *key, size_t key_len,
                             const void *val, size_t val_len, unsigned flags)
{
        MDB_val k = { .mv_size = key_len, .mv_data = (void *)key };
        MDB_val v = { .mv_size = val_len, .mv_data = (void *)val };
        int rc = mdb_put(txn->txn, txn->store->dbi[db], &k, &v, flags);

        if (rc == MDB_KEYEXIST && (flags & MDB_NOOVERWRITE) != 0)
                return COVE_STORE_EXISTS;
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "put");
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_del(struct cove_store_txn *txn, enum lmdb_db db,
                             const void *key, size_t key_len)
{
        MDB_val k = { .mv_size = key_len, .mv_data = (void *)key };
        int rc = mdb_del(txn->txn, txn->store->dbi[db], &k, NULL);

        if (rc == MDB_NOTFOUND)
                return COVE_STORE_NOTFOUND;
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "del");
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_del_prefix(struct cove_store_txn *txn, enum lmdb_db db,
                                    const void *prefix, size_t prefix_len)
{
        MDB_cursor *cur;
        MDB_val k = { .mv_size = prefix_len, .mv_data = (void *)prefix }, v;
        int rc = mdb_cursor_open(txn->txn, txn->store->dbi[db], &cur);

        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && k.mv_size >= prefix_len &&
               memcmp(k.mv_data, prefix, prefix_len) == 0) {
                rc = mdb_cursor_del(cur, 0);
                if (rc == 0)
                        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
                return lmdb_txn_error(txn, rc, "delete range");
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_meta_get(struct cove_store_txn *txn, const char *name,
                                  uint64_t *value_r)
{
        MDB_val v;
        enum cove_store_err err = lmdb_get(txn, LMDB_DB_META, name, strlen(name), &v);

        *value_r = 0;
        if (err == COVE_STORE_NOTFOUND)
                return COVE_STORE_OK;
        if (err != COVE_STORE_OK)
                return err;
        if (v.mv_size != 8)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "meta record '%s' has a bad size", name);
        *value_r = lmdb_get_be64(v.mv_data);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_meta_set(struct cove_store_txn *txn, const char *name,
                                  uint64_t value)
{
        uint8_t b[8];

        lmdb_be64(b, value);
        return lmdb_put(txn, LMDB_DB_META, name, strlen(name), b, sizeof(b), 0);
}

enum cove_store_err lmdb_meta_next(struct cove_store_txn *txn, const char *name,
                                   uint64_t *value_r)
{
        uint64_t v;
        enum cove_store_err err = lmdb_meta_get(txn, name, &v);

        if (err != COVE_STORE_OK)
                return err;
        *value_r = v + 1;
        return lmdb_meta_set(txn, name, v + 1);
}

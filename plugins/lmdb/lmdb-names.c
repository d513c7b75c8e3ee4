/* lmdb-names.c - name indexes: (owner id, name) -> id, in byte order of name.
 *
 * Owns: the bucket layout that lets names of up to COVE_STORE_MAX_NAME bytes
 * live under LMDB's 511-byte key limit. The key is be32 owner followed by the
 * first LMDB_NAME_KEY_MAX bytes of the name; the value is a list of entries
 * {be32 id, be16 length, name} sorted by full name, so names that share a
 * long prefix share a bucket and iteration stays in byte order. Does not
 * validate names (the host facade does).
 */
#include "lmdb-private.h"

#include <string.h>

struct name_entry {
        uint32_t id;
        const uint8_t *name;
        size_t len;
};

static size_t name_key(uint8_t *key, uint32_t owner, const char *name, size_t len)
{
        size_t n = len < LMDB_NAME_KEY_MAX ? len : LMDB_NAME_KEY_MAX;

        lmdb_be32(key, owner);
        /* UNSAFE: n <= LMDB_NAME_KEY_MAX and every key buffer has 4 + that. */
        memcpy(key + 4, name, n);
        return 4 + n;
}

static int name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
        int c = memcmp(a, b, alen < blen ? alen : blen);

        if (c != 0)
                return c;
        return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Reads the next entry of a bucket; false at the end or on bad data. */
static bool entry_next(struct lmdb_rbuf *r, struct name_entry *e)
{
        if (r->left == 0)
                return false;
        e->id = lmdb_rbuf_u32(r);
        e->len = lmdb_rbuf_u16(r);
        e->name = lmdb_rbuf_bytes(r, e->len);
        return !r->bad && e->name != NULL;
}

/* Names are validated by the host; a NULL one is a caller bug, not a crash. */
static enum cove_store_err no_name(struct cove_store_txn *txn)
{
        return lmdb_error(txn->store, COVE_STORE_INTERNAL, "name missing");
}

static enum cove_store_err bucket_corrupt(struct cove_store_txn *txn)
{
        return lmdb_error(txn->store, COVE_STORE_CORRUPT, "name index bucket is malformed");
}

enum cove_store_err lmdb_name_get(struct cove_store_txn *txn, enum lmdb_db db,
                                  uint32_t owner, const char *name, uint32_t *id_r)
{
        uint8_t key[4 + LMDB_NAME_KEY_MAX];
        MDB_val v;

        if (name == NULL)
                return no_name(txn);
        size_t len = strlen(name);
        enum cove_store_err err = lmdb_get(txn, db, key, name_key(key, owner, name, len), &v);
        if (err != COVE_STORE_OK)
                return err;
        struct lmdb_rbuf r = { .p = v.mv_data, .left = v.mv_size };
        struct name_entry e;
        while (entry_next(&r, &e)) {
                if (name_cmp(e.name, e.len, (const uint8_t *)name, len) == 0) {
                        *id_r = e.id;
                        return COVE_STORE_OK;
                }
        }
        return r.bad ? bucket_corrupt(txn) : COVE_STORE_NOTFOUND;
}

static void entry_write(struct lmdb_wbuf *w, uint32_t id, const void *name, size_t len)
{
        lmdb_wbuf_u32(w, id);
        lmdb_wbuf_u16(w, (uint16_t)len);
        lmdb_wbuf_bytes(w, name, len);
}

/* Rewrites the bucket with `name` inserted (id given) or removed. */
static enum cove_store_err bucket_edit(struct cove_store_txn *txn, enum lmdb_db db,
                                       uint32_t owner, const char *name, bool insert,
                                       uint32_t id)
{
        uint8_t key[4 + LMDB_NAME_KEY_MAX];
        size_t len = strlen(name), key_len = name_key(key, owner, name, len);
        struct lmdb_wbuf w = { 0 };
        MDB_val v = { .mv_size = 0, .mv_data = NULL };
        bool found = false, placed = !insert;
        enum cove_store_err err = lmdb_get(txn, db, key, key_len, &v);

        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return err;
        struct lmdb_rbuf r = { .p = v.mv_data, .left = err == COVE_STORE_OK ? v.mv_size : 0 };
        struct name_entry e;
        while (entry_next(&r, &e)) {
                int c = name_cmp(e.name, e.len, (const uint8_t *)name, len);
                if (c == 0) {
                        found = true;
                        continue;
                }
                if (c > 0 && !placed) {
                        entry_write(&w, id, name, len);
                        placed = true;
                }
                entry_write(&w, e.id, e.name, e.len);
        }
        if (r.bad)
                err = bucket_corrupt(txn);
        else if (insert && found)
                err = COVE_STORE_EXISTS;
        else if (!insert && !found)
                err = COVE_STORE_NOTFOUND;
        else {
                if (!placed)
                        entry_write(&w, id, name, len);
                err = w.len == 0 ? lmdb_del(txn, db, key, key_len)
                                 : lmdb_put(txn, db, key, key_len, w.data, w.len, 0);
        }
        lmdb_wbuf_free(&w);
        return err;
}

enum cove_store_err lmdb_name_put(struct cove_store_txn *txn, enum lmdb_db db,
                                  uint32_t owner, const char *name, uint32_t id)
{
        if (name == NULL)
                return no_name(txn);
        if (strlen(name) > UINT16_MAX)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL, "name too long");
        return bucket_edit(txn, db, owner, name, true, id);
}

enum cove_store_err lmdb_name_del(struct cove_store_txn *txn, enum lmdb_db db,
                                  uint32_t owner, const char *name)
{
        if (name == NULL)
                return no_name(txn);
        return bucket_edit(txn, db, owner, name, false, 0);
}

/* Looks for the first entry after `after` in the bucket at `v`. */
static int bucket_find_after(const MDB_val *v, const char *after, struct name_entry *out)
{
        struct lmdb_rbuf r = { .p = v->mv_data, .left = v->mv_size };
        size_t alen = after != NULL ? strlen(after) : 0;

        while (entry_next(&r, out)) {
                if (after == NULL ||
                    name_cmp(out->name, out->len, (const uint8_t *)after, alen) > 0)
                        return 1;
        }
        return r.bad ? -1 : 0;
}

enum cove_store_err lmdb_name_next(struct cove_store_txn *txn, enum lmdb_db db,
                                   uint32_t owner, const char *after,
                                   struct lmdb_arena *arena,
                                   const char **name_r, uint32_t *id_r)
{
        uint8_t key[4 + LMDB_NAME_KEY_MAX];
        MDB_cursor *cur;
        MDB_val k, v;
        struct name_entry e;
        int found = 0;

        k.mv_data = key;
        k.mv_size = name_key(key, owner, after != NULL ? after : "",
                             after != NULL ? strlen(after) : 0);
        int rc = mdb_cursor_open(txn->txn, txn->store->dbi[db], &cur);
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && k.mv_size >= 4 && lmdb_get_be32(k.mv_data) == owner) {
                found = bucket_find_after(&v, after, &e);
                if (found != 0)
                        break;
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        if (found == 1) {
                *name_r = lmdb_arena_strndup(arena, e.name, e.len);
                *id_r = e.id;
        }
        mdb_cursor_close(cur);
        if (found < 0)
                return bucket_corrupt(txn);
        if (rc != 0 && rc != MDB_NOTFOUND)
                return lmdb_txn_error(txn, rc, "cursor");
        return found == 1 ? COVE_STORE_OK : COVE_STORE_NOTFOUND;
}

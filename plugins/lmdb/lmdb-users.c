/* lmdb-users.c - user records and the user name index.
 *
 * Owns: the user record layout, create/lookup/get/update/delete and usage
 * accounting. Deleting a user removes its mailboxes (through
 * lmdb-mailboxes.c) and subscriptions. Does not hash passwords or check
 * quotas (the host does).
 */
#include "lmdb-private.h"

#include <string.h>

static void user_key(uint8_t key[4], uint32_t user_id)
{
        lmdb_be32(key, user_id);
}

static const char *str_or_empty(const char *s)
{
        return s != NULL ? s : "";
}

enum cove_store_err lmdb_user_read(struct cove_store_txn *txn, uint32_t user_id,
                                   struct lmdb_arena *arena, struct cove_store_user *user_r)
{
        uint8_t key[4];
        MDB_val v;

        user_key(key, user_id);
        enum cove_store_err err = lmdb_get(txn, LMDB_DB_USERS, key, sizeof(key), &v);
        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, err, "no user with id %u", user_id);
        if (err != COVE_STORE_OK)
                return err;
        struct lmdb_rbuf r = { .p = v.mv_data, .left = v.mv_size };
        uint8_t version = lmdb_rbuf_u8(&r);
        *user_r = (struct cove_store_user){ .id = lmdb_rbuf_u32(&r) };
        user_r->name = lmdb_rbuf_lstr(&r, arena, NULL);
        user_r->password_hash = lmdb_rbuf_lstr(&r, arena, NULL);
        user_r->scram_secret = lmdb_rbuf_lstr(&r, arena, NULL);
        user_r->quota_bytes = lmdb_rbuf_u64(&r);
        user_r->quota_messages = lmdb_rbuf_u64(&r);
        user_r->used_bytes = lmdb_rbuf_u64(&r);
        user_r->used_messages = lmdb_rbuf_u64(&r);
        user_r->apop_secret = version >= LMDB_RECORD_V2 ? lmdb_rbuf_lstr(&r, arena, NULL) : "";
        if (r.bad || version < LMDB_RECORD_V1 || version > LMDB_RECORD_V2 ||
            user_r->id != user_id)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "user record %u is malformed", user_id);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_user_write(struct cove_store_txn *txn,
                                    const struct cove_store_user *user)
{
        struct lmdb_wbuf w = { 0 };
        uint8_t key[4];
        const char *name = str_or_empty(user->name);
        const char *hash = str_or_empty(user->password_hash);
        const char *scram = str_or_empty(user->scram_secret);
        const char *apop = str_or_empty(user->apop_secret);

        lmdb_wbuf_u8(&w, LMDB_RECORD_V2);
        lmdb_wbuf_u32(&w, user->id);
        lmdb_wbuf_lstr(&w, name, strlen(name));
        lmdb_wbuf_lstr(&w, hash, strlen(hash));
        lmdb_wbuf_lstr(&w, scram, strlen(scram));
        lmdb_wbuf_u64(&w, user->quota_bytes);
        lmdb_wbuf_u64(&w, user->quota_messages);
        lmdb_wbuf_u64(&w, user->used_bytes);
        lmdb_wbuf_u64(&w, user->used_messages);
        lmdb_wbuf_lstr(&w, apop, strlen(apop));
        user_key(key, user->id);
        enum cove_store_err err = lmdb_put(txn, LMDB_DB_USERS, key, sizeof(key),
                                           w.data, w.len, 0);
        lmdb_wbuf_free(&w);
        return err;
}

static uint64_t add_clamped(uint64_t v, int64_t delta)
{
        if (delta < 0 && (uint64_t)-delta > v)
                return 0;
        return v + (uint64_t)delta;
}

enum cove_store_err lmdb_user_add_usage(struct cove_store_txn *txn, uint32_t user_id,
                                        int64_t bytes, int64_t messages)
{
        struct lmdb_arena arena = { 0 };
        struct cove_store_user user;
        enum cove_store_err err = lmdb_user_read(txn, user_id, &arena, &user);

        if (err == COVE_STORE_OK) {
                user.used_bytes = add_clamped(user.used_bytes, bytes);
                user.used_messages = add_clamped(user.used_messages, messages);
                err = lmdb_user_write(txn, &user);
        }
        lmdb_arena_free(&arena);
        return err;
}

enum cove_store_err lmdb_user_create(struct cove_store_txn *txn,
                                     const struct cove_store_user *user, uint32_t *user_id_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        uint32_t existing;
        uint64_t id;

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_name_get(txn, LMDB_DB_USER_NAMES, 0, user->name, &existing);
        if (err == COVE_STORE_OK)
                return lmdb_error(txn->store, COVE_STORE_EXISTS, "user already exists");
        if (err != COVE_STORE_NOTFOUND)
                return err;
        err = lmdb_meta_next(txn, LMDB_META_NEXT_USER, &id);
        if (err == COVE_STORE_OK && id > UINT32_MAX)
                err = lmdb_error(txn->store, COVE_STORE_INTERNAL, "user ids exhausted");
        struct cove_store_user rec = *user;
        rec.id = (uint32_t)id;
        rec.used_bytes = 0;
        rec.used_messages = 0;
        if (err == COVE_STORE_OK)
                err = lmdb_name_put(txn, LMDB_DB_USER_NAMES, 0, user->name, rec.id);
        if (err == COVE_STORE_OK)
                err = lmdb_user_write(txn, &rec);
        if (err != COVE_STORE_OK)
                return lmdb_txn_fail(txn, err);
        *user_id_r = rec.id;
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_user_get(struct cove_store_txn *txn, uint32_t user_id,
                                  const struct cove_store_user **user_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, false);

        if (err != COVE_STORE_OK)
                return err;
        struct cove_store_user *user = lmdb_arena_alloc(&txn->arena, sizeof(*user));
        err = lmdb_user_read(txn, user_id, &txn->arena, user);
        if (err == COVE_STORE_OK)
                *user_r = user;
        return err;
}

enum cove_store_err lmdb_user_lookup(struct cove_store_txn *txn, const char *name,
                                     const struct cove_store_user **user_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, false);
        uint32_t id;

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_name_get(txn, LMDB_DB_USER_NAMES, 0, name, &id);
        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, err, "no such user");
        if (err != COVE_STORE_OK)
                return err;
        struct cove_store_user *user = lmdb_arena_alloc(&txn->arena, sizeof(*user));
        err = lmdb_user_read(txn, id, &txn->arena, user);
        if (err == COVE_STORE_NOTFOUND)
                err = lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                 "user name index points at missing user %u", id);
        if (err == COVE_STORE_OK)
                *user_r = user;
        return err;
}

enum cove_store_err lmdb_user_update(struct cove_store_txn *txn, uint32_t user_id,
                                     unsigned fields, const struct cove_store_user *values)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_user user;

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_user_read(txn, user_id, &txn->arena, &user);
        if (err != COVE_STORE_OK)
                return err;
        if ((fields & COVE_USER_SET_PASSWORD) != 0) {
                user.password_hash = str_or_empty(values->password_hash);
                user.scram_secret = str_or_empty(values->scram_secret);
        }
        if ((fields & COVE_USER_SET_QUOTA) != 0) {
                user.quota_bytes = values->quota_bytes;
                user.quota_messages = values->quota_messages;
        }
        if ((fields & COVE_USER_SET_APOP) != 0)
                user.apop_secret = str_or_empty(values->apop_secret);
        return lmdb_txn_fail(txn, lmdb_user_write(txn, &user));
}

enum cove_store_err lmdb_user_delete(struct cove_store_txn *txn, uint32_t user_id)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_user user;
        const char *box_name;
        uint32_t box_id;
        uint8_t key[4];

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_user_read(txn, user_id, &txn->arena, &user);
        if (err != COVE_STORE_OK)
                return err;
        while ((err = lmdb_name_next(txn, LMDB_DB_MAILBOX_NAMES, user_id, NULL, &txn->arena,
                                     &box_name, &box_id)) == COVE_STORE_OK) {
                err = lmdb_mailbox_remove(txn, box_id);
                if (err != COVE_STORE_OK)
                        return lmdb_txn_fail(txn, err);
        }
        if (err != COVE_STORE_NOTFOUND)
                return lmdb_txn_fail(txn, err);
        user_key(key, user_id);
        err = lmdb_del_prefix(txn, LMDB_DB_SUBSCRIPTIONS, key, sizeof(key));
        if (err == COVE_STORE_OK)
                err = lmdb_name_del(txn, LMDB_DB_USER_NAMES, 0, user.name);
        if (err == COVE_STORE_OK)
                err = lmdb_del(txn, LMDB_DB_USERS, key, sizeof(key));
        return lmdb_txn_fail(txn, err);
}

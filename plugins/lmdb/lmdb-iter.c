/* lmdb-iter.c - iterators over users, mailboxes, subscriptions and messages.
 *
 * Owns: iterator allocation and deinit, and the position-based stepping of
 * name and UID iterators (each next() seeks from the last position, so
 * changes made in the same txn never invalidate an iterator). Items live in
 * the iterator's arena until its next call. Change iterators are in
 * lmdb-changes.c.
 */
#include "lmdb-private.h"

#include <stdlib.h>
#include <string.h>

struct cove_store_iter *lmdb_iter_new(struct cove_store_txn *txn, enum lmdb_iter_kind kind,
                                      uint32_t owner)
{
        struct cove_store_iter *iter = lmdb_xmalloc(sizeof(*iter));

        *iter = (struct cove_store_iter){ .kind = kind, .txn = txn, .owner = owner };
        txn->iters++;
        return iter;
}

void lmdb_iter_deinit(struct cove_store_iter **iterp)
{
        struct cove_store_iter *iter = *iterp;

        if (iter == NULL)
                return;
        *iterp = NULL;
        iter->txn->iters--;
        lmdb_arena_free(&iter->arena);
        free(iter->last_name);
        free(iter);
}

/* Steps a name iterator: the next name after the last one, its id. */
static enum cove_store_err name_step(struct cove_store_iter *iter, enum lmdb_db db,
                                     const char **name_r, uint32_t *id_r)
{
        if (iter->done)
                return COVE_STORE_NOTFOUND;
        if (iter->txn->failed)
                return iter->txn->fail_err;
        lmdb_arena_reset(&iter->arena);
        enum cove_store_err err = lmdb_name_next(iter->txn, db, iter->owner, iter->last_name,
                                                 &iter->arena, name_r, id_r);
        if (err != COVE_STORE_OK) {
                iter->done = err == COVE_STORE_NOTFOUND;
                return err;
        }
        size_t len = strlen(*name_r) + 1;
        free(iter->last_name);
        iter->last_name = lmdb_xmalloc(len);
        memcpy(iter->last_name, *name_r, len);
        return COVE_STORE_OK;
}

static enum cove_store_err iter_start(struct cove_store_txn *txn, enum lmdb_iter_kind kind,
                                      uint32_t owner, struct cove_store_iter **iter_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, false);

        if (err != COVE_STORE_OK)
                return err;
        *iter_r = lmdb_iter_new(txn, kind, owner);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_user_iter_init(struct cove_store_txn *txn,
                                        struct cove_store_iter **iter_r)
{
        return iter_start(txn, LMDB_ITER_USERS, 0, iter_r);
}

enum cove_store_err lmdb_user_iter_next(struct cove_store_iter *iter,
                                        const struct cove_store_user **user_r)
{
        const char *name;
        uint32_t id;
        enum cove_store_err err = name_step(iter, LMDB_DB_USER_NAMES, &name, &id);

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_user_read(iter->txn, id, &iter->arena, &iter->item.user);
        if (err == COVE_STORE_NOTFOUND)
                err = lmdb_error(iter->txn->store, COVE_STORE_CORRUPT,
                                 "user name index points at missing user %u", id);
        if (err == COVE_STORE_OK)
                *user_r = &iter->item.user;
        return err;
}

enum cove_store_err lmdb_mailbox_iter_init(struct cove_store_txn *txn, uint32_t user_id,
                                           struct cove_store_iter **iter_r)
{
        return iter_start(txn, LMDB_ITER_MAILBOXES, user_id, iter_r);
}

enum cove_store_err lmdb_mailbox_iter_next(struct cove_store_iter *iter,
                                           const struct cove_store_mailbox **mailbox_r)
{
        const char *name;
        uint32_t id;
        enum cove_store_err err = name_step(iter, LMDB_DB_MAILBOX_NAMES, &name, &id);

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_mailbox_read(iter->txn, id, &iter->arena, &iter->item.mailbox);
        if (err == COVE_STORE_NOTFOUND)
                err = lmdb_error(iter->txn->store, COVE_STORE_CORRUPT,
                                 "mailbox name index points at missing mailbox %u", id);
        if (err == COVE_STORE_OK)
                *mailbox_r = &iter->item.mailbox;
        return err;
}

enum cove_store_err lmdb_subscription_iter_init(struct cove_store_txn *txn, uint32_t user_id,
                                                struct cove_store_iter **iter_r)
{
        return iter_start(txn, LMDB_ITER_SUBSCRIPTIONS, user_id, iter_r);
}

enum cove_store_err lmdb_subscription_iter_next(struct cove_store_iter *iter,
                                                const char **name_r)
{
        uint32_t id;

        return name_step(iter, LMDB_DB_SUBSCRIPTIONS, name_r, &id);
}

enum cove_store_err lmdb_msg_iter_init(struct cove_store_txn *txn, uint32_t mailbox_id,
                                       uint32_t uid_first, uint32_t uid_last,
                                       struct cove_store_iter **iter_r)
{
        enum cove_store_err err = iter_start(txn, LMDB_ITER_MESSAGES, mailbox_id, iter_r);

        if (err != COVE_STORE_OK)
                return err;
        (*iter_r)->next_uid = uid_first;
        (*iter_r)->uid_last = uid_last;
        (*iter_r)->done = uid_first > uid_last;
        return COVE_STORE_OK;
}

/* Finds the first message key >= (owner, next_uid); *uid_r and *val_r. */
static enum cove_store_err msg_seek(struct cove_store_iter *iter, uint32_t *uid_r,
                                    MDB_val *val_r)
{
        struct cove_store_txn *txn = iter->txn;
        uint8_t key[8];
        MDB_cursor *cur;
        MDB_val k = { .mv_size = sizeof(key), .mv_data = key };

        lmdb_msg_key(key, iter->owner, iter->next_uid);
        int rc = mdb_cursor_open(txn->txn, txn->store->dbi[LMDB_DB_MESSAGES], &cur);
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        rc = mdb_cursor_get(cur, &k, val_r, MDB_SET_RANGE);
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
                return COVE_STORE_NOTFOUND;
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        if (k.mv_size != 8 || lmdb_get_be32(k.mv_data) != iter->owner)
                return COVE_STORE_NOTFOUND;
        *uid_r = lmdb_get_be32((const uint8_t *)k.mv_data + 4);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_msg_iter_next(struct cove_store_iter *iter,
                                       const struct cove_store_msg **msg_r)
{
        uint32_t uid = 0;
        MDB_val v;

        if (iter->done)
                return COVE_STORE_NOTFOUND;
        if (iter->txn->failed)
                return iter->txn->fail_err;
        lmdb_arena_reset(&iter->arena);
        enum cove_store_err err = msg_seek(iter, &uid, &v);
        if (err == COVE_STORE_OK && uid > iter->uid_last)
                err = COVE_STORE_NOTFOUND;
        if (err != COVE_STORE_OK) {
                iter->done = err == COVE_STORE_NOTFOUND;
                return err;
        }
        err = lmdb_msg_decode(iter->txn, &v, &iter->arena, uid, &iter->item.msg);
        if (err != COVE_STORE_OK)
                return err;
        if (uid == UINT32_MAX)
                iter->done = true;
        else
                iter->next_uid = uid + 1;
        *msg_r = &iter->item.msg.pub;
        return COVE_STORE_OK;
}

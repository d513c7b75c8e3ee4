/* lmdb-mailboxes.c - mailbox records, the (user, name) index and
 * subscriptions.
 *
 * Owns: the mailbox record layout, UIDVALIDITY allocation (a store-wide
 * counter: max(now, last + 1), so a value never repeats for any name),
 * create/lookup/rename (with children)/delete/special-use and subscription
 * changes. Message contents of a deleted mailbox go through lmdb-blobs.c.
 */
#include "lmdb-private.h"

#include <stdlib.h>
#include <string.h>

static void mailbox_key(uint8_t key[4], uint32_t mailbox_id)
{
        lmdb_be32(key, mailbox_id);
}

enum cove_store_err lmdb_mailbox_read(struct cove_store_txn *txn, uint32_t mailbox_id,
                                      struct lmdb_arena *arena,
                                      struct cove_store_mailbox *box)
{
        uint8_t key[4];
        MDB_val v;

        mailbox_key(key, mailbox_id);
        enum cove_store_err err = lmdb_get(txn, LMDB_DB_MAILBOXES, key, sizeof(key), &v);
        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, err, "no mailbox with id %u", mailbox_id);
        if (err != COVE_STORE_OK)
                return err;
        struct lmdb_rbuf r = { .p = v.mv_data, .left = v.mv_size };
        uint8_t version = lmdb_rbuf_u8(&r);
        *box = (struct cove_store_mailbox){ .id = lmdb_rbuf_u32(&r) };
        box->user_id = lmdb_rbuf_u32(&r);
        box->name = lmdb_rbuf_lstr(&r, arena, NULL);
        box->uidvalidity = lmdb_rbuf_u32(&r);
        box->uidnext = lmdb_rbuf_u32(&r);
        box->highestmodseq = lmdb_rbuf_u64(&r);
        box->expunge_modseq = lmdb_rbuf_u64(&r);
        box->special_use = lmdb_rbuf_u32(&r);
        box->messages = lmdb_rbuf_u32(&r);
        box->unseen = lmdb_rbuf_u32(&r);
        box->bytes = lmdb_rbuf_u64(&r);
        box->recent_uid = version >= LMDB_RECORD_V2 ? lmdb_rbuf_u32(&r) : 1;
        if (r.bad || version < LMDB_RECORD_V1 || version > LMDB_RECORD_V2 ||
            box->id != mailbox_id)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "mailbox record %u is malformed", mailbox_id);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_mailbox_write(struct cove_store_txn *txn,
                                       const struct cove_store_mailbox *box)
{
        struct lmdb_wbuf w = { 0 };
        uint8_t key[4];

        lmdb_wbuf_u8(&w, LMDB_RECORD_V2);
        lmdb_wbuf_u32(&w, box->id);
        lmdb_wbuf_u32(&w, box->user_id);
        lmdb_wbuf_lstr(&w, box->name, strlen(box->name));
        lmdb_wbuf_u32(&w, box->uidvalidity);
        lmdb_wbuf_u32(&w, box->uidnext);
        lmdb_wbuf_u64(&w, box->highestmodseq);
        lmdb_wbuf_u64(&w, box->expunge_modseq);
        lmdb_wbuf_u32(&w, box->special_use);
        lmdb_wbuf_u32(&w, box->messages);
        lmdb_wbuf_u32(&w, box->unseen);
        lmdb_wbuf_u64(&w, box->bytes);
        lmdb_wbuf_u32(&w, box->recent_uid);
        mailbox_key(key, box->id);
        enum cove_store_err err = lmdb_put(txn, LMDB_DB_MAILBOXES, key, sizeof(key),
                                           w.data, w.len, 0);
        lmdb_wbuf_free(&w);
        return err;
}

/* A fresh UIDVALIDITY: max(now, last + 1) from the store-wide counter. */
static enum cove_store_err next_uidvalidity(struct cove_store_txn *txn, uint32_t *uv_r)
{
        const struct cove_store_host *host = txn->store->host;
        int64_t now = host != NULL && host->now != NULL ? host->now() : 0;
        uint64_t last;
        enum cove_store_err err = lmdb_meta_get(txn, LMDB_META_UIDVALIDITY, &last);

        if (err != COVE_STORE_OK)
                return err;
        uint64_t uv = last + 1;
        if (now > 0 && (uint64_t)now > uv)
                uv = (uint64_t)now;
        if (uv > UINT32_MAX)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL, "UIDVALIDITY exhausted");
        *uv_r = (uint32_t)uv;
        return lmdb_meta_set(txn, LMDB_META_UIDVALIDITY, uv);
}

enum cove_store_err lmdb_mailbox_create(struct cove_store_txn *txn, uint32_t user_id,
                                        const char *name, uint32_t special_use,
                                        uint32_t *mailbox_id_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_user user;
        uint32_t existing;
        uint64_t id;

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_user_read(txn, user_id, &txn->arena, &user);
        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_name_get(txn, LMDB_DB_MAILBOX_NAMES, user_id, name, &existing);
        if (err == COVE_STORE_OK)
                return lmdb_error(txn->store, COVE_STORE_EXISTS, "mailbox already exists");
        if (err != COVE_STORE_NOTFOUND)
                return err;
        struct cove_store_mailbox box = {
                .user_id = user_id, .name = name, .uidnext = 1, .highestmodseq = 1,
                .special_use = special_use, .recent_uid = 1,
        };
        err = lmdb_meta_next(txn, LMDB_META_NEXT_MAILBOX, &id);
        if (err == COVE_STORE_OK && id > UINT32_MAX)
                err = lmdb_error(txn->store, COVE_STORE_INTERNAL, "mailbox ids exhausted");
        box.id = (uint32_t)id;
        if (err == COVE_STORE_OK)
                err = next_uidvalidity(txn, &box.uidvalidity);
        if (err == COVE_STORE_OK)
                err = lmdb_name_put(txn, LMDB_DB_MAILBOX_NAMES, user_id, name, box.id);
        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_write(txn, &box);
        if (err != COVE_STORE_OK)
                return lmdb_txn_fail(txn, err);
        *mailbox_id_r = box.id;
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_mailbox_get(struct cove_store_txn *txn, uint32_t mailbox_id,
                                     const struct cove_store_mailbox **mailbox_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, false);

        if (err != COVE_STORE_OK)
                return err;
        struct cove_store_mailbox *box = lmdb_arena_alloc(&txn->arena, sizeof(*box));
        err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, box);
        if (err == COVE_STORE_OK)
                *mailbox_r = box;
        return err;
}

enum cove_store_err lmdb_mailbox_lookup(struct cove_store_txn *txn, uint32_t user_id,
                                        const char *name,
                                        const struct cove_store_mailbox **mailbox_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, false);
        uint32_t id;

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_name_get(txn, LMDB_DB_MAILBOX_NAMES, user_id, name, &id);
        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, err, "no such mailbox");
        if (err != COVE_STORE_OK)
                return err;
        struct cove_store_mailbox *box = lmdb_arena_alloc(&txn->arena, sizeof(*box));
        err = lmdb_mailbox_read(txn, id, &txn->arena, box);
        if (err == COVE_STORE_NOTFOUND)
                err = lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                 "mailbox name index points at missing mailbox %u", id);
        if (err == COVE_STORE_OK)
                *mailbox_r = box;
        return err;
}

struct rename_item {
        uint32_t id;
        const char *old_name;
        const char *new_name;
};

/* Collects the mailbox and its children ("old/...") with their new names. */
static enum cove_store_err rename_collect(struct cove_store_txn *txn,
                                          const struct cove_store_mailbox *box,
                                          const char *new_name,
                                          struct rename_item **items_r, size_t *count_r)
{
        size_t old_len = strlen(box->name), count = 1, cap = 8;
        struct rename_item *items = lmdb_xmalloc(cap * sizeof(*items));
        char *prefix = lmdb_arena_alloc(&txn->arena, old_len + 2);
        const char *name = prefix;
        uint32_t id;
        enum cove_store_err err;

        memcpy(prefix, box->name, old_len);
        prefix[old_len] = COVE_STORE_HIERARCHY_SEP;
        items[0] = (struct rename_item){ box->id, box->name, new_name };
        while ((err = lmdb_name_next(txn, LMDB_DB_MAILBOX_NAMES, box->user_id, name,
                                     &txn->arena, &name, &id)) == COVE_STORE_OK) {
                if (strncmp(name, prefix, old_len + 1) != 0)
                        break;
                if (count == cap) {
                        cap *= 2;
                        items = lmdb_xrealloc(items, cap * sizeof(*items));
                }
                size_t tail = strlen(name) - old_len;
                size_t new_len = strlen(new_name);
                char *child = lmdb_arena_alloc(&txn->arena, new_len + tail + 1);
                memcpy(child, new_name, new_len);
                memcpy(child + new_len, name + old_len, tail + 1);
                items[count++] = (struct rename_item){ id, name, child };
        }
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND) {
                free(items);
                return err;
        }
        *items_r = items;
        *count_r = count;
        return COVE_STORE_OK;
}

static enum cove_store_err rename_apply(struct cove_store_txn *txn, uint32_t user_id,
                                        const struct rename_item *items, size_t count)
{
        enum cove_store_err err = COVE_STORE_OK;

        /* Drop every old name first so a target never collides with a name
           that is itself about to move. */
        for (size_t i = 0; i < count && err == COVE_STORE_OK; i++)
                err = lmdb_name_del(txn, LMDB_DB_MAILBOX_NAMES, user_id, items[i].old_name);
        for (size_t i = 0; i < count && err == COVE_STORE_OK; i++) {
                struct cove_store_mailbox box;
                err = lmdb_mailbox_read(txn, items[i].id, &txn->arena, &box);
                if (err != COVE_STORE_OK)
                        break;
                box.name = items[i].new_name;
                err = lmdb_name_put(txn, LMDB_DB_MAILBOX_NAMES, user_id, box.name, box.id);
                if (err == COVE_STORE_EXISTS)
                        lmdb_error(txn->store, err, "mailbox already exists");
                if (err == COVE_STORE_OK)
                        err = lmdb_mailbox_write(txn, &box);
        }
        return err;
}

enum cove_store_err lmdb_mailbox_rename(struct cove_store_txn *txn, uint32_t mailbox_id,
                                        const char *new_name)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_mailbox box;
        struct rename_item *items;
        size_t count;
        uint32_t existing;

        if (err == COVE_STORE_OK && new_name == NULL)
                err = lmdb_error(txn->store, COVE_STORE_INTERNAL, "name missing");
        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);
        if (err != COVE_STORE_OK)
                return err;
        if (strcmp(box.name, new_name) == 0)
                return COVE_STORE_OK;
        err = lmdb_name_get(txn, LMDB_DB_MAILBOX_NAMES, box.user_id, new_name, &existing);
        if (err == COVE_STORE_OK)
                return lmdb_error(txn->store, COVE_STORE_EXISTS, "mailbox already exists");
        if (err != COVE_STORE_NOTFOUND)
                return err;
        err = rename_collect(txn, &box, new_name, &items, &count);
        if (err != COVE_STORE_OK)
                return err;
        err = rename_apply(txn, box.user_id, items, count);
        free(items);
        return lmdb_txn_fail(txn, err);
}

enum cove_store_err lmdb_mailbox_purge(struct cove_store_txn *txn,
                                       const struct cove_store_mailbox *box)
{
        uint8_t prefix[4];
        MDB_cursor *cur;
        MDB_val k, v;
        enum cove_store_err err = COVE_STORE_OK;

        mailbox_key(prefix, box->id);
        k = (MDB_val){ .mv_size = sizeof(prefix), .mv_data = prefix };
        int rc = mdb_cursor_open(txn->txn, txn->store->dbi[LMDB_DB_MESSAGES], &cur);
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && err == COVE_STORE_OK && k.mv_size == 8 &&
               memcmp(k.mv_data, prefix, 4) == 0) {
                struct lmdb_part parts[COVE_STORE_MAX_PARTS];
                uint32_t count;
                uint64_t size;
                if (!lmdb_msg_decode_parts(&v, &size, &count, parts)) {
                        err = lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                         "message record in mailbox %u is malformed", box->id);
                        break;
                }
                for (uint32_t i = 0; i < count && err == COVE_STORE_OK; i++)
                        err = lmdb_blob_unref(txn, &parts[i]);
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(cur);
        if (err == COVE_STORE_OK && rc != 0 && rc != MDB_NOTFOUND)
                err = lmdb_txn_error(txn, rc, "cursor");
        if (err == COVE_STORE_OK)
                err = lmdb_del_prefix(txn, LMDB_DB_MESSAGES, prefix, sizeof(prefix));
        if (err == COVE_STORE_OK)
                err = lmdb_del_prefix(txn, LMDB_DB_MODSEQ, prefix, sizeof(prefix));
        if (err == COVE_STORE_OK)
                err = lmdb_del_prefix(txn, LMDB_DB_EXPUNGES, prefix, sizeof(prefix));
        return err;
}

enum cove_store_err lmdb_mailbox_remove(struct cove_store_txn *txn, uint32_t mailbox_id)
{
        struct cove_store_mailbox box;
        uint8_t key[4];
        enum cove_store_err err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_mailbox_purge(txn, &box);
        if (err == COVE_STORE_OK && (box.bytes != 0 || box.messages != 0))
                err = lmdb_user_add_usage(txn, box.user_id, -(int64_t)box.bytes,
                                          -(int64_t)box.messages);
        if (err == COVE_STORE_OK)
                err = lmdb_name_del(txn, LMDB_DB_MAILBOX_NAMES, box.user_id, box.name);
        mailbox_key(key, mailbox_id);
        if (err == COVE_STORE_OK)
                err = lmdb_del(txn, LMDB_DB_MAILBOXES, key, sizeof(key));
        return lmdb_txn_fail(txn, err);
}

enum cove_store_err lmdb_mailbox_delete(struct cove_store_txn *txn, uint32_t mailbox_id)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_mailbox box;

        if (err != COVE_STORE_OK)
                return err;
        /* Check first, so NOTFOUND leaves the txn usable. */
        err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);
        if (err != COVE_STORE_OK)
                return err;
        return lmdb_mailbox_remove(txn, mailbox_id);
}

enum cove_store_err lmdb_mailbox_set_special_use(struct cove_store_txn *txn,
                                                 uint32_t mailbox_id, uint32_t special_use)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_mailbox box;

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);
        if (err != COVE_STORE_OK)
                return err;
        box.special_use = special_use;
        return lmdb_txn_fail(txn, lmdb_mailbox_write(txn, &box));
}

enum cove_store_err lmdb_mailbox_advance_recent(struct cove_store_txn *txn,
                                                uint32_t mailbox_id, uint32_t uid,
                                                uint32_t *old_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_mailbox box;

        if (err != COVE_STORE_OK)
                return err;
        err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);
        if (err != COVE_STORE_OK)
                return err;
        if (old_r != NULL)
                *old_r = box.recent_uid;
        if (uid > box.uidnext)
                uid = box.uidnext;
        if (uid <= box.recent_uid)
                return COVE_STORE_OK;
        box.recent_uid = uid;
        return lmdb_txn_fail(txn, lmdb_mailbox_write(txn, &box));
}

enum cove_store_err lmdb_subscription_set(struct cove_store_txn *txn, uint32_t user_id,
                                          const char *name, bool subscribed)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);

        if (err == COVE_STORE_OK && name == NULL)
                err = lmdb_error(txn->store, COVE_STORE_INTERNAL, "name missing");
        if (err != COVE_STORE_OK)
                return err;
        if (subscribed) {
                err = lmdb_name_put(txn, LMDB_DB_SUBSCRIPTIONS, user_id, name, 0);
                if (err == COVE_STORE_EXISTS)
                        err = COVE_STORE_OK;
        } else {
                err = lmdb_name_del(txn, LMDB_DB_SUBSCRIPTIONS, user_id, name);
                if (err == COVE_STORE_NOTFOUND)
                        err = COVE_STORE_OK;
        }
        return lmdb_txn_fail(txn, err);
}

/* lmdb-changes.c - the change iterator: what happened in a mailbox after a
 * MODSEQ.
 *
 * Owns: merging the modseq index (current messages by the MODSEQ of their
 * last change) with the expunge log (expunged UIDs by the MODSEQ of their
 * expunge) in ascending MODSEQ order, without scanning the mailbox. Both
 * indexes are kept by lmdb-messages.c.
 */
#include "lmdb-private.h"

/* Finds the first entry of `db` for `mailbox_id` with MODSEQ > after. */
static enum cove_store_err seek_after(struct cove_store_txn *txn, enum lmdb_db db,
                                      uint32_t mailbox_id, uint64_t after,
                                      uint64_t *modseq_r, uint32_t *uid_r)
{
        uint8_t key[12];
        MDB_cursor *cur;
        MDB_val k = { .mv_size = sizeof(key), .mv_data = key }, v;

        if (after == UINT64_MAX)
                return COVE_STORE_NOTFOUND;
        lmdb_modseq_key(key, mailbox_id, after + 1);
        int rc = mdb_cursor_open(txn->txn, txn->store->dbi[db], &cur);
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
                return COVE_STORE_NOTFOUND;
        if (rc != 0)
                return lmdb_txn_error(txn, rc, "cursor");
        if (k.mv_size != 12 || lmdb_get_be32(k.mv_data) != mailbox_id)
                return COVE_STORE_NOTFOUND;
        if (v.mv_size != 4)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "modseq index entry of mailbox %u is malformed", mailbox_id);
        *modseq_r = lmdb_get_be64((const uint8_t *)k.mv_data + 4);
        *uid_r = lmdb_get_be32(v.mv_data);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_change_iter_init(struct cove_store_txn *txn, uint32_t mailbox_id,
                                          uint64_t since_modseq,
                                          struct cove_store_iter **iter_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, false);
        struct cove_store_mailbox box;

        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);
        if (err != COVE_STORE_OK)
                return err;
        struct cove_store_iter *iter = lmdb_iter_new(txn, LMDB_ITER_CHANGES, mailbox_id);
        iter->pos_modseq = since_modseq;
        iter->pos_expunge = since_modseq;
        *iter_r = iter;
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_change_iter_next(struct cove_store_iter *iter,
                                          const struct cove_store_change **change_r)
{
        struct cove_store_txn *txn = iter->txn;
        uint64_t mod_m = 0, mod_e = 0;
        uint32_t uid_m = 0, uid_e = 0;

        if (iter->done)
                return COVE_STORE_NOTFOUND;
        if (txn->failed)
                return txn->fail_err;
        enum cove_store_err em = seek_after(txn, LMDB_DB_MODSEQ, iter->owner, iter->pos_modseq,
                                            &mod_m, &uid_m);
        if (em != COVE_STORE_OK && em != COVE_STORE_NOTFOUND)
                return em;
        enum cove_store_err ee = seek_after(txn, LMDB_DB_EXPUNGES, iter->owner,
                                            iter->pos_expunge, &mod_e, &uid_e);
        if (ee != COVE_STORE_OK && ee != COVE_STORE_NOTFOUND)
                return ee;
        if (em == COVE_STORE_NOTFOUND && ee == COVE_STORE_NOTFOUND) {
                iter->done = true;
                return COVE_STORE_NOTFOUND;
        }
        struct cove_store_change *c = &iter->item.change;
        if (ee == COVE_STORE_NOTFOUND || (em == COVE_STORE_OK && mod_m < mod_e)) {
                *c = (struct cove_store_change){ .uid = uid_m, .modseq = mod_m };
                iter->pos_modseq = mod_m;
        } else {
                *c = (struct cove_store_change){ .uid = uid_e, .modseq = mod_e,
                                                 .expunged = true };
                iter->pos_expunge = mod_e;
        }
        *change_r = c;
        return COVE_STORE_OK;
}

/* lmdb-messages.c - append, get, flag changes, expunge, copy and move.
 *
 * Owns: UID/MODSEQ/gid assignment (UIDNEXT, per-mailbox highestmodseq + 1,
 * the store-wide gid counter), the modseq index and expunge log entries,
 * mailbox counters and user usage. Body bytes go through lmdb-blobs.c;
 * record layouts live in lmdb-msgcodec.c.
 */
#include "lmdb-private.h"

#include <strings.h>
#include <string.h>

static int64_t store_now(struct cove_store *store)
{
        return store->host != NULL && store->host->now != NULL ? store->host->now() : 0;
}

static bool keyword_has(const char *const *kws, size_t count, const char *kw)
{
        for (size_t i = 0; i < count; i++) {
                if (strcasecmp(kws[i], kw) == 0)
                        return true;
        }
        return false;
}

/* Appends to `out` (capacity checked) the keywords of `in` not already there
   and, with `skip`, not in skip. Returns the new count. */
static size_t keywords_merge(const char **out, size_t count, const char *const *in,
                             size_t in_count, const char *const *skip, size_t skip_count)
{
        for (size_t i = 0; i < in_count; i++) {
                if (in[i] == NULL || keyword_has(out, count, in[i]) ||
                    keyword_has(skip, skip_count, in[i]))
                        continue;
                out[count++] = in[i];
        }
        return count;
}

static enum cove_store_err save_msg_record(struct cove_store_txn *txn, uint32_t mailbox_id,
                                           const struct lmdb_msg *msg)
{
        struct lmdb_wbuf w = { 0 };
        uint8_t key[8];

        lmdb_msg_encode(msg, &w);
        lmdb_msg_key(key, mailbox_id, msg->pub.uid);
        enum cove_store_err err = lmdb_put(txn, LMDB_DB_MESSAGES, key, sizeof(key),
                                           w.data, w.len, 0);
        lmdb_wbuf_free(&w);
        return err;
}

static enum cove_store_err modseq_index_put(struct cove_store_txn *txn, enum lmdb_db db,
                                            uint32_t mailbox_id, uint64_t modseq,
                                            uint32_t uid)
{
        uint8_t key[12], val[4];

        lmdb_modseq_key(key, mailbox_id, modseq);
        lmdb_be32(val, uid);
        return lmdb_put(txn, db, key, sizeof(key), val, sizeof(val), 0);
}

static enum cove_store_err modseq_index_del(struct cove_store_txn *txn, uint32_t mailbox_id,
                                            uint64_t modseq)
{
        uint8_t key[12];

        lmdb_modseq_key(key, mailbox_id, modseq);
        enum cove_store_err err = lmdb_del(txn, LMDB_DB_MODSEQ, key, sizeof(key));
        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "modseq index misses an entry of mailbox %u", mailbox_id);
        return err;
}

/* Stores `msg` as a new message of mailbox `dst_id` (new UID and MODSEQ,
   gid kept when nonzero), taking blob references when `ref_blobs`. */
static enum cove_store_err msg_insert(struct cove_store_txn *txn, uint32_t dst_id,
                                      struct lmdb_msg *msg, bool ref_blobs,
                                      struct cove_store_saved *saved_r)
{
        struct cove_store_mailbox box;
        enum cove_store_err err = lmdb_mailbox_read(txn, dst_id, &txn->arena, &box);

        if (err != COVE_STORE_OK)
                return err;
        if (box.uidnext == UINT32_MAX)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL,
                                  "mailbox %u has run out of UIDs", dst_id);
        for (uint32_t i = 0; ref_blobs && i < msg->part_count && err == COVE_STORE_OK; i++)
                err = lmdb_blob_ref(txn, &msg->parts[i]);
        if (err == COVE_STORE_OK && msg->pub.gid == 0)
                err = lmdb_meta_next(txn, LMDB_META_NEXT_GID, &msg->pub.gid);
        if (err != COVE_STORE_OK)
                return err;
        msg->pub.uid = box.uidnext++;
        msg->pub.modseq = ++box.highestmodseq;
        msg->pub.save_date = store_now(txn->store);
        box.messages++;
        if ((msg->pub.flags & COVE_FLAG_SEEN) == 0)
                box.unseen++;
        box.bytes += msg->pub.size;
        err = save_msg_record(txn, dst_id, msg);
        if (err == COVE_STORE_OK)
                err = modseq_index_put(txn, LMDB_DB_MODSEQ, dst_id, msg->pub.modseq,
                                       msg->pub.uid);
        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_write(txn, &box);
        if (err == COVE_STORE_OK)
                err = lmdb_user_add_usage(txn, box.user_id, (int64_t)msg->pub.size, 1);
        if (err == COVE_STORE_OK)
                *saved_r = (struct cove_store_saved){
                        .uid = msg->pub.uid, .gid = msg->pub.gid,
                        .modseq = msg->pub.modseq, .uidvalidity = box.uidvalidity,
                };
        return err;
}

/* Removes message (mailbox_id, uid): expunge log entry with a new MODSEQ,
   counters, usage; drops blob references when `unref_blobs`. */
static enum cove_store_err msg_remove(struct cove_store_txn *txn, uint32_t mailbox_id,
                                      const struct lmdb_msg *msg, bool unref_blobs)
{
        struct cove_store_mailbox box;
        uint8_t key[8];
        enum cove_store_err err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);

        if (err != COVE_STORE_OK)
                return err;
        lmdb_msg_key(key, mailbox_id, msg->pub.uid);
        err = lmdb_del(txn, LMDB_DB_MESSAGES, key, sizeof(key));
        if (err == COVE_STORE_OK)
                err = modseq_index_del(txn, mailbox_id, msg->pub.modseq);
        box.expunge_modseq = ++box.highestmodseq;
        if (err == COVE_STORE_OK)
                err = modseq_index_put(txn, LMDB_DB_EXPUNGES, mailbox_id, box.expunge_modseq,
                                       msg->pub.uid);
        for (uint32_t i = 0; unref_blobs && i < msg->part_count && err == COVE_STORE_OK; i++)
                err = lmdb_blob_unref(txn, &msg->parts[i]);
        if (box.messages > 0)
                box.messages--;
        if ((msg->pub.flags & COVE_FLAG_SEEN) == 0 && box.unseen > 0)
                box.unseen--;
        box.bytes = box.bytes >= msg->pub.size ? box.bytes - msg->pub.size : 0;
        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_write(txn, &box);
        if (err == COVE_STORE_OK)
                err = lmdb_user_add_usage(txn, box.user_id, -(int64_t)msg->pub.size, -1);
        return err;
}

static enum cove_store_err append_check(struct cove_store_txn *txn,
                                        const struct cove_store_append *a)
{
        if (a->part_count < 1 || a->part_count > COVE_STORE_MAX_PARTS || a->parts == NULL)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL,
                                  "append needs 1 to %d parts", COVE_STORE_MAX_PARTS);
        if (a->keyword_count > COVE_STORE_MAX_KEYWORDS ||
            (a->keyword_count > 0 && a->keywords == NULL))
                return lmdb_error(txn->store, COVE_STORE_INTERNAL, "too many keywords");
        for (size_t i = 0; i < a->part_count; i++) {
                if (a->parts[i].size > 0 && a->parts[i].data == NULL)
                        return lmdb_error(txn->store, COVE_STORE_INTERNAL,
                                          "append part %zu has no data", i);
        }
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_msg_append(struct cove_store_txn *txn, uint32_t mailbox_id,
                                    const struct cove_store_append *a,
                                    struct cove_store_saved *saved_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_mailbox box;
        struct lmdb_msg msg = { .pub.flags = a->flags & COVE_FLAG_ALL };

        if (err == COVE_STORE_OK)
                err = append_check(txn, a);
        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);
        if (err != COVE_STORE_OK)
                return err;
        const char **kws = lmdb_arena_alloc(&txn->arena, (a->keyword_count + 1) * sizeof(*kws));
        msg.pub.keywords = kws;
        msg.pub.keyword_count = keywords_merge(kws, 0, a->keywords, a->keyword_count, NULL, 0);
        msg.pub.internal_date = a->internal_date;
        msg.pub.internal_tz = a->internal_tz;
        msg.pub.structure = a->structure;
        msg.pub.structure_len = a->structure != NULL ? a->structure_len : 0;
        msg.pub.uidl = a->uidl;
        for (size_t i = 0; i < a->part_count; i++)
                txn->need_hint += a->parts[i].size;
        for (size_t i = 0; i < a->part_count && err == COVE_STORE_OK; i++) {
                if (a->parts[i].size == 0)
                        continue;
                err = lmdb_blob_store(txn, a->parts[i].data, a->parts[i].size,
                                      &msg.parts[msg.part_count]);
                msg.pub.size += a->parts[i].size;
                msg.part_count++;
        }
        if (err == COVE_STORE_OK)
                err = msg_insert(txn, mailbox_id, &msg, false, saved_r);
        if (err == COVE_STORE_OK)
                txn->need_hint = 0;
        return lmdb_txn_fail(txn, err);
}

enum cove_store_err lmdb_msg_get(struct cove_store_txn *txn, uint32_t mailbox_id,
                                 uint32_t uid, const struct cove_store_msg **msg_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, false);

        if (err != COVE_STORE_OK)
                return err;
        struct lmdb_msg *msg = lmdb_arena_alloc(&txn->arena, sizeof(*msg));
        err = lmdb_msg_read(txn, mailbox_id, uid, &txn->arena, msg);
        if (err == COVE_STORE_OK)
                *msg_r = &msg->pub;
        return err;
}

/* Computes the new keyword list of `msg` for `op` into the arena. */
static void flags_apply(struct cove_store_txn *txn, struct lmdb_msg *msg,
                        enum cove_store_flag_op op, uint32_t flags,
                        const char *const *kws, size_t kw_count)
{
        struct cove_store_msg *m = &msg->pub;
        const char **out = lmdb_arena_alloc(&txn->arena,
                                            (m->keyword_count + kw_count + 1) * sizeof(*out));
        size_t n = 0;

        flags &= COVE_FLAG_ALL;
        switch (op) {
        case COVE_STORE_FLAGS_ADD:
                m->flags |= flags;
                n = keywords_merge(out, 0, m->keywords, m->keyword_count, NULL, 0);
                n = keywords_merge(out, n, kws, kw_count, NULL, 0);
                break;
        case COVE_STORE_FLAGS_REMOVE:
                m->flags &= ~flags;
                n = keywords_merge(out, 0, m->keywords, m->keyword_count, kws, kw_count);
                break;
        default:
                m->flags = flags;
                n = keywords_merge(out, 0, kws, kw_count, NULL, 0);
                break;
        }
        m->keywords = out;
        m->keyword_count = n;
}

static bool keywords_equal(const struct cove_store_msg *a, const struct cove_store_msg *b)
{
        if (a->keyword_count != b->keyword_count)
                return false;
        for (size_t i = 0; i < a->keyword_count; i++) {
                if (!keyword_has(b->keywords, b->keyword_count, a->keywords[i]))
                        return false;
        }
        return true;
}

enum cove_store_err lmdb_msg_update_flags(struct cove_store_txn *txn, uint32_t mailbox_id,
                                          uint32_t uid, enum cove_store_flag_op op,
                                          uint32_t flags, const char *const *keywords,
                                          size_t keyword_count, uint64_t *modseq_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_mailbox box;
        struct lmdb_msg msg;

        if (err == COVE_STORE_OK && keyword_count > 0 && keywords == NULL)
                err = lmdb_error(txn->store, COVE_STORE_INTERNAL, "keywords missing");
        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_read(txn, mailbox_id, &txn->arena, &box);
        if (err == COVE_STORE_OK)
                err = lmdb_msg_read(txn, mailbox_id, uid, &txn->arena, &msg);
        if (err != COVE_STORE_OK)
                return err;
        struct cove_store_msg old = msg.pub;
        flags_apply(txn, &msg, op, flags, keywords, keyword_count);
        if (msg.pub.keyword_count > COVE_STORE_MAX_KEYWORDS)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL, "too many keywords");
        if (msg.pub.flags == old.flags && keywords_equal(&msg.pub, &old)) {
                *modseq_r = old.modseq;
                return COVE_STORE_OK;
        }
        msg.pub.modseq = ++box.highestmodseq;
        bool was_seen = (old.flags & COVE_FLAG_SEEN) != 0;
        bool is_seen = (msg.pub.flags & COVE_FLAG_SEEN) != 0;
        if (was_seen && !is_seen)
                box.unseen++;
        else if (!was_seen && is_seen && box.unseen > 0)
                box.unseen--;
        err = modseq_index_del(txn, mailbox_id, old.modseq);
        if (err == COVE_STORE_OK)
                err = modseq_index_put(txn, LMDB_DB_MODSEQ, mailbox_id, msg.pub.modseq, uid);
        if (err == COVE_STORE_OK)
                err = save_msg_record(txn, mailbox_id, &msg);
        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_write(txn, &box);
        if (err == COVE_STORE_OK)
                *modseq_r = msg.pub.modseq;
        return lmdb_txn_fail(txn, err);
}

enum cove_store_err lmdb_msg_expunge(struct cove_store_txn *txn, uint32_t mailbox_id,
                                     uint32_t uid)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct lmdb_msg msg;

        if (err == COVE_STORE_OK)
                err = lmdb_msg_read(txn, mailbox_id, uid, &txn->arena, &msg);
        if (err != COVE_STORE_OK)
                return err;
        return lmdb_txn_fail(txn, msg_remove(txn, mailbox_id, &msg, true));
}

/* Copy and move: read the source, check the target, then insert (and for a
   move, remove the source keeping the blob references). */
static enum cove_store_err copy_or_move(struct cove_store_txn *txn, uint32_t src_id,
                                        uint32_t uid, uint32_t dst_id, bool move,
                                        struct cove_store_saved *saved_r)
{
        enum cove_store_err err = lmdb_txn_call(txn, true);
        struct cove_store_mailbox dst;
        struct lmdb_msg msg;

        if (err == COVE_STORE_OK)
                err = lmdb_msg_read(txn, src_id, uid, &txn->arena, &msg);
        if (err == COVE_STORE_OK)
                err = lmdb_mailbox_read(txn, dst_id, &txn->arena, &dst);
        if (err != COVE_STORE_OK)
                return err;
        struct lmdb_msg copy = msg;
        if (!move)
                copy.pub.gid = 0;
        err = msg_insert(txn, dst_id, &copy, !move, saved_r);
        if (err == COVE_STORE_OK && move)
                err = msg_remove(txn, src_id, &msg, false);
        return lmdb_txn_fail(txn, err);
}

enum cove_store_err lmdb_msg_copy(struct cove_store_txn *txn, uint32_t src_mailbox_id,
                                  uint32_t uid, uint32_t dst_mailbox_id,
                                  struct cove_store_saved *saved_r)
{
        return copy_or_move(txn, src_mailbox_id, uid, dst_mailbox_id, false, saved_r);
}

enum cove_store_err lmdb_msg_move(struct cove_store_txn *txn, uint32_t src_mailbox_id,
                                  uint32_t uid, uint32_t dst_mailbox_id,
                                  struct cove_store_saved *saved_r)
{
        return copy_or_move(txn, src_mailbox_id, uid, dst_mailbox_id, true, saved_r);
}

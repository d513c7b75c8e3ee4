/* lmdb-msgcodec.c - the message record layout and its keys.
 *
 * Owns: encoding/decoding of message records (fixed fields and the part
 * list first, so streams and purges can read the parts without decoding
 * keywords and structure) and the message/modseq key formats. Does not
 * change mailbox counters (lmdb-messages.c does).
 *
 * Record v1: u8 version, u64 gid, u64 modseq, u32 flags, u64 internal_date,
 * u32 internal_tz, u64 save_date, u64 size, u8 part_count, part_count x
 * {32-byte sha256, u64 size}, u16 keyword_count, keywords (lstr), structure
 * (lstr), u8 has_uidl, [uidl (lstr)]. Integers are big-endian.
 */
#include "lmdb-private.h"

#include <string.h>

void lmdb_msg_key(uint8_t key[8], uint32_t mailbox_id, uint32_t uid)
{
        lmdb_be32(key, mailbox_id);
        lmdb_be32(key + 4, uid);
}

void lmdb_modseq_key(uint8_t key[12], uint32_t mailbox_id, uint64_t modseq)
{
        lmdb_be32(key, mailbox_id);
        lmdb_be64(key + 4, modseq);
}

void lmdb_msg_encode(const struct lmdb_msg *msg, struct lmdb_wbuf *w)
{
        const struct cove_store_msg *m = &msg->pub;

        lmdb_wbuf_u8(w, LMDB_RECORD_V1);
        lmdb_wbuf_u64(w, m->gid);
        lmdb_wbuf_u64(w, m->modseq);
        lmdb_wbuf_u32(w, m->flags);
        lmdb_wbuf_u64(w, (uint64_t)m->internal_date);
        lmdb_wbuf_u32(w, (uint32_t)m->internal_tz);
        lmdb_wbuf_u64(w, (uint64_t)m->save_date);
        lmdb_wbuf_u64(w, m->size);
        lmdb_wbuf_u8(w, (uint8_t)msg->part_count);
        for (uint32_t i = 0; i < msg->part_count; i++) {
                lmdb_wbuf_bytes(w, msg->parts[i].hash, LMDB_HASH_LEN);
                lmdb_wbuf_u64(w, msg->parts[i].size);
        }
        lmdb_wbuf_u16(w, (uint16_t)m->keyword_count);
        for (size_t i = 0; i < m->keyword_count; i++)
                lmdb_wbuf_lstr(w, m->keywords[i], strlen(m->keywords[i]));
        lmdb_wbuf_lstr(w, m->structure, m->structure_len);
        lmdb_wbuf_u8(w, m->uidl != NULL);
        if (m->uidl != NULL)
                lmdb_wbuf_lstr(w, m->uidl, strlen(m->uidl));
}

/* Reads the fixed head (through the part list) into msg. */
static void decode_head(struct lmdb_rbuf *r, struct lmdb_msg *msg)
{
        struct cove_store_msg *m = &msg->pub;

        if (lmdb_rbuf_u8(r) != LMDB_RECORD_V1)
                r->bad = true;
        m->gid = lmdb_rbuf_u64(r);
        m->modseq = lmdb_rbuf_u64(r);
        m->flags = lmdb_rbuf_u32(r);
        m->internal_date = (int64_t)lmdb_rbuf_u64(r);
        m->internal_tz = (int32_t)lmdb_rbuf_u32(r);
        m->save_date = (int64_t)lmdb_rbuf_u64(r);
        m->size = lmdb_rbuf_u64(r);
        msg->part_count = lmdb_rbuf_u8(r);
        if (msg->part_count > COVE_STORE_MAX_PARTS) {
                r->bad = true;
                msg->part_count = 0;
        }
        uint64_t total = 0;
        for (uint32_t i = 0; i < msg->part_count && !r->bad; i++) {
                const uint8_t *h = lmdb_rbuf_bytes(r, LMDB_HASH_LEN);
                if (h == NULL)
                        break;
                memcpy(msg->parts[i].hash, h, LMDB_HASH_LEN);
                msg->parts[i].size = lmdb_rbuf_u64(r);
                total += msg->parts[i].size;
        }
        if (total != m->size)
                r->bad = true;
}

bool lmdb_msg_decode_parts(const MDB_val *val, uint64_t *size_r, uint32_t *part_count_r,
                           struct lmdb_part parts[COVE_STORE_MAX_PARTS])
{
        struct lmdb_rbuf r = { .p = val->mv_data, .left = val->mv_size };
        struct lmdb_msg msg = { .part_count = 0 };

        decode_head(&r, &msg);
        if (r.bad)
                return false;
        *size_r = msg.pub.size;
        *part_count_r = msg.part_count;
        memcpy(parts, msg.parts, sizeof(msg.parts[0]) * msg.part_count);
        return true;
}

enum cove_store_err lmdb_msg_decode(struct cove_store_txn *txn, const MDB_val *val,
                                    struct lmdb_arena *arena, uint32_t uid,
                                    struct lmdb_msg *msg)
{
        struct lmdb_rbuf r = { .p = val->mv_data, .left = val->mv_size };
        struct cove_store_msg *m = &msg->pub;

        *msg = (struct lmdb_msg){ .pub.uid = uid };
        decode_head(&r, msg);
        size_t count = lmdb_rbuf_u16(&r);
        if (count > COVE_STORE_MAX_KEYWORDS * 4)
                r.bad = true;
        if (!r.bad) {
                const char **kw = lmdb_arena_alloc(arena, (count + 1) * sizeof(*kw));
                for (size_t i = 0; i < count; i++)
                        kw[i] = lmdb_rbuf_lstr(&r, arena, NULL);
                m->keywords = kw;
                m->keyword_count = count;
        }
        size_t slen;
        const char *s = lmdb_rbuf_lstr(&r, arena, &slen);
        m->structure = s;
        m->structure_len = slen;
        if (lmdb_rbuf_u8(&r) != 0)
                m->uidl = lmdb_rbuf_lstr(&r, arena, NULL);
        if (r.bad)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "message record (uid %u) is malformed", uid);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_msg_read(struct cove_store_txn *txn, uint32_t mailbox_id,
                                  uint32_t uid, struct lmdb_arena *arena,
                                  struct lmdb_msg *msg_r)
{
        uint8_t key[8];
        MDB_val v;

        lmdb_msg_key(key, mailbox_id, uid);
        enum cove_store_err err = lmdb_get(txn, LMDB_DB_MESSAGES, key, sizeof(key), &v);
        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, err, "no message with uid %u in mailbox %u",
                                  uid, mailbox_id);
        if (err != COVE_STORE_OK)
                return err;
        return lmdb_msg_decode(txn, &v, arena, uid, msg_r);
}

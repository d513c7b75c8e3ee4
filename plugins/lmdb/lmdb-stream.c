/* lmdb-stream.c - reading message bytes at any offset without pinning a
 * snapshot.
 *
 * Owns: the stream handle. Every read opens a short read txn, checks that the
 * message still exists (EXPUNGED otherwise), copies or decompresses the one
 * chunk containing the offset into the stream's own buffer, ends the txn and
 * returns the run up to the end of that chunk. Does not prefetch.
 */
#include "lmdb-private.h"

#include <stdlib.h>
#include <string.h>

struct cove_store_stream {
        struct cove_store *store;
        uint32_t mailbox_id, uid;
        uint64_t size;
        uint32_t part_count;
        struct lmdb_part parts[COVE_STORE_MAX_PARTS];
        uint8_t *buf;               /* LMDB_CHUNK_SIZE bytes */
        bool cached;                /* buf holds the chunk below */
        uint64_t cache_start;       /* message offset of buf[0] */
        size_t cache_len;
};

/* Reads the message's part list in `txn`. NOTFOUND if it is gone. */
static enum cove_store_err load_parts(struct cove_store *store, MDB_txn *txn,
                                      uint32_t mailbox_id, uint32_t uid, uint64_t *size_r,
                                      uint32_t *count_r, struct lmdb_part *parts)
{
        uint8_t key[8];
        MDB_val k = { .mv_size = sizeof(key), .mv_data = key }, v;

        lmdb_msg_key(key, mailbox_id, uid);
        int rc = mdb_get(txn, store->dbi[LMDB_DB_MESSAGES], &k, &v);
        if (rc == MDB_NOTFOUND)
                return lmdb_error(store, COVE_STORE_NOTFOUND,
                                  "no message with uid %u in mailbox %u", uid, mailbox_id);
        if (rc != 0)
                return lmdb_error(store, COVE_STORE_INTERNAL, "lmdb: get message: %s",
                                  mdb_strerror(rc));
        if (!lmdb_msg_decode_parts(&v, size_r, count_r, parts))
                return lmdb_error(store, COVE_STORE_CORRUPT,
                                  "message record (uid %u) is malformed", uid);
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_stream_open(struct cove_store *store, uint32_t mailbox_id,
                                     uint32_t uid, struct cove_store_stream **stream_r,
                                     uint64_t *size_r)
{
        struct cove_store_stream *s = lmdb_xmalloc(sizeof(*s));
        MDB_txn *txn;

        *s = (struct cove_store_stream){ .store = store, .mailbox_id = mailbox_id, .uid = uid };
        enum cove_store_err err = lmdb_raw_read_begin(store, &txn);
        if (err == COVE_STORE_OK) {
                err = load_parts(store, txn, mailbox_id, uid, &s->size, &s->part_count,
                                 s->parts);
                lmdb_raw_read_end(store, &txn);
        }
        if (err != COVE_STORE_OK) {
                free(s);
                return err;
        }
        s->buf = lmdb_xmalloc(LMDB_CHUNK_SIZE);
        *stream_r = s;
        *size_r = s->size;
        return COVE_STORE_OK;
}

/* Decodes the chunk holding `offset` into s->buf within `txn`. */
static enum cove_store_err fill_chunk(struct cove_store_stream *s, MDB_txn *txn,
                                      uint64_t offset)
{
        uint64_t part_start = 0;

        for (uint32_t i = 0; i < s->part_count; i++) {
                const struct lmdb_part *p = &s->parts[i];
                if (offset >= part_start + p->size) {
                        part_start += p->size;
                        continue;
                }
                uint32_t no = (uint32_t)((offset - part_start) / LMDB_CHUNK_SIZE);
                size_t len;
                enum cove_store_err err = lmdb_blob_read_chunk(s->store, txn, p->hash, p->size,
                                                               no, s->buf, &len);
                if (err == COVE_STORE_NOTFOUND)
                        err = lmdb_error(s->store, COVE_STORE_CORRUPT,
                                         "message uid %u refers to a missing blob", s->uid);
                if (err != COVE_STORE_OK)
                        return err;
                s->cached = true;
                s->cache_start = part_start + (uint64_t)no * LMDB_CHUNK_SIZE;
                s->cache_len = len;
                return COVE_STORE_OK;
        }
        return lmdb_error(s->store, COVE_STORE_CORRUPT, "message parts do not cover its size");
}

enum cove_store_err lmdb_stream_read(struct cove_store_stream *s, uint64_t offset,
                                     const void **data_r, size_t *len_r)
{
        struct lmdb_part parts[COVE_STORE_MAX_PARTS];
        uint32_t count;
        uint64_t size;
        MDB_txn *txn;

        *data_r = s->buf;
        *len_r = 0;
        if (offset >= s->size)
                return COVE_STORE_OK;
        enum cove_store_err err = lmdb_raw_read_begin(s->store, &txn);
        if (err != COVE_STORE_OK)
                return err;
        err = load_parts(s->store, txn, s->mailbox_id, s->uid, &size, &count, parts);
        if (err == COVE_STORE_NOTFOUND)
                err = lmdb_error(s->store, COVE_STORE_EXPUNGED,
                                 "message uid %u was expunged", s->uid);
        bool hit = s->cached && offset >= s->cache_start &&
                   offset - s->cache_start < s->cache_len;
        if (err == COVE_STORE_OK && !hit)
                err = fill_chunk(s, txn, offset);
        lmdb_raw_read_end(s->store, &txn);
        if (err != COVE_STORE_OK) {
                s->cached = false;
                return err;
        }
        /* UNSAFE: offset lies inside [cache_start, cache_start + cache_len). */
        size_t skip = (size_t)(offset - s->cache_start);
        *data_r = s->buf + skip;
        *len_r = s->cache_len - skip;
        return COVE_STORE_OK;
}

void lmdb_stream_close(struct cove_store_stream **sp)
{
        struct cove_store_stream *s = *sp;

        if (s == NULL)
                return;
        *sp = NULL;
        free(s->buf);
        free(s);
}

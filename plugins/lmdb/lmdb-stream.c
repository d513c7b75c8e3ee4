/* lmdb-stream.c - reading message bytes at any offset without pinning a
 * snapshot, inflating compressed chunks only as far as readers go.
 *
 * Owns: the stream handle. Every read opens a short read txn, checks that the
 * message still exists (EXPUNGED otherwise) and, when the offset lies in
 * another chunk than the last read, copies that chunk's stored bytes (raw or
 * zlib) into the stream; the txn then ends. A compressed chunk is inflated
 * from its start only up to the offset plus a run that doubles while the
 * reader goes sequentially, and a later offset in the same chunk resumes the
 * inflation. Does not prefetch other chunks.
 */
#include "lmdb-private.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A random-offset read inflates this far past its offset; a sequential
   reader doubles it up to a whole chunk. */
#define STREAM_RUN_MIN (8u * 1024u)

struct cove_store_stream {
        struct cove_store *store;
        uint32_t mailbox_id, uid;
        uint64_t size;
        uint32_t part_count;
        struct lmdb_part parts[COVE_STORE_MAX_PARTS];
        uint8_t *buf;               /* decoded prefix of the chunk */
        size_t buf_size;            /* min(size, LMDB_CHUNK_SIZE) + 1 */
        uint8_t *zbuf;              /* stored zlib bytes of the chunk */
        size_t zbuf_size;           /* allocated, grown as needed, <= LMDB_CHUNK_SIZE */
        z_stream z;                 /* inflates zbuf into buf while have < chunk_len */
        bool z_ready;               /* inflateInit done: inflateEnd at close */
        bool cached;                /* buf holds (a prefix of) the chunk below */
        uint64_t chunk_start;       /* message offset of buf[0] */
        size_t chunk_len;           /* decoded length of the whole chunk */
        size_t have;                /* bytes of it decoded into buf so far */
        uint64_t next_offset;       /* end of the last run returned */
        size_t run;                 /* current inflate run past the offset */
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

        *s = (struct cove_store_stream){ .store = store, .mailbox_id = mailbox_id,
                                         .uid = uid, .next_offset = UINT64_MAX,
                                         .run = STREAM_RUN_MIN };
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
        /* One spare byte lets inflate show a chunk that decodes too long. */
        s->buf_size = (s->size < LMDB_CHUNK_SIZE ? (size_t)s->size : LMDB_CHUNK_SIZE) + 1;
        s->buf = lmdb_xmalloc(s->buf_size);
        *stream_r = s;
        *size_r = s->size;
        return COVE_STORE_OK;
}

/* Points `z` at the compressed chunk copied into s->zbuf (`len` bytes). */
static enum cove_store_err inflate_start(struct cove_store_stream *s, size_t len)
{
        if (!s->z_ready) {
                s->z = (z_stream){ 0 };
                if (inflateInit(&s->z) != Z_OK)
                        return lmdb_error(s->store, COVE_STORE_INTERNAL, "zlib: inflateInit failed");
                s->z_ready = true;
        } else if (inflateReset(&s->z) != Z_OK) {
                return lmdb_error(s->store, COVE_STORE_INTERNAL, "zlib: inflateReset failed");
        }
        s->z.next_in = s->zbuf;
        s->z.avail_in = (uInt)len;
        return COVE_STORE_OK;
}

/* Copies the stored bytes of the chunk holding `offset` within `txn`: raw
   chunks straight into s->buf, compressed ones into s->zbuf (inflated later,
   outside the txn). */
static enum cove_store_err fill_chunk(struct cove_store_stream *s, MDB_txn *txn,
                                      uint64_t offset)
{
        uint64_t part_start = 0;
        uint32_t i = 0;

        while (i < s->part_count && offset >= part_start + s->parts[i].size)
                part_start += s->parts[i++].size;
        if (i == s->part_count)
                return lmdb_error(s->store, COVE_STORE_CORRUPT,
                                  "message parts do not cover its size");
        uint32_t no = (uint32_t)((offset - part_start) / LMDB_CHUNK_SIZE);
        MDB_val v;
        bool compressed;
        size_t len;
        enum cove_store_err err = lmdb_blob_chunk_raw(s->store, txn, s->parts[i].hash,
                                                      s->parts[i].size, no, &v,
                                                      &compressed, &len);
        if (err == COVE_STORE_NOTFOUND)
                err = lmdb_error(s->store, COVE_STORE_CORRUPT,
                                 "message uid %u refers to a missing blob", s->uid);
        if (err != COVE_STORE_OK)
                return err;
        if (len >= s->buf_size)     /* part sizes that overflow the message size */
                return lmdb_error(s->store, COVE_STORE_CORRUPT,
                                  "message uid %u: parts larger than the message", s->uid);
        if (compressed) {
                /* UNSAFE: lmdb_blob_chunk_raw checked v.mv_size <= LMDB_CHUNK_SIZE. */
                if (s->zbuf_size < v.mv_size) {
                        s->zbuf = lmdb_xrealloc(s->zbuf, v.mv_size);
                        s->zbuf_size = v.mv_size;
                }
                memcpy(s->zbuf, v.mv_data, v.mv_size);
                err = inflate_start(s, v.mv_size);
                s->have = 0;
        } else {
                /* UNSAFE: len < buf_size (checked above). */
                memcpy(s->buf, v.mv_data, len);
                s->have = len;
        }
        s->cached = err == COVE_STORE_OK;
        s->chunk_start = part_start + (uint64_t)no * LMDB_CHUNK_SIZE;
        s->chunk_len = len;
        return err;
}

/* Inflates the current chunk until `target` bytes of it are decoded. Going
   to the chunk's end also checks zlib's trailer (Adler-32) and that nothing
   is left over; a prefix cannot be verified. */
static enum cove_store_err inflate_to(struct cove_store_stream *s, size_t target)
{
        bool to_end = target == s->chunk_len;
        uint8_t *out = s->buf + s->have;

        s->z.next_out = out;
        /* UNSAFE: have < target <= chunk_len < buf_size (fill_chunk checked). */
        s->z.avail_out = (uInt)(target - s->have + (to_end ? 1 : 0));
        /* Z_FINISH on the last call also spares zlib copying into its window. */
        int rc = inflate(&s->z, to_end ? Z_FINISH : Z_SYNC_FLUSH);
        s->have += (size_t)(s->z.next_out - out);
        bool ok = to_end ? rc == Z_STREAM_END && s->have == target && s->z.avail_in == 0
                         : rc == Z_OK && s->have == target;
        if (!ok) {
                s->cached = false;
                return lmdb_error(s->store, COVE_STORE_CORRUPT,
                                  "message uid %u: compressed chunk at %llu does not "
                                  "decompress", s->uid, (unsigned long long)s->chunk_start);
        }
        return COVE_STORE_OK;
}

/* Checks the message still exists and brings the chunk holding `offset`
   into the stream, all in one short read txn. */
static enum cove_store_err locate(struct cove_store_stream *s, uint64_t offset)
{
        struct lmdb_part parts[COVE_STORE_MAX_PARTS];
        uint32_t count;
        uint64_t size;
        MDB_txn *txn;

        enum cove_store_err err = lmdb_raw_read_begin(s->store, &txn);
        if (err != COVE_STORE_OK)
                return err;
        err = load_parts(s->store, txn, s->mailbox_id, s->uid, &size, &count, parts);
        if (err == COVE_STORE_NOTFOUND)
                err = lmdb_error(s->store, COVE_STORE_EXPUNGED,
                                 "message uid %u was expunged", s->uid);
        bool hit = s->cached && offset >= s->chunk_start &&
                   offset - s->chunk_start < s->chunk_len;
        if (err == COVE_STORE_OK && !hit)
                err = fill_chunk(s, txn, offset);
        lmdb_raw_read_end(s->store, &txn);
        return err;
}

enum cove_store_err lmdb_stream_read(struct cove_store_stream *s, uint64_t offset,
                                     const void **data_r, size_t *len_r)
{
        *data_r = s->buf;
        *len_r = 0;
        if (offset >= s->size)
                return COVE_STORE_OK;
        enum cove_store_err err = locate(s, offset);
        if (err != COVE_STORE_OK) {
                s->cached = false;
                return err;
        }
        if (offset == s->next_offset)
                s->run = s->run >= LMDB_CHUNK_SIZE / 2 ? LMDB_CHUNK_SIZE : s->run * 2;
        else
                s->run = STREAM_RUN_MIN;
        /* UNSAFE: locate() left offset inside [chunk_start, chunk_start + chunk_len). */
        size_t skip = (size_t)(offset - s->chunk_start);
        if (skip >= s->have) {
                size_t target = s->chunk_len - skip <= s->run ? s->chunk_len : skip + s->run;
                err = inflate_to(s, target);
                if (err != COVE_STORE_OK)
                        return err;
        }
        *data_r = s->buf + skip;
        *len_r = s->have - skip;
        s->next_offset = offset + *len_r;
        return COVE_STORE_OK;
}

void lmdb_stream_close(struct cove_store_stream **sp)
{
        struct cove_store_stream *s = *sp;

        if (s == NULL)
                return;
        *sp = NULL;
        if (s->z_ready)
                inflateEnd(&s->z);
        free(s->zbuf);
        free(s->buf);
        free(s);
}

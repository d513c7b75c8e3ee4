/* lmdb-blobs.c - content-addressed, reference-counted body blobs.
 *
 * Owns: SHA-256 addressing, the blob record {refcount, size, stored bytes,
 * chunk count, per-chunk compression bitmap}, splitting into LMDB_CHUNK_SIZE
 * chunks each zlib-compressed on its own when the blob is at least
 * compress_threshold bytes and compression shrinks that chunk, reference
 * counting, freeing the last reference, and finding one chunk's stored
 * bytes for a reader (streams decompress them themselves).
 * Does not know which messages use a blob.
 *
 * Record v1: u8 version, u64 refcount, u64 size, u64 stored, u32 chunks,
 * ceil(chunks / 8) bitmap bytes (bit i set: chunk i is zlib data).
 */
#include "lmdb-private.h"

#include <openssl/evp.h>
#include <string.h>
#include <zlib.h>

struct blob_rec {
        uint64_t refcount, size, stored;
        uint32_t chunks;
        const uint8_t *bitmap;      /* borrowed from the LMDB value */
};

static uint32_t chunk_count(uint64_t size)
{
        return (uint32_t)((size + LMDB_CHUNK_SIZE - 1) / LMDB_CHUNK_SIZE);
}

static bool blob_decode(const MDB_val *v, struct blob_rec *b)
{
        struct lmdb_rbuf r = { .p = v->mv_data, .left = v->mv_size };

        if (lmdb_rbuf_u8(&r) != LMDB_RECORD_V1)
                return false;
        b->refcount = lmdb_rbuf_u64(&r);
        b->size = lmdb_rbuf_u64(&r);
        b->stored = lmdb_rbuf_u64(&r);
        b->chunks = lmdb_rbuf_u32(&r);
        b->bitmap = lmdb_rbuf_bytes(&r, (b->chunks + 7u) / 8u);
        return !r.bad && b->bitmap != NULL && b->chunks == chunk_count(b->size);
}

static void blob_encode(const struct blob_rec *b, struct lmdb_wbuf *w)
{
        lmdb_wbuf_u8(w, LMDB_RECORD_V1);
        lmdb_wbuf_u64(w, b->refcount);
        lmdb_wbuf_u64(w, b->size);
        lmdb_wbuf_u64(w, b->stored);
        lmdb_wbuf_u32(w, b->chunks);
        lmdb_wbuf_bytes(w, b->bitmap, (b->chunks + 7u) / 8u);
}

static enum cove_store_err blob_put(struct cove_store_txn *txn, const uint8_t *hash,
                                    const struct blob_rec *b)
{
        struct lmdb_wbuf w = { 0 };

        blob_encode(b, &w);
        enum cove_store_err err = lmdb_put(txn, LMDB_DB_BLOBS, hash, LMDB_HASH_LEN,
                                           w.data, w.len, 0);
        lmdb_wbuf_free(&w);
        return err;
}

static enum cove_store_err blob_get(struct cove_store_txn *txn, const uint8_t *hash,
                                    struct blob_rec *b)
{
        MDB_val v;
        enum cove_store_err err = lmdb_get(txn, LMDB_DB_BLOBS, hash, LMDB_HASH_LEN, &v);

        if (err != COVE_STORE_OK)
                return err;
        if (!blob_decode(&v, b))
                return lmdb_error(txn->store, COVE_STORE_CORRUPT, "blob record is malformed");
        return COVE_STORE_OK;
}

static void chunk_key(uint8_t key[LMDB_HASH_LEN + 4], const uint8_t *hash, uint32_t no)
{
        memcpy(key, hash, LMDB_HASH_LEN);
        lmdb_be32(key + LMDB_HASH_LEN, no);
}

static enum cove_store_err add_stored(struct cove_store_txn *txn, int64_t delta)
{
        uint64_t v;
        enum cove_store_err err = lmdb_meta_get(txn, LMDB_META_BYTES_STORED, &v);

        if (err != COVE_STORE_OK)
                return err;
        if (delta < 0 && (uint64_t)-delta > v)
                v = 0;
        else
                v += (uint64_t)delta;
        return lmdb_meta_set(txn, LMDB_META_BYTES_STORED, v);
}

/* Writes chunk `no` (raw bytes `data`), compressed when asked and smaller. */
static enum cove_store_err chunk_write(struct cove_store_txn *txn, const uint8_t *hash,
                                       uint32_t no, const uint8_t *data, size_t len,
                                       bool compress, uint8_t *bitmap, uint64_t *stored)
{
        struct cove_store *store = txn->store;
        uint8_t key[LMDB_HASH_LEN + 4];
        const uint8_t *val = data;
        size_t val_len = len;

        if (compress) {
                uLongf zlen = store->zbuf_size;
                if (compress2(store->zbuf, &zlen, data, len, store->opts.compress_level) == Z_OK &&
                    zlen < len) {
                        val = store->zbuf;
                        val_len = zlen;
                        bitmap[no / 8] |= (uint8_t)(1u << (no % 8));
                }
        }
        *stored += val_len;
        chunk_key(key, hash, no);
        return lmdb_put(txn, LMDB_DB_CHUNKS, key, sizeof(key), val, val_len, 0);
}

static enum cove_store_err blob_create(struct cove_store_txn *txn, const uint8_t *hash,
                                       const uint8_t *data, uint64_t size)
{
        const struct lmdb_options *o = &txn->store->opts;
        struct blob_rec b = { .refcount = 1, .size = size, .chunks = chunk_count(size) };
        bool compress = o->compress_threshold != 0 && size >= o->compress_threshold;
        uint8_t *bitmap = lmdb_arena_alloc(&txn->arena, (b.chunks + 7u) / 8u + 1);
        enum cove_store_err err = COVE_STORE_OK;

        for (uint32_t i = 0; i < b.chunks && err == COVE_STORE_OK; i++) {
                /* UNSAFE: i < chunk_count(size), so off < size and
                   off + len <= size. */
                uint64_t off = (uint64_t)i * LMDB_CHUNK_SIZE;
                size_t len = size - off < LMDB_CHUNK_SIZE ? (size_t)(size - off)
                                                          : LMDB_CHUNK_SIZE;
                err = chunk_write(txn, hash, i, data + off, len, compress, bitmap, &b.stored);
        }
        b.bitmap = bitmap;
        if (err == COVE_STORE_OK)
                err = blob_put(txn, hash, &b);
        if (err == COVE_STORE_OK)
                err = add_stored(txn, (int64_t)b.stored);
        return err;
}

enum cove_store_err lmdb_blob_store(struct cove_store_txn *txn, const void *data,
                                    uint64_t size, struct lmdb_part *part)
{
        unsigned int md_len = 0;
        struct blob_rec b;

        if (size > (uint64_t)UINT32_MAX * LMDB_CHUNK_SIZE || size > SIZE_MAX)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL, "message part too large");
        if (EVP_Digest(data, (size_t)size, part->hash, &md_len, EVP_sha256(), NULL) != 1 ||
            md_len != LMDB_HASH_LEN)
                return lmdb_error(txn->store, COVE_STORE_INTERNAL, "SHA-256 failed");
        part->size = size;
        enum cove_store_err err = blob_get(txn, part->hash, &b);
        if (err == COVE_STORE_NOTFOUND)
                return blob_create(txn, part->hash, data, size);
        if (err != COVE_STORE_OK)
                return err;
        if (b.size != size)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "blob size differs from the data with the same SHA-256");
        b.refcount++;
        return blob_put(txn, part->hash, &b);
}

enum cove_store_err lmdb_blob_ref(struct cove_store_txn *txn, const struct lmdb_part *part)
{
        struct blob_rec b;
        enum cove_store_err err = blob_get(txn, part->hash, &b);

        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "message refers to a missing blob");
        if (err != COVE_STORE_OK)
                return err;
        b.refcount++;
        return blob_put(txn, part->hash, &b);
}

enum cove_store_err lmdb_blob_unref(struct cove_store_txn *txn, const struct lmdb_part *part)
{
        struct blob_rec b;
        enum cove_store_err err = blob_get(txn, part->hash, &b);

        if (err == COVE_STORE_NOTFOUND)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "message refers to a missing blob");
        if (err != COVE_STORE_OK)
                return err;
        if (b.refcount > 1) {
                b.refcount--;
                return blob_put(txn, part->hash, &b);
        }
        uint64_t stored = b.stored;
        err = lmdb_del_prefix(txn, LMDB_DB_CHUNKS, part->hash, LMDB_HASH_LEN);
        if (err == COVE_STORE_OK)
                err = lmdb_del(txn, LMDB_DB_BLOBS, part->hash, LMDB_HASH_LEN);
        if (err == COVE_STORE_OK)
                err = add_stored(txn, -(int64_t)stored);
        return err;
}

enum cove_store_err lmdb_blob_chunk_raw(struct cove_store *store, MDB_txn *txn,
                                        const uint8_t hash[LMDB_HASH_LEN],
                                        uint64_t blob_size, uint32_t no,
                                        MDB_val *data_r, bool *compressed_r, size_t *len_r)
{
        MDB_val k = { .mv_size = LMDB_HASH_LEN, .mv_data = (void *)hash }, v;
        uint8_t key[LMDB_HASH_LEN + 4];
        struct blob_rec b;
        int rc = mdb_get(txn, store->dbi[LMDB_DB_BLOBS], &k, &v);

        if (rc == MDB_NOTFOUND)
                return lmdb_error(store, COVE_STORE_NOTFOUND, "blob not found");
        if (rc != 0)
                return lmdb_error(store, COVE_STORE_INTERNAL, "lmdb: get blob: %s",
                                  mdb_strerror(rc));
        if (!blob_decode(&v, &b) || b.size != blob_size || no >= b.chunks)
                return lmdb_error(store, COVE_STORE_CORRUPT, "blob record is inconsistent");
        /* UNSAFE: no < b.chunks (checked), so off < b.size. */
        uint64_t off = (uint64_t)no * LMDB_CHUNK_SIZE;
        size_t want = b.size - off < LMDB_CHUNK_SIZE ? (size_t)(b.size - off) : LMDB_CHUNK_SIZE;
        bool compressed = (b.bitmap[no / 8] & (1u << (no % 8))) != 0;
        chunk_key(key, hash, no);
        k = (MDB_val){ .mv_size = sizeof(key), .mv_data = key };
        rc = mdb_get(txn, store->dbi[LMDB_DB_CHUNKS], &k, data_r);
        if (rc != 0)
                return lmdb_error(store, COVE_STORE_CORRUPT, "blob chunk %u missing: %s", no,
                                  mdb_strerror(rc));
        if (compressed ? data_r->mv_size > LMDB_CHUNK_SIZE : data_r->mv_size != want)
                return lmdb_error(store, COVE_STORE_CORRUPT,
                                  "blob chunk %u has the wrong size", no);
        *compressed_r = compressed;
        *len_r = want;
        return COVE_STORE_OK;
}

/* Engine tests: stream reads at arbitrary offsets, across chunk and part
 * boundaries, incremental inflation of compressed chunks, CORRUPT for a
 * damaged chunk, and EXPUNGED when the message vanishes between reads. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "lmdb-test.h"

static struct cove_store *store;
static uint32_t user, inbox;
static void setup(void)
{
        lt_setup();
        store = lt_create(NULL);
        user = lt_user(store, "ann@example.org");
        inbox = lt_mailbox(store, user, "INBOX");
}
static void teardown(void) { ops->close(&store); lt_teardown(); }

TestSuite(lmdb_stream, .init = setup, .fini = teardown);

Test(lmdb_stream, reads_at_any_offset)
{
        const size_t head_len = 1000, body_len = 300 * 1024 + 17;
        uint8_t *head = lt_random(head_len, 5), *body = lt_text(body_len);
        struct cove_store_part parts[2] = { { head, head_len }, { body, body_len } };
        struct cove_store_append a = { .parts = parts, .part_count = 2 };
        struct cove_store_saved s;
        struct cove_store_txn *txn = lt_begin(store, true);
        cr_assert_eq(ops->msg_append(txn, inbox, &a, &s), COVE_STORE_OK);
        lt_commit(&txn);
        size_t total = head_len + body_len;
        uint8_t *whole = malloc(total);
        memcpy(whole, head, head_len);
        memcpy(whole + head_len, body, body_len);

        struct cove_store_stream *st;
        uint64_t size;
        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_OK);
        cr_assert_eq(size, total);
        uint64_t offsets[] = { 0, 1, 999, 1000, 1001, 65535 + 1000, 65536 + 1000,
                               200000, total - 1, 77, 131072 + 1000 - 1 };
        for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
                const void *data;
                size_t len;
                cr_assert_eq(ops->stream_read(st, offsets[i], &data, &len), COVE_STORE_OK);
                cr_assert_gt(len, 0);
                cr_assert_leq(offsets[i] + len, total);
                cr_assert_eq(memcmp(data, whole + offsets[i], len), 0, "offset %llu",
                             (unsigned long long)offsets[i]);
        }
        const void *data;
        size_t len;
        cr_assert_eq(ops->stream_read(st, total, &data, &len), COVE_STORE_OK);
        cr_assert_eq(len, 0);
        cr_assert_eq(ops->stream_read(st, total + 100, &data, &len), COVE_STORE_OK);
        cr_assert_eq(len, 0);
        ops->stream_close(&st);
        free(whole);
        free(head);
        free(body);
}

Test(lmdb_stream, expunged_between_reads)
{
        uint8_t *body = lt_random(200 * 1024, 6);
        struct cove_store_saved s = lt_append(store, inbox, body, 200 * 1024);
        struct cove_store_stream *st;
        uint64_t size;
        const void *data;
        size_t len;

        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_OK);
        cr_assert_eq(ops->stream_read(st, 0, &data, &len), COVE_STORE_OK);
        cr_assert_eq(len, 65536);
        /* The stream holds no transaction, so a writer can expunge now. */
        lt_expunge(store, inbox, s.uid);
        cr_assert_eq(ops->stream_read(st, 70000, &data, &len), COVE_STORE_EXPUNGED);
        cr_assert_eq(ops->stream_read(st, 10, &data, &len), COVE_STORE_EXPUNGED);
        ops->stream_close(&st);
        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->stream_open(store, inbox + 7, 1, &st, &size), COVE_STORE_NOTFOUND);
        free(body);
}

Test(lmdb_stream, stream_survives_other_transactions)
{
        uint8_t *body = lt_text(150 * 1024);
        struct cove_store_saved s = lt_append(store, inbox, body, 150 * 1024);
        struct cove_store_stream *st;
        uint64_t size;
        const void *data;
        size_t len;

        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_OK);
        for (int i = 0; i < 5; i++)
                lt_append(store, inbox, "more\r\n", 6);
        cr_assert_eq(ops->stream_read(st, 140 * 1024, &data, &len), COVE_STORE_OK);
        cr_assert_gt(len, 0);
        cr_assert_leq(len, 150 * 1024 - 140 * 1024);
        cr_assert_eq(memcmp(data, body + 140 * 1024, len), 0);
        ops->stream_close(&st);
        free(body);
}

/* Appends `body` as one message and opens a stream on it. */
static struct cove_store_stream *open_body(const uint8_t *body, size_t len, uint32_t *uid_r)
{
        struct cove_store_saved s = lt_append(store, inbox, body, len);
        struct cove_store_stream *st;
        uint64_t size;

        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_OK);
        cr_assert_eq(size, len);
        if (uid_r != NULL)
                *uid_r = s.uid;
        return st;
}

/* Reads at `off`, asserts a non-empty run matching `body`; returns its length. */
static size_t read_exact(struct cove_store_stream *st, const uint8_t *body, size_t len,
                         uint64_t off)
{
        const void *data;
        size_t got;

        cr_assert_eq(ops->stream_read(st, off, &data, &got), COVE_STORE_OK, "offset %llu",
                     (unsigned long long)off);
        cr_assert_gt(got, 0, "offset %llu", (unsigned long long)off);
        cr_assert_leq(off + got, len);
        cr_assert_eq(memcmp(data, body + off, got), 0, "offset %llu",
                     (unsigned long long)off);
        return got;
}

Test(lmdb_stream, header_read_inflates_only_a_prefix)
{
        const size_t len = 300 * 1024 + 5;
        uint8_t *body = lt_text(len);
        struct cove_store_stream *st = open_body(body, len, NULL);

        /* A fresh stream's first read covers the offset but not the whole
           64 KiB chunk: only a prefix was inflated. */
        size_t got = read_exact(st, body, len, 0);
        cr_assert_geq(got, 512);
        cr_assert_lt(got, 65536);
        /* Small runs at increasing offsets, inside and across chunks. */
        for (uint64_t off = 300; off < len; off += 7919)
                read_exact(st, body, len, off);
        /* Back to the start of a chunk already passed, and its last byte. */
        read_exact(st, body, len, 65536);
        got = read_exact(st, body, len, 2 * 65536 - 1);
        cr_assert_eq(got, 1);
        ops->stream_close(&st);
        free(body);
}

Test(lmdb_stream, sequential_reads_grow_to_whole_chunks)
{
        const size_t len = 1024 * 1024;
        uint8_t *body = lt_text(len);
        struct cove_store_stream *st = open_body(body, len, NULL);
        uint64_t off = 0;
        size_t reads = 0, last = 0;

        while (off < len) {
                last = read_exact(st, body, len, off);
                off += last;
                reads++;
        }
        cr_assert_eq(off, len);
        /* 8 + 16 + 32 KiB, then the rest of chunk 0, then whole chunks. */
        cr_assert_eq(last, 65536);
        cr_assert_eq(reads, 4 + 15);
        ops->stream_close(&st);
        free(body);
}

/* Reads 400 random offsets (some runs short, some to the chunk's end) and
   then the whole body sequentially; every byte must match. */
static void random_offsets(uint8_t *body, size_t len, uint32_t seed)
{
        uint32_t uid;
        struct cove_store_stream *st = open_body(body, len, &uid);
        uint64_t x = 0x2545F4914F6CDD1Dull ^ seed;

        for (int i = 0; i < 400; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                uint64_t off = x % len;
                size_t got = read_exact(st, body, len, off);
                if (i % 3 == 0 && off + got < len)
                        read_exact(st, body, len, off + got);
        }
        ops->stream_close(&st);
        size_t all_len;
        uint8_t *all = lt_read_all(store, inbox, uid, &all_len);
        cr_assert_eq(all_len, len);
        cr_assert_eq(memcmp(all, body, len), 0);
        free(all);
        free(body);
}

Test(lmdb_stream, random_offsets_text_1mb) { random_offsets(lt_text(1000 * 1000), 1000 * 1000, 1); }
Test(lmdb_stream, random_offsets_text_5mb) { random_offsets(lt_text(5 << 20), 5 << 20, 2); }
Test(lmdb_stream, random_offsets_random_1mb)
{
        random_offsets(lt_random(1 << 20, 3), 1 << 20, 3);
}
Test(lmdb_stream, random_offsets_random_5mb)
{
        random_offsets(lt_random(5 * 1000 * 1000, 4), 5 * 1000 * 1000, 4);
}

/* With the store closed, rewrites chunk 0 of the store's only blob through
   LMDB directly: flips the byte at `at` (negative: from the end). */
static void corrupt_first_chunk(long at)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        MDB_cursor *cur;
        MDB_val k, v;

        cr_assert_eq(mdb_env_create(&env), 0);
        mdb_env_set_maxdbs(env, 32);
        cr_assert_eq(mdb_env_open(env, lt_dir, 0, 0600), 0);
        cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
        cr_assert_eq(mdb_dbi_open(txn, "chunks", 0, &dbi), 0);
        cr_assert_eq(mdb_cursor_open(txn, dbi, &cur), 0);
        cr_assert_eq(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
        cr_assert_eq(((const uint8_t *)k.mv_data)[k.mv_size - 1], 0, "not chunk 0");
        cr_assert_lt(v.mv_size, 65536, "chunk 0 is not compressed");
        uint8_t *copy = malloc(v.mv_size);
        memcpy(copy, v.mv_data, v.mv_size);
        size_t pos = at < 0 ? v.mv_size - (size_t)-at : (size_t)at;
        copy[pos] ^= 0x5a;
        v.mv_data = copy;
        cr_assert_eq(mdb_cursor_put(cur, &k, &v, MDB_CURRENT), 0);
        mdb_cursor_close(cur);
        cr_assert_eq(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
        free(copy);
}

Test(lmdb_stream, bad_checksum_is_corrupt_at_chunk_end)
{
        const size_t len = 200 * 1024;
        uint8_t *body = lt_text(len);
        struct cove_store_saved s = lt_append(store, inbox, body, len);
        struct cove_store_stream *st;
        uint64_t size;
        const void *data;
        size_t got;

        ops->close(&store);
        corrupt_first_chunk(-1);        /* the Adler-32 trailer */
        store = lt_reopen();
        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_OK);
        /* A prefix cannot be verified: it reads fine. */
        read_exact(st, body, len, 0);
        /* Reading to the chunk's end checks the trailer. */
        cr_assert_eq(ops->stream_read(st, 65000, &data, &got), COVE_STORE_CORRUPT);
        cr_assert_eq(ops->stream_read(st, 65535, &data, &got), COVE_STORE_CORRUPT);
        /* Other chunks are unaffected. */
        read_exact(st, body, len, 65536);
        ops->stream_close(&st);
        free(body);
}

Test(lmdb_stream, garbled_chunk_is_corrupt)
{
        const size_t len = 200 * 1024;
        uint8_t *body = lt_text(len);
        struct cove_store_saved s = lt_append(store, inbox, body, len);
        struct cove_store_stream *st;
        uint64_t size, off = 0;
        const void *data;
        size_t got;
        enum cove_store_err err;

        ops->close(&store);
        corrupt_first_chunk(40);
        store = lt_reopen();
        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_OK);
        /* Either inflate notices bad data or the checksum does at the end;
           nothing wrong is ever returned on the way. */
        while ((err = ops->stream_read(st, off, &data, &got)) == COVE_STORE_OK) {
                cr_assert_gt(got, 0);
                cr_assert_lt(off + got, 65536, "corrupt chunk read to its end");
                cr_assert_eq(memcmp(data, body + off, got), 0);
                off += got;
        }
        cr_assert_eq(err, COVE_STORE_CORRUPT);
        ops->stream_close(&st);
        free(body);
}

Test(lmdb_stream, expunged_inside_a_partly_inflated_chunk)
{
        const size_t len = 100 * 1024;
        uint8_t *body = lt_text(len);
        uint32_t uid;
        struct cove_store_stream *st = open_body(body, len, &uid);
        const void *data;
        size_t got;

        got = read_exact(st, body, len, 0);
        cr_assert_lt(got, 65536);
        lt_expunge(store, inbox, uid);
        /* Bytes already inflated and bytes still to inflate: both gone. */
        cr_assert_eq(ops->stream_read(st, 100, &data, &got), COVE_STORE_EXPUNGED);
        cr_assert_eq(ops->stream_read(st, 40000, &data, &got), COVE_STORE_EXPUNGED);
        ops->stream_close(&st);
        free(body);
}

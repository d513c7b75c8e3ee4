/* Engine tests: single-instance blobs (dedup, sharing across parts, freeing)
 * and per-chunk compression, always byte-exact. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lmdb-test.h"

static struct cove_store *store;
static uint32_t user, inbox;

static void open_with(const char *const *extra)
{
        store = lt_create(extra);
        user = lt_user(store, "ann@example.org");
        inbox = lt_mailbox(store, user, "INBOX");
}
static void teardown(void) { ops->close(&store); lt_teardown(); }

TestSuite(lmdb_blobs, .init = lt_setup, .fini = teardown);

static void expect_body(uint32_t uid, const uint8_t *want, size_t want_len)
{
        size_t len;
        uint8_t *data = lt_read_all(store, inbox, uid, &len);
        cr_assert_eq(len, want_len);
        cr_assert_eq(memcmp(data, want, len), 0, "uid %u differs", uid);
        free(data);
}

Test(lmdb_blobs, identical_bodies_are_stored_once)
{
        open_with(NULL);
        uint8_t *body = lt_random(300 * 1024, 1);
        lt_append(store, inbox, body, 300 * 1024);
        lt_append(store, inbox, body, 300 * 1024);
        struct cove_store_stats st = lt_stats(store);
        cr_assert_eq(st.messages, 2);
        cr_assert_eq(st.bytes_received, 600 * 1024);
        cr_assert_eq(st.bytes_stored, 300 * 1024);
        lt_expunge(store, inbox, 1);
        cr_assert_eq(lt_stats(store).bytes_stored, 300 * 1024, "still referenced");
        expect_body(2, body, 300 * 1024);
        lt_expunge(store, inbox, 2);
        cr_assert_eq(lt_stats(store).bytes_stored, 0, "last reference frees the chunks");
        free(body);
}

Test(lmdb_blobs, parts_are_shared_separately)
{
        open_with(NULL);
        uint8_t *body = lt_random(100 * 1024, 2);
        const char *h1 = "Delivered-To: a@example.org\r\n", *h2 = "Delivered-To: b@x.org\r\n";
        struct cove_store_part p1[2] = { { h1, strlen(h1) }, { body, 100 * 1024 } };
        struct cove_store_part p2[2] = { { h2, strlen(h2) }, { body, 100 * 1024 } };
        struct cove_store_append a1 = { .parts = p1, .part_count = 2 };
        struct cove_store_append a2 = { .parts = p2, .part_count = 2 };
        struct cove_store_saved s;
        struct cove_store_txn *txn = lt_begin(store, true);
        cr_assert_eq(ops->msg_append(txn, inbox, &a1, &s), COVE_STORE_OK);
        cr_assert_eq(ops->msg_append(txn, inbox, &a2, &s), COVE_STORE_OK);
        lt_commit(&txn);
        struct cove_store_stats st = lt_stats(store);
        cr_assert_eq(st.bytes_stored, 100 * 1024 + strlen(h1) + strlen(h2));
        uint8_t *want = malloc(strlen(h2) + 100 * 1024);
        memcpy(want, h2, strlen(h2));
        memcpy(want + strlen(h2), body, 100 * 1024);
        expect_body(2, want, strlen(h2) + 100 * 1024);
        free(want);
        free(body);
}

Test(lmdb_blobs, text_is_compressed_random_is_not)
{
        const size_t mb = 1024 * 1024;
        open_with(NULL);
        uint8_t *text = lt_text(mb);
        uint8_t *noise = lt_random(mb, 3);
        lt_append(store, inbox, text, mb);
        uint64_t after_text = lt_stats(store).bytes_stored;
        cr_assert_lt(after_text, mb / 4, "1 MB of text stored in %llu bytes",
                     (unsigned long long)after_text);
        lt_append(store, inbox, noise, mb);
        uint64_t noise_stored = lt_stats(store).bytes_stored - after_text;
        cr_assert_eq(noise_stored, mb, "incompressible chunks are kept raw");
        expect_body(1, text, mb);
        expect_body(2, noise, mb);
        free(text);
        free(noise);
}

Test(lmdb_blobs, threshold_zero_disables_compression)
{
        const char *opts[] = { "compress_threshold", "0", NULL };
        open_with(opts);
        uint8_t *text = lt_text(200 * 1024);
        lt_append(store, inbox, text, 200 * 1024);
        cr_assert_eq(lt_stats(store).bytes_stored, 200 * 1024);
        expect_body(1, text, 200 * 1024);
        free(text);
}

Test(lmdb_blobs, small_bodies_below_threshold_stay_raw)
{
        const char *opts[] = { "compress_threshold", "64k", "compress_level", "1", NULL };
        open_with(opts);
        uint8_t *text = lt_text(60 * 1024);
        lt_append(store, inbox, text, 60 * 1024);
        cr_assert_eq(lt_stats(store).bytes_stored, 60 * 1024);
        uint8_t *big = lt_text(70 * 1024);
        big[0] = 'X';
        lt_append(store, inbox, big, 70 * 1024);
        cr_assert_lt(lt_stats(store).bytes_stored, 60 * 1024 + 35 * 1024);
        expect_body(2, big, 70 * 1024);
        free(text);
        free(big);
}

Test(lmdb_blobs, empty_message)
{
        open_with(NULL);
        struct cove_store_saved s = lt_append(store, inbox, "", 0);
        struct cove_store_stream *st;
        uint64_t size;
        const void *data;
        size_t len;
        cr_assert_eq(ops->stream_open(store, inbox, s.uid, &st, &size), COVE_STORE_OK);
        cr_assert_eq(size, 0);
        cr_assert_eq(ops->stream_read(st, 0, &data, &len), COVE_STORE_OK);
        cr_assert_eq(len, 0);
        ops->stream_close(&st);
        lt_expunge(store, inbox, s.uid);
}

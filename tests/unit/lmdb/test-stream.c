/* Engine tests: stream reads at arbitrary offsets, across chunk and part
 * boundaries, and EXPUNGED when the message vanishes between reads. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

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
        cr_assert_eq(len, 150 * 1024 - 140 * 1024);
        cr_assert_eq(memcmp(data, body + 140 * 1024, len), 0);
        ops->stream_close(&st);
        free(body);
}

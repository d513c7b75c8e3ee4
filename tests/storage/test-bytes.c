/* test-bytes.c - conformance: message bytes come back exactly as appended,
 * whole and from any offset, whatever they contain (8-bit, binary, NULs, any
 * line endings, 20 MB), including multi-part appends and across reopen.
 */
#include "conformance.h"

#include <string.h>
#include <time.h>

CT_SUITE(bytes);

struct sample {
        const char *what;
        unsigned char *data;
        size_t len;
};

static struct sample text_8bit(struct pool *pool)
{
        static const char head[] = "Subject: caf\xe9 \xa4 8bit\r\nContent-Type: text/plain; "
                                   "charset=iso-8859-1\r\n\r\n";
        size_t len = sizeof(head) - 1 + 128 * 3;
        unsigned char *d = pool_alloc(pool, len), *p = d + sizeof(head) - 1;

        memcpy(d, head, sizeof(head) - 1);
        for (unsigned i = 0; i < 128; i++) {
                *p++ = (unsigned char)(0x80 + i);
                *p++ = '\r';
                *p++ = '\n';
        }
        return (struct sample){ "8-bit text", d, len };
}

static struct sample binary(struct pool *pool)
{
        size_t len = 256 * 40 + 7;
        unsigned char *d = pool_alloc(pool, len);

        for (size_t i = 0; i < len; i++)
                d[i] = (unsigned char)((i * 7 + i / 256) & 0xff);
        for (unsigned v = 0; v < 256; v++)   /* every value, in order, too */
                d[v] = (unsigned char)v;
        return (struct sample){ "binary", d, len };
}

static struct sample literal(const char *what, const char *text, size_t len)
{
        return (struct sample){ what, (unsigned char *)text, len };
}

#define LIT(what, s) literal(what, s, sizeof(s) - 1)

static void collect(struct pool *pool, struct sample *out, size_t *n)
{
        out[(*n)++] = text_8bit(pool);
        out[(*n)++] = binary(pool);
        out[(*n)++] = LIT("CRLF", "From: a@b\r\nSubject: crlf\r\n\r\nline 1\r\nline 2\r\n");
        out[(*n)++] = LIT("bare LF", "From: a@b\nSubject: lf\n\nline 1\nline 2\n");
        out[(*n)++] = LIT("mixed", "From: a@b\r\nSubject: mixed\n\r\nA\rB\r\r\nC\n\nD\r\n.\r\n");
        out[(*n)++] = LIT("NUL", "Subject: nul\r\n\r\nbefore\0after\r\n\0\0\r\n");
        out[(*n)++] = LIT("no final newline", "Subject: x\r\n\r\nno newline");
        out[(*n)++] = LIT("headers only", "Subject: only headers\r\n");
        out[(*n)++] = LIT("one byte", "x");
        out[(*n)++] = LIT("dot lines", ".\r\n..\r\n.x\r\n\r\n.\r\n");
}

/* Reads random ranges (and the edges) of the message and compares. */
static void assert_ranges(uint32_t box, uint32_t uid, const unsigned char *data, size_t len,
                          uint64_t *seed, int rounds)
{
        struct store_stream *stream = NULL;
        uint64_t size = 0;
        size_t max_chunk = len < 70000 ? len + 10 : 70000;
        unsigned char *buf = pool_alloc(ts->pool, max_chunk + 1);

        ct_assert_ok(store_stream_open(ts->store, box, uid, &stream, &size));
        cr_assert_eq(size, len, "stream size %llu, want %zu", (unsigned long long)size, len);
        for (int i = 0; i < rounds; i++) {
                size_t off = (size_t)(test_rand_next(seed) % (len + 2));
                size_t want = (size_t)(test_rand_next(seed) % (max_chunk + 1));
                if (i == 0)
                        off = 0;
                else if (i == 1)
                        off = len - 1;
                size_t expect = off >= len ? 0 : (want < len - off ? want : len - off);
                size_t got = 0;
                ct_assert_ok(test_store_read_range(stream, off, buf, want, &got));
                cr_assert_eq(got, expect, "range %zu+%zu: got %zu bytes", off, want, got);
                cr_assert(got == 0 || memcmp(buf, data + off, got) == 0,
                          "range %zu+%zu differs", off, want);
        }
        /* At and past the end: zero bytes, not an error. */
        const void *p = NULL;
        size_t n = 1;
        ct_assert_ok(store_stream_read(stream, len, &p, &n));
        cr_assert_eq(n, 0u);
        n = 1;
        ct_assert_ok(store_stream_read(stream, len + 1000, &p, &n));
        cr_assert_eq(n, 0u);
        store_stream_close(&stream);
        cr_assert_null(stream);
}

Test(bytes, round_trip_samples)
{
        uint32_t user = ct_user_add("bytes@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        struct sample s[16];
        uint32_t uids[16];
        size_t n = 0;
        uint64_t seed = 12345, total = 0;

        collect(ts->pool, s, &n);
        for (size_t i = 0; i < n; i++) {
                uids[i] = ct_append(box, s[i].data, s[i].len, 0).uid;
                total += s[i].len;
        }
        for (size_t i = 0; i < n; i++) {
                cr_log_info("sample: %s", s[i].what);
                ct_assert_body(box, uids[i], s[i].data, s[i].len);
                assert_ranges(box, uids[i], s[i].data, s[i].len, &seed, 40);
        }
        struct cove_store_mailbox mb = ct_mailbox_get(box);
        cr_assert_eq(mb.bytes, total);
        cr_assert_eq(mb.messages, n);

        struct store_txn *txn = NULL;
        const struct cove_store_msg *m = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        for (size_t i = 0; i < n; i++) {
                ct_assert_ok(store_msg_get(txn, box, uids[i], &m));
                cr_assert_eq(m->size, s[i].len, "%s: size %llu", s[i].what,
                             (unsigned long long)m->size);
        }
        store_txn_abort(&txn);

        ct_reopen();
        for (size_t i = 0; i < n; i++)
                ct_assert_body(box, uids[i], s[i].data, s[i].len);
}

/* An empty message: the facade accepts it (POP3 and IMAP can both carry
   zero octets), stores it as zero bytes and counts it like any other. */
Test(bytes, empty_message_round_trips)
{
        uint32_t user = ct_user_add("bytes@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        struct cove_store_part none = { .data = "", .size = 0 };
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;
        const struct cove_store_msg *m = NULL;

        uint32_t uid = ct_append(box, "", 0, 0).uid;
        ct_assert_ok(store_deliver(ts->store, "bytes@example.org", NULL, &none, 1, &saved));
        cr_assert_gt(saved.uid, uid);
        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_get(txn, box, uid, &m));
        cr_assert_eq(m->size, 0u);
        store_txn_abort(&txn);
        ct_assert_body(box, uid, "", 0);
        ct_assert_body(box, saved.uid, "", 0);

        struct store_stream *stream = NULL;
        uint64_t size = 1;
        const void *data = NULL;
        size_t len = 1;
        ct_assert_ok(store_stream_open(ts->store, box, uid, &stream, &size));
        cr_assert_eq(size, 0u);
        ct_assert_ok(store_stream_read(stream, 0, &data, &len));
        cr_assert_eq(len, 0u);
        store_stream_close(&stream);

        struct cove_store_mailbox mb = ct_mailbox_get(box);
        cr_assert_eq(mb.messages, 2u);
        cr_assert_eq(mb.bytes, 0u);
        cr_assert_eq(ct_count_messages(box), 2u);
        struct cove_store_user u = ct_user_get(user);
        cr_assert_eq(u.used_messages, 2u);
        cr_assert_eq(u.used_bytes, 0u);
        ct_expunge(box, uid);
        cr_assert_eq(ct_user_get(user).used_messages, 1u);
}

static enum cove_store_err append_parts(uint32_t box, const struct cove_store_part *parts,
                                        size_t count, struct cove_store_saved *saved_r)
{
        struct store_append app = { .parts = parts, .part_count = count };
        struct store_txn *txn = NULL;
        enum cove_store_err err;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        err = store_msg_append(txn, box, &app, saved_r);
        if (err == COVE_STORE_OK)
                ct_assert_ok(store_txn_commit(&txn));
        else
                store_txn_abort(&txn);
        return err;
}

Test(bytes, multi_part_append)
{
        uint32_t user = ct_user_add("bytes@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        struct pool *pool = ts->pool;
        struct sample bin = binary(pool);
        unsigned char *body = test_msg_make(pool, 3, 9000);
        static const char hdr[] = "Return-Path: <a@b>\r\nDelivered-To: bytes@example.org\r\n";
        struct cove_store_part parts[COVE_STORE_MAX_PARTS + 1];
        struct cove_store_saved saved;
        uint64_t seed = 99;

        /* Header prefix + body, as LMTP delivers. */
        parts[0] = (struct cove_store_part){ hdr, sizeof(hdr) - 1 };
        parts[1] = (struct cove_store_part){ body, 9000 };
        ct_assert_ok(append_parts(box, parts, 2, &saved));
        unsigned char *joined = pool_alloc(pool, sizeof(hdr) - 1 + 9000);
        memcpy(joined, hdr, sizeof(hdr) - 1);
        memcpy(joined + sizeof(hdr) - 1, body, 9000);
        ct_assert_body(box, saved.uid, joined, sizeof(hdr) - 1 + 9000);
        assert_ranges(box, saved.uid, joined, sizeof(hdr) - 1 + 9000, &seed, 30);

        /* The most parts allowed, one of them empty, cutting across bytes. */
        size_t cuts[COVE_STORE_MAX_PARTS + 1] = { 0, 1, 2, 2, 100, 257, 4000, 8000, 10247 };
        for (size_t i = 0; i < COVE_STORE_MAX_PARTS; i++)
                parts[i] = (struct cove_store_part){ bin.data + cuts[i], cuts[i + 1] - cuts[i] };
        ct_assert_ok(append_parts(box, parts, COVE_STORE_MAX_PARTS, &saved));
        ct_assert_body(box, saved.uid, bin.data, bin.len);
        assert_ranges(box, saved.uid, bin.data, bin.len, &seed, 30);

        uint32_t count = ct_mailbox_get(box).messages;
        parts[COVE_STORE_MAX_PARTS] = (struct cove_store_part){ "x", 1 };
        ct_assert_fails(append_parts(box, parts, COVE_STORE_MAX_PARTS + 1, &saved));
        ct_assert_fails(append_parts(box, parts, 0, &saved));
        cr_assert_eq(ct_mailbox_get(box).messages, count, "refused appends stored something");
}

/* 20 MB: the first half pseudo-random (incompressible), the second text
   lines (compressible), so compression and chunking both get exercised. */
Test(bytes, twenty_megabytes)
{
        const size_t len = 20u * 1024 * 1024;
        uint32_t user = ct_user_add("bytes@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        unsigned char *big = pool_alloc(ts->pool, len);
        uint64_t state = 777, seed = 4242;
        static const char line[] = "The quick brown fox jumps over the lazy dog 0123456789\r\n";
        static const char head[] = "Subject: big\r\nContent-Type: application/octet-stream\r\n\r\n";

        memcpy(big, head, sizeof(head) - 1);
        for (size_t i = sizeof(head) - 1; i < len / 2; i += 8) {
                uint64_t r = test_rand_next(&state);
                memcpy(big + i, &r, len / 2 - i < 8 ? len / 2 - i : 8);
        }
        for (size_t i = len / 2; i < len; i++)
                big[i] = (unsigned char)line[(i - len / 2) % (sizeof(line) - 1)];
        uint32_t uid = ct_append(box, big, len, 0).uid;
        ct_assert_body(box, uid, big, len);
        assert_ranges(box, uid, big, len, &seed, 60);
        cr_assert_eq(ct_mailbox_get(box).bytes, len);
        cr_assert_eq(ct_user_get(user).used_bytes, len);
}

Test(bytes, stream_of_missing_message)
{
        uint32_t user = ct_user_add("bytes@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        struct store_stream *stream = NULL;
        uint64_t size = 0;
        static const char m[] = "Subject: s\r\n\r\ns\r\n";

        ct_assert_code(store_stream_open(ts->store, box, 1, &stream, &size),
                       COVE_STORE_NOTFOUND);
        ct_assert_code(store_stream_open(ts->store, 999999, 1, &stream, &size),
                       COVE_STORE_NOTFOUND);
        uint32_t uid = ct_append(box, m, sizeof(m) - 1, 0).uid;
        ct_expunge(box, uid);
        ct_assert_code(store_stream_open(ts->store, box, uid, &stream, &size),
                       COVE_STORE_NOTFOUND);
}

Test(bytes, metadata_round_trip)
{
        uint32_t user = ct_user_add("bytes@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        static const char m[] = "From: a@example.org\r\nSubject: meta\r\n"
                                "Content-Type: text/plain\r\n\r\nbody\r\n";
        struct cove_store_part part = { m, sizeof(m) - 1 };
        struct store_append dated = { .parts = &part, .part_count = 1,
                                      .internal_date = 1234567890, .internal_tz = -300,
                                      .uidl = "pop-uidl-1" };
        struct store_append now = { .parts = &part, .part_count = 1 };
        struct cove_store_saved s1, s2;
        struct store_txn *txn = NULL;
        const struct cove_store_msg *msg = NULL;
        int64_t t0 = (int64_t)time(NULL);

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_append(txn, box, &dated, &s1));
        ct_assert_ok(store_msg_append(txn, box, &now, &s2));
        ct_assert_ok(store_txn_commit(&txn));
        int64_t t1 = (int64_t)time(NULL);
        ct_reopen();

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_get(txn, box, s1.uid, &msg));
        cr_assert_eq(msg->internal_date, 1234567890);
        cr_assert_eq(msg->internal_tz, -300);
        cr_assert_not_null(msg->uidl);
        cr_assert_str_eq(msg->uidl, "pop-uidl-1");
        cr_assert_geq(msg->save_date, t0, "save_date is when it was stored");
        cr_assert_leq(msg->save_date, t1);
        cr_assert_gt(msg->structure_len, 0u, "no cached MIME structure");
        cr_assert_not_null(msg->structure);
        cr_assert_eq(msg->gid, s1.gid);
        cr_assert_eq(msg->modseq, s1.modseq);
        ct_assert_ok(store_msg_get(txn, box, s2.uid, &msg));
        cr_assert(msg->internal_date >= t0 && msg->internal_date <= t1,
                  "internal_date 0 means now");
        cr_assert(msg->uidl == NULL || msg->uidl[0] == '\0', "no UIDL override given");
        cr_assert_neq(msg->gid, s1.gid, "gids are unique");
        store_txn_abort(&txn);
}

/* A stream keeps giving the right bytes, or EXPUNGED, when its message is
   expunged under it and its space is reused; never other bytes. */
Test(bytes, stream_across_expunge)
{
        const size_t len = 2u * 1024 * 1024;
        uint32_t user = ct_user_add("bytes@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        unsigned char *big = pool_alloc(ts->pool, len);
        unsigned char *buf = pool_alloc(ts->pool, 65536);
        uint64_t state = 5;

        for (size_t i = 0; i < len; i += 8) {
                uint64_t r = test_rand_next(&state);
                memcpy(big + i, &r, 8);
        }
        uint32_t uid = ct_append(box, big, len, 0).uid;
        struct store_stream *stream = NULL;
        uint64_t size = 0;
        size_t got = 0;
        ct_assert_ok(store_stream_open(ts->store, box, uid, &stream, &size));
        ct_assert_ok(test_store_read_range(stream, 0, buf, 4096, &got));
        cr_assert_eq(got, 4096u);

        ct_expunge(box, uid);
        /* Reuse the freed space with other bytes. */
        for (uint32_t seed = 1; seed <= 8; seed++)
                ct_append(box, test_msg_make(ts->pool, seed, len / 4), len / 4, 0);

        bool expunged = false;
        for (size_t off = 4096; off < len && !expunged; off += 65536) {
                size_t want = len - off < 65536 ? len - off : 65536;
                enum cove_store_err err = test_store_read_range(stream, off, buf, want, &got);
                if (err == COVE_STORE_EXPUNGED) {
                        expunged = true;
                        break;
                }
                ct_assert_ok(err);
                cr_assert_eq(got, want, "short read at %zu", off);
                cr_assert(memcmp(buf, big + off, want) == 0,
                          "stream returned other bytes at %zu after expunge", off);
        }
        store_stream_close(&stream);
        cr_log_info("stream after expunge: %s", expunged ? "EXPUNGED" : "still readable");
}

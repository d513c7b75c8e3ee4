/* Engine tests: append/get/iterate, flags and MODSEQ, expunge log and
 * change iteration, copy and move. */
#include <criterion/criterion.h>
#include <string.h>

#include "lmdb-test.h"

static struct cove_store *store;
static uint32_t user, inbox, other;
static void setup(void)
{
        lt_setup();
        store = lt_create(NULL);
        user = lt_user(store, "ann@example.org");
        inbox = lt_mailbox(store, user, "INBOX");
        other = lt_mailbox(store, user, "Other");
}
static void teardown(void) { ops->close(&store); lt_teardown(); }

TestSuite(lmdb_messages, .init = setup, .fini = teardown);

Test(lmdb_messages, append_and_get_every_field)
{
        const char *kws[] = { "$Forwarded", "Work", "work", "$Forwarded" };
        struct cove_store_part parts[2] = { { "Hdr: 1\r\n\r\n", 10 }, { "body\r\n", 6 } };
        struct cove_store_append a = {
                .parts = parts, .part_count = 2, .flags = COVE_FLAG_FLAGGED | 0x100,
                .keywords = kws, .keyword_count = 4, .internal_date = 1234567890,
                .internal_tz = -300, .structure = "\x01\x00\x02", .structure_len = 3,
                .uidl = "abc123",
        };
        struct cove_store_txn *txn = lt_begin(store, true);
        struct cove_store_saved saved;
        const struct cove_store_msg *m;
        const struct cove_store_mailbox *box;

        lt_clock = 1700000500;
        cr_assert_eq(ops->msg_append(txn, inbox, &a, &saved), COVE_STORE_OK);
        cr_assert_eq(saved.uid, 1);
        cr_assert_gt(saved.gid, 0);
        cr_assert_eq(ops->msg_append(txn, inbox + 50, &a, &saved), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->msg_get(txn, inbox, 1, &m), COVE_STORE_OK);
        cr_assert_eq(m->uid, 1);
        cr_assert_eq(m->flags, COVE_FLAG_FLAGGED, "unknown flag bits dropped");
        cr_assert_eq(m->keyword_count, 2, "duplicates (case-insensitive) dropped");
        cr_assert_str_eq(m->keywords[0], "$Forwarded");
        cr_assert_str_eq(m->keywords[1], "Work");
        cr_assert_eq(m->internal_date, 1234567890);
        cr_assert_eq(m->internal_tz, -300);
        cr_assert_eq(m->save_date, 1700000500);
        cr_assert_eq(m->size, 16);
        cr_assert_eq(m->structure_len, 3);
        cr_assert_eq(memcmp(m->structure, "\x01\x00\x02", 3), 0);
        cr_assert_str_eq(m->uidl, "abc123");
        cr_assert_eq(m->modseq, saved.modseq);
        cr_assert_eq(ops->mailbox_get(txn, inbox, &box), COVE_STORE_OK);
        cr_assert_eq(box->uidnext, 2);
        cr_assert_eq(box->messages, 1);
        cr_assert_eq(box->unseen, 1);
        cr_assert_eq(box->bytes, 16);
        cr_assert_eq(box->highestmodseq, saved.modseq);
        cr_assert_eq(saved.uidvalidity, box->uidvalidity);
        cr_assert_eq(ops->msg_get(txn, inbox, 2, &m), COVE_STORE_NOTFOUND);
        lt_commit(&txn);
        size_t len;
        uint8_t *data = lt_read_all(store, inbox, 1, &len);
        cr_assert_eq(len, 16);
        cr_assert_eq(memcmp(data, "Hdr: 1\r\n\r\nbody\r\n", 16), 0);
        free(data);
}

Test(lmdb_messages, iterate_uid_ranges)
{
        for (int i = 0; i < 6; i++)
                lt_append(store, inbox, "m\r\n", 3);
        lt_expunge(store, inbox, 3);
        struct cove_store_txn *txn = lt_begin(store, false);
        struct cove_store_iter *it;
        const struct cove_store_msg *m;
        uint32_t want[] = { 2, 4, 5 }, n = 0;
        cr_assert_eq(ops->msg_iter_init(txn, inbox, 2, 5, &it), COVE_STORE_OK);
        while (ops->msg_iter_next(it, &m) == COVE_STORE_OK) {
                cr_assert_lt(n, 3);
                cr_assert_eq(m->uid, want[n++]);
        }
        cr_assert_eq(n, 3);
        ops->iter_deinit(&it);
        cr_assert_eq(ops->msg_iter_init(txn, inbox, 1, UINT32_MAX, &it), COVE_STORE_OK);
        n = 0;
        while (ops->msg_iter_next(it, &m) == COVE_STORE_OK)
                n++;
        cr_assert_eq(n, 5);
        ops->iter_deinit(&it);
        cr_assert_eq(ops->msg_iter_init(txn, other, 1, UINT32_MAX, &it), COVE_STORE_OK);
        cr_assert_eq(ops->msg_iter_next(it, &m), COVE_STORE_NOTFOUND);
        ops->iter_deinit(&it);
        ops->txn_abort(&txn);
}

Test(lmdb_messages, flags_and_modseq)
{
        struct cove_store_saved s = lt_append(store, inbox, "m\r\n", 3);
        struct cove_store_txn *txn = lt_begin(store, true);
        const char *kw_a[] = { "A" }, *kw_b[] = { "b", "a" };
        const struct cove_store_msg *m;
        const struct cove_store_mailbox *box;
        uint64_t ms;

        cr_assert_eq(ops->msg_update_flags(txn, inbox, s.uid, COVE_STORE_FLAGS_ADD,
                                           COVE_FLAG_SEEN, kw_a, 1, &ms), COVE_STORE_OK);
        cr_assert_gt(ms, s.modseq);
        uint64_t ms1 = ms;
        cr_assert_eq(ops->mailbox_get(txn, inbox, &box), COVE_STORE_OK);
        cr_assert_eq(box->unseen, 0);
        cr_assert_eq(box->highestmodseq, ms1);
        /* No-op store: the MODSEQ stays. */
        cr_assert_eq(ops->msg_update_flags(txn, inbox, s.uid, COVE_STORE_FLAGS_ADD,
                                           COVE_FLAG_SEEN, kw_b + 1, 1, &ms), COVE_STORE_OK);
        cr_assert_eq(ms, ms1);
        cr_assert_eq(ops->msg_update_flags(txn, inbox, s.uid, COVE_STORE_FLAGS_ADD, 0, kw_b, 2,
                                           &ms), COVE_STORE_OK);
        cr_assert_gt(ms, ms1);
        cr_assert_eq(ops->msg_get(txn, inbox, s.uid, &m), COVE_STORE_OK);
        cr_assert_eq(m->keyword_count, 2);
        cr_assert_eq(m->modseq, ms);
        cr_assert_eq(ops->msg_update_flags(txn, inbox, s.uid, COVE_STORE_FLAGS_REMOVE,
                                           COVE_FLAG_SEEN, kw_a, 1, &ms), COVE_STORE_OK);
        cr_assert_eq(ops->msg_get(txn, inbox, s.uid, &m), COVE_STORE_OK);
        cr_assert_eq(m->flags, 0);
        cr_assert_eq(m->keyword_count, 1);
        cr_assert_str_eq(m->keywords[0], "b");
        cr_assert_eq(ops->msg_update_flags(txn, inbox, s.uid, COVE_STORE_FLAGS_REPLACE,
                                           COVE_FLAG_DRAFT | COVE_FLAG_ANSWERED, NULL, 0, &ms),
                     COVE_STORE_OK);
        cr_assert_eq(ops->msg_get(txn, inbox, s.uid, &m), COVE_STORE_OK);
        cr_assert_eq(m->flags, COVE_FLAG_DRAFT | COVE_FLAG_ANSWERED);
        cr_assert_eq(m->keyword_count, 0);
        cr_assert_eq(ops->mailbox_get(txn, inbox, &box), COVE_STORE_OK);
        cr_assert_eq(box->unseen, 1);
        cr_assert_eq(ops->msg_update_flags(txn, inbox, 99, COVE_STORE_FLAGS_ADD, 1, NULL, 0,
                                           &ms), COVE_STORE_NOTFOUND);
        lt_commit(&txn);
}

struct change { uint32_t uid; bool expunged; };

static size_t collect_changes(uint32_t box, uint64_t since, struct change *out, size_t max)
{
        struct cove_store_txn *txn = lt_begin(store, false);
        struct cove_store_iter *it;
        const struct cove_store_change *c;
        uint64_t last = since;
        size_t n = 0;

        cr_assert_eq(ops->change_iter_init(txn, box, since, &it), COVE_STORE_OK);
        while (ops->change_iter_next(it, &c) == COVE_STORE_OK) {
                cr_assert_lt(n, max);
                cr_assert_gt(c->modseq, last, "ascending MODSEQ");
                last = c->modseq;
                out[n++] = (struct change){ c->uid, c->expunged };
        }
        ops->iter_deinit(&it);
        ops->txn_abort(&txn);
        return n;
}

Test(lmdb_messages, expunge_log_and_changes)
{
        struct cove_store_saved s1 = lt_append(store, inbox, "1\r\n", 3);
        lt_append(store, inbox, "2\r\n", 3);
        lt_append(store, inbox, "3\r\n", 3);
        struct cove_store_txn *txn = lt_begin(store, true);
        uint64_t ms;
        cr_assert_eq(ops->msg_update_flags(txn, inbox, 1, COVE_STORE_FLAGS_ADD,
                                           COVE_FLAG_SEEN, NULL, 0, &ms), COVE_STORE_OK);
        cr_assert_eq(ops->msg_expunge(txn, inbox, 2), COVE_STORE_OK);
        cr_assert_eq(ops->msg_expunge(txn, inbox, 2), COVE_STORE_NOTFOUND);
        const struct cove_store_mailbox *box;
        cr_assert_eq(ops->mailbox_get(txn, inbox, &box), COVE_STORE_OK);
        cr_assert_eq(box->expunge_modseq, box->highestmodseq);
        cr_assert_eq(box->messages, 2);
        cr_assert_eq(box->unseen, 1);
        lt_commit(&txn);

        struct change ch[8];
        size_t n = collect_changes(inbox, s1.modseq, ch, 8);
        /* uid 3 appended, uid 1 flagged, uid 2 expunged - in MODSEQ order. */
        cr_assert_eq(n, 3);
        cr_assert_eq(ch[0].uid, 3);
        cr_assert(!ch[0].expunged);
        cr_assert_eq(ch[1].uid, 1);
        cr_assert(!ch[1].expunged);
        cr_assert_eq(ch[2].uid, 2);
        cr_assert(ch[2].expunged);
        n = collect_changes(inbox, 0, ch, 8);
        cr_assert_eq(n, 3, "a message appears once, at its latest MODSEQ");
        n = collect_changes(inbox, ms, ch, 8);
        cr_assert_eq(n, 1);
        cr_assert(ch[0].expunged);
        cr_assert_eq(collect_changes(other, 0, ch, 8), 0);
        txn = lt_begin(store, false);
        struct cove_store_iter *it;
        cr_assert_eq(ops->change_iter_init(txn, 999, 0, &it), COVE_STORE_NOTFOUND);
        ops->txn_abort(&txn);
}

Test(lmdb_messages, copy_and_move)
{
        struct cove_store_saved s = lt_append(store, inbox, "move me\r\n", 9);
        struct cove_store_txn *txn = lt_begin(store, true);
        struct cove_store_saved c, mv;
        const struct cove_store_msg *m;
        const struct cove_store_user *u;
        uint64_t ms;

        cr_assert_eq(ops->msg_update_flags(txn, inbox, s.uid, COVE_STORE_FLAGS_ADD,
                                           COVE_FLAG_SEEN, NULL, 0, &ms), COVE_STORE_OK);
        cr_assert_eq(ops->msg_copy(txn, inbox, s.uid, other, &c), COVE_STORE_OK);
        cr_assert_eq(c.uid, 1);
        cr_assert_neq(c.gid, s.gid, "copy gets a new gid");
        cr_assert_eq(ops->msg_get(txn, other, c.uid, &m), COVE_STORE_OK);
        cr_assert_eq(m->flags, COVE_FLAG_SEEN);
        cr_assert_eq(ops->msg_move(txn, inbox, s.uid, other, &mv), COVE_STORE_OK);
        cr_assert_eq(mv.uid, 2);
        cr_assert_eq(mv.gid, s.gid, "move keeps the gid");
        cr_assert_eq(ops->msg_get(txn, inbox, s.uid, &m), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->msg_copy(txn, inbox, s.uid, other, &c), COVE_STORE_NOTFOUND);
        cr_assert_eq(ops->msg_copy(txn, other, 1, 999, &c), COVE_STORE_NOTFOUND);
        /* Move within one mailbox: a new UID, counters stay consistent. */
        cr_assert_eq(ops->msg_move(txn, other, 1, other, &mv), COVE_STORE_OK);
        cr_assert_eq(mv.uid, 3);
        const struct cove_store_mailbox *box;
        cr_assert_eq(ops->mailbox_get(txn, other, &box), COVE_STORE_OK);
        cr_assert_eq(box->messages, 2);
        cr_assert_eq(box->bytes, 18);
        cr_assert_eq(ops->user_get(txn, user, &u), COVE_STORE_OK);
        cr_assert_eq(u->used_messages, 2);
        cr_assert_eq(u->used_bytes, 18);
        lt_commit(&txn);
        struct cove_store_stats st = lt_stats(store);
        cr_assert_eq(st.messages, 2);
        cr_assert_eq(st.bytes_received, 18);
        cr_assert_eq(st.bytes_stored, 9, "copies share one blob");
        lt_expunge(store, other, 2);
        size_t len;
        uint8_t *data = lt_read_all(store, other, 3, &len);
        cr_assert_eq(len, 9);
        cr_assert_eq(memcmp(data, "move me\r\n", 9), 0);
        free(data);
        lt_expunge(store, other, 3);
        cr_assert_eq(lt_stats(store).bytes_stored, 0);
}

Test(lmdb_messages, aborted_txn_changes_nothing)
{
        struct cove_store_txn *txn = lt_begin(store, true);
        struct cove_store_part p = { "x\r\n", 3 };
        struct cove_store_append a = { .parts = &p, .part_count = 1 };
        struct cove_store_saved s;
        cr_assert_eq(ops->msg_append(txn, inbox, &a, &s), COVE_STORE_OK);
        ops->txn_abort(&txn);
        struct cove_store_stats st = lt_stats(store);
        cr_assert_eq(st.messages, 0);
        cr_assert_eq(st.bytes_stored, 0);
        /* A bad append is refused without poisoning the txn. */
        txn = lt_begin(store, true);
        struct cove_store_append bad = { .parts = &p, .part_count = 0 };
        cr_assert_neq(ops->msg_append(txn, inbox, &bad, &s), COVE_STORE_OK);
        cr_assert_eq(ops->msg_append(txn, inbox, &a, &s), COVE_STORE_OK);
        lt_commit(&txn);
        cr_assert_eq(lt_stats(store).messages, 1);
}

/* test-copy-move.c - conformance: copy and move give new UIDs in the
 * destination and identical bytes; copy makes a new gid, move keeps it;
 * mailbox counters and quota usage follow; a move out of INBOX waits for a
 * POP3 maildrop lock (INUSE).
 */
#include "conformance.h"

CT_SUITE(copymove);

struct fixture {
        uint32_t user, src, dst;
        unsigned char *body;
        size_t len;
        struct cove_store_saved orig;
};

static struct fixture make_fixture(const char *src_name, uint32_t flags)
{
        struct fixture f = { 0 };
        const char *const kw[] = { "$Label1" };
        struct cove_store_part part;
        struct store_append app = { .parts = &part, .part_count = 1, .flags = flags,
                                    .keywords = kw, .keyword_count = 1,
                                    .internal_date = 1700000000, .internal_tz = 120 };
        struct store_txn *txn = NULL;

        f.user = ct_user_add("copy@example.org");
        f.src = ct_mailbox(f.user, src_name);
        f.dst = ct_mailbox_add(f.user, "Dest");
        f.len = 5000;
        f.body = test_msg_make(ts->pool, 42, f.len);
        part = (struct cove_store_part){ .data = f.body, .size = f.len };
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_append(txn, f.src, &app, &f.orig));
        ct_assert_ok(store_txn_commit(&txn));
        /* A second message in the destination, so the new UID is not the first. */
        ct_append(f.dst, "Subject: x\r\n\r\ny\r\n", 17, COVE_FLAG_SEEN);
        return f;
}

static void assert_copy_of(const struct fixture *f, uint32_t box, uint32_t uid)
{
        struct store_txn *txn = NULL;
        const struct cove_store_msg *m = NULL;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_get(txn, box, uid, &m));
        cr_assert_eq(m->size, f->len);
        cr_assert_eq(m->flags, COVE_FLAG_FLAGGED);
        cr_assert_eq(m->keyword_count, 1u);
        cr_assert_str_eq(m->keywords[0], "$Label1");
        cr_assert_eq(m->internal_date, 1700000000);
        cr_assert_eq(m->internal_tz, 120);
        store_txn_abort(&txn);
        ct_assert_body(box, uid, f->body, f->len);
}

Test(copymove, copy)
{
        struct fixture f = make_fixture("INBOX", COVE_FLAG_FLAGGED);
        struct cove_store_mailbox src0 = ct_mailbox_get(f.src), dst0 = ct_mailbox_get(f.dst);
        struct cove_store_user user0 = ct_user_get(f.user);
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_copy(txn, f.src, f.orig.uid, f.dst, &saved));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_eq(saved.uid, dst0.uidnext, "copy got UID %u, UIDNEXT was %u", saved.uid,
                     dst0.uidnext);
        cr_assert_eq(saved.uidvalidity, dst0.uidvalidity);
        cr_assert_neq(saved.gid, f.orig.gid, "copy must get a new gid");
        cr_assert_gt(saved.modseq, dst0.highestmodseq);
        assert_copy_of(&f, f.dst, saved.uid);
        assert_copy_of(&f, f.src, f.orig.uid);

        struct cove_store_mailbox src1 = ct_mailbox_get(f.src), dst1 = ct_mailbox_get(f.dst);
        cr_assert_eq(src1.messages, src0.messages);
        cr_assert_eq(src1.bytes, src0.bytes);
        cr_assert_eq(dst1.messages, dst0.messages + 1);
        cr_assert_eq(dst1.bytes, dst0.bytes + f.len);
        cr_assert_eq(dst1.unseen, dst0.unseen + 1);
        cr_assert_eq(dst1.uidnext, saved.uid + 1);
        cr_assert_eq(dst1.highestmodseq, saved.modseq);
        struct cove_store_user user1 = ct_user_get(f.user);
        cr_assert_eq(user1.used_bytes, user0.used_bytes + f.len, "copy not charged to quota");
        cr_assert_eq(user1.used_messages, user0.used_messages + 1);

        /* Expunging the original leaves the copy intact. */
        ct_expunge(f.src, f.orig.uid);
        ct_assert_body(f.dst, saved.uid, f.body, f.len);
        cr_assert_eq(ct_user_get(f.user).used_bytes, user0.used_bytes);
}

Test(copymove, move)
{
        struct fixture f = make_fixture("Drafts", COVE_FLAG_FLAGGED);
        struct cove_store_mailbox src0 = ct_mailbox_get(f.src), dst0 = ct_mailbox_get(f.dst);
        struct cove_store_user user0 = ct_user_get(f.user);
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_move(txn, f.src, f.orig.uid, f.dst, &saved));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_eq(saved.uid, dst0.uidnext);
        cr_assert_eq(saved.gid, f.orig.gid, "move must keep the gid");
        assert_copy_of(&f, f.dst, saved.uid);

        struct store_txn *rtxn = NULL;
        const struct cove_store_msg *m = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &rtxn));
        ct_assert_code(store_msg_get(rtxn, f.src, f.orig.uid, &m), COVE_STORE_NOTFOUND);
        store_txn_abort(&rtxn);

        struct cove_store_mailbox src1 = ct_mailbox_get(f.src), dst1 = ct_mailbox_get(f.dst);
        cr_assert_eq(src1.messages, src0.messages - 1);
        cr_assert_eq(src1.bytes, src0.bytes - f.len);
        cr_assert_eq(src1.unseen, src0.unseen - 1);
        cr_assert_gt(src1.highestmodseq, src0.highestmodseq);
        cr_assert_eq(src1.expunge_modseq, src1.highestmodseq);
        cr_assert_eq(dst1.messages, dst0.messages + 1);
        cr_assert_eq(dst1.bytes, dst0.bytes + f.len);
        /* The source's change log shows the move as an expunge. */
        struct store_iter *iter = NULL;
        const struct cove_store_change *c = NULL;
        ct_assert_ok(store_txn_begin(ts->store, false, &rtxn));
        ct_assert_ok(store_change_iter_init(rtxn, f.src, src0.highestmodseq, &iter));
        ct_assert_ok(store_change_iter_next(iter, &c));
        cr_assert_eq(c->uid, f.orig.uid);
        cr_assert(c->expunged);
        ct_assert_code(store_change_iter_next(iter, &c), COVE_STORE_NOTFOUND);
        store_iter_deinit(&iter);
        store_txn_abort(&rtxn);

        struct cove_store_user user1 = ct_user_get(f.user);
        cr_assert_eq(user1.used_bytes, user0.used_bytes, "move is quota-neutral");
        cr_assert_eq(user1.used_messages, user0.used_messages);
}

Test(copymove, missing_source_or_destination)
{
        struct fixture f = make_fixture("INBOX", COVE_FLAG_FLAGGED);
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_msg_copy(txn, f.src, f.orig.uid + 50, f.dst, &saved),
                       COVE_STORE_NOTFOUND);
        ct_assert_code(store_msg_move(txn, f.src, f.orig.uid + 50, f.dst, &saved),
                       COVE_STORE_NOTFOUND);
        ct_assert_code(store_msg_copy(txn, f.src, f.orig.uid, 999999, &saved),
                       COVE_STORE_NOTFOUND);
        store_txn_abort(&txn);
        assert_copy_of(&f, f.src, f.orig.uid);
}

Test(copymove, move_out_of_inbox_while_maildrop_locked)
{
        struct fixture f = make_fixture("INBOX", COVE_FLAG_FLAGGED);
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;
        pid_t holder = ct_spawn_lock_holder(f.user);

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_msg_move(txn, f.src, f.orig.uid, f.dst, &saved), COVE_STORE_INUSE);
        store_txn_abort(&txn);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_msg_expunge(txn, f.src, f.orig.uid), COVE_STORE_INUSE);
        store_txn_abort(&txn);

        /* IMAP keeps working meanwhile: copy, flags, delivery into INBOX, and
           moves between other mailboxes. */
        uint32_t other = ct_mailbox(f.user, "Trash");
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_copy(txn, f.src, f.orig.uid, f.dst, &saved));
        ct_assert_ok(store_msg_move(txn, f.dst, saved.uid, other, &saved));
        ct_assert_ok(store_txn_commit(&txn));
        ct_append(f.src, "Subject: y\r\n\r\nz\r\n", 17, 0);
        cr_assert_eq(ct_mailbox_get(f.src).messages, 2u);

        ct_kill(holder);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_move(txn, f.src, f.orig.uid, f.dst, &saved));
        ct_assert_ok(store_txn_commit(&txn));
        assert_copy_of(&f, f.dst, saved.uid);
}

Test(copymove, same_process_lock_guards_inbox)
{
        struct fixture f = make_fixture("INBOX", COVE_FLAG_FLAGGED);
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;
        struct store_lock *lock = NULL;

        /* A POP3 session and an IMAP session may share one worker process. */
        ct_assert_ok(store_maildrop_lock(ts->store, f.user, &lock));
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_msg_move(txn, f.src, f.orig.uid, f.dst, &saved), COVE_STORE_INUSE);
        store_txn_abort(&txn);

        /* The holder's own txn (POP3 QUIT) may expunge. */
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        store_txn_hold_maildrop(txn, lock);
        ct_assert_ok(store_msg_expunge(txn, f.src, f.orig.uid));
        ct_assert_ok(store_txn_commit(&txn));
        store_lock_release(&lock);
        cr_assert_null(lock);
        cr_assert_eq(ct_mailbox_get(f.src).messages, 0u);
}

Test(copymove, within_one_mailbox)
{
        struct fixture f = make_fixture("Drafts", COVE_FLAG_FLAGGED);
        struct cove_store_saved copied, moved;
        struct store_txn *txn = NULL;
        uint32_t count = ct_mailbox_get(f.src).messages;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_copy(txn, f.src, f.orig.uid, f.src, &copied));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_gt(copied.uid, f.orig.uid);
        cr_assert_eq(ct_mailbox_get(f.src).messages, count + 1);
        assert_copy_of(&f, f.src, f.orig.uid);
        assert_copy_of(&f, f.src, copied.uid);

        /* RFC 6851 allows MOVE into the same mailbox: a new UID, same gid. */
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_move(txn, f.src, f.orig.uid, f.src, &moved));
        ct_assert_ok(store_txn_commit(&txn));
        cr_assert_gt(moved.uid, copied.uid);
        cr_assert_eq(moved.gid, f.orig.gid);
        struct cove_store_mailbox mb = ct_mailbox_get(f.src);
        cr_assert_eq(mb.messages, count + 1);
        cr_assert_eq(mb.bytes, 2 * f.len);
        cr_assert_eq(ct_count_messages(f.src), count + 1);
        assert_copy_of(&f, f.src, moved.uid);
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_code(store_msg_expunge(txn, f.src, f.orig.uid), COVE_STORE_NOTFOUND);
        ct_assert_ok(store_msg_expunge(txn, f.src, moved.uid));
        ct_assert_code(store_msg_expunge(txn, f.src, moved.uid), COVE_STORE_NOTFOUND);
        ct_assert_ok(store_txn_commit(&txn));
        assert_copy_of(&f, f.src, copied.uid);
        cr_assert_eq(ct_user_get(f.user).used_messages, 2u);
}

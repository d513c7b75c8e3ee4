/* test-modseq.c - conformance: every change (append, flag change, expunge)
 * takes a new, higher MODSEQ; HIGHESTMODSEQ and expunge_modseq follow; the
 * change log since a MODSEQ lists exactly the changed and expunged UIDs in
 * MODSEQ order (RFC 7162 CONDSTORE/QRESYNC needs all three).
 */
#include "conformance.h"

CT_SUITE(modseq);

static const char msg[] = "Subject: modseq\r\n\r\nbody\r\n";

static uint64_t set_flags(uint32_t box, uint32_t uid, enum cove_store_flag_op op,
                          uint32_t flags)
{
        struct store_txn *txn = NULL;
        uint64_t modseq = 0;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_update_flags(txn, box, uid, op, flags, NULL, 0, &modseq));
        ct_assert_ok(store_txn_commit(&txn));
        return modseq;
}

static uint64_t msg_modseq(uint32_t box, uint32_t uid)
{
        struct store_txn *txn = NULL;
        const struct cove_store_msg *m = NULL;
        uint64_t modseq;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_get(txn, box, uid, &m));
        modseq = m->modseq;
        store_txn_abort(&txn);
        return modseq;
}

Test(modseq, increases_on_every_change)
{
        uint32_t user = ct_user_add("mod@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        uint64_t high = ct_mailbox_get(box).highestmodseq;
        uint32_t uids[3];

        for (int i = 0; i < 3; i++) {
                struct cove_store_saved s = ct_append(box, msg, sizeof(msg) - 1, 0);
                cr_assert_gt(s.modseq, high, "append MODSEQ %llu not above %llu",
                             (unsigned long long)s.modseq, (unsigned long long)high);
                high = s.modseq;
                uids[i] = s.uid;
                cr_assert_eq(ct_mailbox_get(box).highestmodseq, high);
                cr_assert_eq(msg_modseq(box, s.uid), high);
        }

        uint64_t m = set_flags(box, uids[0], COVE_STORE_FLAGS_ADD, COVE_FLAG_FLAGGED);
        cr_assert_gt(m, high, "flag change did not raise MODSEQ");
        high = m;
        cr_assert_eq(ct_mailbox_get(box).highestmodseq, high);
        cr_assert_eq(msg_modseq(box, uids[0]), high);

        /* A store that changes nothing keeps the old MODSEQ. */
        m = set_flags(box, uids[0], COVE_STORE_FLAGS_ADD, COVE_FLAG_FLAGGED);
        cr_assert_eq(m, high, "no-op flag change moved MODSEQ");
        cr_assert_eq(ct_mailbox_get(box).highestmodseq, high);

        m = set_flags(box, uids[1], COVE_STORE_FLAGS_REPLACE, COVE_FLAG_SEEN);
        cr_assert_gt(m, high);
        high = m;

        cr_assert_eq(ct_mailbox_get(box).expunge_modseq, 0u, "no expunge yet");
        ct_expunge(box, uids[2]);
        struct cove_store_mailbox mb = ct_mailbox_get(box);
        cr_assert_gt(mb.highestmodseq, high, "expunge did not raise HIGHESTMODSEQ");
        cr_assert_eq(mb.expunge_modseq, mb.highestmodseq);
        high = mb.highestmodseq;

        ct_reopen();
        mb = ct_mailbox_get(box);
        cr_assert_eq(mb.highestmodseq, high, "HIGHESTMODSEQ not durable");
        cr_assert_eq(mb.expunge_modseq, high);
        cr_assert_gt(ct_append(box, msg, sizeof(msg) - 1, 0).modseq, high);
}

struct change {
        uint32_t uid;
        uint64_t modseq;
        bool expunged;
};

/* Collects the change log since `since` into out (at most max). */
static size_t changes_since(uint32_t box, uint64_t since, struct change *out, size_t max)
{
        struct store_txn *txn = NULL;
        struct store_iter *iter = NULL;
        const struct cove_store_change *c = NULL;
        enum cove_store_err err;
        size_t n = 0;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_change_iter_init(txn, box, since, &iter));
        while ((err = store_change_iter_next(iter, &c)) == COVE_STORE_OK) {
                cr_assert_lt(n, max, "more changes than expected");
                out[n++] = (struct change){ c->uid, c->modseq, c->expunged };
        }
        store_iter_deinit(&iter);
        store_txn_abort(&txn);
        cr_assert_eq(err, COVE_STORE_NOTFOUND);
        return n;
}

static void assert_changes(const struct change *got, size_t n, const struct change *want,
                           size_t want_n, uint64_t since)
{
        cr_assert_eq(n, want_n, "since %llu: %zu changes, want %zu",
                     (unsigned long long)since, n, want_n);
        for (size_t i = 0; i < n; i++) {
                cr_assert_eq(got[i].uid, want[i].uid, "change %zu: uid %u, want %u", i,
                             got[i].uid, want[i].uid);
                cr_assert_eq(got[i].expunged, want[i].expunged, "change %zu (uid %u)", i,
                             got[i].uid);
                cr_assert_gt(got[i].modseq, since);
                if (i > 0)
                        cr_assert_gt(got[i].modseq, got[i - 1].modseq, "not in MODSEQ order");
        }
}

Test(modseq, change_log_since)
{
        uint32_t user = ct_user_add("mod@example.org");
        uint32_t box = ct_mailbox_add(user, "Log");
        uint32_t u[6];

        for (int i = 1; i <= 4; i++)
                u[i] = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        uint64_t since = ct_mailbox_get(box).highestmodseq;

        set_flags(box, u[2], COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN);
        ct_expunge(box, u[3]);
        u[5] = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        uint64_t m1 = set_flags(box, u[1], COVE_STORE_FLAGS_ADD, COVE_FLAG_ANSWERED);
        uint64_t m2 = set_flags(box, u[2], COVE_STORE_FLAGS_REMOVE, COVE_FLAG_SEEN);

        struct change got[16];
        /* u[2] changed twice: listed once, at its latest MODSEQ. */
        const struct change want[] = {
                { u[3], 0, true }, { u[5], 0, false }, { u[1], 0, false }, { u[2], 0, false },
        };
        size_t n = changes_since(box, since, got, 16);
        assert_changes(got, n, want, 4, since);
        cr_assert_eq(got[2].modseq, m1);
        cr_assert_eq(got[3].modseq, m2);
        cr_assert_eq(got[0].modseq, ct_mailbox_get(box).expunge_modseq);

        /* Since 0: every current message plus the expunge. */
        const struct change all[] = {
                { u[4], 0, false }, { u[3], 0, true }, { u[5], 0, false },
                { u[1], 0, false }, { u[2], 0, false },
        };
        n = changes_since(box, 0, got, 16);
        assert_changes(got, n, all, 5, 0);

        /* Since the latest: nothing; since m1: only u[2]. */
        cr_assert_eq(changes_since(box, ct_mailbox_get(box).highestmodseq, got, 16), 0u);
        n = changes_since(box, m1, got, 16);
        assert_changes(got, n, &want[3], 1, m1);
}

Test(modseq, per_mailbox_highestmodseq)
{
        uint32_t user = ct_user_add("mod@example.org");
        uint32_t a = ct_mailbox_add(user, "A");
        uint32_t b = ct_mailbox_add(user, "B");
        uint64_t b_high = ct_mailbox_get(b).highestmodseq;

        ct_append(a, msg, sizeof(msg) - 1, 0);
        ct_append(a, msg, sizeof(msg) - 1, 0);
        cr_assert_eq(ct_mailbox_get(b).highestmodseq, b_high,
                     "changes in A moved B's HIGHESTMODSEQ");
        struct change got[4];
        cr_assert_eq(changes_since(b, 0, got, 4), 0u, "B's change log lists A's changes");
}

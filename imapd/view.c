/* view.c - the selected mailbox as the client knows it (see view.h).
 *
 * Owns: the sequence number <-> UID map, per-message MODSEQ last announced,
 * \Recent, pending expunges, and the sync from store_change_iter that emits
 * EXISTS / RECENT / EXPUNGE / FETCH FLAGS. The arrays grow with the mailbox
 * and outlive any command, so they use the xmalloc family and are freed by
 * imap_view_close(). Does not: read message bodies or decide when EXPUNGE
 * may be sent (the session passes allow_expunge).
 */
#include "view.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "commands.h"
#include "log.h"
#include "pool.h"
#include "reply.h"
#include "seqset.h"
#include "store.h"

static void view_grow(struct imap_view *view, size_t need)
{
        if (need <= view->cap)
                return;
        size_t cap = view->cap == 0 ? 64 : view->cap;
        while (cap < need)
                cap *= 2;
        view->uids = xrealloc(view->uids, cap * sizeof(*view->uids));
        view->modseqs = xrealloc(view->modseqs, cap * sizeof(*view->modseqs));
        view->cap = cap;
}

static void view_push(struct imap_view *view, uint32_t uid, uint64_t modseq)
{
        view_grow(view, (size_t)view->count + 1);
        view->uids[view->count] = uid;
        view->modseqs[view->count] = modseq;
        view->count++;
        if (uid >= view->uidnext)
                view->uidnext = uid + 1;
}

bool imap_view_uid_to_seq(const struct imap_view *view, uint32_t uid, uint32_t *seq_r)
{
        size_t lo = 0, hi = view->count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (view->uids[mid] < uid)
                        lo = mid + 1;
                else if (view->uids[mid] > uid)
                        hi = mid;
                else {
                        *seq_r = (uint32_t)mid + 1;
                        return true;
                }
        }
        return false;
}

bool imap_view_seq_to_uid(const struct imap_view *view, uint32_t seq, uint32_t *uid_r)
{
        if (seq == 0 || seq > view->count)
                return false;
        *uid_r = view->uids[seq - 1];
        return true;
}

bool imap_view_is_recent(const struct imap_view *view, uint32_t uid)
{
        for (size_t i = view->recent_ranges; i > 0; i--) {
                const struct imap_recent_range *r = &view->recent[i - 1];
                if (uid >= r->lo)
                        return uid <= r->hi;
        }
        return false;
}

static size_t view_lower_bound(const struct imap_view *view, uint32_t uid);

uint32_t imap_view_recent_count(const struct imap_view *view)
{
        size_t n = 0;
        for (size_t i = 0; i < view->recent_ranges; i++) {
                const struct imap_recent_range *r = &view->recent[i];
                size_t end = r->hi == UINT32_MAX ? view->count : view_lower_bound(view, r->hi + 1);
                n += end - view_lower_bound(view, r->lo);
        }
        return (uint32_t)n;
}

/* Adds lo..hi to the \Recent ranges (claims only ever go upwards). */
static void recent_add(struct imap_view *view, uint32_t lo, uint32_t hi)
{
        struct imap_recent_range *last = view->recent_ranges == 0 ? NULL :
                                         &view->recent[view->recent_ranges - 1];
        if (lo > hi)
                return;
        if (last != NULL && lo <= last->hi + 1 && last->hi != UINT32_MAX) {
                if (hi > last->hi)
                        last->hi = hi;
                return;
        }
        view->recent = xrealloc(view->recent, (view->recent_ranges + 1) * sizeof(*view->recent));
        view->recent[view->recent_ranges++] = (struct imap_recent_range){ .lo = lo, .hi = hi };
}

/* Advances the watermark in txn (a write txn); returns the engine's code. */
static enum cove_store_err claim_in(struct imap_view *view, struct store_txn *txn,
                                    uint32_t *old_r)
{
        return store_mailbox_advance_recent(txn, view->mailbox_id, view->uidnext, old_r);
}

void imap_view_claim_recent(struct imap_session *session, uint32_t seen_recent_uid,
                            struct store_txn *write_txn)
{
        struct imap_view *view = session->view;
        struct store *store = session->daemon->store;
        struct store_txn *txn;
        uint32_t old = 0;
        enum cove_store_err err;

        if (!view->claims_recent || seen_recent_uid >= view->uidnext)
                return;
        bool nested = write_txn != NULL || write_batch_nests(session->daemon->batch);
        if (write_txn != NULL) {
                err = claim_in(view, write_txn, &old);
        } else {
                /* Through the write batch: inside a running batch a write
                   txn of its own would wait for the writer lock this thread
                   already holds. */
                err = write_batch_begin(session->daemon->batch, &txn);
                if (err == COVE_STORE_OK) {
                        err = claim_in(view, txn, &old);
                        /* No reply waits on this: a \Recent claim lost to a
                           crash only shows the messages as \Recent once more. */
                        struct group_commit *gc = session->daemon->commit;
                        if (err == COVE_STORE_OK)
                                err = store_txn_commit_as(&txn, group_commit_mode(gc));
                        if (err == COVE_STORE_OK && group_commit_deferred(gc))
                                group_commit_note(gc);
                        else
                                store_txn_abort(&txn);
                }
        }
        if (err != COVE_STORE_OK) {
                /* Nothing claimed: the messages stay \Recent for a later session. */
                log_warn("session=%s proto=imap user=%s claiming \\Recent failed: %s",
                         session->conn.id, session->user, store_last_error(store));
                return;
        }
        if (old < view->uidnext)
                recent_add(view, old, view->uidnext - 1);
        /* Nested, the claim is seen by others only when the batch commits:
           until then another session could claim the same messages, so
           whatever tells this client about them waits for that commit. */
        if (nested)
                session->claim_pending = true;
}

bool imap_view_is_expunge_pending(const struct imap_view *view, uint32_t uid)
{
        for (size_t i = 0; i < view->pending_count; i++)
                if (view->pending_expunges[i] == uid)
                        return true;
        return false;
}

/* First index whose UID is >= uid. */
static size_t view_lower_bound(const struct imap_view *view, uint32_t uid)
{
        size_t lo = 0, hi = view->count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (view->uids[mid] < uid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int imap_view_resolve(struct imap_cmd *cmd, const char *set_str, bool uid, uint32_t **seqs_r,
                      size_t *count_r, const char **error_r)
{
        struct imap_view *view = cmd->session->view;
        uint32_t star = uid ? (view->count > 0 ? view->uids[view->count - 1] : 0) : view->count;
        struct imap_seqset *set;
        *seqs_r = NULL;
        *count_r = 0;
        if (imap_seqset_parse(cmd->pool, set_str, star, &set, error_r) < 0)
                return -1;
        if (!uid) {
                if (view->count == 0 && strchr(set_str, '*') != NULL)
                        return 0;   /* "1:*" in an empty mailbox names nothing */
                if (imap_seqset_max(set) > view->count) {
                        *error_r = "Invalid message sequence number";
                        return -1;
                }
                uint64_t n = imap_seqset_count(set);
                uint32_t *seqs = pool_alloc(cmd->pool, (size_t)n * sizeof(*seqs));
                size_t k = 0;
                for (size_t i = 0; i < set->count; i++)
                        for (uint64_t s = set->ranges[i].lo; s <= set->ranges[i].hi; s++)
                                seqs[k++] = (uint32_t)s;
                *seqs_r = seqs;
                *count_r = k;
                return 0;
        }
        size_t cap = view->count, k = 0;
        uint32_t *seqs = pool_alloc(cmd->pool, (cap == 0 ? 1 : cap) * sizeof(*seqs));
        for (size_t i = 0; i < set->count; i++) {
                for (size_t j = view_lower_bound(view, set->ranges[i].lo);
                     j < view->count && view->uids[j] <= set->ranges[i].hi; j++)
                        seqs[k++] = (uint32_t)j + 1;
        }
        *seqs_r = seqs;
        *count_r = k;
        return 0;
}

void imap_view_set_modseq(struct imap_view *view, uint32_t seq, uint64_t modseq)
{
        if (seq >= 1 && seq <= view->count && modseq > view->modseqs[seq - 1])
                view->modseqs[seq - 1] = modseq;
}

static void pending_remove(struct imap_view *view, uint32_t uid)
{
        for (size_t i = 0; i < view->pending_count; i++) {
                if (view->pending_expunges[i] == uid) {
                        view->pending_expunges[i] = view->pending_expunges[--view->pending_count];
                        return;
                }
        }
}

static void view_remove(struct imap_view *view, uint32_t seq)
{
        size_t i = seq - 1;
        pending_remove(view, view->uids[i]);
        memmove(view->uids + i, view->uids + i + 1, (view->count - i - 1) * sizeof(*view->uids));
        memmove(view->modseqs + i, view->modseqs + i + 1,
                (view->count - i - 1) * sizeof(*view->modseqs));
        view->count--;
}

void imap_view_expunge_seq(struct imap_cmd *cmd, uint32_t seq, bool announce)
{
        struct imap_view *view = cmd->session->view;
        if (seq == 0 || seq > view->count)
                return;
        view_remove(view, seq);
        if (announce)
                conn_printf(&cmd->session->conn, "* %u EXPUNGE\r\n", seq);
}

static void pending_add(struct imap_view *view, uint32_t uid)
{
        if (imap_view_is_expunge_pending(view, uid))
                return;
        if (view->pending_count == view->pending_cap) {
                view->pending_cap = view->pending_cap == 0 ? 16 : view->pending_cap * 2;
                view->pending_expunges = xrealloc(view->pending_expunges,
                                                  view->pending_cap *
                                                  sizeof(*view->pending_expunges));
        }
        view->pending_expunges[view->pending_count++] = uid;
}

static int u32_cmp(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

/* Announces pending expunges in ascending UID order (each EXPUNGE shifts
   the sequence numbers after it, RFC 3501 §7.4.1). */
static void view_flush_expunges(struct imap_session *session)
{
        struct imap_view *view = session->view;
        qsort(view->pending_expunges, view->pending_count, sizeof(uint32_t), u32_cmp);
        size_t n = view->pending_count;
        uint32_t *uids = view->pending_expunges;
        view->pending_count = 0;
        for (size_t i = n; i > 0; i--) {
                uint32_t seq;
                if (imap_view_uid_to_seq(view, uids[i - 1], &seq)) {
                        view_remove(view, seq);
                        conn_printf(&session->conn, "* %u EXPUNGE\r\n", seq);
                }
        }
}

struct sync_state {
        struct buf new_uids;        /* uint32_t, unsorted */
        struct buf new_modseqs;     /* uint64_t, parallel */
        struct buf changed;         /* uint32_t uids whose flags changed */
};

static void sync_collect(struct imap_view *view, const struct cove_store_change *ch,
                         struct sync_state *st)
{
        uint32_t seq;
        if (ch->expunged) {
                if (imap_view_uid_to_seq(view, ch->uid, &seq))
                        pending_add(view, ch->uid);
                return;
        }
        if (imap_view_uid_to_seq(view, ch->uid, &seq)) {
                if (ch->modseq > view->modseqs[seq - 1])
                        buf_append(&st->changed, &ch->uid, sizeof(ch->uid));
        } else if (ch->uid >= view->uidnext) {
                buf_append(&st->new_uids, &ch->uid, sizeof(ch->uid));
                buf_append(&st->new_modseqs, &ch->modseq, sizeof(ch->modseq));
        }
}

/* New messages join the view in UID order. */
static void sync_add_new(struct imap_view *view, struct sync_state *st)
{
        size_t n = st->new_uids.len / sizeof(uint32_t);
        uint32_t *uids = (uint32_t *)(void *)st->new_uids.data;
        if (n == 0)
                return;
        qsort(uids, n, sizeof(*uids), u32_cmp);
        for (size_t i = 0; i < n; i++)
                view_push(view, uids[i], 0);   /* modseq 0: flags not yet sent */
}

static void sync_send_flags(struct imap_session *session, struct store_txn *txn,
                            struct sync_state *st)
{
        struct imap_view *view = session->view;
        size_t n = st->changed.len / sizeof(uint32_t);
        const uint32_t *uids = (const uint32_t *)(const void *)st->changed.data;
        for (size_t i = 0; i < n; i++) {
                uint32_t seq;
                const struct cove_store_msg *msg;
                if (!imap_view_uid_to_seq(view, uids[i], &seq) ||
                    store_msg_get(txn, view->mailbox_id, uids[i], &msg) != COVE_STORE_OK)
                        continue;
                if (msg->modseq <= view->modseqs[seq - 1])
                        continue;
                struct buf b;
                buf_init(&b, 0);
                buf_printf(&b, "* %u FETCH (UID %u FLAGS ", seq, uids[i]);
                imap_buf_flags(&b, msg->flags, msg->keywords, msg->keyword_count,
                               imap_view_is_recent(view, uids[i]));
                buf_append_str(&b, ")\r\n");
                conn_write(&session->conn, b.data, b.len);
                buf_free(&b);
                view->modseqs[seq - 1] = msg->modseq;
        }
}

static void sync_state_free(struct sync_state *st)
{
        buf_free(&st->new_uids);
        buf_free(&st->new_modseqs);
        buf_free(&st->changed);
}

static int sync_changes(struct imap_session *session, struct store_txn *txn,
                        struct sync_state *st)
{
        struct imap_view *view = session->view;
        struct store_iter *iter;
        if (store_change_iter_init(txn, view->mailbox_id, view->modseq, &iter) != COVE_STORE_OK)
                return -1;
        const struct cove_store_change *ch;
        enum cove_store_err err;
        while ((err = store_change_iter_next(iter, &ch)) == COVE_STORE_OK)
                sync_collect(view, ch, st);
        store_iter_deinit(&iter);
        return err == COVE_STORE_NOTFOUND ? 0 : -1;
}

int imap_view_sync(struct imap_session *session, bool allow_expunge, enum imap_sync_mode mode)
{
        struct imap_view *view = session->view;
        struct store *store = session->daemon->store;
        struct store_txn *txn;
        const struct cove_store_mailbox *mbox;
        /* In the batch (view.h) the view reads through a txn nested in it,
           and a \Recent claim joins the batch instead of waiting, on this
           thread, for the writer lock. */
        bool in_batch = mode == IMAP_SYNC_IN_BATCH &&
                        write_batch_nests(session->daemon->batch);
        enum cove_store_err begun = in_batch ? write_batch_begin(session->daemon->batch, &txn)
                                             : store_txn_begin(store, false, &txn);
        if (begun != COVE_STORE_OK)
                return 0;   /* transient: try again at the next boundary */
        if (store_mailbox_get(txn, view->mailbox_id, &mbox) != COVE_STORE_OK ||
            mbox->uidvalidity != view->uidvalidity) {
                store_txn_abort(&txn);
                return -1;
        }
        uint64_t top = mbox->highestmodseq > mbox->expunge_modseq ? mbox->highestmodseq :
                       mbox->expunge_modseq;
        uint32_t seen_recent_uid = mbox->recent_uid;
        if (mode == IMAP_SYNC_OR_DEFER && view->claims_recent &&
            mbox->uidnext > view->uidnext && seen_recent_uid < mbox->uidnext) {
                store_txn_abort(&txn);
                return 1;   /* new messages to claim: in the batch */
        }
        struct sync_state st;
        buf_init(&st.new_uids, 0);
        buf_init(&st.new_modseqs, 0);
        buf_init(&st.changed, 0);
        if (top > view->modseq && sync_changes(session, txn, &st) < 0) {
                log_error("session=%s proto=imap user=%s view sync failed: %s",
                          session->conn.id, session->user, store_last_error(store));
                sync_state_free(&st);
                store_txn_abort(&txn);
                return 0;
        }
        if (top > view->modseq)
                view->modseq = top;
        if (allow_expunge && view->pending_count > 0)
                view_flush_expunges(session);
        if (st.new_uids.len > 0) {
                sync_add_new(view, &st);
                imap_view_claim_recent(session, seen_recent_uid, in_batch ? txn : NULL);
                conn_printf(&session->conn, "* %u EXISTS\r\n", view->count);
                conn_printf(&session->conn, "* %u RECENT\r\n", imap_view_recent_count(view));
        }
        sync_send_flags(session, txn, &st);
        sync_state_free(&st);
        if (in_batch)
                (void)store_txn_commit_as(&txn, group_commit_mode(session->daemon->commit));
        else
                store_txn_abort(&txn);
        return 0;
}

int imap_view_open(struct imap_session *session, struct store_txn *txn,
                   const struct cove_store_mailbox *mailbox, const char *imap_name,
                   bool readonly, struct imap_view **view_r, enum cove_store_err *err_r)
{
        struct imap_view *view = pool_alloc(session->conn.pool, sizeof(*view));
        view->mailbox_id = mailbox->id;
        view->store_name = pool_strdup(session->conn.pool, mailbox->name);
        view->imap_name = pool_strdup(session->conn.pool, imap_name);
        view->readonly = readonly;
        view->uidvalidity = mailbox->uidvalidity;
        view->modseq = mailbox->highestmodseq > mailbox->expunge_modseq ?
                       mailbox->highestmodseq : mailbox->expunge_modseq;
        uint32_t uidnext = mailbox->uidnext;
        view_grow(view, mailbox->messages + 1);
        struct store_iter *iter = NULL;
        enum cove_store_err err = store_msg_iter_init(txn, mailbox->id, 1, UINT32_MAX, &iter);
        const struct cove_store_msg *msg;
        while (err == COVE_STORE_OK && (err = store_msg_iter_next(iter, &msg)) == COVE_STORE_OK) {
                view_push(view, msg->uid, msg->modseq);
                if (view->first_unseen == 0 && (msg->flags & COVE_FLAG_SEEN) == 0)
                        view->first_unseen = view->count;
        }
        if (err == COVE_STORE_NOTFOUND)
                err = COVE_STORE_OK;
        if (iter != NULL)
                store_iter_deinit(&iter);
        if (err != COVE_STORE_OK) {
                imap_view_close(&view);
                *err_r = err;
                return -1;
        }
        if (uidnext > view->uidnext)
                view->uidnext = uidnext;
        /* \Recent: see imap_view_claim_recent(). */
        view->claims_recent = !readonly && store_tracks_recent(session->daemon->store);
        if (!view->claims_recent)
                recent_add(view, readonly && store_tracks_recent(session->daemon->store) ?
                           mailbox->recent_uid : view->uidnext, UINT32_MAX);
        *view_r = view;
        return 0;
}

void imap_view_close(struct imap_view **viewp)
{
        struct imap_view *view = *viewp;
        if (view == NULL)
                return;
        *viewp = NULL;
        free(view->uids);
        free(view->modseqs);
        free(view->pending_expunges);
        free(view->recent);
        view->recent = NULL;
        view->uids = NULL;
        view->modseqs = NULL;
        view->pending_expunges = NULL;
}

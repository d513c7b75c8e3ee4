/* view.h - the selected mailbox as this session sees it.
 *
 * Owns: the message sequence number <-> UID map announced to the client,
 * \Recent, the MODSEQ the view is synchronised to, and bringing the view up
 * to date from store_change_iter (untagged EXISTS / RECENT / EXPUNGE / FETCH
 * FLAGS). Refuses: reading message data (handlers use the store directly),
 * sending EXPUNGE where RFC 3501 §7.4.1 forbids it (the caller says).
 */
#ifndef COVE_IMAP_VIEW_H
#define COVE_IMAP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/storage.h"

struct pool;
struct imap_cmd;
struct imap_session;
struct imap_seqset;
struct store_txn;

/* UIDs lo..hi (inclusive) that are \Recent in this session. */
struct imap_recent_range {
        uint32_t lo, hi;
};

/* Read-only for commands; changed only by view.c and the commands that
   change the mailbox (EXPUNGE, STORE) through the functions below. */
struct imap_view {
        uint32_t mailbox_id;
        const char *store_name;     /* '/'-separated UTF-8 (session pool) */
        const char *imap_name;      /* as shown to the client (session pool) */
        bool readonly;              /* EXAMINE */
        uint32_t uidvalidity;
        uint32_t uidnext;           /* highest UID seen + 1 */
        uint64_t modseq;            /* changes up to here are reflected */
        uint32_t count;             /* messages announced (EXISTS) */
        uint32_t *uids;             /* [count] ascending; seq n is uids[n - 1] */
        uint64_t *modseqs;          /* [count] MODSEQ the client last saw */
        struct imap_recent_range *recent;  /* [recent_ranges] ascending, disjoint */
        size_t recent_ranges;
        bool claims_recent;         /* SELECT on an engine with a recent_uid
                                       watermark: \Recent is what this session
                                       claimed (imap_view_claim_recent) */
        uint32_t first_unseen;      /* at open: seq of the first unseen message, 0: none */
        /* private to view.c */
        size_t cap;
        uint32_t *pending_expunges; /* expunged in the store, not yet announced */
        size_t pending_count, pending_cap;
};

/* Sequence number of uid, or false when the view does not hold it. */
bool imap_view_uid_to_seq(const struct imap_view *view, uint32_t uid, uint32_t *seq_r);
/* UID of sequence number seq (1-based), or false when out of range. */
bool imap_view_seq_to_uid(const struct imap_view *view, uint32_t seq, uint32_t *uid_r);
/* \Recent for this session (RFC 3501 §2.3.2; see docs/imap.md). */
bool imap_view_is_recent(const struct imap_view *view, uint32_t uid);
/* Number of \Recent messages in the view. */
uint32_t imap_view_recent_count(const struct imap_view *view);
/* True when the message was expunged by another session and the expunge
   has not been announced yet (FETCH of it answers from what is left or NO). */
bool imap_view_is_expunge_pending(const struct imap_view *view, uint32_t uid);

/* Resolves a sequence set (uid false) or UID set (uid true) in text form
   against the view: *seqs_r gets the sequence numbers of the messages it
   names, ascending and unique, in cmd->pool. For sequence sets a number
   above the message count is an error (-1, *error_r "Invalid message
   sequence number", the caller answers BAD); UID sets silently skip UIDs
   not in the view (RFC 3501 §6.4.8). */
int imap_view_resolve(struct imap_cmd *cmd, const char *set, bool uid, uint32_t **seqs_r,
                      size_t *count_r, const char **error_r);

/* Records the MODSEQ the client now knows for seq (after it was sent the
   message's flags), so the next sync does not repeat it. */
void imap_view_set_modseq(struct imap_view *view, uint32_t seq, uint64_t modseq);

/* Removes seq from the view and writes "* seq EXPUNGE" (callers: EXPUNGE,
   CLOSE does not write, MOVE). */
void imap_view_expunge_seq(struct imap_cmd *cmd, uint32_t seq, bool announce);

/* How imap_view_sync() reads and claims \Recent. */
enum imap_sync_mode {
        /* A read txn; a \Recent claim commits on its own (through the
           write batch: on the loop, outside a batch, it waits for the
           store's writer lock). */
        IMAP_SYNC_NOW,
        /* The same, except that when the mailbox has new messages nobody
           has claimed yet, nothing is done and the sync returns 1: the
           caller then syncs again with IN_BATCH from an entry queued with
           write_batch_enqueue_first(), so that the claim joins the batch. */
        IMAP_SYNC_OR_DEFER,
        /* Inside the running write batch, through a txn nested in it (when
           the batch has one), the claim included. It sees what the batch
           changed before it: only for a session whose own command changed
           the store in the batch (a failed batch closes such a session) or
           for an entry that runs before the batch's changes
           (write_batch_enqueue_first). Otherwise a session could show
           changes that a failed batch then takes back. */
        IMAP_SYNC_IN_BATCH,
};

/* Brings the view up to date with the store and writes the untagged
   responses: EXISTS (+ RECENT) for new messages, FETCH (UID FLAGS) for
   changed flags, and EXPUNGE when allow_expunge (else expunges stay
   pending). Returns 0; 1 when mode is OR_DEFER and the sync must run in the
   batch (nothing written, the view unchanged); -1 when the mailbox is gone
   or its UIDVALIDITY changed (the session then says BYE and closes). Store
   failures are logged and leave the view for the next sync. */
int imap_view_sync(struct imap_session *session, bool allow_expunge, enum imap_sync_mode mode);

/* \Recent (RFC 3501 §2.3.2, docs/imap.md). A SELECT view on an engine that
   keeps the recent_uid watermark claims, in a short write txn, every UID
   from the watermark up to its uidnext and advances the watermark, so no
   other session gets them; called after opening and after new messages
   join the view. seen_recent_uid is the watermark last read (no write txn
   when it is already at the view's uidnext). write_txn: claim in that write
   txn (a sync inside the write batch), else in a txn of its own, through
   the write batch. Other views (EXAMINE, or no
   engine support) claim nothing: EXAMINE shows the unclaimed messages as
   \Recent without taking them, an engine without the watermark makes
   messages arriving while selected \Recent. */
void imap_view_claim_recent(struct imap_session *session, uint32_t seen_recent_uid,
                            struct store_txn *write_txn);

/* Opens a view of mailbox (a record read in txn) into the session pool and
   fills it from the store. Writes nothing (SELECT then calls
   imap_view_claim_recent with mailbox->recent_uid). */
int imap_view_open(struct imap_session *session, struct store_txn *txn,
                   const struct cove_store_mailbox *mailbox, const char *imap_name,
                   bool readonly, struct imap_view **view_r, enum cove_store_err *err_r);
/* Frees the view's arrays; *viewp is NULL afterwards. */
void imap_view_close(struct imap_view **viewp);

#endif

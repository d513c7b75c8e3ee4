/* cmd-expunge.c - EXPUNGE and UID EXPUNGE (RFC 4315), and the expunge of
 * \Deleted messages that CLOSE shares.
 *
 * Owns: choosing the messages (\Deleted, known to this view, in the UID set),
 * expunging them in one write txn and announcing them. Does not: check the
 * POP3 maildrop lock (the facade answers INUSE for INBOX while POP3 holds it).
 */
#include <stdlib.h>

#include "commands.h"
#include "pool.h"
#include "reply.h"
#include "store.h"
#include "view.h"

/* The UIDs (in view order) of messages to expunge; in cmd->pool. */
static enum cove_store_err collect_deleted(struct imap_cmd *cmd, struct store_txn *txn,
                                           const uint32_t *seqs, size_t count,
                                           uint32_t **uids_r, size_t *n_r)
{
        struct imap_view *view = cmd->session->view;
        uint32_t *uids = pool_alloc(cmd->pool, ((size_t)view->count + 1) * sizeof(*uids));
        size_t n = 0, k = 0;
        struct store_iter *iter;
        enum cove_store_err err = store_msg_iter_init(txn, view->mailbox_id, 1, UINT32_MAX,
                                                      &iter);
        if (err != COVE_STORE_OK)
                return err;
        const struct cove_store_msg *msg;
        while ((err = store_msg_iter_next(iter, &msg)) == COVE_STORE_OK) {
                uint32_t seq;
                if ((msg->flags & COVE_FLAG_DELETED) == 0 ||
                    !imap_view_uid_to_seq(view, msg->uid, &seq))
                        continue;
                if (seqs != NULL) {
                        while (k < count && seqs[k] < seq)
                                k++;
                        if (k == count || seqs[k] != seq)
                                continue;
                }
                uids[n++] = msg->uid;
        }
        store_iter_deinit(&iter);
        *uids_r = uids;
        *n_r = n;
        return err == COVE_STORE_NOTFOUND ? COVE_STORE_OK : err;
}

enum cove_store_err imap_expunge_deleted(struct imap_cmd *cmd, const uint32_t *seqs,
                                         size_t count, bool announce)
{
        struct imap_view *view = cmd->session->view;
        struct store_txn *txn;
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        uint32_t *uids = NULL;
        size_t n = 0;
        if (err == COVE_STORE_OK)
                err = collect_deleted(cmd, txn, seqs, count, &uids, &n);
        for (size_t i = 0; i < n && err == COVE_STORE_OK; i++) {
                err = store_msg_expunge(txn, view->mailbox_id, uids[i]);
                if (err == COVE_STORE_NOTFOUND)
                        err = COVE_STORE_OK;   /* another session got there first */
        }
        if (err == COVE_STORE_OK && n > 0)
                err = imap_cmd_txn_commit(cmd);
        imap_cmd_txn_end(cmd);
        if (err != COVE_STORE_OK)
                return err;
        /* Highest first, so each number is still valid when it is sent. */
        for (size_t i = n; i > 0; i--) {
                uint32_t seq;
                if (imap_view_uid_to_seq(view, uids[i - 1], &seq))
                        imap_view_expunge_seq(cmd, seq, announce);
        }
        return COVE_STORE_OK;
}

enum cmd_result imap_cmd_expunge(struct imap_cmd *cmd)
{
        struct imap_view *view = cmd->session->view;
        if (view->readonly)
                return imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
        uint32_t *seqs = NULL;
        size_t count = 0;
        const char *error;
        if (cmd->uid && imap_view_resolve(cmd, cmd->args[0].str, true, &seqs, &count,
                                          &error) < 0)
                return imap_reply_bad(cmd, "%s", error);
        if (cmd->uid && count == 0)
                return imap_reply_ok(cmd, "UID EXPUNGE completed");
        enum cove_store_err err = imap_expunge_deleted(cmd, seqs, count, true);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, cmd->name);
        return imap_reply_ok(cmd, "%s completed", cmd->name);
}

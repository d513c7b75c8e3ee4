/* cmd-copy.c - COPY, MOVE (RFC 6851) and their UID forms, with COPYUID
 * (RFC 4315).
 *
 * Owns: copying/moving the named messages in one write txn, the COPYUID
 * response code and MOVE's EXPUNGE responses. Does not: guard INBOX against
 * POP3 (the facade answers INUSE for moves out of INBOX while POP3 holds it).
 */
#include "commands.h"
#include "pool.h"
#include "reply.h"
#include "seqset.h"
#include "store.h"
#include "view.h"

static enum cmd_result copy_common(struct imap_cmd *cmd, bool move)
{
        struct imap_view *view = cmd->session->view;
        const char *name, *store_name, *error;
        uint32_t *seqs;
        size_t n;
        if (imap_view_resolve(cmd, cmd->args[0].str, cmd->uid, &seqs, &n, &error) < 0)
                return imap_reply_bad(cmd, "%s", error);
        (void)imap_arg_astring(&cmd->args[1], &name, NULL);
        if (!imap_mailbox_to_store(cmd, name, &store_name, &error))
                return imap_reply_no(cmd, "[TRYCREATE] %s", error);
        if (move && view->readonly)
                return imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
        struct store_txn *txn;
        const struct cove_store_mailbox *dst;
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        if (err == COVE_STORE_OK)
                err = store_mailbox_lookup(txn, cmd->session->user_id, store_name, &dst);
        if (err == COVE_STORE_NOTFOUND)
                return imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
        uint32_t dst_id = err == COVE_STORE_OK ? dst->id : 0, uidvalidity = 0;
        uint32_t *src_uids = pool_alloc(cmd->pool, (n + 1) * sizeof(uint32_t));
        uint32_t *dst_uids = pool_alloc(cmd->pool, (n + 1) * sizeof(uint32_t));
        size_t done = 0;
        for (size_t i = 0; i < n && err == COVE_STORE_OK; i++) {
                struct cove_store_saved saved;
                uint32_t uid = view->uids[seqs[i] - 1];
                err = move ? store_msg_move(txn, view->mailbox_id, uid, dst_id, &saved) :
                             store_msg_copy(txn, view->mailbox_id, uid, dst_id, &saved);
                if (err == COVE_STORE_NOTFOUND) {
                        err = COVE_STORE_EXPUNGED;
                        break;
                }
                src_uids[done] = uid;
                dst_uids[done++] = saved.uid;
                uidvalidity = saved.uidvalidity;
        }
        if (err == COVE_STORE_OK && done > 0)
                err = imap_cmd_txn_commit(cmd);
        imap_cmd_txn_end(cmd);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, cmd->name);
        if (done == 0)
                return imap_reply_ok(cmd, "%s completed, no messages", cmd->name);
        const char *code = pool_printf(cmd->pool, "COPYUID %u %s %s", uidvalidity,
                                       imap_seqset_format(cmd->pool, imap_seqset_from_sorted(
                                               cmd->pool, src_uids, done)),
                                       imap_seqset_format(cmd->pool, imap_seqset_from_sorted(
                                               cmd->pool, dst_uids, done)));
        if (!move)
                return imap_reply_ok(cmd, "[%s] COPY completed", code);
        /* RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs. */
        imap_reply_untagged(cmd, "OK [%s] Moved", code);
        for (size_t i = done; i > 0; i--) {
                uint32_t seq;
                if (imap_view_uid_to_seq(view, src_uids[i - 1], &seq))
                        imap_view_expunge_seq(cmd, seq, true);
        }
        return imap_reply_ok(cmd, "%s completed", cmd->name);
}

enum cmd_result imap_cmd_copy(struct imap_cmd *cmd)
{
        return copy_common(cmd, false);
}

enum cmd_result imap_cmd_move(struct imap_cmd *cmd)
{
        return copy_common(cmd, true);
}

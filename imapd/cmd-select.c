/* cmd-select.c - SELECT, EXAMINE, CLOSE and UNSELECT (RFC 3691): entering
 * and leaving the SELECTED state.
 *
 * Owns: the SELECT response set (FLAGS, PERMANENTFLAGS, EXISTS, RECENT,
 * UNSEEN, UIDVALIDITY, UIDNEXT, READ-WRITE/READ-ONLY) and starting the
 * change watch before the view is read. Does not: keep the view current
 * (view.c) or expunge (cmd-expunge.c).
 */
#include "commands.h"
#include "reply.h"
#include "store.h"
#include "view.h"

static void select_untagged(struct imap_cmd *cmd, const struct imap_view *view)
{
        imap_reply_untagged(cmd, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
        if (view->readonly)
                imap_reply_untagged(cmd, "OK [PERMANENTFLAGS ()] Read-only mailbox");
        else
                imap_reply_untagged(cmd, "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted "
                                    "\\Seen \\Draft \\*)] Flags permitted");
        imap_reply_untagged(cmd, "%u EXISTS", view->count);
        imap_reply_untagged(cmd, "%u RECENT", imap_view_recent_count(view));
        if (view->first_unseen != 0)
                imap_reply_untagged(cmd, "OK [UNSEEN %u] First unseen", view->first_unseen);
        imap_reply_untagged(cmd, "OK [UIDVALIDITY %u] UIDs valid", view->uidvalidity);
        imap_reply_untagged(cmd, "OK [UIDNEXT %u] Predicted next UID", view->uidnext);
}

static enum cmd_result select_common(struct imap_cmd *cmd, bool readonly)
{
        struct imap_session *session = cmd->session;
        const char *name, *store_name, *error;
        (void)imap_arg_astring(&cmd->args[0], &name, NULL);
        /* RFC 3501 §6.3.1: a SELECT, even a failing one, closes the current
           mailbox first (without expunging). */
        if (session->state == IMAP_STATE_SELECTED)
                imap_session_set_state(session, IMAP_STATE_AUTH);
        if (cmd->arg_count > 1)
                return imap_reply_bad(cmd, "SELECT parameters are not supported");
        if (!imap_mailbox_to_store(cmd, name, &store_name, &error))
                return imap_reply_no(cmd, "[NONEXISTENT] %s", error);
        /* Watch first, then read: a commit in between is not missed. */
        if (imap_session_watch_start(session) < 0)
                return imap_reply_internal(cmd, "cannot watch for changes");
        struct store_txn *txn;
        const struct cove_store_mailbox *mbox;
        enum cove_store_err err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_mailbox_lookup(txn, session->user_id, store_name, &mbox);
        struct imap_view *view = NULL;
        uint32_t seen_recent_uid = 0;
        if (err == COVE_STORE_OK && !readonly && !cmd->batched &&
            mbox->recent_uid < mbox->uidnext && store_tracks_recent(session->daemon->store)) {
                /* Messages nobody has claimed as \Recent: this session will,
                   in the write batch rather than with a commit of its own. */
                return imap_cmd_run_in_batch(cmd);
        }
        if (err == COVE_STORE_OK) {
                seen_recent_uid = mbox->recent_uid;
                (void)imap_view_open(session, txn, mbox, name, readonly, &view, &err);
        }
        imap_cmd_txn_end(cmd);
        if (err != COVE_STORE_OK) {
                imap_session_watch_stop(session);
                return imap_reply_store_err(cmd, err, readonly ? "EXAMINE" : "SELECT");
        }
        session->view = view;
        /* Takes this session's \Recent messages (a write only when the
           watermark is below UIDNEXT; nested in the write batch then). */
        imap_view_claim_recent(session, seen_recent_uid, NULL);
        imap_session_set_state(session, IMAP_STATE_SELECTED);
        select_untagged(cmd, view);
        return imap_reply_ok(cmd, "[%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE",
                             readonly ? "EXAMINE" : "SELECT");
}

enum cmd_result imap_cmd_select(struct imap_cmd *cmd)
{
        return select_common(cmd, false);
}

enum cmd_result imap_cmd_examine(struct imap_cmd *cmd)
{
        return select_common(cmd, true);
}

enum cmd_result imap_cmd_close(struct imap_cmd *cmd)
{
        struct imap_session *session = cmd->session;
        if (!session->view->readonly) {
                /* RFC 3501 §6.4.2: expunge silently, no EXPUNGE responses. */
                enum cove_store_err err = imap_expunge_deleted(cmd, NULL, 0, false);
                if (err != COVE_STORE_OK)
                        return imap_reply_store_err(cmd, err, "CLOSE");
        }
        imap_session_set_state(session, IMAP_STATE_AUTH);
        return imap_reply_ok(cmd, "CLOSE completed");
}

enum cmd_result imap_cmd_unselect(struct imap_cmd *cmd)
{
        imap_session_set_state(cmd->session, IMAP_STATE_AUTH);
        return imap_reply_ok(cmd, "UNSELECT completed");
}

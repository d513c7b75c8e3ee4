/* cmd-status.c - STATUS, and the STATUS response LIST-STATUS (RFC 5819) shares.
 *
 * Owns: the status items (MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN,
 * SIZE of RFC 8438) computed from the mailbox record. Does not: open the
 * mailbox (a record is enough; no view is built).
 */
#include "buf.h"
#include "commands.h"
#include "pool.h"
#include "reply.h"
#include "store.h"
#include "view.h"

bool imap_status_items_valid(const struct imap_arg *items, size_t count)
{
        static const char *const names[] = {
                "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "SIZE",
        };
        if (count == 0)
                return false;
        for (size_t i = 0; i < count; i++) {
                bool known = false;
                for (size_t j = 0; j < N_ELEMENTS(names) && !known; j++)
                        known = imap_arg_atom_equals(&items[i], names[j]);
                if (!known)
                        return false;
        }
        return true;
}

/* RECENT: the selected mailbox answers from the view; another mailbox
   counts the messages no session has claimed yet (UID >= recent_uid), the
   ones its next SELECT will see as \Recent. Uses the command's txn, so the
   caller's mbox record is copied first. */
static uint32_t status_recent(struct imap_cmd *cmd, const struct cove_store_mailbox *mbox)
{
        const struct imap_view *view = cmd->session->view;
        struct store_txn *txn;
        struct store_iter *iter = NULL;
        const struct cove_store_msg *msg;
        uint32_t n = 0;

        if (view != NULL && view->mailbox_id == mbox->id)
                return imap_view_recent_count(view);
        if (!store_tracks_recent(cmd->session->daemon->store) || mbox->recent_uid >= mbox->uidnext)
                return 0;
        enum cove_store_err err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_msg_iter_init(txn, mbox->id, mbox->recent_uid, UINT32_MAX, &iter);
        while (err == COVE_STORE_OK && (err = store_msg_iter_next(iter, &msg)) == COVE_STORE_OK)
                n++;
        if (iter != NULL)
                store_iter_deinit(&iter);
        return n;
}

void imap_status_write(struct imap_cmd *cmd, const struct cove_store_mailbox *mailbox,
                       const char *imap_name, const struct imap_arg *items, size_t count)
{
        /* A copy: status_recent() makes calls on the txn the record came from. */
        const struct cove_store_mailbox copy = *mailbox, *mbox = &copy;
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "* STATUS ");
        imap_buf_astring(&b, imap_name);
        buf_append_str(&b, " (");
        for (size_t i = 0; i < count; i++) {
                const char *sp = i == 0 ? "" : " ";
                if (imap_arg_atom_equals(&items[i], "MESSAGES"))
                        buf_printf(&b, "%sMESSAGES %u", sp, mbox->messages);
                else if (imap_arg_atom_equals(&items[i], "RECENT"))
                        buf_printf(&b, "%sRECENT %u", sp, status_recent(cmd, mbox));
                else if (imap_arg_atom_equals(&items[i], "UIDNEXT"))
                        buf_printf(&b, "%sUIDNEXT %u", sp, mbox->uidnext);
                else if (imap_arg_atom_equals(&items[i], "UIDVALIDITY"))
                        buf_printf(&b, "%sUIDVALIDITY %u", sp, mbox->uidvalidity);
                else if (imap_arg_atom_equals(&items[i], "UNSEEN"))
                        buf_printf(&b, "%sUNSEEN %u", sp, mbox->unseen);
                else if (imap_arg_atom_equals(&items[i], "SIZE"))
                        buf_printf(&b, "%sSIZE %llu", sp, (unsigned long long)mbox->bytes);
        }
        buf_append_str(&b, ")\r\n");
        imap_reply_write(cmd, b.data, b.len);
        buf_free(&b);
}

enum cmd_result imap_cmd_status(struct imap_cmd *cmd)
{
        const char *name, *store_name, *error;
        const struct imap_arg *items;
        size_t count;
        (void)imap_arg_astring(&cmd->args[0], &name, NULL);
        (void)imap_arg_get_list(&cmd->args[1], &items, &count);
        if (!imap_status_items_valid(items, count))
                return imap_reply_bad(cmd, "Invalid STATUS items");
        if (!imap_mailbox_to_store(cmd, name, &store_name, &error))
                return imap_reply_no(cmd, "[NONEXISTENT] %s", error);
        struct store_txn *txn;
        const struct cove_store_mailbox *mbox;
        enum cove_store_err err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_mailbox_lookup(txn, cmd->session->user_id, store_name, &mbox);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, "STATUS");
        imap_status_write(cmd, mbox, name, items, count);
        return imap_reply_ok(cmd, "STATUS completed");
}

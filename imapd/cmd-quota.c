/* cmd-quota.c - GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208).
 *
 * Owns: presenting the user's store quota (set by covectl quota) as one
 * quota root "" with STORAGE (KiB) and MESSAGE resources. Does not: change
 * quotas (SETQUOTA is refused: quotas are the operator's, via covectl).
 */
#include "buf.h"
#include "commands.h"
#include "reply.h"
#include "store.h"

static enum cmd_result quota_write(struct imap_cmd *cmd)
{
        struct store_txn *txn;
        const struct cove_store_user *user;
        enum cove_store_err err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_user_get(txn, cmd->session->user_id, &user);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, cmd->name);
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "* QUOTA \"\" (");
        if (user->quota_bytes != 0)
                buf_printf(&b, "STORAGE %llu %llu",
                           (unsigned long long)((user->used_bytes + 1023) / 1024),
                           (unsigned long long)(user->quota_bytes / 1024));
        if (user->quota_messages != 0)
                buf_printf(&b, "%sMESSAGE %llu %llu", user->quota_bytes != 0 ? " " : "",
                           (unsigned long long)user->used_messages,
                           (unsigned long long)user->quota_messages);
        buf_append_str(&b, ")\r\n");
        imap_reply_write(cmd, b.data, b.len);
        buf_free(&b);
        return imap_reply_ok(cmd, "%s completed", cmd->name);
}

enum cmd_result imap_cmd_getquota(struct imap_cmd *cmd)
{
        const char *root;
        (void)imap_arg_astring(&cmd->args[0], &root, NULL);
        if (*root != '\0')
                return imap_reply_no(cmd, "[NONEXISTENT] No such quota root");
        return quota_write(cmd);
}

enum cmd_result imap_cmd_getquotaroot(struct imap_cmd *cmd)
{
        const char *name, *store_name, *error;
        struct store_txn *txn;
        const struct cove_store_mailbox *mbox;
        (void)imap_arg_astring(&cmd->args[0], &name, NULL);
        if (!imap_mailbox_to_store(cmd, name, &store_name, &error))
                return imap_reply_no(cmd, "[NONEXISTENT] %s", error);
        enum cove_store_err err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_mailbox_lookup(txn, cmd->session->user_id, store_name, &mbox);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, "GETQUOTAROOT");
        struct buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "* QUOTAROOT ");
        imap_buf_astring(&b, name);
        buf_append_str(&b, " \"\"\r\n");
        imap_reply_write(cmd, b.data, b.len);
        buf_free(&b);
        return quota_write(cmd);
}

enum cmd_result imap_cmd_setquota(struct imap_cmd *cmd)
{
        return imap_reply_no(cmd, "[NOPERM] Quotas are set by the administrator");
}

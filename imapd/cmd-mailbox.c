/* cmd-mailbox.c - CREATE (with RFC 6154 USE), DELETE, RENAME, SUBSCRIBE and
 * UNSUBSCRIBE: changes to the mailbox list.
 *
 * Owns: turning client names into store names and the replies. Does not:
 * implement INBOX rename semantics or parent creation (the facade does).
 */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "commands.h"
#include "reply.h"
#include "store.h"
#include "view.h"

static const struct {
        const char *name;
        uint32_t bit;
} special_uses[] = {
        { "\\All", COVE_SPECIAL_ALL },       { "\\Archive", COVE_SPECIAL_ARCHIVE },
        { "\\Drafts", COVE_SPECIAL_DRAFTS }, { "\\Flagged", COVE_SPECIAL_FLAGGED },
        { "\\Junk", COVE_SPECIAL_JUNK },     { "\\Sent", COVE_SPECIAL_SENT },
        { "\\Trash", COVE_SPECIAL_TRASH },
};

bool imap_special_use_parse(const char *name, uint32_t *bit_r)
{
        for (size_t i = 0; i < N_ELEMENTS(special_uses); i++) {
                if (strcasecmp(name, special_uses[i].name) == 0) {
                        *bit_r = special_uses[i].bit;
                        return true;
                }
        }
        return false;
}

void imap_special_use_append(struct buf *buf, uint32_t bits)
{
        for (size_t i = 0; i < N_ELEMENTS(special_uses); i++)
                if ((bits & special_uses[i].bit) != 0)
                        buf_printf(buf, " %s", special_uses[i].name);
}

/* The mailbox argument at index i in store form; false with the reply set. */
static bool mailbox_arg(struct imap_cmd *cmd, size_t i, const char **store_r)
{
        const char *name, *error;
        (void)imap_arg_astring(&cmd->args[i], &name, NULL);
        if (!imap_mailbox_to_store(cmd, name, store_r, &error)) {
                imap_reply_no(cmd, "[CANNOT] %s", error);
                return false;
        }
        return true;
}

/* RFC 6154 §5.3: CREATE name (USE (\Sent ...)). */
static bool create_params(struct imap_cmd *cmd, uint32_t *special_r)
{
        const struct imap_arg *list, *uses;
        size_t count, n;
        *special_r = 0;
        if (cmd->arg_count < 2)
                return true;
        (void)imap_arg_get_list(&cmd->args[1], &list, &count);
        for (size_t i = 0; i < count; i += 2) {
                if (!imap_arg_atom_equals(&list[i], "USE") || i + 1 >= count ||
                    !imap_arg_get_list(&list[i + 1], &uses, &n)) {
                        imap_reply_bad(cmd, "Unknown CREATE parameter");
                        return false;
                }
                for (size_t j = 0; j < n; j++) {
                        uint32_t bit;
                        if (!imap_arg_is_atom(&uses[j]) ||
                            !imap_special_use_parse(uses[j].str, &bit)) {
                                imap_reply_no(cmd, "[USEATTR] Unsupported special-use attribute");
                                return false;
                        }
                        *special_r |= bit;
                }
        }
        return true;
}

static enum cmd_result mailbox_commit(struct imap_cmd *cmd, enum cove_store_err err)
{
        if (err == COVE_STORE_OK)
                err = imap_cmd_txn_commit(cmd);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, cmd->name);
        return imap_reply_ok(cmd, "%s completed", cmd->name);
}

enum cmd_result imap_cmd_create(struct imap_cmd *cmd)
{
        const char *name;
        uint32_t special;
        struct store_txn *txn;
        if (!mailbox_arg(cmd, 0, &name) || !create_params(cmd, &special))
                return CMD_RESULT_DONE;
        if (strcmp(name, "INBOX") == 0)
                return imap_reply_no(cmd, "[ALREADYEXISTS] INBOX always exists");
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        uint32_t id;
        if (err == COVE_STORE_OK)
                err = store_mailbox_create(txn, cmd->session->user_id, name, special, &id);
        return mailbox_commit(cmd, err);
}

enum cmd_result imap_cmd_delete(struct imap_cmd *cmd)
{
        struct imap_session *session = cmd->session;
        const char *name;
        struct store_txn *txn;
        if (!mailbox_arg(cmd, 0, &name))
                return CMD_RESULT_DONE;
        if (strcmp(name, "INBOX") == 0)
                return imap_reply_no(cmd, "[NOPERM] INBOX cannot be deleted");
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        if (err == COVE_STORE_OK)
                err = store_mailbox_delete(txn, session->user_id, name);
        if (err == COVE_STORE_OK && session->view != NULL &&
            strcmp(session->view->store_name, name) == 0) {
                /* Deleting the selected mailbox deselects it. */
                imap_session_set_state(session, IMAP_STATE_AUTH);
        }
        return mailbox_commit(cmd, err);
}

enum cmd_result imap_cmd_rename(struct imap_cmd *cmd)
{
        const char *from, *to;
        struct store_txn *txn;
        if (!mailbox_arg(cmd, 0, &from) || !mailbox_arg(cmd, 1, &to))
                return CMD_RESULT_DONE;
        if (strcmp(to, "INBOX") == 0)
                return imap_reply_no(cmd, "[ALREADYEXISTS] INBOX always exists");
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        if (err == COVE_STORE_OK)
                err = store_mailbox_rename(txn, cmd->session->user_id, from, to);
        return mailbox_commit(cmd, err);
}

static enum cmd_result subscribe(struct imap_cmd *cmd, bool on)
{
        const char *name;
        struct store_txn *txn;
        if (!mailbox_arg(cmd, 0, &name))
                return CMD_RESULT_DONE;
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        if (err == COVE_STORE_OK)
                err = store_subscription_set(txn, cmd->session->user_id, name, on);
        if (err == COVE_STORE_NOTFOUND && !on)
                return imap_reply_no(cmd, "[NONEXISTENT] Not subscribed");
        return mailbox_commit(cmd, err);
}

enum cmd_result imap_cmd_subscribe(struct imap_cmd *cmd)
{
        return subscribe(cmd, true);
}

enum cmd_result imap_cmd_unsubscribe(struct imap_cmd *cmd)
{
        return subscribe(cmd, false);
}

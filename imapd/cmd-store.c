/* cmd-store.c - STORE and UID STORE: FLAGS, +FLAGS, -FLAGS and .SILENT, and
 * the flag-list parsing APPEND shares.
 *
 * Owns: flag lists (system flags and keywords), applying them in one write
 * txn and the untagged FETCH (FLAGS) replies. Does not: check keyword
 * syntax beyond IMAP atoms (the facade bounds them).
 */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "commands.h"
#include "pool.h"
#include "reply.h"
#include "store.h"
#include "view.h"

bool imap_flags_parse(struct imap_cmd *cmd, const struct imap_arg *list, size_t count,
                      uint32_t *flags_r, const char ***keywords_r, size_t *kw_count_r,
                      const char **error_r)
{
        const char **kws = pool_alloc(cmd->pool, (count + 1) * sizeof(*kws));
        size_t nk = 0;
        *flags_r = 0;
        for (size_t i = 0; i < count; i++) {
                if (!imap_arg_is_atom(&list[i]) || list[i].type == IMAP_ARG_NIL) {
                        *error_r = "Invalid flag";
                        return false;
                }
                const char *name = list[i].str;
                uint32_t bit;
                if (name[0] == '\\') {
                        if (strcasecmp(name, "\\Recent") == 0)
                                continue;   /* RFC 3501 §2.3.2: not settable; ignored */
                        if (!imap_flag_parse(name, &bit)) {
                                *error_r = "Invalid system flag";
                                return false;
                        }
                        *flags_r |= bit;
                        continue;
                }
                if (strpbrk(name, "[]*%") != NULL || strlen(name) > COVE_STORE_MAX_KEYWORD) {
                        *error_r = "Invalid keyword";
                        return false;
                }
                kws[nk++] = name;
        }
        if (nk > COVE_STORE_MAX_KEYWORDS) {
                *error_r = "Too many keywords";
                return false;
        }
        *keywords_r = kws;
        *kw_count_r = nk;
        return true;
}

struct store_req {
        enum cove_store_flag_op op;
        bool silent;
        uint32_t flags;
        const char **keywords;
        size_t kw_count;
};

static bool store_parse(struct imap_cmd *cmd, struct store_req *req)
{
        const char *item = cmd->args[1].str, *error;
        const struct imap_arg *list = &cmd->args[2];
        size_t count = cmd->arg_count - 2;
        req->op = COVE_STORE_FLAGS_REPLACE;
        if (*item == '+' || *item == '-') {
                req->op = *item == '+' ? COVE_STORE_FLAGS_ADD : COVE_STORE_FLAGS_REMOVE;
                item++;
        }
        if (strcasecmp(item, "FLAGS.SILENT") == 0)
                req->silent = true;
        else if (strcasecmp(item, "FLAGS") != 0) {
                imap_reply_bad(cmd, "Invalid STORE item");
                return false;
        }
        if (count == 1 && cmd->args[2].type == IMAP_ARG_LIST)
                (void)imap_arg_get_list(&cmd->args[2], &list, &count);
        if (!imap_flags_parse(cmd, list, count, &req->flags, &req->keywords, &req->kw_count,
                              &error)) {
                imap_reply_bad(cmd, "%s", error);
                return false;
        }
        return true;
}

static void store_reply_flags(struct imap_cmd *cmd, struct store_txn *txn, uint32_t seq,
                              bool silent)
{
        struct imap_view *view = cmd->session->view;
        uint32_t uid = view->uids[seq - 1];
        const struct cove_store_msg *msg;
        if (store_msg_get(txn, view->mailbox_id, uid, &msg) != COVE_STORE_OK)
                return;
        if (!silent) {
                struct buf b;
                buf_init(&b, 0);
                buf_printf(&b, "* %u FETCH (", seq);
                if (cmd->uid)
                        buf_printf(&b, "UID %u ", uid);
                buf_append_str(&b, "FLAGS ");
                imap_buf_flags(&b, msg->flags, msg->keywords, msg->keyword_count,
                               imap_view_is_recent(view, uid));
                buf_append_str(&b, ")\r\n");
                imap_reply_write(cmd, b.data, b.len);
                buf_free(&b);
        }
        imap_view_set_modseq(view, seq, msg->modseq);
}

enum cmd_result imap_cmd_store(struct imap_cmd *cmd)
{
        struct imap_view *view = cmd->session->view;
        struct store_req req = { 0 };
        uint32_t *seqs;
        size_t n;
        const char *error;
        if (imap_view_resolve(cmd, cmd->args[0].str, cmd->uid, &seqs, &n, &error) < 0)
                return imap_reply_bad(cmd, "%s", error);
        if (!store_parse(cmd, &req))
                return CMD_RESULT_DONE;
        if (view->readonly)
                return imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
        struct store_txn *txn;
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        bool expunged = false;
        for (size_t i = 0; i < n && err == COVE_STORE_OK; i++) {
                uint64_t modseq;
                err = store_msg_update_flags(txn, view->mailbox_id, view->uids[seqs[i] - 1],
                                             req.op, req.flags, req.keywords, req.kw_count,
                                             &modseq);
                if (err == COVE_STORE_NOTFOUND) {
                        expunged = true;   /* gone meanwhile; RFC 2180 §4.2.1 */
                        err = COVE_STORE_OK;
                }
        }
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, cmd->name);
        for (size_t i = 0; i < n; i++)
                store_reply_flags(cmd, txn, seqs[i], req.silent);
        err = imap_cmd_txn_commit(cmd);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, cmd->name);
        if (expunged)
                return imap_reply_no(cmd, "[EXPUNGEISSUED] Some messages were expunged");
        return imap_reply_ok(cmd, "%s completed", cmd->name);
}

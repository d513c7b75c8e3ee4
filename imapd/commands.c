/* commands.c - the command table, the dispatcher's checks and handler services.
 *
 * Owns: the sorted table (name, handler, state flags, argument grammar), the
 * state/selection/grammar checks done before any handler runs, the command's
 * store transaction, suspension helpers, mailbox name conversion and the
 * CAPABILITY list. Does not: run the input loop (session.c) or format
 * replies (reply.c).
 */
#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"
#include "mutf7.h"
#include "pool.h"
#include "reply.h"
#include "seqset.h"
#include "store.h"

#define SEL IMAP_CMD_SELECTED
#define AUTHED IMAP_CMD_AUTHED
#define WR IMAP_CMD_WRITES

/* Sorted by name (strcmp order); checked at first use. */
static const struct imap_cmd_entry commands[] = {
        { .name = "APPEND", .handler = imap_cmd_append, .flags = WR | AUTHED | IMAP_CMD_SPOOL,
          .args = "mailbox any ..." },
        { .name = "AUTHENTICATE", .handler = imap_cmd_authenticate,
          .flags = IMAP_CMD_NOTAUTH, .args = "atom [any]" },
        { .name = "CAPABILITY", .handler = imap_cmd_capability, .flags = IMAP_CMD_ANY,
          .args = "" },
        { .name = "CHECK", .handler = imap_cmd_check, .flags = SEL, .args = "" },
        { .name = "CLOSE", .handler = imap_cmd_close, .flags = WR | SEL, .args = "" },
        { .name = "COPY", .handler = imap_cmd_copy, .flags = WR | SEL | IMAP_CMD_USES_SEQS,
          .args = "seqset mailbox" },
        { .name = "CREATE", .handler = imap_cmd_create, .flags = WR | AUTHED,
          .args = "mailbox [list]" },
        { .name = "DELETE", .handler = imap_cmd_delete, .flags = WR | AUTHED, .args = "mailbox" },
        { .name = "ENABLE", .handler = imap_cmd_enable, .flags = AUTHED, .args = "atom ..." },
        { .name = "EXAMINE", .handler = imap_cmd_examine, .flags = AUTHED,
          .args = "mailbox [list]" },
        { .name = "EXPUNGE", .handler = imap_cmd_expunge, .flags = WR | SEL, .args = "" },
        { .name = "FETCH", .handler = imap_cmd_fetch, .flags = SEL | IMAP_CMD_USES_SEQS,
          .args = "seqset any" },
        { .name = "GETQUOTA", .handler = imap_cmd_getquota, .flags = AUTHED,
          .args = "astring" },
        { .name = "GETQUOTAROOT", .handler = imap_cmd_getquotaroot, .flags = AUTHED,
          .args = "mailbox" },
        { .name = "ID", .handler = imap_cmd_id, .flags = IMAP_CMD_ANY, .args = "any" },
        { .name = "IDLE", .handler = imap_cmd_idle, .flags = AUTHED, .args = "" },
        { .name = "LIST", .handler = imap_cmd_list, .flags = AUTHED, .args = "any any ..." },
        { .name = "LOGIN", .handler = imap_cmd_login, .flags = IMAP_CMD_NOTAUTH,
          .args = "astring astring" },
        { .name = "LOGOUT", .handler = imap_cmd_logout, .flags = IMAP_CMD_ANY, .args = "" },
        { .name = "LSUB", .handler = imap_cmd_lsub, .flags = AUTHED, .args = "astring astring" },
        { .name = "MOVE", .handler = imap_cmd_move, .flags = WR | SEL | IMAP_CMD_USES_SEQS,
          .args = "seqset mailbox" },
        { .name = "NAMESPACE", .handler = imap_cmd_namespace, .flags = AUTHED, .args = "" },
        { .name = "NOOP", .handler = imap_cmd_noop, .flags = IMAP_CMD_ANY, .args = "" },
        { .name = "RENAME", .handler = imap_cmd_rename, .flags = WR | AUTHED,
          .args = "mailbox mailbox" },
        { .name = "SEARCH", .handler = imap_cmd_search, .flags = SEL | IMAP_CMD_USES_SEQS,
          .args = "any ..." },
        { .name = "SELECT", .handler = imap_cmd_select, .flags = AUTHED,
          .args = "mailbox [list]" },
        { .name = "SETQUOTA", .handler = imap_cmd_setquota, .flags = AUTHED,
          .args = "astring list" },
        { .name = "STARTTLS", .handler = imap_cmd_starttls, .flags = IMAP_CMD_NOTAUTH,
          .args = "" },
        { .name = "STATUS", .handler = imap_cmd_status, .flags = AUTHED, .args = "mailbox list" },
        { .name = "STORE", .handler = imap_cmd_store, .flags = WR | SEL | IMAP_CMD_USES_SEQS,
          .args = "seqset atom any ..." },
        { .name = "SUBSCRIBE", .handler = imap_cmd_subscribe, .flags = WR | AUTHED,
          .args = "mailbox" },
        { .name = "UID COPY", .handler = imap_cmd_copy, .flags = WR | SEL | IMAP_CMD_UID,
          .args = "seqset mailbox" },
        { .name = "UID EXPUNGE", .handler = imap_cmd_expunge, .flags = WR | SEL | IMAP_CMD_UID,
          .args = "seqset" },
        { .name = "UID FETCH", .handler = imap_cmd_fetch, .flags = SEL | IMAP_CMD_UID,
          .args = "seqset any" },
        { .name = "UID MOVE", .handler = imap_cmd_move, .flags = WR | SEL | IMAP_CMD_UID,
          .args = "seqset mailbox" },
        { .name = "UID SEARCH", .handler = imap_cmd_search, .flags = SEL | IMAP_CMD_UID,
          .args = "any ..." },
        { .name = "UID STORE", .handler = imap_cmd_store, .flags = WR | SEL | IMAP_CMD_UID,
          .args = "seqset atom any ..." },
        { .name = "UNSELECT", .handler = imap_cmd_unselect, .flags = SEL, .args = "" },
        { .name = "UNSUBSCRIBE", .handler = imap_cmd_unsubscribe, .flags = WR | AUTHED,
          .args = "mailbox" },
};

static int entry_cmp(const void *key, const void *elem)
{
        const struct imap_cmd_entry *e = elem;
        return strcmp(key, e->name);
}

const struct imap_cmd_entry *imap_cmd_find(const char *name)
{
        char upper[32];
        size_t len = strlen(name);
        if (len >= sizeof(upper))
                return NULL;
        for (size_t i = 0; i <= len; i++)
                upper[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
        return bsearch(upper, commands, N_ELEMENTS(commands), sizeof(commands[0]), entry_cmp);
}

/* Verified once: the table must be sorted for bsearch. */
static void commands_check_sorted(void)
{
        static bool checked;
        if (checked)
                return;
        for (size_t i = 1; i < N_ELEMENTS(commands); i++)
                COVE_ASSERT(strcmp(commands[i - 1].name, commands[i].name) < 0);
        checked = true;
}

bool imap_cmd_prepare(struct imap_cmd *cmd, const struct imap_arg *args, size_t count)
{
        commands_check_sorted();
        cmd->name = "?";
        if (count == 0 || !imap_arg_is_atom(&args[0])) {
                imap_reply_bad(cmd, "Missing command");
                return false;
        }
        size_t used = 1;
        const char *name = args[0].str;
        if (strcasecmp(name, "UID") == 0) {
                if (count < 2 || !imap_arg_is_atom(&args[1])) {
                        imap_reply_bad(cmd, "Missing UID command");
                        return false;
                }
                name = pool_printf(cmd->pool, "UID %s", args[1].str);
                used = 2;
        }
        cmd->entry = imap_cmd_find(name);
        if (cmd->entry == NULL) {
                cmd->name = pool_strndup(cmd->pool, name, strlen(name) > 32 ? 32 : strlen(name));
                imap_reply_bad(cmd, "Unknown command");
                return false;
        }
        cmd->name = cmd->entry->name;
        cmd->uid = (cmd->entry->flags & IMAP_CMD_UID) != 0;
        cmd->args = args + used;
        cmd->arg_count = count - used;
        return true;
}

static bool arg_matches(const struct imap_arg *arg, const char *type, size_t tlen)
{
#define TYPE_IS(s) (tlen == strlen(s) && strncmp(type, s, tlen) == 0)
        const char *str;
        if (TYPE_IS("any"))
                return true;
        if (TYPE_IS("atom"))
                return imap_arg_is_atom(arg);
        if (TYPE_IS("astring") || TYPE_IS("mailbox"))
                return imap_arg_astring(arg, &str, NULL);
        if (TYPE_IS("string"))
                return imap_arg_string(arg, &str, NULL);
        if (TYPE_IS("list"))
                return arg->type == IMAP_ARG_LIST;
        if (TYPE_IS("seqset"))
                return imap_arg_is_atom(arg) && imap_seqset_valid(arg->str);
#undef TYPE_IS
        log_fatal("imapd: unknown argument type '%.*s' in the command table", (int)tlen, type);
}

/* Checks cmd->args against the entry's grammar string. */
static bool args_check(struct imap_cmd *cmd)
{
        const char *p = cmd->entry->args;
        size_t i = 0;
        while (*p != '\0') {
                while (*p == ' ')
                        p++;
                if (*p == '\0')
                        break;
                if (strncmp(p, "...", 3) == 0)
                        return true;
                bool optional = *p == '[';
                const char *t = optional ? p + 1 : p;
                size_t tlen = strcspn(t, " ]");
                p = t + tlen + (optional ? 1 : 0);
                if (i >= cmd->arg_count) {
                        if (optional)
                                return true;
                        imap_reply_bad(cmd, "Missing arguments");
                        return false;
                }
                if (!arg_matches(&cmd->args[i], t, tlen)) {
                        imap_reply_bad(cmd, "Invalid arguments");
                        return false;
                }
                i++;
        }
        if (i < cmd->arg_count) {
                imap_reply_bad(cmd, "Too many arguments");
                return false;
        }
        return true;
}

bool imap_cmd_validate(struct imap_cmd *cmd)
{
        unsigned flags = cmd->entry->flags;
        switch (cmd->session->state) {
        case IMAP_STATE_NOTAUTH:
                if ((flags & IMAP_CMD_NOTAUTH) == 0) {
                        imap_reply_bad(cmd, "Log in first");
                        return false;
                }
                break;
        case IMAP_STATE_AUTH:
                if ((flags & IMAP_CMD_AUTH) == 0) {
                        imap_reply_bad(cmd, (flags & IMAP_CMD_SELECTED) != 0 ?
                                       "No mailbox selected" : "Already logged in");
                        return false;
                }
                break;
        case IMAP_STATE_SELECTED:
                if ((flags & IMAP_CMD_SELECTED) == 0) {
                        imap_reply_bad(cmd, "Already logged in");
                        return false;
                }
                break;
        case IMAP_STATE_LOGOUT:
                imap_reply_bad(cmd, "Logging out");
                return false;
        }
        return args_check(cmd);
}

/* ---- handler services ---- */

enum cove_store_err imap_cmd_txn(struct imap_cmd *cmd, bool write, struct store_txn **txn_r)
{
        if (cmd->txn == NULL) {
                struct imap_daemon *d = cmd->session->daemon;
                enum cove_store_err err = write ? write_batch_begin(d->batch, &cmd->txn)
                                                : store_txn_begin(d->store, false, &cmd->txn);
                if (err != COVE_STORE_OK)
                        return err;
                cmd->txn_write = write;
        }
        COVE_ASSERT(!write || cmd->txn_write);
        *txn_r = cmd->txn;
        return COVE_STORE_OK;
}

enum cove_store_err imap_cmd_txn_commit(struct imap_cmd *cmd)
{
        if (cmd->txn == NULL)
                return COVE_STORE_OK;
        bool write = cmd->txn_write;
        /* Made durable by the worker's shared flush ([store] flush), which
           session.c waits for before the tagged reply. */
        struct group_commit *gc = cmd->session->daemon->commit;
        bool deferred = write && group_commit_deferred(gc);
        enum cove_store_err err = store_txn_commit_as(&cmd->txn, write ? group_commit_mode(gc)
                                                                       : STORE_FLUSH_DURABLE);
        if (write && err == COVE_STORE_OK) {
                cmd->session->watch_fired = true;   /* our own change: sync before the reply */
                cmd->session->flush_pending = deferred;
        }
        return err;
}

void imap_cmd_txn_end(struct imap_cmd *cmd)
{
        if (cmd->txn != NULL)
                store_txn_abort(&cmd->txn);
}

void imap_cmd_wait_line(struct imap_cmd *cmd)
{
        cmd->wait_line = true;
}

void imap_cmd_stream(struct imap_cmd *cmd, imap_produce_fn *fn, void *context)
{
        cmd->producer = fn;
        cmd->producer_ctx = context;
}

void imap_cmd_suspend(struct imap_cmd *cmd)
{
        cmd->suspended = true;
}

void imap_cmd_set_cleanup(struct imap_cmd *cmd, imap_cmd_cleanup_fn *fn, void *context)
{
        cmd->cleanup = fn;
        cmd->cleanup_ctx = context;
}

/* ---- mailbox names ---- */

bool imap_mailbox_to_store(struct imap_cmd *cmd, const char *name, const char **store_r,
                           const char **error_r)
{
        char delim = cmd->session->daemon->delimiter;
        const char *utf8;
        if (!imap_mutf7_decode(cmd->pool, name, &utf8)) {
                *error_r = "Invalid modified UTF-7 mailbox name";
                return false;
        }
        char *s = pool_strdup(cmd->pool, utf8);
        size_t len = strlen(s);
        if (len > 1 && s[len - 1] == delim)
                s[--len] = '\0';   /* RFC 3501 §6.3.3: "foo/" names the mailbox foo */
        if (delim != COVE_STORE_HIERARCHY_SEP) {
                if (strchr(s, COVE_STORE_HIERARCHY_SEP) != NULL) {
                        *error_r = "Mailbox names may not contain '/'";
                        return false;
                }
                for (char *p = s; *p != '\0'; p++)
                        if (*p == delim)
                                *p = COVE_STORE_HIERARCHY_SEP;
        }
        const char *normal;
        if (!store_mailbox_name_normalize(cmd->pool, s, &normal, error_r))
                return false;
        *store_r = normal;
        return true;
}

const char *imap_mailbox_from_store(struct imap_cmd *cmd, const char *store_name)
{
        char delim = cmd->session->daemon->delimiter;
        char *s = pool_strdup(cmd->pool, store_name);
        if (delim != COVE_STORE_HIERARCHY_SEP) {
                if (strchr(s, delim) != NULL)
                        return NULL;
                for (char *p = s; *p != '\0'; p++)
                        if (*p == COVE_STORE_HIERARCHY_SEP)
                                *p = delim;
        }
        const char *out;
        if (!imap_mutf7_encode(cmd->pool, s, &out))
                return NULL;
        return out;
}

/* ---- CAPABILITY ---- */

const char *imap_capability_string(const struct imap_session *session, struct pool *pool)
{
        const struct conn *conn = &session->conn;
        const struct cove_conf *conf = session->daemon->conf;
        bool plain_ok = conn->secured || conn->loopback || conf->server.allow_plaintext_auth;
        const char *pre = "";
        if (session->state == IMAP_STATE_NOTAUTH) {
                bool tls = !conn->secured && conn_mgr_get_tls(conn->mgr) != NULL;
                pre = pool_printf(pool, "%s%s AUTH=SCRAM-SHA-256", tls ? " STARTTLS" : "",
                                  plain_ok ? " AUTH=PLAIN" : " LOGINDISABLED");
        }
        return pool_printf(pool, "IMAP4rev1%s SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE "
                           "UIDPLUS MOVE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED "
                           "LIST-STATUS QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE "
                           "APPENDLIMIT=%zu%s", pre, conf->limits.max_message_size,
                           imap_cmd_find("SEARCH") != NULL ? " ESEARCH" : "");
}

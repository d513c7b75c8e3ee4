/* reply.c - everything a command writes (see reply.h).
 *
 * Owns: response syntax (untagged, "+", tagged), writing strings (the
 * quoting rules are imap-string.c's), flag lists, and the single enum
 * cove_store_err -> "NO [code]" mapping with the internal-error rule. Does not: decide the order of the
 * tagged reply against view syncs (session.c writes it last).
 */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imap-string.h"
#include "log.h"
#include "pool.h"
#include "store.h"

static struct conn *cmd_conn(struct imap_cmd *cmd)
{
        return &cmd->session->conn;
}

void imap_reply_untagged(struct imap_cmd *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *text = pool_vprintf(cmd->pool, fmt, ap);
        va_end(ap);
        conn_printf(cmd_conn(cmd), "* %s\r\n", text);
}

void imap_reply_continue(struct imap_cmd *cmd, const char *text)
{
        conn_printf(cmd_conn(cmd), "+ %s\r\n", text);
}

static enum cmd_result reply_tagged_v(struct imap_cmd *cmd, const char *status,
                                      const char *fmt, va_list ap)
{
        char *text = pool_vprintf(cmd->pool, fmt, ap);
        cmd->tagged = pool_printf(cmd->pool, "%s %s", status, text);
        return CMD_RESULT_DONE;
}

enum cmd_result imap_reply_tagged(struct imap_cmd *cmd, const char *status, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        enum cmd_result r = reply_tagged_v(cmd, status, fmt, ap);
        va_end(ap);
        return r;
}

enum cmd_result imap_reply_ok(struct imap_cmd *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        enum cmd_result r = reply_tagged_v(cmd, "OK", fmt, ap);
        va_end(ap);
        return r;
}

enum cmd_result imap_reply_no(struct imap_cmd *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        enum cmd_result r = reply_tagged_v(cmd, "NO", fmt, ap);
        va_end(ap);
        return r;
}

enum cmd_result imap_reply_bad(struct imap_cmd *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        enum cmd_result r = reply_tagged_v(cmd, "BAD", fmt, ap);
        va_end(ap);
        return r;
}

enum cmd_result imap_reply_internal(struct imap_cmd *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *detail = pool_vprintf(cmd->pool, fmt, ap);
        va_end(ap);
        struct imap_session *session = cmd->session;
        log_error("session=%s proto=imap user=%s command=%s internal error: %s",
                  session->conn.id, session->user != NULL ? session->user : "-", cmd->name,
                  detail);
        return imap_reply_no(cmd, "[SERVERBUG] Internal error [%s]", session->conn.id);
}

enum cmd_result imap_reply_store_err(struct imap_cmd *cmd, enum cove_store_err err,
                                     const char *what)
{
        switch (err) {
        case COVE_STORE_OK:
                return imap_reply_ok(cmd, "%s completed", what);
        case COVE_STORE_NOTFOUND:
                return imap_reply_no(cmd, "[NONEXISTENT] Mailbox or message does not exist");
        case COVE_STORE_EXISTS:
                return imap_reply_no(cmd, "[ALREADYEXISTS] Mailbox already exists");
        case COVE_STORE_NOPERM:
                return imap_reply_no(cmd, "[NOPERM] %s not permitted", what);
        case COVE_STORE_OVERQUOTA:
                return imap_reply_no(cmd, "[OVERQUOTA] Quota exceeded");
        case COVE_STORE_INUSE:
                return imap_reply_no(cmd, "[INUSE] Mailbox is in use by a POP3 session, "
                                     "try again later");
        case COVE_STORE_EXPUNGED:
                return imap_reply_no(cmd, "[EXPUNGEISSUED] Some messages were expunged");
        case COVE_STORE_TEMP:
                return imap_reply_no(cmd, "[UNAVAILABLE] Temporary failure, try again later");
        case COVE_STORE_CORRUPT:
        case COVE_STORE_INTERNAL:
                break;
        }
        return imap_reply_internal(cmd, "%s: %s: %s", what, cove_store_strerror(err),
                                   store_last_error(cmd->session->daemon->store));
}

/* ---- raw writing ---- */

void imap_reply_write(struct imap_cmd *cmd, const void *data, size_t len)
{
        conn_write(cmd_conn(cmd), data, len);
}

void imap_reply_printf(struct imap_cmd *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *text = pool_vprintf(cmd->pool, fmt, ap);
        va_end(ap);
        conn_write_str(cmd_conn(cmd), text);
}

bool imap_reply_output_full(struct imap_cmd *cmd)
{
        return conn_output_full(cmd_conn(cmd));
}

void imap_reply_literal_header(struct imap_cmd *cmd, uint64_t size)
{
        conn_printf(cmd_conn(cmd), "{%llu}\r\n", (unsigned long long)size);
}

void imap_buf_string(struct buf *buf, const char *str, size_t len)
{
        imap_string_append(buf, str, len);
}

void imap_buf_nstring(struct buf *buf, const char *str, size_t len)
{
        imap_nstring_append(buf, str, len);
}

void imap_buf_astring(struct buf *buf, const char *str)
{
        imap_astring_append(buf, str);
}

static const struct {
        uint32_t flag;
        const char *name;
} flag_names[] = {
        { COVE_FLAG_SEEN, "\\Seen" },
        { COVE_FLAG_ANSWERED, "\\Answered" },
        { COVE_FLAG_FLAGGED, "\\Flagged" },
        { COVE_FLAG_DELETED, "\\Deleted" },
        { COVE_FLAG_DRAFT, "\\Draft" },
};

void imap_buf_flags(struct buf *buf, uint32_t flags, const char *const *keywords,
                    size_t keyword_count, bool recent)
{
        bool first = true;
        buf_append_char(buf, '(');
        for (size_t i = 0; i < N_ELEMENTS(flag_names); i++) {
                if ((flags & flag_names[i].flag) == 0)
                        continue;
                buf_printf(buf, "%s%s", first ? "" : " ", flag_names[i].name);
                first = false;
        }
        if (recent) {
                buf_printf(buf, "%s\\Recent", first ? "" : " ");
                first = false;
        }
        for (size_t i = 0; i < keyword_count; i++) {
                buf_printf(buf, "%s%s", first ? "" : " ", keywords[i]);
                first = false;
        }
        buf_append_char(buf, ')');
}

bool imap_flag_parse(const char *name, uint32_t *flag_r)
{
        for (size_t i = 0; i < N_ELEMENTS(flag_names); i++) {
                if (strcasecmp(name, flag_names[i].name) == 0) {
                        *flag_r = flag_names[i].flag;
                        return true;
                }
        }
        return false;
}

/* The conn-writing forms go through a small buffer (never holding more than
   one string or flag list). */
static void write_buf(struct imap_cmd *cmd, struct buf *b)
{
        conn_write(cmd_conn(cmd), b->data == NULL ? "" : b->data, b->len);
        buf_free(b);
}

void imap_reply_string(struct imap_cmd *cmd, const char *str, size_t len)
{
        /* A literal goes out as is, without a copy through a buffer. */
        if (!imap_string_quotable(str, len)) {
                imap_reply_literal_header(cmd, len);
                conn_write(cmd_conn(cmd), str, len);
                return;
        }
        struct buf b;
        buf_init(&b, 0);
        imap_buf_string(&b, str, len);
        write_buf(cmd, &b);
}

void imap_reply_nstring(struct imap_cmd *cmd, const char *str, size_t len)
{
        if (str == NULL)
                conn_write_str(cmd_conn(cmd), "NIL");
        else
                imap_reply_string(cmd, str, len);
}

void imap_reply_astring(struct imap_cmd *cmd, const char *str)
{
        if (imap_string_is_atom(str))
                conn_write_str(cmd_conn(cmd), str);
        else
                imap_reply_string(cmd, str, strlen(str));
}

void imap_reply_flags(struct imap_cmd *cmd, uint32_t flags, const char *const *keywords,
                      size_t keyword_count, bool recent)
{
        struct buf b;
        buf_init(&b, 0);
        imap_buf_flags(&b, flags, keywords, keyword_count, recent);
        write_buf(cmd, &b);
}

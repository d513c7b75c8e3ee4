/* cmd-fetch.c - FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8, §7.4.2).
 *
 * Owns: resolving the message set, the implicit \Seen of non-PEEK body
 * items (one write txn before any output, reported as FLAGS in the same
 * response), and the producer that writes "* n FETCH (...)" message by
 * message, item by item, loading each message in a short read txn. Refuses:
 * item grammar (fetch-items.c), body literals (fetch-body.c), ENVELOPE and
 * BODYSTRUCTURE syntax (fetch-envelope.c, fetch-bodystructure.c), EXPUNGE
 * announcements (the session syncs after the command, without expunges).
 */
#include "fetch-private.h"

#include <string.h>
#include <time.h>

#include "commands.h"
#include "log.h"
#include "mime.h"
#include "pool.h"
#include "reply.h"
#include "session.h"
#include "store.h"
#include "view.h"

static bool request_has_body(const struct imap_fetch_request *req)
{
        for (unsigned i = 0; i < req->count; i++) {
                enum imap_fetch_kind k = req->items[i].kind;
                if (k == IMAP_FETCH_SECTION || k == IMAP_FETCH_BINARY ||
                    k == IMAP_FETCH_BINARY_SIZE)
                        return true;
        }
        return false;
}

/* RFC 3501 §6.4.5: fetching a body without .PEEK sets \Seen. Done for the
   whole set in one txn before any output, so the FETCH responses can carry
   the new flags. A read-only (EXAMINE) view changes nothing. */
static enum cove_store_err set_seen(struct fetch_state *st)
{
        struct imap_view *view = st->cmd->session->view;
        struct store_txn *txn;
        bool changed = false;

        if (!st->req.sets_seen || view->readonly)
                return COVE_STORE_OK;
        enum cove_store_err err = imap_cmd_txn(st->cmd, true, &txn);
        for (size_t i = 0; err == COVE_STORE_OK && i < st->seq_count; i++) {
                const struct cove_store_msg *msg;
                uint32_t uid = view->uids[st->seqs[i] - 1];
                err = store_msg_get(txn, view->mailbox_id, uid, &msg);
                if (err == COVE_STORE_NOTFOUND) {
                        err = COVE_STORE_OK;    /* expunged meanwhile: skipped */
                        continue;
                }
                if (err != COVE_STORE_OK || (msg->flags & COVE_FLAG_SEEN) != 0)
                        continue;
                uint64_t modseq;
                err = store_msg_update_flags(txn, view->mailbox_id, uid, COVE_STORE_FLAGS_ADD,
                                             COVE_FLAG_SEEN, NULL, 0, &modseq);
                st->seen_set[i] = err == COVE_STORE_OK;
                changed |= st->seen_set[i];
        }
        if (err == COVE_STORE_OK && changed)
                return imap_cmd_txn_commit(st->cmd);
        imap_cmd_txn_end(st->cmd);
        return err;
}

static const char *const *copy_keywords(struct pool *pool, const struct cove_store_msg *msg)
{
        const char **kw = pool_alloc(pool, sizeof(*kw) * (msg->keyword_count + 1));
        for (size_t i = 0; i < msg->keyword_count; i++)
                kw[i] = pool_strdup(pool, msg->keywords[i]);
        return kw;
}

/* Loads st->next's message into st->msg. Returns 1 when loaded, 0 when it
   is gone (expunged by another session, not yet announced: RFC 2180
   §4.1.3 lets FETCH skip it), -1 on failure (st->load_err; nothing of the
   message was written, so the command can end with a tagged NO). */
static int load_message(struct fetch_state *st)
{
        struct imap_cmd *cmd = st->cmd;
        struct imap_view *view = cmd->session->view;
        struct store_txn *txn;
        const struct cove_store_msg *msg;
        struct fetch_msg *m = &st->msg;

        memset(m, 0, sizeof(*m));
        m->seq = st->seqs[st->next];
        m->uid = view->uids[m->seq - 1];
        m->seen_set = st->seen_set[st->next];
        enum cove_store_err err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_msg_get(txn, view->mailbox_id, m->uid, &msg);
        if (err == COVE_STORE_NOTFOUND)
                return 0;
        const char *error = NULL;
        if (err == COVE_STORE_OK) {
                m->flags = msg->flags;
                m->keywords = copy_keywords(st->msg_pool, msg);
                m->keyword_count = msg->keyword_count;
                m->internal_date = msg->internal_date;
                m->internal_tz = msg->internal_tz;
                m->size = msg->size;
                m->modseq = msg->modseq;
                if (st->req.needs_tree &&
                    mime_structure_parse(st->msg_pool, msg->structure, msg->structure_len,
                                         &m->root, &error) < 0)
                        err = COVE_STORE_CORRUPT;
        }
        if (err == COVE_STORE_OK && request_has_body(&st->req)) {
                uint64_t size;
                err = store_stream_open(cmd->session->daemon->store, view->mailbox_id, m->uid,
                                        &st->stream, &size);
                if (err == COVE_STORE_NOTFOUND)
                        return 0;
        }
        if (err == COVE_STORE_OK)
                return 1;
        if (error != NULL)
                log_error("session=%s proto=imap user=%s FETCH uid=%u: cached structure: %s",
                          cmd->session->conn.id, cmd->session->user, m->uid, error);
        st->load_err = err;
        return -1;
}

/* RFC 3501 §9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" in the stored zone. */
static void append_internaldate(struct buf *out, int64_t date, int32_t tz)
{
        static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        time_t t = (time_t)(date + (int64_t)tz * 60);
        struct tm tm;
        int32_t atz = tz < 0 ? -tz : tz;

        if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year < -1899) {
                t = 0;
                atz = tz = 0;
                gmtime_r(&t, &tm);
        }
        buf_printf(out, "INTERNALDATE \"%2d-%s-%04d %02d:%02d:%02d %c%02d%02d\"", tm.tm_mday,
                   months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   tz < 0 ? '-' : '+', (int)(atz / 60), (int)(atz % 60));
}

static void append_flags(struct fetch_state *st)
{
        struct fetch_msg *m = &st->msg;
        struct imap_view *view = st->cmd->session->view;

        buf_append_str(&st->out, "FLAGS ");
        imap_buf_flags(&st->out, m->flags, m->keywords, m->keyword_count,
                       imap_view_is_recent(view, m->uid));
        m->flags_sent = true;
}

/* Appends a small item to st->out; body items are started instead.
   Returns false on failure. */
static bool write_item(struct fetch_state *st, const struct imap_fetch_item *item)
{
        struct fetch_msg *m = &st->msg;
        uint64_t size;
        bool known;

        switch (item->kind) {
        case IMAP_FETCH_UID:
                buf_printf(&st->out, "UID %u", m->uid);
                break;
        case IMAP_FETCH_FLAGS:
                append_flags(st);
                break;
        case IMAP_FETCH_INTERNALDATE:
                append_internaldate(&st->out, m->internal_date, m->internal_tz);
                break;
        case IMAP_FETCH_RFC822_SIZE:
                buf_printf(&st->out, "RFC822.SIZE %llu", (unsigned long long)m->size);
                break;
        case IMAP_FETCH_ENVELOPE:
                buf_append_str(&st->out, "ENVELOPE ");
                imap_fetch_append_envelope(&st->out, m->root->envelope);
                break;
        case IMAP_FETCH_BODY:
        case IMAP_FETCH_BODYSTRUCTURE:
                buf_append_str(&st->out, item->kind == IMAP_FETCH_BODY ? "BODY " :
                                                                         "BODYSTRUCTURE ");
                imap_fetch_append_bodystructure(&st->out, m->root,
                                                item->kind == IMAP_FETCH_BODYSTRUCTURE);
                break;
        case IMAP_FETCH_BINARY_SIZE:
                if (!fetch_binary_size(st, item, &size, &known) && known)
                        return false;
                buf_append_str(&st->out, item->label);
                imap_section_append_name(&st->out, &item->section);
                if (known)
                        buf_printf(&st->out, " %llu", (unsigned long long)size);
                else
                        buf_append_str(&st->out, " NIL");
                st->unknown_cte |= !known;
                break;
        case IMAP_FETCH_SECTION:
        case IMAP_FETCH_BINARY:
                return fetch_body_start(st, item);
        }
        return true;
}

static void flush_out(struct fetch_state *st)
{
        if (st->out.len > 0)
                imap_reply_write(st->cmd, st->out.data, st->out.len);
        buf_reset(&st->out);
}

/* Closes the current message's response. */
static void end_message(struct fetch_state *st)
{
        struct fetch_msg *m = &st->msg;

        /* RFC 3501 §6.4.5: flags changed by the implicit \Seen are sent in
           the same response. */
        if (m->seen_set && !m->flags_sent) {
                buf_append_char(&st->out, ' ');
                append_flags(st);
        }
        buf_append_str(&st->out, ")\r\n");
        flush_out(st);
        if (m->flags_sent)
                imap_view_set_modseq(st->cmd->session->view, m->seq, m->modseq);
        fetch_body_close(st);
        pool_clear(st->msg_pool);
        st->in_message = false;
        st->next++;
}

/* One step of the current message; false when output is full or failed. */
static bool message_step(struct fetch_state *st)
{
        if (st->body.kind != FETCH_BODY_NONE)
                return fetch_body_continue(st);
        if (!st->in_message) {
                int ret = load_message(st);
                if (ret <= 0) {
                        fetch_body_close(st);
                        pool_clear(st->msg_pool);
                        st->next += ret == 0;
                        return ret == 0;
                }
                buf_printf(&st->out, "* %u FETCH (", st->msg.seq);
                st->in_message = true;
                st->item = 0;
        }
        if (st->item == st->req.count) {
                end_message(st);
                return true;
        }
        if (st->item > 0)
                buf_append_char(&st->out, ' ');
        if (!write_item(st, &st->req.items[st->item++]))
                return false;
        if (st->out.len >= FETCH_WRITE_CHUNK)
                flush_out(st);
        return true;
}

static enum imap_produce fetch_produce(struct imap_cmd *cmd, void *context)
{
        struct fetch_state *st = context;

        while (!st->failed && st->load_err == COVE_STORE_OK && st->next < st->seq_count) {
                if (imap_reply_output_full(cmd) || !message_step(st))
                        break;
        }
        /* Never hold a txn while waiting for the client to read. */
        imap_cmd_txn_end(cmd);
        if (st->failed || st->load_err != COVE_STORE_OK || st->next == st->seq_count) {
                flush_out(st);
                return IMAP_PRODUCE_DONE;
        }
        return IMAP_PRODUCE_MORE;
}

static void fetch_cleanup(struct imap_cmd *cmd, void *context)
{
        struct fetch_state *st = context;

        (void)cmd;
        fetch_body_close(st);
        buf_free(&st->out);
        buf_free(&st->scratch);
        pool_destroy(&st->msg_pool);
}

static enum cmd_result fetch_finish(struct fetch_state *st)
{
        if (st->failed)
                return CMD_RESULT_ABORT;
        if (st->load_err != COVE_STORE_OK)
                return imap_reply_store_err(st->cmd, st->load_err, "FETCH");
        if (st->unknown_cte)
                return imap_reply_tagged(st->cmd, "NO",
                                         "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
        return imap_reply_ok(st->cmd, "Fetch completed");
}

enum cmd_result imap_cmd_fetch(struct imap_cmd *cmd)
{
        struct fetch_state *st = cmd->context;
        const char *error;

        if (st != NULL)
                return fetch_finish(st);
        if (cmd->arg_count != 2)
                return imap_reply_bad(cmd, "FETCH needs a sequence set and items");
        st = pool_alloc(cmd->pool, sizeof(*st));
        st->cmd = cmd;
        if (imap_fetch_parse_items(cmd->pool, &cmd->args[1], cmd->uid, &st->req, &error) < 0)
                return imap_reply_bad(cmd, "%s", error);
        if (imap_view_resolve(cmd, cmd->args[0].str, cmd->uid, &st->seqs, &st->seq_count,
                              &error) < 0)
                return imap_reply_bad(cmd, "%s", error);
        st->seen_set = pool_alloc(cmd->pool, sizeof(*st->seen_set) * (st->seq_count + 1));
        enum cove_store_err err = set_seen(st);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, "FETCH \\Seen");
        if (st->seq_count == 0)
                return imap_reply_ok(cmd, "Fetch completed");
        cmd->context = st;
        buf_init(&st->out, 0);
        buf_init(&st->scratch, 0);
        st->msg_pool = pool_create("fetch message", 4096);
        imap_cmd_set_cleanup(cmd, fetch_cleanup, st);
        imap_cmd_stream(cmd, fetch_produce, st);
        return CMD_RESULT_MORE;
}

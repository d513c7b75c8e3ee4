/* cmds-trans.c - the TRANSACTION commands that need no message bytes:
 * STAT, LIST, UIDL, DELE, NOOP, RSET and LAST (RFC 1939 §5, RFC 1725).
 *
 * Owns: the size-computation job that makes STAT/LIST exact (sizes come from
 * the bytes, once per message, cached), and the listing job that writes long
 * LIST/UIDL replies under back-pressure. Does not: send message bytes.
 */
#include <inttypes.h>
#include <string.h>

#include "commands.h"
#include "maildrop.h"
#include "pool.h"
#include "session.h"

/* Bytes scanned per producer call before yielding to other connections. */
#define POP3_SIZE_BUDGET (1024 * 1024)

typedef void pop3_sizes_then_fn(struct pop3_session *session, void *context);

struct sizes_job {
        uint32_t next, end;            /* message indexes [next, end) */
        struct pop3_size_scan scan;
        pop3_sizes_then_fn *then;
        void *then_ctx;
};

static void sizes_cleanup(void *context)
{
        struct sizes_job *job = context;

        store_stream_close(&job->scan.stream);
}

static enum conn_produce sizes_run(struct pop3_session *s, void *context)
{
        struct sizes_job *job = context;
        struct pop3_maildrop *md = s->maildrop;
        uint64_t budget = POP3_SIZE_BUDGET;

        for (; job->next < job->end; job->next++) {
                struct pop3_msg *msg = &md->msgs[job->next];
                enum cove_store_err err;

                if (msg->deleted || msg->size != POP3_SIZE_UNKNOWN)
                        continue;
                err = pop3_maildrop_scan(s->daemon->store, md, msg, &job->scan,
                                         s->daemon->sizes, &budget);
                if (err == COVE_STORE_TEMP && budget == 0)
                        return CONN_PRODUCE_MORE;
                if (err != COVE_STORE_OK) {
                        pop3_reply_store_err(s, err, "message size");
                        return CONN_PRODUCE_DONE;
                }
        }
        job->then(s, job->then_ctx);
        /* then() may have started a listing job in our place. */
        return s->job == sizes_run ? CONN_PRODUCE_DONE : CONN_PRODUCE_MORE;
}

/* Makes sure messages [first, end) have their POP3 size, then calls then()
   (at once when all are known, else from a producer job). */
static void sizes_ensure(struct pop3_session *s, uint32_t first, uint32_t end,
                         pop3_sizes_then_fn *then, void *then_ctx)
{
        struct sizes_job *job;

        for (uint32_t i = first; i < end; i++) {
                const struct pop3_msg *m = &s->maildrop->msgs[i];
                if (!m->deleted && m->size == POP3_SIZE_UNKNOWN)
                        goto compute;
        }
        then(s, then_ctx);
        return;
compute:
        job = pool_alloc(s->cmd_pool, sizeof(*job));
        *job = (struct sizes_job){ .next = first, .end = end, .then = then,
                                   .then_ctx = then_ctx };
        pop3_session_job(s, sizes_run, sizes_cleanup, job);
}

static void maildrop_totals(const struct pop3_maildrop *md, uint32_t *count_r,
                            uint64_t *bytes_r)
{
        *count_r = 0;
        *bytes_r = 0;
        for (uint32_t i = 0; i < md->count; i++) {
                if (md->msgs[i].deleted)
                        continue;
                (*count_r)++;
                *bytes_r += md->msgs[i].size;
        }
}

static void stat_reply(struct pop3_session *s, void *context)
{
        uint32_t count;
        uint64_t bytes;

        (void)context;
        maildrop_totals(s->maildrop, &count, &bytes);
        pop3_reply_ok(s, "%" PRIu32 " %" PRIu64, count, bytes);
}

void pop3_cmd_stat(struct pop3_cmd *cmd)
{
        sizes_ensure(cmd->session, 0, cmd->session->maildrop->count, stat_reply, NULL);
}

/* ---- multi-line LIST / UIDL ---- */

struct list_job {
        uint32_t next;
        bool uidl;
};

static enum conn_produce list_run(struct pop3_session *s, void *context)
{
        struct list_job *job = context;
        struct pop3_maildrop *md = s->maildrop;

        while (job->next < md->count) {
                const struct pop3_msg *m = &md->msgs[job->next++];
                if (m->deleted)
                        continue;
                if (job->uidl)
                        conn_printf(&s->conn, "%" PRIu32 " %s\r\n", job->next, m->uidl);
                else
                        conn_printf(&s->conn, "%" PRIu32 " %" PRIu64 "\r\n", job->next, m->size);
                if (conn_output_full(&s->conn))
                        return CONN_PRODUCE_MORE;
        }
        conn_write(&s->conn, ".\r\n", 3);
        return CONN_PRODUCE_DONE;
}

static void list_start(struct pop3_session *s, void *context)
{
        struct list_job *job = context;
        uint32_t count;
        uint64_t bytes;

        maildrop_totals(s->maildrop, &count, &bytes);
        if (job->uidl)
                pop3_reply_ok(s, "Unique-ID listing follows");
        else
                pop3_reply_ok(s, "%" PRIu32 " messages (%" PRIu64 " octets)", count, bytes);
        pop3_session_job(s, list_run, NULL, job);
}

static void list_one(struct pop3_session *s, void *context)
{
        const uint64_t *n = context;
        const struct pop3_msg *m = pop3_maildrop_get(s->maildrop, *n);

        pop3_reply_ok(s, "%" PRIu64 " %" PRIu64, *n, m->size);
}

static void list_or_uidl(struct pop3_cmd *cmd, bool uidl)
{
        struct pop3_session *s = cmd->session;
        struct list_job *job;

        if (cmd->argc == 1) {
                uint64_t *n = pool_alloc(cmd->pool, sizeof(*n));
                struct pop3_msg *m = pop3_cmd_msg_arg(cmd, 0, n);
                if (m == NULL)
                        return;
                if (uidl)
                        pop3_reply_ok(s, "%" PRIu64 " %s", *n, m->uidl);
                else
                        sizes_ensure(s, (uint32_t)(*n - 1), (uint32_t)*n, list_one, n);
                return;
        }
        job = pool_alloc(cmd->pool, sizeof(*job));
        job->uidl = uidl;
        if (uidl)
                list_start(s, job);
        else
                sizes_ensure(s, 0, s->maildrop->count, list_start, job);
}

void pop3_cmd_list(struct pop3_cmd *cmd)
{
        list_or_uidl(cmd, false);
}

void pop3_cmd_uidl(struct pop3_cmd *cmd)
{
        list_or_uidl(cmd, true);
}

void pop3_cmd_dele(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        uint64_t n;
        struct pop3_msg *m = pop3_cmd_msg_arg(cmd, 0, &n);

        if (m == NULL)
                return;
        /* RFC 1939 §5: only marked now; removed in the UPDATE state. */
        m->deleted = true;
        s->maildrop->deleted_count++;
        pop3_reply_ok(s, "Message %" PRIu64 " deleted", n);
}

void pop3_cmd_noop(struct pop3_cmd *cmd)
{
        pop3_reply_ok(cmd->session, "%s", "");
}

void pop3_cmd_rset(struct pop3_cmd *cmd)
{
        struct pop3_maildrop *md = cmd->session->maildrop;

        for (uint32_t i = 0; i < md->count; i++)
                md->msgs[i].deleted = false;
        md->deleted_count = 0;
        md->last_accessed = 0;   /* RFC 1725 §5: LAST resets too */
        pop3_reply_ok(cmd->session, "Maildrop has %" PRIu32 " message%s", md->count,
                      md->count == 1 ? "" : "s");
}

void pop3_cmd_last(struct pop3_cmd *cmd)
{
        pop3_reply_ok(cmd->session, "%" PRIu32, cmd->session->maildrop->last_accessed);
}

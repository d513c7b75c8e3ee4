/* cmd-retr.c - RETR and TOP (RFC 1939 §7): streaming message bytes.
 *
 * Owns: the producer job that reads the message from the store in chunks and
 * writes it converted (CRLF, dot-stuffing, TOP cut) while output is below
 * the high-water mark, so no session holds a whole message; the multi-line
 * terminator; recording the exact size RETR produced. Does not: convert
 * bytes itself (convert.c).
 */
#include <inttypes.h>

#include "commands.h"
#include "convert.h"
#include "log.h"
#include "maildrop.h"
#include "pool.h"
#include "session.h"

/* Most bytes converted per read, whatever chunk the engine hands out, so
   output stays near the high-water mark. */
#define POP3_RETR_CHUNK (64 * 1024)

struct retr_job {
        struct pop3_msg *msg;
        struct store_stream *stream;
        uint64_t offset, size;
        struct pop3_conv conv;
        bool top;
};

static void retr_emit(void *context, const void *data, size_t len)
{
        conn_write(context, data, len);
}

static void retr_cleanup(void *context)
{
        struct retr_job *job = context;

        store_stream_close(&job->stream);
}

/* Ends the reply. A whole-message pass has counted its exact size. */
static enum conn_produce retr_finish(struct pop3_session *s, struct retr_job *job)
{
        pop3_conv_finish(&job->conv, retr_emit, &s->conn);
        conn_write(&s->conn, ".\r\n", 3);
        store_stream_close(&job->stream);
        if (!job->top && job->msg->size == POP3_SIZE_UNKNOWN)
                pop3_maildrop_set_size(s->daemon->sizes, job->msg, job->conv.size);
        else if (!job->top && job->msg->size != job->conv.size)
                log_error("session=%s proto=pop3 user=%s RETR uid=%" PRIu32 " sent %" PRIu64
                          " octets, LIST said %" PRIu64 " (stored structure disagrees)",
                          s->conn.id, s->user, job->msg->uid, job->conv.size, job->msg->size);
        return CONN_PRODUCE_DONE;
}

static enum conn_produce retr_run(struct pop3_session *s, void *context)
{
        struct retr_job *job = context;

        while (!conn_output_full(&s->conn)) {
                const void *data;
                size_t len;
                enum cove_store_err err;

                if (job->offset >= job->size || job->conv.done)
                        return retr_finish(s, job);
                err = store_stream_read(job->stream, job->offset, &data, &len);
                if (err == COVE_STORE_OK && len == 0)
                        err = COVE_STORE_CORRUPT;
                if (err != COVE_STORE_OK) {
                        /* The +OK is out: the only honest way on is to drop
                           the connection (nothing is deleted). */
                        log_error("session=%s proto=pop3 user=%s RETR uid=%" PRIu32
                                  " failed at offset %" PRIu64 ": %s", s->conn.id, s->user,
                                  job->msg->uid, job->offset, cove_store_strerror(err));
                        store_stream_close(&job->stream);
                        conn_close(&s->conn, "message read failed");
                        return CONN_PRODUCE_DONE;
                }
                if (len > POP3_RETR_CHUNK)
                        len = POP3_RETR_CHUNK;
                pop3_conv_feed(&job->conv, data, len, retr_emit, &s->conn);
                job->offset += len;
        }
        return CONN_PRODUCE_MORE;
}

static void retr_start(struct pop3_cmd *cmd, bool top, uint64_t lines)
{
        struct pop3_session *s = cmd->session;
        struct retr_job *job;
        uint64_t n;
        struct pop3_msg *msg = pop3_cmd_msg_arg(cmd, 0, &n);
        enum cove_store_err err;

        if (msg == NULL)
                return;
        job = pool_alloc(cmd->pool, sizeof(*job));
        job->msg = msg;
        job->top = top;
        err = store_stream_open(s->daemon->store, s->maildrop->mailbox_id, msg->uid,
                                &job->stream, &job->size);
        if (err != COVE_STORE_OK) {
                pop3_reply_store_err(s, err, "message open");
                return;
        }
        pop3_conv_init(&job->conv, true, top, lines);
        if (!top && msg->size != POP3_SIZE_UNKNOWN)
                pop3_reply_ok(s, "%" PRIu64 " octets", msg->size);
        else
                pop3_reply_ok(s, "Message follows");
        if (n > s->maildrop->last_accessed)
                s->maildrop->last_accessed = (uint32_t)n;
        pop3_session_job(s, retr_run, retr_cleanup, job);
}

void pop3_cmd_retr(struct pop3_cmd *cmd)
{
        retr_start(cmd, false, 0);
}

void pop3_cmd_top(struct pop3_cmd *cmd)
{
        uint64_t lines;

        if (!pop3_cmd_uint_arg(cmd, 1, &lines))
                return;
        retr_start(cmd, true, lines);
}

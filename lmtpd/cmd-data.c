/* cmd-data.c - DATA and BDAT (RFC 2033 §4.2, RFC 3030): receiving the message,
 * delivering it to every accepted recipient and answering once per recipient
 * in RCPT order after the shared flush.
 *
 * Owns filling the spool (spool.c: memory, then a file; bounded by [limits]
 * max_message_size), the Return-Path and Delivered-To lines, and the rule
 * that nothing is stored unless the whole message arrived within the limit.
 * Does not decide where mail goes (storage/deliver.c) or when the disk is
 * flushed (storage/group-commit.c).
 */
#include <inttypes.h>
#include <string.h>

#include "buf.h"
#include "commands.h"
#include "log.h"
#include "pool.h"
#include "session.h"
#include "store.h"

/* The chunk of input handed to the store per BDAT read. */
#define LMTP_BDAT_READ 65536

void lmtp_cmd_data(struct lmtp_session *session, const char *args)
{
        if (session->rcpt_count == 0) {
                /* RFC 2033 §4.2: DATA without a successful RCPT is 503. */
                lmtp_reply(session, "503 5.5.1 Error: no valid recipients");
                lmtp_session_error(session);
                return;
        }
        if (session->body == LMTP_BODY_BINARYMIME || session->chunking) {
                /* RFC 3030 §3: BINARYMIME bodies and BDAT transactions need BDAT. */
                lmtp_reply(session, "503 5.5.1 Error: this transaction must use BDAT");
                lmtp_session_error(session);
                return;
        }
        lmtp_spool_reset(&session->spool);
        lmtp_data_init(&session->data, &session->spool, session->server->max_size);
        lmtp_session_set_state(session, LMTP_STATE_DATA);
        lmtp_reply(session, "354 Start mail input; end with <CRLF>.<CRLF>");
}

/* BDAT SIZE [LAST]: *size_r and *last_r, or false on a syntax error. */
static bool bdat_args(const char *args, uint64_t *size_r, bool *last_r)
{
        const char *space = strchr(args, ' ');
        size_t len = space != NULL ? (size_t)(space - args) : strlen(args);
        *last_r = false;
        if (len == 0 || len > 19 || !str_to_u64_n(args, len, size_r))
                return false;
        if (space == NULL)
                return true;
        *last_r = str_eq_nocase(space + 1, "LAST");
        return *last_r;
}

void lmtp_cmd_bdat(struct lmtp_session *session, const char *args)
{
        uint64_t size;
        bool last;
        if (!bdat_args(args, &size, &last)) {
                /* The chunk length is unknown: the byte stream cannot be
                   followed any more (RFC 3030 §2). */
                lmtp_reply(session, "501 5.5.4 Syntax error in BDAT arguments, closing");
                conn_close_after_flush(&session->conn, "bad BDAT");
                return;
        }
        const char *refusal = NULL;
        if (session->state == LMTP_STATE_GREETED)
                refusal = "503 5.5.1 Error: send LHLO first";
        else if (session->state != LMTP_STATE_MAIL)
                refusal = "503 5.5.1 Error: need MAIL command";
        else if (session->rcpt_count == 0)
                refusal = "503 5.5.1 Error: no valid recipients";
        if (refusal != NULL) {
                /* Swallow the chunk so that it is not read as commands. */
                conn_discard_bytes(&session->conn, size);
                lmtp_reply(session, "%s", refusal);
                lmtp_session_error(session);
                return;
        }
        session->chunking = true;
        session->bdat_left = size;
        session->bdat_last = last;
        if (size > session->server->max_size ||
            session->spool.size + size > session->server->max_size) {
                session->bdat_failed = true;
                lmtp_spool_reset(&session->spool);
        }
        lmtp_session_set_state(session, LMTP_STATE_BDAT);
}

/* "Return-Path: <sender>" and "Delivered-To: <address>" (RFC 5321 §4.4;
   Delivered-To as Postfix and Dovecot write it), in txn_pool. */
static struct cove_store_part trace_prefix(struct lmtp_session *session, const char *address)
{
        const char *text = pool_printf(session->txn_pool,
                                       "Return-Path: <%s>\r\nDelivered-To: %s\r\n",
                                       session->sender, address);
        return (struct cove_store_part){ .data = text, .size = strlen(text) };
}

static void replies_write(struct lmtp_session *session, enum cove_store_err sync_err)
{
        for (size_t i = 0; i < session->rcpt_count; i++) {
                const struct store_rcpt *rcpt = &session->rcpts[i].rcpt;
                const struct store_deliver_rcpt *res = &session->results[i];
                enum cove_store_err err = res->result == COVE_STORE_OK ? sync_err
                                                                        : res->result;
                if (err == COVE_STORE_OK) {
                        lmtp_reply(session, "250 2.0.0 <%s> Saved as UID %" PRIu32,
                                   rcpt->address, res->saved.uid);
                        log_info("session=%s proto=lmtp delivered rcpt=<%s> user=%s "
                                 "mailbox=%s uid=%" PRIu32 " size=%" PRIu64,
                                 session->conn.id, rcpt->address, rcpt->user,
                                 rcpt->mailbox != NULL ? rcpt->mailbox : "INBOX",
                                 res->saved.uid, session->message_size);
                } else {
                        lmtp_reply_store_err(session, err, rcpt->address);
                        log_info("session=%s proto=lmtp refused rcpt=<%s> result=\"%s\"",
                                 session->conn.id, rcpt->address, cove_store_strerror(err));
                }
        }
}

/* The transaction is over: back to READY, input flowing again. */
static void transaction_end(struct lmtp_session *session)
{
        lmtp_session_reset(session);
        conn_input_resume(&session->conn);
        if (session->shutdown_requested) {
                lmtp_reply(session, "421 4.3.2 %s Service shutting down",
                           session->server->hostname);
                conn_close_after_flush(&session->conn, "shutdown");
        }
}

static void commit_done(struct group_commit_waiter *waiter, enum cove_store_err err)
{
        struct lmtp_session *session = container_of(waiter, struct lmtp_session, waiter);
        replies_write(session, err);
        pool_clear(session->cmd_pool);
        transaction_end(session);
}

/* The spool failed (disk full, I/O error): a temporary failure for all. */
static void spool_failed(struct lmtp_session *session, const char *error)
{
        log_error("session=%s proto=lmtp spool %s: %s: %s", session->conn.id,
                  session->server->spool_dir != NULL ? session->server->spool_dir : "(memory)",
                  error, strerror(session->spool.error));
        for (size_t i = 0; i < session->rcpt_count; i++)
                lmtp_reply_store_err(session, COVE_STORE_TEMP, session->rcpts[i].rcpt.address);
        transaction_end(session);
}

/* The write batch holding this delivery failed at its commit: nothing of
   it is stored; every recipient it had accepted gets a temporary failure
   (the MTA retries). */
static void batch_failed(struct write_batch_entry *entry, enum cove_store_err err)
{
        struct lmtp_session *session = container_of(entry, struct lmtp_session, batch_entry);
        if (!session->waiter.queued)
                return;   /* it stored nothing (all refused): already answered */
        group_commit_cancel(session->server->commit, &session->waiter);
        replies_write(session, COVE_STORE_TEMP);
        pool_clear(session->cmd_pool);
        transaction_end(session);
}

/* In the worker's write batch: deliver to every recipient. */
static void message_deliver_now(struct write_batch_entry *entry)
{
        struct lmtp_session *session = container_of(entry, struct lmtp_session, batch_entry);
        struct cove_store_part body;
        const char *error;
        if (lmtp_spool_finish(&session->spool, &body, &error) < 0) {
                spool_failed(session, error);
                return;
        }
        size_t n = session->rcpt_count;
        session->results = pool_alloc(session->txn_pool, n * sizeof(*session->results));
        for (size_t i = 0; i < n; i++) {
                const struct store_rcpt *rcpt = &session->rcpts[i].rcpt;
                session->results[i] = (struct store_deliver_rcpt){
                        .user = rcpt->user,
                        .mailbox = rcpt->mailbox,
                        .prefix = trace_prefix(session, rcpt->address),
                };
        }
        session->message_size = body.size;
        /* The batch's commit and then the worker's shared flush ([store]
           flush) make it durable before the 250s. */
        struct group_commit *gc = session->server->commit;
        store_deliver_batch(session->server->store, session->results, n, &body, 1,
                            group_commit_mode(gc), session->server->batch);
        /* The store has its copy: no spool memory or file waits for the flush. */
        lmtp_spool_reset(&session->spool);
        bool any = false;
        for (size_t i = 0; i < n; i++)
                any = any || session->results[i].result == COVE_STORE_OK;
        if (!any) {
                replies_write(session, COVE_STORE_OK);
                transaction_end(session);
                return;
        }
        /* 250 only once the batch has committed and the flush covering it
           has succeeded. */
        group_commit_wait(session->server->commit, &session->waiter, commit_done);
}

/* The whole message is in the spool: it joins the worker's next write
   batch, so that messages arriving together share one commit. */
static void message_deliver(struct lmtp_session *session)
{
        lmtp_session_set_state(session, LMTP_STATE_COMMIT);
        conn_input_suspend(&session->conn);
        write_batch_enqueue(session->server->batch, &session->batch_entry, message_deliver_now,
                            batch_failed);
}

/* End of DATA or of BDAT LAST. */
static void message_complete(struct lmtp_session *session, bool too_big)
{
        if (session->spool.error != 0) {
                spool_failed(session, session->data.error != NULL ? session->data.error
                                                                   : "write failed");
                return;
        }
        if (!too_big) {
                message_deliver(session);
                return;
        }
        /* RFC 2033 §4.2: one reply per recipient, even for a refusal. */
        for (size_t i = 0; i < session->rcpt_count; i++)
                lmtp_reply(session, "552 5.3.4 <%s> Message size exceeds fixed maximum "
                           "message size", session->rcpts[i].rcpt.address);
        log_info("session=%s proto=lmtp refused message over max_message_size "
                 "size=%" PRIu64, session->conn.id, session->data.size);
        transaction_end(session);
}

static bool data_input(struct lmtp_session *session)
{
        const void *bytes;
        size_t len, used;
        conn_input_peek(&session->conn, &bytes, &len);
        if (len == 0)
                return false;
        enum lmtp_data_result r = lmtp_data_feed(&session->data, bytes, len, &used);
        conn_input_consume(&session->conn, used);
        if (r == LMTP_DATA_MORE)
                return false;
        message_complete(session, session->data.too_big);
        return true;
}

static bool bdat_input(struct lmtp_session *session)
{
        while (session->bdat_left > 0) {
                const void *bytes;
                size_t want = session->bdat_left < LMTP_BDAT_READ ? (size_t)session->bdat_left
                                                                  : LMTP_BDAT_READ;
                size_t n = conn_read_bytes(&session->conn, want, &bytes);
                if (n == 0)
                        return false;
                session->bdat_left -= n;
                if (!session->bdat_failed &&
                    lmtp_spool_append(&session->spool, bytes, n, &session->data.error) < 0)
                        session->bdat_failed = true;
        }
        if (session->bdat_last) {
                message_complete(session, session->bdat_failed);
        } else if (session->bdat_failed) {
                /* RFC 3030 §2: a failed chunk fails the transaction. */
                if (session->spool.error != 0)
                        lmtp_reply(session, "451 4.3.0 Temporary failure, try again later");
                else
                        lmtp_reply(session, "552 5.3.4 Message size exceeds fixed maximum "
                                   "message size");
                lmtp_session_reset(session);
        } else {
                lmtp_reply(session, "250 2.0.0 %" PRIu64 " octets received",
                           session->spool.size);
                lmtp_session_set_state(session, LMTP_STATE_MAIL);
        }
        return true;
}

bool lmtp_body_input(struct lmtp_session *session)
{
        return session->state == LMTP_STATE_DATA ? data_input(session) : bdat_input(session);
}

void lmtp_body_abort(struct lmtp_session *session)
{
        /* The delivery (if any) is committed and the flush will still run;
           the client never saw 250, so it will retry (a duplicate at worst,
           never a loss). A delivery parked for the store is simply dropped. */
        if (session->server != NULL) {
                group_commit_cancel(session->server->commit, &session->waiter);
                write_batch_cancel(session->server->batch, &session->batch_entry);
        }
        lmtp_spool_reset(&session->spool);
}

/* session.c - one IMAP connection: the input loop and command life cycle.
 *
 * Owns: feeding the tokenizer from conn (lines, literals, "+" continuation
 * requests, refusing and discarding oversize literals), building struct
 * imap_cmd, running, suspending and resuming handlers, the view sync and
 * tagged reply at the end of each command, the change-notification watch, the
 * state machine and the session's log lines. Does not: implement commands.
 */
#include "session.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "conf.h"
#include "log.h"
#include "parser.h"
#include "pool.h"
#include "reply.h"
#include "spool.h"
#include "store.h"
#include "view.h"

static void session_command_finish(struct imap_session *session, enum cmd_result r);

static const char *const state_names[] = {
        [IMAP_STATE_NOTAUTH] = "NOTAUTH",
        [IMAP_STATE_AUTH] = "AUTH",
        [IMAP_STATE_SELECTED] = "SELECTED",
        [IMAP_STATE_LOGOUT] = "LOGOUT",
};

static bool state_transition_ok(enum imap_state from, enum imap_state to)
{
        if (to == IMAP_STATE_LOGOUT)
                return from != IMAP_STATE_LOGOUT;
        switch (from) {
        case IMAP_STATE_NOTAUTH:
                return to == IMAP_STATE_AUTH;
        case IMAP_STATE_AUTH:
                return to == IMAP_STATE_SELECTED;
        case IMAP_STATE_SELECTED:
                return to == IMAP_STATE_AUTH || to == IMAP_STATE_SELECTED;
        case IMAP_STATE_LOGOUT:
                return false;
        }
        return false;
}

void imap_session_set_state(struct imap_session *session, enum imap_state state)
{
        COVE_ASSERT(state_transition_ok(session->state, state));
        log_debug("session=%s proto=imap user=%s state=%s->%s", session->conn.id,
                  session->user != NULL ? session->user : "-", state_names[session->state],
                  state_names[state]);
        if (session->state == IMAP_STATE_SELECTED && session->view != NULL &&
            (state != IMAP_STATE_SELECTED)) {
                imap_session_watch_stop(session);
                imap_view_close(&session->view);
        }
        session->state = state;
}

void imap_session_login(struct imap_session *session, const char *user, uint32_t user_id)
{
        session->user = pool_strdup(session->conn.pool, user);
        session->user_id = user_id;
        imap_session_set_state(session, IMAP_STATE_AUTH);
        log_info("session=%s proto=imap user=%s login ip=%s tls=%s", session->conn.id,
                 session->user, session->conn.peer_ip, session->conn.secured ? "yes" : "no");
}

/* ---- change notification ---- */

static void session_push_changes(struct imap_session *session, enum imap_sync_mode mode);

static void session_watch_cb(struct ev_loop *loop, ev_io *io, int revents)
{
        struct imap_session *session = container_of(io, struct imap_session, watch_io);
        if (session->watch == NULL)
                return;
        store_watch_drain(session->watch);
        session->watch_fired = true;
        /* Not while an earlier push waits for its sync (in the batch) or
           for its claim's commit: that push goes on once it is out. */
        if (session->idling && session->view != NULL && !session->conn.closing &&
            session->sync_deferred == DEFERRED_NONE && !session->flush_waiter.queued)
                session_push_changes(session, IMAP_SYNC_OR_DEFER);
}

int imap_session_watch_start(struct imap_session *session)
{
        if (session->watch != NULL)
                return 0;
        enum cove_store_err err = store_watch_start(session->daemon->store, session->user_id,
                                                    &session->watch);
        if (err != COVE_STORE_OK) {
                log_error("session=%s proto=imap user=%s watch failed: %s", session->conn.id,
                          session->user, store_last_error(session->daemon->store));
                return -1;
        }
        ev_io_init(&session->watch_io, session_watch_cb, store_watch_fd(session->watch),
                   EV_READ);
        ev_io_start(session->conn.loop, &session->watch_io);
        session->watch_fired = false;
        return 0;
}

void imap_session_watch_stop(struct imap_session *session)
{
        if (session->watch == NULL)
                return;
        ev_io_stop(session->conn.loop, &session->watch_io);
        store_watch_stop(&session->watch);
}

/* True when a commit may have touched the user since the last sync. */
static bool session_changes_pending(struct imap_session *session)
{
        if (session->watch_fired)
                return true;
        if (session->watch == NULL)
                return false;
        struct pollfd pfd = { .fd = store_watch_fd(session->watch), .events = POLLIN };
        return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) != 0;
}

/* ---- command life cycle ---- */

static void session_cmd_cleanup(struct imap_session *session)
{
        struct imap_cmd *cmd = session->cmd;
        if (cmd != NULL) {
                if (cmd->cleanup != NULL) {
                        imap_cmd_cleanup_fn *fn = cmd->cleanup;
                        cmd->cleanup = NULL;
                        fn(cmd, cmd->cleanup_ctx);
                }
                imap_cmd_txn_end(cmd);
        }
        imap_spool_destroy(&session->spool);
        session->cmd = NULL;
        session->parsing = false;
        session->command_failed = false;
        session->fail_reply = NULL;
        pool_clear(session->cmd_pool);
}

static void session_reply_bye_and_close(struct imap_session *session, const char *text,
                                        const char *reason)
{
        conn_printf(&session->conn, "* BYE %s\r\n", text);
        conn_close_after_flush(&session->conn, reason);
}

static void session_command_reply(struct imap_session *session);

/* The worker's shared flush (or the write batch's durable commit) covering
   this command's commits has ended. */
static void session_flushed(struct group_commit_waiter *waiter, enum cove_store_err err)
{
        struct imap_session *session = container_of(waiter, struct imap_session, flush_waiter);
        struct imap_cmd *cmd = session->cmd;
        if (err != COVE_STORE_OK && session->flush_for_write) {
                /* Committed and visible, but not known to be on disk. */
                cmd->tagged = pool_printf(cmd->pool, "NO [UNAVAILABLE] The change could not "
                                          "be written to disk and may be lost [%s]",
                                          session->conn.id);
        }
        conn_input_resume(&session->conn);
        session_command_reply(session);
        conn_output_release(&session->conn);
}

enum sync_outcome {
        SYNC_DONE,
        SYNC_DEFERRED,      /* owed to the write batch (session_defer_sync) */
        SYNC_CLOSING,       /* the mailbox is gone: BYE sent, closing */
};

/* Brings the selected view up to date when the store changed (RFC 3501
   §7.4.1: no EXPUNGE during commands using sequence numbers; an IDLE push
   allows them); mode: see imap_view_sync(). */
static enum sync_outcome session_sync_view(struct imap_session *session,
                                           enum imap_sync_mode mode)
{
        struct imap_cmd *cmd = session->cmd;
        if (session->state != IMAP_STATE_SELECTED || session->view == NULL ||
            !session_changes_pending(session))
                return SYNC_DONE;
        if (session->watch != NULL)
                store_watch_drain(session->watch);
        session->watch_fired = false;
        bool allow = session->idling || cmd == NULL || cmd->entry == NULL ||
                     (cmd->entry->flags & IMAP_CMD_USES_SEQS) == 0;
        int r = imap_view_sync(session, allow, mode);
        if (r > 0) {
                session->watch_fired = true;   /* still owed */
                return SYNC_DEFERRED;
        }
        if (r < 0) {
                session_cmd_cleanup(session);
                session_reply_bye_and_close(session, "Selected mailbox is gone",
                                            "selected mailbox gone");
                return SYNC_CLOSING;
        }
        return SYNC_DONE;
}

/* A sync that must claim \Recent for new messages waits for the worker's
   next write batch, first in it, so that the claim joins the batch instead
   of taking the writer lock (and a flush) on the loop: what the session
   does next waits too (its input stays unread). */
static void session_sync_run(struct write_batch_entry *entry);

static void session_sync_failed(struct write_batch_entry *entry, enum cove_store_err err)
{
        /* Only the \Recent claim is lost: those messages may show as \Recent
           in a later session too (docs/imap.md). The view read committed
           state only, so there is nothing to take back. */
}

static void session_defer_sync(struct imap_session *session, enum imap_sync_deferral why)
{
        session->sync_deferred = why;
        conn_input_suspend(&session->conn);
        write_batch_enqueue_first(session->daemon->batch, &session->batch_entry,
                                  session_sync_run, session_sync_failed);
}

/* The command's reply (its output held) waits for the commit that covers
   its writes (write) or its \Recent claim (session_flushed() goes on). */
static void session_wait_commit(struct imap_session *session, bool write)
{
        session->flush_pending = false;
        session->claim_pending = false;
        session->flush_for_write = write;
        conn_input_suspend(&session->conn);
        group_commit_wait(session->daemon->commit, &session->flush_waiter, session_flushed);
}

static void session_push_committed(struct group_commit_waiter *waiter, enum cove_store_err err)
{
        struct imap_session *session = container_of(waiter, struct imap_session, flush_waiter);
        conn_input_resume(&session->conn);
        conn_output_release(&session->conn);
        /* What was notified meanwhile goes out now. */
        if (session->idling && session->view != NULL && !session->conn.closing)
                session_push_changes(session, IMAP_SYNC_OR_DEFER);
}

/* While idling, changes go out as they are notified (RFC 2177). In the
   batch, with a \Recent claim, they go out once the batch has committed. */
static void session_push_changes(struct imap_session *session, enum imap_sync_mode mode)
{
        bool in_batch = mode == IMAP_SYNC_IN_BATCH;
        if (in_batch)
                conn_output_hold(&session->conn);
        enum sync_outcome r = session_sync_view(session, mode);
        if (r == SYNC_DEFERRED) {
                session_defer_sync(session, DEFERRED_PUSH);
        } else if (r == SYNC_DONE && session->claim_pending) {
                session->claim_pending = false;
                conn_input_suspend(&session->conn);
                group_commit_wait(session->daemon->commit, &session->flush_waiter,
                                  session_push_committed);
                return;
        }
        if (in_batch)
                conn_output_release(&session->conn);
}

/* The end of a command: its commits flushed, then the view sync (RFC 3501
   §7.4.1: no EXPUNGE during commands using sequence numbers), then the
   tagged reply. */
static void session_command_finish(struct imap_session *session, enum cmd_result r)
{
        struct imap_cmd *cmd = session->cmd;
        struct conn *conn = &session->conn;
        if (r == CMD_RESULT_ABORT) {
                session_cmd_cleanup(session);
                conn_close_after_flush(conn, "command aborted");
                return;
        }
        if (cmd->cleanup != NULL) {
                imap_cmd_cleanup_fn *fn = cmd->cleanup;
                cmd->cleanup = NULL;
                fn(cmd, cmd->cleanup_ctx);
        }
        imap_cmd_txn_end(cmd);
        if (session->flush_pending || session->claim_pending) {
                /* The command stays current (its input stays unread) until
                   the flush; other sessions of the worker go on meanwhile.
                   Inside the write batch the view syncs now: its \Recent
                   claim (say for the session's own APPEND) then joins the
                   batch instead of taking the writer lock on its own after
                   the flush. The untagged replies wait with the tagged. */
                bool write = session->flush_pending;
                session->flush_pending = false;
                conn_output_hold(conn);
                if (write_batch_running(session->daemon->batch) &&
                    session_sync_view(session, IMAP_SYNC_IN_BATCH) == SYNC_CLOSING) {
                        conn_output_release(conn);
                        return;
                }
                session_wait_commit(session, write);
                return;
        }
        session_command_reply(session);
}

static void session_command_reply_as(struct imap_session *session, enum imap_sync_mode mode)
{
        struct imap_cmd *cmd = session->cmd;
        struct conn *conn = &session->conn;
        switch (session_sync_view(session, mode)) {
        case SYNC_DONE:
                break;
        case SYNC_DEFERRED:
                session_defer_sync(session, DEFERRED_REPLY);
                return;
        case SYNC_CLOSING:
                return;
        }
        if (session->claim_pending) {
                conn_output_hold(conn);   /* released by session_flushed() */
                session_wait_commit(session, false);
                return;
        }
        conn_printf(conn, "%s %s\r\n", cmd->tag,
                    cmd->tagged != NULL ? cmd->tagged : "OK Completed");
        log_debug("session=%s proto=imap user=%s command=%s reply=%.40s", conn->id,
                  session->user != NULL ? session->user : "-", cmd->name,
                  cmd->tagged != NULL ? cmd->tagged : "OK");
        session_cmd_cleanup(session);
        if (session->starttls_after_reply) {
                const char *error;
                session->starttls_after_reply = false;
                if (conn_starttls(conn, &error) < 0)
                        log_error("session=%s proto=imap starttls: %s", conn->id, error);
        }
        if (session->state == IMAP_STATE_LOGOUT)
                conn_close_after_flush(conn, "logout");
        else if (session->shutdown_requested)
                session_reply_bye_and_close(session, "Server shutting down", "shutdown");
}

static void session_command_reply(struct imap_session *session)
{
        session_command_reply_as(session, IMAP_SYNC_OR_DEFER);
}

/* The write batch has begun: the deferred sync runs first in it. */
static void session_sync_run(struct write_batch_entry *entry)
{
        struct imap_session *session = container_of(entry, struct imap_session, batch_entry);
        enum imap_sync_deferral why = session->sync_deferred;
        session->sync_deferred = DEFERRED_NONE;
        if (session->conn.closing)
                return;
        conn_input_resume(&session->conn);
        if (why == DEFERRED_REPLY)
                session_command_reply_as(session, IMAP_SYNC_IN_BATCH);
        else if (why == DEFERRED_PUSH && session->idling)
                session_push_changes(session, IMAP_SYNC_IN_BATCH);
}

static enum conn_produce session_produce(struct conn *conn, void *context)
{
        struct imap_session *session = context;
        struct imap_cmd *cmd = session->cmd;
        if (cmd == NULL || cmd->producer == NULL)
                return CONN_PRODUCE_DONE;
        if (cmd->producer(cmd, cmd->producer_ctx) == IMAP_PRODUCE_MORE)
                return CONN_PRODUCE_MORE;
        cmd->producer = NULL;
        enum cmd_result r = cmd->entry->handler(cmd);
        if (r == CMD_RESULT_MORE) {
                if (cmd->producer != NULL)
                        return CONN_PRODUCE_MORE;
                return CONN_PRODUCE_DONE;
        }
        session_command_finish(session, r);
        return CONN_PRODUCE_DONE;
}

static void session_run(struct imap_session *session);

/* The write batch has begun: the queued command runs inside it. */
static void session_batch_run(struct write_batch_entry *entry)
{
        struct imap_session *session = container_of(entry, struct imap_session, batch_entry);
        session->cmd->suspended = false;   /* imap_cmd_run_in_batch() */
        conn_input_resume(&session->conn);
        session_run(session);
}

/* The batch the command's changes were committed into failed at its
   commit: they are gone, but the command already told the client about
   them (untagged FETCH, EXPUNGE...) and changed its view. The only honest
   way back is a new session. */
static void session_batch_failed(struct write_batch_entry *entry, enum cove_store_err err)
{
        struct imap_session *session = container_of(entry, struct imap_session, batch_entry);
        if (!session->flush_waiter.queued || session->conn.closing)
                return;   /* it changed nothing */
        group_commit_cancel(session->daemon->commit, &session->flush_waiter);
        conn_output_release(&session->conn);
        log_error("session=%s proto=imap user=%s write batch failed (%s): closing",
                  session->conn.id, session->user != NULL ? session->user : "-",
                  cove_store_strerror(err));
        session_reply_bye_and_close(session, "[UNAVAILABLE] Internal error; changes were not "
                                    "saved, please reconnect", "write batch failed");
}

/* A command that changes the store waits for the worker's next write batch
   (storage/write-batch.h), so that many sessions' changes share a commit. */
static bool session_defer_to_batch(struct imap_session *session)
{
        struct imap_cmd *cmd = session->cmd;
        if (cmd->batched || cmd->entry == NULL || (cmd->entry->flags & IMAP_CMD_WRITES) == 0)
                return false;
        cmd->batched = true;
        conn_input_suspend(&session->conn);
        write_batch_enqueue(session->daemon->batch, &session->batch_entry, session_batch_run,
                            session_batch_failed);
        return true;
}

static void session_run(struct imap_session *session)
{
        struct imap_cmd *cmd = session->cmd;
        if (session_defer_to_batch(session))
                return;
        cmd->wait_line = false;
        enum cmd_result r = cmd->entry->handler(cmd);
        if (r != CMD_RESULT_MORE) {
                session_command_finish(session, r);
                return;
        }
        if (cmd->producer != NULL)
                conn_set_producer(&session->conn, session_produce, session);
        else if (cmd->suspended)
                conn_input_suspend(&session->conn);
        else
                COVE_ASSERT(cmd->wait_line);
}

enum cmd_result imap_cmd_run_in_batch(struct imap_cmd *cmd)
{
        struct imap_session *session = cmd->session;
        COVE_ASSERT(!cmd->batched);
        imap_cmd_txn_end(cmd);
        cmd->batched = true;
        cmd->suspended = true;
        write_batch_enqueue_first(session->daemon->batch, &session->batch_entry,
                                  session_batch_run, session_batch_failed);
        return CMD_RESULT_MORE;
}

void imap_cmd_resume(struct imap_cmd *cmd)
{
        struct imap_session *session = cmd->session;
        if (!cmd->suspended || session->conn.closing)
                return;
        cmd->suspended = false;
        conn_input_resume(&session->conn);
        session_run(session);
}

/* The tag of the command being read, for error replies. */
static const char *session_tag(struct imap_session *session)
{
        size_t count;
        const struct imap_arg *args = imap_parser_args(session->parser, &count);
        if (count > 0 && imap_arg_is_atom(&args[0]) && imap_tag_valid(args[0].str))
                return args[0].str;
        return "*";
}

/* Ends the command being read with a tagged reply written at once. */
static void session_reply_now(struct imap_session *session, const char *text)
{
        conn_printf(&session->conn, "%s %s\r\n", session_tag(session), text);
        session_cmd_cleanup(session);
}

/* Builds the command from the parsed line and runs it. */
static void session_dispatch(struct imap_session *session)
{
        size_t count;
        const struct imap_arg *args = imap_parser_args(session->parser, &count);
        if (session->command_failed) {
                session_reply_now(session, session->fail_reply);
                return;
        }
        if (count == 0) {
                session_reply_now(session, "BAD Empty command line");
                return;
        }
        if (!imap_arg_is_atom(&args[0]) || !imap_tag_valid(args[0].str)) {
                conn_write_str(&session->conn, "* BAD Invalid tag\r\n");
                session_cmd_cleanup(session);
                return;
        }
        struct imap_cmd *cmd = pool_alloc(session->cmd_pool, sizeof(*cmd));
        cmd->session = session;
        cmd->pool = session->cmd_pool;
        cmd->tag = args[0].str;
        session->cmd = cmd;
        session->commands++;
        if (!imap_cmd_prepare(cmd, args + 1, count - 1) || !imap_cmd_validate(cmd)) {
                session_command_finish(session, CMD_RESULT_DONE);
                return;
        }
        session_run(session);
}

/* Where an announced literal goes: APPEND's message streams to a spool. */
static struct imap_spool *session_literal_spool(struct imap_session *session)
{
        size_t count;
        const struct imap_arg *args = imap_parser_args(session->parser, &count);
        if (count < 3 || imap_parser_depth(session->parser) != 0 ||
            !imap_arg_is_atom(&args[1]))
                return NULL;
        const struct imap_cmd_entry *entry = imap_cmd_find(args[1].str);
        if (entry == NULL || (entry->flags & IMAP_CMD_SPOOL) == 0)
                return NULL;
        imap_spool_destroy(&session->spool);
        session->spool = imap_spool_create(session->cmd_pool, session->daemon->spool_dir);
        return session->spool;
}

static void session_literal(struct imap_session *session)
{
        uint64_t size;
        bool sync;
        imap_parser_literal(session->parser, &size, &sync);
        if (session->command_failed) {
                if (sync) {
                        session_reply_now(session, session->fail_reply);
                        return;
                }
                conn_discard_bytes(&session->conn, size);
                imap_parser_literal_skip(session->parser);
                return;
        }
        struct imap_spool *spool = session_literal_spool(session);
        if (!imap_parser_literal_accept(session->parser, spool)) {
                /* RFC 7888 §4 / RFC 9051 §7.1: refuse before reading it. */
                if (sync) {
                        session_reply_now(session, "NO [TOOBIG] Literal too large");
                        return;
                }
                conn_discard_bytes(&session->conn, size);
                imap_parser_literal_skip(session->parser);
                session->command_failed = true;
                session->fail_reply = "NO [TOOBIG] Literal too large";
                return;
        }
        if (sync)
                conn_write_str(&session->conn, "+ Ready for literal data\r\n");
}

/* A syntax error: BAD, and drop a non-synchronising literal the bad line
   announced (its bytes follow without waiting for us). */
static void session_parse_error(struct imap_session *session, const char *line, size_t len)
{
        const char *text = pool_printf(session->cmd_pool, "BAD %s",
                                       imap_parser_error(session->parser));
        conn_printf(&session->conn, "%s %s\r\n", session_tag(session), text);
        session_cmd_cleanup(session);
        uint64_t size;
        if (imap_literal_plus_suffix(line, len, &size)) {
                conn_discard_bytes(&session->conn, size);
                session->skip_after_error = true;
        }
}

static void session_feed_line(struct imap_session *session, const char *line, size_t len)
{
        if (session->skip_after_error) {
                uint64_t size;
                if (imap_literal_plus_suffix(line, len, &size))
                        conn_discard_bytes(&session->conn, size);
                else
                        session->skip_after_error = false;
                return;
        }
        if (!session->parsing) {
                pool_clear(session->cmd_pool);
                imap_parser_reset(session->parser, session->cmd_pool);
                session->parsing = true;
        }
        switch (imap_parser_feed_line(session->parser, line, len)) {
        case PARSE_OK:
                session->parsing = false;
                session_dispatch(session);
                break;
        case PARSE_MORE:
                session_literal(session);
                break;
        case PARSE_ERROR:
                if (session->command_failed)
                        session_reply_now(session, session->fail_reply);
                else
                        session_parse_error(session, line, len);
                break;
        }
}

static void session_feed_literal(struct imap_session *session)
{
        const void *data;
        uint64_t left = imap_parser_literal_left(session->parser);
        size_t n = conn_read_bytes(&session->conn, left < (1 << 20) ? (size_t)left : (1 << 20),
                                   &data);
        if (n == 0 && left > 0)
                return;
        size_t taken;
        if (imap_parser_feed_bytes(session->parser, data, n, &taken) == PARSE_ERROR) {
                log_error("session=%s proto=imap literal spool failed", session->conn.id);
                session->command_failed = true;
                session->fail_reply = pool_printf(session->cmd_pool,
                                                  "NO [SERVERBUG] Internal error [%s]",
                                                  session->conn.id);
                conn_discard_bytes(&session->conn, left - n);
                imap_parser_literal_skip(session->parser);
        }
}

static void session_input(struct conn *conn)
{
        struct imap_session *session = imap_session_from_conn(conn);
        while (!conn->closing) {
                struct imap_cmd *cmd = session->cmd;
                if (cmd != NULL && !cmd->wait_line)
                        return;     /* a suspended command owns the session */
                if (cmd == NULL && session->parsing &&
                    imap_parser_wants(session->parser) == IMAP_WANT_LITERAL) {
                        uint64_t before = conn->in_consumed;
                        bool empty = imap_parser_literal_left(session->parser) == 0;
                        session_feed_literal(session);
                        if (conn->in_consumed == before && !empty)
                                return;
                        continue;
                }
                const char *line;
                size_t len;
                enum conn_read r = conn_read_line(conn, &line, &len);
                if (r == CONN_READ_MORE)
                        return;
                if (r == CONN_READ_TOO_LONG) {
                        if (cmd != NULL) {
                                cmd->line = NULL;
                                cmd->line_len = 0;
                                cmd->line_too_long = true;
                                session_run(session);
                                continue;
                        }
                        session->skip_after_error = false;
                        conn_printf(conn, "%s BAD Command line too long\r\n",
                                    session->parsing ? session_tag(session) : "*");
                        session_cmd_cleanup(session);
                        continue;
                }
                if (cmd != NULL) {
                        cmd->line = line;
                        cmd->line_len = len;
                        cmd->line_too_long = false;
                        session_run(session);
                        continue;
                }
                session_feed_line(session, line, len);
        }
}

/* ---- connection callbacks ---- */

static void session_ready(struct conn *conn)
{
        struct imap_session *session = imap_session_from_conn(conn);
        session->daemon = conn->context;
        session->state = IMAP_STATE_NOTAUTH;
        session->cmd_pool = pool_create("imap command", 2048);
        session->parser = imap_parser_create(conn->pool, &session->daemon->parser_set);
        log_debug("session=%s proto=imap connect ip=%s port=%u tls=%s", conn->id, conn->peer_ip,
                  conn->peer_port, conn->secured ? "yes" : "no");
        conn_printf(conn, "* OK [CAPABILITY %s] Cove IMAP ready\r\n",
                    imap_capability_string(session, conn->pool));
}

static void session_timeout(struct conn *conn)
{
        struct imap_session *session = imap_session_from_conn(conn);
        if (session->flush_waiter.queued)
                return;   /* our own flush is late, not the client */
        conn_write_str(conn, "* BYE Autologout; idle for too long\r\n");
        conn_close_after_flush(conn, "inactivity timeout");
}

static void session_shutdown(struct conn *conn)
{
        struct imap_session *session = imap_session_from_conn(conn);
        if (session->cmd != NULL && !session->idling) {
                session->shutdown_requested = true;
                return;
        }
        session_reply_bye_and_close(session, "Server shutting down", "shutdown");
}

static void session_close(struct conn *conn, const char *reason)
{
        struct imap_session *session = imap_session_from_conn(conn);
        if (session->daemon != NULL) {
                /* What the command committed is flushed all the same; there
                   is just nobody left to tell. */
                group_commit_cancel(session->daemon->commit, &session->flush_waiter);
                write_batch_cancel(session->daemon->batch, &session->batch_entry);
                if (session->flush_pending)
                        group_commit_note(session->daemon->commit);
        }
        session_cmd_cleanup(session);
        imap_session_watch_stop(session);
        imap_view_close(&session->view);
        log_info("session=%s proto=imap user=%s disconnect reason=\"%s\" commands=%lu", conn->id,
                 session->user != NULL ? session->user : "-", reason, session->commands);
        pool_destroy(&session->cmd_pool);
}

const struct conn_vfuncs imap_session_vfuncs = {
        .on_ready = session_ready,
        .on_input = session_input,
        .on_timeout = session_timeout,
        .on_shutdown = session_shutdown,
        .on_close = session_close,
};

/* session.c - the LMTP session: greeting, input dispatch per state, replies,
 * error counting, timeouts, graceful shutdown and close.
 *
 * Owns the session's memory (command and transaction pools, the spool) and
 * its state changes. Does not parse commands (commands.c) or deliver
 * (cmd-data.c, storage/deliver.c).
 */
#include "session.h"

#include <stdarg.h>

#include "commands.h"
#include "conf.h"
#include "log.h"
#include "pool.h"

/* RFC 5321 §4.5.3.1: at most this many bad commands, then 421. */
#define LMTP_MAX_ERRORS 20

static const char *const state_names[] = {
        [LMTP_STATE_GREETED] = "greeted",
        [LMTP_STATE_READY] = "ready",
        [LMTP_STATE_MAIL] = "mail",
        [LMTP_STATE_DATA] = "data",
        [LMTP_STATE_BDAT] = "bdat",
        [LMTP_STATE_COMMIT] = "commit",
};

void lmtp_reply(struct lmtp_session *session, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *line = pool_vprintf(session->cmd_pool, fmt, ap);
        va_end(ap);
        conn_write_str(&session->conn, line);
        conn_write(&session->conn, "\r\n", 2);
}

void lmtp_reply_store_err(struct lmtp_session *session, enum cove_store_err err,
                          const char *address)
{
        switch (err) {
        case COVE_STORE_OK:
                lmtp_reply(session, "250 2.1.5 <%s> OK", address);
                break;
        case COVE_STORE_NOTFOUND:
                lmtp_reply(session, "550 5.1.1 <%s> User unknown", address);
                break;
        case COVE_STORE_OVERQUOTA:
                /* RFC 3463 X.2.2 mailbox full: permanent unless configured. */
                if (session->server->conf->lmtp_delivery.quota_temporary)
                        lmtp_reply(session, "452 4.2.2 <%s> Mailbox is full", address);
                else
                        lmtp_reply(session, "552 5.2.2 <%s> Mailbox is full", address);
                break;
        case COVE_STORE_NOPERM:
                lmtp_reply(session, "554 5.3.0 <%s> Message refused by the store", address);
                break;
        case COVE_STORE_TEMP:
        case COVE_STORE_INUSE:
                lmtp_reply(session, "451 4.3.0 <%s> Temporary failure, try again later",
                           address);
                break;
        default:
                lmtp_reply(session, "451 4.3.0 <%s> Internal error [%s]", address,
                           session->conn.id);
                break;
        }
}

bool lmtp_session_error(struct lmtp_session *session)
{
        if (++session->errors < LMTP_MAX_ERRORS)
                return false;
        lmtp_reply(session, "421 4.7.0 %s Too many errors, closing connection",
                   session->server->hostname);
        conn_close_after_flush(&session->conn, "too many errors");
        return true;
}

void lmtp_session_set_state(struct lmtp_session *session, enum lmtp_state state)
{
        if (session->state != state)
                log_debug("session=%s proto=lmtp state=%s->%s", session->conn.id,
                          state_names[session->state], state_names[state]);
        session->state = state;
}

void lmtp_session_reset(struct lmtp_session *session)
{
        pool_clear(session->txn_pool);
        session->sender = NULL;
        session->size_hint = 0;
        session->body = LMTP_BODY_7BIT;
        session->rcpts = NULL;
        session->rcpt_count = session->rcpt_cap = 0;
        session->results = NULL;
        session->message_size = 0;
        session->bdat_left = 0;
        session->bdat_last = session->bdat_failed = session->chunking = false;
        lmtp_spool_reset(&session->spool);
        if (session->state != LMTP_STATE_GREETED)
                lmtp_session_set_state(session, LMTP_STATE_READY);
}

static void session_ready(struct conn *conn)
{
        struct lmtp_session *session = container_of(conn, struct lmtp_session, conn);
        session->server = conn->context;
        session->cmd_pool = pool_create("lmtp command", 1024);
        session->txn_pool = pool_create("lmtp transaction", 2048);
        lmtp_spool_init(&session->spool, session->server->spool_dir,
                        session->server->spool_memory);
        session->state = LMTP_STATE_GREETED;
        log_debug("session=%s proto=lmtp connect peer=%s", conn->id, conn->peer_ip);
        lmtp_reply(session, "220 %s Cove LMTP ready", session->server->hostname);
}

/* One command line; false when no complete line is buffered. */
static bool session_command(struct lmtp_session *session)
{
        const char *line;
        size_t len;
        enum conn_read r = conn_read_line(&session->conn, &line, &len);
        if (r == CONN_READ_MORE)
                return false;
        if (r == CONN_READ_TOO_LONG) {
                lmtp_reply(session, "500 5.5.2 Error: line too long");
                lmtp_session_error(session);
        } else {
                lmtp_command_dispatch(session, line, len);
        }
        pool_clear(session->cmd_pool);
        return true;
}

static void session_input(struct conn *conn)
{
        struct lmtp_session *session = container_of(conn, struct lmtp_session, conn);
        bool progress = true;
        while (progress && !conn->closing) {
                switch (session->state) {
                case LMTP_STATE_DATA:
                case LMTP_STATE_BDAT:
                        progress = lmtp_body_input(session);
                        break;
                case LMTP_STATE_COMMIT:
                        progress = false;
                        break;
                default:
                        progress = session_command(session);
                        break;
                }
        }
}

static void session_timeout(struct conn *conn)
{
        struct lmtp_session *session = container_of(conn, struct lmtp_session, conn);
        if (session->state == LMTP_STATE_COMMIT)
                return;   /* our own flush is late, not the client; wait */
        lmtp_reply(session, "421 4.4.2 %s Timeout, closing connection",
                   session->server->hostname);
        conn_close_after_flush(conn, "inactivity timeout");
}

static void session_shutdown(struct conn *conn)
{
        struct lmtp_session *session = container_of(conn, struct lmtp_session, conn);
        /* A message being received or flushed is finished first. */
        if (session->state == LMTP_STATE_DATA || session->state == LMTP_STATE_BDAT ||
            session->state == LMTP_STATE_COMMIT) {
                session->shutdown_requested = true;
                return;
        }
        lmtp_reply(session, "421 4.3.2 %s Service shutting down", session->server->hostname);
        conn_close_after_flush(conn, "shutdown");
}

static void session_close(struct conn *conn, const char *reason)
{
        struct lmtp_session *session = container_of(conn, struct lmtp_session, conn);
        lmtp_body_abort(session);
        log_debug("session=%s proto=lmtp disconnect reason=\"%s\"", conn->id, reason);
        lmtp_spool_reset(&session->spool);
        pool_destroy(&session->cmd_pool);
        pool_destroy(&session->txn_pool);
}

const struct conn_vfuncs lmtp_session_vfuncs = {
        .on_ready = session_ready,
        .on_input = session_input,
        .on_timeout = session_timeout,
        .on_shutdown = session_shutdown,
        .on_close = session_close,
};

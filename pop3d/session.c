/* session.c - the POP3 session: states, input loop, replies, login, close.
 *
 * Owns: the connection callbacks, the AUTHORIZATION -> TRANSACTION -> UPDATE
 * transitions, failed-login delays and the abuse limit, producer jobs, the
 * maildrop lock's lifetime (taken at login, released at close, or by the
 * kernel if the process dies). Does not: parse or execute commands
 * (commands.c, cmd-*.c) or read message bytes (maildrop.c, cmd-retr.c).
 */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "conf.h"
#include "log.h"
#include "login.h"
#include "maildrop.h"
#include "pool.h"

/* Failed logins in one session before it is disconnected. */
#define POP3_MAX_AUTH_FAILURES 5
/* RFC 2449 §4: a response line is at most 512 octets with its CRLF. */
#define POP3_REPLY_MAX 510

static const char *const pop3_state_names[] = {
        [POP3_STATE_AUTHORIZATION] = "AUTHORIZATION",
        [POP3_STATE_TRANSACTION] = "TRANSACTION",
        [POP3_STATE_UPDATE] = "UPDATE",
};

void pop3_session_set_state(struct pop3_session *s, enum pop3_state state)
{
        COVE_ASSERT(state == s->state + 1);
        log_debug("session=%s proto=pop3 state=%s", s->conn.id, pop3_state_names[state]);
        s->state = state;
}

static void reply_v(struct pop3_session *s, const char *status, const char *fmt, va_list ap)
{
        char line[POP3_REPLY_MAX + 1];
        int n = vsnprintf(line, sizeof(line), fmt, ap);

        if (n < 0)
                n = 0;
        if (n == 0) {
                /* "+OK" alone, without a trailing space. */
                conn_write(&s->conn, status, strlen(status) - 1);
                conn_write(&s->conn, "\r\n", 2);
                return;
        }
        conn_write_str(&s->conn, status);
        conn_write(&s->conn, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        conn_write(&s->conn, "\r\n", 2);
}

void pop3_reply_ok(struct pop3_session *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        reply_v(s, "+OK ", fmt, ap);
        va_end(ap);
}

void pop3_reply_err(struct pop3_session *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        reply_v(s, "-ERR ", fmt, ap);
        va_end(ap);
}

void pop3_reply_store_err(struct pop3_session *s, enum cove_store_err err, const char *what)
{
        switch (err) {
        case COVE_STORE_INUSE:
                pop3_reply_err(s, "[IN-USE] Maildrop is in use by another session");
                return;
        case COVE_STORE_TEMP:
                log_warn("session=%s proto=pop3 user=%s %s: %s", s->conn.id,
                         s->user != NULL ? s->user : "-", what,
                         store_last_error(s->daemon->store));
                pop3_reply_err(s, "[SYS/TEMP] Temporary failure, try again later");
                return;
        case COVE_STORE_EXPUNGED:
        case COVE_STORE_NOTFOUND:
                pop3_reply_err(s, "Message is no longer available");
                return;
        default:
                log_error("session=%s proto=pop3 user=%s %s: %s: %s", s->conn.id,
                          s->user != NULL ? s->user : "-", what, cove_store_strerror(err),
                          store_last_error(s->daemon->store));
                pop3_reply_err(s, "[SYS/PERM] Internal error [%s]", s->conn.id);
                return;
        }
}

static void session_goodbye(struct pop3_session *s, const char *reply, const char *reason)
{
        conn_write_str(&s->conn, reply);
        conn_close_after_flush(&s->conn, reason);
}

void pop3_session_bad_command(struct pop3_session *s)
{
        if (++s->bad_commands < s->daemon->conf->pop3_opts.max_bad_commands)
                return;
        /* The offending command has had its -ERR; one reply per command
           (RFC 2449 pipelining), so the close itself says the rest. */
        log_info("session=%s proto=pop3 ip=%s too many bad commands", s->conn.id,
                 s->conn.peer_ip);
        conn_close_after_flush(&s->conn, "too many bad commands");
}

bool pop3_session_plaintext_ok(const struct pop3_session *s)
{
        return s->conn.secured || s->conn.loopback ||
               s->daemon->conf->server.allow_plaintext_auth;
}

static enum conn_produce session_produce(struct conn *conn, void *context)
{
        struct pop3_session *s = context;
        enum conn_produce r = s->job(s, s->job_ctx);

        (void)conn;
        if (r == CONN_PRODUCE_DONE) {
                s->job = NULL;
                s->job_cleanup = NULL;
                s->job_ctx = NULL;
                if (s->shutdown_pending)
                        session_goodbye(s, "-ERR [SYS/TEMP] Server shutting down\r\n",
                                        "shutdown");
        }
        return r;
}

void pop3_session_job(struct pop3_session *s, pop3_job_fn *job, pop3_job_cleanup_fn *cleanup,
                      void *context)
{
        s->job = job;
        s->job_cleanup = cleanup;
        s->job_ctx = context;
        conn_set_producer(&s->conn, session_produce, s);
}

static void session_delay_done(struct ev_loop *loop, ev_timer *timer, int revents)
{
        struct pop3_session *s = container_of(timer, struct pop3_session, delay_timer);

        (void)revents;
        ev_timer_stop(loop, timer);
        s->delaying = false;
        if (s->conn.closing)
                return;
        conn_write_str(&s->conn, s->delayed_reply);
        conn_write(&s->conn, "\r\n", 2);
        if (s->auth_failures >= POP3_MAX_AUTH_FAILURES) {
                conn_close_after_flush(&s->conn, "too many failed logins");
                return;
        }
        conn_input_resume(&s->conn);
}

void pop3_session_auth_failed(struct pop3_session *s, const char *reply)
{
        unsigned delay = login_throttle_fail(s->daemon->throttle, s->conn.peer_ip,
                                             (time_t)ev_now(s->conn.loop));

        s->auth_failures++;
        s->user_arg = NULL;
        /* Lives in the command pool: no command is read until it is sent. */
        s->delayed_reply = pool_strdup(s->cmd_pool, reply);
        s->delaying = true;
        conn_input_suspend(&s->conn);
        ev_timer_set(&s->delay_timer, delay, 0.);
        ev_timer_start(s->conn.loop, &s->delay_timer);
}

/* RFC 2449 §6.5 LOGIN-DELAY: true when user_id logged in too recently. */
static bool session_login_too_soon(struct pop3_session *s, uint32_t user_id)
{
        struct pop3_daemon *d = s->daemon;
        const struct pop3_login_time *t;

        if (d->login_times == NULL)
                return false;
        t = &d->login_times[user_id % POP3_LOGIN_TIMES];
        return t->user_id == user_id &&
               ev_now(s->conn.loop) - t->when < d->conf->pop3_opts.login_delay_secs;
}

static void session_login_record(struct pop3_session *s, uint32_t user_id)
{
        struct pop3_daemon *d = s->daemon;

        if (d->login_times != NULL) {
                d->login_times[user_id % POP3_LOGIN_TIMES] = (struct pop3_login_time){
                        .user_id = user_id, .when = ev_now(s->conn.loop) };
        }
}

void pop3_session_login(struct pop3_session *s, uint32_t user_id, const char *name,
                        const char *method)
{
        struct pop3_daemon *d = s->daemon;
        enum cove_store_err err;

        if (session_login_too_soon(s, user_id)) {
                log_info("session=%s proto=pop3 user=%s login refused: login delay", s->conn.id,
                         name);
                s->user_arg = NULL;
                pop3_reply_err(s, "[LOGIN-DELAY] Minimum time between logins not reached");
                return;
        }
        err = store_maildrop_lock(d->store, user_id, &s->lock);
        if (err == COVE_STORE_OK) {
                err = pop3_maildrop_load(d->store, s->conn.pool, d->sizes, user_id,
                                         &s->maildrop);
                if (err != COVE_STORE_OK)
                        store_lock_release(&s->lock);
        }
        if (err != COVE_STORE_OK) {
                log_info("session=%s proto=pop3 user=%s login refused: %s", s->conn.id, name,
                         cove_store_strerror(err));
                s->user_arg = NULL;
                pop3_reply_store_err(s, err == COVE_STORE_NOTFOUND ? COVE_STORE_TEMP : err,
                                     "maildrop");
                return;
        }
        login_throttle_success(d->throttle, s->conn.peer_ip);
        session_login_record(s, user_id);
        s->user = pool_strdup(s->conn.pool, name);
        s->user_id = user_id;
        pop3_session_set_state(s, POP3_STATE_TRANSACTION);
        log_info("session=%s proto=pop3 user=%s login method=%s ip=%s%s messages=%u",
                 s->conn.id, s->user, method, s->conn.peer_ip,
                 s->conn.secured ? " tls=yes" : "", s->maildrop->count);
        pop3_reply_ok(s, "Logged in, %u message%s", s->maildrop->count,
                      s->maildrop->count == 1 ? "" : "s");
}

/* ---- connection callbacks ---- */

static void session_ready(struct conn *conn)
{
        struct pop3_session *s = container_of(conn, struct pop3_session, conn);

        s->daemon = conn->context;
        s->cmd_pool = pool_create("pop3 command", 1024);
        ev_init(&s->delay_timer, session_delay_done);
        log_debug("session=%s proto=pop3 connect ip=%s%s", conn->id, conn->peer_ip,
                  conn->secured ? " tls=yes" : "");
        if (s->daemon->conf->pop3_opts.apop) {
                s->apop_stamp = pop3_apop_timestamp(conn->pool);
                pop3_reply_ok(s, "Cove POP3 server ready %s", s->apop_stamp);
        } else {
                pop3_reply_ok(s, "Cove POP3 server ready");
        }
}

static void session_input(struct conn *conn)
{
        struct pop3_session *s = container_of(conn, struct pop3_session, conn);
        const char *line;
        size_t len;

        while (!conn->closing && !s->delaying && s->job == NULL) {
                enum conn_read r = conn_read_line(conn, &line, &len);
                if (r == CONN_READ_MORE)
                        return;
                if (r == CONN_READ_TOO_LONG) {
                        if (s->sasl != NULL)
                                pop3_auth_abort(s);
                        pop3_reply_err(s, "Line too long");
                        pop3_session_bad_command(s);
                        continue;
                }
                if (s->sasl != NULL)
                        pop3_auth_continue(s, line, len);
                else
                        pop3_command_dispatch(s, line, len);
        }
}

static void session_timeout(struct conn *conn)
{
        struct pop3_session *s = container_of(conn, struct pop3_session, conn);

        /* RFC 1939 §3: an autologout does not enter UPDATE: nothing is deleted. */
        session_goodbye(s, "-ERR Autologout; idle for too long\r\n", "inactivity timeout");
}

static void session_shutdown(struct conn *conn)
{
        struct pop3_session *s = container_of(conn, struct pop3_session, conn);

        if (s->job != NULL || s->delaying) {
                s->shutdown_pending = true;
                return;
        }
        session_goodbye(s, "-ERR [SYS/TEMP] Server shutting down\r\n", "shutdown");
}

static void session_close(struct conn *conn, const char *reason)
{
        struct pop3_session *s = container_of(conn, struct pop3_session, conn);

        ev_timer_stop(conn->loop, &s->delay_timer);
        if (s->job_cleanup != NULL)
                s->job_cleanup(s->job_ctx);
        s->job = NULL;
        pop3_auth_abort(s);
        /* Without a completed QUIT nothing was expunged; the marks die here. */
        store_lock_release(&s->lock);
        log_info("session=%s proto=pop3 user=%s disconnect reason=\"%s\"", conn->id,
                 s->user != NULL ? s->user : "-", reason);
        pool_destroy(&s->cmd_pool);
}

const struct conn_vfuncs pop3_session_vfuncs = {
        .on_ready = session_ready,
        .on_input = session_input,
        .on_timeout = session_timeout,
        .on_shutdown = session_shutdown,
        .on_close = session_close,
};

/* cmd-auth.c - LOGIN, AUTHENTICATE (SASL, RFC 4959 SASL-IR) and STARTTLS.
 *
 * Owns: the plaintext policy (LOGINDISABLED / PRIVACYREQUIRED on unencrypted
 * non-loopback links unless [server] allow_plaintext_auth), the SASL
 * exchange in IMAP's base64 continuation form, the failed-login delay, and
 * suspending LOGIN / AUTHENTICATE PLAIN|LOGIN while the worker's offload
 * thread checks the password (cancelled if the connection closes first).
 * Does not: look users up or verify passwords (storage/login.c, core/sasl.c).
 */
#include <string.h>

#include "base64.h"
#include "commands.h"
#include "conf.h"
#include "log.h"
#include "login.h"
#include "offload.h"
#include "pool.h"
#include "reply.h"
#include "sasl.h"

/* Failed logins before the session is closed. */
#define IMAP_MAX_AUTH_FAILURES 5

struct auth_state {
        struct sasl_server *sasl;
        struct login_sasl lookup;
        ev_timer delay;             /* failed-login delay */
        const char *failed_reply;   /* sent after the delay */
        struct imap_cmd *cmd;
        bool delaying;
        struct offload_job *check;  /* password check on the offload thread */
        bool checked;               /* ...answered: check_ok holds the outcome */
        bool check_ok;
        struct login_user user;     /* LOGIN: who is checked (id 0: unknown) */
};

static bool plaintext_allowed(const struct imap_session *session)
{
        return session->conn.secured || session->conn.loopback ||
               session->daemon->conf->server.allow_plaintext_auth;
}

static void auth_cleanup(struct imap_cmd *cmd, void *context)
{
        struct auth_state *st = context;
        if (st->delaying) {
                ev_timer_stop(cmd->session->conn.loop, &st->delay);
                st->delaying = false;
        }
        /* Closed mid-check: the thread finishes, nobody is answered. */
        if (st->check != NULL)
                conn_abandon_on_eof(&cmd->session->conn, false);
        offload_job_cancel(&st->check);
}

static void auth_delay_done(struct ev_loop *loop, ev_timer *timer, int revents)
{
        struct auth_state *st = container_of(timer, struct auth_state, delay);
        ev_timer_stop(loop, timer);
        st->delaying = false;
        imap_cmd_resume(st->cmd);
}

static void auth_check_done(bool ok, void *context)
{
        struct auth_state *st = context;
        st->check = NULL;
        st->checked = true;
        st->check_ok = ok;
        conn_abandon_on_eof(&st->cmd->session->conn, false);
        imap_cmd_resume(st->cmd);
}

/* Suspends cmd while the offload thread checks password (copied) against
   hash / secret ("" and "": an unknown user, checked against a dummy). */
static enum cmd_result auth_check_start(struct imap_cmd *cmd, struct auth_state *st,
                                        const char *hash, const char *secret,
                                        const void *password, size_t len)
{
        st->cmd = cmd;
        st->checked = false;
        st->check = login_check_start(cmd->session->daemon->offload, hash, secret, password,
                                      len, auth_check_done, st);
        imap_cmd_suspend(cmd);
        /* A client that hangs up meanwhile is closed at once and its check
           cancelled (unless already running), not computed for nobody. */
        conn_abandon_on_eof(&cmd->session->conn, true);
        return CMD_RESULT_MORE;
}

static struct auth_state *auth_state_get(struct imap_cmd *cmd)
{
        struct auth_state *st = cmd->context;
        if (st == NULL) {
                st = cmd->context = pool_alloc(cmd->pool, sizeof(*st));
                imap_cmd_set_cleanup(cmd, auth_cleanup, st);
        }
        return st;
}

/* A failure: answered after the throttle's delay for this address. */
static enum cmd_result auth_failed(struct imap_cmd *cmd, const char *reply)
{
        struct imap_session *session = cmd->session;
        struct auth_state *st = auth_state_get(cmd);
        unsigned delay = login_throttle_fail(session->daemon->throttle, session->conn.peer_ip,
                                             (time_t)ev_now(session->conn.loop));
        session->auth_failures++;
        log_info("session=%s proto=imap auth failed ip=%s failures=%u", session->conn.id,
                 session->conn.peer_ip, session->auth_failures);
        if (delay == 0)
                return imap_reply_tagged(cmd, "NO", "%s", reply);
        st->failed_reply = pool_strdup(cmd->pool, reply);
        st->delaying = true;
        st->cmd = cmd;
        ev_timer_init(&st->delay, auth_delay_done, delay, 0.);
        ev_timer_start(session->conn.loop, &st->delay);
        imap_cmd_suspend(cmd);
        return CMD_RESULT_MORE;
}

static enum cmd_result auth_succeeded(struct imap_cmd *cmd, const char *user, uint32_t user_id)
{
        struct imap_session *session = cmd->session;
        login_throttle_success(session->daemon->throttle, session->conn.peer_ip);
        imap_session_login(session, user, user_id);
        return imap_reply_ok(cmd, "[CAPABILITY %s] Logged in",
                             imap_capability_string(session, cmd->pool));
}

/* Called again after a failure delay: send the NO, maybe give up. */
static enum cmd_result auth_after_delay(struct imap_cmd *cmd, struct auth_state *st)
{
        imap_reply_tagged(cmd, "NO", "%s", st->failed_reply);
        if (cmd->session->auth_failures >= IMAP_MAX_AUTH_FAILURES) {
                imap_reply_untagged(cmd, "BYE Too many failed logins");
                imap_session_set_state(cmd->session, IMAP_STATE_LOGOUT);
        }
        return CMD_RESULT_DONE;
}

/* LOGIN called again with the check's answer. */
static enum cmd_result login_checked(struct imap_cmd *cmd, struct auth_state *st)
{
        st->checked = false;
        if (st->check_ok && st->user.id != 0)
                return auth_succeeded(cmd, st->user.name, st->user.id);
        return auth_failed(cmd, "[AUTHENTICATIONFAILED] Authentication failed");
}

enum cmd_result imap_cmd_login(struct imap_cmd *cmd)
{
        struct imap_session *session = cmd->session;
        struct auth_state *st = cmd->context;
        if (st != NULL && st->failed_reply != NULL)
                return auth_after_delay(cmd, st);
        if (st != NULL && st->checked)
                return login_checked(cmd, st);
        if (!plaintext_allowed(session))
                return imap_reply_no(cmd, "[PRIVACYREQUIRED] Plaintext login is disabled "
                                     "without TLS (use STARTTLS)");
        const char *name, *password;
        size_t name_len, pass_len;
        (void)imap_arg_astring(&cmd->args[0], &name, &name_len);
        (void)imap_arg_astring(&cmd->args[1], &password, &pass_len);
        if (memchr(name, '\0', name_len) != NULL || memchr(password, '\0', pass_len) != NULL)
                return auth_failed(cmd, "[AUTHENTICATIONFAILED] Authentication failed");
        st = auth_state_get(cmd);
        /* The lookup here, the hashing on the offload thread. An unknown
           user (zeroed record) is checked against a dummy hash all the same. */
        if (login_user_lookup(session->daemon->store, cmd->pool,
                              session->daemon->conf->server.default_domain, name,
                              &st->user) == LOGIN_TEMPFAIL)
                return imap_reply_no(cmd, "[UNAVAILABLE] Temporary failure, try again later");
        return auth_check_start(cmd, st, st->user.password_hash, st->user.scram_secret,
                                password, pass_len);
}

/* Acts on a SASL outcome: a challenge, success, failure, or a password to
   check (in: the decoded client message holding it, wiped once copied). */
static enum cmd_result auth_result(struct imap_cmd *cmd, struct auth_state *st,
                                   enum sasl_result r, const unsigned char *out,
                                   size_t out_len, unsigned char *in, size_t in_len)
{
        switch (r) {
        case SASL_CONTINUE:
                imap_reply_continue(cmd, base64_encode(cmd->pool, out, out_len));
                imap_cmd_wait_line(cmd);
                return CMD_RESULT_MORE;
        case SASL_VERIFY: {
                const char *hash, *secret;
                sasl_server_credentials(st->sasl, &hash, &secret);
                enum cmd_result res = auth_check_start(cmd, st, hash, secret, out, out_len);
                if (in != NULL)
                        explicit_bzero(in, in_len);
                return res;
        }
        case SASL_DONE_OK:
                return auth_succeeded(cmd, sasl_server_user(st->sasl), st->lookup.user_id);
        case SASL_DONE_FAIL:
                break;
        }
        switch (sasl_server_failure(st->sasl)) {
        case SASL_FAIL_SYNTAX:
                return imap_reply_bad(cmd, "Malformed SASL message");
        case SASL_FAIL_TEMP:
                return imap_reply_no(cmd, "[UNAVAILABLE] Temporary failure, try again later");
        default:
                return auth_failed(cmd, "[AUTHENTICATIONFAILED] Authentication failed");
        }
}

/* Feeds one client response (base64 text) to SASL and acts on the result. */
static enum cmd_result auth_step(struct imap_cmd *cmd, struct auth_state *st,
                                 const char *text, size_t len, bool initial)
{
        unsigned char *in = NULL;
        size_t in_len = 0;
        const char *error;
        if (text == NULL) {
                in = NULL;      /* no initial response: the mechanism speaks first */
        } else if (len == 1 && text[0] == '=' && initial) {
                in = (unsigned char *)"";
        } else if (base64_decode(cmd->pool, text, len, SASL_MAX_INPUT, &in, &in_len,
                                 &error) < 0) {
                return imap_reply_bad(cmd, "Invalid base64 in SASL response");
        }
        const unsigned char *out;
        size_t out_len;
        enum sasl_result r = sasl_server_step(st->sasl, in, in_len, &out, &out_len);
        return auth_result(cmd, st, r, out, out_len, in, in != NULL ? in_len : 0);
}

static enum cmd_result auth_start(struct imap_cmd *cmd, struct auth_state *st)
{
        struct imap_session *session = cmd->session;
        const char *mech = cmd->args[0].str;
        if (!sasl_mech_supported(mech))
                return imap_reply_no(cmd, "[CANNOT] Unsupported authentication mechanism");
        if (sasl_mech_is_plaintext(mech) && !plaintext_allowed(session))
                return imap_reply_no(cmd, "[PRIVACYREQUIRED] Plaintext authentication is "
                                     "disabled without TLS (use STARTTLS)");
        st->lookup = (struct login_sasl){
                .store = session->daemon->store,
                .default_domain = session->daemon->conf->server.default_domain,
        };
        struct sasl_server_settings set = {
                .lookup = login_sasl_lookup,
                .context = &st->lookup,
                .success_data = false,   /* IMAP4rev1 OK carries no SASL data */
                .async_verify = true,    /* PLAIN/LOGIN hash on the offload thread */
                .fake_salt_key = session->daemon->salt_key,
                .fake_salt_key_len = session->daemon->salt_key_len,
        };
        const char *error;
        if (sasl_server_start(cmd->pool, mech, &set, &st->sasl, &error) < 0)
                return imap_reply_no(cmd, "[CANNOT] %s", error);
        if (cmd->arg_count > 1) {
                const char *ir;
                size_t ir_len;
                if (!imap_arg_astring(&cmd->args[1], &ir, &ir_len))
                        return imap_reply_bad(cmd, "Invalid initial response");
                return auth_step(cmd, st, ir, ir_len, true);
        }
        return auth_step(cmd, st, NULL, 0, true);
}

enum cmd_result imap_cmd_authenticate(struct imap_cmd *cmd)
{
        struct auth_state *st = auth_state_get(cmd);
        if (st->failed_reply != NULL)
                return auth_after_delay(cmd, st);
        if (st->checked) {
                st->checked = false;
                enum sasl_result r = sasl_server_verified(st->sasl, st->check_ok);
                return auth_result(cmd, st, r, NULL, 0, NULL, 0);
        }
        if (st->sasl == NULL)
                return auth_start(cmd, st);
        if (cmd->line_too_long)
                return imap_reply_bad(cmd, "SASL response too long");
        if (cmd->line_len == 1 && cmd->line[0] == '*')
                return imap_reply_bad(cmd, "Authentication cancelled");
        return auth_step(cmd, st, cmd->line, cmd->line_len, false);
}

enum cmd_result imap_cmd_starttls(struct imap_cmd *cmd)
{
        struct imap_session *session = cmd->session;
        if (session->conn.secured)
                return imap_reply_bad(cmd, "TLS is already active");
        if (conn_mgr_get_tls(session->conn.mgr) == NULL)
                return imap_reply_no(cmd, "TLS is not configured");
        /* The handshake starts once this OK is out (session.c); input already
           buffered after this line is dropped (CVE-2011-0411). */
        session->starttls_after_reply = true;
        return imap_reply_ok(cmd, "Begin TLS negotiation now");
}

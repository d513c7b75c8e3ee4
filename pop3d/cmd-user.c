/* cmd-user.c - USER, PASS and APOP (RFC 1939 §7): plaintext login.
 *
 * Owns: the USER/PASS pair, the plaintext-over-cleartext refusal (RFC 2595
 * §4, [AUTH] per RFC 3206) and APOP's refusal. Does not: verify passwords
 * (storage/login.c) or take the maildrop (session.c).
 */
#include <string.h>

#include "commands.h"
#include "conf.h"
#include "log.h"
#include "login.h"
#include "pool.h"
#include "session.h"

static const char pop3_plaintext_refused[] =
        "[AUTH] Plaintext authentication is not allowed without TLS (use STLS)";

void pop3_cmd_user(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;

        if (!pop3_session_plaintext_ok(s)) {
                pop3_reply_err(s, pop3_plaintext_refused);
                return;
        }
        if (cmd->rest == NULL || cmd->rest_len == 0) {
                pop3_reply_err(s, "Missing argument for USER");
                pop3_session_bad_command(s);
                return;
        }
        if (cmd->rest_len > LOGIN_MAX_NAME) {
                pop3_reply_err(s, "User name too long");
                pop3_session_bad_command(s);
                return;
        }
        /* Names are checked at PASS, so that USER does not reveal which exist. */
        s->user_arg = pool_strndup(s->conn.pool, cmd->rest, cmd->rest_len);
        pop3_reply_ok(s, "Send your password");
}

void pop3_cmd_pass(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        struct pop3_daemon *d = s->daemon;
        struct login_user user;
        enum login_result res;
        const char *name = s->user_arg;

        if (!pop3_session_plaintext_ok(s)) {
                pop3_reply_err(s, pop3_plaintext_refused);
                return;
        }
        if (name == NULL) {
                pop3_reply_err(s, "USER first");
                pop3_session_bad_command(s);
                return;
        }
        s->user_arg = NULL;
        /* RFC 1939 §7: the password is the rest of the line, spaces included. */
        res = login_verify_plain(d->store, cmd->pool, d->conf->server.default_domain, name,
                                 cmd->rest != NULL ? cmd->rest : "", cmd->rest_len, &user);
        if (res == LOGIN_TEMPFAIL) {
                pop3_reply_err(s, "[SYS/TEMP] Temporary authentication failure");
                return;
        }
        if (res != LOGIN_OK) {
                log_info("session=%s proto=pop3 ip=%s login failed method=USER user=\"%.64s\"",
                         s->conn.id, s->conn.peer_ip, name);
                pop3_session_auth_failed(s, "-ERR [AUTH] Authentication failed");
                return;
        }
        pop3_session_login(s, user.id, user.name, "USER");
}

void pop3_cmd_apop(struct pop3_cmd *cmd)
{
        /* APOP needs the plaintext password (or an MD5-equivalent) on the
           server; Cove stores only salted slow hashes and SCRAM secrets
           (docs/pop3.md), so the greeting carries no timestamp and APOP is
           refused. */
        pop3_reply_err(cmd->session, "[AUTH] APOP is not supported; use AUTH or USER/PASS");
}

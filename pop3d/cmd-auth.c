/* cmd-auth.c - AUTH (RFC 5034): SASL over POP3.
 *
 * Owns: mechanism choice under the plaintext policy, the initial response
 * ("=" for empty), "+ base64" challenges, the client's "*" cancel and the
 * mapping of SASL outcomes to [AUTH] / [SYS/TEMP] replies. Does not: run the
 * mechanisms (core/sasl.c) or look users up (storage/login.c).
 */
#include <string.h>

#include "base64.h"
#include "commands.h"
#include "conf.h"
#include "log.h"
#include "login.h"
#include "pool.h"
#include "sasl.h"
#include "session.h"

/* Mechanisms offered on this connection (CAPA SASL, bare AUTH). */
static bool auth_mech_offered(const struct pop3_session *s, const char *mech)
{
        return !sasl_mech_is_plaintext(mech) || pop3_session_plaintext_ok(s);
}

static void auth_list(struct pop3_session *s)
{
        const char *const *mechs = sasl_mech_names();

        /* Not in RFC 5034, but widespread: bare AUTH lists the mechanisms. */
        conn_write_str(&s->conn, "+OK Supported mechanisms follow\r\n");
        for (size_t i = 0; mechs[i] != NULL; i++) {
                if (auth_mech_offered(s, mechs[i])) {
                        conn_write_str(&s->conn, mechs[i]);
                        conn_write(&s->conn, "\r\n", 2);
                }
        }
        conn_write(&s->conn, ".\r\n", 3);
}

void pop3_auth_abort(struct pop3_session *s)
{
        s->sasl = NULL;
        s->login_sasl = NULL;
        pool_destroy(&s->auth_pool);
}

static void auth_finish_fail(struct pop3_session *s)
{
        enum sasl_failure f = sasl_server_failure(s->sasl);
        const char *who = sasl_server_authcid(s->sasl);

        log_info("session=%s proto=pop3 ip=%s login failed method=%s user=\"%.64s\" reason=\"%s\"",
                 s->conn.id, s->conn.peer_ip, sasl_server_mech(s->sasl),
                 who != NULL ? who : "", sasl_server_failure_reason(s->sasl));
        pop3_auth_abort(s);
        if (f == SASL_FAIL_TEMP) {
                pop3_reply_err(s, "[SYS/TEMP] Temporary authentication failure");
                return;
        }
        pop3_session_auth_failed(s, "-ERR [AUTH] Authentication failed");
}

/* Feeds one decoded client message to the exchange and answers. */
static void auth_step(struct pop3_session *s, const unsigned char *in, size_t in_len)
{
        const unsigned char *out;
        size_t out_len;
        enum sasl_result r = sasl_server_step(s->sasl, in, in_len, &out, &out_len);

        switch (r) {
        case SASL_CONTINUE:
                conn_write(&s->conn, "+ ", 2);
                conn_write_str(&s->conn, base64_encode(s->auth_pool, out, out_len));
                conn_write(&s->conn, "\r\n", 2);
                return;
        case SASL_DONE_OK: {
                const char *user = pool_strdup(s->cmd_pool, sasl_server_user(s->sasl));
                const char *mech = sasl_server_mech(s->sasl);
                uint32_t id = s->login_sasl->user_id;

                pop3_auth_abort(s);
                pop3_session_login(s, id, user, mech);
                return;
        }
        case SASL_DONE_FAIL:
        default:
                auth_finish_fail(s);
                return;
        }
}

/* Decodes a base64 client message and steps; a bad encoding ends the
   exchange (RFC 5034 §4: the server rejects it). */
static void auth_input(struct pop3_session *s, const char *b64, size_t len)
{
        unsigned char *data;
        size_t data_len;
        const char *error;

        if (base64_decode(s->auth_pool, b64, len, SASL_MAX_INPUT, &data, &data_len, &error) < 0) {
                pop3_auth_abort(s);
                pop3_reply_err(s, "Invalid base64 in authentication exchange");
                pop3_session_bad_command(s);
                return;
        }
        auth_step(s, data, data_len);
}

void pop3_cmd_auth(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        struct sasl_server_settings set = { .lookup = login_sasl_lookup };
        const char *mech = cmd->argc > 0 ? cmd->args[0] : NULL;
        const char *error;

        if (mech == NULL) {
                auth_list(s);
                return;
        }
        if (!sasl_mech_supported(mech)) {
                pop3_reply_err(s, "Unsupported authentication mechanism");
                return;
        }
        if (!auth_mech_offered(s, mech)) {
                pop3_reply_err(s, "[AUTH] Plaintext authentication is not allowed without TLS "
                               "(use STLS)");
                return;
        }
        s->auth_pool = pool_create("pop3 auth", 2048);
        s->login_sasl = pool_alloc(s->auth_pool, sizeof(*s->login_sasl));
        s->login_sasl->store = s->daemon->store;
        s->login_sasl->default_domain = s->daemon->conf->server.default_domain;
        set.context = s->login_sasl;
        set.success_data = false;   /* RFC 5034 §4: no data with +OK */
        set.fake_salt_key = s->daemon->salt_key;
        set.fake_salt_key_len = s->daemon->salt_key_len;
        if (sasl_server_start(s->auth_pool, mech, &set, &s->sasl, &error) < 0) {
                pop3_auth_abort(s);
                pop3_reply_err(s, "Unsupported authentication mechanism");
                return;
        }
        if (cmd->argc < 2)
                auth_step(s, NULL, 0);
        else if (strcmp(cmd->args[1], "=") == 0)
                auth_step(s, (const unsigned char *)"", 0);
        else
                auth_input(s, cmd->args[1], strlen(cmd->args[1]));
}

void pop3_auth_continue(struct pop3_session *s, const char *line, size_t len)
{
        if (len == 1 && line[0] == '*') {
                pop3_auth_abort(s);
                pop3_reply_err(s, "Authentication cancelled");
                return;
        }
        auth_input(s, line, len);
}

/* cmd-auth.c - AUTH (RFC 5034): SASL over POP3.
 *
 * Owns: mechanism choice under the plaintext policy, the initial response
 * ("=" for empty), "+ base64" challenges, the client's "*" cancel and the
 * mapping of SASL outcomes to [AUTH] / [SYS/TEMP] replies, and the password
 * checks of AUTH PLAIN/LOGIN and PASS on the worker's offload thread (no
 * command is read meanwhile; cancelled if the connection closes). Does not:
 * run the mechanisms (core/sasl.c) or look users up (storage/login.c).
 */
#include <string.h>

#include "base64.h"
#include "commands.h"
#include "conf.h"
#include "log.h"
#include "login.h"
#include "offload.h"
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

/* A password on the offload thread; lives in s->auth_pool. */
struct pop3_auth_check {
        struct pop3_session *session;
        struct offload_job *job;
        bool sasl;                  /* AUTH: the answer goes to sasl_server_verified() */
        uint32_t user_id;           /* PASS: 0 for an unknown user */
        const char *name;           /* PASS: canonical name */
        const char *typed;          /* PASS: the name as sent (log) */
};

static void auth_step_result(struct pop3_session *s, enum sasl_result r,
                             const unsigned char *out, size_t out_len);

void pop3_auth_abort(struct pop3_session *s)
{
        if (s->check != NULL) {
                offload_job_cancel(&s->check->job);
                s->check = NULL;
                conn_abandon_on_eof(&s->conn, false);
        }
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

static void auth_check_done(bool ok, void *context)
{
        struct pop3_auth_check *c = context;
        struct pop3_session *s = c->session;

        /* c lives in auth_pool, which pop3_auth_abort() destroys: copy first.
           The names live in the command pool (no command runs meanwhile). */
        bool sasl = c->sasl;
        uint32_t user_id = c->user_id;
        const char *name = c->name, *typed = c->typed;

        c->job = NULL;
        s->check = NULL;
        s->delaying = false;
        conn_abandon_on_eof(&s->conn, false);
        if (sasl) {
                auth_step_result(s, sasl_server_verified(s->sasl, ok), NULL, 0);
        } else if (ok && user_id != 0) {
                pop3_auth_abort(s);
                pop3_session_login(s, user_id, name, "USER");
        } else {
                pop3_auth_abort(s);
                log_info("session=%s proto=pop3 ip=%s login failed method=USER user=\"%.64s\"",
                         s->conn.id, s->conn.peer_ip, typed);
                pop3_session_auth_failed(s, "-ERR [AUTH] Authentication failed");
        }
        if (!s->delaying && !s->conn.closing)
                conn_input_resume(&s->conn);
}

/* Starts the check of c; no command is read until it is answered. */
static void auth_check_start(struct pop3_session *s, struct pop3_auth_check *c,
                             const char *hash, const char *secret, const void *password,
                             size_t len)
{
        c->session = s;
        s->check = c;
        s->delaying = true;
        conn_input_suspend(&s->conn);
        c->job = login_check_start(s->daemon->offload, hash, secret, password, len,
                                   auth_check_done, c);
        /* A client that hangs up meanwhile is closed at once and its check
           cancelled (unless already running), not computed for nobody. */
        conn_abandon_on_eof(&s->conn, true);
}

void pop3_auth_check_pass(struct pop3_session *s, uint32_t user_id, const char *name,
                          const char *typed, const char *password_hash,
                          const char *scram_secret, const char *password, size_t len)
{
        s->auth_pool = pool_create("pop3 pass", 512);
        struct pop3_auth_check *c = pool_alloc(s->auth_pool, sizeof(*c));
        c->user_id = user_id;
        c->name = pool_strdup(s->cmd_pool, name != NULL ? name : "");
        c->typed = pool_strdup(s->cmd_pool, typed);
        auth_check_start(s, c, password_hash, scram_secret, password, len);
}

/* Feeds one decoded client message to the exchange and answers. */
static void auth_step(struct pop3_session *s, unsigned char *in, size_t in_len)
{
        const unsigned char *out;
        size_t out_len;
        enum sasl_result r = sasl_server_step(s->sasl, in, in_len, &out, &out_len);

        if (r == SASL_VERIFY) {
                const char *hash, *secret;
                struct pop3_auth_check *c = pool_alloc(s->auth_pool, sizeof(*c));
                c->sasl = true;
                sasl_server_credentials(s->sasl, &hash, &secret);
                auth_check_start(s, c, hash, secret, out, out_len);
                if (in_len > 0)
                        explicit_bzero(in, in_len);     /* the job has its copy */
                return;
        }
        auth_step_result(s, r, out, out_len);
}

/* Answers a step's (or a check's) outcome. */
static void auth_step_result(struct pop3_session *s, enum sasl_result r,
                             const unsigned char *out, size_t out_len)
{
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
        set.async_verify = true;    /* PLAIN/LOGIN hash on the offload thread */
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
                auth_step(s, (unsigned char *)"", 0);
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

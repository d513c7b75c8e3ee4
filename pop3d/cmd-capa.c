/* cmd-capa.c - CAPA (RFC 2449), STLS (RFC 2595) and UTF8 (RFC 6856).
 *
 * Owns: the capability list as it depends on state, TLS and the plaintext
 * policy; the switch to TLS in place. Does not: run the handshake
 * (core/conn.c).
 */
#include "commands.h"
#include "conf.h"
#include "log.h"
#include "sasl.h"
#include "session.h"

static void capa_sasl(struct pop3_session *s)
{
        const char *const *mechs = sasl_mech_names();
        bool any = false;

        for (size_t i = 0; mechs[i] != NULL; i++) {
                if (sasl_mech_is_plaintext(mechs[i]) && !pop3_session_plaintext_ok(s))
                        continue;
                conn_write_str(&s->conn, any ? " " : "SASL ");
                conn_write_str(&s->conn, mechs[i]);
                any = true;
        }
        if (any)
                conn_write(&s->conn, "\r\n", 2);
}

void pop3_cmd_capa(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        const struct conf_pop3 *opts = &s->daemon->conf->pop3_opts;
        bool auth = s->state == POP3_STATE_AUTHORIZATION;

        conn_write_str(&s->conn, "+OK Capability list follows\r\n"
                                 "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
        if (auth) {
                /* RFC 2595 §4: no plaintext mechanism advertised where it
                   would be refused. */
                if (pop3_session_plaintext_ok(s))
                        conn_write_str(&s->conn, "USER\r\n");
                capa_sasl(s);
                if (!s->conn.secured && conn_mgr_get_tls(s->conn.mgr) != NULL)
                        conn_write_str(&s->conn, "STLS\r\n");
                conn_write_str(&s->conn, "UTF8\r\n");
        }
        if (opts->expire != NULL)
                conn_printf(&s->conn, "EXPIRE %s\r\n",
                            opts->expire[0] == 'n' || opts->expire[0] == 'N' ? "NEVER" :
                            opts->expire);
        if (opts->login_delay_secs > 0)
                conn_printf(&s->conn, "LOGIN-DELAY %u\r\n", opts->login_delay_secs);
        conn_write_str(&s->conn, "IMPLEMENTATION Cove\r\n.\r\n");
}

void pop3_cmd_stls(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        const char *error;

        if (s->conn.secured) {
                pop3_reply_err(s, "Already using TLS");
                return;
        }
        if (conn_mgr_get_tls(s->conn.mgr) == NULL) {
                pop3_reply_err(s, "STLS is not available");
                return;
        }
        pop3_reply_ok(s, "Begin TLS negotiation");
        if (conn_starttls(&s->conn, &error) < 0) {
                log_error("session=%s proto=pop3 STLS: %s", s->conn.id, error);
                conn_close_after_flush(&s->conn, "STLS failed");
                return;
        }
        /* RFC 2595 §4: forget what was said in plaintext. */
        s->user_arg = NULL;
        s->utf8 = false;
}

void pop3_cmd_utf8(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;

        /* RFC 6856 §2: mail is never down-converted by Cove, so enabling
           UTF8 changes nothing on the wire; names and passwords in UTF-8 are
           accepted either way. */
        s->utf8 = true;
        pop3_reply_ok(s, "UTF8 enabled");
}

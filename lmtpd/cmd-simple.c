/* cmd-simple.c - the commands without a transaction of their own: RSET, NOOP,
 * VRFY, HELP and QUIT (RFC 5321 §4.1.1.5-10).
 *
 * VRFY never reveals whether a user exists (252, RFC 5321 §3.5.3).
 */
#include "commands.h"
#include "session.h"

void lmtp_cmd_rset(struct lmtp_session *session, const char *args)
{
        lmtp_session_reset(session);
        lmtp_reply(session, "250 2.0.0 OK");
}

void lmtp_cmd_noop(struct lmtp_session *session, const char *args)
{
        lmtp_reply(session, "250 2.0.0 OK");
}

void lmtp_cmd_vrfy(struct lmtp_session *session, const char *args)
{
        if (args[0] == '\0') {
                lmtp_reply(session, "501 5.5.4 Syntax: VRFY address");
                lmtp_session_error(session);
                return;
        }
        lmtp_reply(session, "252 2.5.0 Cannot VRFY user, but will accept message and "
                   "attempt delivery");
}

void lmtp_cmd_help(struct lmtp_session *session, const char *args)
{
        lmtp_reply(session, "214 2.0.0 Commands: LHLO MAIL RCPT DATA BDAT RSET NOOP VRFY "
                   "HELP QUIT");
}

void lmtp_cmd_quit(struct lmtp_session *session, const char *args)
{
        lmtp_reply(session, "221 2.0.0 %s Bye", session->server->hostname);
        conn_close_after_flush(&session->conn, "quit");
}

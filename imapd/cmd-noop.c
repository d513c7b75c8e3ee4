/* cmd-noop.c - NOOP, CHECK and LOGOUT: commands whose work is done by the
 * session (the view sync before the tagged reply, closing after LOGOUT).
 *
 * Owns: their replies. Does not: sync the view itself (session.c does at
 * every command end, with EXPUNGE allowed for these).
 */
#include "commands.h"
#include "reply.h"

enum cmd_result imap_cmd_noop(struct imap_cmd *cmd)
{
        /* The session's sync after every command is the point of NOOP. */
        cmd->session->watch_fired = cmd->session->view != NULL;
        return imap_reply_ok(cmd, "NOOP completed");
}

enum cmd_result imap_cmd_check(struct imap_cmd *cmd)
{
        /* Every commit is durable already (RFC 3501 §6.4.1 housekeeping). */
        cmd->session->watch_fired = true;
        return imap_reply_ok(cmd, "CHECK completed");
}

enum cmd_result imap_cmd_logout(struct imap_cmd *cmd)
{
        imap_reply_untagged(cmd, "BYE Logging out");
        imap_session_set_state(cmd->session, IMAP_STATE_LOGOUT);
        return imap_reply_ok(cmd, "LOGOUT completed");
}

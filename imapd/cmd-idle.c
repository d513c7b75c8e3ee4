/* cmd-idle.c - IDLE (RFC 2177).
 *
 * Owns: the "+ idling" continuation, waiting for DONE and the flag that lets
 * the session push view changes as commits are notified (session.c's watch
 * callback does the pushing, no polling). Does not: read the store itself.
 */
#include <strings.h>

#include "commands.h"
#include "reply.h"
#include "view.h"

static void idle_cleanup(struct imap_cmd *cmd, void *context)
{
        cmd->session->idling = false;
}

enum cmd_result imap_cmd_idle(struct imap_cmd *cmd)
{
        struct imap_session *session = cmd->session;
        if (!session->idling) {
                session->idling = true;
                imap_cmd_set_cleanup(cmd, idle_cleanup, NULL);
                imap_reply_continue(cmd, "idling");
                /* Anything that happened before IDLE goes out now. */
                if (session->view != NULL && imap_view_sync(session, true, IMAP_SYNC_NOW) < 0) {
                        imap_reply_untagged(cmd, "BYE Selected mailbox is gone");
                        return CMD_RESULT_ABORT;
                }
                imap_cmd_wait_line(cmd);
                return CMD_RESULT_MORE;
        }
        session->idling = false;
        if (cmd->line_too_long || cmd->line_len != 4 || strncasecmp(cmd->line, "DONE", 4) != 0)
                return imap_reply_bad(cmd, "Expected DONE");
        return imap_reply_ok(cmd, "IDLE terminated");
}

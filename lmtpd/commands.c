/* commands.c - the sorted LMTP command table and the dispatcher that checks
 * each command's state before running it.
 *
 * Does not implement commands (cmd-*.c) or read the socket (session.c).
 */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "pool.h"
#include "session.h"

/* Sorted by name (bsearch). HELO and EHLO exist only to be refused:
   RFC 2033 §4.1, an LMTP server must not accept them. */
static const struct lmtp_command commands[] = {
        { .name = "BDAT", .fn = lmtp_cmd_bdat },
        { .name = "DATA", .fn = lmtp_cmd_data,
          .flags = LMTP_CMD_NEED_LHLO | LMTP_CMD_NEED_MAIL | LMTP_CMD_NO_ARGS },
        { .name = "EHLO", .fn = lmtp_cmd_helo },
        { .name = "HELO", .fn = lmtp_cmd_helo },
        { .name = "HELP", .fn = lmtp_cmd_help },
        { .name = "LHLO", .fn = lmtp_cmd_lhlo },
        { .name = "MAIL", .fn = lmtp_cmd_mail, .flags = LMTP_CMD_NEED_LHLO | LMTP_CMD_NO_TXN },
        { .name = "NOOP", .fn = lmtp_cmd_noop },
        { .name = "QUIT", .fn = lmtp_cmd_quit, .flags = LMTP_CMD_NO_ARGS },
        { .name = "RCPT", .fn = lmtp_cmd_rcpt,
          .flags = LMTP_CMD_NEED_LHLO | LMTP_CMD_NEED_MAIL },
        { .name = "RSET", .fn = lmtp_cmd_rset, .flags = LMTP_CMD_NO_ARGS },
        { .name = "VRFY", .fn = lmtp_cmd_vrfy },
};

static int command_cmp(const void *key, const void *elem)
{
        const struct lmtp_command *cmd = elem;
        return strcasecmp(key, cmd->name);
}

static const struct lmtp_command *command_find(const char *name)
{
        return bsearch(name, commands, N_ELEMENTS(commands), sizeof(commands[0]), command_cmp);
}

/* The reason a command may not run now, or NULL. */
static const char *command_refusal(const struct lmtp_session *session,
                                   const struct lmtp_command *cmd, const char *args)
{
        if ((cmd->flags & LMTP_CMD_NO_ARGS) != 0 && args[0] != '\0')
                return "501 5.5.4 Syntax error: no arguments allowed";
        if ((cmd->flags & LMTP_CMD_NEED_LHLO) != 0 && session->state == LMTP_STATE_GREETED)
                return "503 5.5.1 Error: send LHLO first";
        if ((cmd->flags & LMTP_CMD_NO_TXN) != 0 && session->state == LMTP_STATE_MAIL)
                return "503 5.5.1 Error: nested MAIL command";
        if ((cmd->flags & LMTP_CMD_NEED_MAIL) != 0 && session->state != LMTP_STATE_MAIL)
                return "503 5.5.1 Error: need MAIL command";
        return NULL;
}

void lmtp_command_dispatch(struct lmtp_session *session, const char *line, size_t len)
{
        char name[8];
        size_t name_len = 0;
        if (memchr(line, '\0', len) != NULL) {
                lmtp_reply(session, "500 5.5.2 Error: NUL byte in command line");
                lmtp_session_error(session);
                return;
        }
        /* Trailing blanks are tolerated (some clients send "DATA "). */
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
                len--;
        while (name_len < len && line[name_len] != ' ' && name_len < sizeof(name) - 1) {
                name[name_len] = line[name_len];
                name_len++;
        }
        name[name_len] = '\0';
        const struct lmtp_command *cmd = NULL;
        if (name_len == len || line[name_len] == ' ')
                cmd = command_find(name);
        if (cmd == NULL) {
                lmtp_reply(session, "500 5.5.2 Error: command not recognized");
                lmtp_session_error(session);
                return;
        }
        /* The line is NUL-terminated at its original end; cut the blanks. */
        const char *args = name_len < len
                ? pool_strndup(session->cmd_pool, line + name_len + 1, len - name_len - 1) : "";
        const char *refusal = command_refusal(session, cmd, args);
        log_debug("session=%s proto=lmtp command=%s", session->conn.id, cmd->name);
        if (refusal != NULL) {
                lmtp_reply(session, "%s", refusal);
                lmtp_session_error(session);
                return;
        }
        cmd->fn(session, args);
}

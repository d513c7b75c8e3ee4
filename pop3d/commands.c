/* commands.c - the POP3 command table and dispatcher (see commands.h).
 *
 * Owns: keyword lookup in one sorted table, the state and argument-count
 * checks made before any handler runs, and the -ERR replies for lines and
 * numbers cmdline.c refuses. Does not: implement a command or split lines.
 */
#include "commands.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"
#include "conf.h"
#include "log.h"
#include "maildrop.h"
#include "pool.h"
#include "session.h"

/* Sorted by name (bsearch). */
static const struct pop3_cmd_def pop3_commands[] = {
        { .name = "APOP", .fn = pop3_cmd_apop, .flags = POP3_CMD_AUTH,
          .min_args = 0, .max_args = POP3_MAX_ARGS },
        { .name = "AUTH", .fn = pop3_cmd_auth, .flags = POP3_CMD_AUTH,
          .min_args = 0, .max_args = 2 },
        { .name = "CAPA", .fn = pop3_cmd_capa, .flags = POP3_CMD_AUTH | POP3_CMD_TRANS },
        { .name = "DELE", .fn = pop3_cmd_dele, .flags = POP3_CMD_TRANS,
          .min_args = 1, .max_args = 1 },
        { .name = "LAST", .fn = pop3_cmd_last, .flags = POP3_CMD_TRANS },
        { .name = "LIST", .fn = pop3_cmd_list, .flags = POP3_CMD_TRANS, .max_args = 1 },
        { .name = "NOOP", .fn = pop3_cmd_noop, .flags = POP3_CMD_TRANS },
        { .name = "PASS", .fn = pop3_cmd_pass, .flags = POP3_CMD_AUTH | POP3_CMD_RAW },
        { .name = "QUIT", .fn = pop3_cmd_quit, .flags = POP3_CMD_AUTH | POP3_CMD_TRANS },
        { .name = "RETR", .fn = pop3_cmd_retr, .flags = POP3_CMD_TRANS,
          .min_args = 1, .max_args = 1 },
        { .name = "RSET", .fn = pop3_cmd_rset, .flags = POP3_CMD_TRANS },
        { .name = "STAT", .fn = pop3_cmd_stat, .flags = POP3_CMD_TRANS },
        { .name = "STLS", .fn = pop3_cmd_stls, .flags = POP3_CMD_AUTH },
        { .name = "TOP", .fn = pop3_cmd_top, .flags = POP3_CMD_TRANS,
          .min_args = 2, .max_args = 2 },
        { .name = "UIDL", .fn = pop3_cmd_uidl, .flags = POP3_CMD_TRANS, .max_args = 1 },
        { .name = "USER", .fn = pop3_cmd_user, .flags = POP3_CMD_AUTH | POP3_CMD_RAW },
        { .name = "UTF8", .fn = pop3_cmd_utf8, .flags = POP3_CMD_AUTH },
};

static int cmd_compare(const void *key, const void *elem)
{
        const struct pop3_cmd_def *def = elem;

        return strcasecmp(key, def->name);
}

static const struct pop3_cmd_def *cmd_find(const char *name)
{
        return bsearch(name, pop3_commands, N_ELEMENTS(pop3_commands),
                       sizeof(pop3_commands[0]), cmd_compare);
}

/* Checks state and arguments; true when the handler may run. */
static bool cmd_check(struct pop3_session *s, const struct pop3_cmd_def *def,
                      struct pop3_cmd *cmd, char *args)
{
        unsigned need = s->state == POP3_STATE_AUTHORIZATION ? POP3_CMD_AUTH : POP3_CMD_TRANS;

        if ((def->flags & need) == 0 ||
            (strcmp(def->name, "LAST") == 0 && !s->daemon->conf->pop3_opts.enable_last)) {
                if (strcmp(def->name, "LAST") == 0 && !s->daemon->conf->pop3_opts.enable_last)
                        pop3_reply_err(s, "Unknown command");
                else if (need == POP3_CMD_AUTH)
                        pop3_reply_err(s, "Not logged in yet: %s is not valid now", def->name);
                else
                        pop3_reply_err(s, "Already logged in: %s is not valid now", def->name);
                return false;
        }
        if ((def->flags & POP3_CMD_RAW) != 0)
                return true;
        if (!pop3_cmdline_args(args, cmd->args, def->max_args, &cmd->argc)) {
                pop3_reply_err(s, "Too many arguments for %s", def->name);
                return false;
        }
        if (cmd->argc < def->min_args) {
                pop3_reply_err(s, "Missing argument for %s", def->name);
                return false;
        }
        return true;
}

void pop3_command_dispatch(struct pop3_session *s, const char *line, size_t len)
{
        struct pop3_cmd *cmd;
        const struct pop3_cmd_def *def = NULL;
        struct pop3_cmdline cl;
        bool nul;

        pool_clear(s->cmd_pool);
        if (pop3_cmdline_split(s->cmd_pool, line, len, &cl, &nul))
                def = cmd_find(cl.keyword);
        if (def == NULL) {
                pop3_reply_err(s, nul ? "NUL in command line" : "Unknown command");
                pop3_session_bad_command(s);
                return;
        }
        cmd = pool_alloc(s->cmd_pool, sizeof(*cmd));
        cmd->session = s;
        cmd->pool = s->cmd_pool;
        cmd->name = def->name;
        cmd->rest = cl.rest;
        cmd->rest_len = cl.rest_len;
        if (!cmd_check(s, def, cmd, cl.rest)) {
                pop3_session_bad_command(s);
                return;
        }
        log_debug("session=%s proto=pop3%s%s cmd=%s", s->conn.id, s->user != NULL ? " user=" : "",
                  s->user != NULL ? s->user : "", def->name);
        def->fn(cmd);
}

bool pop3_cmd_uint_arg(struct pop3_cmd *cmd, unsigned i, uint64_t *value_r)
{
        const char *arg = cmd->args[i];

        if (!pop3_cmdline_uint(arg, value_r)) {
                pop3_reply_err(cmd->session, "Invalid number: %.20s", arg);
                pop3_session_bad_command(cmd->session);
                return false;
        }
        return true;
}

struct pop3_msg *pop3_cmd_msg_arg(struct pop3_cmd *cmd, unsigned i, uint64_t *number_r)
{
        struct pop3_session *s = cmd->session;
        struct pop3_msg *msg;
        uint64_t n;

        if (!pop3_cmd_uint_arg(cmd, i, &n))
                return NULL;
        msg = pop3_maildrop_get(s->maildrop, n);
        if (msg == NULL) {
                pop3_reply_err(s, "No such message");
                return NULL;
        }
        if (msg->deleted) {
                pop3_reply_err(s, "Message %" PRIu64 " already deleted", n);
                return NULL;
        }
        *number_r = n;
        return msg;
}

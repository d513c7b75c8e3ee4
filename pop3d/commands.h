/* commands.h - the POP3 command table, its dispatcher and argument helpers.
 *
 * Owns: splitting a command line into a keyword and arguments, the sorted
 * table of commands with the states each is valid in and its argument count,
 * the checks the dispatcher makes before a handler runs, and message-number
 * parsing. Refuses: executing commands (cmd-*.c) and writing to sockets.
 */
#ifndef COVE_POP3_COMMANDS_H
#define COVE_POP3_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;
struct pop3_session;
struct pop3_msg;

#define POP3_MAX_ARGS 2

/* A parsed command; lives in the session's command pool. */
struct pop3_cmd {
        struct pop3_session *session;
        struct pool *pool;             /* the command pool */
        const char *name;              /* canonical, upper case */
        const char *args[POP3_MAX_ARGS];
        unsigned argc;
        const char *rest;              /* the line after "NAME ", verbatim (PASS) */
        size_t rest_len;
};

enum pop3_cmd_flags {
        POP3_CMD_AUTH = 1 << 0,         /* valid in AUTHORIZATION */
        POP3_CMD_TRANS = 1 << 1,        /* valid in TRANSACTION */
        POP3_CMD_RAW = 1 << 2,          /* takes the rest of the line as is */
};

typedef void pop3_cmd_fn(struct pop3_cmd *cmd);

struct pop3_cmd_def {
        const char *name;
        pop3_cmd_fn *fn;
        unsigned flags;                 /* enum pop3_cmd_flags */
        unsigned min_args, max_args;
};

/* Handles one complete command line (without CRLF; it may hold NULs). */
void pop3_command_dispatch(struct pop3_session *session, const char *line, size_t len);

/* Parses cmd->args[i] as a message number of the snapshot. On failure
   replies -ERR (counting a bad command for syntax errors) and returns NULL.
   allow_deleted: a message marked deleted is returned instead of refused. */
struct pop3_msg *pop3_cmd_msg_arg(struct pop3_cmd *cmd, unsigned i, uint64_t *number_r);

/* Parses a non-negative decimal argument; false (and -ERR) when it is not one. */
bool pop3_cmd_uint_arg(struct pop3_cmd *cmd, unsigned i, uint64_t *value_r);

/* Handlers (one per command; close siblings share a file). */
void pop3_cmd_apop(struct pop3_cmd *cmd);
/* A fresh APOP timestamp "<pid.counter.time@host>" (RFC 1939 section 7) in
   pool, unique per process and session. */
const char *pop3_apop_timestamp(struct pool *pool);
void pop3_cmd_auth(struct pop3_cmd *cmd);
void pop3_cmd_capa(struct pop3_cmd *cmd);
void pop3_cmd_dele(struct pop3_cmd *cmd);
void pop3_cmd_last(struct pop3_cmd *cmd);
void pop3_cmd_list(struct pop3_cmd *cmd);
void pop3_cmd_noop(struct pop3_cmd *cmd);
void pop3_cmd_pass(struct pop3_cmd *cmd);
void pop3_cmd_quit(struct pop3_cmd *cmd);
void pop3_cmd_retr(struct pop3_cmd *cmd);
void pop3_cmd_rset(struct pop3_cmd *cmd);
void pop3_cmd_stat(struct pop3_cmd *cmd);
void pop3_cmd_stls(struct pop3_cmd *cmd);
void pop3_cmd_top(struct pop3_cmd *cmd);
void pop3_cmd_uidl(struct pop3_cmd *cmd);
void pop3_cmd_user(struct pop3_cmd *cmd);
void pop3_cmd_utf8(struct pop3_cmd *cmd);

/* The AUTH exchange's continuation lines (after "+ challenge"). */
void pop3_auth_continue(struct pop3_session *session, const char *line, size_t len);
/* Ends an AUTH exchange or password check in progress (connection closing):
   a check running on the offload thread is cancelled. */
void pop3_auth_abort(struct pop3_session *session);
/* PASS: checks password (len bytes) for the user found by the lookup
   (user_id 0: an unknown user, checked against a dummy hash) on the
   worker's offload thread, reading no command meanwhile, then logs in as
   name or answers the failure. typed: the name as sent, for the log. */
void pop3_auth_check_pass(struct pop3_session *session, uint32_t user_id, const char *name,
                          const char *typed, const char *password_hash,
                          const char *scram_secret, const char *password, size_t len);

#endif

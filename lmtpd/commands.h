/* commands.h - the LMTP command table, its dispatcher and the handlers.
 *
 * Owns which commands exist and the state each needs (checked by the
 * dispatcher, never by a handler). Handlers (cmd-*.c) parse their own
 * arguments with address.h, act, and reply through session.h.
 */
#ifndef LMTP_COMMANDS_H
#define LMTP_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

struct lmtp_session;

/* A handler: args is the text after the command name and one space ("" when
   none), NUL-free, valid until the command ends. */
typedef void lmtp_cmd_fn(struct lmtp_session *session, const char *args);

enum lmtp_cmd_flags {
        LMTP_CMD_NEED_LHLO = 1 << 0,   /* 503 before LHLO */
        LMTP_CMD_NEED_MAIL = 1 << 1,   /* 503 outside a transaction */
        LMTP_CMD_NO_ARGS = 1 << 2,     /* 501 when arguments are given */
        LMTP_CMD_NO_TXN = 1 << 3,      /* 503 inside a transaction (MAIL) */
};

struct lmtp_command {
        const char *name;
        lmtp_cmd_fn *fn;
        unsigned flags;
};

/* Parses one command line (without CRLF; len bytes, may hold NULs), checks
   the command's state flags and runs it. Unknown commands and bad lines get
   500/501/503 and count as errors. */
void lmtp_command_dispatch(struct lmtp_session *session, const char *line, size_t len);

/* Consumes body input in LMTP_STATE_DATA / LMTP_STATE_BDAT (cmd-data.c).
   Returns false when it needs more input or the session is waiting. */
bool lmtp_body_input(struct lmtp_session *session);

/* The client went away or timed out with a message in progress or waiting
   for the flush: drop what it sent, stop waiting (cmd-data.c). */
void lmtp_body_abort(struct lmtp_session *session);

void lmtp_cmd_lhlo(struct lmtp_session *session, const char *args);
void lmtp_cmd_helo(struct lmtp_session *session, const char *args);
void lmtp_cmd_mail(struct lmtp_session *session, const char *args);
void lmtp_cmd_rcpt(struct lmtp_session *session, const char *args);
void lmtp_cmd_data(struct lmtp_session *session, const char *args);
void lmtp_cmd_bdat(struct lmtp_session *session, const char *args);
void lmtp_cmd_rset(struct lmtp_session *session, const char *args);
void lmtp_cmd_noop(struct lmtp_session *session, const char *args);
void lmtp_cmd_vrfy(struct lmtp_session *session, const char *args);
void lmtp_cmd_help(struct lmtp_session *session, const char *args);
void lmtp_cmd_quit(struct lmtp_session *session, const char *args);

#endif

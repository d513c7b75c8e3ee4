/* session.h - one IMAP connection: state, the command loop, the selected view.
 *
 * Owns: the session struct embedding struct conn, the state machine
 * (NOTAUTH, AUTH, SELECTED, LOGOUT; changed only by imap_session_set_state),
 * feeding the tokenizer from the connection (lines, literals, "+" continuation
 * requests, oversize literals refused or discarded), running one command at a
 * time and resuming suspended ones. Refuses: knowing what any command does
 * (commands.c dispatches), writing protocol text itself (reply.c).
 */
#ifndef COVE_IMAP_SESSION_H
#define COVE_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "conn.h"
#include "group-commit.h"
#include "write-batch.h"
#include "log.h"
#include "parser.h"

struct cove_conf;
struct imap_cmd;
struct imap_parser;
struct login_throttle;
struct offload_pool;
struct imap_spool;
struct imap_view;
struct pool;
struct store;
struct store_watch;

enum imap_state {
        IMAP_STATE_NOTAUTH,
        IMAP_STATE_AUTH,
        IMAP_STATE_SELECTED,
        IMAP_STATE_LOGOUT,
};

/* Per worker process: set up by main.c after the fork. */
struct imap_daemon {
        const struct cove_conf *conf;
        struct store *store;
        struct group_commit *commit;   /* one flush for many sessions' commits */
        struct write_batch *batch;     /* one commit for many sessions' writes */
        char delimiter;             /* [imap] hierarchy_delimiter */
        const unsigned char *salt_key;  /* SCRAM fake-salt key */
        size_t salt_key_len;
        struct imap_parser_settings parser_set;
        const char *spool_dir;      /* APPEND temp files */
        struct login_throttle *throttle;
        struct offload_pool *offload;   /* password hashing off the loop */
};

/* What waits for a view sync owed to the write batch (session.c). */
enum imap_sync_deferral {
        DEFERRED_NONE,
        DEFERRED_PUSH,      /* an IDLE push */
        DEFERRED_REPLY,     /* the command's tagged reply */
};

/* Read-only for commands except where noted. */
struct imap_session {
        struct conn conn;           /* first: container_of(conn, ...) */
        struct imap_daemon *daemon;
        enum imap_state state;
        const char *user;           /* authenticated name (session pool), else NULL */
        uint32_t user_id;
        struct imap_view *view;     /* selected mailbox, NULL outside SELECTED */
        bool idling;                /* in IDLE: syncs are pushed as they happen */
        bool utf8_enabled;          /* ENABLE UTF8=ACCEPT */
        unsigned auth_failures;     /* failed LOGIN / AUTHENTICATE attempts */

        /* private to session.c */
        struct imap_parser *parser;
        struct pool *cmd_pool;
        struct imap_cmd *cmd;       /* the command running, NULL between commands */
        struct store_watch *watch;  /* change notification for the user */
        ev_io watch_io;
        bool watch_fired;           /* a commit happened since the last sync */
        bool flush_pending;         /* the command committed without a flush */
        bool flush_for_write;       /* ...and waits for it (a failure is its NO) */
        bool claim_pending;         /* view.c: a \Recent claim was nested in the
                                       running write batch; what tells the client
                                       waits for the batch's commit */
        struct group_commit_waiter flush_waiter;   /* ...and waits for one */
        struct write_batch_entry batch_entry;      /* a write command waiting to run,
                                                      or a deferred sync */
        enum imap_sync_deferral sync_deferred;   /* a sync waits for the batch */
        bool literal_discarding;    /* reading an oversize non-sync literal into nothing */
        bool command_failed;        /* the current command is being skipped */
        const char *fail_reply;     /* ...and this tagged reply ends it */
        struct imap_spool *spool;   /* APPEND literal being received */
        bool parsing;               /* a command's lines are being read */
        bool skip_after_error;      /* a bad command's literal/lines are being dropped */
        bool starttls_after_reply;  /* STARTTLS: begin the handshake after the OK */
        bool shutdown_requested;    /* graceful stop: BYE when the command ends */
        unsigned long commands;
};

static inline struct imap_session *imap_session_from_conn(struct conn *conn)
{
        return container_of(conn, struct imap_session, conn);
}

/* The only way to change state; asserts the transition is legal (NOTAUTH ->
   AUTH | LOGOUT, AUTH -> SELECTED | LOGOUT, SELECTED -> AUTH | SELECTED |
   LOGOUT) and logs it at debug level. Leaving SELECTED closes the view. */
void imap_session_set_state(struct imap_session *session, enum imap_state state);

/* Marks the session authenticated as user (copied): state AUTH, log line. */
void imap_session_login(struct imap_session *session, const char *user, uint32_t user_id);

/* Starts / stops the change-notification watch of the logged-in user (the
   fd joins the loop; the session syncs when it fires). */
int imap_session_watch_start(struct imap_session *session);
void imap_session_watch_stop(struct imap_session *session);

/* The connection callbacks (main.c puts them in conn_settings). */
extern const struct conn_vfuncs imap_session_vfuncs;

#endif

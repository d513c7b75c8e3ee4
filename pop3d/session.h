/* session.h - one POP3 session and the per-process daemon state.
 *
 * Owns: the session struct (embedding struct conn first), the RFC 1939 state
 * machine (AUTHORIZATION, TRANSACTION, UPDATE), the input loop, reply
 * helpers, the delayed answer after a failed login, long replies driven as
 * producer jobs, and login completion (maildrop lock + snapshot). Refuses:
 * parsing command arguments (commands.c) and touching message bytes
 * (maildrop.c, cmd-retr.c).
 */
#ifndef COVE_POP3_SESSION_H
#define COVE_POP3_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "conn.h"
#include "store.h"

struct cove_conf;
struct login_throttle;
struct offload_pool;
struct pop3_auth_check;
struct pop3_maildrop;
struct pop3_size_cache;
struct pop3_session;

/* Slots of the per-worker table of last login times (direct-mapped by user
   id: a collision forgets the older user, allowing an early login at worst). */
#define POP3_LOGIN_TIMES 4096
struct pop3_login_time {
        uint32_t user_id;
        double when;                         /* ev_now() of the login */
};

/* Per worker process: created by the worker init hook, freed by deinit. */
struct pop3_daemon {
        const struct cove_conf *conf;
        struct pool *pool;                   /* process lifetime (start-up errors) */
        struct store *store;                 /* opened after fork */
        const unsigned char *salt_key;       /* SCRAM fake-salt key (login.h), in pool */
        size_t salt_key_len;
        struct login_throttle *throttle;     /* failed logins per client address */
        struct offload_pool *offload;        /* password hashing off the loop */
        struct pop3_size_cache *sizes;       /* message gid -> POP3 size */
        struct pop3_login_time *login_times; /* [pop3] login_delay: last login per
                                                user, POP3_LOGIN_TIMES slots */
};

enum pop3_state {
        POP3_STATE_AUTHORIZATION = 0,
        POP3_STATE_TRANSACTION,
        POP3_STATE_UPDATE,
};

/* A long reply in progress (RETR body, LIST/UIDL listing, size computation).
   Called from the connection's producer until it returns CONN_PRODUCE_DONE;
   it may replace itself with pop3_session_job() and return MORE. */
typedef enum conn_produce pop3_job_fn(struct pop3_session *session, void *context);
/* Releases what a job holds (an open stream) when the connection closes
   before the job finished. */
typedef void pop3_job_cleanup_fn(void *context);

struct pop3_session {
        struct conn conn;                    /* first: container_of */
        struct pop3_daemon *daemon;
        enum pop3_state state;
        struct pool *cmd_pool;               /* cleared before each command */

        /* AUTHORIZATION */
        const char *user_arg;                /* USER name, in the session pool */
        const char *apop_stamp;              /* greeting's APOP timestamp, or NULL */
        struct pool *auth_pool;              /* an AUTH exchange in progress, or NULL */
        struct sasl_server *sasl;
        struct login_sasl *login_sasl;
        unsigned auth_failures;
        struct pop3_auth_check *check;       /* password being checked (in auth_pool;
                                                no command is read meanwhile) */
        ev_timer delay_timer;                /* delayed failure reply */
        const char *delayed_reply;
        bool delaying;

        /* TRANSACTION */
        const char *user;                    /* canonical name once logged in */
        uint32_t user_id;
        struct store_lock *lock;             /* the maildrop lock */
        struct pop3_maildrop *maildrop;      /* the snapshot */

        pop3_job_fn *job;
        pop3_job_cleanup_fn *job_cleanup;
        void *job_ctx;

        unsigned bad_commands;
        bool utf8;                           /* UTF8 command given (RFC 6856) */
        bool shutdown_pending;               /* close after the current reply */
};

/* Moves the session to `state`; asserts the transition is legal (AUTH ->
   TRANSACTION -> UPDATE) and logs it at debug level. */
void pop3_session_set_state(struct pop3_session *session, enum pop3_state state);

/* Replies. The text must not contain CR or LF. */
void pop3_reply_ok(struct pop3_session *session, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void pop3_reply_err(struct pop3_session *session, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* -ERR for a store failure: INUSE -> [IN-USE], TEMP -> [SYS/TEMP], others ->
   [SYS/PERM] "Internal error [session id]" with the detail logged. */
void pop3_reply_store_err(struct pop3_session *session, enum cove_store_err err,
                          const char *what);

/* Counts a bad command (unknown, wrong state, bad arguments); a session that
   reaches the abuse limit is told so and disconnected. */
void pop3_session_bad_command(struct pop3_session *session);

/* True when plaintext mechanisms (USER/PASS, AUTH PLAIN/LOGIN) are allowed on
   this connection: TLS, loopback, or [server] allow_plaintext_auth. */
bool pop3_session_plaintext_ok(const struct pop3_session *session);

/* Runs job as the connection's producer (replaces the current job; called
   from inside a job, that job must then return CONN_PRODUCE_MORE). cleanup
   (may be NULL) runs if the connection closes before the job is done. */
void pop3_session_job(struct pop3_session *session, pop3_job_fn *job,
                      pop3_job_cleanup_fn *cleanup, void *context);

/* A failed login: records it with the throttle and sends `reply` (a full
   "-ERR ..." line without CRLF) after the throttle's delay, during which no
   further command is read. Disconnects after too many failures. */
void pop3_session_auth_failed(struct pop3_session *session, const char *reply);

/* Completes a successful authentication of user_id/name by `method`: takes
   the maildrop lock and the snapshot, then enters TRANSACTION and replies
   +OK. On INUSE or a store failure replies -ERR and stays in AUTHORIZATION. */
void pop3_session_login(struct pop3_session *session, uint32_t user_id, const char *name,
                        const char *method);

/* The vfuncs cove-pop3d gives the connection framework. */
extern const struct conn_vfuncs pop3_session_vfuncs;

#endif

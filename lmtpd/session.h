/* session.h - one LMTP connection: its state, mail transaction and replies,
 * and the per-worker server state the sessions share.
 *
 * Owns the session lifecycle (greeting, input dispatch in every state, the
 * DATA and BDAT streams, timeouts, shutdown, close) and the mapping of store
 * codes to LMTP replies. Command syntax and semantics live in cmd-*.c; the
 * shared flush in storage/group-commit.c; delivery itself in storage/deliver.c.
 */
#ifndef LMTP_SESSION_H
#define LMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "group-commit.h"
#include "write-batch.h"
#include "conn.h"
#include "data.h"
#include "deliver.h"
#include "spool.h"

struct cove_conf;
struct store;

/* Per worker process: created by the worker init hook. */
struct lmtp_server {
        struct pool *pool;           /* the daemon's; outlives every worker */
        const struct cove_conf *conf;
        struct store *store;
        struct group_commit *commit;
        struct write_batch *batch;   /* one commit for many sessions' deliveries */
        struct store_rcpt_rules rules;
        const char *hostname;        /* for the greeting and LHLO */
        uint64_t max_size;           /* [limits] max_message_size */
        const char *spool_dir;       /* [lmtp] spool_dir, or <state_dir>/spool */
        size_t spool_memory;         /* [lmtp] spool_memory: bigger goes to a file */
};

/* RFC 2033 §4: LHLO, then transactions of MAIL, RCPT..., DATA or BDAT. */
enum lmtp_state {
        LMTP_STATE_GREETED,     /* waiting for LHLO */
        LMTP_STATE_READY,       /* no transaction */
        LMTP_STATE_MAIL,        /* MAIL accepted, RCPTs may follow */
        LMTP_STATE_DATA,        /* reading the DATA stream */
        LMTP_STATE_BDAT,        /* reading a BDAT chunk */
        LMTP_STATE_COMMIT,      /* delivered, waiting for the shared flush */
};

enum lmtp_body {
        LMTP_BODY_7BIT,
        LMTP_BODY_8BITMIME,
        LMTP_BODY_BINARYMIME,
};

struct lmtp_rcpt {
        struct store_rcpt rcpt;          /* resolved at RCPT time */
};

struct lmtp_session {
        struct conn conn;                /* first: the framework's part */
        struct lmtp_server *server;
        enum lmtp_state state;
        struct pool *cmd_pool;           /* cleared after every command */
        struct pool *txn_pool;           /* cleared when a transaction ends */
        unsigned errors;                 /* bad commands so far */

        /* The mail transaction (txn_pool). */
        const char *sender;              /* reverse-path, "" for <> */
        uint64_t size_hint;              /* MAIL SIZE=, 0 if none */
        enum lmtp_body body;
        struct lmtp_rcpt *rcpts;
        size_t rcpt_count, rcpt_cap;

        /* The message. */
        struct lmtp_spool spool;         /* bounded by max_size; reset per txn */
        struct lmtp_data data;           /* DATA stream state */
        uint64_t bdat_left;              /* bytes of the current chunk to come */
        bool bdat_last, bdat_failed;     /* LAST given; the transaction failed */
        bool chunking;                   /* BDAT began this transaction's body */

        /* Delivery results, waiting for the flush (txn_pool). */
        struct store_deliver_rcpt *results;
        struct group_commit_waiter waiter;
        struct write_batch_entry batch_entry;   /* a message waiting for the batch */
        uint64_t message_size;
        bool shutdown_requested;
};

/* Writes one reply line; CRLF is added. */
void lmtp_reply(struct lmtp_session *session, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The reply for a recipient refused or failed with err (RCPT and after
   DATA): 550 5.1.1, 552 5.2.2 / 452 4.2.2, 451 4.3.0, ... */
void lmtp_reply_store_err(struct lmtp_session *session, enum cove_store_err err,
                          const char *address);

/* Counts a bad command; after too many the session says 421 and closes.
   Returns true when it closed. */
bool lmtp_session_error(struct lmtp_session *session);

/* Ends the mail transaction (RSET, LHLO, after the replies to DATA): forgets
   sender, recipients and the spooled message. */
void lmtp_session_reset(struct lmtp_session *session);

/* Changes state, logging at debug level. */
void lmtp_session_set_state(struct lmtp_session *session, enum lmtp_state state);

/* The framework callbacks (main.c installs them). */
extern const struct conn_vfuncs lmtp_session_vfuncs;

#endif

/* worker.h - a daemon's processes: the master and its libev worker processes.
 *
 * Owns: TLS context loading, the privilege drop after binding, forking and
 * supervising N workers (restart with back-off), signals (SIGTERM/SIGINT
 * graceful stop, SIGHUP TLS reload, SIGPIPE ignored), and in each worker the
 * loop, accept watchers, the spare fd for EMFILE and the per-IP limit.
 * Does not: bind sockets (listen.h), or know any protocol (conn_vfuncs do).
 */
#ifndef COVE_WORKER_H
#define COVE_WORKER_H

#include <stdbool.h>

#include "conn.h"

struct listen_set;
struct worker;

/* Exit status of a worker whose init hook failed: the master stops instead of
   restarting it (a configuration problem will not fix itself). */
#define WORKER_EXIT_CONFIG 78

struct worker_settings {
        const char *name;          /* "imap", for log lines */
        const char *user;          /* [server] user; NULL keeps the starting user */
        unsigned workers;          /* 0 = number of online CPUs */
        bool single_process;       /* no master and no fork (tests, debugging) */
        unsigned max_connections_per_ip;  /* 0 = unlimited; counted per worker */
        const char *limit_reply;   /* sent to plaintext connections over that limit
                                      ("* BYE Too many connections\r\n"), or NULL */
        unsigned shutdown_secs;    /* graceful stop deadline; default 30 */
        const char *tls_cert;      /* NULL: no TLS (tls listeners are then an error) */
        const char *tls_key;
        const char *tls_min_version;
        struct conn_settings conn; /* vfuncs, limits, timeouts, session size */
        /* Runs in each worker after the fork (and after the privilege drop),
           before accepting: open the store, etc. May store per-process state
           in context. -1 + *error_r stops the daemon (WORKER_EXIT_CONFIG). */
        int (*init)(struct worker *worker, void *context, const char **error_r);
        /* Runs in each worker after every connection is closed (only when
           init succeeded). */
        void (*deinit)(struct worker *worker, void *context);
        void *context;
};

/* Runs the daemon until it is stopped. Loads the TLS context (as the
   starting user), drops privileges to set->user, then either runs one worker
   in this process (single_process) or forks the workers and supervises them.
   Listeners stay open; the caller closes them afterwards. Returns 0 after a
   graceful stop, or -1 with *error_r (allocated from listeners->pool, one
   line naming the file or user) when start-up fails. Worker processes never
   return from this call. */
int worker_run(const struct worker_settings *set, struct listen_set *listeners,
               const char **error_r);

/* Accessors for hooks running inside a worker. */
struct ev_loop *worker_loop(const struct worker *worker);
struct conn_mgr *worker_conn_mgr(const struct worker *worker);
unsigned worker_index(const struct worker *worker);   /* 0 .. workers-1 */
bool worker_is_stopping(const struct worker *worker);

#endif

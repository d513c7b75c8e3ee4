/* daemon.h - the start-up every cove-*d shares.
 *
 * Owns: the command line (-c CONF, -F, -d, -h), loading the config, starting
 * the log with [server] log_level, binding a protocol section's listen and
 * listen_tls addresses, filling struct worker_settings from the config,
 * detaching from the terminal without -F, and one-line fatal errors.
 * Knows no protocol and no store: the daemon supplies its conn_vfuncs, session
 * size and worker hooks.
 */
#ifndef COVE_DAEMON_H
#define COVE_DAEMON_H

#include <stdbool.h>

#include "conf.h"
#include "worker.h"

struct pool;

/* Exit status for command-line errors (sysexits EX_USAGE). */
#define DAEMON_EXIT_USAGE 64
/* Exit status for start-up failures (config, bind, TLS): sysexits EX_CONFIG. */
#define DAEMON_EXIT_CONFIG 78

struct daemon {
        struct pool *pool;              /* lives until daemon_destroy() */
        const char *ident;              /* "cove-pop3d" */
        const char *conf_path;          /* -c, else $COVE_CONF, else CONF_DEFAULT_PATH */
        const struct cove_conf *conf;   /* loaded; in pool */
        bool foreground;                /* -F (or -d): stay attached, log to stderr */
        bool single_process;            /* -d: no master, one worker in this process */
};

/* Parses the command line of a daemon named ident ("cove-pop3d"):
     -c CONF   config file       -F   foreground, log to stderr
     -d        debug: foreground, one process, log level debug
     -h        usage on stdout, exit 0
   then loads the config and starts logging at [server] log_level. Usage
   errors exit DAEMON_EXIT_USAGE with the usage on stderr; a config error
   exits DAEMON_EXIT_CONFIG with one line "FILE:LINE: [section] key: reason".
   Returns the daemon handle (never NULL); free it with daemon_destroy(). */
struct daemon *daemon_start(const char *ident, int argc, char **argv);

/* Fills *set_r from the config for the protocol whose section is `section`
   ("pop3") and whose settings are proto: name, [server] user, workers,
   max_connections_per_ip, [tls] files, single_process from -d, and
   conn.max_line / conn.timeout_secs from proto. Everything else is zero: the
   caller sets vfuncs, session_size, limit_reply, init/deinit and context. */
void daemon_worker_settings(const struct daemon *daemon, const char *section,
                            const struct conf_proto *proto,
                            struct worker_settings *set_r);

/* Binds proto's listen (plain) and listen_tls (implicit TLS) addresses,
   detaches from the terminal unless foreground, and runs worker_run() until a
   graceful stop. Returns 0 then. Any start-up failure (no address configured,
   bind, TLS files, privilege drop, a worker init hook failing) is logged as
   one line and the process exits DAEMON_EXIT_CONFIG. Worker processes never
   return from this call. */
int daemon_run(struct daemon *daemon, const char *section, const struct conf_proto *proto,
               const struct worker_settings *set);

/* Frees the handle (and the config with it); *daemonp is NULL afterwards. */
void daemon_destroy(struct daemon **daemonp);

#endif

/* main.c - cove-pop3d's entry point: start-up through core/daemon.c, and
 * the per-worker state (store handle, login throttle, size cache, the
 * offload thread that hashes passwords).
 *
 * Owns: the worker init/deinit hooks and the connection settings POP3 needs.
 * Does not: parse options or bind sockets (core/daemon.c), or handle
 * sessions (session.c).
 */
#include <stdlib.h>

#include "daemon.h"
#include "log.h"
#include "login.h"
#include "maildrop.h"
#include "offload.h"
#include "pool.h"
#include "session.h"
#include "store.h"
#include "worker.h"

static int pop3_worker_init(struct worker *worker, void *context, const char **error_r)
{
        struct pop3_daemon *d = context;

        if (store_open(d->conf, false, d->pool, &d->store, error_r) < 0)
                return -1;
        if (login_fake_salt_key(d->pool, d->conf, &d->salt_key, &d->salt_key_len,
                                error_r) < 0) {
                store_close(&d->store);
                return -1;
        }
        if (d->salt_key == NULL)
                log_warn("no [server] state_dir: SCRAM fake salts use no installation "
                         "secret");
        if (offload_pool_create(worker_loop(worker), 1, &d->offload, error_r) < 0) {
                store_close(&d->store);
                return -1;
        }
        d->throttle = login_throttle_create(0);
        d->sizes = pop3_size_cache_create(0);
        if (d->conf->pop3_opts.login_delay_secs > 0)
                d->login_times = xcalloc(POP3_LOGIN_TIMES, sizeof(*d->login_times));
        return 0;
}

static void pop3_worker_deinit(struct worker *worker, void *context)
{
        struct pop3_daemon *d = context;

        (void)worker;
        free(d->login_times);
        d->login_times = NULL;
        pop3_size_cache_destroy(&d->sizes);
        login_throttle_destroy(&d->throttle);
        offload_pool_destroy(&d->offload);
        store_close(&d->store);
}

int main(int argc, char **argv)
{
        struct daemon *daemon = daemon_start("cove-pop3d", argc, argv);
        struct pop3_daemon pop3 = {
                .conf = daemon->conf,
                .pool = daemon->pool,
        };
        struct worker_settings set;

        daemon_worker_settings(daemon, "pop3", &daemon->conf->pop3, &set);
        set.limit_reply = "-ERR [SYS/TEMP] Too many connections from your address\r\n";
        set.conn.session_size = sizeof(struct pop3_session);
        set.conn.vfuncs = &pop3_session_vfuncs;
        set.conn.context = &pop3;
        set.init = pop3_worker_init;
        set.deinit = pop3_worker_deinit;
        set.context = &pop3;
        daemon_run(daemon, "pop3", &daemon->conf->pop3, &set);
        daemon_destroy(&daemon);
        return 0;
}

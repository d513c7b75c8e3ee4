/* main.c - cove-lmtpd: start-up and the per-worker server state.
 *
 * Owns opening the store in each worker, the addressing rules taken from the
 * config, the group-commit queue, the spool directory and the greeting's
 * host name. Start-up
 * itself (command line, config, listeners, workers) is core/daemon.c's.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "group-commit.h"
#include "conf.h"
#include "daemon.h"
#include "deliver.h"
#include "log.h"
#include "pool.h"
#include "session.h"
#include "store.h"

static int lmtp_worker_init(struct worker *worker, void *context, const char **error_r)
{
        struct lmtp_server *server = context;
        const char *error;
        /* After the privilege drop: the directory belongs to the user that
           writes the spool files. */
        if (lmtp_spool_dir_check(server->spool_dir, &error) < 0) {
                *error_r = pool_printf(server->pool, "[lmtp] spool_dir %s: %s: %s",
                                       server->spool_dir, error, strerror(errno));
                return -1;
        }
        struct pool *error_pool = pool_create("lmtp init", 1024);
        if (store_open(server->conf, false, error_pool, &server->store, error_r) < 0) {
                /* The message must outlive error_pool: the worker logs it. */
                *error_r = pool_strdup(server->pool, *error_r);
                pool_destroy(&error_pool);
                return -1;
        }
        pool_destroy(&error_pool);
        if (group_commit_create(worker_loop(worker), server->store, "lmtp",
                                group_commit_mode_for(server->conf->store.flush),
                                &server->commit, error_r) < 0) {
                store_close(&server->store);
                return -1;
        }
        if (write_batch_create(worker_loop(worker), server->store, "lmtp", server->commit,
                               &server->batch, error_r) < 0) {
                group_commit_destroy(&server->commit);
                store_close(&server->store);
                return -1;
        }
        return 0;
}

static void lmtp_worker_deinit(struct worker *worker, void *context)
{
        struct lmtp_server *server = context;
        write_batch_destroy(&server->batch);
        group_commit_destroy(&server->commit);
        store_close(&server->store);
}

static const char *server_hostname(struct pool *pool)
{
        char name[HOST_NAME_MAX + 1];
        if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
                return "localhost";
        name[sizeof(name) - 1] = '\0';
        return pool_strdup(pool, name);
}

/* [lmtp] spool_dir, else <state_dir>/spool; NULL when neither is known. */
static const char *server_spool_dir(struct pool *pool, const struct cove_conf *conf)
{
        if (conf->lmtp_delivery.spool_dir != NULL)
                return conf->lmtp_delivery.spool_dir;
        if (conf->server.state_dir == NULL)
                return NULL;
        return pool_printf(pool, "%s/spool", conf->server.state_dir);
}

int main(int argc, char **argv)
{
        struct daemon *daemon = daemon_start("cove-lmtpd", argc, argv);
        const struct cove_conf *conf = daemon->conf;
        struct lmtp_server server = {
                .pool = daemon->pool,
                .conf = conf,
                .hostname = server_hostname(daemon->pool),
                .max_size = conf->limits.max_message_size,
                .spool_dir = server_spool_dir(daemon->pool, conf),
                .spool_memory = conf->lmtp_delivery.spool_memory,
        };
        if (server.spool_dir == NULL)
                log_fatal("%s: [lmtp] spool_dir: not set and no [server] state_dir "
                          "to put it in", daemon->conf_path);
        store_rcpt_rules_init(&server.rules, conf);
        struct worker_settings set;
        daemon_worker_settings(daemon, "lmtp", &conf->lmtp, &set);
        set.limit_reply = "421 4.7.0 Too many connections from your address\r\n";
        set.conn.session_size = sizeof(struct lmtp_session);
        set.conn.vfuncs = &lmtp_session_vfuncs;
        set.conn.context = &server;
        set.init = lmtp_worker_init;
        set.deinit = lmtp_worker_deinit;
        set.context = &server;
        int ret = daemon_run(daemon, "lmtp", &conf->lmtp, &set);
        daemon_destroy(&daemon);
        return ret == 0 ? 0 : 1;
}

/* main.c - cove-imapd: start-up and the per-worker store.
 *
 * Owns: filling struct imap_daemon from the config (delimiter, literal
 * limits, spool directory), opening the store, its group-commit queue and
 * the offload thread that hashes passwords in each worker after the fork,
 * and handing the session callbacks to the shared daemon start-up. Does not:
 * parse options or bind sockets (core/daemon.c) or speak IMAP (session.c).
 */
#include <stdlib.h>

#include "conf.h"
#include "daemon.h"
#include "group-commit.h"
#include "log.h"
#include "login.h"
#include "offload.h"
#include "pool.h"
#include "session.h"
#include "store.h"
#include "worker.h"

static int imapd_worker_init(struct worker *worker, void *context, const char **error_r)
{
        struct imap_daemon *d = context;
        static struct pool *error_pool;
        if (error_pool == NULL)
                error_pool = pool_create("imapd init errors", 1024);
        if (store_open(d->conf, false, error_pool, &d->store, error_r) < 0)
                return -1;
        /* The key lives as long as the process (error_pool is never freed). */
        if (login_fake_salt_key(error_pool, d->conf, &d->salt_key, &d->salt_key_len,
                                error_r) < 0) {
                store_close(&d->store);
                return -1;
        }
        if (group_commit_create(worker_loop(worker), d->store, "imap",
                                group_commit_mode_for(d->conf->store.flush), &d->commit,
                                error_r) < 0) {
                store_close(&d->store);
                return -1;
        }
        if (offload_pool_create(worker_loop(worker), 1, &d->offload, error_r) < 0) {
                group_commit_destroy(&d->commit);
                store_close(&d->store);
                return -1;
        }
        if (write_batch_create(worker_loop(worker), d->store, "imap", d->commit, &d->batch,
                               error_r) < 0) {
                offload_pool_destroy(&d->offload);
                group_commit_destroy(&d->commit);
                store_close(&d->store);
                return -1;
        }
        if (d->salt_key == NULL)
                log_warn("no [server] state_dir: SCRAM fake salts use no installation "
                         "secret");
        d->throttle = login_throttle_create(0);
        return 0;
}

static void imapd_worker_deinit(struct worker *worker, void *context)
{
        struct imap_daemon *d = context;
        login_throttle_destroy(&d->throttle);
        offload_pool_destroy(&d->offload);
        write_batch_destroy(&d->batch);
        group_commit_destroy(&d->commit);
        store_close(&d->store);
}

static void imapd_daemon_fill(struct imap_daemon *d, const struct cove_conf *conf)
{
        d->conf = conf;
        d->delimiter = conf->imap_ext.hierarchy_delimiter[0];
        d->parser_set = (struct imap_parser_settings){
                /* Literals outside APPEND are names, strings and search keys. */
                .max_literal = conf->imap.max_line,
                .max_spool_literal = conf->limits.max_message_size < conf->limits.max_literal ?
                                     conf->limits.max_message_size : conf->limits.max_literal,
                .max_command = 4 * conf->imap.max_line,
        };
        const char *tmp = getenv("TMPDIR");
        d->spool_dir = tmp != NULL && *tmp == '/' ? tmp : "/tmp";
}

int main(int argc, char **argv)
{
        static struct imap_daemon imapd;
        struct daemon *daemon = daemon_start("cove-imapd", argc, argv);
        imapd_daemon_fill(&imapd, daemon->conf);
        struct worker_settings set;
        daemon_worker_settings(daemon, "imap", &daemon->conf->imap, &set);
        set.limit_reply = "* BYE Too many connections from your address\r\n";
        set.conn.session_size = sizeof(struct imap_session);
        set.conn.vfuncs = &imap_session_vfuncs;
        set.conn.context = &imapd;
        set.init = imapd_worker_init;
        set.deinit = imapd_worker_deinit;
        set.context = &imapd;
        int ret = daemon_run(daemon, "imap", &daemon->conf->imap, &set);
        daemon_destroy(&daemon);
        return ret == 0 ? 0 : 1;
}

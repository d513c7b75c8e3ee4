/* store.c - the facade's handle: loading and opening the engine, error detail,
 * transactions (touched users, expunge guards, publish after commit), the
 * maildrop lock, change watches and statistics.
 *
 * Owns the choice between engine and host-local locks/notification. Names,
 * users and mailboxes live in store-names.c and store-mailbox.c, messages in
 * store-msg.c, delivery in deliver.c. Speaks no protocol.
 */
#include "store-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "loader.h"
#include "lock.h"
#include "log.h"
#include "notify.h"
#include "pool.h"

#ifndef COVE_PLUGIN_INSTALL_DIR
#define COVE_PLUGIN_INSTALL_DIR "/usr/lib/cove/plugins"
#endif

/* ---- errors ---- */

static const char *conf_file_name(const struct cove_conf *conf)
{
        return conf->path != NULL ? conf->path : "(config)";
}

/* "FILE:LINE: [section] key" or "FILE: [section] key" when line is 0. */
static const char *conf_where(struct pool *pool, const struct cove_conf *conf,
                              const char *section, const char *key, unsigned line)
{
        if (line > 0)
                return pool_printf(pool, "%s:%u: [%s] %s", conf_file_name(conf), line,
                                   section, key);
        return pool_printf(pool, "%s: [%s] %s", conf_file_name(conf), section, key);
}

/* Maps an engine's open() error. "KEY: reason" names an option: point at its
   line. Anything else is about the engine as a whole. */
static const char *open_error(struct pool *pool, const struct cove_conf *conf,
                              const char *engine, enum cove_store_err err, const char *detail)
{
        if (detail == NULL || *detail == '\0')
                detail = cove_store_strerror(err);
        size_t klen = strspn(detail, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_-.");
        if (klen > 0 && strncmp(detail + klen, ": ", 2) == 0) {
                const char *key = pool_strndup(pool, detail, klen);
                unsigned line = 0;
                for (size_t i = 0; i < conf->store.option_count; i++) {
                        if (strcmp(conf->store.options[i].key, key) == 0)
                                line = conf->store.options[i].line;
                }
                return pool_printf(pool, "%s: %s", conf_where(pool, conf, "store", key, line),
                                   detail + klen + 2);
        }
        return pool_printf(pool, "%s: %s: %s",
                           conf_where(pool, conf, "store", "engine", conf->store.engine_line),
                           engine, detail);
}

enum cove_store_err store_fail(struct store *store, enum cove_store_err err,
                               const char *fmt, ...)
{
        char *text = NULL;
        va_list ap;
        va_start(ap, fmt);
        /* Formatted outside err_pool: the arguments may live in it. */
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        pool_clear(store->err_pool);
        store->last_error = pool_strdup(store->err_pool, text != NULL ? text : "out of memory");
        free(text);
        if (log_trace_enabled(LOG_TRACE_STORE))
                log_debug("store: %s (%s)", store->last_error, cove_store_strerror(err));
        return err;
}

enum cove_store_err store_engine_fail(struct store *store, enum cove_store_err err,
                                      const char *what)
{
        const char *detail = store->ops->last_error(store->engine);
        if (detail == NULL || *detail == '\0')
                return store_fail(store, err, "%s: %s", what, cove_store_strerror(err));
        return store_fail(store, err, "%s: %s: %s", what, cove_store_strerror(err), detail);
}

const char *store_last_error(struct store *store)
{
        return store->last_error;
}

/* ---- open / close ---- */

/* Decides the state directory (locks, notify FIFOs): [server] state_dir,
   else <[store] path>/state; NULL when neither is set. */
static const char *state_dir_choose(struct pool *pool, const struct cove_conf *conf)
{
        if (conf->server.state_dir != NULL && conf->server.state_dir[0] != '\0')
                return pool_strdup(pool, conf->server.state_dir);
        if (conf->store.path != NULL && conf->store.path[0] != '\0')
                return pool_printf(pool, "%s/state", conf->store.path);
        return NULL;
}

static int state_dir_init(struct store *store, const struct cove_conf *conf,
                          struct pool *error_pool, const char **error_r)
{
        const char *where = conf->server.state_dir != NULL && conf->server.state_dir[0] != '\0'
                ? conf_where(error_pool, conf, "server", "state_dir", 0)
                : conf_where(error_pool, conf, "store", "path", 0);
        const char *error = NULL;
        if (mkdir(store->state_dir, 0700) < 0 && errno != EEXIST)
                error = pool_printf(error_pool, "mkdir %s: %s", store->state_dir, strerror(errno));
        if (error == NULL && store->local_locks)
                (void)lock_dir_init(store->state_dir, error_pool, &error);
        if (error == NULL && store->local_notify)
                (void)notify_dir_init(store->state_dir, error_pool, &error);
        if (error == NULL)
                return 0;
        *error_r = pool_printf(error_pool, "%s: %s", where, error);
        return -1;
}

static struct cove_store_conf *engine_conf(struct store *store, const struct cove_conf *conf,
                                           bool create)
{
        struct cove_store_conf *sc = pool_alloc(store->pool, sizeof(*sc));
        struct cove_store_option *opts =
                pool_alloc(store->pool, (conf->store.option_count + 1) * sizeof(*opts));
        for (size_t i = 0; i < conf->store.option_count; i++) {
                opts[i].key = pool_strdup(store->pool, conf->store.options[i].key);
                opts[i].value = pool_strdup(store->pool, conf->store.options[i].value);
        }
        *sc = (struct cove_store_conf){
                .conf_file = store->conf_file,
                .options = opts,
                .option_count = conf->store.option_count,
                .state_dir = store->state_dir,
                .create = create,
        };
        return sc;
}

static int store_open_engine(struct store *store, const struct cove_conf *conf, bool create,
                             struct pool *error_pool, const char **error_r)
{
        const char *where = conf_where(error_pool, conf, "store", "engine",
                                       conf->store.engine_line);
        const char *dir = conf->store.plugin_dir != NULL ? conf->store.plugin_dir
                                                         : COVE_PLUGIN_INSTALL_DIR;
        if (loader_load(dir, conf->store.engine, where, error_pool, &store->plugin, error_r) < 0)
                return -1;
        store->ops = loader_ops(store->plugin);
        store->local_locks = store->ops->lock_maildrop == NULL;
        store->local_notify = store->ops->notify_publish == NULL;
        store->state_dir = state_dir_choose(store->pool, conf);
        if (store->state_dir == NULL && (store->local_locks || store->local_notify)) {
                *error_r = pool_printf(error_pool, "%s: required: engine '%s' has no locks or "
                                       "notification of its own and [store] path is not set",
                                       conf_where(error_pool, conf, "server", "state_dir", 0),
                                       conf->store.engine);
                return -1;
        }
        const char *detail = NULL;
        enum cove_store_err err = store->ops->open(store_host(), engine_conf(store, conf, create),
                                                   &store->engine, &detail);
        if (err != COVE_STORE_OK) {
                store->engine = NULL;
                *error_r = open_error(error_pool, conf, conf->store.engine, err, detail);
                return -1;
        }
        if (store->state_dir != NULL && state_dir_init(store, conf, error_pool, error_r) < 0)
                return -1;
        return 0;
}

int store_open(const struct cove_conf *conf, bool create, struct pool *error_pool,
               struct store **store_r, const char **error_r)
{
        *store_r = NULL;
        if (conf->store.engine == NULL || conf->store.engine[0] == '\0') {
                *error_r = pool_printf(error_pool, "%s: required",
                                       conf_where(error_pool, conf, "store", "engine", 0));
                return -1;
        }
        struct pool *pool = pool_create("store", 4096);
        struct store *store = pool_alloc(pool, sizeof(*store));
        store->pool = pool;
        store->err_pool = pool_create("store errors", 512);
        store->scratch = pool_create("store scratch", 1024);
        store->last_error = "no error";
        store->conf_file = pool_strdup(pool, conf_file_name(conf));
        if (store_open_engine(store, conf, create, error_pool, error_r) < 0) {
                store_close(&store);
                return -1;
        }
        *store_r = store;
        return 0;
}

void store_close(struct store **storep)
{
        struct store *store = *storep;
        if (store == NULL)
                return;
        *storep = NULL;
        if (store->engine != NULL)
                store->ops->close(&store->engine);
        loader_unload(&store->plugin);
        pool_destroy(&store->err_pool);
        pool_destroy(&store->scratch);
        /* The handle lives in its own pool: destroy through a copy. */
        struct pool *pool = store->pool;
        pool_destroy(&pool);
}

const char *store_engine_name(const struct store *store)
{
        return store->ops->engine_name;
}

const char *store_engine_version(const struct store *store)
{
        return store->ops->engine_version;
}

/* Counts users, mailboxes, messages and bytes through the iterators, for
   engines without a stats op (bytes_stored and file_bytes stay 0: only the
   engine knows them). */
static enum cove_store_err stats_count(struct store *store, struct cove_store_stats *stats)
{
        struct store_txn *txn;
        struct store_iter *users;
        const struct cove_store_user *user;
        enum cove_store_err err = store_txn_begin(store, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_user_iter_init(txn, &users);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return err;
        }
        while ((err = store_user_iter_next(users, &user)) == COVE_STORE_OK) {
                stats->users++;
                stats->messages += user->used_messages;
                stats->bytes_received += user->used_bytes;
                struct store_iter *boxes;
                const struct cove_store_mailbox *mb;
                /* A second iterator on the same txn, never a lookup. */
                err = store_mailbox_iter_init(txn, user->id, &boxes);
                if (err != COVE_STORE_OK)
                        break;
                while ((err = store_mailbox_iter_next(boxes, &mb)) == COVE_STORE_OK)
                        stats->mailboxes++;
                store_iter_deinit(&boxes);
                if (err != COVE_STORE_NOTFOUND)
                        break;
        }
        store_iter_deinit(&users);
        store_txn_abort(&txn);
        return err == COVE_STORE_NOTFOUND ? COVE_STORE_OK : err;
}

enum cove_store_err store_stats(struct store *store, struct cove_store_stats *stats_r)
{
        memset(stats_r, 0, sizeof(*stats_r));
        if (store->ops->stats == NULL)
                return stats_count(store, stats_r);
        enum cove_store_err err = store->ops->stats(store->engine, stats_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(store, err, "stats");
        return COVE_STORE_OK;
}

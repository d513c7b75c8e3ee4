/* loader.c - dlopen()s cove_store_<engine>.so and accepts or refuses it.
 *
 * Owns: engine-name checking, the path, dlopen/dlsym, the ABI version and
 * struct_size rules, the mandatory-op table and every refusal message. Does
 * not call any op except through the copy handed to store.c.
 */
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "pool.h"

struct loader_plugin {
        void *dl;
        char *path;
        struct cove_store_ops ops;   /* host copy, zero past struct_size */
};

#define OP(name) { #name, offsetof(struct cove_store_ops, name) }

struct loader_op {
        const char *name;
        size_t offset;
};

/* Everything storage.h does not mark optional. */
static const struct loader_op mandatory_ops[] = {
        OP(open), OP(close), OP(last_error),
        OP(txn_begin), OP(txn_commit), OP(txn_abort),
        OP(user_create), OP(user_lookup), OP(user_get), OP(user_update),
        OP(user_delete), OP(user_iter_init), OP(user_iter_next),
        OP(mailbox_create), OP(mailbox_lookup), OP(mailbox_get), OP(mailbox_rename),
        OP(mailbox_delete), OP(mailbox_set_special_use), OP(mailbox_iter_init),
        OP(mailbox_iter_next),
        OP(subscription_set), OP(subscription_iter_init), OP(subscription_iter_next),
        OP(msg_append), OP(msg_get), OP(msg_iter_init), OP(msg_iter_next),
        OP(msg_update_flags), OP(msg_expunge), OP(msg_copy), OP(msg_move),
        OP(change_iter_init), OP(change_iter_next), OP(iter_deinit),
        OP(stream_open), OP(stream_read), OP(stream_close),
};

/* Optional ops standing alone (may be NULL): sync, stats,
   mailbox_advance_recent, sync_concurrent, txn_begin_nested. */

/* Optional ops that only make sense together: all set or all NULL. */
static const struct loader_op lock_group[] = {
        OP(lock_maildrop), OP(lock_expunge_guard), OP(unlock),
};
static const struct loader_op notify_group[] = {
        OP(notify_publish), OP(notify_watch), OP(notify_drain), OP(notify_unwatch),
};
static const struct loader_op handoff_group[] = {
        OP(txn_begin_handoff), OP(txn_commit_handoff),
};

/* Bytes of struct cove_store_ops that a plugin of ABI 1.<minor> must provide;
   index = minor. Append a row when a minor version appends members. */
static const size_t ops_size_for_minor[] = {
        /* 1.0: everything up to and including mailbox_advance_recent */
        offsetof(struct cove_store_ops, mailbox_advance_recent) + sizeof(void (*)(void)),
        /* 1.1: sync_concurrent, txn_begin_nested, txn_begin/commit_handoff */
        offsetof(struct cove_store_ops, txn_commit_handoff) + sizeof(void (*)(void)),
};

bool loader_engine_name_valid(const char *engine)
{
        size_t len = engine == NULL ? 0 : strlen(engine);
        if (len == 0 || len > 64)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = engine[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                        return false;
        }
        return true;
}

static bool op_is_set(const struct cove_store_ops *ops, size_t offset)
{
        void (*fn)(void);
        /* UNSAFE: offset comes from offsetof() of a function-pointer member
           and ops is a full host-sized struct. */
        memcpy(&fn, (const char *)ops + offset, sizeof(fn));
        return fn != NULL;
}

/* Checks that a group of optional ops is all-or-nothing; returns NULL or the
   reason. */
static const char *check_group(struct pool *pool, const struct cove_store_ops *ops,
                               const struct loader_op *group, size_t count)
{
        size_t set = 0;
        for (size_t i = 0; i < count; i++)
                set += op_is_set(ops, group[i].offset) ? 1 : 0;
        if (set == 0 || set == count)
                return NULL;
        for (size_t i = 0; i < count; i++) {
                if (!op_is_set(ops, group[i].offset))
                        return pool_printf(pool, "optional op '%s' missing (ops '%s'..'%s' "
                                           "must be all set or all NULL)", group[i].name,
                                           group[0].name, group[count - 1].name);
        }
        return NULL;
}

/* Applies the ABI rules to the plugin's table, filling plugin->ops. Returns
   NULL when accepted, else the reason (in pool). */
static const char *check_ops(struct pool *pool, const struct cove_store_ops *theirs,
                             struct cove_store_ops *ours)
{
        if (theirs == NULL)
                return "cove_store_entry() returned NULL";
        /* The three leading members exist in every ABI version. */
        /* A variable, so a floor of 0 does not make the test vanish. */
        const uint32_t min_minor = LOADER_ABI_MINOR_FLOOR;
        if (theirs->abi_major != COVE_STORE_ABI_MAJOR)
                return pool_printf(pool, "ABI %u.%u, host needs %u.x", theirs->abi_major,
                                   theirs->abi_minor, COVE_STORE_ABI_MAJOR);
        if (theirs->abi_minor < min_minor)
                return pool_printf(pool, "ABI %u.%u, host needs %u.%u or later",
                                   theirs->abi_major, theirs->abi_minor, COVE_STORE_ABI_MAJOR,
                                   min_minor);
        size_t known = N_ELEMENTS(ops_size_for_minor);
        size_t need = theirs->abi_minor < known ? ops_size_for_minor[theirs->abi_minor]
                                                : ops_size_for_minor[known - 1];
        if (theirs->struct_size < need)
                return pool_printf(pool, "struct_size %zu too small for ABI %u.%u (needs %zu)",
                                   theirs->struct_size, theirs->abi_major,
                                   theirs->abi_minor, need);
        /* Never read past what the plugin says it has (a newer plugin may
           have more; we ignore the tail). */
        memset(ours, 0, sizeof(*ours));
        memcpy(ours, theirs, theirs->struct_size < sizeof(*ours) ? theirs->struct_size
                                                                 : sizeof(*ours));
        if (ours->engine_name == NULL || ours->engine_version == NULL)
                return "engine_name or engine_version is NULL";
        for (size_t i = 0; i < N_ELEMENTS(mandatory_ops); i++) {
                if (!op_is_set(ours, mandatory_ops[i].offset))
                        return pool_printf(pool, "mandatory op '%s' missing",
                                           mandatory_ops[i].name);
        }
        const char *why = check_group(pool, ours, lock_group, N_ELEMENTS(lock_group));
        if (why == NULL)
                why = check_group(pool, ours, notify_group, N_ELEMENTS(notify_group));
        if (why == NULL)
                why = check_group(pool, ours, handoff_group, N_ELEMENTS(handoff_group));
        return why;
}

static int refuse(struct loader_plugin *plugin, const char **error_r, const char *error)
{
        if (plugin->dl != NULL)
                dlclose(plugin->dl);
        free(plugin->path);
        free(plugin);
        *error_r = error;
        return -1;
}

int loader_load(const char *plugin_dir, const char *engine, const char *where,
                struct pool *pool, struct loader_plugin **plugin_r, const char **error_r)
{
        *plugin_r = NULL;
        if (!loader_engine_name_valid(engine)) {
                *error_r = pool_printf(pool, "%s: invalid engine name '%s' (allowed: a-z, 0-9, _)",
                                       where, engine == NULL ? "" : engine);
                return -1;
        }
        struct loader_plugin *plugin = xcalloc(1, sizeof(*plugin));
        plugin->path = xstrdup(pool_printf(pool, "%s/cove_store_%s.so", plugin_dir, engine));

        struct stat st;
        if (stat(plugin->path, &st) < 0)
                return refuse(plugin, error_r, errno == ENOENT || errno == ENOTDIR
                        ? pool_printf(pool, "%s: plugin '%s' not found: %s", where, engine,
                                      plugin->path)
                        : pool_printf(pool, "%s: %s: %s", where, plugin->path, strerror(errno)));

        dlerror();
        plugin->dl = dlopen(plugin->path, RTLD_NOW | RTLD_LOCAL);
        if (plugin->dl == NULL) {
                const char *why = dlerror();
                return refuse(plugin, error_r, pool_printf(pool, "%s: %s: cannot load: %s", where,
                                                           plugin->path,
                                                           why == NULL ? "unknown" : why));
        }
        void *sym = dlsym(plugin->dl, COVE_STORE_ENTRY_SYMBOL);
        if (sym == NULL)
                return refuse(plugin, error_r, pool_printf(pool, "%s: %s: symbol %s missing",
                                                           where, plugin->path,
                                                           COVE_STORE_ENTRY_SYMBOL));
        cove_store_entry_fn entry;
        /* POSIX guarantees object and function pointers convert (dlsym). */
        memcpy(&entry, &sym, sizeof(entry));
        const char *why = check_ops(pool, entry(), &plugin->ops);
        if (why != NULL)
                return refuse(plugin, error_r, pool_printf(pool, "%s: %s: %s", where,
                                                           plugin->path, why));
        *plugin_r = plugin;
        return 0;
}

const struct cove_store_ops *loader_ops(const struct loader_plugin *plugin)
{
        return &plugin->ops;
}

const char *loader_path(const struct loader_plugin *plugin)
{
        return plugin->path;
}

void loader_unload(struct loader_plugin **pluginp)
{
        struct loader_plugin *plugin = *pluginp;
        if (plugin == NULL)
                return;
        *pluginp = NULL;
        dlclose(plugin->dl);
        free(plugin->path);
        free(plugin);
}

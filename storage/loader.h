/* loader.h - finds, dlopen()s and checks a storage engine plugin.
 *
 * Owns the ABI acceptance rules (major equal, minor at least the host floor,
 * struct_size large enough for the declared minor, every mandatory op set,
 * optional groups all-or-nothing) and the one-line refusal messages. Does not
 * open the store: that is the facade's job (store.c).
 */
#ifndef COVE_STORAGE_LOADER_H
#define COVE_STORAGE_LOADER_H

#include "cove/storage.h"

struct pool;
struct loader_plugin;

/* The oldest ABI minor this host accepts (libev rule: a plugin built for 1.N,
   N >= floor, works with every host of major 1 that knows 1.N or later). */
#define LOADER_ABI_MINOR_FLOOR 0u

/* Loads <plugin_dir>/cove_store_<engine>.so. `where` prefixes every message
   naming the config location, e.g. "cove.conf:3: [store] engine". On success
   *plugin_r is a handle to free with loader_unload(). On failure returns -1
   and *error_r is one line allocated from pool:
     "<where>: invalid engine name 'x/y' (allowed: a-z, 0-9, _)"
     "<where>: plugin 'foo' not found: <path>"
     "<where>: <path>: cannot load: <dlerror text>"
     "<where>: <path>: symbol cove_store_entry missing"
     "<where>: <path>: ABI 2.0, host needs 1.x"
     "<where>: <path>: struct_size 96 too small for ABI 1.0 (needs 352)"
     "<where>: <path>: mandatory op 'msg_append' missing" */
int loader_load(const char *plugin_dir, const char *engine, const char *where,
                struct pool *pool, struct loader_plugin **plugin_r, const char **error_r);

/* The checked function table: a host-side copy, zero-filled past the plugin's
   struct_size, valid until loader_unload(). */
const struct cove_store_ops *loader_ops(const struct loader_plugin *plugin);

/* The full path the plugin was loaded from (valid until unload). */
const char *loader_path(const struct loader_plugin *plugin);

/* dlclose()s the plugin; *plugin is NULL afterwards. Every engine handle must
   be closed first. */
void loader_unload(struct loader_plugin **plugin);

/* True for a valid engine name: 1..64 characters of [a-z0-9_]. */
bool loader_engine_name_valid(const char *engine);

#endif

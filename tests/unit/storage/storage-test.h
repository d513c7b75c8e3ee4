/* storage-test.h - shared scaffolding of the storage unit tests: a
 * hand-built struct cove_conf (no conf_load) and temp directories.
 */
#ifndef COVE_STORAGE_TEST_H
#define COVE_STORAGE_TEST_H

#include <stdbool.h>
#include <stddef.h>

struct cove_conf;
struct pool;

/* A config named "cove.conf" with [store] engine on line 3 and plugin_dir
   on line 4; options are "key=value" strings given lines 5, 6, ... A
   "path=" option also sets store.path. All in pool. */
struct cove_conf *storage_test_conf(struct pool *pool, const char *engine,
                                    const char *plugin_dir, const char *const *options,
                                    size_t option_count);

/* A fresh directory under $TMPDIR (or /tmp), in pool. */
const char *storage_test_tmpdir(struct pool *pool);

/* Removes a directory tree (best effort). */
void storage_test_rmtree(const char *dir);

/* True when the engine's plugin exists in the build plugin dir. */
bool storage_test_have_engine(const char *engine);

#endif

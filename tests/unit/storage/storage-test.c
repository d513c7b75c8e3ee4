/* storage-test.c - scaffolding shared by the storage unit tests (see
 * storage-test.h). Criterion-free so forked children may use it.
 */
#include "storage-test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "pool.h"

struct cove_conf *storage_test_conf(struct pool *pool, const char *engine,
                                    const char *plugin_dir, const char *const *options,
                                    size_t option_count)
{
        struct cove_conf *conf = pool_alloc(pool, sizeof(*conf));
        struct conf_option *opts = pool_alloc(pool, (option_count + 1) * sizeof(*opts));
        conf->path = "cove.conf";
        conf->store.engine = engine;
        conf->store.engine_line = 3;
        conf->store.plugin_dir = plugin_dir;
        conf->store.plugin_dir_line = 4;
        for (size_t i = 0; i < option_count; i++) {
                const char *eq = strchr(options[i], '=');
                opts[i].key = pool_strndup(pool, options[i], (size_t)(eq - options[i]));
                opts[i].value = pool_strdup(pool, eq + 1);
                opts[i].line = (unsigned)(5 + i);
                if (strcmp(opts[i].key, "path") == 0)
                        conf->store.path = opts[i].value;
        }
        conf->store.options = opts;
        conf->store.option_count = option_count;
        return conf;
}

const char *storage_test_tmpdir(struct pool *pool)
{
        const char *base = getenv("TMPDIR");
        char *dir = pool_printf(pool, "%s/cove-storage-XXXXXX",
                                base != NULL && *base != '\0' ? base : "/tmp");
        if (mkdtemp(dir) == NULL) {
                perror("mkdtemp");
                abort();
        }
        return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st; (void)flag; (void)ftw;
        remove(path);
        return 0;
}

void storage_test_rmtree(const char *dir)
{
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool storage_test_have_engine(const char *engine)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/cove_store_%s.so", COVE_TEST_BUILD_PLUGIN_DIR, engine);
        return access(path, R_OK) == 0;
}

/* lmdb-options.c - the [store] options of the LMDB engine.
 *
 * Owns: the option table, value parsing (sizes with k/M/G suffixes, ranges)
 * and "KEY: reason" error lines. Does not touch the file system; lmdb-env.c
 * checks the path when it opens the store.
 */
#include "lmdb-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct lmdb_option_def {
        const char *key;
        enum cove_store_err (*parse)(struct cove_store *store, const char *key,
                                     const char *value, struct lmdb_options *opts);
};

/* Parses "123", "64k", "256M", "2G" (binary multiples) into *value_r. */
static bool parse_size(const char *value, uint64_t *value_r)
{
        char *end;
        uint64_t mult = 1;

        if (value[0] < '0' || value[0] > '9')
                return false;
        errno = 0;
        unsigned long long n = strtoull(value, &end, 10);
        if (errno != 0)
                return false;
        switch (*end) {
        case '\0': break;
        case 'k': case 'K': mult = 1024; end++; break;
        case 'm': case 'M': mult = 1024 * 1024; end++; break;
        case 'g': case 'G': mult = 1024 * 1024 * 1024; end++; break;
        default: return false;
        }
        if (*end != '\0' || (n != 0 && mult > UINT64_MAX / n))
                return false;
        *value_r = (uint64_t)n * mult;
        return true;
}

static enum cove_store_err opt_path(struct cove_store *store, const char *key,
                                    const char *value, struct lmdb_options *opts)
{
        if (value[0] != '/')
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "%s: must be an absolute directory path", key);
        free(opts->path);
        opts->path = strdup(value);
        if (opts->path == NULL)
                return lmdb_error(store, COVE_STORE_INTERNAL, "%s: out of memory", key);
        return COVE_STORE_OK;
}

static enum cove_store_err opt_map_size(struct cove_store *store, const char *key,
                                        const char *value, struct lmdb_options *opts)
{
        uint64_t v;

        if (!parse_size(value, &v) || v < 64 * 1024 || v > (SIZE_MAX >> 1))
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "%s: expected a size of at least 64k such as 256M or 4G, "
                                  "got '%s'", key, value);
        opts->map_size = v;
        return COVE_STORE_OK;
}

static enum cove_store_err opt_threshold(struct cove_store *store, const char *key,
                                         const char *value, struct lmdb_options *opts)
{
        uint64_t v;

        if (!parse_size(value, &v))
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "%s: expected a byte count (0 disables compression), "
                                  "got '%s'", key, value);
        opts->compress_threshold = v;
        return COVE_STORE_OK;
}

static enum cove_store_err opt_level(struct cove_store *store, const char *key,
                                     const char *value, struct lmdb_options *opts)
{
        if (value[0] < '1' || value[0] > '9' || value[1] != '\0')
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "%s: expected a level from 1 to 9, got '%s'", key, value);
        opts->compress_level = value[0] - '0';
        return COVE_STORE_OK;
}

static enum cove_store_err opt_readers(struct cove_store *store, const char *key,
                                       const char *value, struct lmdb_options *opts)
{
        uint64_t v;

        if (!parse_size(value, &v) || v < 8 || v > 65536)
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "%s: expected a number from 8 to 65536, got '%s'",
                                  key, value);
        opts->max_readers = (unsigned)v;
        return COVE_STORE_OK;
}

static const struct lmdb_option_def option_defs[] = {
        { .key = "path", .parse = opt_path },
        { .key = "map_size", .parse = opt_map_size },
        { .key = "compress_threshold", .parse = opt_threshold },
        { .key = "compress_level", .parse = opt_level },
        { .key = "max_readers", .parse = opt_readers },
};

static const struct lmdb_option_def *option_find(const char *key)
{
        for (size_t i = 0; i < sizeof(option_defs) / sizeof(option_defs[0]); i++) {
                if (strcmp(option_defs[i].key, key) == 0)
                        return &option_defs[i];
        }
        return NULL;
}

enum cove_store_err lmdb_options_parse(struct cove_store *store,
                                       const struct cove_store_conf *conf,
                                       struct lmdb_options *opts)
{
        *opts = (struct lmdb_options){
                .compress_threshold = LMDB_DEFAULT_COMPRESS_THRESHOLD,
                .compress_level = LMDB_DEFAULT_COMPRESS_LEVEL,
                .max_readers = LMDB_DEFAULT_MAX_READERS,
        };
        for (size_t i = 0; i < conf->option_count; i++) {
                const struct cove_store_option *o = &conf->options[i];
                const char *key = o->key != NULL ? o->key : "";
                const struct lmdb_option_def *def = option_find(key);

                if (def == NULL)
                        return lmdb_error(store, COVE_STORE_INTERNAL,
                                          "%s: unknown option for the lmdb engine", key);
                if (o->value == NULL || o->value[0] == '\0')
                        return lmdb_error(store, COVE_STORE_INTERNAL,
                                          "%s: missing value", key);
                enum cove_store_err err = def->parse(store, key, o->value, opts);
                if (err != COVE_STORE_OK)
                        return err;
        }
        if (opts->path == NULL)
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "path: required: the directory of the lmdb store");
        return COVE_STORE_OK;
}

void lmdb_options_free(struct lmdb_options *opts)
{
        free(opts->path);
        opts->path = NULL;
}

/* test-store.c - per-test stores for the conformance suite (see test-store.h).
 *
 * Owns: temp directories, the hand-built config (no conf_load: the suite must
 * not depend on the config parser), and thin append/read helpers over the
 * facade. Does not: assert (callers decide), or know any engine's internals.
 */
#include "test-store.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "pool.h"
#include "store.h"

#ifndef COVE_TEST_DEFAULT_PLUGIN_DIR
#define COVE_TEST_DEFAULT_PLUGIN_DIR "plugins"
#endif

/* Engine options when $COVE_TEST_STORE_OPTIONS is unset: '|'-separated
   key=value pairs, "%D" standing for the test's temp directory. Engines that
   need more (a server address) get theirs from the environment, which the
   suite's CMakeLists sets per engine. */
#define TEST_STORE_DEFAULT_OPTIONS "path=%D/store"

#define TEST_STORE_MAX_OPTIONS 16

const char *test_store_engine(void)
{
        const char *engine = getenv("COVE_TEST_ENGINE");
        return engine != NULL && *engine != '\0' ? engine : "lmdb";
}

static const char *plugin_dir(void)
{
        const char *dir = getenv("COVE_TEST_PLUGIN_DIR");
        return dir != NULL && *dir != '\0' ? dir : COVE_TEST_DEFAULT_PLUGIN_DIR;
}

/* Replaces every "%D" in tmpl with dir. */
static char *expand_dir(struct pool *pool, const char *tmpl, const char *dir)
{
        size_t dir_len = strlen(dir), len = 0;
        for (const char *p = tmpl; *p != '\0'; p++)
                len += (p[0] == '%' && p[1] == 'D') ? (p++, dir_len) : 1;
        char *out = pool_alloc(pool, len + 1), *o = out;
        for (const char *p = tmpl; *p != '\0'; p++) {
                if (p[0] == '%' && p[1] == 'D') {
                        memcpy(o, dir, dir_len);
                        o += dir_len;
                        p++;
                } else {
                        *o++ = *p;
                }
        }
        *o = '\0';
        return out;
}

/* Splits "k=v|k=v" into conf options; picks out path. */
static int parse_options(struct pool *pool, const char *text, struct conf_store *store,
                         const char **error_r)
{
        struct conf_option *opts = pool_alloc(pool, sizeof(*opts) * TEST_STORE_MAX_OPTIONS);
        size_t count = 0;
        char *copy = pool_strdup(pool, text), *save = NULL;

        for (char *item = strtok_r(copy, "|", &save); item != NULL;
             item = strtok_r(NULL, "|", &save)) {
                char *eq = strchr(item, '=');
                if (eq == NULL || eq == item || count == TEST_STORE_MAX_OPTIONS) {
                        *error_r = "COVE_TEST_STORE_OPTIONS: want key=value|key=value";
                        return -1;
                }
                *eq = '\0';
                opts[count] = (struct conf_option){
                        .key = item, .value = eq + 1, .line = (unsigned)count + 3,
                };
                if (strcmp(item, "path") == 0)
                        store->path = eq + 1;
                count++;
        }
        store->options = opts;
        store->option_count = count;
        return 0;
}

/* Writes the equivalent cove.conf into the temp dir, so that a kept
   directory (COVE_TEST_KEEP=1) can be inspected with covectl. */
static void write_conf_file(const struct cove_conf *conf)
{
        FILE *f = fopen(conf->path, "w");
        if (f == NULL)
                return;
        fprintf(f, "[store]\nengine = %s\nplugin_dir = %s\n", conf->store.engine,
                conf->store.plugin_dir);
        for (size_t i = 0; i < conf->store.option_count; i++)
                fprintf(f, "%s = %s\n", conf->store.options[i].key,
                        conf->store.options[i].value);
        fprintf(f, "\n[server]\nstate_dir = %s\n", conf->server.state_dir);
        fclose(f);
}

static const struct cove_conf *build_conf(struct test_store *ts, const char **error_r)
{
        struct cove_conf *conf = pool_alloc(ts->pool, sizeof(*conf));
        const char *opts = getenv("COVE_TEST_STORE_OPTIONS");

        if (opts == NULL || *opts == '\0')
                opts = TEST_STORE_DEFAULT_OPTIONS;
        *conf = (struct cove_conf){
                .path = pool_printf(ts->pool, "%s/cove.conf", ts->dir),
                .store = { .engine = ts->engine, .plugin_dir = plugin_dir(),
                           .engine_line = 2, .plugin_dir_line = 3 },
                .server = { .log_level = "info",
                            .state_dir = pool_printf(ts->pool, "%s/state", ts->dir),
                            .max_connections_per_ip = 50 },
                .tls = { .min_version = "TLSv1.2" },
                .imap = { .timeout_secs = 1800, .max_line = 65536 },
                .pop3 = { .timeout_secs = 600, .max_line = 512 },
                .lmtp = { .timeout_secs = 300, .max_line = 4096 },
                .limits = { .max_message_size = 50u * 1024 * 1024,
                            .max_literal = 50u * 1024 * 1024 },
        };
        if (parse_options(ts->pool, expand_dir(ts->pool, opts, ts->dir), &conf->store,
                          error_r) < 0)
                return NULL;
        write_conf_file(conf);
        return conf;
}

static int make_dirs(struct test_store *ts, const char **error_r)
{
        const char *tmp = getenv("TMPDIR");
        char *tmpl = pool_printf(ts->pool, "%s/cove-conformance-XXXXXX",
                                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");

        if (mkdtemp(tmpl) == NULL) {
                *error_r = "mkdtemp failed";
                return -1;
        }
        ts->dir = tmpl;
        if (mkdir(pool_printf(ts->pool, "%s/store", tmpl), 0700) < 0 ||
            mkdir(pool_printf(ts->pool, "%s/state", tmpl), 0700) < 0) {
                *error_r = "mkdir in the temp dir failed";
                return -1;
        }
        return 0;
}

int test_store_create(struct test_store **ts_r, const char **error_r)
{
        struct pool *pool = pool_create("test-store", 4096);
        struct test_store *ts = pool_alloc(pool, sizeof(*ts));

        ts->pool = pool;
        ts->engine = test_store_engine();
        *ts_r = ts;
        if (make_dirs(ts, error_r) < 0)
                return -1;
        ts->conf = build_conf(ts, error_r);
        if (ts->conf == NULL)
                return -1;
        if (store_open(ts->conf, true, ts->pool, &ts->store, error_r) < 0) {
                ts->store = NULL;
                return -1;
        }
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st; (void)type; (void)ftw;
        remove(path);
        return 0;
}

void test_store_destroy(struct test_store **tsp)
{
        struct test_store *ts = *tsp;

        if (ts == NULL)
                return;
        *tsp = NULL;
        if (ts->store != NULL)
                store_close(&ts->store);
        if (ts->dir != NULL) {
                const char *keep = getenv("COVE_TEST_KEEP");
                if (keep != NULL && strcmp(keep, "1") == 0)
                        fprintf(stderr, "test-store: kept %s\n", ts->dir);
                else
                        nftw(ts->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        struct pool *pool = ts->pool;
        pool_destroy(&pool);
}

int test_store_reopen(struct test_store *ts, const char **error_r)
{
        if (ts->store != NULL)
                store_close(&ts->store);
        if (store_open(ts->conf, false, ts->pool, &ts->store, error_r) < 0) {
                ts->store = NULL;
                return -1;
        }
        return 0;
}

int test_store_open_handle(struct test_store *ts, struct store **store_r,
                           const char **error_r)
{
        return store_open(ts->conf, false, ts->pool, store_r, error_r);
}

enum cove_store_err test_store_user_add(struct store *store, const char *name,
                                        uint32_t *user_id_r)
{
        struct store_txn *txn = NULL;
        enum cove_store_err err = store_txn_begin(store, true, &txn);

        if (err != COVE_STORE_OK)
                return err;
        err = store_user_create(txn, name, "", "", user_id_r);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return err;
        }
        return store_txn_commit(&txn);
}

uint32_t test_store_mailbox_id(struct store *store, uint32_t user_id, const char *name)
{
        struct store_txn *txn = NULL;
        const struct cove_store_mailbox *mb = NULL;
        uint32_t id = 0;

        if (store_txn_begin(store, false, &txn) != COVE_STORE_OK)
                return 0;
        if (store_mailbox_lookup(txn, user_id, name, &mb) == COVE_STORE_OK)
                id = mb->id;
        store_txn_abort(&txn);
        return id;
}

enum cove_store_err test_store_mailbox_add(struct store *store, uint32_t user_id,
                                           const char *name, uint32_t *mailbox_id_r)
{
        struct store_txn *txn = NULL;
        enum cove_store_err err = store_txn_begin(store, true, &txn);

        if (err != COVE_STORE_OK)
                return err;
        err = store_mailbox_create(txn, user_id, name, 0, mailbox_id_r);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return err;
        }
        return store_txn_commit(&txn);
}

enum cove_store_err test_store_append(struct store *store, uint32_t mailbox_id,
                                      const void *data, size_t len, uint32_t flags,
                                      struct cove_store_saved *saved_r)
{
        struct cove_store_part part = { .data = data, .size = len };
        struct store_append msg = { .parts = &part, .part_count = 1, .flags = flags };
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;
        enum cove_store_err err = store_txn_begin(store, true, &txn);

        if (err != COVE_STORE_OK)
                return err;
        err = store_msg_append(txn, mailbox_id, &msg, saved_r != NULL ? saved_r : &saved);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return err;
        }
        return store_txn_commit(&txn);
}

enum cove_store_err test_store_mailbox_get(struct store *store, uint32_t mailbox_id,
                                           struct cove_store_mailbox *mailbox_r)
{
        struct store_txn *txn = NULL;
        const struct cove_store_mailbox *mb = NULL;
        enum cove_store_err err = store_txn_begin(store, false, &txn);

        if (err != COVE_STORE_OK)
                return err;
        err = store_mailbox_get(txn, mailbox_id, &mb);
        if (err == COVE_STORE_OK) {
                *mailbox_r = *mb;
                mailbox_r->name = NULL;   /* borrowed: dies with the txn */
        }
        store_txn_abort(&txn);
        return err;
}

enum cove_store_err test_store_user_get(struct store *store, uint32_t user_id,
                                        struct cove_store_user *user_r)
{
        struct store_txn *txn = NULL;
        const struct cove_store_user *user = NULL;
        enum cove_store_err err = store_txn_begin(store, false, &txn);

        if (err != COVE_STORE_OK)
                return err;
        err = store_user_get(txn, user_id, &user);
        if (err == COVE_STORE_OK) {
                *user_r = *user;
                user_r->name = NULL;   /* borrowed: dies with the txn */
                user_r->password_hash = NULL;
                user_r->scram_secret = NULL;
                user_r->apop_secret = NULL;
        }
        store_txn_abort(&txn);
        return err;
}

enum cove_store_err test_store_read_range(struct store_stream *stream, uint64_t offset,
                                          unsigned char *out, size_t len, size_t *got_r)
{
        size_t got = 0;

        while (got < len) {
                const void *data = NULL;
                size_t n = 0;
                enum cove_store_err err = store_stream_read(stream, offset + got, &data, &n);
                if (err != COVE_STORE_OK) {
                        *got_r = got;
                        return err;
                }
                if (n == 0)
                        break;
                if (n > len - got)
                        n = len - got;
                memcpy(out + got, data, n);
                got += n;
        }
        *got_r = got;
        return COVE_STORE_OK;
}

enum cove_store_err test_store_fetch(struct store *store, uint32_t mailbox_id, uint32_t uid,
                                     struct pool *pool, unsigned char **data_r,
                                     size_t *len_r)
{
        struct store_stream *stream = NULL;
        uint64_t size = 0;
        enum cove_store_err err = store_stream_open(store, mailbox_id, uid, &stream, &size);

        if (err != COVE_STORE_OK)
                return err;
        if (size > SIZE_MAX - 1) {
                store_stream_close(&stream);
                return COVE_STORE_CORRUPT;
        }
        /* One byte more than announced, to notice a stream that overruns. */
        unsigned char *data = pool_alloc(pool, (size_t)size + 2);
        size_t got = 0;
        err = test_store_read_range(stream, 0, data, (size_t)size + 1, &got);
        store_stream_close(&stream);
        if (err != COVE_STORE_OK)
                return err;
        if (got != size)
                return COVE_STORE_CORRUPT;
        data[got] = '\0';
        *data_r = data;
        *len_r = got;
        return COVE_STORE_OK;
}

uint64_t test_rand_next(uint64_t *state)
{
        uint64_t x = *state != 0 ? *state : 0x9e3779b97f4a7c15ull;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        return x;
}

unsigned char *test_msg_make(struct pool *pool, uint32_t seed, size_t size)
{
        static const char alphabet[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;-";
        unsigned char *msg = pool_alloc(pool, size < 64 ? 65 : size + 1);
        int head = snprintf((char *)msg, 64, "From: t@example.org\r\nSubject: %08x\r\n\r\n",
                            (unsigned)seed);
        uint64_t state = ((uint64_t)seed << 32) ^ 0x2545f4914f6cdd1dull ^ size;
        size_t col = 0;

        if (size < 64)
                size = 64;
        for (size_t i = (size_t)head; i < size; i++) {
                if (col == 70 && i + 2 <= size) {
                        msg[i++] = '\r';
                        msg[i] = '\n';
                        col = 0;
                        continue;
                }
                msg[i] = (unsigned char)alphabet[test_rand_next(&state) % (sizeof(alphabet) - 1)];
                col++;
        }
        return msg;
}

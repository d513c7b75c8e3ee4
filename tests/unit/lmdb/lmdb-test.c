/* lmdb-test.c - shared fixture for the LMDB engine tests (see lmdb-test.h).
 * Loads COVE_LMDB_PLUGIN with dlopen and resolves cove_store_entry, exactly
 * as the host loader does; never links the engine's objects.
 */
#include "lmdb-test.h"

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cove_store_ops *ops;
char lt_dir[256];
int64_t lt_clock = 1700000000;
static void *plugin;

__attribute__((format(printf, 2, 3)))
static void lt_log(enum cove_store_log_level level, const char *fmt, ...)
{
        va_list args;

        if (level > COVE_STORE_LOG_WARN)
                return;
        va_start(args, fmt);
        vfprintf(stderr, fmt, args);
        va_end(args);
        fputc('\n', stderr);
}

static int64_t lt_now(void)
{
        return lt_clock;
}

const struct cove_store_host lt_host = {
        .abi_major = COVE_STORE_ABI_MAJOR,
        .abi_minor = COVE_STORE_ABI_MINOR,
        .struct_size = sizeof(struct cove_store_host),
        .log = lt_log,
        .now = lt_now,
};

void lt_setup(void)
{
        plugin = dlopen(COVE_LMDB_PLUGIN, RTLD_NOW | RTLD_LOCAL);
        cr_assert_not_null(plugin, "dlopen: %s", dlerror());
        cove_store_entry_fn entry = (cove_store_entry_fn)dlsym(plugin, COVE_STORE_ENTRY_SYMBOL);
        cr_assert_not_null(entry);
        ops = entry();
        cr_assert_eq(ops->abi_major, COVE_STORE_ABI_MAJOR);
        snprintf(lt_dir, sizeof(lt_dir), "/tmp/cove-lmdb-XXXXXX");
        cr_assert_not_null(mkdtemp(lt_dir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st; (void)flag; (void)ftw;
        return remove(path);
}

void lt_teardown(void)
{
        if (getenv("COVE_TEST_KEEP") == NULL)
                nftw(lt_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        dlclose(plugin);
}

enum cove_store_err lt_open_kv(bool create, const char *const *kv,
                               struct cove_store **store_r, const char **error_r)
{
        struct cove_store_option opts[16];
        size_t n = 0;

        for (; kv != NULL && kv[2 * n] != NULL; n++) {
                cr_assert_lt(n, 16);
                opts[n] = (struct cove_store_option){ kv[2 * n], kv[2 * n + 1] };
        }
        struct cove_store_conf conf = {
                .conf_file = "test.conf", .options = opts, .option_count = n,
                .create = create,
        };
        *error_r = "";
        return ops->open(&lt_host, &conf, store_r, error_r);
}

static struct cove_store *open_with(bool create, const char *const *extra)
{
        const char *kv[20] = { "path", lt_dir };
        size_t n = 2;
        struct cove_store *store = NULL;
        const char *error;

        for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
                cr_assert_lt(n, 18);
                kv[n++] = extra[i];
        }
        kv[n] = NULL;
        enum cove_store_err err = lt_open_kv(create, kv, &store, &error);
        cr_assert_eq(err, COVE_STORE_OK, "open: %s", error);
        return store;
}

struct cove_store *lt_create(const char *const *extra)
{
        return open_with(true, extra);
}

struct cove_store *lt_reopen(void)
{
        return open_with(false, NULL);
}

struct cove_store_txn *lt_begin(struct cove_store *store, bool write)
{
        struct cove_store_txn *txn = NULL;
        enum cove_store_err err = ops->txn_begin(store, write ? COVE_STORE_TXN_WRITE
                                                              : COVE_STORE_TXN_READ, &txn);
        cr_assert_eq(err, COVE_STORE_OK, "begin: %s", ops->last_error(store));
        return txn;
}

void lt_commit(struct cove_store_txn **txn)
{
        cr_assert_eq(ops->txn_commit(txn, 0), COVE_STORE_OK);
        cr_assert_null(*txn);
}

uint32_t lt_user(struct cove_store *store, const char *name)
{
        struct cove_store_txn *txn = lt_begin(store, true);
        struct cove_store_user u = { .name = name, .password_hash = "", .scram_secret = "" };
        uint32_t id = 0;

        cr_assert_eq(ops->user_create(txn, &u, &id), COVE_STORE_OK, "%s",
                     ops->last_error(store));
        lt_commit(&txn);
        return id;
}

uint32_t lt_mailbox(struct cove_store *store, uint32_t user_id, const char *name)
{
        struct cove_store_txn *txn = lt_begin(store, true);
        uint32_t id = 0;

        cr_assert_eq(ops->mailbox_create(txn, user_id, name, 0, &id), COVE_STORE_OK, "%s",
                     ops->last_error(store));
        lt_commit(&txn);
        return id;
}

static enum cove_store_err append_once(struct cove_store *store, uint32_t mailbox_id,
                                       const void *data, size_t len,
                                       struct cove_store_saved *saved)
{
        struct cove_store_part part = { .data = data, .size = len };
        struct cove_store_append a = { .parts = &part, .part_count = 1,
                                       .internal_date = lt_clock };
        struct cove_store_txn *txn = lt_begin(store, true);
        enum cove_store_err err = ops->msg_append(txn, mailbox_id, &a, saved);

        if (err != COVE_STORE_OK) {
                ops->txn_abort(&txn);
                return err;
        }
        return ops->txn_commit(&txn, 0);
}

struct cove_store_saved lt_append(struct cove_store *store, uint32_t mailbox_id,
                                  const void *data, size_t len)
{
        struct cove_store_saved saved = { 0 };
        enum cove_store_err err = append_once(store, mailbox_id, data, len, &saved);

        cr_assert_eq(err, COVE_STORE_OK, "append: %s", ops->last_error(store));
        return saved;
}

struct cove_store_saved lt_append_retry(struct cove_store *store, uint32_t mailbox_id,
                                        const void *data, size_t len, int *retries_r)
{
        struct cove_store_saved saved = { 0 };
        enum cove_store_err err;
        int retries = 0;

        while ((err = append_once(store, mailbox_id, data, len, &saved)) == COVE_STORE_TEMP &&
               retries < 10)
                retries++;
        cr_assert_eq(err, COVE_STORE_OK, "append: %s", ops->last_error(store));
        if (retries_r != NULL)
                *retries_r += retries;
        return saved;
}

void lt_expunge(struct cove_store *store, uint32_t mailbox_id, uint32_t uid)
{
        struct cove_store_txn *txn = lt_begin(store, true);

        cr_assert_eq(ops->msg_expunge(txn, mailbox_id, uid), COVE_STORE_OK);
        lt_commit(&txn);
}

uint8_t *lt_read_all(struct cove_store *store, uint32_t mailbox_id, uint32_t uid,
                     size_t *len_r)
{
        struct cove_store_stream *s;
        uint64_t size, off = 0;

        cr_assert_eq(ops->stream_open(store, mailbox_id, uid, &s, &size), COVE_STORE_OK);
        uint8_t *out = malloc(size + 1);
        for (;;) {
                const void *data;
                size_t len;
                cr_assert_eq(ops->stream_read(s, off, &data, &len), COVE_STORE_OK);
                if (len == 0)
                        break;
                cr_assert_leq(off + len, size);
                memcpy(out + off, data, len);
                off += len;
        }
        cr_assert_eq(off, size);
        ops->stream_close(&s);
        cr_assert_null(s);
        *len_r = size;
        return out;
}

struct cove_store_stats lt_stats(struct cove_store *store)
{
        struct cove_store_stats st;

        cr_assert_eq(ops->stats(store, &st), COVE_STORE_OK);
        return st;
}

uint8_t *lt_random(size_t len, uint32_t seed)
{
        uint8_t *p = malloc(len + 1);
        uint64_t x = 0x9E3779B97F4A7C15ull ^ seed;

        for (size_t i = 0; i < len; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                p[i] = (uint8_t)(x >> 24);
        }
        return p;
}

uint8_t *lt_text(size_t len)
{
        static const char *words[] = { "mail ", "store ", "cove ", "imap ", "pop3 ",
                                       "message ", "header\r\n", "body ", "quota " };
        uint8_t *p = malloc(len + 1);
        size_t off = 0;

        for (unsigned i = 0; off < len; i = i * 7 + 3) {
                const char *w = words[i % 9];
                size_t n = strlen(w);
                if (n > len - off)
                        n = len - off;
                memcpy(p + off, w, n);
                off += n;
        }
        return p;
}

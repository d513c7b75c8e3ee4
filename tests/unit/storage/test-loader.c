/* Unit tests for storage/loader.c through store_open(): each refusal is one
 * exact line naming the config location, the plugin path and the reason. */
#include <criterion/criterion.h>
#include <string.h>

#include "conf.h"
#include "loader.h"
#include "pool.h"
#include "storage-test.h"
#include "store.h"

#define FIX COVE_TEST_FIXTURE_DIR

static struct pool *pool;
static void setup(void) { pool = pool_create("test", 0); }
static void teardown(void) { pool_destroy(&pool); }

TestSuite(loader, .init = setup, .fini = teardown);

/* Opens engine from the fixture dir and returns the error line (NULL on
   success, which the refusal tests treat as a failure). */
static const char *open_error(const char *engine, const char *const *options, size_t count)
{
        struct store *store = NULL;
        const char *error = NULL;
        const struct cove_conf *conf = storage_test_conf(pool, engine, FIX, options, count);
        if (store_open(conf, false, pool, &store, &error) == 0) {
                store_close(&store);
                return NULL;
        }
        cr_assert_null(store);
        cr_assert_not_null(error);
        cr_assert_null(strchr(error, '\n'), "one line: %s", error);
        return error;
}

static const char *const state_opts[] = { "path=/nonexistent-cove-test" };

Test(loader, missing_plugin)
{
        cr_assert_str_eq(open_error("nosuch", state_opts, 1),
                         "cove.conf:3: [store] engine: plugin 'nosuch' not found: "
                         FIX "/cove_store_nosuch.so");
}

Test(loader, bad_engine_names)
{
        static const char *const bad[] = { "../lmdb", "a/b", "LMDB", "", "x y", "lmdb.so" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *error = open_error(bad[i], state_opts, 1);
                if (bad[i][0] == '\0') {
                        cr_assert_str_eq(error, "cove.conf: [store] engine: required");
                        continue;
                }
                cr_assert_str_eq(error, pool_printf(pool, "cove.conf:3: [store] engine: invalid "
                                                    "engine name '%s' (allowed: a-z, 0-9, _)",
                                                    bad[i]));
        }
        cr_assert(loader_engine_name_valid("lmdb"));
        cr_assert(loader_engine_name_valid("pg_sql2"));
}

Test(loader, major_mismatch)
{
        cr_assert_str_eq(open_error("abi_old", state_opts, 1),
                         "cove.conf:3: [store] engine: " FIX "/cove_store_abi_old.so: "
                         "ABI 0.9, host needs 1.x");
}

Test(loader, entry_symbol_missing)
{
        cr_assert_str_eq(open_error("no_entry", state_opts, 1),
                         "cove.conf:3: [store] engine: " FIX "/cove_store_no_entry.so: "
                         "symbol cove_store_entry missing");
}

Test(loader, mandatory_op_missing)
{
        cr_assert_str_eq(open_error("null_op", state_opts, 1),
                         "cove.conf:3: [store] engine: " FIX "/cove_store_null_op.so: "
                         "mandatory op 'msg_append' missing");
}

Test(loader, struct_size_too_small)
{
        const char *error = open_error("short_struct", state_opts, 1);
        const char *want = pool_printf(
                pool, "cove.conf:3: [store] engine: " FIX "/cove_store_short_struct.so: "
                "struct_size %zu too small for ABI 1.1 (needs %zu)",
                offsetof(struct cove_store_ops, msg_append),
                offsetof(struct cove_store_ops, txn_commit_handoff) + sizeof(void (*)(void)));
        cr_assert_str_eq(error, want);
}

Test(loader, optional_group_all_or_nothing)
{
        cr_assert_str_eq(open_error("half_lock", state_opts, 1),
                         "cove.conf:3: [store] engine: " FIX "/cove_store_half_lock.so: "
                         "optional op 'unlock' missing (ops 'lock_maildrop'..'unlock' must "
                         "be all set or all NULL)");
}

Test(loader, newer_minor_is_accepted_and_option_errors_name_their_line)
{
        /* The newer fixture passes the loader; its open() then fails with
           "KEY: reason", which must point at KEY's line. */
        const char *const opts[] = {
                "path=/nonexistent-cove-test",
                "fixture_key=abc",
                "fixture_error=fixture_key: must be a number",
        };
        cr_assert_str_eq(open_error("newer", opts, 3),
                         "cove.conf:6: [store] fixture_key: must be a number");
}

Test(loader, abi_1_0_plugin_is_still_accepted)
{
        /* A plugin built against ABI 1.0 has no sync_concurrent member; the
           loader must take its shorter table (open() then fails on purpose). */
        const char *const opts[] = {
                "path=/nonexistent-cove-test",
                "fixture_key=abc",
                "fixture_error=fixture_key: built for 1.0",
        };
        cr_assert_str_eq(open_error("minor0", opts, 3),
                         "cove.conf:6: [store] fixture_key: built for 1.0");
}

Test(loader, option_error_for_absent_key_has_no_line)
{
        const char *const opts[] = {
                "path=/nonexistent-cove-test",
                "fixture_error=socket: required",
        };
        cr_assert_str_eq(open_error("newer", opts, 2), "cove.conf: [store] socket: required");
}

Test(loader, engine_error_without_key)
{
        const char *const opts[] = {
                "path=/nonexistent-cove-test",
                "fixture_error=the store is damaged",
        };
        cr_assert_str_eq(open_error("newer", opts, 2),
                         "cove.conf:3: [store] engine: newer: the store is damaged");
}

Test(loader, state_dir_required_without_store_path)
{
        cr_assert_str_eq(open_error("newer", NULL, 0),
                         "cove.conf: [server] state_dir: required: engine 'newer' has no "
                         "locks or notification of its own and [store] path is not set");
}

Test(loader, plugin_dir_missing)
{
        struct store *store = NULL;
        const char *error = NULL;
        const struct cove_conf *conf = storage_test_conf(pool, "lmdb", "/nonexistent/dir",
                                                         state_opts, 1);
        cr_assert_eq(store_open(conf, false, pool, &store, &error), -1);
        cr_assert_str_eq(error, "cove.conf:3: [store] engine: plugin 'lmdb' not found: "
                                "/nonexistent/dir/cove_store_lmdb.so");
}

/* Engine tests: options, create/open/reopen, format version, durability ops. */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lmdb-test.h"

TestSuite(lmdb_open, .init = lt_setup, .fini = lt_teardown);

static void expect_option_error(const char *const *kv, enum cove_store_err want,
                                const char *prefix)
{
        struct cove_store *store = NULL;
        const char *error;
        enum cove_store_err err = lt_open_kv(true, kv, &store, &error);

        cr_assert_eq(err, want, "got %d: %s", err, error);
        cr_assert_null(store);
        cr_assert(strncmp(error, prefix, strlen(prefix)) == 0, "error '%s' lacks '%s'",
                  error, prefix);
}

Test(lmdb_open, option_errors_name_the_key)
{
        const char *missing[] = { "map_size", "1M", NULL };
        expect_option_error(missing, COVE_STORE_INTERNAL, "path: ");
        const char *unknown[] = { "path", lt_dir, "colour", "blue", NULL };
        expect_option_error(unknown, COVE_STORE_INTERNAL,
                            "colour: unknown option for the lmdb engine");
        const char *bad_size[] = { "path", lt_dir, "map_size", "12Q", NULL };
        expect_option_error(bad_size, COVE_STORE_INTERNAL, "map_size: ");
        const char *neg_size[] = { "path", lt_dir, "map_size", "-1", NULL };
        expect_option_error(neg_size, COVE_STORE_INTERNAL, "map_size: ");
        const char *level[] = { "path", lt_dir, "compress_level", "10", NULL };
        expect_option_error(level, COVE_STORE_INTERNAL, "compress_level: ");
        const char *level0[] = { "path", lt_dir, "compress_level", "0", NULL };
        expect_option_error(level0, COVE_STORE_INTERNAL, "compress_level: ");
        const char *thr[] = { "path", lt_dir, "compress_threshold", "lots", NULL };
        expect_option_error(thr, COVE_STORE_INTERNAL, "compress_threshold: ");
        const char *rel[] = { "path", "relative/dir", NULL };
        expect_option_error(rel, COVE_STORE_INTERNAL, "path: ");
}

Test(lmdb_open, sizes_accept_suffixes)
{
        const char *opts[] = { "map_size", "2M", "compress_threshold", "8k",
                               "compress_level", "9", NULL };
        struct cove_store *store = lt_create(opts);
        ops->close(&store);
        cr_assert_null(store);
        const char *g[] = { "path", lt_dir, "map_size", "1G", NULL };
        const char *error;
        cr_assert_eq(lt_open_kv(false, g, &store, &error), COVE_STORE_OK, "%s", error);
        ops->close(&store);
}

Test(lmdb_open, unwritable_path_is_an_option_error)
{
        char file[300], path[320];
        snprintf(file, sizeof(file), "%s/plainfile", lt_dir);
        FILE *f = fopen(file, "w");
        cr_assert_not_null(f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/store", file);
        const char *kv[] = { "path", path, NULL };
        expect_option_error(kv, COVE_STORE_NOPERM, "path: ");
}

Test(lmdb_open, missing_store_says_run_init)
{
        struct cove_store *store = NULL;
        const char *error;
        const char *kv[] = { "path", lt_dir, NULL };

        cr_assert_eq(lt_open_kv(false, kv, &store, &error), COVE_STORE_NOTFOUND);
        cr_assert_not_null(strstr(error, "covectl init"), "%s", error);
        cr_assert(strncmp(error, "path: ", 6) == 0);
}

Test(lmdb_open, create_makes_the_directory_and_refuses_twice)
{
        char path[300];
        snprintf(path, sizeof(path), "%s/a/b/store", lt_dir);
        const char *kv[] = { "path", path, NULL };
        struct cove_store *store = NULL;
        const char *error;

        cr_assert_eq(lt_open_kv(true, kv, &store, &error), COVE_STORE_OK, "%s", error);
        ops->close(&store);
        cr_assert_eq(lt_open_kv(true, kv, &store, &error), COVE_STORE_EXISTS);
        cr_assert_null(store);
        cr_assert(strncmp(error, "path: ", 6) == 0);
        cr_assert_eq(lt_open_kv(false, kv, &store, &error), COVE_STORE_OK, "%s", error);
        ops->close(&store);
}

Test(lmdb_open, reopen_keeps_data)
{
        struct cove_store *store = lt_create(NULL);
        uint32_t uid = lt_user(store, "ann@example.org");
        uint32_t box = lt_mailbox(store, uid, "INBOX");
        lt_append(store, box, "Subject: x\r\n\r\nhello\r\n", 21);
        ops->close(&store);

        store = lt_reopen();
        struct cove_store_txn *txn = lt_begin(store, false);
        const struct cove_store_user *u;
        cr_assert_eq(ops->user_lookup(txn, "ann@example.org", &u), COVE_STORE_OK);
        cr_assert_eq(u->id, uid);
        cr_assert_eq(u->used_messages, 1);
        cr_assert_eq(u->used_bytes, 21);
        ops->txn_abort(&txn);
        size_t len;
        uint8_t *data = lt_read_all(store, box, 1, &len);
        cr_assert_eq(len, 21);
        cr_assert_eq(memcmp(data, "Subject: x\r\n\r\nhello\r\n", 21), 0);
        free(data);
        ops->close(&store);
}

/* Rewrites the format record with raw LMDB, as a future version would. */
static void forge_format(uint64_t version)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        uint8_t v[8];

        for (int i = 0; i < 8; i++)
                v[i] = (uint8_t)(version >> (56 - 8 * i));
        cr_assert_eq(mdb_env_create(&env), 0);
        mdb_env_set_maxdbs(env, 32);
        cr_assert_eq(mdb_env_open(env, lt_dir, 0, 0600), 0);
        cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
        cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
        MDB_val key = { 6, "format" }, val = { 8, v };
        cr_assert_eq(mdb_put(txn, dbi, &key, &val, 0), 0);
        cr_assert_eq(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
}

Test(lmdb_open, newer_format_is_refused)
{
        struct cove_store *store = lt_create(NULL);
        ops->close(&store);
        forge_format(99);
        const char *kv[] = { "path", lt_dir, NULL };
        const char *error;
        cr_assert_eq(lt_open_kv(false, kv, &store, &error), COVE_STORE_CORRUPT);
        cr_assert_null(store);
        cr_assert_not_null(strstr(error, "newer"), "%s", error);
        forge_format(0);
        cr_assert_eq(lt_open_kv(false, kv, &store, &error), COVE_STORE_CORRUPT);
}

Test(lmdb_open, nosync_commit_then_sync)
{
        struct cove_store *store = lt_create(NULL);
        struct cove_store_txn *txn = lt_begin(store, true);
        struct cove_store_user u = { .name = "bob@example.org" };
        uint32_t id;

        cr_assert_not_null(ops->sync);
        cr_assert_eq(ops->user_create(txn, &u, &id), COVE_STORE_OK);
        cr_assert_eq(ops->txn_commit(&txn, COVE_STORE_COMMIT_NOSYNC), COVE_STORE_OK);
        cr_assert_eq(ops->sync(store), COVE_STORE_OK);
        /* A later normal commit is durable on its own. */
        lt_user(store, "carl@example.org");
        ops->close(&store);
        store = lt_reopen();
        cr_assert_eq(lt_stats(store).users, 2);
        ops->close(&store);
}

Test(lmdb_open, write_in_read_txn_is_refused)
{
        struct cove_store *store = lt_create(NULL);
        struct cove_store_txn *txn = lt_begin(store, false);
        struct cove_store_user u = { .name = "dan@example.org" };
        uint32_t id;

        cr_assert_neq(ops->user_create(txn, &u, &id), COVE_STORE_OK);
        ops->txn_abort(&txn);
        cr_assert_null(txn);
        cr_assert_eq(lt_stats(store).users, 0);
        ops->close(&store);
}

Test(lmdb_open, entry_table_is_complete)
{
        cr_assert_str_eq(ops->engine_name, "lmdb");
        cr_assert_eq(ops->struct_size, sizeof(struct cove_store_ops));
        cr_assert_not_null(ops->stats);
        cr_assert_not_null(ops->stream_read);
        cr_assert_null(ops->lock_maildrop);
        cr_assert_null(ops->notify_watch);
}

Test(lmdb_open, handle_refuses_work_after_fork)
{
        struct cove_store *store = lt_create(NULL);
        struct cove_store_txn *txn;
        lt_user(store, "ann@example.org");

        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int code = ops->txn_begin(store, COVE_STORE_TXN_READ, &txn) ==
                           COVE_STORE_INTERNAL &&
                           strstr(ops->last_error(store), "fork") != NULL ? 0 : 1;
                ops->close(&store);
                _exit(code);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        cr_assert_eq(lt_stats(store).users, 1, "the parent's handle still works");
        lt_user(store, "bob@example.org");
        ops->close(&store);
}

Test(lmdb_open, garbage_data_file_is_corrupt)
{
        char path[300];
        snprintf(path, sizeof(path), "%s/data.mdb", lt_dir);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        for (int i = 0; i < 4096; i++)
                fputc("garbage!"[i % 8], f);
        fclose(f);
        struct cove_store *store = NULL;
        const char *kv[] = { "path", lt_dir, NULL };
        const char *error;
        enum cove_store_err err = lt_open_kv(false, kv, &store, &error);
        cr_assert(err == COVE_STORE_CORRUPT, "got %d: %s", err, error);
        cr_assert_null(store);
}

Test(lmdb_open, missing_names_are_errors_not_crashes)
{
        struct cove_store *store = lt_create(NULL);
        uint32_t user = lt_user(store, "ann@example.org");
        uint32_t box = lt_mailbox(store, user, "INBOX");
        struct cove_store_txn *txn = lt_begin(store, true);
        struct cove_store_user u = { .name = NULL };
        const struct cove_store_user *got;
        const struct cove_store_mailbox *mb;
        uint32_t id;

        cr_assert_neq(ops->user_create(txn, &u, &id), COVE_STORE_OK);
        cr_assert_neq(ops->user_lookup(txn, NULL, &got), COVE_STORE_OK);
        cr_assert_neq(ops->mailbox_lookup(txn, user, NULL, &mb), COVE_STORE_OK);
        cr_assert_neq(ops->mailbox_create(txn, user, NULL, 0, &id), COVE_STORE_OK);
        cr_assert_neq(ops->mailbox_rename(txn, box, NULL), COVE_STORE_OK);
        cr_assert_neq(ops->subscription_set(txn, user, NULL, true), COVE_STORE_OK);
        lt_commit(&txn);
        ops->close(&store);
}

Test(lmdb_open, reader_slots_exhausted_is_temp)
{
        const char *opts[] = { "max_readers", "8", NULL };
        struct cove_store *store = lt_create(opts);
        struct cove_store_txn *txns[9];
        int opened = 0;
        enum cove_store_err err = COVE_STORE_OK;

        while (opened < 9 && (err = ops->txn_begin(store, COVE_STORE_TXN_READ,
                                                   &txns[opened])) == COVE_STORE_OK)
                opened++;
        cr_assert_eq(err, COVE_STORE_TEMP, "got %d after %d readers", err, opened);
        cr_assert_geq(opened, 7);
        while (opened > 0)
                ops->txn_abort(&txns[--opened]);
        /* Slots come back when the txns end. */
        cr_assert_eq(lt_stats(store).users, 0);
        ops->close(&store);
}

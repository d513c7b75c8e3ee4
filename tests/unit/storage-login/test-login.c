/* Unit tests for storage/login.c: default-domain completion, lookups,
 * plaintext verification (hash and SCRAM-only users, unknown users, bad
 * input), the SASL lookup callback, the throttle's schedule and bounds, and
 * the installation secret file, the thread-safe password check and its
 * offload job (answered, cancelled). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

#include "login.h"
#include "offload.h"
#include "password.h"
#include "pool.h"
#include "store.h"
#include "test-store.h"

static struct pool *pool;
static struct test_store *ts;

static void setup(void)
{
        const char *error = NULL;

        pool = pool_create("test", 0);
        cr_assert_eq(test_store_create(&ts, &error), 0, "%s", error);
}

static void teardown(void)
{
        test_store_destroy(&ts);
        pool_destroy(&pool);
}

TestSuite(login, .init = setup, .fini = teardown);

/* Adds name with password (hash and SCRAM secret, either may be skipped). */
static uint32_t add_user(const char *name, const char *password, bool hash, bool scram)
{
        const char *h = NULL, *s = NULL, *error;
        struct store_txn *txn;
        uint32_t id;

        if (hash)
                cr_assert_eq(password_hash(pool, password, &h, &error), 0);
        if (scram)
                cr_assert_eq(password_scram_secret(pool, password, &s, &error), 0);
        cr_assert_eq(store_txn_begin(ts->store, true, &txn), COVE_STORE_OK);
        cr_assert_eq(store_user_create(txn, name, h, s, &id), COVE_STORE_OK);
        cr_assert_eq(store_txn_commit(&txn), COVE_STORE_OK);
        return id;
}

Test(login, name_resolve_applies_default_domain)
{
        const char *n;

        cr_assert(login_name_resolve(pool, "bob", 3, "Example.ORG", &n));
        cr_assert_str_eq(n, "bob@example.org");
        cr_assert(login_name_resolve(pool, "bob@Other.NET", 13, "example.org", &n));
        cr_assert_str_eq(n, "bob@other.net");
        cr_assert(!login_name_resolve(pool, "bob", 3, NULL, &n));
        cr_assert(!login_name_resolve(pool, "", 0, "example.org", &n));
        cr_assert(!login_name_resolve(pool, "b\0b", 3, "example.org", &n));
        cr_assert(!login_name_resolve(pool, "a b", 3, "example.org", &n));
        char *big = pool_alloc(pool, LOGIN_MAX_NAME + 2);
        memset(big, 'a', LOGIN_MAX_NAME + 1);
        cr_assert(!login_name_resolve(pool, big, LOGIN_MAX_NAME + 1, "example.org", &n));
}

Test(login, verify_plain_hash_and_scram_only)
{
        struct login_user u;
        uint32_t a = add_user("alice@example.org", "s3cret", true, true);
        uint32_t b = add_user("bob@example.org", "pw-bob", false, true);

        cr_assert_eq(login_verify_plain(ts->store, pool, "example.org", "alice", "s3cret", 6, &u),
                     LOGIN_OK);
        cr_assert_eq(u.id, a);
        cr_assert_str_eq(u.name, "alice@example.org");
        cr_assert_eq(login_verify_plain(ts->store, pool, NULL, "bob@EXAMPLE.org", "pw-bob", 6, &u),
                     LOGIN_OK);
        cr_assert_eq(u.id, b);
        cr_assert_eq(login_verify_plain(ts->store, pool, NULL, "alice@example.org", "wrong", 5, &u),
                     LOGIN_FAIL);
        cr_assert_eq(u.id, 0);
        cr_assert_eq(login_verify_plain(ts->store, pool, NULL, "nobody@example.org", "s3cret", 6,
                                        &u), LOGIN_FAIL);
        cr_assert_eq(login_verify_plain(ts->store, pool, NULL, "alice", "s3cret", 6, &u),
                     LOGIN_FAIL, "bare name without default domain");
        cr_assert_eq(login_verify_plain(ts->store, pool, NULL, "alice@example.org", "s3c\0et", 6,
                                        &u), LOGIN_FAIL);
        cr_assert_eq(login_verify_plain(ts->store, pool, NULL, "alice@example.org", "", 0, &u),
                     LOGIN_FAIL);
}

Test(login, user_without_secrets_never_logs_in)
{
        struct login_user u;

        add_user("empty@example.org", "x", false, false);
        cr_assert_eq(login_verify_plain(ts->store, pool, NULL, "empty@example.org", "x", 1, &u),
                     LOGIN_FAIL);
        cr_assert_eq(login_user_lookup(ts->store, pool, NULL, "empty@example.org", &u), LOGIN_OK);
        cr_assert_str_eq(u.password_hash, "");
        cr_assert_str_eq(u.scram_secret, "");
}

Test(login, sasl_plain_and_scram_through_lookup)
{
        uint32_t id = add_user("carol@example.org", "pencil", true, true);
        struct login_sasl ls = { .store = ts->store, .default_domain = "example.org" };
        struct sasl_server_settings set = { .lookup = login_sasl_lookup, .context = &ls };
        struct sasl_server *sasl;
        const unsigned char *out;
        size_t out_len;
        const char *error;
        static const char plain[] = "\0carol\0pencil";

        cr_assert_eq(sasl_server_start(pool, "PLAIN", &set, &sasl, &error), 0);
        cr_assert_eq(sasl_server_step(sasl, (const unsigned char *)plain, sizeof(plain) - 1,
                                      &out, &out_len), SASL_DONE_OK);
        cr_assert_str_eq(sasl_server_user(sasl), "carol@example.org");
        cr_assert_eq(ls.user_id, id);

        static const char bad[] = "\0nobody\0pencil";
        cr_assert_eq(sasl_server_start(pool, "PLAIN", &set, &sasl, &error), 0);
        cr_assert_eq(sasl_server_step(sasl, (const unsigned char *)bad, sizeof(bad) - 1,
                                      &out, &out_len), SASL_DONE_FAIL);
        cr_assert_eq(sasl_server_failure(sasl), SASL_FAIL_CREDENTIALS);
        cr_assert_eq(ls.user_id, 0);
}

Test(login, throttle_schedule_and_forgetting)
{
        struct login_throttle *t = login_throttle_create(16);
        unsigned expect[] = { 0, 1, 2, 4, 8, 15, 15 };

        for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
                cr_assert_eq(login_throttle_peek(t, "192.0.2.1", 1000), expect[i]);
                cr_assert_eq(login_throttle_fail(t, "192.0.2.1", 1000), expect[i], "failure %zu", i);
        }
        cr_assert_eq(login_throttle_peek(t, "192.0.2.2", 1000), 0, "other address unaffected");
        /* A quiet period forgets. */
        cr_assert_eq(login_throttle_fail(t, "192.0.2.1", 1000 + LOGIN_THROTTLE_QUIET_SECS), 0);
        cr_assert_eq(login_throttle_fail(t, "192.0.2.1", 1000 + LOGIN_THROTTLE_QUIET_SECS), 1);
        /* A success forgets. */
        login_throttle_success(t, "192.0.2.1");
        cr_assert_eq(login_throttle_fail(t, "192.0.2.1", 2000), 0);
        login_throttle_destroy(&t);
        cr_assert_null(t);
}

Test(login, throttle_table_stays_bounded)
{
        struct login_throttle *t = login_throttle_create(8);
        char ip[64];

        /* Far more addresses than slots: nothing grows, the newest is tracked. */
        for (unsigned i = 0; i < 1000; i++) {
                snprintf(ip, sizeof(ip), "10.0.%u.%u", i / 256, i % 256);
                login_throttle_fail(t, ip, 5000 + i);
                login_throttle_fail(t, ip, 5000 + i);
                cr_assert_eq(login_throttle_peek(t, ip, 5000 + i), 2);
        }
        /* Over-long and empty keys are accepted. */
        memset(ip, 'x', sizeof(ip) - 1);
        ip[sizeof(ip) - 1] = '\0';
        cr_assert_eq(login_throttle_fail(t, ip, 9000), 0);
        cr_assert_eq(login_throttle_fail(t, ip, 9000), 1);
        cr_assert_eq(login_throttle_fail(t, "", 9000), 0);
        login_throttle_destroy(&t);
}

/* ---- the installation secret ---- */

static struct cove_conf *secret_conf(const char *state_dir)
{
        struct cove_conf *conf = pool_alloc(pool, sizeof(*conf));
        conf->server.state_dir = state_dir == NULL ? NULL : pool_strdup(pool, state_dir);
        return conf;
}

static const unsigned char *read_key(const struct cove_conf *conf)
{
        const unsigned char *key;
        size_t len;
        const char *error = NULL;

        cr_assert_eq(login_fake_salt_key(pool, conf, &key, &len, &error), 0, "%s", error);
        cr_assert_not_null(key);
        cr_assert_eq(len, LOGIN_SECRET_LEN);
        return key;
}

Test(login, secret_created_once_stable_and_private)
{
        const struct cove_conf *conf = secret_conf(ts->dir);
        const char *path = login_secret_path(pool, conf), *error = NULL;
        bool created;
        struct stat st;

        cr_assert_str_eq(path, pool_printf(pool, "%s/secret", ts->dir));
        cr_assert_eq(login_secret_create(pool, path, &created, &error), 0, "%s", error);
        cr_assert(created);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600);
        cr_assert_eq(st.st_size, LOGIN_SECRET_LEN);
        const unsigned char *k1 = read_key(conf);
        /* A second create keeps the first secret; reads agree. */
        cr_assert_eq(login_secret_create(pool, path, &created, &error), 0, "%s", error);
        cr_assert(!created);
        cr_assert(memcmp(k1, read_key(conf), LOGIN_SECRET_LEN) == 0);
        /* No temp files are left behind. */
        DIR *dir = opendir(ts->dir);
        struct dirent *de;
        while ((de = readdir(dir)) != NULL)
                cr_assert_null(strstr(de->d_name, "secret."), "%s", de->d_name);
        closedir(dir);
}

Test(login, secret_made_on_first_read_and_differs_per_installation)
{
        const struct cove_conf *conf = secret_conf(ts->dir);
        const unsigned char *k1 = read_key(conf);
        const char *other = pool_printf(pool, "%s/other", ts->dir);

        cr_assert_eq(mkdir(other, 0700), 0);
        const unsigned char *k2 = read_key(secret_conf(other));
        cr_assert(memcmp(k1, k2, LOGIN_SECRET_LEN) != 0);
        cr_assert(memcmp(k1, read_key(conf), LOGIN_SECRET_LEN) == 0);
}

Test(login, secret_path_follows_the_state_dir_rule)
{
        struct cove_conf *conf = secret_conf(NULL);
        const unsigned char *key = (const unsigned char *)"x";
        size_t len = 1;
        const char *error = NULL;

        cr_assert_null(login_secret_path(pool, conf));
        cr_assert_eq(login_fake_salt_key(pool, conf, &key, &len, &error), 0);
        cr_assert_null(key);
        cr_assert_eq(len, 0);
        conf->store.path = "/var/lib/cove";
        cr_assert_str_eq(login_secret_path(pool, conf), "/var/lib/cove/state/secret");
}

/* Racing creators (the workers of a daemon started on an old store) end up
   with one secret. */
Test(login, secret_concurrent_creators_agree)
{
        const struct cove_conf *conf = secret_conf(ts->dir);
        const char *path = login_secret_path(pool, conf);
        pid_t pids[8];

        for (size_t i = 0; i < 8; i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        bool created;
                        const char *error;
                        _exit(login_secret_create(pool, path, &created, &error) == 0 ?
                              (created ? 10 : 11) : 1);
                }
        }
        int made = 0;
        for (size_t i = 0; i < 8; i++) {
                int status;
                cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
                cr_assert(WIFEXITED(status));
                cr_assert(WEXITSTATUS(status) == 10 || WEXITSTATUS(status) == 11);
                made += WEXITSTATUS(status) == 10;
        }
        cr_assert_eq(made, 1);
        (void)read_key(conf);
}

Test(login, secret_refused_when_wrong)
{
        const struct cove_conf *conf = secret_conf(ts->dir);
        const char *path = login_secret_path(pool, conf), *error = NULL;
        const unsigned char *key;
        size_t len;

        /* Group-readable. */
        (void)read_key(conf);
        cr_assert_eq(chmod(path, 0640), 0);
        cr_assert_eq(login_fake_salt_key(pool, conf, &key, &len, &error), -1);
        cr_assert_not_null(strstr(error, "group or others"), "%s", error);
        /* Wrong size (never silently replaced). */
        cr_assert_eq(chmod(path, 0600), 0);
        cr_assert_eq(truncate(path, 5), 0);
        cr_assert_eq(login_fake_salt_key(pool, conf, &key, &len, &error), -1);
        cr_assert_not_null(strstr(error, "5 bytes"), "%s", error);
        /* Not a regular file. */
        cr_assert_eq(unlink(path), 0);
        cr_assert_eq(mkdir(path, 0700), 0);
        cr_assert_eq(login_fake_salt_key(pool, conf, &key, &len, &error), -1);
        /* Unwritable directory. */
        const char *missing = pool_printf(pool, "%s/none", ts->dir);
        cr_assert_eq(login_fake_salt_key(pool, secret_conf(missing), &key, &len, &error), -1);
        cr_assert_not_null(strstr(error, "none/secret"), "%s", error);
}

/* ---- the split check: login_check_password and its offload job ---- */

Test(login, check_password_hash_scram_and_unknown)
{
        const char *h, *s, *error;

        cr_assert_eq(password_hash(pool, "pw one", &h, &error), 0);
        cr_assert_eq(password_scram_secret(pool, "pw two", &s, &error), 0);
        cr_assert(login_check_password(h, "", "pw one", 6));
        cr_assert(login_check_password(h, s, "pw one", 6), "the hash wins over the secret");
        cr_assert(!login_check_password(h, s, "pw two", 6));
        cr_assert(login_check_password("", s, "pw two", 6));
        cr_assert(login_check_password(NULL, s, "pw two!", 6), "only len bytes count");
        cr_assert(!login_check_password(NULL, s, "pw one", 6));
        cr_assert(!login_check_password(NULL, NULL, "pw one", 6), "unknown user");
        cr_assert(!login_check_password("", "", "cove-dummy-password-never-matches", 33));
        cr_assert(!login_check_password(h, "", "", 0));
        cr_assert(!login_check_password(h, "", "pw\0one", 6));
        char *big = pool_alloc(pool, PASSWORD_MAX_LEN + 2);
        memset(big, 'a', PASSWORD_MAX_LEN + 1);
        cr_assert(!login_check_password(h, "", big, PASSWORD_MAX_LEN + 1));
}

struct check_result {
        int calls;
        bool ok;
};

static void check_done(bool ok, void *context)
{
        struct check_result *r = context;
        r->calls++;
        r->ok = ok;
}

static void check_never(bool ok, void *context)
{
        cr_assert_fail("a cancelled check was answered");
}

Test(login, check_start_runs_off_the_loop_and_cancels)
{
        struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
        struct offload_pool *offload;
        const char *h, *s, *error;

        cr_assert_eq(offload_pool_create(loop, 1, &offload, &error), 0);
        cr_assert_eq(password_hash(pool, "right", &h, &error), 0);
        cr_assert_eq(password_scram_secret(pool, "scram pw", &s, &error), 0);

        char *pw = pool_strdup(pool, "right");
        struct check_result good = { 0 }, bad = { 0 }, unknown = { 0 }, scram = { 0 };
        struct check_result longpw = { 0 };
        (void)login_check_start(offload, h, "", pw, 5, check_done, &good);
        memset(pw, 'x', 5);     /* the job has its own copy */
        (void)login_check_start(offload, h, "", "wrong", 5, check_done, &bad);
        (void)login_check_start(offload, NULL, NULL, "right", 5, check_done, &unknown);
        (void)login_check_start(offload, "", s, "scram pw", 8, check_done, &scram);
        char *big = pool_alloc(pool, 4000);
        memset(big, 'a', 3999);
        (void)login_check_start(offload, h, s, big, 3999, check_done, &longpw);
        struct offload_job *cancelled = login_check_start(offload, h, "", "right", 5,
                                                          check_never, NULL);
        offload_job_cancel(&cancelled);
        ev_run(loop, 0);
        cr_assert_eq(good.calls, 1);
        cr_assert(good.ok);
        cr_assert_eq(bad.calls, 1);
        cr_assert(!bad.ok);
        cr_assert_eq(unknown.calls, 1);
        cr_assert(!unknown.ok);
        cr_assert_eq(scram.calls, 1);
        cr_assert(scram.ok);
        cr_assert_eq(longpw.calls, 1);
        cr_assert(!longpw.ok);

        /* Cancelled while its thread hashes: never answered, freed after. */
        struct offload_job *running = login_check_start(offload, h, "", "right", 5,
                                                        check_never, NULL);
        usleep(2000);
        offload_job_cancel(&running);
        ev_run(loop, 0);
        cr_assert_eq(offload_pool_outstanding(offload), 0);
        offload_pool_destroy(&offload);
        ev_loop_destroy(loop);
}

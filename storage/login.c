/* login.c - user lookup, plaintext verification and the failed-login
 * throttle for the front-ends (see login.h).
 *
 * Owns: name completion with the default domain, copying user records out of
 * a read txn, equal-cost verification for unknown users, the installation
 * secret file, the bounded throttle table, the password check as an offload
 * job. Does not: speak a protocol, sleep (the daemon delays its answer with
 * a timer) or log secrets.
 */
#include "login.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "offload.h"
#include "password.h"
#include "pool.h"
#include "store.h"

#define LOGIN_THROTTLE_DEFAULT_ENTRIES 4096
#define LOGIN_THROTTLE_PROBES 8
#define LOGIN_IP_MAX 64

bool login_name_resolve(struct pool *pool, const char *name, size_t len,
                        const char *default_domain, const char **name_r)
{
        const char *full, *error;

        if (len == 0 || len > LOGIN_MAX_NAME || memchr(name, '\0', len) != NULL)
                return false;
        if (memchr(name, '@', len) == NULL && default_domain != NULL)
                full = pool_printf(pool, "%.*s@%s", (int)len, name, default_domain);
        else
                full = pool_strndup(pool, name, len);
        return store_user_name_normalize(pool, full, name_r, &error);
}

enum login_result login_user_lookup(struct store *store, struct pool *pool,
                                    const char *default_domain, const char *name,
                                    struct login_user *user_r)
{
        const struct cove_store_user *user;
        struct store_txn *txn;
        const char *normal;
        enum cove_store_err err;

        memset(user_r, 0, sizeof(*user_r));
        if (name == NULL ||
            !login_name_resolve(pool, name, strlen(name), default_domain, &normal))
                return LOGIN_FAIL;
        if (store_txn_begin(store, false, &txn) != COVE_STORE_OK) {
                log_error("login: store: %s", store_last_error(store));
                return LOGIN_TEMPFAIL;
        }
        err = store_user_lookup(txn, normal, &user);
        if (err == COVE_STORE_OK) {
                *user_r = (struct login_user){
                        .id = user->id,
                        .name = pool_strdup(pool, user->name),
                        .password_hash = pool_strdup(pool, user->password_hash != NULL ?
                                                     user->password_hash : ""),
                        .scram_secret = pool_strdup(pool, user->scram_secret != NULL ?
                                                    user->scram_secret : ""),
                        .apop_secret = pool_strdup(pool, user->apop_secret != NULL ?
                                                   user->apop_secret : ""),
                };
        } else if (err != COVE_STORE_NOTFOUND) {
                log_error("login: user lookup: %s", store_last_error(store));
        }
        store_txn_abort(&txn);
        if (err == COVE_STORE_OK)
                return LOGIN_OK;
        return err == COVE_STORE_NOTFOUND ? LOGIN_FAIL : LOGIN_TEMPFAIL;
}

/* A hash of a random password, made once per process (from whichever
   thread first needs it), verified against for unknown users so that they
   cost as much as known ones. NULL if hashing failed (then unknown users are
   merely faster). */
static char *login_dummy;
static pthread_once_t login_dummy_once = PTHREAD_ONCE_INIT;

static void login_dummy_make(void)
{
        struct pool *pool = pool_create("login dummy", 256);
        const char *hash, *error;

        if (password_hash(pool, "cove-dummy-password-never-matches", &hash, &error) == 0)
                login_dummy = xstrdup(hash);
        pool_destroy(&pool);
}

static const char *login_dummy_hash(void)
{
        pthread_once(&login_dummy_once, login_dummy_make);
        return login_dummy;
}

bool login_check_password(const char *password_hash, const char *scram_secret,
                          const char *password, size_t len)
{
        char pw[PASSWORD_MAX_LEN + 1];
        bool ok = false;

        if (len == 0 || len > PASSWORD_MAX_LEN || memchr(password, '\0', len) != NULL)
                return false;
        memcpy(pw, password, len);
        pw[len] = '\0';
        if (password_hash != NULL && *password_hash != '\0') {
                ok = password_verify(pw, password_hash);
        } else if (scram_secret != NULL && *scram_secret != '\0') {
                ok = password_scram_verify(pw, scram_secret);
        } else {
                const char *dummy = login_dummy_hash();
                if (dummy != NULL)
                        (void)password_verify(pw, dummy);
        }
        explicit_bzero(pw, sizeof(pw));
        return ok;
}

enum login_result login_verify_plain(struct store *store, struct pool *pool,
                                     const char *default_domain, const char *name,
                                     const char *password, size_t len,
                                     struct login_user *user_r)
{
        enum login_result res;

        res = login_user_lookup(store, pool, default_domain, name, user_r);
        if (res == LOGIN_TEMPFAIL)
                return res;
        if (res != LOGIN_OK) {
                (void)login_check_password(NULL, NULL, password, len);
                return LOGIN_FAIL;
        }
        if (!login_check_password(user_r->password_hash, user_r->scram_secret, password, len)) {
                memset(user_r, 0, sizeof(*user_r));
                return LOGIN_FAIL;
        }
        return LOGIN_OK;
}

/* ---- off the loop ---- */

/* The job's payload: the password, hash and secret follow it, each
   NUL-terminated. */
struct login_check_job {
        login_check_done_fn *done;
        void *context;
        bool ok;
        size_t password_len, hash_len, secret_len;
        char strings[];
};

static void login_check_run(void *data)
{
        struct login_check_job *j = data;
        const char *password = j->strings;
        const char *hash = password + j->password_len + 1;
        const char *secret = hash + j->hash_len + 1;

        j->ok = login_check_password(hash, secret, password, j->password_len);
}

static void login_check_done(void *data, void *context)
{
        struct login_check_job *j = data;
        j->done(j->ok, j->context);
}

struct offload_job *login_check_start(struct offload_pool *offload, const char *password_hash,
                                      const char *scram_secret, const char *password,
                                      size_t len, login_check_done_fn *done, void *context)
{
        size_t hash_len = password_hash != NULL ? strlen(password_hash) : 0;
        size_t secret_len = scram_secret != NULL ? strlen(scram_secret) : 0;
        /* An over-long password fails without hashing; do not copy it. */
        size_t copy_len = len <= PASSWORD_MAX_LEN ? len : PASSWORD_MAX_LEN + 1;
        struct offload_job *job = offload_job_new(offload, sizeof(struct login_check_job) +
                                                  copy_len + hash_len + secret_len + 3,
                                                  login_check_run, login_check_done, NULL);
        struct login_check_job *j = offload_job_data(job);
        char *p = j->strings;

        j->done = done;
        j->context = context;
        j->password_len = copy_len;
        j->hash_len = hash_len;
        j->secret_len = secret_len;
        memcpy(p, password, copy_len);
        p += copy_len + 1;
        if (hash_len > 0)
                memcpy(p, password_hash, hash_len);
        p += hash_len + 1;
        if (secret_len > 0)
                memcpy(p, scram_secret, secret_len);
        offload_job_submit(job);
        return job;
}

enum sasl_lookup_result login_sasl_lookup(void *context, struct pool *pool,
                                          const char *authcid,
                                          struct sasl_credentials *creds_r)
{
        struct login_sasl *ls = context;
        struct login_user user;

        ls->user_id = 0;
        switch (login_user_lookup(ls->store, pool, ls->default_domain, authcid, &user)) {
        case LOGIN_OK:
                break;
        case LOGIN_FAIL:
                return SASL_LOOKUP_NOUSER;
        case LOGIN_TEMPFAIL:
        default:
                return SASL_LOOKUP_TEMPFAIL;
        }
        ls->user_id = user.id;
        *creds_r = (struct sasl_credentials){
                .user = user.name,
                .password_hash = user.password_hash,
                .scram_secret = user.scram_secret,
        };
        return SASL_LOOKUP_OK;
}

/* ---- the installation secret ---- */

const char *login_secret_path(struct pool *pool, const struct cove_conf *conf)
{
        /* The state directory rule of store.h. */
        if (conf->server.state_dir != NULL && conf->server.state_dir[0] != '\0')
                return pool_printf(pool, "%s/secret", conf->server.state_dir);
        if (conf->store.path != NULL && conf->store.path[0] != '\0')
                return pool_printf(pool, "%s/state/secret", conf->store.path);
        return NULL;
}

static int secret_random(unsigned char *buf, size_t len)
{
        size_t got = 0;
        while (got < len) {
                ssize_t n = getrandom(buf + got, len - got, 0);
                if (n < 0 && errno != EINTR)
                        return -1;
                if (n > 0)
                        got += (size_t)n;
        }
        return 0;
}

/* Writes a fresh secret to a new temp file next to path and returns its
   name, or NULL with errno set. */
static const char *secret_write_temp(struct pool *pool, const char *path)
{
        unsigned char key[LOGIN_SECRET_LEN];
        char *tmp = pool_printf(pool, "%s.XXXXXX", path);
        int fd = mkostemp(tmp, O_CLOEXEC);      /* O_EXCL, mode 0600 */
        if (fd < 0)
                return NULL;
        bool ok = secret_random(key, sizeof(key)) == 0 &&
                  write(fd, key, sizeof(key)) == (ssize_t)sizeof(key) && fsync(fd) == 0;
        int saved = errno;
        explicit_bzero(key, sizeof(key));
        if (close(fd) < 0 && ok) {
                ok = false;
                saved = errno;
        }
        if (!ok) {
                (void)unlink(tmp);
                errno = saved;
                return NULL;
        }
        return tmp;
}

int login_secret_create(struct pool *pool, const char *path, bool *created_r,
                        const char **error_r)
{
        *created_r = false;
        const char *tmp = secret_write_temp(pool, path);
        if (tmp == NULL) {
                *error_r = pool_printf(pool, "creating %s: %s", path, strerror(errno));
                return -1;
        }
        /* link() never replaces: of two creators racing, one wins and the
           other keeps the winner's secret. */
        int ret = link(tmp, path);
        int saved = errno;
        (void)unlink(tmp);
        if (ret == 0) {
                *created_r = true;
                return 0;
        }
        if (saved == EEXIST)
                return 0;
        *error_r = pool_printf(pool, "creating %s: %s", path, strerror(saved));
        return -1;
}

static int secret_read(struct pool *pool, const char *path, unsigned char *key,
                       const char **error_r)
{
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                *error_r = pool_printf(pool, "%s: %s", path, strerror(errno));
                return -1;
        }
        struct stat st;
        const char *error = NULL;
        if (fstat(fd, &st) < 0)
                error = strerror(errno);
        else if (!S_ISREG(st.st_mode))
                error = "not a regular file";
        else if ((st.st_mode & 077) != 0)
                error = "readable by group or others (chmod 600 it)";
        else if (st.st_size != LOGIN_SECRET_LEN)
                error = pool_printf(pool, "%lld bytes, expected %d (delete it to make a new "
                                    "one)", (long long)st.st_size, LOGIN_SECRET_LEN);
        else if (read(fd, key, LOGIN_SECRET_LEN) != LOGIN_SECRET_LEN)
                error = "short read";
        (void)close(fd);
        if (error == NULL)
                return 0;
        *error_r = pool_printf(pool, "%s: %s", path, error);
        return -1;
}

int login_fake_salt_key(struct pool *pool, const struct cove_conf *conf,
                        const unsigned char **key_r, size_t *len_r, const char **error_r)
{
        *key_r = NULL;
        *len_r = 0;
        const char *path = login_secret_path(pool, conf);
        if (path == NULL)
                return 0;
        struct stat st;
        if (lstat(path, &st) < 0) {
                bool created;
                if (errno != ENOENT) {
                        *error_r = pool_printf(pool, "%s: %s", path, strerror(errno));
                        return -1;
                }
                if (login_secret_create(pool, path, &created, error_r) < 0)
                        return -1;
                if (created)
                        log_info("created the installation secret %s", path);
        }
        unsigned char *key = pool_alloc(pool, LOGIN_SECRET_LEN);
        if (secret_read(pool, path, key, error_r) < 0)
                return -1;
        *key_r = key;
        *len_r = LOGIN_SECRET_LEN;
        return 0;
}

/* ---- throttle ---- */

struct login_throttle_entry {
        char ip[LOGIN_IP_MAX];      /* "" = free */
        time_t last_fail;
        unsigned failures;
};

struct login_throttle {
        size_t size;
        struct login_throttle_entry *entries;
};

struct login_throttle *login_throttle_create(size_t max_entries)
{
        struct login_throttle *t = xcalloc(1, sizeof(*t));

        t->size = max_entries != 0 ? max_entries : LOGIN_THROTTLE_DEFAULT_ENTRIES;
        t->entries = xcalloc(t->size, sizeof(*t->entries));
        return t;
}

void login_throttle_destroy(struct login_throttle **throttlep)
{
        struct login_throttle *t = *throttlep;

        if (t == NULL)
                return;
        *throttlep = NULL;
        free(t->entries);
        free(t);
}

/* FNV-1a over the address text. */
static size_t login_ip_hash(const char *ip)
{
        uint64_t h = 14695981039346656037ull;

        for (; *ip != '\0'; ip++)
                h = (h ^ (unsigned char)*ip) * 1099511628211ull;
        return (size_t)h;
}

static bool login_entry_live(const struct login_throttle_entry *e, time_t now)
{
        return e->ip[0] != '\0' && now - e->last_fail < LOGIN_THROTTLE_QUIET_SECS;
}

/* The live entry for ip, or NULL. */
static struct login_throttle_entry *
login_throttle_find(const struct login_throttle *t, const char *key, time_t now)
{
        size_t start = login_ip_hash(key) % t->size;

        for (size_t i = 0; i < LOGIN_THROTTLE_PROBES && i < t->size; i++) {
                struct login_throttle_entry *e = &t->entries[(start + i) % t->size];
                if (strcmp(e->ip, key) == 0)
                        return login_entry_live(e, now) ? e : NULL;
        }
        return NULL;
}

/* A slot for a new entry: a free or expired one among the probes, else the
   stalest of them (bounded table: forgetting beats growing). */
static struct login_throttle_entry *
login_throttle_slot(struct login_throttle *t, const char *key, time_t now)
{
        size_t start = login_ip_hash(key) % t->size;
        struct login_throttle_entry *best = NULL;

        for (size_t i = 0; i < LOGIN_THROTTLE_PROBES && i < t->size; i++) {
                struct login_throttle_entry *e = &t->entries[(start + i) % t->size];
                if (strcmp(e->ip, key) == 0 || !login_entry_live(e, now))
                        return e;
                if (best == NULL || e->last_fail < best->last_fail)
                        best = e;
        }
        return best;
}

static unsigned login_delay_for(unsigned failures)
{
        /* 1st failure 0 s, then 1, 2, 4, 8, capped at 15 s. */
        if (failures <= 1)
                return 0;
        if (failures >= 6)
                return LOGIN_THROTTLE_MAX_DELAY;
        return 1u << (failures - 2);
}

static void login_ip_key(const char *ip, char key[LOGIN_IP_MAX])
{
        size_t len = strnlen(ip, LOGIN_IP_MAX - 1);

        /* UNSAFE: len <= LOGIN_IP_MAX - 1, so the NUL fits. */
        memcpy(key, ip, len);
        key[len] = '\0';
        if (len == 0) {
                key[0] = '-';
                key[1] = '\0';
        }
}

unsigned login_throttle_fail(struct login_throttle *throttle, const char *ip, time_t now)
{
        char key[LOGIN_IP_MAX];
        struct login_throttle_entry *e;

        login_ip_key(ip, key);
        e = login_throttle_find(throttle, key, now);
        if (e == NULL) {
                e = login_throttle_slot(throttle, key, now);
                memcpy(e->ip, key, sizeof(key));
                e->failures = 0;
        }
        if (e->failures < 64)
                e->failures++;
        e->last_fail = now;
        return login_delay_for(e->failures);
}

unsigned login_throttle_peek(const struct login_throttle *throttle, const char *ip,
                             time_t now)
{
        char key[LOGIN_IP_MAX];
        const struct login_throttle_entry *e;

        login_ip_key(ip, key);
        e = login_throttle_find(throttle, key, now);
        return login_delay_for(e != NULL ? e->failures + 1 : 1);
}

void login_throttle_success(struct login_throttle *throttle, const char *ip)
{
        char key[LOGIN_IP_MAX];
        size_t start;

        login_ip_key(ip, key);
        start = login_ip_hash(key) % throttle->size;
        for (size_t i = 0; i < LOGIN_THROTTLE_PROBES && i < throttle->size; i++) {
                struct login_throttle_entry *e = &throttle->entries[(start + i) % throttle->size];
                if (strcmp(e->ip, key) == 0)
                        memset(e, 0, sizeof(*e));
        }
}

/* login.h - authentication glue between core/sasl.h, core/password.h and the
 * store, shared by every front-end.
 *
 * Owns: login-name resolution ([server] default_domain for bare names), user
 * lookup for SASL (a sasl_lookup_fn), plaintext verification (USER/PASS, IMAP
 * LOGIN), the per-installation secret behind SCRAM's fake salts and a
 * per-client-address failed-login throttle. Refuses: any
 * protocol syntax, base64, mechanism choice or the plaintext-over-cleartext
 * policy (the daemon decides what it offers).
 */
#ifndef COVE_LOGIN_H
#define COVE_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sasl.h"

struct pool;
struct store;
struct cove_conf;
struct login_throttle;

/* Longest login name accepted, in bytes (longer: a failure, never a lookup). */
#define LOGIN_MAX_NAME 512

enum login_result {
        LOGIN_OK = 0,
        LOGIN_FAIL,       /* unknown user, wrong password, bad name: never say which */
        LOGIN_TEMPFAIL,   /* the store failed; the client may retry later */
};

/* A user as the daemons need it after login. Strings live in the pool given
   to the call that filled it. */
struct login_user {
        uint32_t id;
        const char *name;            /* canonical "local@domain" */
        const char *password_hash;   /* "" when none */
        const char *scram_secret;    /* "" when none */
        const char *apop_secret;     /* POP3 APOP secret; "" when none */
};

/* Turns what a client typed into the store's user name: a name without '@'
   gets "@default_domain" (when default_domain is not NULL), then the store's
   normalisation applies (lower-case domain). False for an empty, over-long,
   NUL-containing or otherwise invalid name. *name_r lives in pool. */
bool login_name_resolve(struct pool *pool, const char *name, size_t len,
                        const char *default_domain, const char **name_r);

/* Looks `name` up (resolved as above) in its own read txn and copies the
   record into *user_r (strings in pool). LOGIN_FAIL when there is no such
   user or the name is invalid; LOGIN_TEMPFAIL when the store fails. */
enum login_result login_user_lookup(struct store *store, struct pool *pool,
                                    const char *default_domain, const char *name,
                                    struct login_user *user_r);

/* Plaintext login (USER/PASS, IMAP LOGIN, SASL LOGIN done by hand): looks the
   user up and checks password (len bytes, may not contain NUL) against the
   stored hash, or against the SCRAM secret when the user has no hash. An
   unknown user costs the same hashing work as a known one, so timing does
   not reveal which names exist. Blocks for the hash's cost (milliseconds):
   daemons use login_user_lookup() and login_check_start() instead. */
enum login_result login_verify_plain(struct store *store, struct pool *pool,
                                     const char *default_domain, const char *name,
                                     const char *password, size_t len,
                                     struct login_user *user_r);

/* The CPU-heavy half of a plaintext login, safe on any thread (it touches
   only its arguments): checks password (len bytes) against password_hash,
   or against scram_secret when there is no hash. Both NULL or "" (an
   unknown user, or one without credentials) cost one verification of a
   dummy hash and fail, so timing does not reveal which names exist. False at
   once for an empty, over-long or NUL-containing password. Blocks for the
   hash's cost. */
bool login_check_password(const char *password_hash, const char *scram_secret,
                          const char *password, size_t len);

/* ---- verification off the event loop (core/offload.h) ----
   A daemon looks the user up on its loop (login_user_lookup, or SASL's
   lookup), then hands the hash to a thread of its offload pool. */

struct offload_pool;
struct offload_job;

/* Called on the loop with the outcome of login_check_password(), unless the
   job was cancelled. The job is freed after it returns. */
typedef void login_check_done_fn(bool ok, void *context);

/* Runs login_check_password() on a thread of offload. The hash, the secret
   and the password are copied into the job (the password copy is wiped when
   the job is freed), so the caller's strings may go at once. Returns the job:
   drop it in done, or give it up with offload_job_cancel() (for instance when
   the connection closes first); done is then never called. */
struct offload_job *login_check_start(struct offload_pool *offload, const char *password_hash,
                                      const char *scram_secret, const char *password,
                                      size_t len, login_check_done_fn *done, void *context);

/* ---- SASL ---- */

/* The context of login_sasl_lookup(). The daemon fills store and
   default_domain; the lookup sets user_id to the id of the user it found (0
   when none), so after SASL_DONE_OK the daemon knows who logged in without a
   second lookup. One per exchange (it lives in the session or command pool). */
struct login_sasl {
        struct store *store;
        const char *default_domain;   /* NULL: bare names are not completed */
        uint32_t user_id;             /* out: set by the lookup */
};

/* A sasl_lookup_fn over the store: context is a struct login_sasl. Applies
   default_domain, answers NOUSER for unknown or invalid names, TEMPFAIL when
   the store fails; credentials are copied into pool. */
enum sasl_lookup_result login_sasl_lookup(void *context, struct pool *pool,
                                          const char *authcid,
                                          struct sasl_credentials *creds_r);

/* ---- the installation secret (SCRAM fake salts) ----
   SCRAM tells a client the salt of the user it names. For an unknown user
   core/sasl.c makes up a salt with HMAC-SHA-256(key, name); the key must be
   a secret that stays the same across restarts and workers, or a client
   could tell made-up salts (they would change) from real ones. The key is
   LOGIN_SECRET_LEN random bytes in the file <state>/secret, where <state>
   is the store's state directory ([server] state_dir, else
   <[store] path>/state, as in store.h), mode 0600, owned by the user the
   daemons run as. `covectl init` creates it; a daemon creates it on its
   first start when it is missing (stores made before it existed). */

#define LOGIN_SECRET_LEN 32

/* The secret file's path, in pool; NULL when neither [server] state_dir nor
   [store] path is set (then there is no installation-wide secret). */
const char *login_secret_path(struct pool *pool, const struct cove_conf *conf);

/* Creates the secret file at path unless it exists: random bytes written
   to a temp file in the same directory (O_EXCL, mode 0600), synced, then
   linked to path, so a concurrent creator or reader never sees a partial
   file and an existing secret is never replaced. *created_r tells whether
   this call made it. -1 with *error_r (in pool) on failure. */
int login_secret_create(struct pool *pool, const char *path, bool *created_r,
                        const char **error_r);

/* Reads the secret for conf's installation into pool, creating it first
   when it is missing. *key_r is NULL and *len_r 0 when conf has no state
   directory (see login_secret_path). Fails (-1, *error_r in pool) when the
   file cannot be created or read, is not a regular file of exactly
   LOGIN_SECRET_LEN bytes, or can be read by group or others. Call it in each
   worker after the privilege drop; the key lives as long as pool. */
int login_fake_salt_key(struct pool *pool, const struct cove_conf *conf,
                        const unsigned char **key_r, size_t *len_r, const char **error_r);

/* ---- failed-login throttle ----
   An in-process table of client addresses with recent failures, bounded in
   size (a full table forgets its stalest entries). Each failure raises the
   delay the daemon should wait before answering the next failure from that
   address: 0, 1, 2, 4, 8, then 15 s. An address with no failure for
   LOGIN_THROTTLE_QUIET_SECS is forgotten; a success forgets it at once.
   Per worker process: with N workers an address may get up to N times the
   attempts. Times are passed in (monotonic seconds) so tests need no clock. */

#define LOGIN_THROTTLE_MAX_DELAY 15
#define LOGIN_THROTTLE_QUIET_SECS 300

/* max_entries 0 means 4096. Free with login_throttle_destroy(). */
struct login_throttle *login_throttle_create(size_t max_entries);
void login_throttle_destroy(struct login_throttle **throttlep);

/* Records a failed login from ip ("192.0.2.1", any string up to 63 bytes;
   longer ones are truncated) and returns the seconds to wait before
   answering it. */
unsigned login_throttle_fail(struct login_throttle *throttle, const char *ip, time_t now);
/* The delay the next failure from ip would get now, without recording it. */
unsigned login_throttle_peek(const struct login_throttle *throttle, const char *ip,
                             time_t now);
/* A successful login from ip: forget its failures. */
void login_throttle_success(struct login_throttle *throttle, const char *ip);

#endif

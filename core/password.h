/* password.h - password hashing, verification and SCRAM-SHA-256 secrets.
 *
 * Owns the stored formats (docs/passwords.md): crypt(3) hashes made with
 * libcrypt (yescrypt by default, SHA512-CRYPT), "$pbkdf2-sha256$" hashes,
 * Dovecot "{SCHEME}" prefixes on import, and RFC 5803 SCRAM-SHA-256 secrets.
 * Refuses plaintext, empty and weak legacy hashes (DES crypt, {PLAIN}, MD5
 * digests). Knows nothing about users, stores or protocols.
 */
#ifndef COVE_PASSWORD_H
#define COVE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

struct pool;

/* Longest password accepted for hashing or verification, in bytes. Longer
   input fails (hash) or never matches (verify): it bounds the work a client
   can cause, and stays below libcrypt's passphrase limit. */
#define PASSWORD_MAX_LEN 256
/* Longest stored hash or SCRAM secret string accepted, in bytes. */
#define PASSWORD_HASH_MAX_LEN 512

enum password_scheme {
        PASSWORD_SCHEME_YESCRYPT = 0,   /* "$y$", the default */
        PASSWORD_SCHEME_SHA512_CRYPT,   /* "$6$" */
        PASSWORD_SCHEME_PBKDF2_SHA256,  /* "$pbkdf2-sha256$i=<n>$<salt>$<hash>" */
};

/* How password_hash_with() hashes. cost 0 means the scheme's default:
     YESCRYPT       libcrypt cost factor 1..11, default 5 (about 16 MiB, ~15 ms)
     SHA512_CRYPT   rounds 1000..999999999, default 100000
     PBKDF2_SHA256  iterations 100000..100000000, default 210000 */
struct password_params {
        enum password_scheme scheme;
        unsigned long cost;
};

/* The defaults password_hash() uses: yescrypt at its default cost. */
extern const struct password_params password_params_default;

/* Scheme names for config and covectl: "yescrypt", "sha512-crypt",
   "pbkdf2-sha256" (case-insensitive). */
bool password_scheme_parse(const char *name, enum password_scheme *scheme_r);
const char *password_scheme_name(enum password_scheme scheme);

/* Hashes password with the default scheme and a fresh random salt. *hash_r is
   a NUL-terminated string in pool. Fails (static *error_r) on an empty
   password, one longer than PASSWORD_MAX_LEN or with a NUL, or when libcrypt
   or the random source fails. */
int password_hash(struct pool *pool, const char *password, const char **hash_r,
                  const char **error_r);

/* Same with an explicit scheme and cost; an out-of-range cost fails. */
int password_hash_with(struct pool *pool, const char *password,
                       const struct password_params *params, const char **hash_r,
                       const char **error_r);

/* Checks password against stored_hash in constant time (with respect to the
   bytes of the hash). Accepts every format in docs/passwords.md: Cove's own,
   any "$id$" crypt(3) hash libcrypt implements ($y$, $gy$, $7$, $2b$/$2y$,
   $6$, $5$, $1$), and Dovecot "{SHA512-CRYPT}", "{SHA256-CRYPT}",
   "{BLF-CRYPT}", "{MD5-CRYPT}", "{CRYPT}" and "{PBKDF2}" prefixes. Returns
   false for a wrong password and for a NULL, empty, unknown, malformed or
   plaintext stored_hash; never crashes on garbage. Takes as long as the
   scheme's cost. */
bool password_verify(const char *password, const char *stored_hash);

/* Checks that stored_hash is in a format password_verify() accepts (for
   covectl imports), without a password. On failure *error_r (static) says
   why. */
int password_hash_check(const char *stored_hash, const char **error_r);

/* True when stored_hash is not in the scheme and cost of params (so a login
   that just verified may store a fresh hash). */
bool password_hash_needs_rehash(const char *stored_hash, const struct password_params *params);

/* ---- SCRAM-SHA-256 (RFC 5802, RFC 7677) stored secrets ---- */

#define PASSWORD_SCRAM_KEY_LEN 32              /* SHA-256 output */
#define PASSWORD_SCRAM_SALT_LEN 16             /* salt of new secrets */
#define PASSWORD_SCRAM_MIN_ITERATIONS 4096     /* RFC 7677 §4 */
#define PASSWORD_SCRAM_MAX_ITERATIONS 10000000 /* bounds work on parse */
#define PASSWORD_SCRAM_DEFAULT_ITERATIONS 10000
#define PASSWORD_SCRAM_MAX_SALT_LEN 64

/* A parsed secret. salt points into the pool given to the parse call. */
struct password_scram {
        unsigned int iterations;
        const unsigned char *salt;
        size_t salt_len;
        unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN];
        unsigned char server_key[PASSWORD_SCRAM_KEY_LEN];
};

/* Makes the RFC 5803 string
     "SCRAM-SHA-256$<iterations>:<salt-b64>$<StoredKey-b64>:<ServerKey-b64>"
   with PASSWORD_SCRAM_DEFAULT_ITERATIONS and a random 16-byte salt. The
   password is used as raw UTF-8 bytes (no SASLprep; see docs/passwords.md).
   *secret_r lives in pool. Fails like password_hash(). */
int password_scram_secret(struct pool *pool, const char *password, const char **secret_r,
                          const char **error_r);

/* Same with explicit iterations (MIN..MAX) and salt (1..MAX_SALT_LEN bytes),
   for tests and known vectors. */
int password_scram_secret_with(struct pool *pool, const char *password, unsigned int iterations,
                               const unsigned char *salt, size_t salt_len,
                               const char **secret_r, const char **error_r);

/* Parses a secret made above (or by any RFC 5803 SCRAM-SHA-256 producer).
   Rejects other mechanisms, iterations outside MIN..MAX, bad base64, keys
   that are not 32 bytes, and trailing garbage. scram_r->salt lives in pool. */
int password_scram_secret_parse(struct pool *pool, const char *secret,
                                struct password_scram *scram_r, const char **error_r);

/* Checks a plaintext password against a SCRAM secret (recomputes StoredKey);
   constant-time compare. False on any parse error. */
bool password_scram_verify(const char *password, const char *secret);

/* SaltedPassword := Hi(password, salt, iterations), RFC 5802 §3, into out
   (PASSWORD_SCRAM_KEY_LEN bytes). -1 only if OpenSSL fails. */
int password_scram_salted_password(const char *password, size_t password_len,
                                   const unsigned char *salt, size_t salt_len,
                                   unsigned int iterations,
                                   unsigned char out[PASSWORD_SCRAM_KEY_LEN]);

#endif

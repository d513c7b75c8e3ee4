/* password.c - password hashes: making, checking and verifying (see password.h).
 *
 * Owns crypt(3) hashing through libcrypt, the "$pbkdf2-sha256$" format, the
 * Dovecot "{SCHEME}" import prefixes, RFC 5803 SCRAM-SHA-256 secrets and
 * constant-time comparison. Does not: accept plaintext or unsalted digests,
 * or know where hashes are stored.
 */
#include "password.h"

#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base64.h"
#include "buf.h"
#include "log.h"
#include "pool.h"

#define YESCRYPT_COST_MIN 1
#define YESCRYPT_COST_MAX 11
#define YESCRYPT_COST_DEFAULT 5
#define SHA512_ROUNDS_MIN 1000
#define SHA512_ROUNDS_MAX 999999999
#define SHA512_ROUNDS_DEFAULT 100000
#define PBKDF2_ITER_MIN 100000
#define PBKDF2_ITER_MAX 100000000
#define PBKDF2_ITER_DEFAULT 210000
/* Stored hashes made elsewhere may use fewer iterations; verification accepts
   them (and password_hash_needs_rehash() flags them). */
#define PBKDF2_VERIFY_ITER_MIN 1000
#define PBKDF2_SALT_LEN 16
#define PBKDF2_KEY_LEN 32
#define PBKDF2_PREFIX "$pbkdf2-sha256$i="
#define DOVECOT_PBKDF2_KEY_LEN 20 /* PBKDF2-HMAC-SHA1 output */

_Static_assert(PASSWORD_MAX_LEN < CRYPT_MAX_PASSPHRASE_SIZE, "libcrypt refuses longer phrases");

const struct password_params password_params_default = {
        .scheme = PASSWORD_SCHEME_YESCRYPT,
        .cost = 0,
};

struct password_scheme_info {
        enum password_scheme scheme;
        const char *name;
        unsigned long cost_min, cost_max, cost_default;
};

static const struct password_scheme_info password_schemes[] = {
        { .scheme = PASSWORD_SCHEME_YESCRYPT, .name = "yescrypt",
          .cost_min = YESCRYPT_COST_MIN, .cost_max = YESCRYPT_COST_MAX,
          .cost_default = YESCRYPT_COST_DEFAULT },
        { .scheme = PASSWORD_SCHEME_SHA512_CRYPT, .name = "sha512-crypt",
          .cost_min = SHA512_ROUNDS_MIN, .cost_max = SHA512_ROUNDS_MAX,
          .cost_default = SHA512_ROUNDS_DEFAULT },
        { .scheme = PASSWORD_SCHEME_PBKDF2_SHA256, .name = "pbkdf2-sha256",
          .cost_min = PBKDF2_ITER_MIN, .cost_max = PBKDF2_ITER_MAX,
          .cost_default = PBKDF2_ITER_DEFAULT },
};

static const struct password_scheme_info *password_scheme_info(enum password_scheme scheme)
{
        for (size_t i = 0; i < N_ELEMENTS(password_schemes); i++) {
                if (password_schemes[i].scheme == scheme)
                        return &password_schemes[i];
        }
        return NULL;
}

bool password_scheme_parse(const char *name, enum password_scheme *scheme_r)
{
        for (size_t i = 0; i < N_ELEMENTS(password_schemes); i++) {
                if (name != NULL && str_eq_nocase(name, password_schemes[i].name)) {
                        *scheme_r = password_schemes[i].scheme;
                        return true;
                }
        }
        return false;
}

const char *password_scheme_name(enum password_scheme scheme)
{
        const struct password_scheme_info *info = password_scheme_info(scheme);
        return info == NULL ? "unknown" : info->name;
}

static int password_input_check(const char *password, size_t *len_r, const char **error_r)
{
        if (password == NULL || password[0] == '\0') {
                *error_r = "empty password";
                return -1;
        }
        size_t len = strnlen(password, PASSWORD_MAX_LEN + 1);
        if (len > PASSWORD_MAX_LEN) {
                *error_r = "password too long";
                return -1;
        }
        *len_r = len;
        return 0;
}

static bool password_mem_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
        /* The lengths of stored hashes are not secret; only the bytes are. */
        return a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0;
}

/* ---- crypt(3) through libcrypt ---- */

/* crypt_rn() into heap scratch that is wiped afterwards (struct crypt_data is
   ~32 KiB, too big for a worker's stack habits). Copies the result into out,
   which holds CRYPT_OUTPUT_SIZE bytes. false when libcrypt refuses. */
static bool password_crypt(const char *password, const char *setting, char *out)
{
        struct crypt_data *data = xcalloc(1, sizeof(*data));
        const char *res = crypt_rn(password, setting, data, (int)sizeof(*data));
        bool ok = res != NULL && res[0] != '*';
        if (ok)
                memcpy(out, res, strnlen(res, CRYPT_OUTPUT_SIZE - 1) + 1);
        OPENSSL_cleanse(data, sizeof(*data));
        free(data);
        return ok;
}

static int password_hash_crypt(struct pool *pool, const char *password, const char *prefix,
                               unsigned long cost, const char **hash_r, const char **error_r)
{
        char setting[CRYPT_GENSALT_OUTPUT_SIZE];
        unsigned char rnd[16];
        char out[CRYPT_OUTPUT_SIZE];

        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
                *error_r = "random source failed";
                return -1;
        }
        if (crypt_gensalt_rn(prefix, cost, (const char *)rnd, (int)sizeof(rnd), setting,
                             (int)sizeof(setting)) == NULL) {
                *error_r = "libcrypt cannot make a salt for this scheme";
                return -1;
        }
        if (!password_crypt(password, setting, out)) {
                *error_r = "libcrypt failed to hash the password";
                return -1;
        }
        *hash_r = pool_strdup(pool, out);
        OPENSSL_cleanse(out, sizeof(out));
        return 0;
}

/* Characters that may appear in a modular crypt string ("$id$params$salt$hash"). */
static bool password_crypt_chars_ok(const char *hash)
{
        return hash[strspn(hash, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz$=,-")] == '\0';
}

static bool password_verify_crypt(const char *password, const char *hash)
{
        char out[CRYPT_OUTPUT_SIZE];

        /* Only "$id$..." hashes: DES and BSDi crypt truncate or weaken. */
        if (hash[0] != '$' || !password_crypt_chars_ok(hash))
                return false;
        if (crypt_checksalt(hash) == CRYPT_SALT_INVALID)
                return false;
        if (!password_crypt(password, hash, out))
                return false;
        bool ok = password_mem_equal(out, strlen(out), hash, strlen(hash));
        OPENSSL_cleanse(out, sizeof(out));
        return ok;
}

static int password_check_crypt(const char *hash, const char **error_r)
{
        char out[CRYPT_OUTPUT_SIZE];

        if (hash[0] != '$' || !password_crypt_chars_ok(hash) ||
            crypt_checksalt(hash) == CRYPT_SALT_INVALID) {
                *error_r = "not a crypt(3) hash libcrypt supports";
                return -1;
        }
        /* Hash a dummy password with the same setting: the output must have
           the stored hash's shape (same setting, same length). */
        if (!password_crypt("x", hash, out)) {
                *error_r = "libcrypt rejects this hash";
                return -1;
        }
        const char *a = strrchr(out, '$'), *b = strrchr(hash, '$');
        bool same = a != NULL && b != NULL && a - out == b - hash &&
                    memcmp(out, hash, (size_t)(a - out)) == 0 && strlen(a) == strlen(b);
        if (!same) {
                *error_r = "malformed crypt(3) hash";
                return -1;
        }
        return 0;
}

/* ---- $pbkdf2-sha256$i=<n>$<salt-b64>$<key-b64> ---- */

struct password_pbkdf2 {
        unsigned long iterations;
        unsigned char *salt;
        size_t salt_len;
        unsigned char *key;
        size_t key_len;
};

static int password_pbkdf2_parse(struct pool *pool, const char *hash,
                                 struct password_pbkdf2 *p_r, const char **error_r)
{
        const char *error;
        uint64_t iter;

        *error_r = "malformed pbkdf2-sha256 hash";
        if (strncmp(hash, PBKDF2_PREFIX, strlen(PBKDF2_PREFIX)) != 0)
                return -1;
        const char *p = hash + strlen(PBKDF2_PREFIX);
        const char *salt = strchr(p, '$');
        if (salt == NULL || !str_to_u64_n(p, (size_t)(salt - p), &iter) ||
            (salt - p > 1 && p[0] == '0'))
                return -1;
        salt++;
        const char *key = strchr(salt, '$');
        if (key == NULL)
                return -1;
        key++;
        if (iter < PBKDF2_VERIFY_ITER_MIN || iter > PBKDF2_ITER_MAX) {
                *error_r = "pbkdf2-sha256 iteration count out of range";
                return -1;
        }
        if (base64_decode(pool, salt, (size_t)(key - 1 - salt), 64, &p_r->salt,
                          &p_r->salt_len, &error) < 0 || p_r->salt_len < 8 ||
            base64_decode(pool, key, strlen(key), 64, &p_r->key, &p_r->key_len,
                          &error) < 0 || p_r->key_len != PBKDF2_KEY_LEN)
                return -1;
        p_r->iterations = (unsigned long)iter;
        return 0;
}

static int password_pbkdf2_derive(const char *password, size_t password_len,
                                  const unsigned char *salt, size_t salt_len,
                                  unsigned long iterations, const EVP_MD *md,
                                  unsigned char *key, size_t key_len)
{
        return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len,
                                 (int)iterations, md, (int)key_len, key) == 1 ? 0 : -1;
}

static int password_hash_pbkdf2(struct pool *pool, const char *password, size_t password_len,
                                unsigned long iterations, const char **hash_r,
                                const char **error_r)
{
        unsigned char salt[PBKDF2_SALT_LEN], key[PBKDF2_KEY_LEN];

        if (RAND_bytes(salt, sizeof(salt)) != 1) {
                *error_r = "random source failed";
                return -1;
        }
        if (password_pbkdf2_derive(password, password_len, salt, sizeof(salt), iterations,
                                   EVP_sha256(), key, sizeof(key)) < 0) {
                *error_r = "PBKDF2 failed";
                return -1;
        }
        *hash_r = pool_printf(pool, PBKDF2_PREFIX "%lu$%s$%s", iterations,
                              base64_encode(pool, salt, sizeof(salt)),
                              base64_encode(pool, key, sizeof(key)));
        OPENSSL_cleanse(key, sizeof(key));
        return 0;
}

static bool password_verify_pbkdf2(struct pool *pool, const char *password,
                                   size_t password_len, const char *hash)
{
        struct password_pbkdf2 p;
        unsigned char key[PBKDF2_KEY_LEN];
        const char *error;

        if (password_pbkdf2_parse(pool, hash, &p, &error) < 0)
                return false;
        if (password_pbkdf2_derive(password, password_len, p.salt, p.salt_len, p.iterations,
                                   EVP_sha256(), key, sizeof(key)) < 0)
                return false;
        bool ok = password_mem_equal(key, sizeof(key), p.key, p.key_len);
        OPENSSL_cleanse(key, sizeof(key));
        return ok;
}

/* ---- Dovecot {PBKDF2}: "$1$<salt>$<rounds>$<40 hex>", PBKDF2-HMAC-SHA1 ---- */

static int password_hex_decode(const char *hex, size_t hex_len, unsigned char *out,
                               size_t out_len)
{
        if (hex_len != out_len * 2)
                return -1;
        for (size_t i = 0; i < out_len; i++) {
                unsigned v = 0;
                for (size_t k = 0; k < 2; k++) {
                        char c = hex[2 * i + k];
                        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
                                     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) :
                                     c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
                        if (d == 16)
                                return -1;
                        v = v << 4 | d;
                }
                out[i] = (unsigned char)v;
        }
        return 0;
}

struct password_dovecot_pbkdf2 {
        const unsigned char *salt;
        size_t salt_len;
        unsigned long rounds;
        unsigned char key[DOVECOT_PBKDF2_KEY_LEN];
};

static int password_dovecot_pbkdf2_parse(const char *hash, struct password_dovecot_pbkdf2 *p_r)
{
        uint64_t rounds;

        if (strncmp(hash, "$1$", 3) != 0)
                return -1;
        const char *salt = hash + 3, *r = strchr(salt, '$');
        if (r == NULL || r == salt)
                return -1;
        const char *hex = strchr(++r, '$');
        if (hex == NULL || !str_to_u64_n(r, (size_t)(hex - r), &rounds) ||
            rounds < 1 || rounds > PBKDF2_ITER_MAX)
                return -1;
        hex++;
        if (password_hex_decode(hex, strlen(hex), p_r->key, sizeof(p_r->key)) < 0)
                return -1;
        p_r->salt = (const unsigned char *)salt;
        p_r->salt_len = (size_t)(r - 1 - salt);
        p_r->rounds = (unsigned long)rounds;
        return 0;
}

static bool password_verify_dovecot_pbkdf2(const char *password, size_t password_len,
                                           const char *hash)
{
        struct password_dovecot_pbkdf2 p;
        unsigned char key[DOVECOT_PBKDF2_KEY_LEN];

        if (password_dovecot_pbkdf2_parse(hash, &p) < 0)
                return false;
        if (password_pbkdf2_derive(password, password_len, p.salt, p.salt_len, p.rounds,
                                   EVP_sha1(), key, sizeof(key)) < 0)
                return false;
        bool ok = password_mem_equal(key, sizeof(key), p.key, sizeof(p.key));
        OPENSSL_cleanse(key, sizeof(key));
        return ok;
}

/* ---- format dispatch ---- */

enum password_format {
        PASSWORD_FORMAT_NONE = 0,
        PASSWORD_FORMAT_CRYPT,
        PASSWORD_FORMAT_PBKDF2_SHA256,
        PASSWORD_FORMAT_DOVECOT_PBKDF2,
};

/* Dovecot scheme prefixes Cove imports, with the crypt id each must carry
   ("" = any "$id$" crypt hash). Plaintext and digest schemes ({PLAIN},
   {SHA256}, {SSHA}, {PLAIN-MD5}, ...) are deliberately absent. */
static const struct {
        const char *prefix;
        enum password_format format;
        const char *crypt_id;
} dovecot_prefixes[] = {
        { .prefix = "{SHA512-CRYPT}", .format = PASSWORD_FORMAT_CRYPT, .crypt_id = "$6$" },
        { .prefix = "{SHA256-CRYPT}", .format = PASSWORD_FORMAT_CRYPT, .crypt_id = "$5$" },
        { .prefix = "{BLF-CRYPT}", .format = PASSWORD_FORMAT_CRYPT, .crypt_id = "$2" },
        { .prefix = "{MD5-CRYPT}", .format = PASSWORD_FORMAT_CRYPT, .crypt_id = "$1$" },
        { .prefix = "{CRYPT}", .format = PASSWORD_FORMAT_CRYPT, .crypt_id = "" },
        { .prefix = "{PBKDF2}", .format = PASSWORD_FORMAT_DOVECOT_PBKDF2, .crypt_id = "" },
};

/* Classifies stored; *body_r is the part after any Dovecot prefix. */
static enum password_format password_format_of(const char *stored, const char **body_r)
{
        *body_r = stored;
        if (stored == NULL || stored[0] == '\0' ||
            strnlen(stored, PASSWORD_HASH_MAX_LEN + 1) > PASSWORD_HASH_MAX_LEN)
                return PASSWORD_FORMAT_NONE;
        if (stored[0] == '{') {
                for (size_t i = 0; i < N_ELEMENTS(dovecot_prefixes); i++) {
                        const char *pfx = dovecot_prefixes[i].prefix;
                        if (!str_has_prefix_nocase(stored, pfx))
                                continue;
                        const char *body = stored + strlen(pfx);
                        if (strncmp(body, dovecot_prefixes[i].crypt_id,
                                    strlen(dovecot_prefixes[i].crypt_id)) != 0)
                                return PASSWORD_FORMAT_NONE;
                        *body_r = body;
                        return dovecot_prefixes[i].format;
                }
                return PASSWORD_FORMAT_NONE;
        }
        if (strncmp(stored, "$pbkdf2-sha256$", 15) == 0)
                return PASSWORD_FORMAT_PBKDF2_SHA256;
        if (stored[0] == '$')
                return PASSWORD_FORMAT_CRYPT;
        return PASSWORD_FORMAT_NONE;
}

int password_hash_with(struct pool *pool, const char *password,
                       const struct password_params *params, const char **hash_r,
                       const char **error_r)
{
        const struct password_scheme_info *info = password_scheme_info(params->scheme);
        size_t len;

        if (info == NULL) {
                *error_r = "unknown password scheme";
                return -1;
        }
        if (password_input_check(password, &len, error_r) < 0)
                return -1;
        unsigned long cost = params->cost == 0 ? info->cost_default : params->cost;
        if (cost < info->cost_min || cost > info->cost_max) {
                *error_r = pool_printf(pool, "%s cost must be %lu..%lu", info->name,
                                       info->cost_min, info->cost_max);
                return -1;
        }
        switch (params->scheme) {
        case PASSWORD_SCHEME_YESCRYPT:
                return password_hash_crypt(pool, password, "$y$", cost, hash_r, error_r);
        case PASSWORD_SCHEME_SHA512_CRYPT:
                return password_hash_crypt(pool, password, "$6$", cost, hash_r, error_r);
        case PASSWORD_SCHEME_PBKDF2_SHA256:
                return password_hash_pbkdf2(pool, password, len, cost, hash_r, error_r);
        }
        *error_r = "unknown password scheme";
        return -1;
}

int password_hash(struct pool *pool, const char *password, const char **hash_r,
                  const char **error_r)
{
        return password_hash_with(pool, password, &password_params_default, hash_r, error_r);
}

bool password_verify(const char *password, const char *stored_hash)
{
        const char *body, *error;
        size_t len;
        bool ok = false;

        enum password_format format = password_format_of(stored_hash, &body);
        if (format == PASSWORD_FORMAT_NONE || password_input_check(password, &len, &error) < 0)
                return false;
        switch (format) {
        case PASSWORD_FORMAT_CRYPT:
                ok = password_verify_crypt(password, body);
                break;
        case PASSWORD_FORMAT_PBKDF2_SHA256: {
                struct pool *pool = pool_create("password verify", 256);
                ok = password_verify_pbkdf2(pool, password, len, body);
                pool_destroy(&pool);
                break;
        }
        case PASSWORD_FORMAT_DOVECOT_PBKDF2:
                ok = password_verify_dovecot_pbkdf2(password, len, body);
                break;
        case PASSWORD_FORMAT_NONE:
                break;
        }
        return ok;
}

int password_hash_check(const char *stored_hash, const char **error_r)
{
        const char *body;
        int ret = -1;

        switch (password_format_of(stored_hash, &body)) {
        case PASSWORD_FORMAT_NONE:
                *error_r = "unsupported or plaintext password hash";
                return -1;
        case PASSWORD_FORMAT_CRYPT:
                return password_check_crypt(body, error_r);
        case PASSWORD_FORMAT_PBKDF2_SHA256: {
                struct pool *pool = pool_create("password check", 256);
                struct password_pbkdf2 p;
                ret = password_pbkdf2_parse(pool, body, &p, error_r);
                pool_destroy(&pool);
                return ret;
        }
        case PASSWORD_FORMAT_DOVECOT_PBKDF2: {
                struct password_dovecot_pbkdf2 p;
                *error_r = "malformed Dovecot {PBKDF2} hash";
                return password_dovecot_pbkdf2_parse(body, &p);
        }
        }
        return ret;
}

/* The part of a crypt setting before the salt: "$y$j9T$", "$6$rounds=N$". */
static size_t password_crypt_params_len(const char *setting)
{
        const char *last = strrchr(setting, '$');
        return last == NULL ? 0 : (size_t)(last - setting) + 1;
}

bool password_hash_needs_rehash(const char *stored_hash, const struct password_params *params)
{
        const struct password_scheme_info *info = password_scheme_info(params->scheme);
        unsigned long cost = params->cost == 0 && info != NULL ? info->cost_default : params->cost;
        char setting[CRYPT_GENSALT_OUTPUT_SIZE];

        if (info == NULL || stored_hash == NULL)
                return true;
        if (params->scheme == PASSWORD_SCHEME_PBKDF2_SHA256) {
                char want[64];
                snprintf(want, sizeof(want), PBKDF2_PREFIX "%lu$", cost);
                return strncmp(stored_hash, want, strlen(want)) != 0;
        }
        const char *prefix = params->scheme == PASSWORD_SCHEME_YESCRYPT ? "$y$" : "$6$";
        if (crypt_gensalt_rn(prefix, cost, NULL, 0, setting, (int)sizeof(setting)) == NULL)
                return true;
        /* Drop the salt: the remaining prefix encodes scheme and cost. */
        size_t n = password_crypt_params_len(setting);
        size_t stored_n = password_crypt_params_len(stored_hash);
        const char *salt_end = stored_n > 0 ? stored_hash + stored_n - 1 : NULL;
        const char *params_end = salt_end == NULL ? NULL :
                memrchr(stored_hash, '$', (size_t)(salt_end - stored_hash));
        return params_end == NULL || (size_t)(params_end - stored_hash) + 1 != n ||
               strncmp(stored_hash, setting, n) != 0;
}

/* ---- SCRAM-SHA-256 secrets (RFC 5802 §3, RFC 5803) ---- */

#define SCRAM_SECRET_PREFIX "SCRAM-SHA-256$"

int password_scram_salted_password(const char *password, size_t password_len,
                                   const unsigned char *salt, size_t salt_len,
                                   unsigned int iterations,
                                   unsigned char out[PASSWORD_SCRAM_KEY_LEN])
{
        return password_pbkdf2_derive(password, password_len, salt, salt_len, iterations,
                                      EVP_sha256(), out, PASSWORD_SCRAM_KEY_LEN);
}

/* StoredKey := H(HMAC(SaltedPassword, "Client Key")),
   ServerKey := HMAC(SaltedPassword, "Server Key"). */
static int password_scram_keys(const unsigned char salted[PASSWORD_SCRAM_KEY_LEN],
                               unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN],
                               unsigned char server_key[PASSWORD_SCRAM_KEY_LEN])
{
        unsigned char client_key[PASSWORD_SCRAM_KEY_LEN];
        unsigned int len = 0;
        int ret = 0;

        if (HMAC(EVP_sha256(), salted, PASSWORD_SCRAM_KEY_LEN,
                 (const unsigned char *)"Client Key", 10, client_key, &len) == NULL ||
            len != PASSWORD_SCRAM_KEY_LEN ||
            SHA256(client_key, sizeof(client_key), stored_key) == NULL ||
            HMAC(EVP_sha256(), salted, PASSWORD_SCRAM_KEY_LEN,
                 (const unsigned char *)"Server Key", 10, server_key, &len) == NULL ||
            len != PASSWORD_SCRAM_KEY_LEN)
                ret = -1;
        OPENSSL_cleanse(client_key, sizeof(client_key));
        return ret;
}

int password_scram_secret_with(struct pool *pool, const char *password, unsigned int iterations,
                               const unsigned char *salt, size_t salt_len,
                               const char **secret_r, const char **error_r)
{
        unsigned char salted[PASSWORD_SCRAM_KEY_LEN];
        unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN], server_key[PASSWORD_SCRAM_KEY_LEN];
        size_t len;

        if (password_input_check(password, &len, error_r) < 0)
                return -1;
        if (iterations < PASSWORD_SCRAM_MIN_ITERATIONS ||
            iterations > PASSWORD_SCRAM_MAX_ITERATIONS) {
                *error_r = "SCRAM iteration count out of range";
                return -1;
        }
        if (salt == NULL || salt_len == 0 || salt_len > PASSWORD_SCRAM_MAX_SALT_LEN) {
                *error_r = "SCRAM salt length out of range";
                return -1;
        }
        int ret = password_scram_salted_password(password, len, salt, salt_len, iterations,
                                                 salted);
        if (ret == 0)
                ret = password_scram_keys(salted, stored_key, server_key);
        OPENSSL_cleanse(salted, sizeof(salted));
        if (ret < 0) {
                *error_r = "SCRAM key derivation failed";
                return -1;
        }
        *secret_r = pool_printf(pool, SCRAM_SECRET_PREFIX "%u:%s$%s:%s", iterations,
                                base64_encode(pool, salt, salt_len),
                                base64_encode(pool, stored_key, sizeof(stored_key)),
                                base64_encode(pool, server_key, sizeof(server_key)));
        return 0;
}

int password_scram_secret(struct pool *pool, const char *password, const char **secret_r,
                          const char **error_r)
{
        unsigned char salt[PASSWORD_SCRAM_SALT_LEN];

        if (RAND_bytes(salt, sizeof(salt)) != 1) {
                *error_r = "random source failed";
                return -1;
        }
        return password_scram_secret_with(pool, password, PASSWORD_SCRAM_DEFAULT_ITERATIONS,
                                          salt, sizeof(salt), secret_r, error_r);
}

/* Decodes exactly PASSWORD_SCRAM_KEY_LEN bytes of base64 from [p, end). */
static int password_scram_key_decode(struct pool *pool, const char *p, const char *end,
                                     unsigned char key_r[PASSWORD_SCRAM_KEY_LEN])
{
        unsigned char *data;
        size_t len;
        const char *error;

        if (base64_decode(pool, p, (size_t)(end - p), PASSWORD_SCRAM_KEY_LEN, &data, &len,
                          &error) < 0 || len != PASSWORD_SCRAM_KEY_LEN)
                return -1;
        memcpy(key_r, data, PASSWORD_SCRAM_KEY_LEN);
        return 0;
}

int password_scram_secret_parse(struct pool *pool, const char *secret,
                                struct password_scram *scram_r, const char **error_r)
{
        uint64_t iter;
        unsigned char *salt;
        size_t salt_len;
        const char *error;

        *error_r = "malformed SCRAM-SHA-256 secret";
        if (secret == NULL || strnlen(secret, PASSWORD_HASH_MAX_LEN + 1) > PASSWORD_HASH_MAX_LEN ||
            strncmp(secret, SCRAM_SECRET_PREFIX, strlen(SCRAM_SECRET_PREFIX)) != 0)
                return -1;
        const char *p = secret + strlen(SCRAM_SECRET_PREFIX);
        const char *colon1 = strchr(p, ':');
        const char *dollar = colon1 == NULL ? NULL : strchr(colon1, '$');
        const char *colon2 = dollar == NULL ? NULL : strchr(dollar, ':');
        if (colon2 == NULL || !str_to_u64_n(p, (size_t)(colon1 - p), &iter) ||
            (colon1 - p > 1 && p[0] == '0'))
                return -1;
        if (iter < PASSWORD_SCRAM_MIN_ITERATIONS || iter > PASSWORD_SCRAM_MAX_ITERATIONS) {
                *error_r = "SCRAM-SHA-256 secret iteration count out of range";
                return -1;
        }
        if (base64_decode(pool, colon1 + 1, (size_t)(dollar - colon1 - 1),
                          PASSWORD_SCRAM_MAX_SALT_LEN, &salt, &salt_len, &error) < 0 ||
            salt_len == 0 ||
            password_scram_key_decode(pool, dollar + 1, colon2, scram_r->stored_key) < 0 ||
            password_scram_key_decode(pool, colon2 + 1, colon2 + 1 + strlen(colon2 + 1),
                                      scram_r->server_key) < 0)
                return -1;
        scram_r->iterations = (unsigned int)iter;
        scram_r->salt = salt;
        scram_r->salt_len = salt_len;
        return 0;
}

bool password_scram_verify(const char *password, const char *secret)
{
        struct password_scram scram;
        unsigned char salted[PASSWORD_SCRAM_KEY_LEN];
        unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN], server_key[PASSWORD_SCRAM_KEY_LEN];
        const char *error;
        size_t len;
        bool ok = false;

        if (password_input_check(password, &len, &error) < 0)
                return false;
        struct pool *pool = pool_create("scram verify", 256);
        if (password_scram_secret_parse(pool, secret, &scram, &error) == 0 &&
            password_scram_salted_password(password, len, scram.salt, scram.salt_len,
                                           scram.iterations, salted) == 0 &&
            password_scram_keys(salted, stored_key, server_key) == 0)
                ok = password_mem_equal(stored_key, sizeof(stored_key), scram.stored_key,
                                        sizeof(scram.stored_key));
        OPENSSL_cleanse(salted, sizeof(salted));
        pool_destroy(&pool);
        return ok;
}

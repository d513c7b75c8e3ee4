/* sasl.c - server-side SASL mechanisms (see sasl.h).
 *
 * Owns the mechanism table, the PLAIN, LOGIN and SCRAM-SHA-256 state machines
 * and their bounds. Does not: base64, talk to a socket, store users, or know
 * password formats beyond calling password.h.
 */
#include "sasl.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base64.h"
#include "buf.h"
#include "log.h"
#include "password.h"
#include "pool.h"

#define SASL_SCRAM_NONCE_BYTES 18
#define SASL_SCRAM_MAX_ATTRS 16

/* A yescrypt hash of a password nobody knows. Verifying against it when the
   user does not exist makes that answer take as long as a real one. */
static const char sasl_dummy_hash[] =
        "$y$j9T$s.zOEKxcGiOYZDenIAKl/1$Nr8B1vArsaWndH7BWO2owz/T0BV2gQiAbKqzNzJtyW0";

enum sasl_state {
        SASL_STATE_START = 0,   /* nothing received yet */
        SASL_STATE_WAIT_FIRST,  /* empty challenge sent; awaiting the first message */
        SASL_STATE_WAIT_PASS,   /* LOGIN: "Password:" sent */
        SASL_STATE_WAIT_FINAL,  /* SCRAM: server-first sent */
        SASL_STATE_WAIT_ACK,    /* SCRAM: server-final sent as a challenge */
        SASL_STATE_VERIFY,      /* PLAIN/LOGIN: SASL_VERIFY returned */
        SASL_STATE_DONE,
};

struct sasl_mech;

struct sasl_server {
        struct pool *pool;
        const struct sasl_mech *mech;
        struct sasl_server_settings set;
        enum sasl_state state;
        const char *authcid;     /* as the client sent it */
        const char *user;        /* set on success only */
        const char *canonical;   /* from the lookup, pending success */
        enum sasl_failure failure;
        const char *reason;

        /* PLAIN/LOGIN with async_verify, between SASL_VERIFY and verified() */
        bool verify_nouser;
        const char *verify_hash;         /* "" when none */
        const char *verify_secret;       /* "" when none */

        /* SCRAM-SHA-256 */
        const char *gs2_header;          /* "n,," etc., kept for c= */
        const char *client_first_bare;
        const char *server_first;
        const char *nonce;               /* client + server part */
        struct password_scram scram;
        bool scram_fake;                 /* unknown user: fail at the end */
        unsigned char server_signature[PASSWORD_SCRAM_KEY_LEN];
};

/* Handles one client message in a state other than START/DONE. */
typedef enum sasl_result (*sasl_step_fn)(struct sasl_server *sasl, const unsigned char *in,
                                         size_t in_len, const unsigned char **out_r,
                                         size_t *out_len_r);

struct sasl_mech {
        const char *name;
        bool plaintext;
        /* First challenge when the client sent no initial response. */
        const char *first_challenge;
        sasl_step_fn step;
};

static enum sasl_result sasl_plain_step(struct sasl_server *sasl, const unsigned char *in,
                                        size_t in_len, const unsigned char **out_r,
                                        size_t *out_len_r);
static enum sasl_result sasl_login_step(struct sasl_server *sasl, const unsigned char *in,
                                        size_t in_len, const unsigned char **out_r,
                                        size_t *out_len_r);
static enum sasl_result sasl_scram_step(struct sasl_server *sasl, const unsigned char *in,
                                        size_t in_len, const unsigned char **out_r,
                                        size_t *out_len_r);

static const struct sasl_mech sasl_mechs[] = {
        { .name = "SCRAM-SHA-256", .plaintext = false, .first_challenge = "",
          .step = sasl_scram_step },
        { .name = "PLAIN", .plaintext = true, .first_challenge = "", .step = sasl_plain_step },
        { .name = "LOGIN", .plaintext = true, .first_challenge = "Username:",
          .step = sasl_login_step },
};

static const char *const sasl_mech_name_list[] = { "SCRAM-SHA-256", "PLAIN", "LOGIN", NULL };

static const struct sasl_mech *sasl_mech_find(const char *name)
{
        for (size_t i = 0; name != NULL && i < N_ELEMENTS(sasl_mechs); i++) {
                if (str_eq_nocase(name, sasl_mechs[i].name))
                        return &sasl_mechs[i];
        }
        return NULL;
}

const char *const *sasl_mech_names(void)
{
        return sasl_mech_name_list;
}

bool sasl_mech_supported(const char *mech)
{
        return sasl_mech_find(mech) != NULL;
}

bool sasl_mech_is_plaintext(const char *mech)
{
        const struct sasl_mech *m = sasl_mech_find(mech);
        return m != NULL && m->plaintext;
}

int sasl_server_start(struct pool *pool, const char *mech,
                      const struct sasl_server_settings *settings,
                      struct sasl_server **sasl_r, const char **error_r)
{
        const struct sasl_mech *m = sasl_mech_find(mech);

        if (m == NULL) {
                *error_r = "unsupported SASL mechanism";
                return -1;
        }
        if (settings == NULL || settings->lookup == NULL) {
                *error_r = "SASL server needs a lookup callback";
                return -1;
        }
        struct sasl_server *sasl = pool_alloc(pool, sizeof(*sasl));
        sasl->pool = pool;
        sasl->mech = m;
        sasl->set = *settings;
        sasl->state = SASL_STATE_START;
        *sasl_r = sasl;
        return 0;
}

static enum sasl_result sasl_fail(struct sasl_server *sasl, enum sasl_failure failure,
                                  const char *reason)
{
        sasl->state = SASL_STATE_DONE;
        sasl->failure = failure;
        sasl->reason = reason;
        sasl->user = NULL;
        return SASL_DONE_FAIL;
}

static enum sasl_result sasl_succeed(struct sasl_server *sasl)
{
        sasl->state = SASL_STATE_DONE;
        sasl->user = sasl->canonical != NULL ? sasl->canonical : sasl->authcid;
        return SASL_DONE_OK;
}

static enum sasl_result sasl_reply(const char *data, size_t len, const unsigned char **out_r,
                                   size_t *out_len_r)
{
        *out_r = (const unsigned char *)data;
        *out_len_r = len;
        return SASL_CONTINUE;
}

enum sasl_result sasl_server_step(struct sasl_server *sasl, const unsigned char *in,
                                  size_t in_len, const unsigned char **out_r,
                                  size_t *out_len_r)
{
        *out_r = (const unsigned char *)"";
        *out_len_r = 0;
        switch (sasl->state) {
        case SASL_STATE_DONE:
                return sasl_fail(sasl, sasl->failure != SASL_FAIL_NONE ? sasl->failure :
                                 SASL_FAIL_SYNTAX, "step after the exchange finished");
        case SASL_STATE_VERIFY:
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "step while the password is checked");
        case SASL_STATE_START:
                if (in == NULL) {
                        const char *c = sasl->mech->first_challenge;
                        sasl->state = SASL_STATE_WAIT_FIRST;
                        return sasl_reply(c, strlen(c), out_r, out_len_r);
                }
                sasl->state = SASL_STATE_WAIT_FIRST;
                break;
        default:
                break;
        }
        if (in == NULL) {
                in = (const unsigned char *)"";
                in_len = 0;
        }
        if (in_len > SASL_MAX_INPUT)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "client message too long");
        return sasl->mech->step(sasl, in, in_len, out_r, out_len_r);
}

/* Validates a user name from the client and copies it into the pool. */
static bool sasl_set_authcid(struct sasl_server *sasl, const unsigned char *name, size_t len)
{
        if (len == 0 || len > SASL_MAX_USER || memchr(name, '\0', len) != NULL)
                return false;
        sasl->authcid = pool_strndup(sasl->pool, name, len);
        return true;
}

/* RFC 4422 §3.4.1: Cove has no proxy authorization, so an authzid must be
   absent, empty or the authcid itself. */
static bool sasl_authzid_ok(const struct sasl_server *sasl, const unsigned char *authzid,
                            size_t len)
{
        return len == 0 || (len == strlen(sasl->authcid) &&
                            memcmp(authzid, sasl->authcid, len) == 0);
}

static enum sasl_lookup_result sasl_lookup(struct sasl_server *sasl,
                                           struct sasl_credentials *creds)
{
        memset(creds, 0, sizeof(*creds));
        enum sasl_lookup_result ret = sasl->set.lookup(sasl->set.context, sasl->pool,
                                                       sasl->authcid, creds);
        if (ret == SASL_LOOKUP_OK && creds->user != NULL && creds->user[0] != '\0')
                sasl->canonical = pool_strdup(sasl->pool, creds->user);
        return ret;
}

/* async_verify: hands the password check to the caller. */
static enum sasl_result sasl_verify_request(struct sasl_server *sasl,
                                            enum sasl_lookup_result ret,
                                            const struct sasl_credentials *creds,
                                            const unsigned char *pw, size_t pw_len,
                                            const unsigned char **out_r, size_t *out_len_r)
{
        bool known = ret == SASL_LOOKUP_OK;
        sasl->verify_nouser = !known;
        sasl->verify_hash = known && creds->password_hash != NULL ? creds->password_hash : "";
        sasl->verify_secret = known && creds->scram_secret != NULL ? creds->scram_secret : "";
        sasl->state = SASL_STATE_VERIFY;
        *out_r = pw;
        *out_len_r = pw_len;
        return SASL_VERIFY;
}

/* Checks a plaintext password (PLAIN, LOGIN) for sasl->authcid, or asks the
   caller to (async_verify). */
static enum sasl_result sasl_check_password(struct sasl_server *sasl, const unsigned char *pw,
                                            size_t pw_len, const unsigned char **out_r,
                                            size_t *out_len_r)
{
        char password[PASSWORD_MAX_LEN + 1];
        struct sasl_credentials creds;
        bool ok = false;

        if (pw_len == 0 || pw_len > PASSWORD_MAX_LEN || memchr(pw, '\0', pw_len) != NULL)
                return sasl_fail(sasl, SASL_FAIL_CREDENTIALS, "unusable password");

        enum sasl_lookup_result ret = sasl_lookup(sasl, &creds);
        if (sasl->set.async_verify && ret != SASL_LOOKUP_TEMPFAIL)
                return sasl_verify_request(sasl, ret, &creds, pw, pw_len, out_r, out_len_r);
        memcpy(password, pw, pw_len);
        password[pw_len] = '\0';
        if (ret == SASL_LOOKUP_OK) {
                if (creds.password_hash != NULL && creds.password_hash[0] != '\0')
                        ok = password_verify(password, creds.password_hash);
                else if (creds.scram_secret != NULL && creds.scram_secret[0] != '\0')
                        ok = password_scram_verify(password, creds.scram_secret);
        } else if (ret == SASL_LOOKUP_NOUSER) {
                (void)password_verify(password, sasl_dummy_hash);
        }
        OPENSSL_cleanse(password, sizeof(password));
        if (ret == SASL_LOOKUP_TEMPFAIL)
                return sasl_fail(sasl, SASL_FAIL_TEMP, "user lookup failed");
        if (ret != SASL_LOOKUP_OK)
                return sasl_fail(sasl, SASL_FAIL_CREDENTIALS, "unknown user");
        if (!ok)
                return sasl_fail(sasl, SASL_FAIL_CREDENTIALS, "wrong password");
        return sasl_succeed(sasl);
}

/* ---- PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd ---- */

static enum sasl_result sasl_plain_step(struct sasl_server *sasl, const unsigned char *in,
                                        size_t in_len, const unsigned char **out_r,
                                        size_t *out_len_r)
{
        const unsigned char *nul1 = memchr(in, '\0', in_len);
        const unsigned char *nul2 = nul1 == NULL ? NULL :
                memchr(nul1 + 1, '\0', in_len - (size_t)(nul1 + 1 - in));
        if (nul2 == NULL)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "malformed PLAIN message");
        const unsigned char *pw = nul2 + 1;
        size_t pw_len = in_len - (size_t)(pw - in);
        if (memchr(pw, '\0', pw_len) != NULL)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "malformed PLAIN message");
        if (!sasl_set_authcid(sasl, nul1 + 1, (size_t)(nul2 - nul1 - 1)))
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "bad PLAIN authcid");
        if (!sasl_authzid_ok(sasl, in, (size_t)(nul1 - in)))
                return sasl_fail(sasl, SASL_FAIL_AUTHZID, "authzid differs from authcid");
        return sasl_check_password(sasl, pw, pw_len, out_r, out_len_r);
}

/* ---- LOGIN: "Username:" / "Password:" prompts ---- */

static enum sasl_result sasl_login_step(struct sasl_server *sasl, const unsigned char *in,
                                        size_t in_len, const unsigned char **out_r,
                                        size_t *out_len_r)
{
        if (sasl->state == SASL_STATE_WAIT_FIRST) {
                /* An initial response, where clients send one, is the user name. */
                if (!sasl_set_authcid(sasl, in, in_len))
                        return sasl_fail(sasl, SASL_FAIL_SYNTAX, "bad LOGIN user name");
                sasl->state = SASL_STATE_WAIT_PASS;
                return sasl_reply("Password:", 9, out_r, out_len_r);
        }
        return sasl_check_password(sasl, in, in_len, out_r, out_len_r);
}

/* ---- SCRAM-SHA-256 (RFC 5802, RFC 7677) ---- */

struct sasl_attr {
        char name;                /* the attribute letter */
        const char *value;        /* after "x=" */
        size_t len;
};

/* Splits "a=1,b=2,..." into attributes. Every part must be <letter>=<value>,
   and the message must be text without NUL. false on a syntax error. */
static bool sasl_scram_split(const char *msg, size_t len, struct sasl_attr *attrs,
                             size_t *count_r)
{
        size_t n = 0;
        const char *p = msg, *end = msg + len;

        if (memchr(msg, '\0', len) != NULL)
                return false;
        for (;;) {
                const char *comma = memchr(p, ',', (size_t)(end - p));
                const char *part_end = comma == NULL ? end : comma;
                if (n == SASL_SCRAM_MAX_ATTRS || part_end - p < 2 || p[1] != '=' ||
                    !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
                        return false;
                attrs[n++] = (struct sasl_attr){ .name = p[0], .value = p + 2,
                                                 .len = (size_t)(part_end - p - 2) };
                if (comma == NULL)
                        break;
                p = comma + 1;
        }
        *count_r = n;
        return true;
}

/* Decodes a saslname ("=2C" is ',', "=3D" is '='; any other '=' is an
   error, RFC 5802 §5.1) into the pool. */
static const char *sasl_scram_decode_name(struct pool *pool, const char *s, size_t len)
{
        char *out = pool_alloc(pool, len + 1);
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                if (s[i] != '=') {
                        out[o++] = s[i];
                } else if (len - i >= 3 && s[i + 1] == '2' && s[i + 2] == 'C') {
                        out[o++] = ',';
                        i += 2;
                } else if (len - i >= 3 && s[i + 1] == '3' && s[i + 2] == 'D') {
                        out[o++] = '=';
                        i += 2;
                } else {
                        return NULL;
                }
        }
        out[o] = '\0';
        return out;
}

/* RFC 5802 §7: printable = %x21-2B / %x2D-7E (no ','). */
static bool sasl_scram_nonce_ok(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
                        return false;
        }
        return len > 0;
}

static const char *sasl_scram_server_nonce(struct sasl_server *sasl)
{
        unsigned char rnd[SASL_SCRAM_NONCE_BYTES];

        if (sasl->set.scram_nonce != NULL)
                return sasl->set.scram_nonce;
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                return NULL;
        return base64_encode(sasl->pool, rnd, sizeof(rnd));
}

/* Unknown users (and users without a SCRAM secret) get a salt derived from
   their name, so that repeating the exchange shows the same salt and does
   not reveal that the user is missing. */
static void sasl_scram_fake(struct sasl_server *sasl)
{
        unsigned char digest[SHA256_DIGEST_LENGTH];
        unsigned int len = 0;
        const char *name = sasl->authcid;

        if (sasl->set.fake_salt_key != NULL && sasl->set.fake_salt_key_len > 0) {
                HMAC(EVP_sha256(), sasl->set.fake_salt_key, (int)sasl->set.fake_salt_key_len,
                     (const unsigned char *)name, strlen(name), digest, &len);
        } else {
                const char *msg = pool_printf(sasl->pool, "cove scram fake salt\n%s", name);
                SHA256((const unsigned char *)msg, strlen(msg), digest);
        }
        sasl->scram_fake = true;
        sasl->scram.iterations = PASSWORD_SCRAM_DEFAULT_ITERATIONS;
        sasl->scram.salt = pool_memdup(sasl->pool, digest, PASSWORD_SCRAM_SALT_LEN);
        sasl->scram.salt_len = PASSWORD_SCRAM_SALT_LEN;
}

/* Parses the gs2 header of client-first; sets *bare_r to what follows it. */
static enum sasl_result sasl_scram_gs2(struct sasl_server *sasl, const char *msg, size_t len,
                                       const char **bare_r)
{
        const char *c1 = memchr(msg, ',', len);
        const char *c2 = c1 == NULL ? NULL : memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - msg));
        if (c2 == NULL)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "malformed SCRAM gs2 header");
        if (c1 - msg >= 2 && msg[0] == 'p' && msg[1] == '=')
                return sasl_fail(sasl, SASL_FAIL_UNSUPPORTED,
                                 "SCRAM channel binding requested but not supported");
        /* 'y': the client could bind but thinks we cannot; we indeed offer no
           -PLUS mechanism, so that is not a downgrade (RFC 5802 §6). */
        if (c1 - msg != 1 || (msg[0] != 'n' && msg[0] != 'y'))
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "bad SCRAM channel binding flag");
        size_t azlen = (size_t)(c2 - c1 - 1);
        if (azlen > 0 && (azlen < 3 || c1[1] != 'a' || c1[2] != '='))
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "bad SCRAM authzid");
        sasl->gs2_header = pool_strndup(sasl->pool, msg, (size_t)(c2 + 1 - msg));
        *bare_r = c2 + 1;
        return SASL_CONTINUE;
}

/* Handles client-first-message; answers server-first-message. */
static enum sasl_result sasl_scram_first(struct sasl_server *sasl, const char *msg,
                                         size_t len, const unsigned char **out_r,
                                         size_t *out_len_r)
{
        struct sasl_attr attrs[SASL_SCRAM_MAX_ATTRS];
        struct sasl_credentials creds;
        const char *bare;
        size_t n;

        if (memchr(msg, '\0', len) != NULL)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "NUL in SCRAM message");
        if (sasl_scram_gs2(sasl, msg, len, &bare) != SASL_CONTINUE)
                return SASL_DONE_FAIL;
        size_t bare_len = len - (size_t)(bare - msg);
        if (!sasl_scram_split(bare, bare_len, attrs, &n) || n < 2)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "malformed SCRAM client-first");
        if (attrs[0].name == 'm')
                return sasl_fail(sasl, SASL_FAIL_UNSUPPORTED, "SCRAM mandatory extension");
        if (attrs[0].name != 'n' || attrs[1].name != 'r' ||
            !sasl_scram_nonce_ok(attrs[1].value, attrs[1].len))
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "malformed SCRAM client-first");
        const char *name = sasl_scram_decode_name(sasl->pool, attrs[0].value, attrs[0].len);
        if (name == NULL || !sasl_set_authcid(sasl, (const unsigned char *)name, strlen(name)))
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "bad SCRAM user name");
        const char *az = sasl->gs2_header + 2;  /* after "n," */
        const char *authzid = az[0] == 'a' ?
                sasl_scram_decode_name(sasl->pool, az + 2, strlen(az + 2) - 1) : "";
        if (authzid == NULL)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "bad SCRAM authzid");
        if (!sasl_authzid_ok(sasl, (const unsigned char *)authzid, strlen(authzid)))
                return sasl_fail(sasl, SASL_FAIL_AUTHZID, "authzid differs from authcid");

        enum sasl_lookup_result ret = sasl_lookup(sasl, &creds);
        if (ret == SASL_LOOKUP_TEMPFAIL)
                return sasl_fail(sasl, SASL_FAIL_TEMP, "user lookup failed");
        const char *error;
        if (ret != SASL_LOOKUP_OK || creds.scram_secret == NULL ||
            password_scram_secret_parse(sasl->pool, creds.scram_secret, &sasl->scram,
                                        &error) < 0)
                sasl_scram_fake(sasl);

        const char *snonce = sasl_scram_server_nonce(sasl);
        if (snonce == NULL)
                return sasl_fail(sasl, SASL_FAIL_TEMP, "random source failed");
        sasl->client_first_bare = pool_strndup(sasl->pool, bare, bare_len);
        sasl->nonce = pool_printf(sasl->pool, "%.*s%s", (int)attrs[1].len, attrs[1].value,
                                  snonce);
        sasl->server_first = pool_printf(sasl->pool, "r=%s,s=%s,i=%u", sasl->nonce,
                                         base64_encode(sasl->pool, sasl->scram.salt,
                                                       sasl->scram.salt_len),
                                         sasl->scram.iterations);
        sasl->state = SASL_STATE_WAIT_FINAL;
        return sasl_reply(sasl->server_first, strlen(sasl->server_first), out_r, out_len_r);
}

/* Checks the proof against StoredKey and computes the server signature
   (RFC 5802 §3). true when the proof is right. */
static bool sasl_scram_check_proof(struct sasl_server *sasl, const char *auth_message,
                                   const unsigned char *proof)
{
        unsigned char sig[PASSWORD_SCRAM_KEY_LEN], client_key[PASSWORD_SCRAM_KEY_LEN];
        unsigned char stored[PASSWORD_SCRAM_KEY_LEN];
        unsigned int len = 0;
        size_t am_len = strlen(auth_message);

        if (HMAC(EVP_sha256(), sasl->scram.stored_key, PASSWORD_SCRAM_KEY_LEN,
                 (const unsigned char *)auth_message, am_len, sig, &len) == NULL ||
            HMAC(EVP_sha256(), sasl->scram.server_key, PASSWORD_SCRAM_KEY_LEN,
                 (const unsigned char *)auth_message, am_len, sasl->server_signature,
                 &len) == NULL)
                return false;
        for (size_t i = 0; i < PASSWORD_SCRAM_KEY_LEN; i++)
                client_key[i] = proof[i] ^ sig[i];
        SHA256(client_key, sizeof(client_key), stored);
        bool ok = CRYPTO_memcmp(stored, sasl->scram.stored_key, sizeof(stored)) == 0;
        OPENSSL_cleanse(client_key, sizeof(client_key));
        return ok && !sasl->scram_fake;
}

/* Handles client-final-message; answers server-final-message. */
static enum sasl_result sasl_scram_final(struct sasl_server *sasl, const char *msg,
                                         size_t len, const unsigned char **out_r,
                                         size_t *out_len_r)
{
        struct sasl_attr attrs[SASL_SCRAM_MAX_ATTRS];
        unsigned char *cbind, *proof;
        size_t n, cbind_len, proof_len;
        const char *error;

        if (!sasl_scram_split(msg, len, attrs, &n) || n < 3 || attrs[0].name != 'c' ||
            attrs[1].name != 'r' || attrs[n - 1].name != 'p')
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "malformed SCRAM client-final");
        if (base64_decode(sasl->pool, attrs[0].value, attrs[0].len, SASL_MAX_INPUT, &cbind,
                          &cbind_len, &error) < 0 ||
            base64_decode(sasl->pool, attrs[n - 1].value, attrs[n - 1].len,
                          PASSWORD_SCRAM_KEY_LEN, &proof, &proof_len, &error) < 0 ||
            proof_len != PASSWORD_SCRAM_KEY_LEN)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "bad base64 in SCRAM client-final");
        /* Without channel binding c= carries exactly the gs2 header. */
        if (cbind_len != strlen(sasl->gs2_header) ||
            memcmp(cbind, sasl->gs2_header, cbind_len) != 0)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "SCRAM channel binding mismatch");
        if (attrs[1].len != strlen(sasl->nonce) ||
            memcmp(attrs[1].value, sasl->nonce, attrs[1].len) != 0)
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "SCRAM nonce mismatch");

        /* AuthMessage := client-first-bare "," server-first "," final-without-proof */
        size_t without_proof = (size_t)(attrs[n - 1].value - 2 - msg - 1);
        const char *auth_message = pool_printf(sasl->pool, "%s,%s,%.*s",
                                               sasl->client_first_bare, sasl->server_first,
                                               (int)without_proof, msg);
        if (!sasl_scram_check_proof(sasl, auth_message, proof))
                return sasl_fail(sasl, SASL_FAIL_CREDENTIALS,
                                 sasl->scram_fake ? "unknown user or no SCRAM secret" :
                                 "wrong password");
        const char *final = pool_printf(sasl->pool, "v=%s",
                                        base64_encode(sasl->pool, sasl->server_signature,
                                                      PASSWORD_SCRAM_KEY_LEN));
        *out_r = (const unsigned char *)final;
        *out_len_r = strlen(final);
        if (sasl->set.success_data)
                return sasl_succeed(sasl);
        sasl->state = SASL_STATE_WAIT_ACK;
        return SASL_CONTINUE;
}

static enum sasl_result sasl_scram_step(struct sasl_server *sasl, const unsigned char *in,
                                        size_t in_len, const unsigned char **out_r,
                                        size_t *out_len_r)
{
        const char *msg = (const char *)in;

        switch (sasl->state) {
        case SASL_STATE_WAIT_FIRST:
                return sasl_scram_first(sasl, msg, in_len, out_r, out_len_r);
        case SASL_STATE_WAIT_FINAL:
                return sasl_scram_final(sasl, msg, in_len, out_r, out_len_r);
        case SASL_STATE_WAIT_ACK:
                /* The client acknowledges server-final with an empty response. */
                if (in_len != 0)
                        return sasl_fail(sasl, SASL_FAIL_SYNTAX, "unexpected SCRAM data");
                return sasl_succeed(sasl);
        default:
                return sasl_fail(sasl, SASL_FAIL_SYNTAX, "unexpected SCRAM state");
        }
}

void sasl_server_credentials(const struct sasl_server *sasl, const char **password_hash_r,
                             const char **scram_secret_r)
{
        bool pending = sasl->state == SASL_STATE_VERIFY;
        *password_hash_r = pending ? sasl->verify_hash : "";
        *scram_secret_r = pending ? sasl->verify_secret : "";
}

enum sasl_result sasl_server_verified(struct sasl_server *sasl, bool ok)
{
        if (sasl->state != SASL_STATE_VERIFY)
                return sasl_fail(sasl, sasl->failure != SASL_FAIL_NONE ? sasl->failure :
                                 SASL_FAIL_SYNTAX, "verified without a pending check");
        sasl->verify_hash = sasl->verify_secret = "";
        if (sasl->verify_nouser)
                return sasl_fail(sasl, SASL_FAIL_CREDENTIALS, "unknown user");
        if (!ok)
                return sasl_fail(sasl, SASL_FAIL_CREDENTIALS, "wrong password");
        return sasl_succeed(sasl);
}

const char *sasl_server_user(const struct sasl_server *sasl)
{
        return sasl->user;
}

const char *sasl_server_authcid(const struct sasl_server *sasl)
{
        return sasl->authcid;
}

const char *sasl_server_mech(const struct sasl_server *sasl)
{
        return sasl->mech->name;
}

enum sasl_failure sasl_server_failure(const struct sasl_server *sasl)
{
        return sasl->failure;
}

const char *sasl_server_failure_reason(const struct sasl_server *sasl)
{
        return sasl->reason != NULL ? sasl->reason : "";
}

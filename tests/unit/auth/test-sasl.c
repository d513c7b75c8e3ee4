/* Unit tests for core/sasl.c: PLAIN, LOGIN and SCRAM-SHA-256 success and
   failure paths, malformed messages, authzid rules, the RFC 7677 exchange. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "base64.h"
#include "password.h"
#include "pool.h"
#include "sasl.h"

static struct pool *pool;

/* The test user store: "user" with password "pencil" (RFC 7677 salt and
   4096 iterations for SCRAM), "a,b=c" (a name needing SCRAM escapes),
   "scramonly" (no crypt hash), "tempfail" (the backend is down). */
struct fake_store {
        const char *hash, *secret;
        int lookups;
        const char *last_authcid;
};
static struct fake_store store;

static enum sasl_lookup_result fake_lookup(void *context, struct pool *p, const char *authcid,
                                           struct sasl_credentials *creds_r)
{
        struct fake_store *s = context;
        s->lookups++;
        s->last_authcid = pool_strdup(p, authcid);
        if (strcmp(authcid, "tempfail") == 0)
                return SASL_LOOKUP_TEMPFAIL;
        if (strcmp(authcid, "user") == 0 || strcmp(authcid, "a,b=c") == 0) {
                creds_r->password_hash = s->hash;
                creds_r->scram_secret = s->secret;
                return SASL_LOOKUP_OK;
        }
        if (strcmp(authcid, "USER@Example.COM") == 0) {
                creds_r->user = "USER@example.com";
                creds_r->password_hash = s->hash;
                return SASL_LOOKUP_OK;
        }
        if (strcmp(authcid, "scramonly") == 0) {
                creds_r->scram_secret = s->secret;
                return SASL_LOOKUP_OK;
        }
        return SASL_LOOKUP_NOUSER;
}

static void setup(void)
{
        const char *error = NULL;
        unsigned char *salt;
        size_t salt_len;

        pool = pool_create("test", 4096);
        memset(&store, 0, sizeof(store));
        const struct password_params p = { PASSWORD_SCHEME_SHA512_CRYPT, 1000 };
        cr_assert_eq(password_hash_with(pool, "pencil", &p, &store.hash, &error), 0);
        cr_assert_eq(base64_decode(pool, "W22ZaJ0SNY7soEsUEjb6gQ==", 24, 64, &salt, &salt_len,
                                   &error), 0);
        cr_assert_eq(password_scram_secret_with(pool, "pencil", 4096, salt, salt_len,
                                                &store.secret, &error), 0);
}

static void teardown(void) { pool_destroy(&pool); }

TestSuite(sasl, .init = setup, .fini = teardown, .timeout = 60);

static struct sasl_server *start(const char *mech, bool success_data, const char *nonce)
{
        const struct sasl_server_settings set = {
                .lookup = fake_lookup, .context = &store,
                .success_data = success_data, .scram_nonce = nonce,
        };
        struct sasl_server *sasl = NULL;
        const char *error = NULL;
        cr_assert_eq(sasl_server_start(pool, mech, &set, &sasl, &error), 0, "%s", error);
        return sasl;
}

/* One step with len bytes of data (len -1: strlen). Returns the result and
   the output as a terminated string in *out_r. */
static enum sasl_result step(struct sasl_server *sasl, const void *data, long len,
                             const char **out_r)
{
        const unsigned char *out = NULL;
        size_t out_len = 99;
        size_t n = len < 0 ? strlen(data) : (size_t)len;
        enum sasl_result r = sasl_server_step(sasl, data, n, &out, &out_len);
        cr_assert_not_null(out);
        if (out_r != NULL)
                *out_r = pool_strndup(pool, out, out_len);
        return r;
}

static void expect_fail(struct sasl_server *sasl, enum sasl_failure failure)
{
        cr_assert_eq(sasl_server_failure(sasl), failure, "failure %d (%s), want %d",
                     sasl_server_failure(sasl), sasl_server_failure_reason(sasl), failure);
        cr_assert_null(sasl_server_user(sasl));
}

/* ---- mechanism table ---- */

Test(sasl, mechanism_table)
{
        const char *const *names = sasl_mech_names();
        cr_assert_str_eq(names[0], "SCRAM-SHA-256");
        cr_assert_str_eq(names[1], "PLAIN");
        cr_assert_str_eq(names[2], "LOGIN");
        cr_assert_null(names[3]);
        cr_assert(sasl_mech_supported("plain"));
        cr_assert_not(sasl_mech_supported("CRAM-MD5"));
        cr_assert_not(sasl_mech_supported("SCRAM-SHA-256-PLUS"));
        cr_assert(sasl_mech_is_plaintext("LOGIN"));
        cr_assert_not(sasl_mech_is_plaintext("SCRAM-SHA-256"));
        cr_assert_not(sasl_mech_is_plaintext("DIGEST-MD5"));
}

Test(sasl, start_refuses_unknown_mech_and_missing_lookup)
{
        struct sasl_server *sasl = NULL;
        const char *error = NULL;
        const struct sasl_server_settings set = { .lookup = fake_lookup };
        cr_assert_eq(sasl_server_start(pool, "CRAM-MD5", &set, &sasl, &error), -1);
        cr_assert_not_null(error);
        cr_assert_eq(sasl_server_start(pool, NULL, &set, &sasl, &error), -1);
        const struct sasl_server_settings none = { .lookup = NULL };
        cr_assert_eq(sasl_server_start(pool, "PLAIN", &none, &sasl, &error), -1);
        cr_assert_eq(sasl_server_start(pool, "PLAIN", NULL, &sasl, &error), -1);
        cr_assert_eq(sasl_server_start(pool, "plain", &set, &sasl, &error), 0);
        cr_assert_str_eq(sasl_server_mech(sasl), "PLAIN");
}

/* ---- PLAIN ---- */

Test(sasl, plain_initial_response_success)
{
        struct sasl_server *sasl = start("PLAIN", false, NULL);
        const char *out;
        cr_assert_eq(step(sasl, "\0user\0pencil", 12, &out), SASL_DONE_OK);
        cr_assert_str_eq(out, "");
        cr_assert_str_eq(sasl_server_user(sasl), "user");
        cr_assert_eq(sasl_server_failure(sasl), SASL_FAIL_NONE);
        /* Any step after the end fails. */
        cr_assert_eq(step(sasl, "\0user\0pencil", 12, NULL), SASL_DONE_FAIL);
}

Test(sasl, plain_without_initial_response)
{
        struct sasl_server *sasl = start("PLAIN", false, NULL);
        const char *out = NULL;
        cr_assert_eq(step(sasl, NULL, 0, &out), SASL_CONTINUE);
        cr_assert_str_eq(out, "");
        cr_assert_eq(step(sasl, "user\0user\0pencil", 16, &out), SASL_DONE_OK);
        cr_assert_str_eq(sasl_server_user(sasl), "user");
}

Test(sasl, plain_canonical_name_from_lookup)
{
        struct sasl_server *sasl = start("PLAIN", false, NULL);
        const char msg[] = "\0USER@Example.COM\0pencil";
        cr_assert_eq(step(sasl, msg, sizeof(msg) - 1, NULL), SASL_DONE_OK);
        cr_assert_str_eq(sasl_server_user(sasl), "USER@example.com");
        cr_assert_str_eq(sasl_server_authcid(sasl), "USER@Example.COM");
}

Test(sasl, plain_wrong_password_and_unknown_user)
{
        struct sasl_server *sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "\0user\0pencil2", 13, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
        cr_assert_str_eq(sasl_server_authcid(sasl), "user");

        sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "\0nobody\0pencil", 14, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);

        sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "\0user\0", 6, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
}

Test(sasl, plain_authzid_rules)
{
        struct sasl_server *sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "other\0user\0pencil", 17, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_AUTHZID);
        cr_assert_eq(store.lookups, 0);

        sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "use\0user\0pencil", 15, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_AUTHZID);
}

Test(sasl, plain_malformed)
{
        static const struct { const char *msg; size_t len; } bad[] = {
                { "", 0 }, { "userpencil", 10 }, { "\0userpencil", 11 },
                { "\0\0pencil", 8 }, { "\0user\0pen\0cil", 14 }, { "\0\0", 2 },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct sasl_server *sasl = start("PLAIN", false, NULL);
                cr_assert_eq(step(sasl, bad[i].msg, (long)bad[i].len, NULL), SASL_DONE_FAIL,
                             "case %zu", i);
                expect_fail(sasl, SASL_FAIL_SYNTAX);
        }
        cr_assert_eq(store.lookups, 0);
}

Test(sasl, plain_bounds)
{
        char *big = pool_alloc(pool, SASL_MAX_INPUT + 1);
        big[0] = '\0';
        memset(big + 1, 'u', SASL_MAX_INPUT - 10);
        struct sasl_server *sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, big, SASL_MAX_INPUT + 1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);

        /* A user name over SASL_MAX_USER within the input bound. */
        char *msg = pool_alloc(pool, SASL_MAX_USER + 10);
        memset(msg + 1, 'u', SASL_MAX_USER + 1);
        memcpy(msg + SASL_MAX_USER + 3, "pw", 2);
        sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, msg, SASL_MAX_USER + 5, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);

        /* A password over PASSWORD_MAX_LEN never matches. */
        char *pw = pool_alloc(pool, PASSWORD_MAX_LEN + 20);
        memcpy(pw, "\0user\0", 6);
        memset(pw + 6, 'p', PASSWORD_MAX_LEN + 1);
        sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, pw, PASSWORD_MAX_LEN + 7, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
}

Test(sasl, plain_tempfail_and_scram_only_user)
{
        struct sasl_server *sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "\0tempfail\0pencil", 16, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_TEMP);

        sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "\0scramonly\0pencil", 17, NULL), SASL_DONE_OK);
        sasl = start("PLAIN", false, NULL);
        cr_assert_eq(step(sasl, "\0scramonly\0pencil!", 18, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
}

/* ---- LOGIN ---- */

Test(sasl, login_prompts_success)
{
        struct sasl_server *sasl = start("LOGIN", false, NULL);
        const char *out;
        cr_assert_eq(step(sasl, NULL, 0, &out), SASL_CONTINUE);
        cr_assert_str_eq(out, "Username:");
        cr_assert_eq(step(sasl, "user", -1, &out), SASL_CONTINUE);
        cr_assert_str_eq(out, "Password:");
        cr_assert_eq(step(sasl, "pencil", -1, &out), SASL_DONE_OK);
        cr_assert_str_eq(sasl_server_user(sasl), "user");
}

Test(sasl, login_initial_response_is_user)
{
        struct sasl_server *sasl = start("LOGIN", false, NULL);
        const char *out;
        cr_assert_eq(step(sasl, "user", -1, &out), SASL_CONTINUE);
        cr_assert_str_eq(out, "Password:");
        cr_assert_eq(step(sasl, "pencil", -1, &out), SASL_DONE_OK);
}

Test(sasl, login_failures)
{
        struct sasl_server *sasl = start("LOGIN", false, NULL);
        cr_assert_eq(step(sasl, NULL, 0, NULL), SASL_CONTINUE);
        cr_assert_eq(step(sasl, "user", -1, NULL), SASL_CONTINUE);
        cr_assert_eq(step(sasl, "wrong", -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);

        sasl = start("LOGIN", false, NULL);
        cr_assert_eq(step(sasl, NULL, 0, NULL), SASL_CONTINUE);
        cr_assert_eq(step(sasl, "us\0er", 5, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);

        sasl = start("LOGIN", false, NULL);
        cr_assert_eq(step(sasl, "", 0, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);

        sasl = start("LOGIN", false, NULL);
        cr_assert_eq(step(sasl, "user", -1, NULL), SASL_CONTINUE);
        cr_assert_eq(step(sasl, "pen\0cil", 7, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
}

/* ---- SCRAM-SHA-256 ---- */

#define RFC7677_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC7677_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC7677_FINAL_NO_PROOF "c=biws,r=" RFC7677_CNONCE RFC7677_SNONCE
#define RFC7677_PROOF "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="

/* RFC 7677 §3, byte for byte. */
Test(sasl, scram_rfc7677_example)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", false, RFC7677_SNONCE);
        const char *out;
        cr_assert_eq(step(sasl, NULL, 0, &out), SASL_CONTINUE);
        cr_assert_str_eq(out, "");
        cr_assert_eq(step(sasl, "n,,n=user,r=" RFC7677_CNONCE, -1, &out), SASL_CONTINUE);
        cr_assert_str_eq(out, "r=" RFC7677_CNONCE RFC7677_SNONCE
                              ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
        cr_assert_eq(step(sasl, RFC7677_FINAL_NO_PROOF "," RFC7677_PROOF, -1, &out),
                     SASL_CONTINUE);
        cr_assert_str_eq(out, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        cr_assert_null(sasl_server_user(sasl));
        cr_assert_eq(step(sasl, "", 0, &out), SASL_DONE_OK);
        cr_assert_str_eq(sasl_server_user(sasl), "user");
}

Test(sasl, scram_success_data_and_initial_response)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, RFC7677_SNONCE);
        const char *out;
        cr_assert_eq(step(sasl, "n,,n=user,r=" RFC7677_CNONCE, -1, &out), SASL_CONTINUE);
        cr_assert_eq(step(sasl, RFC7677_FINAL_NO_PROOF "," RFC7677_PROOF, -1, &out),
                     SASL_DONE_OK);
        cr_assert_str_eq(out, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        cr_assert_str_eq(sasl_server_user(sasl), "user");
}

/* Runs client-first and client-final for a fresh exchange; returns the
   final result. */
static enum sasl_result scram_run(const char *first, const char *final, enum sasl_result *r1)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, RFC7677_SNONCE);
        *r1 = step(sasl, first, -1, NULL);
        if (*r1 != SASL_CONTINUE)
                return *r1;
        return step(sasl, final, -1, NULL);
}

Test(sasl, scram_wrong_proof)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, RFC7677_SNONCE);
        cr_assert_eq(step(sasl, "n,,n=user,r=" RFC7677_CNONCE, -1, NULL), SASL_CONTINUE);
        cr_assert_eq(step(sasl, RFC7677_FINAL_NO_PROOF
                          ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=", -1, NULL),
                     SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
}

Test(sasl, scram_y_flag_accepted)
{
        /* With "y,," the c= value is base64("y,,") = "eSws", so the RFC proof
           no longer matches: the exchange must still parse and reach the proof
           check. */
        enum sasl_result r1;
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, RFC7677_SNONCE);
        cr_assert_eq(step(sasl, "y,,n=user,r=" RFC7677_CNONCE, -1, NULL), SASL_CONTINUE);
        cr_assert_eq(step(sasl, "c=eSws,r=" RFC7677_CNONCE RFC7677_SNONCE "," RFC7677_PROOF,
                          -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
        /* c=biws after "y,," is a channel-binding mismatch. */
        cr_assert_eq(scram_run("y,,n=user,r=" RFC7677_CNONCE,
                               RFC7677_FINAL_NO_PROOF "," RFC7677_PROOF, &r1), SASL_DONE_FAIL);
}

Test(sasl, scram_channel_binding_refused)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, NULL);
        cr_assert_eq(step(sasl, "p=tls-unique,,n=user,r=abc", -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_UNSUPPORTED);
        cr_assert_str_eq(sasl_server_failure_reason(sasl),
                         "SCRAM channel binding requested but not supported");

        sasl = start("SCRAM-SHA-256", true, NULL);
        cr_assert_eq(step(sasl, "n,,m=ext,n=user,r=abc", -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_UNSUPPORTED);
}

Test(sasl, scram_authzid_rules)
{
        enum sasl_result r1;
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, RFC7677_SNONCE);
        cr_assert_eq(step(sasl, "n,a=admin,n=user,r=abc", -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_AUTHZID);
        cr_assert_eq(store.lookups, 0);

        /* a=user equals the authcid: allowed (c= then carries "n,a=user,"). */
        const char *cb = base64_encode(pool, "n,a=user,", 9);
        const char *final = pool_printf(pool, "c=%s,r=%s%s,%s", cb, RFC7677_CNONCE,
                                        RFC7677_SNONCE, RFC7677_PROOF);
        cr_assert_eq(scram_run("n,a=user,n=user,r=" RFC7677_CNONCE, final, &r1),
                     SASL_DONE_FAIL);
        cr_assert_eq(r1, SASL_CONTINUE);
}

Test(sasl, scram_malformed_client_first)
{
        static const char *const bad[] = {
                "", "n", "n,", "n,,", "x,,n=user,r=abc", "nn,,n=user,r=abc",
                "n,b=user,n=user,r=abc", "n,a=,n=user,r=abc", "n,,r=abc,n=user",
                "n,,n=user", "n,,n=user,r=", "n,,n=,r=abc", "n,,n=us=er,r=abc",
                "n,,n=us=2,r=abc", "n,,n=user,r=a,b", "n,,n=user,r=ab c",
                "n,,n=user,,r=abc", "n,,n=user,r=abc,", "n,,user,r=abc", "n,,1=user,r=abc",
                "n,a=us=ZZer,n=user,r=abc",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct sasl_server *sasl = start("SCRAM-SHA-256", true, NULL);
                cr_assert_eq(step(sasl, bad[i], -1, NULL), SASL_DONE_FAIL, "'%s'", bad[i]);
                expect_fail(sasl, SASL_FAIL_SYNTAX);
        }
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, NULL);
        cr_assert_eq(step(sasl, "n,,n=us\0er,r=abc", 16, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);
        cr_assert_eq(store.lookups, 0);
}

Test(sasl, scram_malformed_client_final)
{
        static const char *const bad[] = {
                "", RFC7677_FINAL_NO_PROOF, RFC7677_PROOF,
                "c=biws," RFC7677_PROOF,
                "r=" RFC7677_CNONCE RFC7677_SNONCE ",c=biws," RFC7677_PROOF,
                "c=biws,r=" RFC7677_CNONCE "," RFC7677_PROOF,
                "c=biws,r=" RFC7677_CNONCE RFC7677_SNONCE "x," RFC7677_PROOF,
                "c=eSws,r=" RFC7677_CNONCE RFC7677_SNONCE "," RFC7677_PROOF,
                "c=bi ws,r=" RFC7677_CNONCE RFC7677_SNONCE "," RFC7677_PROOF,
                RFC7677_FINAL_NO_PROOF ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndV==",
                RFC7677_FINAL_NO_PROOF ",p=AAAA",
                RFC7677_FINAL_NO_PROOF ",p=",
                RFC7677_FINAL_NO_PROOF "," RFC7677_PROOF ",x=1",
                RFC7677_FINAL_NO_PROOF ",," RFC7677_PROOF,
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                enum sasl_result r1;
                struct sasl_server *sasl = start("SCRAM-SHA-256", true, RFC7677_SNONCE);
                r1 = step(sasl, "n,,n=user,r=" RFC7677_CNONCE, -1, NULL);
                cr_assert_eq(r1, SASL_CONTINUE);
                cr_assert_eq(step(sasl, bad[i], -1, NULL), SASL_DONE_FAIL, "'%s'", bad[i]);
                expect_fail(sasl, SASL_FAIL_SYNTAX);
        }
}

Test(sasl, scram_extension_in_final_is_ignored)
{
        /* An extension before the proof changes AuthMessage, so the RFC proof
           fails, but only at the proof check (not as a syntax error). */
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, RFC7677_SNONCE);
        cr_assert_eq(step(sasl, "n,,n=user,r=" RFC7677_CNONCE ",x=ext", -1, NULL),
                     SASL_CONTINUE);
        cr_assert_eq(step(sasl, RFC7677_FINAL_NO_PROOF ",x=1," RFC7677_PROOF, -1, NULL),
                     SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
}

Test(sasl, scram_nonempty_ack_refused)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", false, RFC7677_SNONCE);
        cr_assert_eq(step(sasl, "n,,n=user,r=" RFC7677_CNONCE, -1, NULL), SASL_CONTINUE);
        cr_assert_eq(step(sasl, RFC7677_FINAL_NO_PROOF "," RFC7677_PROOF, -1, NULL),
                     SASL_CONTINUE);
        cr_assert_eq(step(sasl, "x", -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);
}

Test(sasl, scram_unknown_user_fakes_to_the_end)
{
        const char *out1, *out2;
        struct sasl_server *a = start("SCRAM-SHA-256", true, "SN");
        struct sasl_server *b = start("SCRAM-SHA-256", true, "SN");
        cr_assert_eq(step(a, "n,,n=nobody,r=abc", -1, &out1), SASL_CONTINUE);
        cr_assert_eq(step(b, "n,,n=nobody,r=abc", -1, &out2), SASL_CONTINUE);
        cr_assert_str_eq(out1, out2);  /* same fake salt every time */
        cr_assert(strstr(out1, ",i=10000") != NULL, "%s", out1);
        cr_assert_eq(step(a, "c=biws,r=abcSN," RFC7677_PROOF, -1, NULL), SASL_DONE_FAIL);
        expect_fail(a, SASL_FAIL_CREDENTIALS);

        /* With a key the fake salt changes. */
        static const unsigned char key[] = "secret";
        const struct sasl_server_settings set = {
                .lookup = fake_lookup, .context = &store, .scram_nonce = "SN",
                .fake_salt_key = key, .fake_salt_key_len = 6,
        };
        struct sasl_server *c;
        const char *error, *out3;
        cr_assert_eq(sasl_server_start(pool, "SCRAM-SHA-256", &set, &c, &error), 0);
        cr_assert_eq(step(c, "n,,n=nobody,r=abc", -1, &out3), SASL_CONTINUE);
        cr_assert_str_neq(out1, out3);

        struct sasl_server *t = start("SCRAM-SHA-256", true, NULL);
        cr_assert_eq(step(t, "n,,n=tempfail,r=abc", -1, NULL), SASL_DONE_FAIL);
        expect_fail(t, SASL_FAIL_TEMP);
}

Test(sasl, scram_escaped_user_name)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, "SN");
        const char *out;
        cr_assert_eq(step(sasl, "n,,n=a=2Cb=3Dc,r=abc", -1, &out), SASL_CONTINUE);
        cr_assert_str_eq(store.last_authcid, "a,b=c");
        cr_assert(strstr(out, "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") != NULL, "%s", out);
}

/* A client computed here from the password, against a fresh random server
   nonce and a default (10000-iteration, random salt) secret. */
static const char *scram_client_final(const char *password, const char *gs2_header,
                                      const char *first_bare, const char *server_first)
{
        const char *s = strstr(server_first, ",s="), *i = strstr(server_first, ",i=");
        cr_assert(s != NULL && i != NULL);
        unsigned char *salt;
        size_t salt_len;
        const char *error;
        cr_assert_eq(base64_decode(pool, s + 3, (size_t)(i - s - 3), 64, &salt, &salt_len,
                                   &error), 0);
        unsigned char salted[32], ck[32], sk[32], sig[32], proof[32];
        unsigned int len;
        cr_assert_eq(password_scram_salted_password(password, strlen(password), salt,
                                                    salt_len, (unsigned)atoi(i + 3), salted), 0);
        HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10, ck, &len);
        SHA256(ck, 32, sk);
        const char *without = pool_printf(pool, "c=%s,r=%.*s",
                                          base64_encode(pool, gs2_header, strlen(gs2_header)),
                                          (int)(s - server_first - 2), server_first + 2);
        const char *am = pool_printf(pool, "%s,%s,%s", first_bare, server_first, without);
        HMAC(EVP_sha256(), sk, 32, (const unsigned char *)am, strlen(am), sig, &len);
        for (int k = 0; k < 32; k++)
                proof[k] = ck[k] ^ sig[k];
        return pool_printf(pool, "%s,p=%s", without, base64_encode(pool, proof, 32));
}

Test(sasl, scram_round_trip_with_default_secret)
{
        const char *error;
        cr_assert_eq(password_scram_secret(pool, "correct horse", &store.secret, &error), 0);
        for (int wrong = 0; wrong <= 1; wrong++) {
                struct sasl_server *sasl = start("SCRAM-SHA-256", false, NULL);
                const char *server_first, *final_out;
                cr_assert_eq(step(sasl, "n,,n=user,r=clientnonce123", -1, &server_first),
                             SASL_CONTINUE);
                cr_assert(strncmp(server_first, "r=clientnonce123", 16) == 0);
                cr_assert_gt(strlen(server_first), 16 + 24);
                const char *final = scram_client_final(wrong ? "correct horsE" : "correct horse",
                                                       "n,,", "n=user,r=clientnonce123",
                                                       server_first);
                enum sasl_result r = step(sasl, final, -1, &final_out);
                if (wrong) {
                        cr_assert_eq(r, SASL_DONE_FAIL);
                        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
                        continue;
                }
                cr_assert_eq(r, SASL_CONTINUE);
                cr_assert(strncmp(final_out, "v=", 2) == 0);
                cr_assert_eq(step(sasl, "", 0, NULL), SASL_DONE_OK);
                cr_assert_str_eq(sasl_server_user(sasl), "user");
        }
}

Test(sasl, server_nonces_differ)
{
        const char *o1, *o2;
        struct sasl_server *a = start("SCRAM-SHA-256", true, NULL);
        struct sasl_server *b = start("SCRAM-SHA-256", true, NULL);
        cr_assert_eq(step(a, "n,,n=user,r=x", -1, &o1), SASL_CONTINUE);
        cr_assert_eq(step(b, "n,,n=user,r=x", -1, &o2), SASL_CONTINUE);
        cr_assert_str_neq(o1, o2);
}

Test(sasl, scram_authzid_equal_to_authcid_succeeds)
{
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, NULL);
        const char *server_first, *out;
        cr_assert_eq(step(sasl, "n,a=user,n=user,r=cn", -1, &server_first), SASL_CONTINUE);
        const char *final = scram_client_final("pencil", "n,a=user,", "n=user,r=cn",
                                               server_first);
        cr_assert_eq(step(sasl, final, -1, &out), SASL_DONE_OK);
        cr_assert(strncmp(out, "v=", 2) == 0);
        cr_assert_str_eq(sasl_server_user(sasl), "user");

        /* The same proof computed over "n,," does not match "n,a=user,". */
        sasl = start("SCRAM-SHA-256", true, NULL);
        cr_assert_eq(step(sasl, "n,a=user,n=user,r=cn", -1, &server_first), SASL_CONTINUE);
        final = scram_client_final("pencil", "n,,", "n=user,r=cn", server_first);
        cr_assert_eq(step(sasl, final, -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);
}

Test(sasl, scram_user_without_secret_fails_at_proof)
{
        store.secret = "";
        struct sasl_server *sasl = start("SCRAM-SHA-256", true, NULL);
        const char *server_first;
        cr_assert_eq(step(sasl, "n,,n=user,r=cn", -1, &server_first), SASL_CONTINUE);
        const char *final = scram_client_final("pencil", "n,,", "n=user,r=cn", server_first);
        cr_assert_eq(step(sasl, final, -1, NULL), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
}

/* Random and mutated client messages at every stage: never a crash or an
   ASan report, always a well-formed result. Fixed seed, so it is repeatable. */
static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
        rng_state = rng_state * 1103515245u + 12345u;
        return rng_state >> 8;
}

static void check_result(struct sasl_server *sasl, enum sasl_result r)
{
        cr_assert(r == SASL_CONTINUE || r == SASL_DONE_OK || r == SASL_DONE_FAIL);
        if (r == SASL_DONE_FAIL)
                cr_assert_neq(sasl_server_failure(sasl), SASL_FAIL_NONE);
}

Test(sasl, mutated_messages_never_crash)
{
        static const char *const seeds[] = {
                "n,,n=user,r=" RFC7677_CNONCE,
                RFC7677_FINAL_NO_PROOF "," RFC7677_PROOF,
                "n,a=user,n=a=2Cb,r=x,e=1",
        };
        static const char *const mechs[] = { "PLAIN", "LOGIN", "SCRAM-SHA-256" };
        char buf[256];
        for (int iter = 0; iter < 1000; iter++) {
                const char *mech = mechs[rng() % 3];
                struct sasl_server *sasl = start(mech, rng() % 2, RFC7677_SNONCE);
                /* Walk through up to four steps: valid prefix messages for
                   SCRAM, then one mutated or random message. */
                for (int st = 0; st < 4; st++) {
                        size_t len;
                        const char *seed = seeds[rng() % 3];
                        if (rng() % 3 == 0) {
                                len = rng() % sizeof(buf);
                                for (size_t k = 0; k < len; k++)
                                        buf[k] = (char)rng();
                        } else {
                                len = strlen(seed);
                                memcpy(buf, seed, len);
                                for (int m = (int)(rng() % 4); m > 0; m--) {
                                        size_t at = rng() % len;
                                        buf[at] = (char)(rng() % 4 == 0 ? 0 : rng());
                                }
                                if (rng() % 4 == 0)
                                        len = rng() % (len + 1);
                        }
                        const unsigned char *out;
                        size_t out_len;
                        enum sasl_result r = sasl_server_step(
                                sasl, (st == 0 && rng() % 4 == 0) ? NULL :
                                (const unsigned char *)buf, len, &out, &out_len);
                        cr_assert_not_null(out);
                        check_result(sasl, r);
                        if (r != SASL_CONTINUE)
                                break;
                }
        }
}

/* ---- async_verify: PLAIN and LOGIN hand the password check out ---- */

static struct sasl_server *start_async(const char *mech)
{
        const struct sasl_server_settings set = {
                .lookup = fake_lookup, .context = &store, .async_verify = true,
        };
        struct sasl_server *sasl = NULL;
        const char *error = NULL;
        cr_assert_eq(sasl_server_start(pool, mech, &set, &sasl, &error), 0, "%s", error);
        return sasl;
}

/* Steps to SASL_VERIFY and checks the password and credentials handed out;
   returns whether password_verify / scram would accept them. */
static bool async_check(struct sasl_server *sasl, const void *msg, size_t len,
                        const char *want_password, const char *want_hash)
{
        const unsigned char *out;
        size_t out_len;
        const char *hash, *secret;
        int lookups = store.lookups;

        cr_assert_eq(sasl_server_step(sasl, msg, len, &out, &out_len), SASL_VERIFY);
        cr_assert_eq(store.lookups, lookups + 1, "looked up in the step");
        cr_assert_eq(out_len, strlen(want_password));
        cr_assert_eq(memcmp(out, want_password, out_len), 0);
        cr_assert(out >= (const unsigned char *)msg &&
                  out + out_len <= (const unsigned char *)msg + len, "points into the input");
        sasl_server_credentials(sasl, &hash, &secret);
        cr_assert_str_eq(hash, want_hash);
        if (*hash != '\0')
                return password_verify(want_password, hash);
        return *secret != '\0' && password_scram_verify(want_password, secret);
}

Test(sasl, async_plain_success_and_wrong_password)
{
        struct sasl_server *sasl = start_async("PLAIN");
        bool ok = async_check(sasl, "\0user\0pencil", 12, "pencil", store.hash);
        cr_assert(ok);
        /* No step while the check runs. */
        const char *out;
        cr_assert_eq(step(sasl, "", 0, &out), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_SYNTAX);

        sasl = start_async("PLAIN");
        cr_assert(async_check(sasl, "\0user\0pencil", 12, "pencil", store.hash));
        cr_assert_eq(sasl_server_verified(sasl, true), SASL_DONE_OK);
        cr_assert_str_eq(sasl_server_user(sasl), "user");
        /* verified() twice is a failure, not a second success. */
        cr_assert_eq(sasl_server_verified(sasl, true), SASL_DONE_FAIL);

        sasl = start_async("PLAIN");
        cr_assert(!async_check(sasl, "\0user\0wrong", 11, "wrong", store.hash));
        cr_assert_eq(sasl_server_verified(sasl, false), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
        cr_assert_str_eq(sasl_server_failure_reason(sasl), "wrong password");
}

Test(sasl, async_unknown_user_fails_even_if_the_check_says_ok)
{
        struct sasl_server *sasl = start_async("PLAIN");
        const char *hash, *secret;
        cr_assert(!async_check(sasl, "\0nobody\0pencil", 14, "pencil", ""));
        sasl_server_credentials(sasl, &hash, &secret);
        cr_assert_str_eq(secret, "");
        cr_assert_eq(sasl_server_verified(sasl, true), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
        cr_assert_str_eq(sasl_server_failure_reason(sasl), "unknown user");
}

Test(sasl, async_login_scram_only_and_canonical_name)
{
        const char *out, *hash, *secret;
        struct sasl_server *sasl = start_async("LOGIN");
        cr_assert_eq(step(sasl, NULL, 0, &out), SASL_CONTINUE);
        cr_assert_eq(step(sasl, "scramonly", -1, &out), SASL_CONTINUE);
        cr_assert(async_check(sasl, "pencil", 6, "pencil", ""));
        sasl_server_credentials(sasl, &hash, &secret);
        cr_assert_str_eq(secret, store.secret);
        cr_assert_eq(sasl_server_verified(sasl, true), SASL_DONE_OK);

        sasl = start_async("PLAIN");
        cr_assert(async_check(sasl, "\0USER@Example.COM\0pencil", 24, "pencil", store.hash));
        cr_assert_eq(sasl_server_verified(sasl, true), SASL_DONE_OK);
        cr_assert_str_eq(sasl_server_user(sasl), "USER@example.com");
}

Test(sasl, async_failures_before_the_check_are_unchanged)
{
        const char *out, *hash, *secret;
        struct sasl_server *sasl = start_async("PLAIN");
        cr_assert_eq(step(sasl, "\0tempfail\0pencil", 16, &out), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_TEMP);
        sasl = start_async("PLAIN");
        cr_assert_eq(step(sasl, "\0user\0", 6, &out), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_CREDENTIALS);
        sasl = start_async("PLAIN");
        cr_assert_eq(step(sasl, "x\0user\0pencil", 13, &out), SASL_DONE_FAIL);
        expect_fail(sasl, SASL_FAIL_AUTHZID);
        /* verified() without a pending check fails the exchange. */
        sasl = start_async("LOGIN");
        cr_assert_eq(sasl_server_verified(sasl, true), SASL_DONE_FAIL);
        sasl_server_credentials(sasl, &hash, &secret);
        cr_assert_str_eq(hash, "");
        /* SCRAM never asks. */
        sasl = start_async("SCRAM-SHA-256");
        cr_assert_eq(step(sasl, "n,,n=user,r=abc", -1, &out), SASL_CONTINUE);
}

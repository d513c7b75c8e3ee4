/* Unit tests for core/password.c: round trips per scheme, known vectors,
   imports, malformed hashes, SCRAM secrets. */
#include <criterion/criterion.h>
#include <string.h>

#include <crypt.h>

#include "base64.h"
#include "password.h"
#include "pool.h"

static struct pool *pool;
static void setup(void) { pool = pool_create("test", 1024); }
static void teardown(void) { pool_destroy(&pool); }

TestSuite(password, .init = setup, .fini = teardown, .timeout = 60);

static const char *hash_with(enum password_scheme scheme, unsigned long cost, const char *pw)
{
        const struct password_params params = { .scheme = scheme, .cost = cost };
        const char *hash = NULL, *error = NULL;
        cr_assert_eq(password_hash_with(pool, pw, &params, &hash, &error), 0, "%s", error);
        return hash;
}

Test(password, default_scheme_is_yescrypt_and_round_trips)
{
        const char *hash = NULL, *error = NULL;
        cr_assert_eq(password_hash(pool, "s3cret pass", &hash, &error), 0);
        cr_assert(strncmp(hash, "$y$", 3) == 0, "%s", hash);
        cr_assert(password_verify("s3cret pass", hash));
        cr_assert_not(password_verify("s3cret pasS", hash));
        cr_assert_not(password_verify("s3cret pass ", hash));
        cr_assert_eq(password_hash_check(hash, &error), 0, "%s", error);
        cr_assert_not(password_hash_needs_rehash(hash, &password_params_default));
}

Test(password, salts_differ)
{
        const char *a = NULL, *b = NULL, *error;
        cr_assert_eq(password_hash(pool, "same", &a, &error), 0);
        cr_assert_eq(password_hash(pool, "same", &b, &error), 0);
        cr_assert_str_neq(a, b);
}

Test(password, sha512_crypt_round_trip)
{
        const char *hash = hash_with(PASSWORD_SCHEME_SHA512_CRYPT, 5000, "pencil");
        cr_assert(strncmp(hash, "$6$", 3) == 0, "%s", hash);
        cr_assert(password_verify("pencil", hash));
        cr_assert_not(password_verify("pencil2", hash));
        const struct password_params p5000 = { PASSWORD_SCHEME_SHA512_CRYPT, 5000 };
        const struct password_params p9000 = { PASSWORD_SCHEME_SHA512_CRYPT, 9000 };
        cr_assert_not(password_hash_needs_rehash(hash, &p5000));
        cr_assert(password_hash_needs_rehash(hash, &p9000));
        cr_assert(password_hash_needs_rehash(hash, &password_params_default));
}

Test(password, pbkdf2_round_trip_and_format)
{
        const char *hash = hash_with(PASSWORD_SCHEME_PBKDF2_SHA256, 0, "pencil");
        cr_assert(strncmp(hash, "$pbkdf2-sha256$i=210000$", 24) == 0, "%s", hash);
        cr_assert(password_verify("pencil", hash));
        cr_assert_not(password_verify("Pencil", hash));
        const char *error;
        cr_assert_eq(password_hash_check(hash, &error), 0);
        const struct password_params p = { PASSWORD_SCHEME_PBKDF2_SHA256, 0 };
        cr_assert_not(password_hash_needs_rehash(hash, &p));
        cr_assert(password_hash_needs_rehash(hash, &password_params_default));
}

Test(password, cost_out_of_range_refused)
{
        const char *hash = NULL, *error = NULL;
        const struct password_params low = { PASSWORD_SCHEME_PBKDF2_SHA256, 99999 };
        const struct password_params y = { PASSWORD_SCHEME_YESCRYPT, 12 };
        const struct password_params s = { PASSWORD_SCHEME_SHA512_CRYPT, 999 };
        cr_assert_eq(password_hash_with(pool, "x", &low, &hash, &error), -1);
        cr_assert_eq(password_hash_with(pool, "x", &y, &hash, &error), -1);
        cr_assert_eq(password_hash_with(pool, "x", &s, &hash, &error), -1);
        cr_assert_not_null(error);
}

Test(password, bad_passwords_refused_for_hashing)
{
        const char *hash = NULL, *error = NULL;
        cr_assert_eq(password_hash(pool, "", &hash, &error), -1);
        cr_assert_eq(password_hash(pool, NULL, &hash, &error), -1);
        char *big = pool_alloc(pool, PASSWORD_MAX_LEN + 2);
        memset(big, 'a', PASSWORD_MAX_LEN + 1);
        cr_assert_eq(password_hash(pool, big, &hash, &error), -1);
        big[PASSWORD_MAX_LEN] = '\0';
        cr_assert_eq(password_hash_with(pool, big, &(struct password_params){
                PASSWORD_SCHEME_SHA512_CRYPT, 1000 }, &hash, &error), 0);
        cr_assert(password_verify(big, hash));
}

Test(password, scheme_names)
{
        enum password_scheme s;
        cr_assert(password_scheme_parse("YESCRYPT", &s) && s == PASSWORD_SCHEME_YESCRYPT);
        cr_assert(password_scheme_parse("sha512-crypt", &s) && s == PASSWORD_SCHEME_SHA512_CRYPT);
        cr_assert(password_scheme_parse("pbkdf2-sha256", &s) && s == PASSWORD_SCHEME_PBKDF2_SHA256);
        cr_assert_not(password_scheme_parse("plain", &s));
        cr_assert_not(password_scheme_parse(NULL, &s));
        cr_assert_str_eq(password_scheme_name(PASSWORD_SCHEME_SHA512_CRYPT), "sha512-crypt");
}

/* Known answers from the SHA-crypt specification (U. Drepper). */
Test(password, sha512_crypt_known_vectors)
{
        cr_assert(password_verify("Hello world!",
                "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
                "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1"));
        cr_assert(password_verify("Hello world!",
                "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSn"
                "CM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."));
        cr_assert_not(password_verify("Hello world",
                "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
                "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1"));
        /* One changed character in the hash part. */
        cr_assert_not(password_verify("Hello world!",
                "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
                "esI68u4OTLiBFdcbYEdFCoEOfaS35inz2"));
}

/* Known answer computed with an independent PBKDF2-HMAC-SHA256 (Python
   hashlib): salt bytes 01..10, 100000 iterations. */
Test(password, pbkdf2_known_vector)
{
        const char *h = "$pbkdf2-sha256$i=100000$AQIDBAUGBwgJCgsMDQ4PEA==$"
                        "+NlmGqf7yDUgZxRD5u3v2HZ6pXiVxKd71eLLlO+rzjA=";
        cr_assert(password_verify("correct horse", h));
        cr_assert_not(password_verify("correct horsE", h));
}

/* RFC 7914 §11 PBKDF2-HMAC-SHA256 vectors (first 32 bytes of the 64). */
Test(password, scram_hi_rfc7914_vectors)
{
        static const unsigned char v1[32] = {
                0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f, 0xec, 0x16, 0x91, 0xc2,
                0x25, 0x44, 0xb6, 0x05, 0xf9, 0x41, 0x85, 0x21, 0x6d, 0xde, 0x04, 0x65,
                0xe6, 0x8b, 0x9d, 0x57, 0xc2, 0x0d, 0xac, 0xbc };
        static const unsigned char v2[32] = {
                0x4d, 0xdc, 0xd8, 0xf6, 0x0b, 0x98, 0xbe, 0x21, 0x83, 0x0c, 0xee, 0x5e,
                0xf2, 0x27, 0x01, 0xf9, 0x64, 0x1a, 0x44, 0x18, 0xd0, 0x4c, 0x04, 0x14,
                0xae, 0xff, 0x08, 0x87, 0x6b, 0x34, 0xab, 0x56 };
        unsigned char out[32];
        cr_assert_eq(password_scram_salted_password("passwd", 6, (const unsigned char *)"salt",
                                                    4, 1, out), 0);
        cr_assert_eq(memcmp(out, v1, 32), 0);
        cr_assert_eq(password_scram_salted_password("Password", 8, (const unsigned char *)"NaCl",
                                                    4, 80000, out), 0);
        cr_assert_eq(memcmp(out, v2, 32), 0);
}

/* Dovecot-generated hashes for the password "test" (Dovecot's own tests). */
Test(password, dovecot_imports)
{
        cr_assert(password_verify("test", "{PBKDF2}$1$bUnT4Pl7yFtYX0KU$5000$"
                                          "50a83cafdc517b9f46519415e53c6a858908680a"));
        cr_assert_not(password_verify("tesT", "{PBKDF2}$1$bUnT4Pl7yFtYX0KU$5000$"
                                              "50a83cafdc517b9f46519415e53c6a858908680a"));
        cr_assert(password_verify("test", "{MD5-CRYPT}$1$GgvxyNz8$OjZhLh4P.gF1lxYEbLZ3e/"));
        cr_assert(password_verify("test", "{md5-crypt}$1$GgvxyNz8$OjZhLh4P.gF1lxYEbLZ3e/"));
        cr_assert(password_verify("test", "$1$GgvxyNz8$OjZhLh4P.gF1lxYEbLZ3e/"));
        cr_assert(password_verify("test", "{CRYPT}$1$GgvxyNz8$OjZhLh4P.gF1lxYEbLZ3e/"));
        /* The prefix must match the crypt id inside. */
        cr_assert_not(password_verify("test", "{SHA512-CRYPT}$1$GgvxyNz8$OjZhLh4P.gF1lxYEbLZ3e/"));
        char setting[256];
        struct crypt_data *d = pool_alloc(pool, sizeof(*d));
        cr_assert_not_null(crypt_gensalt_rn("$2y$", 4, NULL, 0, setting, sizeof(setting)));
        const char *blf = pool_printf(pool, "{BLF-CRYPT}%s", crypt_rn("test", setting, d,
                                                                        sizeof(*d)));
        cr_assert(password_verify("test", blf), "%s", blf);
        cr_assert_not(password_verify("test2", blf));
        const char *sha = hash_with(PASSWORD_SCHEME_SHA512_CRYPT, 1000, "test");
        cr_assert(password_verify("test", pool_printf(pool, "{SHA512-CRYPT}%s", sha)));
        const char *error;
        cr_assert_eq(password_hash_check(pool_printf(pool, "{SHA512-CRYPT}%s", sha), &error), 0);
        cr_assert_eq(password_hash_check("{PBKDF2}$1$bUnT4Pl7yFtYX0KU$5000$"
                                         "50a83cafdc517b9f46519415e53c6a858908680a", &error), 0);
}

Test(password, other_crypt_schemes_verify)
{
        static const char *const prefixes[] = { "$2b$", "$5$", "$y$" };
        for (size_t i = 0; i < 3; i++) {
                char setting[256];
                cr_assert_not_null(crypt_gensalt_rn(prefixes[i], 0, NULL, 0, setting,
                                                    sizeof(setting)));
                struct crypt_data *d = pool_alloc(pool, sizeof(*d));
                const char *h = crypt_rn("pw", setting, d, sizeof(*d));
                cr_assert_not_null(h);
                cr_assert(password_verify("pw", h), "%s", h);
                cr_assert_not(password_verify("pW", h), "%s", h);
        }
}

Test(password, plaintext_and_garbage_never_match)
{
        static const char *const bad[] = {
                "", "pencil", "{PLAIN}pencil", "{CLEARTEXT}pencil", "{PLAIN-MD5}abc",
                "{SHA256}8NSRIfBpISneREB06+Z/4h9io5c9+9zEEe1abG6gFCQ=", "{SSHA}xx",
                "{UNKNOWN}$6$x$y", "{SHA512-CRYPT}", "{SHA512-CRYPT}pencil", "{CRYPT}abcdefghijklm",
                "abJnggxhB/yWI", "_J9..CCCCXBrJUJV154M", "$", "$$", "$6$", "$6$salt",
                "$6$salt$", "$6$salt$short", "$6$salt$svn8 UoSV", "$6$rounds=x$salt$hash",
                "$y$", "$y$j9T$", "$y$zz$salt$hash", "$2b$99$abcdefghijklmnopqrstuuABCDE",
                "$9$unknown$scheme", "*0", "*", "!", "!$6$saltstring$svn8UoSVapNtMu",
                "$pbkdf2-sha256$", "$pbkdf2-sha256$i=$AAAAAAAAAAA=$AAAA",
                "$pbkdf2-sha256$i=100000$AQIDBAUGBwgJCgsMDQ4PEA==$",
                "$pbkdf2-sha256$i=100000$AQIDBAUGBwgJCgsMDQ4PEA==$AAAA",
                "$pbkdf2-sha256$i=999$AQIDBAUGBwgJCgsMDQ4PEA==$"
                "+NlmGqf7yDUgZxRD5u3v2HZ6pXiVxKd71eLLlO+rzjA=",
                "$pbkdf2-sha256$i=100000000000$AQIDBAUGBwgJCgsMDQ4PEA==$"
                "+NlmGqf7yDUgZxRD5u3v2HZ6pXiVxKd71eLLlO+rzjA=",
                "$pbkdf2-sha256$i=0100000$AQIDBAUGBwgJCgsMDQ4PEA==$"
                "+NlmGqf7yDUgZxRD5u3v2HZ6pXiVxKd71eLLlO+rzjA=",
                "$pbkdf2-sha256$i=100000$AQIDBAUGBwgJCgsMDQ4PEA$"
                "+NlmGqf7yDUgZxRD5u3v2HZ6pXiVxKd71eLLlO+rzjA=",
                "{PBKDF2}$1$$5000$50a83cafdc517b9f46519415e53c6a858908680a",
                "{PBKDF2}$1$bUnT4Pl7yFtYX0KU$0$50a83cafdc517b9f46519415e53c6a858908680a",
                "{PBKDF2}$1$bUnT4Pl7yFtYX0KU$5000$50a83cafdc517b9f46519415e53c6a858908680",
                "{PBKDF2}$1$bUnT4Pl7yFtYX0KU$5000$50a83cafdc517b9f46519415e53c6a858908680g",
                "{PBKDF2}$2$bUnT4Pl7yFtYX0KU$5000$50a83cafdc517b9f46519415e53c6a858908680a",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *error = NULL;
                cr_assert_not(password_verify("pencil", bad[i]), "accepted '%s'", bad[i]);
                cr_assert_not(password_verify("", bad[i]));
                cr_assert_eq(password_hash_check(bad[i], &error), -1, "checked '%s'", bad[i]);
                cr_assert_not_null(error);
        }
        cr_assert_not(password_verify("pencil", NULL));
        cr_assert_not(password_verify(NULL, "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl"));
}

Test(password, empty_password_never_verifies)
{
        const char *h = hash_with(PASSWORD_SCHEME_SHA512_CRYPT, 1000, "x");
        cr_assert_not(password_verify("", h));
        cr_assert_not(password_scram_verify("", "SCRAM-SHA-256$4096:AAAA$AAAA:AAAA"));
}

Test(password, oversized_stored_hash_rejected)
{
        char *big = pool_alloc(pool, PASSWORD_HASH_MAX_LEN + 20);
        strcpy(big, "$6$saltstring$");
        memset(big + 14, 'a', PASSWORD_HASH_MAX_LEN);
        cr_assert_not(password_verify("pencil", big));
        const char *error;
        cr_assert_eq(password_hash_check(big, &error), -1);
}

/* ---- SCRAM secrets ---- */

/* RFC 7677 §3 example: user "user", password "pencil", salt
   W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations. The server signature in the
   example proves ServerKey; StoredKey is checked through the SASL test. */
Test(password, scram_secret_format_and_parse)
{
        unsigned char *salt;
        size_t salt_len;
        const char *error = NULL, *secret = NULL;
        cr_assert_eq(base64_decode(pool, "W22ZaJ0SNY7soEsUEjb6gQ==", 24, 64, &salt, &salt_len,
                                   &error), 0);
        cr_assert_eq(password_scram_secret_with(pool, "pencil", 4096, salt, salt_len, &secret,
                                                &error), 0);
        cr_assert(strncmp(secret, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$", 44) == 0,
                  "%s", secret);
        struct password_scram scram;
        cr_assert_eq(password_scram_secret_parse(pool, secret, &scram, &error), 0, "%s", error);
        cr_assert_eq(scram.iterations, 4096);
        cr_assert_eq(scram.salt_len, 16);
        cr_assert_eq(memcmp(scram.salt, salt, 16), 0);
        cr_assert(password_scram_verify("pencil", secret));
        cr_assert_not(password_scram_verify("pencil!", secret));
}

Test(password, scram_secret_default)
{
        const char *secret = NULL, *error = NULL;
        cr_assert_eq(password_scram_secret(pool, "pw", &secret, &error), 0);
        cr_assert(strncmp(secret, "SCRAM-SHA-256$10000:", 20) == 0, "%s", secret);
        struct password_scram scram;
        cr_assert_eq(password_scram_secret_parse(pool, secret, &scram, &error), 0);
        cr_assert_eq(scram.salt_len, PASSWORD_SCRAM_SALT_LEN);
        cr_assert(password_scram_verify("pw", secret));
        cr_assert_eq(password_scram_secret(pool, "", &secret, &error), -1);
        unsigned char s[4] = { 1, 2, 3, 4 };
        cr_assert_eq(password_scram_secret_with(pool, "pw", 4095, s, 4, &secret, &error), -1);
        cr_assert_eq(password_scram_secret_with(pool, "pw", 4096, s, 0, &secret, &error), -1);
}

Test(password, scram_secret_malformed)
{
        const char *k = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        const char *good = pool_printf(pool, "SCRAM-SHA-256$4096:AAAA$%s:%s", k, k);
        struct password_scram scram;
        const char *error;
        cr_assert_eq(password_scram_secret_parse(pool, good, &scram, &error), 0);
        const char *const bad[] = {
                "", "SCRAM-SHA-256$", "SCRAM-SHA-1$4096:AAAA$AAAA:AAAA",
                pool_printf(pool, "SCRAM-SHA-256$4095:AAAA$%s:%s", k, k),
                pool_printf(pool, "SCRAM-SHA-256$04096:AAAA$%s:%s", k, k),
                pool_printf(pool, "SCRAM-SHA-256$99999999999:AAAA$%s:%s", k, k),
                pool_printf(pool, "SCRAM-SHA-256$:AAAA$%s:%s", k, k),
                pool_printf(pool, "SCRAM-SHA-256$4096:$%s:%s", k, k),
                pool_printf(pool, "SCRAM-SHA-256$4096:AAA$%s:%s", k, k),
                pool_printf(pool, "SCRAM-SHA-256$4096:AAAA$%s:%sx", k, k),
                pool_printf(pool, "SCRAM-SHA-256$4096:AAAA$%s:AAAA", k),
                pool_printf(pool, "SCRAM-SHA-256$4096:AAAA$%s", k),
                pool_printf(pool, "SCRAM-SHA-256$4096:AAAA$%s:%s:", k, k),
                pool_printf(pool, "SCRAM-SHA-256$4096:AAAA$%s$%s", k, k),
                pool_printf(pool, "scram-sha-256$4096:AAAA$%s:%s", k, k),
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                error = NULL;
                cr_assert_eq(password_scram_secret_parse(pool, bad[i], &scram, &error), -1,
                             "accepted '%s'", bad[i]);
                cr_assert_not_null(error);
                cr_assert_not(password_scram_verify("x", bad[i]));
        }
        cr_assert_eq(password_scram_secret_parse(pool, NULL, &scram, &error), -1);
}

/* Mutations of valid stored strings: never a crash, never a match. */
Test(password, mutated_hashes_never_crash)
{
        static const char *const seeds[] = {
                "$pbkdf2-sha256$i=100000$AQIDBAUGBwgJCgsMDQ4PEA==$"
                "+NlmGqf7yDUgZxRD5u3v2HZ6pXiVxKd71eLLlO+rzjA=",
                "{PBKDF2}$1$bUnT4Pl7yFtYX0KU$5000$50a83cafdc517b9f46519415e53c6a858908680a",
                "$6$rounds=1000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjn",
                "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        };
        unsigned state = 99;
        char buf[200];
        for (int iter = 0; iter < 400; iter++) {
                const char *seed = seeds[iter % 4];
                size_t len = strlen(seed);
                memcpy(buf, seed, len + 1);
                for (int m = 0; m < 3; m++) {
                        state = state * 1103515245u + 12345u;
                        size_t at = (state >> 8) % len;
                        buf[at] = (char)(33 + (state >> 16) % 94);
                }
                struct password_scram scram;
                const char *error;
                (void)password_hash_check(buf, &error);
                (void)password_scram_secret_parse(pool, buf, &scram, &error);
                cr_assert_not(password_verify("not the password", buf), "'%s'", buf);
        }
}

/* Unit tests for core/base64.c: RFC 4648 vectors, strictness, bounds. */
#include <criterion/criterion.h>
#include <string.h>

#include "base64.h"
#include "pool.h"

static struct pool *pool;
static void setup(void) { pool = pool_create("test", 1024); }
static void teardown(void) { pool_destroy(&pool); }

TestSuite(base64, .init = setup, .fini = teardown);

/* RFC 4648 §10 test vectors. */
static const struct {
        const char *plain, *encoded;
} vectors[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

Test(base64, rfc4648_vectors_round_trip)
{
        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
                size_t len = strlen(vectors[i].plain);
                cr_assert_str_eq(base64_encode(pool, vectors[i].plain, len), vectors[i].encoded);
                cr_assert_eq(base64_encoded_len(len), strlen(vectors[i].encoded));
                unsigned char *out = NULL;
                size_t out_len = 99;
                const char *error = NULL;
                cr_assert_eq(base64_decode(pool, vectors[i].encoded, strlen(vectors[i].encoded),
                                           100, &out, &out_len, &error), 0);
                cr_assert_eq(out_len, len);
                cr_assert_eq(memcmp(out, vectors[i].plain, len), 0);
                cr_assert_eq(out[out_len], '\0');
        }
}

Test(base64, binary_all_byte_values_round_trip)
{
        unsigned char data[256];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (unsigned char)(255 - i);
        for (size_t len = 0; len <= sizeof(data); len++) {
                const char *enc = base64_encode(pool, data, len);
                unsigned char *out;
                size_t out_len;
                const char *error;
                cr_assert_eq(base64_decode(pool, enc, strlen(enc), len, &out, &out_len, &error), 0);
                cr_assert_eq(out_len, len);
                cr_assert_eq(memcmp(out, data, len), 0);
                cr_assert(base64_decoded_max_len(strlen(enc)) >= len);
        }
}

Test(base64, rejects_malformed)
{
        static const char *const bad[] = {
                "Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zm=v", "Zm 9v", " Zm9v",
                "Zm9v\n", "Zm9v\r\n", "Zm-_", "Zm9v=", "Zh==", "Zm9=", "*m9v",
                "Zm9v====", "=Zm9", "Zg=a",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                unsigned char *out;
                size_t out_len;
                const char *error = NULL;
                size_t len = strlen(bad[i]);
                cr_assert_eq(base64_decode(pool, bad[i], len, 100, &out, &out_len, &error), -1,
                             "accepted '%s'", bad[i]);
                cr_assert_not_null(error);
                cr_assert_not(base64_is_valid(bad[i], len));
        }
}

Test(base64, embedded_nul_rejected)
{
        const char src[] = { 'Z', 'm', '\0', 'v' };
        cr_assert_not(base64_is_valid(src, sizeof(src)));
}

Test(base64, length_bound_enforced)
{
        unsigned char *out;
        size_t out_len;
        const char *error = NULL;
        cr_assert_eq(base64_decode(pool, "Zm9vYmFy", 8, 5, &out, &out_len, &error), -1);
        cr_assert_str_eq(error, "base64 data too long");
        cr_assert_eq(base64_decode(pool, "Zm9vYmFy", 8, 6, &out, &out_len, &error), 0);
        cr_assert_eq(out_len, 6);
}

Test(base64, src_need_not_be_terminated)
{
        unsigned char *out;
        size_t out_len;
        const char *error;
        cr_assert_eq(base64_decode(pool, "Zm9vYmFy!!!", 4, 10, &out, &out_len, &error), 0);
        cr_assert_eq(out_len, 3);
        cr_assert_eq(memcmp(out, "foo", 3), 0);
}

Test(base64, encode_to_writes_nul)
{
        char dst[9];
        memset(dst, 'x', sizeof(dst));
        cr_assert_eq(base64_encode_to(dst, "fooba", 5), 8);
        cr_assert_str_eq(dst, "Zm9vYmE=");
        cr_assert_str_eq(base64_encode(pool, NULL, 0), "");
}

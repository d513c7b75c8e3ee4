/* test-mutf7.c - modified UTF-7 mailbox names both ways, strictness. */
#include <criterion/criterion.h>

#include "mutf7.h"
#include "pool.h"

static struct pool *pool;

static void setup(void)
{
        pool = pool_create("test", 1024);
}

static void teardown(void)
{
        pool_destroy(&pool);
}

TestSuite(imap_mutf7, .init = setup, .fini = teardown);

Test(imap_mutf7, roundtrip)
{
        static const char *const pairs[][2] = {
                { "Entwürfe", "Entw&APw-rfe" },
                { "A&B", "A&-B" },
                { "日本語", "&ZeVnLIqe-" },
                { "x😀y", "x&2D3eAA-y" },
                { "plain", "plain" },
        };
        for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
                const char *out;
                cr_assert(imap_mutf7_encode(pool, pairs[i][0], &out));
                cr_assert_str_eq(out, pairs[i][1]);
                cr_assert(imap_mutf7_decode(pool, pairs[i][1], &out));
                cr_assert_str_eq(out, pairs[i][0]);
        }
}

Test(imap_mutf7, strict_decoding)
{
        const char *bad[] = { "&", "&Jjo", "&AGE-", "&2D3-", "&-&ZeV", "\x80", "&A,-" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *out;
                cr_assert(!imap_mutf7_decode(pool, bad[i], &out), "%s", bad[i]);
        }
        const char *out;
        cr_assert(!imap_mutf7_encode(pool, "bad\xff", &out));
}

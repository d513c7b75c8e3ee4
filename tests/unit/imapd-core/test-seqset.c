/* test-seqset.c - sequence sets: syntax, '*', reversed ranges, merging,
 * formatting. */
#include <criterion/criterion.h>

#include "pool.h"
#include "seqset.h"

static struct pool *pool;

static void setup(void)
{
        pool = pool_create("test", 1024);
}

static void teardown(void)
{
        pool_destroy(&pool);
}

TestSuite(imap_seqset, .init = setup, .fini = teardown);

Test(imap_seqset, parse_and_merge)
{
        struct imap_seqset *set;
        const char *error;
        cr_assert_eq(imap_seqset_parse(pool, "7:5,1,2,9:*,3", 12, &set, &error), 0);
        cr_assert_str_eq(imap_seqset_format(pool, set), "1:3,5:7,9:12");
        cr_assert(imap_seqset_contains(set, 6));
        cr_assert(!imap_seqset_contains(set, 8));
        cr_assert_eq(imap_seqset_max(set), 12);
        cr_assert_eq(imap_seqset_count(set), 10);
        cr_assert_eq(imap_seqset_parse(pool, "*:4", 2, &set, &error), 0);
        cr_assert_str_eq(imap_seqset_format(pool, set), "2:4");
        cr_assert_eq(imap_seqset_parse(pool, "4294967295", 1, &set, &error), 0);
        cr_assert_eq(imap_seqset_max(set), 4294967295u);
}

Test(imap_seqset, syntax_errors)
{
        const char *bad[] = { "", "0", "1:", ":1", "1,,2", "a", "1:2:3", "4294967296", "01",
                              "1 ", "*1" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct imap_seqset *set;
                const char *error;
                cr_assert(!imap_seqset_valid(bad[i]), "%s", bad[i]);
                cr_assert_eq(imap_seqset_parse(pool, bad[i], 5, &set, &error), -1, "%s",
                             bad[i]);
        }
}

Test(imap_seqset, from_sorted)
{
        uint32_t nums[] = { 1, 2, 3, 3, 5, 8, 9 };
        struct imap_seqset *set = imap_seqset_from_sorted(pool, nums, 7);
        cr_assert_str_eq(imap_seqset_format(pool, set), "1:3,5,8:9");
}

/* Unit tests for core/pool.c: zeroed memory, alignment, growth, clear. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "pool.h"

static struct pool *pool;
static void setup(void) { pool = pool_create("test", 0); }
static void teardown(void) { pool_destroy(&pool); cr_assert_null(pool); }

TestSuite(pool, .init = setup, .fini = teardown);

Test(pool, alloc_is_zeroed_and_aligned)
{
        for (size_t i = 1; i < 200; i++) {
                unsigned char *p = pool_alloc(pool, i);
                cr_assert_eq((uintptr_t)p % 16, 0);
                for (size_t j = 0; j < i; j++)
                        cr_assert_eq(p[j], 0);
                memset(p, 0xAA, i);
        }
}

Test(pool, large_allocations_grow)
{
        char *big = pool_alloc(pool, 5 * 1024 * 1024);
        big[5 * 1024 * 1024 - 1] = 'x';
        char *small = pool_strdup(pool, "hello");
        cr_assert_str_eq(small, "hello");
        cr_assert_geq(pool_used(pool), 5 * 1024 * 1024);
}

Test(pool, clear_resets_usage)
{
        for (int i = 0; i < 1000; i++)
                pool_printf(pool, "line %d", i);
        cr_assert_gt(pool_used(pool), 0);
        pool_clear(pool);
        cr_assert_eq(pool_used(pool), 0);
        cr_assert_str_eq(pool_printf(pool, "%s-%d", "a", 7), "a-7");
}

Test(pool, strndup_and_memdup)
{
        char *s = pool_strndup(pool, "abcdef", 3);
        cr_assert_str_eq(s, "abc");
        cr_assert_null(pool_strdup(pool, NULL));
        unsigned char bin[4] = { 0, 1, 0, 2 };
        unsigned char *c = pool_memdup(pool, bin, 4);
        cr_assert_eq(memcmp(c, bin, 4), 0);
}

Test(pool, realloc_keeps_content)
{
        char *p = pool_strdup(pool, "abc");
        p = pool_realloc(pool, p, 4, 4096);
        cr_assert_str_eq(p, "abc");
        cr_assert_eq(p[4095], 0);
}

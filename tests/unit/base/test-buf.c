/* Unit tests for core/buf.c: growth, limits, consume, tail/commit, helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"

static struct buf buf;
static void setup(void) { buf_init(&buf, 0); }
static void teardown(void) { buf_free(&buf); }

TestSuite(buf, .init = setup, .fini = teardown);

Test(buf, append_grows_and_terminates)
{
        for (int i = 0; i < 10000; i++)
                cr_assert(buf_append_str(&buf, "x"));
        cr_assert_eq(buf.len, 10000);
        cr_assert_eq(buf.data[10000], '\0');
        cr_assert(buf_printf(&buf, "%d", 42));
        cr_assert_str_eq(buf.data + 10000, "42");
}

Test(buf, binary_data_is_kept)
{
        const char bin[] = { 'a', 0, 'b', '\r', '\n', (char)0xff };
        cr_assert(buf_append(&buf, bin, sizeof(bin)));
        cr_assert_eq(buf.len, sizeof(bin));
        cr_assert_eq(memcmp(buf.data, bin, sizeof(bin)), 0);
}

Test(buf, limit_refuses_without_change)
{
        struct buf lim;
        buf_init(&lim, 8);
        cr_assert(buf_append_str(&lim, "12345678"));
        cr_assert_not(buf_append_str(&lim, "9"));
        cr_assert_eq(lim.len, 8);
        cr_assert_str_eq(lim.data, "12345678");
        cr_assert_not(buf_printf(&lim, "%s", "x"));
        buf_free(&lim);
}

Test(buf, consume_shifts)
{
        buf_append_str(&buf, "hello world");
        buf_consume(&buf, 6);
        cr_assert_str_eq(buf.data, "world");
        buf_consume(&buf, 100);
        cr_assert_eq(buf.len, 0);
}

Test(buf, tail_and_commit)
{
        size_t avail;
        char *t = buf_tail(&buf, 100, &avail);
        cr_assert_not_null(t);
        cr_assert_geq(avail, 100);
        memcpy(t, "abc", 3);
        buf_commit(&buf, 3);
        cr_assert_str_eq(buf.data, "abc");
}

Test(buf, tail_respects_limit)
{
        struct buf lim;
        buf_init(&lim, 10);
        size_t avail;
        char *t = buf_tail(&lim, 100, &avail);
        cr_assert_not_null(t);
        cr_assert_eq(avail, 10);
        buf_commit(&lim, 10);
        cr_assert_null(buf_tail(&lim, 1, &avail));
        buf_free(&lim);
}

Test(buf, find_lf)
{
        buf_append_str(&buf, "a\r\nb\n");
        size_t pos;
        cr_assert(buf_find_lf(&buf, 0, &pos));
        cr_assert_eq(pos, 2);
        cr_assert(buf_find_lf(&buf, 3, &pos));
        cr_assert_eq(pos, 4);
        cr_assert_not(buf_find_lf(&buf, 5, &pos));
}

Test(str, helpers)
{
        uint64_t v;
        cr_assert(str_to_u64("18446744073709551615", &v));
        cr_assert_eq(v, UINT64_MAX);
        cr_assert_not(str_to_u64("18446744073709551616", &v));
        cr_assert_not(str_to_u64("", &v));
        cr_assert_not(str_to_u64("-1", &v));
        cr_assert_not(str_to_u64("1 ", &v));
        cr_assert(str_eq_nocase("InBoX", "INBOX"));
        cr_assert(str_has_prefix_nocase("Content-Type: x", "content-type:"));
        char s[] = "  trim me \t\n";
        cr_assert_str_eq(str_trim(s), "trim me");
}

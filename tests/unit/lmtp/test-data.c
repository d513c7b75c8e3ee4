/* test-data.c - the DATA stream parser: end-of-data detection, dot-unstuffing,
 * the size limit, and the same result however the input is split.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "data.h"
#include "spool.h"

struct result {
        bool done;
        size_t consumed;
        struct lmtp_spool out;   /* memory only */
        bool too_big;
        uint64_t size;
};

/* Feeds in pieces: step 0 = random sizes (seeded), else fixed steps. */
static struct result run(const char *in, size_t len, size_t step, uint64_t max)
{
        struct result r = { 0 };
        struct lmtp_data d;
        lmtp_spool_init(&r.out, NULL, SIZE_MAX);
        lmtp_data_init(&d, &r.out, max);
        unsigned seed = 7;
        size_t pos = 0;
        while (pos < len && !r.done) {
                size_t n = step != 0 ? step : 1 + (size_t)(rand_r(&seed) % 7);
                if (n > len - pos)
                        n = len - pos;
                size_t used;
                r.done = lmtp_data_feed(&d, in + pos, n, &used) == LMTP_DATA_DONE;
                cr_assert(used <= n);
                if (!r.done)
                        cr_assert_eq(used, n);
                pos += used;
        }
        r.consumed = pos;
        r.too_big = d.too_big;
        r.size = d.size;
        return r;
}

/* Every split gives done, the expected message and the expected consumption. */
static void check(const char *in, const char *expect, size_t expect_consumed)
{
        size_t steps[] = { 1, 2, 3, 5, 4096, 0 };
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                struct result r = run(in, strlen(in), steps[i], 1 << 20);
                cr_assert(r.done, "no end found (step %zu) in %s", steps[i], in);
                cr_assert_eq(r.out.mem.len, strlen(expect), "step %zu: got %zu bytes, want %zu",
                             steps[i], r.out.mem.len, strlen(expect));
                cr_assert(memcmp(r.out.mem.data == NULL ? "" : r.out.mem.data, expect,
                                 r.out.mem.len) == 0, "step %zu: wrong bytes", steps[i]);
                cr_assert_eq(r.consumed, expect_consumed, "step %zu", steps[i]);
                cr_assert_eq(r.size, strlen(expect));
                lmtp_spool_reset(&r.out);
        }
}

Test(lmtp_data, plain_message)
{
        check("Subject: x\r\n\r\nhello\r\n.\r\n", "Subject: x\r\n\r\nhello\r\n", 24);
}

Test(lmtp_data, empty_message)
{
        check(".\r\n", "", 3);
}

Test(lmtp_data, dot_stuffing_removed)
{
        check("..one\r\n..\r\n...\r\nx.y\r\n.\r\n", ".one\r\n.\r\n..\r\nx.y\r\n", 24);
        check("..\r\n.\r\n", ".\r\n", 7);
}

Test(lmtp_data, rest_is_left_for_the_next_command)
{
        check("a\r\n.\r\nQUIT\r\n", "a\r\n", 6);
}

Test(lmtp_data, dot_cr_without_lf_is_data)
{
        check(".\rX\r\n.\r\n", "\rX\r\n", 8);
        check("a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", 10);
}

Test(lmtp_data, bare_lf_never_starts_a_line)
{
        /* "\n.\r\n" and "\r\n.\n" are not the end (SMTP smuggling). */
        check("a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n", 11);
        check("a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", 11);
        check("a\n..\n\r\n.\r\n", "a\n..\n\r\n", 10);
}

Test(lmtp_data, binary_and_8bit_bytes_kept)
{
        const char in[] = "caf\xc3\xa9 \x01\x7f\xff\r\n\r\r\r\n.\r\n";
        check(in, "caf\xc3\xa9 \x01\x7f\xff\r\n\r\r\r\n", sizeof(in) - 1);
}

Test(lmtp_data, no_end_means_more)
{
        const char *in = "a\r\n.\r";
        struct result r = run(in, strlen(in), 1, 100);
        cr_assert(!r.done);
        cr_assert_eq(r.out.mem.len, 3, "the held CR is not message data yet");
        lmtp_spool_reset(&r.out);
}

Test(lmtp_data, over_the_limit_is_counted_not_kept)
{
        const char *in = "0123456789\r\n0123456789\r\n.\r\nNOOP\r\n";
        struct result r = run(in, strlen(in), 3, 16);
        cr_assert(r.done);
        cr_assert(r.too_big);
        cr_assert_eq(r.size, 24);
        cr_assert_eq(r.out.mem.len, 0, "the kept prefix is released at once");
        cr_assert_eq(r.consumed, 27);
        lmtp_spool_reset(&r.out);
}

Test(lmtp_data, exactly_the_limit_fits)
{
        const char *in = "0123456789\r\n.\r\n";
        struct result r = run(in, strlen(in), 0, 12);
        cr_assert(r.done);
        cr_assert(!r.too_big);
        cr_assert_eq(r.out.mem.len, 12);
        lmtp_spool_reset(&r.out);
}

/* Random bytes, stuffed and terminated, come back exactly. */
Test(lmtp_data, random_round_trip)
{
        unsigned seed = 99;
        for (int round = 0; round < 50; round++) {
                size_t n = (size_t)(rand_r(&seed) % 2000);
                const char alphabet[] = ".\r\n.a\x00\xff";
                struct buf msg, wire;
                buf_init(&msg, 0);
                buf_init(&wire, 0);
                for (size_t i = 0; i < n; i++)
                        buf_append_char(&msg, alphabet[rand_r(&seed) % 7]);
                buf_append(&msg, "\r\n", 2);
                /* Stuff: a '.' after CRLF (or at the start) gets a second one. */
                for (size_t i = 0; i < msg.len; i++) {
                        bool line_start = i == 0 || (i >= 2 && msg.data[i - 1] == '\n' &&
                                                     msg.data[i - 2] == '\r');
                        if (line_start && msg.data[i] == '.')
                                buf_append_char(&wire, '.');
                        buf_append_char(&wire, msg.data[i]);
                }
                buf_append(&wire, ".\r\n", 3);
                struct result r = run(wire.data, wire.len, 0, 1 << 20);
                cr_assert(r.done, "round %d", round);
                cr_assert_eq(r.out.mem.len, msg.len, "round %d", round);
                cr_assert(memcmp(r.out.mem.data, msg.data, msg.len) == 0, "round %d", round);
                cr_assert_eq(r.consumed, wire.len);
                lmtp_spool_reset(&r.out);
                buf_free(&msg);
                buf_free(&wire);
        }
}

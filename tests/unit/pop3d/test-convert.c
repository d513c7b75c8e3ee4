/* Unit tests for pop3d/convert.c: every case is fed whole, one byte at a
 * time and in pseudo-random pieces, and must give the same bytes; the
 * counted size must equal the unstuffed output length. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "convert.h"

static void emit_buf(void *context, const void *data, size_t len)
{
        buf_append(context, data, len);
}

/* Converts in with the given piece sizes (0: whole; 1: bytes; 2: random). */
static void run(const char *in, size_t len, bool stuff, bool top, uint64_t lines, int mode,
                struct buf *out, uint64_t *size_r)
{
        struct pop3_conv conv;
        uint64_t seed = 88172645463325252ull;
        size_t pos = 0;

        pop3_conv_init(&conv, stuff, top, lines);
        while (pos < len && !conv.done) {
                size_t n = len - pos;
                if (mode == 1)
                        n = 1;
                else if (mode == 2) {
                        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                        n = 1 + seed % 7;
                        if (n > len - pos)
                                n = len - pos;
                }
                size_t used = pop3_conv_feed(&conv, in + pos, n, emit_buf, out);
                cr_assert(used == n || conv.done);
                pos += n;
        }
        pop3_conv_finish(&conv, emit_buf, out);
        *size_r = conv.size;
}

static void check(const char *in, size_t in_len, bool top, uint64_t lines,
                  const char *stuffed, const char *plain)
{
        for (int mode = 0; mode < 3; mode++) {
                struct buf a, b;
                uint64_t size_a, size_b;

                buf_init(&a, 0);
                buf_init(&b, 0);
                run(in, in_len, true, top, lines, mode, &a, &size_a);
                run(in, in_len, false, top, lines, mode, &b, &size_b);
                cr_assert_eq(a.len, strlen(stuffed), "mode %d: len %zu", mode, a.len);
                cr_assert(a.len == 0 || memcmp(a.data, stuffed, a.len) == 0, "mode %d: %.*s",
                          mode, (int)a.len, a.data);
                cr_assert_eq(b.len, strlen(plain), "mode %d", mode);
                cr_assert(b.len == 0 || memcmp(b.data, plain, b.len) == 0, "mode %d", mode);
                cr_assert_eq(size_a, strlen(plain), "size excludes dot-stuffing");
                cr_assert_eq(size_b, strlen(plain));
                buf_free(&a);
                buf_free(&b);
        }
}

#define CHECK(in, top, lines, stuffed, plain) \
        check(in, sizeof(in) - 1, top, lines, stuffed, plain)

Test(convert, crlf_kept)
{
        CHECK("A: b\r\n\r\nbody\r\n", false, 0, "A: b\r\n\r\nbody\r\n", "A: b\r\n\r\nbody\r\n");
}

Test(convert, bare_lf_becomes_crlf)
{
        CHECK("A: b\n\nx\ny\r\nz\n", false, 0, "A: b\r\n\r\nx\r\ny\r\nz\r\n",
              "A: b\r\n\r\nx\r\ny\r\nz\r\n");
}

Test(convert, unterminated_last_line)
{
        CHECK("A: b\r\n\r\nend", false, 0, "A: b\r\n\r\nend\r\n", "A: b\r\n\r\nend\r\n");
        CHECK("x\r", false, 0, "x\r\n", "x\r\n");
        CHECK("", false, 0, "", "");
}

Test(convert, lone_cr_kept)
{
        CHECK("a\rb\r\n", false, 0, "a\rb\r\n", "a\rb\r\n");
}

Test(convert, dot_stuffing)
{
        CHECK(".\r\n..\r\n.x\nx.\r\n.", false, 0, "..\r\n...\r\n..x\r\nx.\r\n..\r\n",
              ".\r\n..\r\n.x\r\nx.\r\n.\r\n");
}

Test(convert, top_cuts_after_header_and_lines)
{
        static const char msg[] = "A: 1\r\nB: 2\n\nl1\r\n.l2\nl3\r\n";

        CHECK(msg, true, 0, "A: 1\r\nB: 2\r\n\r\n", "A: 1\r\nB: 2\r\n\r\n");
        CHECK(msg, true, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n",
              "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\n");
        CHECK(msg, true, 1000, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n",
              "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n");
}

Test(convert, top_without_blank_line_sends_all)
{
        CHECK("A: 1\r\nB: 2", true, 0, "A: 1\r\nB: 2\r\n", "A: 1\r\nB: 2\r\n");
}

Test(convert, nul_bytes_pass_through)
{
        static const char msg[] = "A: b\r\n\r\n\0x\n";
        struct buf out;
        uint64_t size;

        buf_init(&out, 0);
        run(msg, sizeof(msg) - 1, true, false, 0, 1, &out, &size);
        cr_assert_eq(out.len, 12);
        cr_assert(memcmp(out.data, "A: b\r\n\r\n\0x\r\n", 12) == 0);
        cr_assert_eq(size, 12);
        buf_free(&out);
}

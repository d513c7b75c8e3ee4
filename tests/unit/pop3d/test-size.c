/* Unit tests for the POP3 size taken from the line figures the MIME parser
 * stores at append: for fixed and pseudo-random messages (CR, LF, dots,
 * unterminated ends), fed to the parser whole, byte by byte and in random
 * pieces, pop3_conv_size_from_lines() on the blob's figures must equal the
 * octets the RETR conversion emits (dot-stuffing excluded). */
#include <criterion/criterion.h>
#include <string.h>

#include "convert.h"
#include "mime.h"
#include "pool.h"

static struct pool *pool;

static void setup(void)
{
        pool = pool_create("test-pop3-size", 4096);
}

static void teardown(void)
{
        pool_destroy(&pool);
}

TestSuite(pop3_size, .init = setup, .fini = teardown);

static uint64_t xorshift(uint64_t *seed)
{
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        return *seed;
}

static void count_only(void *context, const void *data, size_t len)
{
        (void)data;
        *(uint64_t *)context += len;
}

/* The octets RETR sends without its dot-stuffing. */
static uint64_t retr_size(const char *msg, size_t len)
{
        struct pop3_conv conv;
        uint64_t wire = 0;

        pop3_conv_init(&conv, true, false, 0);
        pop3_conv_feed(&conv, msg, len, count_only, &wire);
        pop3_conv_finish(&conv, count_only, &wire);
        cr_assert_geq(wire, conv.size);
        return conv.size;
}

/* Parses msg in pieces (0: whole, 1: bytes, else random with that seed) and
   returns the size from the serialized blob's figures. */
static uint64_t figure_size(const char *msg, size_t len, uint64_t mode)
{
        struct mime_parser *parser = mime_parser_create(pool, NULL);
        uint64_t seed = mode, bare, size = 0;
        enum mime_last_line last;
        const void *blob;
        size_t blob_len, pos = 0;

        while (pos < len) {
                size_t n = mode == 0 ? len - pos : mode == 1 ? 1 : 1 + xorshift(&seed) % 9;
                if (n > len - pos)
                        n = len - pos;
                mime_parser_feed(parser, msg + pos, n);
                pos += n;
        }
        cr_assert_eq(mime_structure_serialize(pool, mime_parser_finish(parser), &blob,
                                              &blob_len), 0);
        cr_assert(mime_structure_line_info(blob, blob_len, &bare, &last));
        cr_assert(pop3_conv_size_from_lines(len, bare, last, &size));
        return size;
}

static void check(const char *msg, size_t len)
{
        uint64_t want = retr_size(msg, len);

        for (uint64_t mode = 0; mode < 6; mode++) {
                uint64_t got = figure_size(msg, len, mode == 2 ? 2 : mode * 977);
                cr_assert_eq(got, want, "mode %llu: %llu != %llu (len %zu)",
                             (unsigned long long)mode, (unsigned long long)got,
                             (unsigned long long)want, len);
        }
}

Test(pop3_size, fixed_shapes)
{
        static const char *const msgs[] = {
                "", "\n", "\r", "\r\n", "x", ".", ".\n", "..\r\n.", "a\rb\n",
                "Subject: x\r\n\r\nbody\r\n",
                "Subject: x\n\nbody\n.dot\n",
                "Subject: x\r\n\r\nno final line end",
                "Subject: x\r\n\r\nends in cr\r",
                "\r\r\n\n\r",
        };
        for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
                check(msgs[i], strlen(msgs[i]));
}

Test(pop3_size, random_messages)
{
        static const char alphabet[] = "ab.\r\n\n\r:  ";
        uint64_t seed = 0x9e3779b97f4a7c15ull;

        for (int round = 0; round < 300; round++) {
                size_t len = xorshift(&seed) % 600;
                char *msg = pool_alloc(pool, len + 1);
                for (size_t i = 0; i < len; i++)
                        msg[i] = alphabet[xorshift(&seed) % (sizeof(alphabet) - 1)];
                check(msg, len);
        }
}

Test(pop3_size, impossible_figures_are_refused)
{
        uint64_t size = 7;

        cr_assert(!pop3_conv_size_from_lines(10, 11, MIME_LAST_LINE_TERMINATED, &size));
        cr_assert(!pop3_conv_size_from_lines(0, 0, MIME_LAST_LINE_OPEN, &size));
        cr_assert(!pop3_conv_size_from_lines(10, 0, (enum mime_last_line)3, &size));
        cr_assert(!pop3_conv_size_from_lines(UINT64_MAX, 0, MIME_LAST_LINE_OPEN, &size));
        cr_assert_eq(size, 7);
        cr_assert(pop3_conv_size_from_lines(0, 0, MIME_LAST_LINE_TERMINATED, &size));
        cr_assert_eq(size, 0);
        cr_assert(pop3_conv_size_from_lines(10, 3, MIME_LAST_LINE_CR, &size));
        cr_assert_eq(size, 14);
}

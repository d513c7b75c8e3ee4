/* test-fetch-hdrfilter.c - the streaming HEADER.FIELDS filter: field
 * boundaries, folding, non-field lines, bounds, and the same output for
 * every chunking of the input (whole, 1-byte, random pieces). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fetch-test.h"
#include "pool.h"

TestSuite(fetch_hdrfilter, .init = ftest_setup, .fini = ftest_teardown);

static void emit(void *context, const void *data, size_t len)
{
        cr_assert_gt(len, 0);
        buf_append(context, data, len);
}

/* Filters hdr with names (NULL-terminated) in one piece, in 1-byte pieces
   and in random pieces; asserts all agree and returns the output. */
static const char *filter(const char *hdr, size_t len, const char *const *names,
                          bool exclude)
{
        unsigned count = 0;
        while (names[count] != NULL)
                count++;
        const char *first = NULL;
        for (unsigned mode = 0; mode < 6; mode++) {
                struct buf out;
                buf_init(&out, 0);
                struct imap_hdrfilter *f = imap_hdrfilter_create(test_pool, names, count,
                                                                 exclude, emit, &out);
                srand(mode);
                for (size_t pos = 0; pos < len;) {
                        size_t n = mode == 0 ? len - pos : mode == 1 ? 1 :
                                   1 + (size_t)rand() % 7;
                        if (n > len - pos)
                                n = len - pos;
                        imap_hdrfilter_feed(f, hdr + pos, n);
                        pos += n;
                }
                const char *s = pool_strndup(test_pool, out.data != NULL ? out.data : "",
                                             out.len);
                buf_free(&out);
                if (first == NULL)
                        first = s;
                else
                        cr_assert_str_eq(s, first, "chunking mode %u differs", mode);
        }
        return first;
}

static const char *filter_str(const char *hdr, const char *const *names, bool exclude)
{
        return filter(hdr, strlen(hdr), names, exclude);
}

Test(fetch_hdrfilter, keeps_named_fields_with_folding)
{
        const char *names[] = { "to", "Subject", NULL };
        const char *hdr = "From: a\r\nTo: b,\r\n c\r\nSUBJECT: hi\r\n\tthere\r\nX: y\r\n\r\nbody";
        cr_assert_str_eq(filter_str(hdr, names, false),
                         "To: b,\r\n c\r\nSUBJECT: hi\r\n\tthere\r\n\r\n");
        cr_assert_str_eq(filter_str(hdr, names, true), "From: a\r\nX: y\r\n\r\n");
}

Test(fetch_hdrfilter, prefix_names_do_not_match)
{
        const char *names[] = { "X-A", NULL };
        const char *hdr = "X-AB: 1\r\nX-A: 2\r\nX-: 3\r\nX-A-: 4\r\n\r\n";
        cr_assert_str_eq(filter_str(hdr, names, false), "X-A: 2\r\n\r\n");
        cr_assert_str_eq(filter_str(hdr, names, true), "X-AB: 1\r\nX-: 3\r\nX-A-: 4\r\n\r\n");
}

Test(fetch_hdrfilter, non_field_lines_dropped_with_continuations)
{
        const char *names[] = { "Keep", NULL };
        const char *hdr = " orphan continuation\r\n"
                          "no colon here\r\n"
                          " its continuation\r\n"
                          "Bad Name: value\r\n"
                          ": no name\r\n"
                          "\x01" "ctl: x\r\n"
                          "N\xc3\xa4me: x\r\n"
                          "Keep : spaced\r\n"
                          "Keep\t: tab\r\n"
                          "Other: o\r\n"
                          "\r\n";
        cr_assert_str_eq(filter_str(hdr, names, false),
                         "Keep : spaced\r\nKeep\t: tab\r\n\r\n");
        cr_assert_str_eq(filter_str(hdr, names, true), "Other: o\r\n\r\n");
}

Test(fetch_hdrfilter, lf_only_and_cr_lines)
{
        const char *names[] = { "A", NULL };
        cr_assert_str_eq(filter_str("A: 1\nB: 2\n\nrest", names, false), "A: 1\n\n");
        /* A line starting with a lone CR is not the blank line. */
        cr_assert_str_eq(filter_str("A: 1\r\n\rB: x\r\nA: 2\r\n\r\n", names, false),
                         "A: 1\r\nA: 2\r\n\r\n");
        /* CR inside a name makes the line a non-field. */
        cr_assert_str_eq(filter_str("A\r: 1\r\nA: 2\r\n\r\n", names, false), "A: 2\r\n\r\n");
}

Test(fetch_hdrfilter, no_blank_line_and_unterminated)
{
        const char *names[] = { "A", NULL };
        cr_assert_str_eq(filter_str("B: 1\r\nA: 2", names, false), "A: 2");
        cr_assert_str_eq(filter_str("B: 1\r\nA", names, true), "B: 1\r\n");
        cr_assert_str_eq(filter_str("", names, false), "");
        cr_assert_str_eq(filter_str("\r\n", names, false), "\r\n");
}

Test(fetch_hdrfilter, bytes_after_blank_line_ignored)
{
        const char *names[] = { "A", NULL };
        cr_assert_str_eq(filter_str("A: 1\r\n\r\nA: 2\r\n", names, false), "A: 1\r\n\r\n");
}

Test(fetch_hdrfilter, name_length_bounds)
{
        struct buf hdr;
        char name[IMAP_SECTION_MAX_FIELD + 2];
        memset(name, 'n', sizeof(name) - 1);
        name[IMAP_SECTION_MAX_FIELD] = '\0';
        const char *names[] = { name, NULL };
        const char *other[] = { "Other", NULL };

        /* A name of the maximum length matches. */
        buf_init(&hdr, 0);
        buf_printf(&hdr, "%s: v\r\n\r\n", name);
        cr_assert_str_eq(filter(hdr.data, hdr.len, names, false), hdr.data);
        cr_assert_str_eq(filter(hdr.data, hdr.len, other, true), hdr.data);
        /* One more byte and it is no field at all, kept by neither. */
        buf_reset(&hdr);
        buf_printf(&hdr, "%sn: v\r\n continued\r\nOther: o\r\n\r\n", name);
        cr_assert_str_eq(filter(hdr.data, hdr.len, other, true), "\r\n");
        cr_assert_str_eq(filter(hdr.data, hdr.len, other, false), "Other: o\r\n\r\n");
        /* Too much whitespace before the colon, likewise. */
        buf_reset(&hdr);
        buf_printf(&hdr, "Other%40s: o\r\nOther    : p\r\n\r\n", "");
        cr_assert_str_eq(filter(hdr.data, hdr.len, other, false), "Other    : p\r\n\r\n");
        buf_free(&hdr);
}

Test(fetch_hdrfilter, reset_starts_over)
{
        struct buf out;
        const char *names[] = { "A", NULL };
        buf_init(&out, 0);
        struct imap_hdrfilter *f = imap_hdrfilter_create(test_pool, names, 1, false, emit, &out);
        imap_hdrfilter_feed(f, "A: 1\r\n\r\n", 8);
        imap_hdrfilter_feed(f, "A: 2\r\n\r\n", 8);
        cr_assert_eq(out.len, 8);
        imap_hdrfilter_reset(f);
        imap_hdrfilter_feed(f, "A: 3\r\n\r\n", 8);
        cr_assert_eq(out.len, 16);
        cr_assert(memcmp(out.data, "A: 1\r\n\r\nA: 3\r\n\r\n", 16) == 0);
        buf_free(&out);
}

Test(fetch_hdrfilter, large_header_constant_memory)
{
        /* 4 MB of fields, fed in 64 KiB pieces: only the listed one comes out
           and the filter itself allocates nothing while feeding. */
        struct buf hdr, out;
        const char *names[] = { "Needle", NULL };
        buf_init(&hdr, 0);
        buf_init(&out, 0);
        for (unsigned i = 0; i < 100000; i++)
                buf_printf(&hdr, "X-Filler-%u: %032u\r\n", i, i);
        buf_append_str(&hdr, "Needle: found\r\n\r\n");
        struct imap_hdrfilter *f = imap_hdrfilter_create(test_pool, names, 1, false, emit, &out);
        size_t used = pool_used(test_pool);
        for (size_t pos = 0; pos < hdr.len; pos += 65536)
                imap_hdrfilter_feed(f, hdr.data + pos,
                                    hdr.len - pos < 65536 ? hdr.len - pos : 65536);
        cr_assert_eq(pool_used(test_pool), used);
        cr_assert_str_eq(out.data, "Needle: found\r\n\r\n");
        buf_free(&hdr);
        buf_free(&out);
}

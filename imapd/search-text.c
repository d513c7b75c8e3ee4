/* search-text.c - caseless substring matching for SEARCH.
 *
 * Owns: simple Unicode case folding of UTF-8 (ASCII, Latin-1 Supplement,
 * Latin Extended-A, basic Greek and Cyrillic), folded needles with KMP
 * tables, and the streaming sink that matches many needles over text fed in
 * arbitrary pieces with constant state. Refuses: decoding (search-body.c)
 * and full Unicode folding or normalisation (no ß -> ss, no NFC/NFD).
 */
#include "search-private.h"

#include <string.h>

#include "pool.h"

/* Simple case folding for the ranges we cover; other code points are kept. */
static uint32_t fold_cp(uint32_t c)
{
        if (c < 0x80)
                return c >= 'A' && c <= 'Z' ? c + 32 : c;
        if (c >= 0xc0 && c <= 0xde && c != 0xd7)
                return c + 32;
        if (c == 0x130)
                return 'i';
        if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
                return c | 1;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
                return (c & 1) ? c + 1 : c;
        if (c == 0x178)
                return 0xff;
        if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
                return c + 32;
        if (c == 0x3c2)
                return 0x3c3;   /* final sigma matches sigma */
        if (c == 0x386)
                return 0x3ac;
        if (c >= 0x388 && c <= 0x38a)
                return c + 37;
        if (c == 0x38c)
                return 0x3cc;
        if (c == 0x38e || c == 0x38f)
                return c + 63;
        if (c >= 0x410 && c <= 0x42f)
                return c + 32;
        if (c >= 0x400 && c <= 0x40f)
                return c + 80;
        return c;
}

/* Length of the UTF-8 sequence a lead byte starts; 0 for a byte that cannot
   start one (then it is passed through alone). */
static size_t utf8_seq_len(unsigned char b)
{
        if (b < 0x80)
                return 1;
        if (b >= 0xc2 && b <= 0xdf)
                return 2;
        if (b >= 0xe0 && b <= 0xef)
                return 3;
        if (b >= 0xf0 && b <= 0xf4)
                return 4;
        return 0;
}

/* Folds the character at p (avail bytes). Returns the bytes consumed, 0 when
   the sequence is incomplete (more input needed); out gets up to 4 bytes. */
static size_t fold_one(const unsigned char *p, size_t avail, unsigned char *out,
                       size_t *out_len_r)
{
        size_t n = utf8_seq_len(p[0]);
        uint32_t c;

        if (n == 1 || n == 0) {
                out[0] = n == 1 ? (unsigned char)fold_cp(p[0]) : p[0];
                *out_len_r = 1;
                return 1;
        }
        if (avail < n) {
                for (size_t i = 1; i < avail; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                goto invalid;
                }
                return 0;
        }
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        goto invalid;
        }
        if (n != 2) {
                /* Nothing above U+07FF is folded: copy as is. */
                memcpy(out, p, n);
                *out_len_r = n;
                return n;
        }
        c = fold_cp(((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f));
        if (c < 0x80) {
                out[0] = (unsigned char)c;
                *out_len_r = 1;
        } else {
                out[0] = (unsigned char)(0xc0 | (c >> 6));
                out[1] = (unsigned char)(0x80 | (c & 0x3f));
                *out_len_r = 2;
        }
        return 2;
invalid:
        out[0] = p[0];
        *out_len_r = 1;
        return 1;
}

unsigned char *imap_search_fold(struct pool *pool, const void *data, size_t len,
                                size_t *len_r)
{
        const unsigned char *p = data;
        /* UNSAFE: folding never lengthens a character (2-byte code points
           fold to 1 or 2 bytes, others are copied), so len + 1 is enough. */
        unsigned char *out = pool_alloc(pool, len + 1);
        size_t o = 0, i = 0, n, olen;

        while (i < len) {
                n = fold_one(p + i, len - i, out + o, &olen);
                if (n == 0) {
                        /* truncated sequence at the end: keep the bytes */
                        memcpy(out + o, p + i, len - i);
                        o += len - i;
                        break;
                }
                i += n;
                o += olen;
        }
        out[o] = '\0';
        *len_r = o;
        return out;
}

void imap_search_needle_init(struct pool *pool, struct imap_search_needle *needle,
                             const char *text, size_t len)
{
        size_t *fail, k = 0;

        needle->pat = imap_search_fold(pool, text, len, &needle->len);
        fail = pool_alloc(pool, (needle->len + 1) * sizeof(*fail));
        /* fail[i]: length of the longest proper border of pat[0..i]. */
        for (size_t i = 1; i < needle->len; i++) {
                while (k > 0 && needle->pat[i] != needle->pat[k])
                        k = fail[k - 1];
                if (needle->pat[i] == needle->pat[k])
                        k++;
                fail[i] = k;
        }
        needle->fail = fail;
}

/* Advances a KMP state over text; returns true at the first full match. */
static bool needle_step(const struct imap_search_needle *needle, size_t *state,
                        const unsigned char *text, size_t len)
{
        size_t k = *state;

        for (size_t i = 0; i < len; i++) {
                while (k > 0 && text[i] != needle->pat[k])
                        k = needle->fail[k - 1];
                if (text[i] == needle->pat[k] && ++k == needle->len) {
                        *state = k;
                        return true;
                }
        }
        *state = k;
        return false;
}

bool imap_search_needle_find(const struct imap_search_needle *needle,
                             const unsigned char *text, size_t len)
{
        size_t state = 0;

        if (needle->len == 0)
                return true;
        return needle_step(needle, &state, text, len);
}

void imap_search_sink_begin(struct imap_search_sink *sink, bool top_header)
{
        sink->in_header = top_header;
        sink->pend_len = 0;
        for (size_t i = 0; i < sink->count; i++)
                sink->scans[i].state = 0;
}

static void sink_match(struct imap_search_sink *sink, const unsigned char *text, size_t len)
{
        for (size_t i = 0; i < sink->count && sink->remaining > 0; i++) {
                struct imap_search_scan *scan = &sink->scans[i];

                if (scan->found || (sink->in_header && scan->body_only))
                        continue;
                if (scan->needle->len == 0 ||
                    needle_step(scan->needle, &scan->state, text, len)) {
                        scan->found = true;
                        sink->remaining--;
                }
        }
}

/* Completes a character held over from the previous piece. Returns the bytes
   of data used. */
static size_t sink_complete_pending(struct imap_search_sink *sink,
                                    const unsigned char *data, size_t len)
{
        unsigned char out[4];
        size_t used = 0, n, olen;

        while (sink->pend_len > 0) {
                n = fold_one(sink->pend, sink->pend_len, out, &olen);
                if (n == 0) {
                        if (used == len)
                                return used;
                        sink->pend[sink->pend_len++] = data[used++];
                        continue;
                }
                sink_match(sink, out, olen);
                sink->pend_len -= n;
                memmove(sink->pend, sink->pend + n, sink->pend_len);
        }
        return used;
}

void imap_search_sink_feed(struct imap_search_sink *sink, const void *data, size_t len)
{
        const unsigned char *p = data;
        unsigned char out[1024];
        size_t i, o = 0, n, olen;

        if (sink->remaining == 0)
                return;
        i = sink_complete_pending(sink, p, len);
        while (i < len) {
                if (o > sizeof(out) - 4) {
                        sink_match(sink, out, o);
                        o = 0;
                }
                n = fold_one(p + i, len - i, out + o, &olen);
                if (n == 0) {
                        memcpy(sink->pend, p + i, len - i);
                        sink->pend_len = len - i;
                        break;
                }
                i += n;
                o += olen;
        }
        if (o > 0)
                sink_match(sink, out, o);
}

void imap_search_sink_end(struct imap_search_sink *sink)
{
        /* A character cut off by the end of the text is matched raw. */
        if (sink->pend_len > 0 && sink->remaining > 0) {
                unsigned char raw[4];
                size_t n = sink->pend_len;

                memcpy(raw, sink->pend, n);
                sink->pend_len = 0;
                sink_match(sink, raw, n);
        }
        sink->pend_len = 0;
}

/* mutf7.c - modified UTF-7 (see mutf7.h).
 *
 * Owns: the modified base64 alphabet ("," for "/"), UTF-16 surrogates, UTF-8
 * validation. Does not: allocate outside the given pool.
 */
#include "mutf7.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "pool.h"

static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(char c)
{
        const char *p = c == '\0' ? NULL : strchr(b64, c);
        return p == NULL ? -1 : (int)(p - b64);
}

/* Decodes one UTF-8 sequence at *s; false when invalid. */
static bool utf8_next(const unsigned char **s, uint32_t *cp_r)
{
        const unsigned char *p = *s;
        uint32_t cp;
        int extra;
        if (p[0] < 0x80) {
                cp = p[0];
                extra = 0;
        } else if ((p[0] & 0xe0) == 0xc0) {
                cp = p[0] & 0x1f;
                extra = 1;
        } else if ((p[0] & 0xf0) == 0xe0) {
                cp = p[0] & 0x0f;
                extra = 2;
        } else if ((p[0] & 0xf8) == 0xf0) {
                cp = p[0] & 0x07;
                extra = 3;
        } else {
                return false;
        }
        for (int i = 1; i <= extra; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return false;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
        *s = p + extra + 1;
        *cp_r = cp;
        return true;
}

static void utf8_put(struct buf *out, uint32_t cp)
{
        char b[4];
        size_t n;
        if (cp < 0x80) {
                b[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                b[0] = (char)(0xc0 | (cp >> 6));
                b[1] = (char)(0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                b[0] = (char)(0xe0 | (cp >> 12));
                b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[2] = (char)(0x80 | (cp & 0x3f));
                n = 3;
        } else {
                b[0] = (char)(0xf0 | (cp >> 18));
                b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[3] = (char)(0x80 | (cp & 0x3f));
                n = 4;
        }
        buf_append(out, b, n);
}

/* Writes UTF-16 units as modified base64 between '&' and '-'. */
static void flush_shift(struct buf *out, const uint16_t *units, size_t n)
{
        uint32_t bits = 0;
        int nbits = 0;
        buf_append_char(out, '&');
        for (size_t i = 0; i < n; i++) {
                bits = (bits << 16) | units[i];
                nbits += 16;
                while (nbits >= 6) {
                        nbits -= 6;
                        buf_append_char(out, b64[(bits >> nbits) & 0x3f]);
                }
        }
        if (nbits > 0)
                buf_append_char(out, b64[(bits << (6 - nbits)) & 0x3f]);
        buf_append_char(out, '-');
}

static const char *buf_to_pool(struct pool *pool, struct buf *b)
{
        const char *s = pool_strndup(pool, b->data == NULL ? "" : b->data, b->len);
        buf_free(b);
        return s;
}

bool imap_mutf7_encode(struct pool *pool, const char *utf8, const char **mutf7_r)
{
        struct buf out;
        buf_init(&out, 0);
        const unsigned char *s = (const unsigned char *)utf8;
        uint16_t units[64];
        size_t n = 0;
        while (*s != '\0') {
                if (*s >= 0x20 && *s <= 0x7e) {
                        if (n > 0)
                                flush_shift(&out, units, n);
                        n = 0;
                        buf_append_str(&out, *s == '&' ? "&-" : (char[]){ (char)*s, 0 });
                        s++;
                        continue;
                }
                uint32_t cp;
                if (!utf8_next(&s, &cp)) {
                        buf_free(&out);
                        return false;
                }
                if (n + 2 > (sizeof(units) / sizeof(units[0]))) {
                        flush_shift(&out, units, n);
                        n = 0;
                }
                if (cp >= 0x10000) {
                        cp -= 0x10000;
                        units[n++] = (uint16_t)(0xd800 | (cp >> 10));
                        units[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
                } else {
                        units[n++] = (uint16_t)cp;
                }
        }
        if (n > 0)
                flush_shift(&out, units, n);
        *mutf7_r = buf_to_pool(pool, &out);
        return true;
}

/* Decodes the base64 run at *p (after '&') up to '-'; false if malformed. */
static bool decode_shift(struct buf *out, const char **p)
{
        uint32_t bits = 0, high = 0;
        int nbits = 0;
        const char *s = *p;
        bool any = false;
        for (; *s != '-'; s++) {
                int v = b64_value(*s);
                if (v < 0)
                        return false;
                bits = (bits << 6) | (uint32_t)v;
                nbits += 6;
                if (nbits < 16)
                        continue;
                nbits -= 16;
                uint32_t unit = (bits >> nbits) & 0xffff;
                any = true;
                if (high != 0) {
                        if (unit < 0xdc00 || unit > 0xdfff)
                                return false;
                        utf8_put(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
                        high = 0;
                } else if (unit >= 0xd800 && unit <= 0xdbff) {
                        high = unit;
                } else if (unit >= 0xdc00 && unit <= 0xdfff) {
                        return false;
                } else if (unit >= 0x20 && unit <= 0x7e) {
                        return false;   /* printable ASCII must not be encoded */
                } else {
                        utf8_put(out, unit);
                }
        }
        if (!any || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
                return false;
        *p = s + 1;
        return true;
}

bool imap_mutf7_decode(struct pool *pool, const char *mutf7, const char **utf8_r)
{
        struct buf out;
        buf_init(&out, 0);
        const char *p = mutf7;
        while (*p != '\0') {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c > 0x7e)
                        goto fail;
                if (c != '&') {
                        buf_append_char(&out, (char)c);
                        p++;
                        continue;
                }
                p++;
                if (*p == '-') {
                        buf_append_char(&out, '&');
                        p++;
                        continue;
                }
                if (!decode_shift(&out, &p))
                        goto fail;
        }
        *utf8_r = buf_to_pool(pool, &out);
        return true;
fail:
        buf_free(&out);
        return false;
}

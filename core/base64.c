/* base64.c - strict RFC 4648 base64 (see base64.h).
 *
 * Owns the alphabet tables and the canonical-form checks. Does not: accept
 * whitespace, the URL-safe alphabet or unpadded input.
 */
#include "base64.h"

#include <stdint.h>

#include "log.h"
#include "pool.h"

static const char base64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, or -1. */
static int base64_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

size_t base64_encoded_len(size_t len)
{
        return (len / 3 + (len % 3 != 0)) * 4;
}

size_t base64_decoded_max_len(size_t src_len)
{
        return src_len / 4 * 3 + 3;
}

size_t base64_encode_to(char *dst, const void *data, size_t len)
{
        const unsigned char *in = data;
        size_t o = 0, i = 0;

        for (; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
                dst[o++] = base64_alphabet[v >> 18];
                dst[o++] = base64_alphabet[(v >> 12) & 63];
                dst[o++] = base64_alphabet[(v >> 6) & 63];
                dst[o++] = base64_alphabet[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t)in[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t)in[i + 1] << 8;
                dst[o++] = base64_alphabet[v >> 18];
                dst[o++] = base64_alphabet[(v >> 12) & 63];
                dst[o++] = i + 1 < len ? base64_alphabet[(v >> 6) & 63] : '=';
                dst[o++] = '=';
        }
        dst[o] = '\0';
        return o;
}

const char *base64_encode(struct pool *pool, const void *data, size_t len)
{
        /* UNSAFE: len comes from an object in memory, so 4/3 of it plus one
           cannot overflow size_t on any platform Cove runs on. */
        char *dst = pool_alloc(pool, base64_encoded_len(len) + 1);
        base64_encode_to(dst, data, len);
        return dst;
}

/* Checks the shape of src and computes the decoded length: a multiple of 4
   characters, '=' only as the last one or two, canonical trailing bits. */
static bool base64_check(const char *src, size_t src_len, size_t *out_len_r)
{
        if (src_len % 4 != 0)
                return false;
        size_t pad = 0;
        if (src_len > 0 && src[src_len - 1] == '=')
                pad = src_len > 1 && src[src_len - 2] == '=' ? 2 : 1;
        for (size_t i = 0; i < src_len - pad; i++) {
                if (base64_value((unsigned char)src[i]) < 0)
                        return false;
        }
        if (pad > 0) {
                /* RFC 4648 §3.5: the bits beyond the last byte must be zero,
                   so every byte string has exactly one accepted encoding. */
                int last = base64_value((unsigned char)src[src_len - pad - 1]);
                if ((pad == 1 && (last & 0x03) != 0) || (pad == 2 && (last & 0x0f) != 0))
                        return false;
        }
        *out_len_r = src_len / 4 * 3 - pad;
        return true;
}

bool base64_is_valid(const char *src, size_t src_len)
{
        size_t out_len;
        return base64_check(src, src_len, &out_len);
}

int base64_decode(struct pool *pool, const char *src, size_t src_len, size_t max_len,
                  unsigned char **data_r, size_t *len_r, const char **error_r)
{
        size_t out_len;

        /* Refuse hopelessly long input before scanning it. */
        if (src_len / 4 * 3 > max_len + 2) {
                *error_r = "base64 data too long";
                return -1;
        }
        if (!base64_check(src, src_len, &out_len)) {
                *error_r = "invalid base64";
                return -1;
        }
        if (out_len > max_len) {
                *error_r = "base64 data too long";
                return -1;
        }
        unsigned char *out = pool_alloc(pool, out_len + 1);
        size_t o = 0;
        for (size_t i = 0; i < src_len; i += 4) {
                uint32_t v = 0;
                size_t n = 0;
                for (size_t k = 0; k < 4; k++) {
                        int c = base64_value((unsigned char)src[i + k]);
                        if (c >= 0) {
                                v |= (uint32_t)c << (18 - 6 * k);
                                n++;
                        }
                }
                /* n is 4, or 3/2 in the padded final group (checked above). */
                out[o++] = (unsigned char)(v >> 16);
                if (n >= 3)
                        out[o++] = (unsigned char)(v >> 8);
                if (n == 4)
                        out[o++] = (unsigned char)v;
        }
        COVE_ASSERT(o == out_len);
        out[o] = '\0';
        *data_r = out;
        *len_r = out_len;
        return 0;
}

/* mime-encoding.c - decoders: charsets to UTF-8 (iconv), RFC 2047 encoded
 * words, and streaming base64 / quoted-printable body decoders.
 *
 * Owns: byte-level decoding, lenient as a reader must be (bad input is kept
 * or skipped and noted, never an error return). Does not: parse headers or
 * bodies into parts (mime.c), or encode anything.
 */
#include "mime-private.h"

#include <errno.h>
#include <stddef.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pool.h"

#define MIME_MAX_CHARSET_NAME 64u
/* Longest encoded text recognised in one word. RFC 2047 allows 75 bytes
   for the whole word; real mailers exceed that, but a bound keeps a value
   full of unterminated "=?" from costing quadratic time. */
#define MIME_MAX_EWORD_TEXT 2048u

static const char utf8_replacement[] = "\xef\xbf\xbd";

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
        size_t n;
        unsigned char c = s[0];
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4;
        else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        }
        /* Overlongs, surrogates and > U+10FFFF. */
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
            (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
                return 0;
        return n;
}

static void utf8_sanitize(struct pool *pool, const void *data, size_t len,
                          char **out_r, size_t *out_len_r)
{
        const unsigned char *s = data;
        struct mime_str o = { 0 };
        size_t i = 0;

        mime_str_append(pool, &o, "", 0);
        while (i < len) {
                size_t n = utf8_seq_len(s + i, len - i);
                if (n == 0) {
                        mime_str_append(pool, &o, utf8_replacement, 3);
                        i++;
                } else {
                        mime_str_append(pool, &o, s + i, n);
                        i += n;
                }
        }
        *out_r = o.data;
        *out_len_r = o.len;
}

/* Charset names go to iconv_open(); allow only plain names so that suffixes
   like "//TRANSLIT" or paths cannot reach it. */
static bool charset_name_ok(const char *cs)
{
        size_t n = strlen(cs);
        if (n == 0 || n > MIME_MAX_CHARSET_NAME)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = cs[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || strchr("-_.:+()", c) != NULL))
                        return false;
        }
        return true;
}

static bool is_utf8_alias(const char *cs)
{
        return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
               strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

static void iconv_all(struct pool *pool, iconv_t cd, const char *in, size_t in_len,
                      struct mime_str *o)
{
        char chunk[1024];

        while (in_len > 0) {
                char *op = chunk;
                size_t oleft = sizeof(chunk);
                size_t r = iconv(cd, (char **)&in, &in_len, &op, &oleft);
                mime_str_append(pool, o, chunk, sizeof(chunk) - oleft);
                if (r != (size_t)-1 || errno == E2BIG)
                        continue;
                /* EILSEQ: skip one byte; EINVAL: truncated sequence at the
                   end. Either way the reader sees U+FFFD. */
                mime_str_append(pool, o, utf8_replacement, 3);
                if (errno != EILSEQ)
                        break;
                in++, in_len--;
        }
        char *op = chunk;
        size_t oleft = sizeof(chunk);
        if (iconv(cd, NULL, NULL, &op, &oleft) != (size_t)-1)
                mime_str_append(pool, o, chunk, sizeof(chunk) - oleft);
}

bool mime_charset_to_utf8(struct pool *pool, const char *charset,
                          const void *data, size_t len,
                          char **out_r, size_t *out_len_r)
{
        if (charset == NULL || !charset_name_ok(charset))
                return false;
        if (is_utf8_alias(charset)) {
                utf8_sanitize(pool, data, len, out_r, out_len_r);
                return true;
        }
        iconv_t cd = iconv_open("UTF-8", charset);
        if (cd == (iconv_t)-1)
                return false;
        struct mime_str o = { 0 };
        mime_str_append(pool, &o, "", 0);
        iconv_all(pool, cd, data, len, &o);
        iconv_close(cd);
        *out_r = o.data;
        *out_len_r = o.len;
        return true;
}

/* ---- RFC 2047 ---- */

struct eword {
        const char *start, *end;        /* the whole "=?...?=" */
        char charset[MIME_MAX_CHARSET_NAME + 1];
        char enc;                       /* 'B' or 'Q' */
        const char *text;
        size_t text_len;
};

/* Recognises an encoded word at p (RFC 2047 §2; RFC 2231 §5 language
   suffix "charset*lang" accepted and dropped). */
static bool eword_parse(const char *p, const char *end, struct eword *w)
{
        if (end - p < 8 || p[0] != '=' || p[1] != '?')
                return false;
        const char *cs = p + 2, *q = cs;
        const char *cs_end = end - cs > (ptrdiff_t)MIME_MAX_CHARSET_NAME + 8 ?
                cs + MIME_MAX_CHARSET_NAME + 8 : end;
        while (q < cs_end && *q != '?' && !mime_is_wsp(*q))
                q++;
        if (q == cs_end)
                return false;
        if (q >= end - 3 || *q != '?' || q == cs || q[2] != '?')
                return false;
        size_t cs_len = (size_t)(q - cs);
        const char *star = memchr(cs, '*', cs_len);
        if (star != NULL)
                cs_len = (size_t)(star - cs);
        if (cs_len == 0 || cs_len > MIME_MAX_CHARSET_NAME)
                return false;
        char enc = q[1];
        if (enc == 'b')
                enc = 'B';
        if (enc == 'q')
                enc = 'Q';
        if (enc != 'B' && enc != 'Q')
                return false;
        const char *t = q + 3, *e = t;
        const char *t_end = end - t > (ptrdiff_t)MIME_MAX_EWORD_TEXT ?
                t + MIME_MAX_EWORD_TEXT : end;
        while (e + 1 < t_end && !(e[0] == '?' && e[1] == '=') && !mime_is_wsp(*e))
                e++;
        if (e + 1 >= t_end || e[0] != '?' || e[1] != '=')
                return false;
        *w = (struct eword){ .start = p, .end = e + 2, .enc = enc, .text = t,
                             .text_len = (size_t)(e - t) };
        memcpy(w->charset, cs, cs_len);
        return true;
}

/* Decodes the word's text, appending bytes to o. False on bad encoding. */
static bool eword_decode(struct pool *pool, const struct eword *w, struct mime_str *o)
{
        if (w->enc == 'Q') {
                for (size_t i = 0; i < w->text_len; i++) {
                        char c = w->text[i];
                        int hi, lo;
                        if (c == '_')
                                c = ' ';
                        else if (c == '=') {
                                if (i + 2 >= w->text_len)
                                        return false;
                                hi = mime_hex_value(w->text[i + 1]);
                                lo = mime_hex_value(w->text[i + 2]);
                                if (hi < 0 || lo < 0)
                                        return false;
                                c = (char)(hi * 16 + lo);
                                i += 2;
                        }
                        mime_str_append(pool, o, &c, 1);
                }
                return true;
        }
        unsigned acc = 0, bits = 0;
        size_t i = 0;
        for (; i < w->text_len && w->text[i] != '='; i++) {
                int v = mime_base64_value((unsigned char)w->text[i]);
                if (v < 0)
                        return false;
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        char c = (char)((acc >> bits) & 0xff);
                        mime_str_append(pool, o, &c, 1);
                }
        }
        for (; i < w->text_len; i++) {
                if (w->text[i] != '=')
                        return false;
        }
        return true;
}

/* Flushes a run of adjacent words of one charset: converted, or (unknown
   charset / bad encoding) the raw text of the run. */
static void flush_run(struct pool *pool, struct mime_str *out, const char *charset,
                      const struct mime_str *bytes, bool bad,
                      const char *raw_start, const char *raw_end)
{
        char *conv;
        size_t conv_len;
        if (!bad && mime_charset_to_utf8(pool, charset, mime_str_get(bytes),
                                         bytes->len, &conv, &conv_len))
                mime_str_append(pool, out, conv, conv_len);
        else
                mime_str_append(pool, out, raw_start, (size_t)(raw_end - raw_start));
}

char *mime_words_decode(struct pool *pool, const char *value, size_t len)
{
        const char *p = value, *end = value + len;
        struct mime_str out = { 0 };

        mime_str_append(pool, &out, "", 0);
        while (p < end) {
                struct eword w;
                const char *q = p;
                while (q < end && !(q[0] == '=' && q + 1 < end && q[1] == '?' &&
                                    eword_parse(q, end, &w)))
                        q++;
                mime_str_append(pool, &out, p, (size_t)(q - p));
                if (q == end)
                        break;
                /* A run: adjacent words (only whitespace between) of the same
                   charset are decoded together, so a character split across
                   two words survives (RFC 2047 §6.2). */
                struct mime_str bytes = { 0 };
                const char *run_start = w.start, *run_end = w.end;
                char charset[sizeof(w.charset)];
                memcpy(charset, w.charset, sizeof(charset));
                bool bad = !eword_decode(pool, &w, &bytes);
                p = w.end;
                for (;;) {
                        const char *s = p;
                        while (s < end && mime_is_wsp(*s))
                                s++;
                        struct eword w2;
                        if (s == end || !eword_parse(s, end, &w2))
                                break;
                        if (strcasecmp(w2.charset, charset) != 0 || bad) {
                                flush_run(pool, &out, charset, &bytes, bad,
                                          run_start, run_end);
                                bytes = (struct mime_str){ 0 };
                                run_start = w2.start;
                                memcpy(charset, w2.charset, sizeof(charset));
                                bad = false;
                        }
                        bad = bad || !eword_decode(pool, &w2, &bytes);
                        run_end = p = w2.end;
                }
                flush_run(pool, &out, charset, &bytes, bad, run_start, run_end);
        }
        return out.data;
}

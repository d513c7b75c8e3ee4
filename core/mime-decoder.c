/* mime-decoder.c - streaming Content-Transfer-Encoding decoders (base64,
 * quoted-printable) for FETCH BINARY and SEARCH BODY/TEXT.
 *
 * Owns: chunk-at-a-time decoding with the state carried between chunks, so
 * any split of the input gives the same output. Lenient: bad input is kept
 * or skipped and noted. Does not: convert charsets (mime-encoding.c).
 */
#include "mime-private.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pool.h"

static const signed char b64_table[256] = {
        ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
        ['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
        ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
        ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
        ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
        ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
        ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
        ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
        ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
        ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
        ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};
/* The table stores value + 1 so that 0 means "not in the alphabet". */
int mime_base64_value(unsigned char c)
{
        return b64_table[c] - 1;
}

/* ---- transfer encodings ---- */

enum mime_transfer_encoding mime_transfer_encoding_parse(const char *token)
{
        if (token == NULL)
                return MIME_TE_IDENTITY;
        if (strcasecmp(token, "base64") == 0)
                return MIME_TE_BASE64;
        if (strcasecmp(token, "quoted-printable") == 0)
                return MIME_TE_QP;
        return MIME_TE_IDENTITY;
}

enum qp_state { QP_TEXT, QP_EQ, QP_EQ_HEX, QP_SOFT_WS, QP_SOFT_CR };

#define QP_MAX_HELD_WS 256u

struct mime_decoder {
        enum mime_transfer_encoding te;
        bool errors;
        /* base64 */
        unsigned acc, bits;
        bool b64_done;
        /* quoted-printable */
        enum qp_state qp;
        char hex1;
        bool cr;                        /* a CR is held (maybe CRLF) */
        char ws[QP_MAX_HELD_WS];        /* held whitespace (dropped at EOL) */
        size_t ws_len;
};

struct mime_decoder *mime_decoder_create(struct pool *pool,
                                         enum mime_transfer_encoding te)
{
        struct mime_decoder *dec = pool_alloc(pool, sizeof(*dec));
        dec->te = te;
        return dec;
}

bool mime_decoder_had_errors(const struct mime_decoder *dec)
{
        return dec->errors;
}

static bool b64_feed(struct mime_decoder *dec, const unsigned char *s, size_t len,
                     struct buf *out)
{
        for (size_t i = 0; i < len && !dec->b64_done; i++) {
                if (s[i] == '=') {
                        dec->b64_done = true;
                        break;
                }
                int v = mime_base64_value(s[i]);
                if (v < 0) {
                        if (!mime_is_wsp((char)s[i]))
                                dec->errors = true;
                        continue;
                }
                dec->acc = ((dec->acc << 6) | (unsigned)v) & 0xffffff;
                dec->bits += 6;
                if (dec->bits >= 8) {
                        dec->bits -= 8;
                        if (!buf_append_char(out, (char)((dec->acc >> dec->bits) & 0xff)))
                                return false;
                }
        }
        return true;
}

static bool qp_flush_ws(struct mime_decoder *dec, struct buf *out)
{
        bool ok = buf_append(out, dec->ws, dec->ws_len);
        dec->ws_len = 0;
        return ok;
}

/* A byte outside any escape: whitespace is held until we know whether the
   line ends (RFC 2045 §6.7 rule 3 drops trailing whitespace). */
static bool qp_text(struct mime_decoder *dec, char c, struct buf *out)
{
        if (dec->cr) {
                dec->cr = false;
                if (c == '\n') {
                        dec->ws_len = 0;
                        return buf_append(out, "\r\n", 2);
                }
                if (!qp_flush_ws(dec, out) || !buf_append_char(out, '\r'))
                        return false;
        }
        if (c == '\r') {
                dec->cr = true;
                return true;
        }
        if (c == '\n') {
                dec->ws_len = 0;
                return buf_append_char(out, '\n');
        }
        if (c == ' ' || c == '\t') {
                if (dec->ws_len == sizeof(dec->ws) && !qp_flush_ws(dec, out))
                        return false;
                dec->ws[dec->ws_len++] = c;
                return true;
        }
        if (!qp_flush_ws(dec, out))
                return false;
        if (c == '=') {
                dec->qp = QP_EQ;
                return true;
        }
        return buf_append_char(out, c);
}

/* One byte of quoted-printable (RFC 2045 §6.7). Returns false when out is
   full. */
static bool qp_byte(struct mime_decoder *dec, char c, struct buf *out)
{
        int hi, lo;

        for (;;) {
                switch (dec->qp) {
                case QP_TEXT:
                        return qp_text(dec, c, out);
                case QP_EQ:
                        if (mime_hex_value(c) >= 0) {
                                dec->hex1 = c;
                                dec->qp = QP_EQ_HEX;
                                return true;
                        }
                        dec->qp = c == ' ' || c == '\t' ? QP_SOFT_WS :
                                  c == '\r' ? QP_SOFT_CR : QP_TEXT;
                        if (dec->qp != QP_TEXT || c == '\n')
                                return true;
                        dec->errors = true;
                        if (!buf_append_char(out, '='))
                                return false;
                        continue;       /* reprocess c as text */
                case QP_EQ_HEX:
                        dec->qp = QP_TEXT;
                        hi = mime_hex_value(dec->hex1);
                        lo = mime_hex_value(c);
                        if (lo >= 0)
                                return buf_append_char(out, (char)(hi * 16 + lo));
                        dec->errors = true;
                        if (!buf_append_char(out, '=') || !buf_append_char(out, dec->hex1))
                                return false;
                        continue;
                case QP_SOFT_WS:
                        if (c == ' ' || c == '\t')
                                return true;
                        dec->qp = c == '\r' ? QP_SOFT_CR : QP_TEXT;
                        if (dec->qp != QP_TEXT || c == '\n')
                                return true;
                        dec->errors = true;
                        if (!buf_append_char(out, '='))
                                return false;
                        continue;
                case QP_SOFT_CR:
                        dec->qp = QP_TEXT;
                        if (c == '\n')
                                return true;
                        dec->errors = true;
                        continue;
                }
                return true;
        }
}

bool mime_decoder_feed(struct mime_decoder *dec, const void *data, size_t len,
                       struct buf *out)
{
        const char *s = data;

        switch (dec->te) {
        case MIME_TE_BASE64:
                return b64_feed(dec, data, len, out);
        case MIME_TE_QP:
                for (size_t i = 0; i < len; i++) {
                        if (!qp_byte(dec, s[i], out))
                                return false;
                }
                return true;
        case MIME_TE_IDENTITY:
                break;
        }
        return buf_append(out, data, len);
}

bool mime_decoder_finish(struct mime_decoder *dec, struct buf *out)
{
        bool ok = true;

        if (dec->te == MIME_TE_BASE64) {
                /* Leftover bits that do not make a byte: a truncated quad. */
                if (dec->bits >= 6 && !dec->b64_done)
                        dec->errors = true;
                dec->acc = dec->bits = 0;
                dec->b64_done = false;
                return true;
        }
        if (dec->te != MIME_TE_QP)
                return true;
        switch (dec->qp) {
        case QP_TEXT:
                /* Trailing whitespace at the very end is end-of-line space. */
                if (dec->cr)
                        ok = qp_flush_ws(dec, out) && buf_append_char(out, '\r');
                break;
        case QP_EQ:
                /* "=" as the last byte: a soft break with no line after. */
                break;
        case QP_EQ_HEX:
                dec->errors = true;
                ok = buf_append_char(out, '=') && buf_append_char(out, dec->hex1);
                break;
        case QP_SOFT_WS:
        case QP_SOFT_CR:
                break;
        }
        dec->qp = QP_TEXT;
        dec->cr = false;
        dec->ws_len = 0;
        return ok;
}

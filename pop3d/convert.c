/* convert.c - stored bytes to POP3 wire form (see convert.h).
 *
 * Owns: the per-line state machine shared by RETR, TOP and the size count,
 * so that the size LIST reports and the octets RETR sends cannot disagree.
 * Does not: read the store or write to a connection.
 */
#include "convert.h"

#include <string.h>

void pop3_conv_init(struct pop3_conv *conv, bool stuff, bool top, uint64_t lines)
{
        *conv = (struct pop3_conv){
                .stuff = stuff,
                .top = top,
                .lines_left = lines,
        };
}

static void conv_emit(struct pop3_conv *conv, const void *data, size_t len,
                      pop3_emit_fn *emit, void *context)
{
        if (len == 0)
                return;
        conv->size += len;
        emit(context, data, len);
}

/* A line ended (its LF was just consumed): track the header/body boundary
   and the TOP cut. */
static void conv_line_end(struct pop3_conv *conv)
{
        bool empty = conv->line_len == 0 || (conv->line_len == 1 && conv->prev_cr);

        if (!conv->in_body) {
                if (empty) {
                        conv->in_body = true;
                        if (conv->top && conv->lines_left == 0)
                                conv->done = true;
                }
        } else if (conv->top) {
                if (conv->lines_left > 0)
                        conv->lines_left--;
                if (conv->lines_left == 0)
                        conv->done = true;
        }
        conv->line_len = 0;
        conv->prev_cr = false;
}

size_t pop3_conv_feed(struct pop3_conv *conv, const void *data, size_t len,
                      pop3_emit_fn *emit, void *context)
{
        const unsigned char *p = data, *end = p + len;

        while (p < end && !conv->done) {
                const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
                const unsigned char *stop = lf != NULL ? lf : end;
                size_t run = (size_t)(stop - p);

                /* RFC 1939 §3: a line starting with '.' gets one more. */
                if (conv->line_len == 0 && run > 0 && *p == '.' && conv->stuff)
                        emit(context, ".", 1);
                conv_emit(conv, p, run, emit, context);
                if (run > 0) {
                        conv->line_len += run;
                        conv->prev_cr = stop[-1] == '\r';
                }
                if (lf == NULL)
                        return len;
                if (conv->prev_cr)
                        conv_emit(conv, "\n", 1, emit, context);
                else
                        conv_emit(conv, "\r\n", 2, emit, context);
                p = lf + 1;
                conv_line_end(conv);
        }
        return (size_t)(p - (const unsigned char *)data);
}

void pop3_conv_finish(struct pop3_conv *conv, pop3_emit_fn *emit, void *context)
{
        if (conv->done || conv->line_len == 0)
                return;
        if (conv->prev_cr)
                conv_emit(conv, "\n", 1, emit, context);
        else
                conv_emit(conv, "\r\n", 2, emit, context);
        conv->line_len = 0;
        conv->prev_cr = false;
}

bool pop3_conv_size_from_lines(uint64_t stored_size, uint64_t bare_lf_count,
                               enum mime_last_line last_line, uint64_t *size_r)
{
        uint64_t tail;

        if (bare_lf_count > stored_size || (stored_size == 0 &&
                                            last_line != MIME_LAST_LINE_TERMINATED))
                return false;
        switch (last_line) {
        case MIME_LAST_LINE_TERMINATED:
                tail = 0;
                break;
        case MIME_LAST_LINE_CR:
                tail = 1;
                break;
        case MIME_LAST_LINE_OPEN:
                tail = 2;
                break;
        default:
                return false;
        }
        /* bare_lf_count <= stored_size, so this bounds the sum. */
        if (stored_size > (UINT64_MAX - tail) / 2)
                return false;
        *size_r = stored_size + bare_lf_count + tail;
        return true;
}

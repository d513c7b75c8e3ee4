/* search-body.c - the streaming pass BODY and TEXT searches make over a
 * message: headers decoded field by field, text parts through their transfer
 * decoder and a streaming charset converter, into the matching sink.
 *
 * Owns: which bytes of a message BODY/TEXT see and how they are decoded.
 * Refuses: holding a whole message (it reads in chunks, bounded buffers) and
 * looking inside non-text leaves (images, applications, ...).
 */
#include "search-private.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "pool.h"

/* Raw bytes handed to a transfer decoder at a time: bounds the decoded
   buffer, whatever chunk size the store returns. */
#define SEARCH_SLICE 16384u

static const char utf8_replacement[] = "\xef\xbf\xbd";

enum cove_store_err imap_search_read_range(const struct imap_search_reader *rd,
                                           struct pool *pool, uint64_t offset,
                                           uint64_t len, char **data_r, size_t *len_r)
{
        uint64_t got = 0;
        char *data;

        if (offset >= rd->size)
                len = 0;
        else if (len > rd->size - offset)
                len = rd->size - offset;
        data = pool_alloc(pool, (size_t)len + 1);
        while (got < len) {
                const void *chunk;
                size_t n;
                enum cove_store_err err = rd->read(rd->ctx, offset + got, &chunk, &n);

                if (err != COVE_STORE_OK)
                        return err;
                if (n == 0)
                        break;
                if (n > len - got)
                        n = (size_t)(len - got);
                memcpy(data + got, chunk, n);
                got += n;
        }
        data[got] = '\0';
        *data_r = data;
        *len_r = (size_t)got;
        return COVE_STORE_OK;
}

void imap_search_header_feed(struct pool *pool, const char *header, size_t len,
                             struct imap_search_sink *sink)
{
        struct mime_header_field field;
        size_t pos = 0;

        while (sink->remaining > 0 && mime_header_next(header, len, &pos, &field)) {
                char *value = mime_header_unfold(pool, field.value, field.value_len);
                char *decoded = mime_words_decode(pool, value, strlen(value));

                imap_search_sink_feed(sink, field.name, field.name_len);
                imap_search_sink_feed(sink, ": ", 2);
                imap_search_sink_feed(sink, decoded, strlen(decoded));
                imap_search_sink_feed(sink, "\n", 1);
        }
}

/* A streaming charset converter to UTF-8. UTF-8, US-ASCII, a missing or an
   unknown charset pass bytes through (the sink copes with invalid UTF-8). */
struct search_conv {
        iconv_t cd;
        bool raw;
};

static bool charset_is_utf8_compatible(const char *charset)
{
        return charset == NULL || str_eq_nocase(charset, "utf-8") ||
               str_eq_nocase(charset, "utf8") || str_eq_nocase(charset, "us-ascii") ||
               str_eq_nocase(charset, "ascii");
}

static void conv_open(struct search_conv *conv, const char *charset)
{
        conv->raw = true;
        if (charset_is_utf8_compatible(charset))
                return;
        conv->cd = iconv_open("UTF-8", charset);
        conv->raw = conv->cd == (iconv_t)-1;
}

static void conv_close(struct search_conv *conv)
{
        if (!conv->raw)
                iconv_close(conv->cd);
        conv->raw = true;
}

/* Converts what `in` holds and feeds it to the sink, leaving an incomplete
   trailing sequence in `in` unless final. Invalid bytes become U+FFFD. */
static void conv_feed(struct search_conv *conv, struct buf *in,
                      struct imap_search_sink *sink, bool final)
{
        char *inp = in->data;
        size_t inleft = in->len;

        if (conv->raw) {
                imap_search_sink_feed(sink, in->data, in->len);
                buf_reset(in);
                return;
        }
        while (inleft > 0 && sink->remaining > 0) {
                char out[4096], *outp = out;
                size_t outleft = sizeof(out);
                size_t r = iconv(conv->cd, &inp, &inleft, &outp, &outleft);
                int e = errno;

                imap_search_sink_feed(sink, out, (size_t)(outp - out));
                if (r != (size_t)-1 || e == E2BIG)
                        continue;
                if (e == EINVAL && !final)
                        break;
                imap_search_sink_feed(sink, utf8_replacement, 3);
                if (e == EINVAL) {
                        inleft = 0;
                } else {
                        inp++;
                        inleft--;
                }
        }
        if (sink->remaining == 0)
                inleft = 0;
        buf_consume(in, in->len - inleft);
}

static bool part_is_text(const struct mime_part *part)
{
        /* A multipart or message part without children has broken
           structure; its body is searched as text rather than hidden. */
        return strcmp(part->type, "text") == 0 || strcmp(part->type, "multipart") == 0 ||
               strcmp(part->type, "message") == 0;
}

static enum cove_store_err scan_text_part(const struct imap_search_reader *rd,
                                          const struct mime_part *part,
                                          struct pool *scratch,
                                          struct imap_search_sink *sink)
{
        struct mime_decoder *dec =
                mime_decoder_create(scratch, mime_transfer_encoding_parse(part->encoding));
        uint64_t offset = part->body_offset, end = part->body_offset + part->body_size;
        enum cove_store_err err = COVE_STORE_OK;
        struct search_conv conv;
        struct buf decoded;

        if (end > rd->size)
                end = rd->size;
        buf_init(&decoded, 0);
        conv_open(&conv, mime_param_get(part->params, part->param_count, "charset"));
        imap_search_sink_begin(sink, false);
        while (offset < end && sink->remaining > 0) {
                const void *chunk;
                size_t n;

                err = rd->read(rd->ctx, offset, &chunk, &n);
                if (err != COVE_STORE_OK || n == 0)
                        break;
                if (n > end - offset)
                        n = (size_t)(end - offset);
                /* One store read, decoded a slice at a time. */
                for (size_t done = 0; done < n && sink->remaining > 0;) {
                        size_t slice = n - done < SEARCH_SLICE ? n - done : SEARCH_SLICE;

                        mime_decoder_feed(dec, (const char *)chunk + done, slice, &decoded);
                        conv_feed(&conv, &decoded, sink, false);
                        done += slice;
                }
                offset += n;
        }
        if (err == COVE_STORE_OK && sink->remaining > 0) {
                mime_decoder_finish(dec, &decoded);
                conv_feed(&conv, &decoded, sink, true);
        }
        imap_search_sink_end(sink);
        conv_close(&conv);
        buf_free(&decoded);
        return err;
}

static enum cove_store_err scan_header(const struct imap_search_reader *rd,
                                       const struct mime_part *part, bool top,
                                       struct pool *scratch, struct imap_search_sink *sink)
{
        uint64_t len = part->header_size;
        enum cove_store_err err;
        char *header;
        size_t got;

        if (len > IMAP_SEARCH_MAX_HEADER)
                len = IMAP_SEARCH_MAX_HEADER;
        err = imap_search_read_range(rd, scratch, part->header_offset, len, &header, &got);
        if (err != COVE_STORE_OK)
                return err;
        imap_search_sink_begin(sink, top);
        imap_search_header_feed(scratch, header, got, sink);
        imap_search_sink_end(sink);
        return COVE_STORE_OK;
}

/* Pre-order successor within root's tree, without recursion. */
static const struct mime_part *next_part(const struct mime_part *part,
                                         const struct mime_part *root)
{
        if (part->children != NULL)
                return part->children;
        while (part != root && part->next == NULL)
                part = part->parent;
        return part == root ? NULL : part->next;
}

enum cove_store_err imap_search_body_scan(const struct imap_search_reader *rd,
                                          const struct mime_part *root,
                                          struct pool *scratch,
                                          struct imap_search_sink *sink)
{
        enum cove_store_err err = COVE_STORE_OK;

        for (const struct mime_part *part = root; part != NULL && sink->remaining > 0 &&
             err == COVE_STORE_OK; part = next_part(part, root)) {
                if (part->envelope != NULL)
                        err = scan_header(rd, part, part == root, scratch, sink);
                if (err == COVE_STORE_OK && part->children == NULL && part_is_text(part))
                        err = scan_text_part(rd, part, scratch, sink);
        }
        return err;
}

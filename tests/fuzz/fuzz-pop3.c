/* fuzz-pop3.c - libFuzzer target for cove-pop3d's command line splitter
 * (pop3d/cmdline.c) and message converter (pop3d/convert.c).
 *
 * Input: byte 0 picks the piece size for chunked feeding (1..16), byte 1 the
 * TOP line count; the rest is used twice. As command lines (split at LF, a
 * CR before it dropped): keyword/rest/argument invariants. As a message:
 * RETR conversion fed in pieces must give only CRLF line ends, undo to the
 * plain conversion when unstuffed, count exactly the plain octets, agree
 * with the size from the MIME parser's stored line figures, and TOP must be
 * a prefix of RETR. Any violation aborts. Seeds: corpus/pop3/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmdline.h"
#include "convert.h"
#include "mime.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void fuzz_line(struct pool *pool, const char *line, size_t len)
{
        struct pop3_cmdline cl;
        const char *args[2];
        unsigned argc;
        bool nul;
        uint64_t v;

        if (!pop3_cmdline_split(pool, line, len, &cl, &nul)) {
                check(nul == (memchr(line, '\0', len) != NULL));
                return;
        }
        check(strlen(cl.keyword) <= POP3_KEYWORD_MAX && strchr(cl.keyword, ' ') == NULL);
        check(cl.rest == NULL || (strlen(cl.rest) == cl.rest_len &&
                                  memcmp(cl.rest, line + len - cl.rest_len, cl.rest_len) == 0));
        char *rest = cl.rest != NULL ? pool_strdup(pool, cl.rest) : NULL;
        if (!pop3_cmdline_args(rest, args, 2, &argc)) {
                check(argc == 2);
                return;
        }
        /* The arguments joined by single spaces give the rest back. */
        size_t joined = argc > 0 ? argc - 1 : 0;
        for (unsigned i = 0; i < argc; i++) {
                joined += strlen(args[i]);
                check(strchr(args[i], ' ') == NULL);
                if (pop3_cmdline_uint(args[i], &v))
                        check(strspn(args[i], "0123456789") == strlen(args[i]) &&
                              strtoull(args[i], NULL, 10) == v);
        }
        check(joined == (cl.rest != NULL ? cl.rest_len : 0));
}

static void emit_buf(void *context, const void *data, size_t len)
{
        buf_append(context, data, len);
}

static uint64_t convert(const uint8_t *msg, size_t len, bool stuff, bool top, uint64_t lines,
                        size_t piece, struct buf *out)
{
        struct pop3_conv conv;
        size_t pos = 0;

        pop3_conv_init(&conv, stuff, top, lines);
        while (pos < len && !conv.done) {
                size_t n = len - pos < piece ? len - pos : piece;
                size_t used = pop3_conv_feed(&conv, msg + pos, n, emit_buf, out);
                check(used == n || conv.done);
                pos += n;
        }
        pop3_conv_finish(&conv, emit_buf, out);
        return conv.size;
}

/* Removes one leading '.' from every line that starts with one. */
static void unstuff(const struct buf *in, struct buf *out)
{
        bool bol = true;

        for (size_t i = 0; i < in->len; i++) {
                if (!(bol && in->data[i] == '.'))
                        buf_append_char(out, in->data[i]);
                bol = in->data[i] == '\n';
        }
}

static void fuzz_message(struct pool *pool, const uint8_t *msg, size_t len, size_t piece,
                         uint64_t top_lines)
{
        struct buf wire, plain, undone, top;
        uint64_t size, wire_size, figure, bare;
        enum mime_last_line last;
        const void *blob;
        size_t blob_len;

        buf_init(&wire, 0);
        buf_init(&plain, 0);
        buf_init(&undone, 0);
        buf_init(&top, 0);
        wire_size = convert(msg, len, true, false, 0, piece, &wire);
        size = convert(msg, len, false, false, 0, len > 0 ? len : 1, &plain);
        check(size == plain.len && wire_size == size);
        for (size_t i = 0; i < wire.len; i++)
                check(wire.data[i] != '\n' || (i > 0 && wire.data[i - 1] == '\r'));
        check(wire.len == 0 || wire.data[wire.len - 1] == '\n');
        unstuff(&wire, &undone);
        check(undone.len == plain.len &&
              (plain.len == 0 || memcmp(undone.data, plain.data, plain.len) == 0));
        convert(msg, len, false, true, top_lines, piece, &top);
        check(top.len <= plain.len && (top.len == 0 || memcmp(top.data, plain.data, top.len) == 0));

        struct mime_parser *parser = mime_parser_create(pool, NULL);
        for (size_t pos = 0; pos < len; pos += piece)
                mime_parser_feed(parser, msg + pos, len - pos < piece ? len - pos : piece);
        check(mime_structure_serialize(pool, mime_parser_finish(parser), &blob, &blob_len) == 0);
        check(mime_structure_line_info(blob, blob_len, &bare, &last));
        check(pop3_conv_size_from_lines(len, bare, last, &figure) && figure == size);
        buf_free(&wire);
        buf_free(&plain);
        buf_free(&undone);
        buf_free(&top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pool *pool;

        if (size < 2 || size > 65536)
                return 0;
        pool = pool_create("fuzz-pop3", 4096);
        size_t piece = 1 + data[0] % 16;
        uint64_t top_lines = data[1];
        const char *text = (const char *)data + 2;
        size_t len = size - 2, start = 0;

        for (size_t i = 0; i <= len; i++) {
                if (i < len && text[i] != '\n')
                        continue;
                size_t end = i > start && text[i - 1] == '\r' ? i - 1 : i;
                fuzz_line(pool, text + start, end - start);
                pool_clear(pool);
                start = i + 1;
        }
        fuzz_message(pool, data + 2, len, piece, top_lines);
        pool_destroy(&pool);
        return 0;
}

/* fetch-body.c - body literals of FETCH: BODY[section]<partial>, RFC822*,
 * BINARY[part]<partial> and BINARY.SIZE, streamed from the store.
 *
 * Owns: turning a resolved section into literal bytes read piecewise from the
 * message's store stream (at most FETCH_WRITE_CHUNK per step, resumable when
 * the output is full), the two passes over the header for HEADER.FIELDS
 * (size, then bytes) and over the part for BINARY (decoded size, then bytes).
 * Refuses: choosing messages and items (cmd-fetch.c), parsing sections.
 */
#include "fetch-private.h"

#include <string.h>
#include <strings.h>

#include "commands.h"
#include "log.h"
#include "mime.h"
#include "pool.h"
#include "reply.h"
#include "session.h"
#include "store.h"

static void fail(struct fetch_state *st, enum cove_store_err err, const char *what)
{
        struct imap_session *session = st->cmd->session;
        log_error("session=%s proto=imap user=%s FETCH uid=%u: %s: %s (%s)",
                  session->conn.id, session->user != NULL ? session->user : "-",
                  st->msg.uid, what, cove_store_strerror(err),
                  store_last_error(session->daemon->store));
        st->failed = true;
        st->body.kind = FETCH_BODY_NONE;
}

/* Up to max stored bytes at pos; false (st->failed) on a read error or a
   message shorter than its structure says. */
static bool read_stored(struct fetch_state *st, uint64_t pos, uint64_t max,
                        const void **data_r, size_t *len_r)
{
        enum cove_store_err err = store_stream_read(st->stream, pos, data_r, len_r);
        if (err == COVE_STORE_OK && *len_r == 0)
                err = COVE_STORE_CORRUPT;
        if (err != COVE_STORE_OK) {
                fail(st, err, "reading message");
                return false;
        }
        if (*len_r > max)
                *len_r = (size_t)max;
        return true;
}

static void count_emit(void *context, const void *data, size_t len)
{
        (void)data;
        *(uint64_t *)context += len;
}

/* Writes the part of an output piece that falls in the <origin.count>
   window. */
static void window_emit(void *context, const void *data, size_t len)
{
        struct fetch_body *b = context;
        uint64_t start = b->produced, stop = b->produced + len;
        uint64_t lo = start > b->skip ? start : b->skip;
        uint64_t hi = stop < b->skip + b->send ? stop : b->skip + b->send;

        b->produced = stop;
        if (lo < hi)
                imap_reply_write(b->st->cmd, (const char *)data + (lo - start), hi - lo);
}

/* Feeds stored bytes [pos, end) to the filter or decoder, at most one chunk.
   The decoder's output goes through st->scratch to emit. */
static bool feed_chunk(struct fetch_state *st, uint64_t *pos, uint64_t end,
                       struct imap_hdrfilter *filter, struct mime_decoder *decoder,
                       imap_hdrfilter_emit_fn *emit, void *context)
{
        const void *data;
        size_t len;

        if (!read_stored(st, *pos, end - *pos < FETCH_WRITE_CHUNK ? end - *pos :
                         FETCH_WRITE_CHUNK, &data, &len))
                return false;
        *pos += len;
        if (filter != NULL) {
                imap_hdrfilter_feed(filter, data, len);
                return true;
        }
        buf_reset(&st->scratch);
        mime_decoder_feed(decoder, data, len, &st->scratch);
        if (*pos == end)
                mime_decoder_finish(decoder, &st->scratch);
        if (st->scratch.len > 0)
                emit(context, st->scratch.data, st->scratch.len);
        return true;
}

/* The first pass: the size of the filtered header or the decoded part. */
static bool measure(struct fetch_state *st, const struct imap_fetch_item *item,
                    enum mime_transfer_encoding te, uint64_t offset, uint64_t size,
                    uint64_t *total_r)
{
        struct imap_hdrfilter *filter = NULL;
        struct mime_decoder *decoder = NULL;
        uint64_t pos = offset;

        *total_r = 0;
        if (item->kind == IMAP_FETCH_SECTION)
                filter = imap_hdrfilter_create(st->msg_pool, item->section.fields,
                                               item->section.field_count,
                                               item->section.text ==
                                               IMAP_SECTION_HEADER_FIELDS_NOT,
                                               count_emit, total_r);
        else
                decoder = mime_decoder_create(st->msg_pool, te);
        while (pos < offset + size) {
                if (!feed_chunk(st, &pos, offset + size, filter, decoder, count_emit,
                                total_r))
                        return false;
        }
        return true;
}

static void write_label(struct fetch_state *st, const struct imap_fetch_item *item)
{
        buf_append_str(&st->out, item->label);
        if (item->with_section)
                imap_section_append_name(&st->out, &item->section);
        buf_append_char(&st->out, ' ');
        imap_reply_write(st->cmd, st->out.data, st->out.len);
        buf_reset(&st->out);
}

/* Writes the literal header for total output bytes (clipped by the
   window) and arms st->body; an empty result is written as "" at once. */
static void begin_literal(struct fetch_state *st, const struct imap_fetch_item *item,
                          enum fetch_body_kind kind, uint64_t total)
{
        struct fetch_body *b = &st->body;

        imap_section_clip(&item->section, total, &b->skip, &b->send);
        b->produced = 0;
        b->st = st;
        if (b->send == 0) {
                imap_reply_write(st->cmd, "\"\"", 2);
                b->kind = FETCH_BODY_NONE;
                return;
        }
        /* RFC 3516 §4.2: BINARY content goes out as literal8. */
        imap_reply_printf(st->cmd, "%s{%llu}\r\n", item->kind == IMAP_FETCH_BINARY ? "~" : "",
                          (unsigned long long)b->send);
        b->kind = kind;
}

/* RFC 3516 §4.3: these are the encodings BINARY can undo; others get
   [UNKNOWN-CTE]. */
static bool encoding_known(const char *encoding)
{
        static const char *const known[] = { "7bit", "8bit", "binary", "base64",
                                             "quoted-printable" };
        for (size_t i = 0; i < N_ELEMENTS(known); i++) {
                if (strcasecmp(encoding, known[i]) == 0)
                        return true;
        }
        return false;
}

/* The stored range and decoding of a BINARY item. Returns false when the
   part does not exist (*range_r EMPTY) or its encoding is unknown. */
static bool binary_source(const struct fetch_state *st, const struct imap_fetch_item *item,
                          struct imap_section_range *range_r,
                          enum mime_transfer_encoding *te_r, bool *known_r)
{
        const struct mime_part *part;

        *te_r = MIME_TE_IDENTITY;
        *known_r = true;
        range_r->kind = IMAP_SECTION_EMPTY;
        range_r->offset = range_r->size = 0;
        if (item->section.part[0] == '\0') {
                /* BINARY[]: the whole message as stored (no structure
                   needed, so st->msg.root may be NULL). */
                range_r->kind = IMAP_SECTION_RANGE;
                range_r->size = st->msg.size;
                return true;
        }
        if (!mime_part_find_section(st->msg.root, item->section.part, &part))
                return true;
        range_r->kind = IMAP_SECTION_RANGE;
        range_r->offset = part->body_offset;
        range_r->size = part->body_size;
        if (part->children != NULL)
                return true;    /* multipart / message: nothing to undo */
        *known_r = encoding_known(part->encoding);
        *te_r = mime_transfer_encoding_parse(part->encoding);
        return *known_r;
}

bool fetch_binary_size(struct fetch_state *st, const struct imap_fetch_item *item,
                       uint64_t *size_r, bool *known_r)
{
        struct imap_section_range range;
        enum mime_transfer_encoding te;

        *size_r = 0;
        if (!binary_source(st, item, &range, &te, known_r))
                return *known_r;
        if (range.kind == IMAP_SECTION_EMPTY)
                return true;
        if (te == MIME_TE_IDENTITY) {
                *size_r = range.size;
                return true;
        }
        return measure(st, item, te, range.offset, range.size, size_r);
}

static bool start_binary(struct fetch_state *st, const struct imap_fetch_item *item)
{
        struct imap_section_range range;
        enum mime_transfer_encoding te;
        bool known;
        uint64_t total;

        if (!binary_source(st, item, &range, &te, &known)) {
                st->unknown_cte = true;
                imap_reply_write(st->cmd, "NIL", 3);
                return true;
        }
        st->body.pos = range.offset;
        st->body.end = range.offset + range.size;
        if (range.kind == IMAP_SECTION_EMPTY || te == MIME_TE_IDENTITY) {
                begin_literal(st, item, FETCH_BODY_RANGE, range.size);
                st->body.pos += st->body.skip;
                st->body.end = st->body.pos + st->body.send;
                return true;
        }
        if (!measure(st, item, te, range.offset, range.size, &total))
                return false;
        begin_literal(st, item, FETCH_BODY_DECODE, total);
        st->body.decoder = mime_decoder_create(st->msg_pool, te);
        return true;
}

bool fetch_body_start(struct fetch_state *st, const struct imap_fetch_item *item)
{
        struct imap_section_range range;
        uint64_t total;

        memset(&st->body, 0, sizeof(st->body));
        write_label(st, item);
        if (item->kind == IMAP_FETCH_BINARY)
                return start_binary(st, item);
        if (st->msg.root != NULL) {
                imap_section_resolve(st->msg.root, &item->section, &range);
        } else {
                /* BODY[] / RFC822 need no structure: the whole message. */
                range.kind = IMAP_SECTION_RANGE;
                range.offset = 0;
                range.size = st->msg.size;
        }
        st->body.pos = range.offset;
        st->body.end = range.offset + range.size;
        switch (range.kind) {
        case IMAP_SECTION_EMPTY:
                begin_literal(st, item, FETCH_BODY_NONE, 0);
                return true;
        case IMAP_SECTION_RANGE:
                begin_literal(st, item, FETCH_BODY_RANGE, range.size);
                st->body.pos += st->body.skip;
                st->body.end = st->body.pos + st->body.send;
                return true;
        case IMAP_SECTION_FILTER:
                break;
        }
        if (!measure(st, item, MIME_TE_IDENTITY, range.offset, range.size, &total))
                return false;
        begin_literal(st, item, FETCH_BODY_FILTER, total);
        st->body.filter = imap_hdrfilter_create(st->msg_pool, item->section.fields,
                                                item->section.field_count,
                                                item->section.text ==
                                                IMAP_SECTION_HEADER_FIELDS_NOT,
                                                window_emit, &st->body);
        return true;
}

static bool continue_range(struct fetch_state *st)
{
        struct fetch_body *b = &st->body;

        while (b->pos < b->end) {
                if (imap_reply_output_full(st->cmd))
                        return false;
                const void *data;
                size_t len;
                if (!read_stored(st, b->pos, b->end - b->pos < FETCH_WRITE_CHUNK ?
                                 b->end - b->pos : FETCH_WRITE_CHUNK, &data, &len))
                        return false;
                imap_reply_write(st->cmd, data, len);
                b->pos += len;
        }
        b->kind = FETCH_BODY_NONE;
        return true;
}

/* Filtered or decoded output: feed until the window is written. */
static bool continue_transformed(struct fetch_state *st)
{
        struct fetch_body *b = &st->body;

        while (b->pos < b->end && b->produced < b->skip + b->send) {
                if (imap_reply_output_full(st->cmd))
                        return false;
                if (!feed_chunk(st, &b->pos, b->end, b->filter, b->decoder, window_emit, b))
                        return false;
        }
        if (b->produced < b->skip + b->send) {
                /* The second pass gave less than the first: the bytes the
                   literal announced cannot be sent. */
                fail(st, COVE_STORE_CORRUPT, "message changed while fetching");
                return false;
        }
        b->kind = FETCH_BODY_NONE;
        return true;
}

bool fetch_body_continue(struct fetch_state *st)
{
        switch (st->body.kind) {
        case FETCH_BODY_NONE:
                return true;
        case FETCH_BODY_RANGE:
                return continue_range(st);
        case FETCH_BODY_FILTER:
        case FETCH_BODY_DECODE:
                return continue_transformed(st);
        }
        return true;
}

void fetch_body_close(struct fetch_state *st)
{
        store_stream_close(&st->stream);
        st->body.kind = FETCH_BODY_NONE;
}

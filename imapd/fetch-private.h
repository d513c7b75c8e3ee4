/* fetch-private.h - the state of one running FETCH, shared by cmd-fetch.c
 * (messages and small items) and fetch-body.c (body literals).
 *
 * Owns: struct fetch_state and the body-literal interface between the two
 * files. Refuses: anything other files may use (they include fetch.h).
 */
#ifndef COVE_IMAP_FETCH_PRIVATE_H
#define COVE_IMAP_FETCH_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cove/storage.h"
#include "fetch.h"

struct imap_cmd;
struct mime_decoder;
struct mime_part;
struct store_stream;

/* Bytes written to the connection between checks of the output high-water
   mark; also the size of the pieces fed to the header filter and decoder. */
#define FETCH_WRITE_CHUNK 32768u

/* The message being answered, copied out of its (short-lived) txn record. */
struct fetch_msg {
        uint32_t seq, uid;
        uint32_t flags;
        const char *const *keywords;
        size_t keyword_count;
        int64_t internal_date;
        int32_t internal_tz;
        uint64_t size, modseq;
        const struct mime_part *root;   /* NULL unless the request needs it */
        bool seen_set;                  /* this FETCH set \Seen: send FLAGS */
        bool flags_sent;
};

enum fetch_body_kind {
        FETCH_BODY_NONE,        /* no literal in progress */
        FETCH_BODY_RANGE,       /* stored bytes as they are */
        FETCH_BODY_FILTER,      /* HEADER.FIELDS[.NOT] of the header bytes */
        FETCH_BODY_DECODE,      /* BINARY: the part's body decoded */
};

/* One body literal being streamed. Output bytes (after filtering or
   decoding) are counted in `produced`; those in [skip, skip + send) are
   written, which is the <origin.count> window. */
struct fetch_body {
        enum fetch_body_kind kind;
        uint64_t pos, end;              /* stored bytes still to read */
        uint64_t skip, send, produced;
        struct imap_hdrfilter *filter;
        struct mime_decoder *decoder;
        struct fetch_state *st;
};

struct fetch_state {
        struct imap_cmd *cmd;
        struct imap_fetch_request req;
        uint32_t *seqs;
        size_t seq_count;
        bool *seen_set;                 /* [seq_count]: \Seen set by this FETCH */
        size_t next;                    /* index in seqs of the current message */
        unsigned item;                  /* next item of the current message */
        bool in_message;                /* "* n FETCH (" was written */
        bool unknown_cte;               /* BINARY met an unknown encoding: NO at end */
        bool failed;                    /* a body could not be read: abort */
        enum cove_store_err load_err;   /* a message record could not be read
                                           between responses: tagged NO */
        struct pool *msg_pool;          /* per message, cleared after each */
        struct buf out;                 /* small items of the current message */
        struct buf scratch;             /* decoded bytes (BINARY) */
        struct fetch_msg msg;
        struct store_stream *stream;    /* of the current message, opened on demand */
        struct fetch_body body;
};

/* Starts the literal of a section / BINARY item of st->msg: appends its
   label to st->out, flushes st->out, writes the literal header (or "" / NIL)
   and prepares st->body. Returns false when the message could not be read
   (st->failed is set and the session is aborted). */
bool fetch_body_start(struct fetch_state *st, const struct imap_fetch_item *item);

/* Writes more of the literal. Returns true when it is complete (st->body
   kind is NONE again), false when output is full or on failure
   (st->failed). */
bool fetch_body_continue(struct fetch_state *st);

/* BINARY.SIZE: the decoded size of the item's part; false on failure
   (st->failed) or unknown encoding (*known_r false). */
bool fetch_binary_size(struct fetch_state *st, const struct imap_fetch_item *item,
                       uint64_t *size_r, bool *known_r);

/* Closes the message's stream, if open. */
void fetch_body_close(struct fetch_state *st);

#endif

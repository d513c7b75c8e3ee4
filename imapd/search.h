/* search.h - IMAP SEARCH programs: parsed from command arguments, evaluated
 * per message.
 *
 * Owns: the search grammar of RFC 3501 §6.4.4 with CHARSET and the RFC 4731
 * RETURN options, and the per-message evaluation (flags, dates, sizes, sets,
 * headers, bodies through transfer encodings and charsets). Refuses: I/O on
 * the connection, reply formatting (cmd-search.c) and mailbox iteration.
 */
#ifndef COVE_IMAP_SEARCH_H
#define COVE_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/storage.h"

struct pool;

/* Bounds on what a client may ask for. Nesting counts parenthesised lists
   and NOT; chains of OR are flattened and cost one level however long. */
#define IMAP_SEARCH_MAX_DEPTH 32u
#define IMAP_SEARCH_MAX_KEYS 4096u
/* Header keys look at the first this-many bytes of a message header. */
#define IMAP_SEARCH_MAX_HEADER (1024u * 1024u)

/* ---- input: the command's arguments after "SEARCH" ---------------------

   The parser reads a flat token array, so it does not depend on how the
   tokenizer represents lists: a parenthesised list is LIST_OPEN, its items,
   LIST_CLOSE. STRING is a quoted string or a literal (already unquoted,
   may contain any byte but NUL); ATOM is anything else, NIL included. */
enum imap_search_tok_type {
        IMAP_SEARCH_TOK_ATOM = 0,
        IMAP_SEARCH_TOK_STRING,
        IMAP_SEARCH_TOK_LIST_OPEN,
        IMAP_SEARCH_TOK_LIST_CLOSE,
};

struct imap_search_tok {
        enum imap_search_tok_type type;
        const char *data;       /* not necessarily NUL-terminated */
        size_t len;
};

/* ---- the program -------------------------------------------------------- */

/* RFC 4731 RETURN options. */
#define IMAP_SEARCH_RETURN_MIN   (1u << 0)
#define IMAP_SEARCH_RETURN_MAX   (1u << 1)
#define IMAP_SEARCH_RETURN_ALL   (1u << 2)
#define IMAP_SEARCH_RETURN_COUNT (1u << 3)

struct imap_search_key;

struct imap_search_program {
        struct imap_search_key *root;   /* an AND of the top-level keys */
        bool esearch;                   /* RETURN given: answer ESEARCH */
        unsigned return_opts;           /* IMAP_SEARCH_RETURN_*; ALL for RETURN () */
        bool uses_header;               /* some key needs header bytes */
        bool uses_body;                 /* some key needs BODY/TEXT streaming */
        unsigned key_count;
        unsigned scan_count;            /* BODY and TEXT keys */
};

enum imap_search_parse_result {
        IMAP_SEARCH_PARSE_OK = 0,
        IMAP_SEARCH_PARSE_BAD,          /* syntax: tagged BAD */
        IMAP_SEARCH_PARSE_BADCHARSET,   /* tagged NO [BADCHARSET (UTF-8 US-ASCII)] */
};

/* Parses SEARCH arguments (everything after the command name). Strings are
   copied, so toks may die after the call; the program lives in pool. On an
   error *error_r is a short human-readable reason (static or in pool). */
enum imap_search_parse_result
imap_search_parse(struct pool *pool, const struct imap_search_tok *toks, size_t count,
                  struct imap_search_program **prog_r, const char **error_r);

/* ---- evaluation --------------------------------------------------------- */

/* Reads message bytes at offset like store_stream_read(): *len_r == 0 means
   the end. The chunk stays valid until the next call. Return EXPUNGED when
   the message went away (it then does not match). */
typedef enum cove_store_err imap_search_read_fn(void *ctx, uint64_t offset,
                                                const void **data_r, size_t *len_r);

/* Mailbox facts needed to resolve '*' in sequence sets. */
struct imap_search_mailbox {
        uint32_t messages;      /* message count: the value of '*' for sequences */
        uint32_t max_uid;       /* UID of the last message: '*' for UID sets */
};

/* Resolves the program's sequence and UID sets against box (RFC 3501 §9:
   '*' is the largest number in use; ranges in either order). Call before
   imap_search_eval() and again if the mailbox changed; sets live in pool.
   Sequence numbers above the count are not an error: they match nothing. */
void imap_search_bind(struct imap_search_program *prog, struct pool *pool,
                      const struct imap_search_mailbox *box);

struct imap_search_msg {
        const struct cove_store_msg *rec;       /* flags, keywords, dates, size, uid */
        uint32_t seq;
        bool recent;
        imap_search_read_fn *read;      /* called only when header/body keys need it */
        void *read_ctx;
};

/* Evaluates prog (bound with imap_search_bind) on one message. Keys decided by the record (flags,
   keywords, dates, size, sets) are tried first; the header is read only if
   they leave the answer open, and the body is streamed (in chunks, never
   held whole) only if header keys leave it open too.

   scratch takes this message's temporary allocations; the caller clears it
   between messages. Returns OK with *match_r set, or the read function's
   error (EXPUNGED is not an error: it gives OK and no match).

   Matching: header, address, BODY and TEXT keys are case-insensitive
   substring matches on UTF-8 text after RFC 2047 decoding of headers and
   transfer and charset decoding of text parts; see docs/imap.md "SEARCH". */
enum cove_store_err imap_search_eval(const struct imap_search_program *prog,
                                     const struct imap_search_msg *msg,
                                     struct pool *scratch, bool *match_r);

#endif

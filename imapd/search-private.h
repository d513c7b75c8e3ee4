/* search-private.h - the search key tree and the text matching machinery
 * shared by search-parse.c, search-eval.c, search-text.c and their tests.
 *
 * Only the search module and tests/unit/imapd-search include this; the rest
 * of imapd uses search.h.
 */
#ifndef COVE_IMAP_SEARCH_PRIVATE_H
#define COVE_IMAP_SEARCH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "search.h"

struct pool;
struct mime_part;
struct imap_seqset;

enum imap_search_key_type {
        IMAP_SEARCH_KEY_AND = 0,        /* children all match (empty: true) */
        IMAP_SEARCH_KEY_OR,             /* some child matches (two or more) */
        IMAP_SEARCH_KEY_NOT,            /* one child */
        IMAP_SEARCH_KEY_ALL,
        IMAP_SEARCH_KEY_FLAGS_SET,      /* every bit of flags set */
        IMAP_SEARCH_KEY_FLAGS_UNSET,    /* every bit of flags clear */
        IMAP_SEARCH_KEY_KEYWORD,        /* str is set (case-insensitive) */
        IMAP_SEARCH_KEY_UNKEYWORD,
        IMAP_SEARCH_KEY_RECENT,
        IMAP_SEARCH_KEY_NEW,            /* recent and unseen */
        IMAP_SEARCH_KEY_OLD,            /* not recent */
        IMAP_SEARCH_KEY_BEFORE,         /* internal date, by day */
        IMAP_SEARCH_KEY_ON,
        IMAP_SEARCH_KEY_SINCE,
        IMAP_SEARCH_KEY_SENTBEFORE,     /* Date: header, by day */
        IMAP_SEARCH_KEY_SENTON,
        IMAP_SEARCH_KEY_SENTSINCE,
        IMAP_SEARCH_KEY_LARGER,
        IMAP_SEARCH_KEY_SMALLER,
        IMAP_SEARCH_KEY_SEQSET,
        IMAP_SEARCH_KEY_UIDSET,
        IMAP_SEARCH_KEY_HEADER,         /* field `header` contains needle */
        IMAP_SEARCH_KEY_ADDRESS,        /* address field `header`: value or addresses */
        IMAP_SEARCH_KEY_BODY,           /* scan number scan */
        IMAP_SEARCH_KEY_TEXT,
};

/* A folded search string with its KMP failure table. */
struct imap_search_needle {
        const unsigned char *pat;
        size_t len;
        const size_t *fail;
};

struct imap_search_key {
        enum imap_search_key_type type;
        struct imap_search_key *next;           /* sibling in an AND/OR */
        struct imap_search_key *children;       /* AND, OR, NOT */
        uint32_t flags;                         /* FLAGS_SET / FLAGS_UNSET */
        const char *str;                        /* KEYWORD name, HEADER field name */
        struct imap_search_needle needle;       /* HEADER, ADDRESS, BODY, TEXT */
        int64_t day;                            /* date keys: days since 1970-01-01 */
        uint64_t size;                          /* LARGER / SMALLER */
        const char *set_text;                   /* SEQSET / UIDSET, as sent */
        struct imap_seqset *set;                /* resolved by imap_search_bind() */
        unsigned scan;                          /* BODY / TEXT: index of its scan */
};

/* ---- search-text.c: folding and matching ---- */

/* Folds UTF-8 text for caseless matching: ASCII, Latin-1 Supplement,
   Latin Extended-A, basic Greek and Cyrillic capitals become small letters;
   other bytes (including invalid UTF-8) pass unchanged. The result is in
   pool, NUL-terminated; *len_r its length. */
unsigned char *imap_search_fold(struct pool *pool, const void *data, size_t len,
                                size_t *len_r);

/* Prepares a needle from UTF-8 text (folded here). */
void imap_search_needle_init(struct pool *pool, struct imap_search_needle *needle,
                             const char *text, size_t len);

/* True when folded text contains the needle (an empty needle always). */
bool imap_search_needle_find(const struct imap_search_needle *needle,
                             const unsigned char *text, size_t len);

/* Streaming match state of one needle. */
struct imap_search_scan {
        const struct imap_search_needle *needle;
        size_t state;           /* bytes of the needle matched so far */
        bool found;
        bool body_only;         /* BODY: skip the top-level header */
};

/* A streaming caseless matcher of many needles at once: feed UTF-8 text in
   pieces of any size (a character or a match may span pieces); the fold
   state is a few bytes. */
struct imap_search_sink {
        struct imap_search_scan *scans;
        size_t count;
        size_t remaining;       /* scans not found yet */
        bool in_header;         /* feeding the top-level header (TEXT only) */
        unsigned char pend[4];  /* incomplete UTF-8 character */
        size_t pend_len;
};

/* Starts a segment of text: matches do not span segments. */
void imap_search_sink_begin(struct imap_search_sink *sink, bool top_header);
void imap_search_sink_feed(struct imap_search_sink *sink, const void *data, size_t len);
void imap_search_sink_end(struct imap_search_sink *sink);

/* ---- search-body.c: the streaming pass over a message ---- */

/* Byte access for the pass, with the message size (for bounds). */
struct imap_search_reader {
        imap_search_read_fn *read;
        void *ctx;
        uint64_t size;
};

/* Reads [offset, offset + len) into pool memory (NUL-terminated); reads
   fewer bytes when the message ends first (*len_r). */
enum cove_store_err imap_search_read_range(const struct imap_search_reader *rd,
                                           struct pool *pool, uint64_t offset,
                                           uint64_t len, char **data_r, size_t *len_r);

/* Feeds the sink with the message's text as TEXT and BODY see it: the
   top-level header (decoded fields; marked top_header), then the headers of
   encapsulated messages and the text parts, transfer- and charset-decoded,
   in message order. Stops early when every scan has been found. */
enum cove_store_err imap_search_body_scan(const struct imap_search_reader *rd,
                                          const struct mime_part *root,
                                          struct pool *scratch,
                                          struct imap_search_sink *sink);

/* Feeds one header block's fields to the sink as "Name: decoded-value\n". */
void imap_search_header_feed(struct pool *pool, const char *header, size_t len,
                             struct imap_search_sink *sink);

/* ---- search-date.c ---- */

/* Parses an IMAP date "1-Feb-1994" (RFC 3501 date-text) to a day number. */
bool imap_search_date_parse(const char *str, size_t len, int64_t *day_r);
/* Day number of an RFC 5322 Date: value, as written (time and zone
   disregarded, RFC 3501 §6.4.4 SENT*). */
bool imap_search_rfc5322_day(const char *value, int64_t *day_r);
/* Day number from a y/m/d civil date. */
int64_t imap_search_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif

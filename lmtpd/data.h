/* data.h - the LMTP/SMTP DATA stream: finds the end-of-data line and undoes
 * dot-stuffing (RFC 5321 §4.5.2), incrementally, into a spool (spool.h).
 *
 * Owns the byte-level rules of the stream only. Does not read sockets, add
 * headers or store anything; a message over the limit is counted to its end
 * but no longer kept, so the session can answer 552 with nothing stored.
 */
#ifndef LMTP_DATA_H
#define LMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lmtp_spool;

enum lmtp_data_state {
        LMTP_DATA_LINE_START,   /* after CRLF, or at the start of the data */
        LMTP_DATA_MID,          /* inside a line */
        LMTP_DATA_CR,           /* after a CR inside a line */
        LMTP_DATA_DOT,          /* a '.' began the line (not kept) */
        LMTP_DATA_DOT_CR,       /* ".\r" began the line (the CR held back) */
        LMTP_DATA_END,          /* the end-of-data line was seen */
};

struct lmtp_data {
        enum lmtp_data_state state;
        uint64_t size;          /* message bytes after unstuffing, kept or not */
        uint64_t max;           /* bytes that may be kept */
        bool too_big;           /* size passed max: out was emptied */
        bool failed;            /* the spool failed (error says why): out is useless */
        const char *error;      /* static reason when failed */
        struct lmtp_spool *out; /* receives the message; borrowed */
};

enum lmtp_data_result {
        LMTP_DATA_MORE,         /* every byte consumed; the end is still to come */
        LMTP_DATA_DONE,         /* the end-of-data line was consumed */
};

/* Starts a stream whose message goes to out (appended), keeping at most max
   bytes. Past max, or when out fails, the stream is still followed to its end
   but nothing more is kept, and out is reset at once (too_big) so that the
   rest of a huge message costs no memory or disk. */
void lmtp_data_init(struct lmtp_data *data, struct lmtp_spool *out, uint64_t max);

/* Feeds len bytes. Returns DONE when the end-of-data line ("." alone on a
   line, CRLF-terminated, after a CRLF or at the start) ends inside them, with
   *consumed_r the bytes used up to and including its LF; the rest belongs
   to the next command. Returns MORE with *consumed_r = len otherwise.
   A line beginning with '.' loses that '.'. Only CRLF starts a line: a bare
   LF is message data and a "." after it is kept (no SMTP smuggling through
   "\n.\r\n" or "\r\n.\n"). */
enum lmtp_data_result lmtp_data_feed(struct lmtp_data *data, const void *bytes, size_t len,
                                     size_t *consumed_r);

#endif

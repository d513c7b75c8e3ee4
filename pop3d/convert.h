/* convert.h - stored message bytes to POP3 wire form, incrementally.
 *
 * Owns: line-ending normalisation (bare LF sent as CRLF, a final unterminated
 * line terminated), dot-stuffing (RFC 1939 §3), the TOP cut (header, blank
 * line, n body lines) and counting the POP3 size (octets without
 * dot-stuffing). Works across arbitrary chunk boundaries. Refuses: I/O (an
 * emit callback receives the output) and the final ".CRLF".
 */
#ifndef COVE_POP3_CONVERT_H
#define COVE_POP3_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime.h"

/* Receives converted bytes. */
typedef void pop3_emit_fn(void *context, const void *data, size_t len);

struct pop3_conv {
        bool stuff;             /* dot-stuff (wire output) or not (size counting) */
        bool top;               /* stop after lines_left body lines */
        bool done;              /* the TOP cut was reached */
        bool in_body;           /* the blank line ending the header was seen */
        bool prev_cr;           /* the current line's last byte so far is CR */
        uint64_t line_len;      /* bytes of the current line so far */
        uint64_t lines_left;    /* TOP: body lines still to send */
        uint64_t size;          /* octets emitted, dot-stuffing excluded */
};

/* Whole-message conversion (RETR, size counting): top false. TOP n m: top
   true, lines m. */
void pop3_conv_init(struct pop3_conv *conv, bool stuff, bool top, uint64_t lines);

/* Converts len bytes. Returns how many were consumed: all of them, or fewer
   once the TOP cut is reached (conv->done; the rest is not needed). */
size_t pop3_conv_feed(struct pop3_conv *conv, const void *data, size_t len,
                      pop3_emit_fn *emit, void *context);

/* At the end of the message: terminates an unterminated last line (with LF
   after a final CR, else CRLF). */
void pop3_conv_finish(struct pop3_conv *conv, pop3_emit_fn *emit, void *context);

/* The POP3 size of a message from figures recorded at append (struct
   mime_part line_info), without its bytes: every bare LF gains a CR, and an
   unterminated last line gains LF (after a CR) or CRLF; the same octets a
   whole-message conversion counts. Returns false when the figures cannot
   belong to a message of stored_size octets (the caller counts instead). */
bool pop3_conv_size_from_lines(uint64_t stored_size, uint64_t bare_lf_count,
                               enum mime_last_line last_line, uint64_t *size_r);

#endif

/* fetch.h - the session-free building blocks of IMAP FETCH.
 *
 * Owns: IMAP string output (NIL / quoted / literal), ENVELOPE and
 * BODY/BODYSTRUCTURE rendering from a core/mime.h part tree, BODY[section]
 * <partial> spec parsing and resolution to byte ranges of the stored message,
 * and the streaming HEADER.FIELDS[.NOT] filter. Refuses: sessions, the store,
 * sockets and flags (imapd/cmd-fetch.c drives these pieces).
 */
#ifndef COVE_IMAP_FETCH_H
#define COVE_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct pool;
struct mime_part;
struct mime_envelope;

/* ------------------------------------------------------------------------
 * IMAP strings (RFC 3501 §4.3, §9 string / nstring)
 *
 * All writers append to a struct buf created without a size limit (max 0);
 * they never fail. A value goes out as a quoted string when it is 7-bit and
 * holds no CR, LF or NUL ('"' and '\' are escaped), otherwise as a literal
 * "{n}\r\n<bytes>".
 * ------------------------------------------------------------------------ */

/* Appends len bytes of data as an IMAP string. */
void imap_fetch_append_string(struct buf *out, const void *data, size_t len);
/* Appends str as an IMAP nstring: NIL when str is NULL. */
void imap_fetch_append_nstring(struct buf *out, const char *str);
/* Same as imap_fetch_append_nstring, with ASCII letters upper-cased (media
   types, encodings, parameter names; RFC 3501 §7.4.2 examples). */
void imap_fetch_append_nstring_upper(struct buf *out, const char *str);
/* Appends str as an astring: an atom when every byte is an ATOM-CHAR (and it
   is not empty), else as imap_fetch_append_string. Used to echo header field
   names in BODY[HEADER.FIELDS (...)] replies. */
void imap_fetch_append_astring(struct buf *out, const char *str);

/* ------------------------------------------------------------------------
 * ENVELOPE and BODYSTRUCTURE (RFC 3501 §7.4.2)
 * ------------------------------------------------------------------------ */

/* Appends "(date subject from sender reply-to to cc bcc in-reply-to
   message-id)". Sender and Reply-To default to From when absent or empty;
   group syntax becomes (NIL NIL "name" NIL) ... (NIL NIL NIL NIL); an
   address without a domain gets the host ".MISSING-HOST-NAME." so it is not
   read as a group marker. env NULL gives an envelope of NILs. */
void imap_fetch_append_envelope(struct buf *out, const struct mime_envelope *env);

/* Appends the body structure of part (normally the message root).
   extended: BODYSTRUCTURE (with extension data: MD5, disposition, language,
   location for single parts; parameters, disposition, language, location for
   multiparts); false: BODY. message/rfc822 (and message/global) parts with
   an encapsulated message get its envelope, body structure and line count;
   text/ parts get their line count. A multipart without children gets one
   empty text/plain child (the grammar needs one). Parameter values with
   8-bit bytes are sent in RFC 2231 form (name*=charset''%XX), so the
   structure stays 7-bit. Nesting deeper than IMAP_FETCH_MAX_DEPTH is
   described as basic parts. */
#define IMAP_FETCH_MAX_DEPTH 64u
void imap_fetch_append_bodystructure(struct buf *out, const struct mime_part *part,
                                     bool extended);

/* ------------------------------------------------------------------------
 * BODY[section]<partial> (RFC 3501 §6.4.5)
 * ------------------------------------------------------------------------ */

enum imap_section_text {
        IMAP_SECTION_ALL = 0,           /* "" or a bare part number: BODY[], BODY[1.2] */
        IMAP_SECTION_HEADER,
        IMAP_SECTION_HEADER_FIELDS,
        IMAP_SECTION_HEADER_FIELDS_NOT,
        IMAP_SECTION_TEXT,
        IMAP_SECTION_MIME,              /* needs a part number */
};

/* Longest part number path accepted ("1.2.3...": this many numbers). */
#define IMAP_SECTION_MAX_PARTS 64u
/* Longest header field name a HEADER.FIELDS list may hold. */
#define IMAP_SECTION_MAX_FIELD 256u

struct imap_section {
        const char *part;               /* "1.2.3" or "" (the message) */
        enum imap_section_text text;
        const char *const *fields;      /* HEADER.FIELDS[.NOT] names, else NULL */
        unsigned field_count;
        bool partial;                   /* <origin.count> was given */
        uint32_t origin, count;
};

/* Parses the text between '[' and ']' of a section ("", "1.2", "HEADER",
   "2.HEADER.FIELDS.NOT", "1.MIME", "TEXT"; case-insensitive keywords), len
   bytes at spec, into sec (whose other fields are left alone). HEADER.FIELDS
   and HEADER.FIELDS.NOT then need their names: see
   imap_section_set_fields(). Returns 0, or -1 with *error_r (static) for a
   malformed spec (zero or over-long part numbers, MIME without a part,
   unknown keywords). sec->part lives in pool. */
int imap_section_parse_spec(struct pool *pool, const char *spec, size_t len,
                            struct imap_section *sec, const char **error_r);

/* Sets the HEADER.FIELDS names (copied into pool). Refuses (-1, static
   *error_r) an empty list and names that are empty, longer than
   IMAP_SECTION_MAX_FIELD or hold bytes that cannot appear in a field name
   (controls, space, ':', 8-bit). */
int imap_section_set_fields(struct pool *pool, struct imap_section *sec,
                            const char *const *names, unsigned count,
                            const char **error_r);

/* Parses "<origin.count>" (len bytes at str, brackets included) into sec.
   count must be non-zero; both fit in 32 bits. Returns 0 or -1 (static
   *error_r). */
int imap_section_parse_partial(const char *str, size_t len, struct imap_section *sec,
                               const char **error_r);

/* Parses a whole bracketed section as it follows BODY / BODY.PEEK in the
   one atom the tokenizer makes of it: "[" spec [" (" names ")"] "]" and an
   optional "<origin.count>" (len bytes at str, starting at '['). Field
   names are atoms or quoted strings. Returns 0 or -1 (static *error_r). */
int imap_section_parse(struct pool *pool, const char *str, size_t len,
                       struct imap_section *sec, const char **error_r);

/* Appends the section as a FETCH reply names it: "[1.HEADER.FIELDS (A B)]"
   plus "<origin>" when partial. The field names are echoed as given. */
void imap_section_append_name(struct buf *out, const struct imap_section *sec);

/* What a section refers to in the stored message. */
enum imap_section_kind {
        IMAP_SECTION_RANGE,     /* the bytes [offset, offset + size) */
        IMAP_SECTION_FILTER,    /* HEADER.FIELDS[.NOT] over the header bytes
                                   [offset, offset + size) */
        IMAP_SECTION_EMPTY,     /* nonexistent part or not applicable: "" */
};

struct imap_section_range {
        enum imap_section_kind kind;
        uint64_t offset, size;
};

/* Resolves sec against the message's part tree (root from the cached
   structure). Part numbers follow RFC 3501 §6.4.5: HEADER, TEXT and
   HEADER.FIELDS after a part number need a message/rfc822 part and refer to
   the encapsulated message; MIME is the part's own header; a bare part
   number is the part's body. A nonexistent part gives IMAP_SECTION_EMPTY.
   The partial window is not applied here (see imap_section_clip()). */
void imap_section_resolve(const struct mime_part *root, const struct imap_section *sec,
                          struct imap_section_range *range_r);

/* Applies sec's <origin.count> to a result of total bytes: *skip_r bytes are
   skipped and *len_r sent (origin past the end: 0 bytes, an empty string). */
void imap_section_clip(const struct imap_section *sec, uint64_t total,
                       uint64_t *skip_r, uint64_t *len_r);

/* ------------------------------------------------------------------------
 * HEADER.FIELDS[.NOT] filter
 *
 * Fed the header bytes in chunks of any size, it passes on whole fields
 * (name, value and continuation lines, as stored) whose name matches one of
 * the names (ASCII case-insensitive; whitespace before the colon ignored), or
 * with exclude those that do not, and then the blank line ending the header.
 * Lines that are not fields (no colon, a name with spaces or controls, a name
 * longer than IMAP_SECTION_MAX_FIELD) are dropped, with their continuation
 * lines. Memory is constant whatever the header size. Any chunking gives the
 * same output.
 * ------------------------------------------------------------------------ */

/* Receives kept bytes; len > 0. */
typedef void imap_hdrfilter_emit_fn(void *context, const void *data, size_t len);

struct imap_hdrfilter;

/* The filter and its state live in pool; names must outlive it. */
struct imap_hdrfilter *imap_hdrfilter_create(struct pool *pool, const char *const *names,
                                             unsigned count, bool exclude,
                                             imap_hdrfilter_emit_fn *emit, void *context);
void imap_hdrfilter_feed(struct imap_hdrfilter *filter, const void *data, size_t len);
/* Starts over on a new header (same names and sink). */
void imap_hdrfilter_reset(struct imap_hdrfilter *filter);

/* ------------------------------------------------------------------------
 * FETCH attribute lists (RFC 3501 §6.4.5, RFC 3516 BINARY)
 * ------------------------------------------------------------------------ */

struct imap_arg;

enum imap_fetch_kind {
        IMAP_FETCH_UID,
        IMAP_FETCH_FLAGS,
        IMAP_FETCH_INTERNALDATE,
        IMAP_FETCH_RFC822_SIZE,
        IMAP_FETCH_ENVELOPE,
        IMAP_FETCH_BODY,                /* BODY without a section */
        IMAP_FETCH_BODYSTRUCTURE,
        IMAP_FETCH_SECTION,             /* BODY[...], BODY.PEEK[...], RFC822[.HEADER|.TEXT] */
        IMAP_FETCH_BINARY,              /* BINARY[...], BINARY.PEEK[...] */
        IMAP_FETCH_BINARY_SIZE,         /* BINARY.SIZE[...] */
};

struct imap_fetch_item {
        enum imap_fetch_kind kind;
        /* SECTION / BINARY*: the reply label ("BODY", "RFC822", "RFC822.HEADER",
           "RFC822.TEXT", "BINARY", "BINARY.SIZE"); with_section says whether
           the section name follows it in the reply. */
        const char *label;
        bool with_section;
        struct imap_section section;
        bool peek;                      /* does not set \Seen */
};

/* Most items one FETCH may ask for (macros count as their expansion). */
#define IMAP_FETCH_MAX_ITEMS 128u

struct imap_fetch_request {
        struct imap_fetch_item *items;  /* in request order, UID first when added */
        unsigned count;
        bool sets_seen;                 /* some item sets \Seen (non-PEEK body) */
        bool needs_tree;                /* some item needs the cached structure */
};

/* Parses the fetch-att argument of FETCH (an atom: a macro ALL / FAST / FULL
   or one item; or a list of items) into req, in pool. uid_fetch adds UID
   when it is not asked for (RFC 3501 §6.4.8). Returns 0, or -1 with a
   static *error_r for unknown items, bad sections and over-long lists. */
int imap_fetch_parse_items(struct pool *pool, const struct imap_arg *arg, bool uid_fetch,
                           struct imap_fetch_request *req, const char **error_r);

#endif

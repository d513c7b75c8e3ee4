/* mime.h - MIME parser: message bytes in, the part tree IMAP needs out.
 *
 * Owns: an incremental, bounded parser that turns RFC 5322/2045/2046 message
 * bytes into a tree of struct mime_part (offsets, content fields, envelope),
 * a compact versioned binary form of that tree (cached by the store at
 * append), and the decoding helpers IMAP FETCH/SEARCH need (RFC 2047 words,
 * base64, quoted-printable, charsets, header lookup). Refuses: any protocol
 * formatting (BODYSTRUCTURE/ENVELOPE syntax is imapd's job) and any I/O.
 */
#ifndef COVE_MIME_H
#define COVE_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct pool;

/* ------------------------------------------------------------------------
 * The part tree
 *
 * A message is a root struct mime_part. Offsets are byte offsets into the
 * whole message as fed to the parser, exactly as stored (no CRLF
 * normalisation). For every part:
 *
 *   [header_offset, header_offset + header_size)  the header, including the
 *        blank line that ends it (BODY[n.MIME], or BODY[HEADER] for a
 *        message root). A header with no blank line ends where the part ends.
 *   [body_offset, body_offset + body_size)         the body (BODY[n.TEXT] or
 *        BODY[n]). body_offset == header_offset + header_size always.
 *
 * Inside a multipart, the line break before a boundary delimiter belongs to
 * the delimiter (RFC 2046 §5.1.1), so a child's body stops before it. A
 * multipart's own body covers preamble, children and epilogue.
 *
 * body_lines is the number of lines in the body: the number of LF bytes in
 * it, plus one when the body is not empty and does not end with LF. It is
 * computed for every part; IMAP reports it for text parts and message/rfc822.
 *
 * Children:
 *   - multipart/<any>: one child per body part, in order.
 *   - message/rfc822 (and message/global) with an identity encoding (7bit,
 *     8bit, binary): exactly one child, the encapsulated message's root
 *     part, whose header is the encapsulated header and whose `envelope` is
 *     set. IMAP takes the envelope and BODYSTRUCTURE from that child.
 *   - anything else: none.
 * A multipart or message part can have zero children when the structure was
 * broken or a limit was hit (see flags); imapd must then describe it as a
 * basic part (message/rfc822) or emit an empty text/plain child (multipart,
 * since IMAP syntax needs at least one).
 *
 * `envelope` is non-NULL exactly on message roots: the root of the tree and
 * the child of each message/rfc822 part.
 *
 * Caveats:
 *   - When a blank line ending a part's header is immediately followed by a
 *     delimiter, that line break stays in the part's header (body size 0)
 *     and parts closed by the delimiter end after it, so children always
 *     nest inside their parent's body.
 *   - A header with no blank line before the delimiter ends before the
 *     delimiter's line break (MIME_PART_FLAG_NO_HEADER_END).
 *   - Offsets and line counts describe the stored bytes; a bare-LF message
 *     is not converted to CRLF, so sizes are those of the bytes as stored.
 *
 * Strings are NUL-terminated and never contain NUL. NULL means "absent"
 * (IMAP NIL). Tokens (type, subtype, encoding, disposition type, parameter
 * names) are lower-cased; other values are kept as written, unfolded (CRLF
 * before whitespace removed) and trimmed of surrounding whitespace.
 * ------------------------------------------------------------------------ */

/* A Content-Type or Content-Disposition parameter. RFC 2231 continuations
   (name*0, name*1*, ...) are joined and percent-decoded; with a known charset
   the value is converted to UTF-8, otherwise the decoded bytes are kept.
   An RFC 2231 form (name*= or name*0...) wins over a plain name=; other
   duplicates keep the first. Quoted-string quoting is removed. At most 256
   raw parameters per field and sections 0..255 are read. */
struct mime_param {
        const char *name;       /* lower-case, without the '*' / '*N' suffix */
        const char *value;      /* never NULL */
        const char *charset;    /* RFC 2231 charset, NULL if not extended */
        const char *language;   /* RFC 2231 language, NULL if none/not extended */
};

enum mime_address_kind {
        MIME_ADDRESS_MAILBOX = 0,       /* an ordinary address */
        MIME_ADDRESS_GROUP_START,       /* mailbox = group display name, host NULL */
        MIME_ADDRESS_GROUP_END,         /* mailbox and host NULL */
};

/* One IMAP ENVELOPE address (RFC 3501 §7.4.2): name is the display phrase
   (quoted-strings unquoted, words joined by single spaces, RFC 2047 encoded
   words kept as they are; a comment is used when there is no phrase), adl
   the obsolete source route ("@a,@b" without the final ':'), mailbox the
   local part (quoted local parts keep their quotes), host the domain. A
   MAILBOX written without '@' has host NULL; since NIL host means a group
   marker in IMAP, imapd should substitute a placeholder host for it. Group
   markers carry their kind, so nobody has to guess from NULLs. "<>" gives a
   MAILBOX with mailbox and host NULL only when it has a display name. */
struct mime_address {
        enum mime_address_kind kind;
        const char *name;
        const char *adl;
        const char *mailbox;
        const char *host;
};

struct mime_address_list {
        const struct mime_address *addrs;       /* count entries */
        unsigned count;
};

/* ENVELOPE fields, in IMAP ENVELOPE order. */
enum mime_env_field {
        MIME_ENV_DATE = 0,
        MIME_ENV_SUBJECT,
        MIME_ENV_FROM,
        MIME_ENV_SENDER,
        MIME_ENV_REPLY_TO,
        MIME_ENV_TO,
        MIME_ENV_CC,
        MIME_ENV_BCC,
        MIME_ENV_IN_REPLY_TO,
        MIME_ENV_MESSAGE_ID,
        MIME_ENV_COUNT
};

/* True for FROM, SENDER, REPLY_TO, TO, CC and BCC. */
bool mime_env_field_is_address(enum mime_env_field field);

struct mime_envelope {
        /* Raw value of the first occurrence of each field: unfolded, trimmed,
           encoded words kept. NULL when the field is absent. */
        const char *raw[MIME_ENV_COUNT];
        /* Parsed address lists; set only for address fields (count 0 when
           the field is absent or holds no address). Defaulting Sender and
           Reply-To to From is imapd's job. */
        struct mime_address_list addr[MIME_ENV_COUNT];
};

enum mime_part_flags {
        /* A structure limit (depth, parts) stopped parsing inside this
           part: its body is kept whole, its children may be incomplete. */
        MIME_PART_FLAG_LIMITED = 1 << 0,
        /* multipart: the close delimiter never came (end of input or an
           outer boundary ended it first). */
        MIME_PART_FLAG_UNTERMINATED = 1 << 1,
        /* multipart: no boundary parameter, or the boundary never appeared
           (no children were found). */
        MIME_PART_FLAG_NO_BOUNDARY = 1 << 2,
        /* The header had no blank line before the part ended. */
        MIME_PART_FLAG_NO_HEADER_END = 1 << 3,
        /* The header had lines that are not fields, over-long fields, or
           more fields than allowed; they were skipped. */
        MIME_PART_FLAG_BAD_HEADER = 1 << 4,
};
#define MIME_PART_FLAGS_ALL 0x1fu

/* How a message's last line ends (struct mime_part.last_line). */
enum mime_last_line {
        MIME_LAST_LINE_TERMINATED = 0,  /* ends with LF, or the message is empty */
        MIME_LAST_LINE_CR,              /* ends with a CR not followed by LF */
        MIME_LAST_LINE_OPEN,            /* ends with any other byte */
};

struct mime_part {
        struct mime_part *parent;       /* NULL for the root */
        struct mime_part *next;         /* next sibling */
        struct mime_part *children;     /* first child */
        unsigned child_count;
        unsigned flags;                 /* enum mime_part_flags */

        uint64_t header_offset, header_size;
        uint64_t body_offset, body_size;
        uint64_t body_lines;

        /* Content-Type; defaults: text/plain with charset=us-ascii, or
           message/rfc822 (no parameters) inside multipart/digest
           (RFC 2045 §5.2, RFC 2046 §5.1.5). An unparsable Content-Type
           gives the default too. */
        const char *type, *subtype;
        const struct mime_param *params;
        unsigned param_count;

        const char *id;                 /* Content-ID */
        const char *description;        /* Content-Description (raw) */
        const char *encoding;           /* Content-Transfer-Encoding, default "7bit" */
        const char *md5;                /* Content-MD5 */
        const char *disposition;        /* Content-Disposition type, NULL if absent */
        const struct mime_param *disposition_params;
        unsigned disposition_param_count;
        const char *const *languages;   /* Content-Language tags */
        unsigned language_count;
        const char *location;           /* Content-Location, unfolded, spaces removed */

        const struct mime_envelope *envelope;   /* message roots only */

        /* Line endings of the whole message, on the root only (zero on other
           parts): for front-ends that send the message with CRLF line ends
           (POP3 sizes), so they need not read it again. line_info is false
           when unknown (a version 1 blob). */
        bool line_info;
        uint64_t bare_lf_count;         /* LF bytes not preceded by CR */
        enum mime_last_line last_line;
};

/* Returns the parameter's value (name case-insensitive) or NULL. */
const char *mime_param_get(const struct mime_param *params, unsigned count,
                           const char *name);

/* True when the part is type/subtype (both case-insensitive). */
bool mime_part_is(const struct mime_part *part, const char *type,
                  const char *subtype);

/* Finds the part named by an IMAP section part number ("1.2.3"; "" or NULL
   for the root) following RFC 3501 §6.4.5 numbering: in a message/rfc822
   part, numbers refer to the parts of the encapsulated message's body, and
   "1" of a non-multipart message is its body. Returns false when no such
   part exists. */
bool mime_part_find_section(const struct mime_part *root, const char *section,
                            const struct mime_part **part_r);

/* ------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------ */

/* Bounds on the work and memory one message may cost. Zero fields take the
   defaults. Past a limit the parser keeps the remaining bytes as opaque body
   of the part it is in and sets MIME_PART_FLAG_LIMITED or _BAD_HEADER. */
struct mime_limits {
        unsigned max_depth;     /* nesting of parts; default 32 */
        unsigned max_parts;     /* parts in the tree; default 2000 */
        unsigned max_headers;   /* header fields examined per part; default 2000 */
        size_t max_header_line; /* unfolded field length kept; default 65536,
                                   values above 16 MiB are treated as 16 MiB */
};
#define MIME_DEFAULT_MAX_DEPTH 32u
#define MIME_DEFAULT_MAX_PARTS 2000u
#define MIME_DEFAULT_MAX_HEADERS 2000u
#define MIME_DEFAULT_MAX_HEADER_LINE 65536u

struct mime_parser;

/* Creates a parser whose state and result live in pool. limits may be NULL
   (defaults). Memory use is bounded by the limits, not by message size. */
struct mime_parser *mime_parser_create(struct pool *pool,
                                       const struct mime_limits *limits);

/* Feeds the next len bytes of the message. Any chunking of the same bytes
   gives the same tree. Feeding after finish is a no-op. */
void mime_parser_feed(struct mime_parser *parser, const void *data, size_t len);

/* Ends the input and returns the root part (never NULL: broken MIME gives a
   best-effort tree; an empty message gives an empty text/plain root). The
   tree lives in the parser's pool; calling again returns the same tree. */
const struct mime_part *mime_parser_finish(struct mime_parser *parser);

/* ------------------------------------------------------------------------
 * Cached form
 *
 * Format: byte 0 is the version; version 2 then has the root's line figures
 * (bare_lf_count, last_line); then the parts in pre-order, integers as
 * LEB128 varints and strings as varint (length + 1, 0 = NULL) followed by
 * the bytes. Version 1 is version 2 without the line figures; both are read.
 * Identical trees serialize to identical bytes.
 * ------------------------------------------------------------------------ */
#define MIME_STRUCTURE_VERSION 2
#define MIME_STRUCTURE_VERSION_MIN 1

/* Serializes the tree into pool memory: version 2 when root->line_info,
   else version 1 (so a tree read from a version 1 blob round-trips).
   Returns 0, or -1 if the tree is not one mime_parser_finish() /
   mime_structure_parse() could produce. */
int mime_structure_serialize(struct pool *pool, const struct mime_part *root,
                             const void **blob_r, size_t *len_r);

/* Reads only the root's line figures from the head of a blob, without
   building the tree (cheap enough for every message at a POP3 login).
   Returns false when the blob has none (version 1) or its head is corrupt;
   a true answer does not vouch for the rest of the blob. */
bool mime_structure_line_info(const void *blob, size_t len, uint64_t *bare_lf_count_r,
                              enum mime_last_line *last_line_r);

/* Rebuilds a tree from a blob, allocating in pool. Every length, count,
   offset and string is validated (offsets nest inside their parent, no
   trailing bytes, no NUL in strings); a corrupt or truncated blob returns -1
   with *error_r (static string) saying why. Never recurses on blob data. */
int mime_structure_parse(struct pool *pool, const void *blob, size_t len,
                         const struct mime_part **root_r, const char **error_r);

/* ------------------------------------------------------------------------
 * Header helpers (for FETCH BODY[HEADER.FIELDS] and SEARCH HEADER)
 * ------------------------------------------------------------------------ */

/* One field of a header block, pointing into the block. */
struct mime_header_field {
        const char *name;       /* field name, not terminated */
        size_t name_len;
        const char *value;      /* raw (folded) value after the colon */
        size_t value_len;       /* up to, not including, the final line break */
        size_t offset;          /* of the field's first byte in the block */
        size_t size;            /* whole field with continuations and line break */
};

/* Iterates the fields of a header block (the bytes of BODY[HEADER], with or
   without its blank line). Start with *pos = 0. Lines that are not fields
   (no colon, or a name with spaces/controls) are skipped. Returns false at
   the blank line or the end of the block. */
bool mime_header_next(const void *header, size_t len, size_t *pos,
                      struct mime_header_field *field_r);

/* Collects the values of every field called name (case-insensitive),
   unfolded and trimmed, undecoded, in order. *values_r is a NULL-terminated
   array in pool (empty, not NULL, when there is none). Returns the count. */
unsigned mime_header_find(struct pool *pool, const void *header, size_t len,
                          const char *name, const char *const **values_r);

/* Removes CRLF/LF line breaks that precede whitespace (RFC 5322 §2.2.3) and
   trims surrounding whitespace. The result is NUL-terminated in pool; any
   NUL bytes in the input are dropped. */
char *mime_header_unfold(struct pool *pool, const void *value, size_t len);

/* ------------------------------------------------------------------------
 * Decoding helpers
 * ------------------------------------------------------------------------ */

/* Decodes RFC 2047 encoded words (B and Q, any charset iconv knows, RFC 2231
   "charset*lang" accepted) to UTF-8, removing whitespace between adjacent
   encoded words. Words with an unknown charset or bad encoding stay raw.
   Input should be an unfolded value; result NUL-terminated in pool. */
char *mime_words_decode(struct pool *pool, const char *value, size_t len);

/* Converts len bytes in charset to UTF-8 (iconv). us-ascii input is
   checked as UTF-8. Returns false for an unknown charset; invalid input
   sequences become U+FFFD. *out_r is NUL-terminated in pool. */
bool mime_charset_to_utf8(struct pool *pool, const char *charset,
                          const void *data, size_t len,
                          char **out_r, size_t *out_len_r);

enum mime_transfer_encoding {
        MIME_TE_IDENTITY = 0,   /* 7bit, 8bit, binary, and unknown tokens */
        MIME_TE_BASE64,
        MIME_TE_QP,
};

/* Maps a Content-Transfer-Encoding token (case-insensitive) to a decoder
   kind; NULL and unknown encodings map to MIME_TE_IDENTITY. */
enum mime_transfer_encoding mime_transfer_encoding_parse(const char *token);

/* Streaming body decoder: feed chunks of any size, get the decoded bytes
   appended to out. It is lenient, as readers must be: base64 skips
   characters outside the alphabet and stops at '='; quoted-printable keeps
   invalid escapes as they are and removes trailing whitespace on lines.
   Lives in pool, holds no other resources. */
struct mime_decoder;
struct mime_decoder *mime_decoder_create(struct pool *pool,
                                         enum mime_transfer_encoding te);
/* Returns false when out's limit (buf->max) was reached; output is then
   incomplete. */
bool mime_decoder_feed(struct mime_decoder *dec, const void *data, size_t len,
                       struct buf *out);
/* Flushes held-back bytes (a partial QP line). Returns false as above. */
bool mime_decoder_finish(struct mime_decoder *dec, struct buf *out);
/* True when the input held invalid sequences (skipped or kept raw). */
bool mime_decoder_had_errors(const struct mime_decoder *dec);

#endif

/* mime-private.h - declarations shared by the mime-*.c files and their tests.
 *
 * Owns: the small lexer for RFC 5322/2045 structured values, content-field
 * parsers and the address-list parser used by the part-tree builder. Not a
 * public API: only core/mime*.c and tests/unit/mime include it.
 */
#ifndef COVE_MIME_PRIVATE_H
#define COVE_MIME_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "mime.h"

struct pool;

/* Growable byte string in pool memory, bounded by max (0: unbounded). */
struct mime_str {
        char *data;             /* NUL-terminated when non-NULL */
        size_t len, cap, max;
        bool overflow;          /* an append was refused because of max */
};
/* Appends len bytes, dropping NUL bytes. Returns false (and sets overflow,
   appending nothing) when max would be exceeded. */
bool mime_str_append(struct pool *pool, struct mime_str *str,
                     const void *data, size_t len);
/* Returns the contents (never NULL; "" when empty). */
const char *mime_str_get(const struct mime_str *str);

/* RFC 5322 lexer helpers over NUL-terminated text. */
bool mime_is_wsp(char c);
/* Skips whitespace and (nested) comments; nesting is counted, not recursed. */
const char *mime_skip_cfws(const char *p);
/* Reads an RFC 2045 token (lower-cased when lower); NULL if none. */
char *mime_read_token(struct pool *pool, const char **pp, bool lower);
/* Reads a quoted-string starting at '"' (unquoted, escapes removed; an
   unterminated string runs to the end). */
char *mime_read_quoted(struct pool *pool, const char **pp);

/* Parses "type/subtype; params" into part (type, subtype, params). Returns
   false when the value is not a valid type (the part is left unchanged). */
bool mime_content_type_parse(struct pool *pool, const char *value,
                             struct mime_part *part);
/* Parses a Content-Disposition value into part. */
void mime_content_disposition_parse(struct pool *pool, const char *value,
                                    struct mime_part *part);
/* Parses a comma list of language tags into part. */
void mime_content_language_parse(struct pool *pool, const char *value,
                                 struct mime_part *part);
/* Parses ";"-separated parameters starting at p (RFC 2045 §5.1, RFC 2231). */
void mime_params_parse(struct pool *pool, const char *p,
                       const struct mime_param **params_r, unsigned *count_r);

/* Parses an RFC 5322 address list (lenient; never fails). */
void mime_address_list_parse(struct pool *pool, const char *value,
                             struct mime_address_list *list_r);

/* Value (0..63) of a base64 alphabet character, or -1. */
int mime_base64_value(unsigned char c);

/* Percent/hex helper: value of a hex digit or -1. */
int mime_hex_value(char c);

#endif

/* imap-string.h - IMAP string syntax for output (RFC 3501 §4.3, §9):
 * NIL, atom, quoted string or literal.
 *
 * Owns: the one choice between those forms and their escaping, for every
 * reply writer (reply.c for commands, fetch-*.c for FETCH). Refuses:
 * sessions and sockets (callers append to a struct buf or write through
 * reply.c) and parsing (parser.c).
 */
#ifndef COVE_IMAP_STRING_H
#define COVE_IMAP_STRING_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* Longest value sent as a quoted string; longer ones go as literals. */
#define IMAP_STRING_MAX_QUOTED 1024

/* True when len bytes can go out as a quoted string: at most
   IMAP_STRING_MAX_QUOTED bytes of 7-bit text without CR, LF or NUL (RFC 3501
   §9 QUOTED-CHAR). Otherwise a writer uses a literal "{len}\r\n<bytes>". */
bool imap_string_quotable(const void *data, size_t len);

/* True when str can go out as a bare atom: not empty, not "NIL" (any case),
   every byte an ATOM-CHAR and not ']' (so it can sit inside a section's
   brackets). */
bool imap_string_is_atom(const char *str);

/* Appends len bytes as an IMAP string: quoted ('"' and '\' escaped) when
   imap_string_quotable(), else a literal. The buffer grows as needed. */
void imap_string_append(struct buf *out, const void *data, size_t len);
/* The same with ASCII letters upper-cased (media types, encodings and
   parameter names in BODYSTRUCTURE; RFC 3501 §7.4.2 examples). */
void imap_string_append_upper(struct buf *out, const void *data, size_t len);
/* nstring: "NIL" when str is NULL, else imap_string_append(str, len). */
void imap_nstring_append(struct buf *out, const char *str, size_t len);
/* astring: a bare atom when imap_string_is_atom(str), else a string. */
void imap_astring_append(struct buf *out, const char *str);

#endif

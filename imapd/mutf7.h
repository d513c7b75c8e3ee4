/* mutf7.h - RFC 3501 §5.1.3 modified UTF-7 mailbox names <-> UTF-8.
 *
 * Owns: the encoding both ways, strictly (no shift sequences for printable
 * ASCII, padding bits zero, paired surrogates). Refuses: hierarchy
 * delimiters and INBOX rules (commands.c) and name validity (the store).
 */
#ifndef COVE_IMAP_MUTF7_H
#define COVE_IMAP_MUTF7_H

#include <stdbool.h>

struct pool;

/* UTF-8 -> modified UTF-7, in pool. False for invalid UTF-8. */
bool imap_mutf7_encode(struct pool *pool, const char *utf8, const char **mutf7_r);
/* Modified UTF-7 -> UTF-8, in pool. False for a malformed name. */
bool imap_mutf7_decode(struct pool *pool, const char *mutf7, const char **utf8_r);

#endif

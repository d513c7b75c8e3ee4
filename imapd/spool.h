/* spool.h - where an APPEND message literal goes while it arrives.
 *
 * Owns: keeping the first bytes in memory and moving to an unlinked temp file
 * beyond a small bound, so a session's memory stays small whatever the
 * message size, then handing the whole message out as one mapping. Refuses:
 * knowing IMAP (the parser and APPEND use it) and limits (the parser's).
 */
#ifndef COVE_IMAP_SPOOL_H
#define COVE_IMAP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;
struct imap_spool;

/* Bytes kept in memory before switching to a temp file. */
#define IMAP_SPOOL_MEMORY (64 * 1024)

/* A spool in pool (cleanup: imap_spool_destroy). tmp_dir holds the temp
   file (O_TMPFILE, or mkstemp + unlink). */
struct imap_spool *imap_spool_create(struct pool *pool, const char *tmp_dir);

/* Appends bytes. -1 with *error_r (in pool) when the temp file fails. */
int imap_spool_write(struct imap_spool *spool, const void *data, size_t len,
                     const char **error_r);

uint64_t imap_spool_size(const struct imap_spool *spool);

/* The whole content, memory or mmap()ed file, valid until destroy. */
int imap_spool_map(struct imap_spool *spool, const void **data_r, size_t *len_r,
                   const char **error_r);

/* Unmaps, closes and forgets the file; *spoolp is NULL afterwards. */
void imap_spool_destroy(struct imap_spool **spoolp);

#endif

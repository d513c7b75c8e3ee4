/* spool.h - where an incoming message waits until it is delivered: in memory
 * up to a threshold, beyond it in an unlinked temporary file that the store
 * then reads through mmap().
 *
 * Owns the spool's memory, descriptor and mapping, and releasing all three on
 * every path. Knows nothing of LMTP, dot-stuffing or the store's rules.
 */
#ifndef LMTP_SPOOL_H
#define LMTP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cove/storage.h"

/* Bytes gathered in memory before each write() once the spool is a file. */
#define LMTP_SPOOL_STAGE (64 * 1024)

struct lmtp_spool {
        struct buf mem;          /* the message (memory mode) or unwritten bytes */
        size_t mem_max;          /* a message growing past this moves to a file */
        const char *dir;         /* where files are made; borrowed */
        int fd;                  /* the file; -1 in memory mode */
        uint64_t size;           /* bytes appended since the last reset */
        void *map;               /* mapping handed out by finish; NULL if none */
        size_t map_size;
        int error;               /* errno of the failure, 0 if none */
};

/* A memory-only spool when dir is NULL (mem_max then only bounds memory:
   appends past it fail). dir is borrowed and must outlive the spool. */
void lmtp_spool_init(struct lmtp_spool *spool, const char *dir, size_t mem_max);

/* Appends len bytes. Past mem_max the spool moves to a file made in dir with
   O_TMPFILE (never visible in the directory; the kernel frees it when the
   descriptor closes, even if the process dies). Returns 0, or -1 with
   *error_r (static) and spool->error set; the spool then refuses every
   further append until reset. */
int lmtp_spool_append(struct lmtp_spool *spool, const void *bytes, size_t len,
                      const char **error_r);

/* The whole message as one part: the memory buffer, or a read-only private
   mapping of the file. Valid until lmtp_spool_reset(); the spool must not be
   appended to meanwhile. Returns 0, or -1 with *error_r (static). */
int lmtp_spool_finish(struct lmtp_spool *spool, struct cove_store_part *part_r,
                      const char **error_r);

/* True while the message lives in a file. */
bool lmtp_spool_in_file(const struct lmtp_spool *spool);

/* Forgets the message: unmaps, closes the file, frees the memory. The spool
   is empty and reusable afterwards; safe to call any number of times. */
void lmtp_spool_reset(struct lmtp_spool *spool);

/* Checks that dir can hold spool files (exists, is a directory, O_TMPFILE
   works), creating it with mode 0700 when missing. For start-up. Returns 0,
   or -1 with *error_r (static) and errno set. */
int lmtp_spool_dir_check(const char *dir, const char **error_r);

#endif

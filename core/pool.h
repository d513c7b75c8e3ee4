/* pool.h - arena allocator: every allocation belongs to a pool with a known end.
 *
 * A pool hands out zeroed memory from large blocks and frees everything at once
 * with pool_clear() or pool_destroy(). It never returns NULL: on out-of-memory
 * the process logs and exits, so callers never check. Not thread-safe (Cove runs
 * one loop per process).
 */
#ifndef COVE_POOL_H
#define COVE_POOL_H

#include <stdarg.h>
#include <stddef.h>

struct pool;

/* Creates a pool whose first block holds about initial_size bytes. The name
   appears in out-of-memory messages. Destroy with pool_destroy(). */
struct pool *pool_create(const char *name, size_t initial_size);

/* Frees the pool and everything allocated from it; sets *poolp to NULL. */
void pool_destroy(struct pool **poolp);

/* Frees every allocation but keeps the first block for reuse. All pointers
   previously returned by this pool become invalid. */
void pool_clear(struct pool *pool);

/* Returns size zeroed bytes aligned for any type, owned by the pool. */
void *pool_alloc(struct pool *pool, size_t size);

/* Grows an allocation made from this pool to new_size (contents kept, new tail
   zeroed). old_size must be the size it was allocated with. */
void *pool_realloc(struct pool *pool, void *ptr, size_t old_size, size_t new_size);

/* Returns a NUL-terminated copy owned by the pool. NULL in gives NULL out. */
char *pool_strdup(struct pool *pool, const char *str);

/* Returns a NUL-terminated copy of the first len bytes of data. */
char *pool_strndup(struct pool *pool, const void *data, size_t len);

/* Returns a copy of len bytes of data (not terminated). */
void *pool_memdup(struct pool *pool, const void *data, size_t len);

/* printf into pool memory. */
char *pool_printf(struct pool *pool, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
char *pool_vprintf(struct pool *pool, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

/* Bytes handed out since creation or the last clear (for accounting/tests). */
size_t pool_used(const struct pool *pool);

/* malloc-family wrappers for the few places that cannot use a pool (buffers
   that outlive any arena, library callbacks). They exit on out-of-memory. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *str);

#endif

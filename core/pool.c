/* pool.c - arena allocator (see pool.h).
 *
 * Owns: block chaining, alignment, the out-of-memory exit. Does not: track
 * individual frees (an arena frees all at once) or lock (single-threaded).
 */
#include "pool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define POOL_ALIGN 16u
#define POOL_MIN_BLOCK 1024u

struct pool_block {
        struct pool_block *next;
        size_t size;  /* usable bytes in data[] */
        size_t used;
        _Alignas(16) unsigned char data[];
};

struct pool {
        const char *name;
        struct pool_block *blocks;  /* newest first; the last one is the first */
        size_t first_size;
        size_t used;
};

static void oom(const char *what, size_t size)
{
        log_fatal("out of memory allocating %zu bytes (%s)", size, what);
}

void *xmalloc(size_t size)
{
        void *p = malloc(size == 0 ? 1 : size);
        if (p == NULL)
                oom("malloc", size);
        return p;
}

void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
        if (p == NULL)
                oom("calloc", n * size);
        return p;
}

void *xrealloc(void *ptr, size_t size)
{
        void *p = realloc(ptr, size == 0 ? 1 : size);
        if (p == NULL)
                oom("realloc", size);
        return p;
}

char *xstrdup(const char *str)
{
        size_t len = strlen(str);
        char *p = xmalloc(len + 1);
        memcpy(p, str, len + 1);
        return p;
}

static struct pool_block *block_new(struct pool *pool, size_t size)
{
        if (size > SIZE_MAX - sizeof(struct pool_block))
                oom(pool->name, size);
        struct pool_block *b = malloc(sizeof(*b) + size);
        if (b == NULL)
                oom(pool->name, size);
        b->next = NULL;
        b->size = size;
        b->used = 0;
        return b;
}

struct pool *pool_create(const char *name, size_t initial_size)
{
        struct pool *pool = xcalloc(1, sizeof(*pool));
        pool->name = name;
        pool->first_size = initial_size < POOL_MIN_BLOCK ? POOL_MIN_BLOCK : initial_size;
        pool->blocks = block_new(pool, pool->first_size);
        return pool;
}

void pool_destroy(struct pool **poolp)
{
        struct pool *pool = *poolp;
        if (pool == NULL)
                return;
        struct pool_block *b = pool->blocks;
        while (b != NULL) {
                struct pool_block *next = b->next;
                free(b);
                b = next;
        }
        free(pool);
        *poolp = NULL;
}

void pool_clear(struct pool *pool)
{
        struct pool_block *b = pool->blocks;
        /* Keep only the oldest block (the one sized first_size). */
        while (b->next != NULL) {
                struct pool_block *next = b->next;
                free(b);
                b = next;
        }
        b->used = 0;
        pool->blocks = b;
        pool->used = 0;
}

void *pool_alloc(struct pool *pool, size_t size)
{
        if (size > SIZE_MAX - POOL_ALIGN)
                oom(pool->name, size);
        size_t need = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
        if (need == 0)
                need = POOL_ALIGN;
        struct pool_block *b = pool->blocks;
        if (b->size - b->used < need) {
                /* Big requests get their own block so they don't waste a
                   fresh standard block's remainder. */
                size_t bsize = b->size * 2;
                if (bsize < need)
                        bsize = need;
                if (bsize > 1024 * 1024 && need <= 1024 * 1024)
                        bsize = 1024 * 1024;
                struct pool_block *nb = block_new(pool, bsize);
                /* Insert after the head when the head still has room, so small
                   allocations keep using it. Keep the first-created block last. */
                nb->next = pool->blocks;
                pool->blocks = nb;
                b = nb;
        }
        void *p = b->data + b->used;
        b->used += need;
        pool->used += need;
        memset(p, 0, size);
        return p;
}

void *pool_realloc(struct pool *pool, void *ptr, size_t old_size, size_t new_size)
{
        if (ptr == NULL)
                return pool_alloc(pool, new_size);
        if (new_size <= old_size)
                return ptr;
        void *p = pool_alloc(pool, new_size);
        memcpy(p, ptr, old_size);
        return p;
}

char *pool_strndup(struct pool *pool, const void *data, size_t len)
{
        char *p = pool_alloc(pool, len + 1);
        if (len > 0)
                memcpy(p, data, len);
        return p;
}

char *pool_strdup(struct pool *pool, const char *str)
{
        if (str == NULL)
                return NULL;
        return pool_strndup(pool, str, strlen(str));
}

void *pool_memdup(struct pool *pool, const void *data, size_t len)
{
        void *p = pool_alloc(pool, len);
        if (len > 0)
                memcpy(p, data, len);
        return p;
}

char *pool_vprintf(struct pool *pool, const char *fmt, va_list ap)
{
        va_list ap2;
        va_copy(ap2, ap);
        int n = vsnprintf(NULL, 0, fmt, ap2);
        va_end(ap2);
        if (n < 0)
                return pool_strdup(pool, "");
        char *p = pool_alloc(pool, (size_t)n + 1);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        return p;
}

char *pool_printf(struct pool *pool, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *p = pool_vprintf(pool, fmt, ap);
        va_end(ap);
        return p;
}

size_t pool_used(const struct pool *pool)
{
        return pool->used;
}

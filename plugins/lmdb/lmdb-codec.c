/* lmdb-codec.c - memory and byte-level helpers of the LMDB engine.
 *
 * Owns: the arena that holds borrowed records, the abort-on-OOM allocators,
 * big-endian key helpers and the bounds-checked record writer/reader. Knows
 * nothing about what the records mean.
 */
#include "lmdb-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MIN_BLOCK 4096u
#define ARENA_ALIGN 16u

struct lmdb_arena_block {
        struct lmdb_arena_block *next;
        size_t size, used;
        _Alignas(16) uint8_t data[];
};

static void lmdb_oom(size_t size)
{
        /* Not client-influenced: the process is out of memory. */
        fprintf(stderr, "cove_store_lmdb: out of memory allocating %zu bytes\n", size);
        abort();
}

void *lmdb_xmalloc(size_t size)
{
        void *p = malloc(size == 0 ? 1 : size);
        if (p == NULL)
                lmdb_oom(size);
        return p;
}

void *lmdb_xrealloc(void *ptr, size_t size)
{
        void *p = realloc(ptr, size == 0 ? 1 : size);
        if (p == NULL)
                lmdb_oom(size);
        return p;
}

void *lmdb_arena_alloc(struct lmdb_arena *arena, size_t size)
{
        size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        struct lmdb_arena_block *b = arena->blocks;

        if (need < size)
                lmdb_oom(size);
        if (b == NULL || b->size - b->used < need) {
                size_t bsize = need > ARENA_MIN_BLOCK ? need : ARENA_MIN_BLOCK;
                if (b != NULL && bsize < b->size * 2 && b->size * 2 >= need)
                        bsize = b->size * 2;
                b = lmdb_xmalloc(sizeof(*b) + bsize);
                b->size = bsize;
                b->used = 0;
                b->next = arena->blocks;
                arena->blocks = b;
        }
        void *p = b->data + b->used;
        b->used += need;
        memset(p, 0, size);
        return p;
}

char *lmdb_arena_strndup(struct lmdb_arena *arena, const void *data, size_t len)
{
        char *s = lmdb_arena_alloc(arena, len + 1);
        if (len > 0)
                memcpy(s, data, len);
        s[len] = '\0';
        return s;
}

void lmdb_arena_reset(struct lmdb_arena *arena)
{
        struct lmdb_arena_block *b = arena->blocks;

        if (b == NULL)
                return;
        /* Keep the newest (largest) block; free the others. */
        struct lmdb_arena_block *rest = b->next;
        while (rest != NULL) {
                struct lmdb_arena_block *next = rest->next;
                free(rest);
                rest = next;
        }
        b->next = NULL;
        b->used = 0;
}

void lmdb_arena_free(struct lmdb_arena *arena)
{
        lmdb_arena_reset(arena);
        free(arena->blocks);
        arena->blocks = NULL;
}

/* ---- big-endian ---- */

void lmdb_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

void lmdb_be64(uint8_t *p, uint64_t v)
{
        lmdb_be32(p, (uint32_t)(v >> 32));
        lmdb_be32(p + 4, (uint32_t)v);
}

uint32_t lmdb_get_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t lmdb_get_be64(const uint8_t *p)
{
        return (uint64_t)lmdb_get_be32(p) << 32 | lmdb_get_be32(p + 4);
}

/* ---- writer ---- */

void lmdb_wbuf_bytes(struct lmdb_wbuf *buf, const void *data, size_t len)
{
        if (len == 0)
                return;
        if (buf->cap - buf->len < len) {
                size_t cap = buf->cap == 0 ? 256 : buf->cap;
                while (cap - buf->len < len)
                        cap *= 2;
                buf->data = lmdb_xrealloc(buf->data, cap);
                buf->cap = cap;
        }
        memcpy(buf->data + buf->len, data, len);
        buf->len += len;
}

void lmdb_wbuf_u8(struct lmdb_wbuf *buf, uint8_t v)
{
        lmdb_wbuf_bytes(buf, &v, 1);
}

void lmdb_wbuf_u16(struct lmdb_wbuf *buf, uint16_t v)
{
        uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
        lmdb_wbuf_bytes(buf, b, 2);
}

void lmdb_wbuf_u32(struct lmdb_wbuf *buf, uint32_t v)
{
        uint8_t b[4];
        lmdb_be32(b, v);
        lmdb_wbuf_bytes(buf, b, 4);
}

void lmdb_wbuf_u64(struct lmdb_wbuf *buf, uint64_t v)
{
        uint8_t b[8];
        lmdb_be64(b, v);
        lmdb_wbuf_bytes(buf, b, 8);
}

void lmdb_wbuf_lstr(struct lmdb_wbuf *buf, const void *data, size_t len)
{
        lmdb_wbuf_u32(buf, (uint32_t)len);
        lmdb_wbuf_bytes(buf, data, len);
}

void lmdb_wbuf_free(struct lmdb_wbuf *buf)
{
        free(buf->data);
        buf->data = NULL;
        buf->len = buf->cap = 0;
}

/* ---- reader ---- */

const uint8_t *lmdb_rbuf_bytes(struct lmdb_rbuf *buf, size_t len)
{
        static const uint8_t zeros[8];

        if (buf->bad || buf->left < len) {
                buf->bad = true;
                return len <= sizeof(zeros) ? zeros : NULL;
        }
        const uint8_t *p = buf->p;
        buf->p += len;
        buf->left -= len;
        return p;
}

uint8_t lmdb_rbuf_u8(struct lmdb_rbuf *buf)
{
        return lmdb_rbuf_bytes(buf, 1)[0];
}

uint16_t lmdb_rbuf_u16(struct lmdb_rbuf *buf)
{
        const uint8_t *p = lmdb_rbuf_bytes(buf, 2);
        return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t lmdb_rbuf_u32(struct lmdb_rbuf *buf)
{
        return lmdb_get_be32(lmdb_rbuf_bytes(buf, 4));
}

uint64_t lmdb_rbuf_u64(struct lmdb_rbuf *buf)
{
        return lmdb_get_be64(lmdb_rbuf_bytes(buf, 8));
}

const char *lmdb_rbuf_lstr(struct lmdb_rbuf *buf, struct lmdb_arena *arena, size_t *len_r)
{
        uint32_t len = lmdb_rbuf_u32(buf);
        const uint8_t *p = lmdb_rbuf_bytes(buf, len);

        if (buf->bad || p == NULL) {
                buf->bad = true;
                if (len_r != NULL)
                        *len_r = 0;
                return "";
        }
        if (len_r != NULL)
                *len_r = len;
        return lmdb_arena_strndup(arena, p, len);
}

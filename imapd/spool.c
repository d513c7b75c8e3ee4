/* spool.c - APPEND literal spool: memory, then an unlinked temp file (spool.h).
 *
 * Owns: the temp file's life (created unlinked, closed and unmapped on
 * destroy). Does not: bound the size (the parser refuses big literals first).
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "pool.h"

struct imap_spool {
        struct pool *pool;
        const char *tmp_dir;
        struct buf mem;         /* until IMAP_SPOOL_MEMORY */
        int fd;                 /* -1 while in memory */
        uint64_t size;
        void *map;
        size_t map_len;
};

struct imap_spool *imap_spool_create(struct pool *pool, const char *tmp_dir)
{
        struct imap_spool *spool = pool_alloc(pool, sizeof(*spool));
        spool->pool = pool;
        spool->tmp_dir = pool_strdup(pool, tmp_dir);
        spool->fd = -1;
        buf_init(&spool->mem, 0);
        return spool;
}

static int spool_open_file(struct imap_spool *spool, const char **error_r)
{
        int fd = open(spool->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                char *path = pool_printf(spool->pool, "%s/cove-imap-spool.XXXXXX",
                                         spool->tmp_dir);
                fd = mkostemp(path, O_CLOEXEC);
                if (fd >= 0)
                        (void)unlink(path);
        }
        if (fd < 0) {
                *error_r = pool_printf(spool->pool, "spool file in %s: %s", spool->tmp_dir,
                                       strerror(errno));
                return -1;
        }
        spool->fd = fd;
        return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int imap_spool_write(struct imap_spool *spool, const void *data, size_t len,
                     const char **error_r)
{
        if (spool->fd < 0 && spool->mem.len + len <= IMAP_SPOOL_MEMORY) {
                buf_append(&spool->mem, data, len);
                spool->size += len;
                return 0;
        }
        if (spool->fd < 0) {
                if (spool_open_file(spool, error_r) < 0)
                        return -1;
                if (spool->mem.len > 0 && write_all(spool->fd, spool->mem.data,
                                                    spool->mem.len) < 0)
                        goto fail;
                buf_free(&spool->mem);
        }
        if (write_all(spool->fd, data, len) < 0)
                goto fail;
        spool->size += len;
        return 0;
fail:
        *error_r = pool_printf(spool->pool, "spool file write: %s", strerror(errno));
        return -1;
}

uint64_t imap_spool_size(const struct imap_spool *spool)
{
        return spool->size;
}

int imap_spool_map(struct imap_spool *spool, const void **data_r, size_t *len_r,
                   const char **error_r)
{
        if (spool->fd < 0) {
                *data_r = spool->mem.data == NULL ? "" : spool->mem.data;
                *len_r = spool->mem.len;
                return 0;
        }
        if (spool->map == NULL) {
                void *map = mmap(NULL, spool->size, PROT_READ, MAP_PRIVATE, spool->fd, 0);
                if (map == MAP_FAILED) {
                        *error_r = pool_printf(spool->pool, "spool mmap: %s", strerror(errno));
                        return -1;
                }
                spool->map = map;
                spool->map_len = spool->size;
        }
        *data_r = spool->map;
        *len_r = spool->map_len;
        return 0;
}

void imap_spool_destroy(struct imap_spool **spoolp)
{
        struct imap_spool *spool = *spoolp;
        if (spool == NULL)
                return;
        *spoolp = NULL;
        if (spool->map != NULL)
                (void)munmap(spool->map, spool->map_len);
        if (spool->fd >= 0)
                (void)close(spool->fd);
        buf_free(&spool->mem);
}

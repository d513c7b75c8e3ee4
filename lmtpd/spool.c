/* spool.c - the message spool (spool.h): a memory buffer that turns into an
 * unlinked temporary file, read back through a private read-only mapping.
 *
 * Owns the switch from memory to file, the staged writes and the cleanup.
 * Does not decide the threshold or the directory (the config does).
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

void lmtp_spool_init(struct lmtp_spool *spool, const char *dir, size_t mem_max)
{
        *spool = (struct lmtp_spool){ .mem_max = mem_max, .dir = dir, .fd = -1 };
        buf_init(&spool->mem, 0);
}

static int spool_fail(struct lmtp_spool *spool, const char *what, const char **error_r)
{
        spool->error = errno != 0 ? errno : EIO;
        *error_r = what;
        return -1;
}

/* An unlinked file in dir: O_TMPFILE, or a named file removed at once on
   file systems without it. -1 with errno on failure. */
static int tmpfile_open(const char *dir)
{
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
                return fd;
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/lmtp-XXXXXX", dir);
        if (n < 0 || (size_t)n >= sizeof(path)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0 && unlink(path) < 0) {
                int saved = errno;
                close(fd);
                errno = saved;
                return -1;
        }
        return fd;
}

static int write_all(int fd, const char *bytes, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, bytes, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0)
                                errno = EIO;
                        return -1;
                }
                bytes += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Writes the staged bytes to the file. */
static int stage_flush(struct lmtp_spool *spool, const char **error_r)
{
        if (spool->mem.len == 0)
                return 0;
        if (write_all(spool->fd, spool->mem.data, spool->mem.len) < 0)
                return spool_fail(spool, "cannot write the spool file", error_r);
        buf_reset(&spool->mem);
        return 0;
}

/* Memory mode is over: the bytes so far go to a new file, and the memory
   shrinks to the staging size. */
static int spool_to_file(struct lmtp_spool *spool, const char **error_r)
{
        errno = 0;
        if (spool->dir == NULL) {
                errno = EFBIG;
                return spool_fail(spool, "message larger than the memory spool", error_r);
        }
        spool->fd = tmpfile_open(spool->dir);
        if (spool->fd < 0)
                return spool_fail(spool, "cannot create a spool file", error_r);
        if (stage_flush(spool, error_r) < 0)
                return -1;
        buf_free(&spool->mem);
        return 0;
}

int lmtp_spool_append(struct lmtp_spool *spool, const void *bytes, size_t len,
                      const char **error_r)
{
        if (spool->error != 0) {
                *error_r = "the spool failed earlier";
                return -1;
        }
        if (len == 0)
                return 0;
        if (spool->fd < 0 && spool->mem.len + len > spool->mem_max &&
            spool_to_file(spool, error_r) < 0)
                return -1;
        spool->size += len;
        if (spool->fd < 0 || spool->mem.len + len <= LMTP_SPOOL_STAGE) {
                buf_append(&spool->mem, bytes, len);
                return 0;
        }
        if (stage_flush(spool, error_r) < 0)
                return -1;
        if (len >= LMTP_SPOOL_STAGE) {
                /* A big run goes straight to the file, without a copy. */
                if (write_all(spool->fd, bytes, len) < 0)
                        return spool_fail(spool, "cannot write the spool file", error_r);
                return 0;
        }
        buf_append(&spool->mem, bytes, len);
        return 0;
}

int lmtp_spool_finish(struct lmtp_spool *spool, struct cove_store_part *part_r,
                      const char **error_r)
{
        errno = 0;
        if (spool->error != 0) {
                *error_r = "the spool failed earlier";
                return -1;
        }
        if (spool->fd < 0 || spool->size == 0) {
                *part_r = (struct cove_store_part){
                        .data = spool->mem.data != NULL ? spool->mem.data : "",
                        .size = spool->mem.len,
                };
                return 0;
        }
        if (stage_flush(spool, error_r) < 0)
                return -1;
        if (spool->size > SIZE_MAX) {
                errno = EFBIG;
                return spool_fail(spool, "spool file too large to map", error_r);
        }
        void *map = mmap(NULL, (size_t)spool->size, PROT_READ, MAP_PRIVATE, spool->fd, 0);
        if (map == MAP_FAILED)
                return spool_fail(spool, "cannot map the spool file", error_r);
        /* The store reads it once, front to back. */
        (void)madvise(map, (size_t)spool->size, MADV_SEQUENTIAL);
        spool->map = map;
        spool->map_size = (size_t)spool->size;
        *part_r = (struct cove_store_part){ .data = map, .size = spool->map_size };
        return 0;
}

bool lmtp_spool_in_file(const struct lmtp_spool *spool)
{
        return spool->fd >= 0;
}

void lmtp_spool_reset(struct lmtp_spool *spool)
{
        if (spool->map != NULL)
                munmap(spool->map, spool->map_size);
        if (spool->fd >= 0)
                close(spool->fd);
        buf_free(&spool->mem);
        spool->map = NULL;
        spool->map_size = 0;
        spool->fd = -1;
        spool->size = 0;
        spool->error = 0;
}

int lmtp_spool_dir_check(const char *dir, const char **error_r)
{
        struct stat st;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                *error_r = "cannot create the spool directory";
                return -1;
        }
        if (stat(dir, &st) < 0) {
                *error_r = "cannot stat the spool directory";
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                *error_r = "the spool path is not a directory";
                return -1;
        }
        int fd = tmpfile_open(dir);
        if (fd < 0) {
                *error_r = "cannot create a file in the spool directory";
                return -1;
        }
        close(fd);
        return 0;
}

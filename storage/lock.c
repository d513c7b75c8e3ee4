/* lock.c - host-local maildrop locks and expunge guards on flock(2) (lock.h).
 *
 * Owns: the lock file layout under the state directory and the flock calls.
 * Does not: wait, retry or know who holds a lock (flock cannot tell, and
 * callers must not wait: POP3 answers [IN-USE], IMAP answers NO [INUSE]).
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

int lock_dir_init(const char *state_dir, struct pool *pool, const char **error_r)
{
        const char *dir = pool_printf(pool, "%s/lock", state_dir);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                *error_r = pool_printf(pool, "mkdir %s: %s", dir, strerror(errno));
                return -1;
        }
        return 0;
}

enum cove_store_err lock_local_take(const char *state_dir, uint32_t user_id, bool exclusive,
                                    int *fd_r, struct pool *pool, const char **error_r)
{
        *fd_r = -1;
        const char *path = pool_printf(pool, "%s/lock/%u", state_dir, user_id);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                *error_r = pool_printf(pool, "open %s: %s", path, strerror(errno));
                return errno == EMFILE || errno == ENFILE || errno == ENOSPC
                        ? COVE_STORE_TEMP : COVE_STORE_INTERNAL;
        }
        int r;
        do {
                r = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
                int err = errno;
                close(fd);
                if (err == EWOULDBLOCK) {
                        *error_r = pool_printf(pool, "user %u: %s", user_id,
                                               exclusive ? "maildrop is locked by another session or an expunge is running"
                                                         : "maildrop is locked by a POP3 session");
                        return COVE_STORE_INUSE;
                }
                *error_r = pool_printf(pool, "flock %s: %s", path, strerror(err));
                return COVE_STORE_INTERNAL;
        }
        *fd_r = fd;
        return COVE_STORE_OK;
}

void lock_local_release(int *fd)
{
        if (*fd < 0)
                return;
        /* close() drops the flock of this open file description. */
        close(*fd);
        *fd = -1;
}

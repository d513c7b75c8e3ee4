/* notify.c - host-local change notification over per-watcher FIFOs (notify.h).
 *
 * Owns: the <state_dir>/notify/<user_id>/ layout, FIFO creation, the publish
 * fan-out, draining, and removal of FIFOs left by dead watchers. Does not know
 * what changed: a wake-up only says "look again".
 */
#include "notify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

struct notify_watch {
        int fd;
        char *path;   /* the FIFO, removed at stop */
};

int notify_dir_init(const char *state_dir, struct pool *pool, const char **error_r)
{
        const char *dir = pool_printf(pool, "%s/notify", state_dir);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                *error_r = pool_printf(pool, "mkdir %s: %s", dir, strerror(errno));
                return -1;
        }
        return 0;
}

/* Writes the wake-up byte. EAGAIN means the pipe is full, hence readable
   already. If the watcher closed its end since our open(), the write fails
   with EPIPE: SIGPIPE is blocked meanwhile and a signal we caused is
   consumed, so a process that does not ignore SIGPIPE (covectl) survives. */
static void wake_write(int fd)
{
        sigset_t pipe_set, old;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigprocmask(SIG_BLOCK, &pipe_set, &old);
        sigset_t pending;
        sigpending(&pending);
        bool was_pending = sigismember(&pending, SIGPIPE) == 1;
        ssize_t ret = write(fd, "", 1);
        if (ret < 0 && errno == EPIPE && !was_pending) {
                const struct timespec zero = { 0, 0 };
                sigtimedwait(&pipe_set, NULL, &zero);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Writes one wake-up byte into the FIFO `name` of dirfd. */
static void wake_one(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                /* ENXIO: no process has it open for reading, so its watcher
                   is gone (a live one keeps it open O_RDWR). */
                if (errno == ENXIO)
                        unlinkat(dirfd, name, 0);
                return;
        }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
                wake_write(fd);
        close(fd);
}

int notify_publish(const char *state_dir, uint32_t user_id, struct pool *pool,
                   const char **error_r)
{
        const char *path = pool_printf(pool, "%s/notify/%u", state_dir, user_id);
        DIR *dir = opendir(path);
        if (dir == NULL) {
                if (errno == ENOENT)
                        return 0;   /* nobody has ever watched this user */
                *error_r = pool_printf(pool, "opendir %s: %s", path, strerror(errno));
                return -1;
        }
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
                /* '.', '..' and FIFOs still being set up (".new.*"). */
                if (de->d_name[0] == '.')
                        continue;
                wake_one(dirfd(dir), de->d_name);
        }
        closedir(dir);
        return 0;
}

/* Makes <dir>/<name> a FIFO opened O_RDWR, created under a dot-name and
   renamed into place so no publisher sees it before it is open. */
static int fifo_create(const char *dir, const char *name, struct pool *pool,
                       int *fd_r, const char **error_r)
{
        const char *tmp = pool_printf(pool, "%s/.new.%s", dir, name);
        const char *final = pool_printf(pool, "%s/%s", dir, name);
        unlink(tmp);
        if (mkfifo(tmp, 0600) < 0) {
                *error_r = pool_printf(pool, "mkfifo %s: %s", tmp, strerror(errno));
                return -1;
        }
        /* O_RDWR: never blocks on open and never reports EOF/POLLHUP. */
        int fd = open(tmp, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || rename(tmp, final) < 0) {
                *error_r = pool_printf(pool, "%s %s: %s", fd < 0 ? "open" : "rename", tmp,
                                       strerror(errno));
                if (fd >= 0)
                        close(fd);
                unlink(tmp);
                return -1;
        }
        *fd_r = fd;
        return 0;
}

int notify_watch_start(const char *state_dir, uint32_t user_id,
                       struct notify_watch **watch_r, struct pool *pool,
                       const char **error_r)
{
        /* Unique per process and per watch; the pid part keeps processes
           apart, a reused pid merely replaces a dead watcher's FIFO. */
        static unsigned long serial;

        *watch_r = NULL;
        const char *dir = pool_printf(pool, "%s/notify/%u", state_dir, user_id);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                *error_r = pool_printf(pool, "mkdir %s: %s", dir, strerror(errno));
                return -1;
        }
        const char *name = pool_printf(pool, "%ld.%lu", (long)getpid(), ++serial);
        int fd;
        if (fifo_create(dir, name, pool, &fd, error_r) < 0)
                return -1;
        struct notify_watch *watch = xcalloc(1, sizeof(*watch));
        watch->fd = fd;
        watch->path = xstrdup(pool_printf(pool, "%s/%s", dir, name));
        *watch_r = watch;
        return 0;
}

int notify_watch_fd(const struct notify_watch *watch)
{
        return watch->fd;
}

void notify_watch_drain(struct notify_watch *watch)
{
        char buf[256];
        ssize_t ret;
        do {
                ret = read(watch->fd, buf, sizeof(buf));
        } while (ret > 0 || (ret < 0 && errno == EINTR));
}

void notify_watch_stop(struct notify_watch **watchp)
{
        struct notify_watch *watch = *watchp;
        if (watch == NULL)
                return;
        *watchp = NULL;
        unlink(watch->path);
        close(watch->fd);
        free(watch->path);
        free(watch);
}

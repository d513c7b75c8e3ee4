/* Unit tests for storage/notify.c: cross-process wake-ups, many watchers,
 * draining, per-user isolation and clean-up of dead watchers. Waits use a
 * generous poll() timeout: they check that a wake-up comes, not how fast. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notify.h"
#include "pool.h"
#include "storage-test.h"

#define WAKE_TIMEOUT_MS 20000

static struct pool *pool;
static const char *state;

static void setup(void)
{
        const char *error = NULL;
        pool = pool_create("test", 0);
        state = storage_test_tmpdir(pool);
        cr_assert_eq(notify_dir_init(state, pool, &error), 0, "%s", error);
}

static void teardown(void)
{
        storage_test_rmtree(state);
        pool_destroy(&pool);
}

TestSuite(notify, .init = setup, .fini = teardown);

static bool readable(int fd, int timeout_ms)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN) != 0;
}

static void publish(uint32_t user)
{
        const char *error = NULL;
        cr_assert_eq(notify_publish(state, user, pool, &error), 0, "%s", error);
}

static size_t fifo_count(uint32_t user)
{
        DIR *dir = opendir(pool_printf(pool, "%s/notify/%u", state, user));
        size_t n = 0;
        struct dirent *de;
        if (dir == NULL)
                return 0;
        while ((de = readdir(dir)) != NULL)
                n += de->d_name[0] != '.';
        closedir(dir);
        return n;
}

/* Forks a child that watches user, reports readiness on ready_fd and exits
   0 when woken (1 on timeout, 2 on setup failure). */
static pid_t spawn_watcher(uint32_t user, int ready_fd)
{
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid != 0)
                return pid;
        struct notify_watch *watch;
        const char *error;
        if (notify_watch_start(state, user, &watch, pool, &error) < 0)
                _exit(2);
        if (write(ready_fd, "r", 1) != 1)
                _exit(2);
        bool woke = readable(notify_watch_fd(watch), WAKE_TIMEOUT_MS);
        notify_watch_stop(&watch);
        _exit(woke ? 0 : 1);
}

static void wait_ok(pid_t pid)
{
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status));
        cr_assert_eq(WEXITSTATUS(status), 0, "watcher %d exited %d", (int)pid,
                     WEXITSTATUS(status));
}

Test(notify, watcher_in_other_process_wakes)
{
        int ready[2];
        char c;
        cr_assert_eq(pipe(ready), 0);
        pid_t pid = spawn_watcher(42, ready[1]);
        cr_assert_eq(read(ready[0], &c, 1), 1);
        publish(42);
        wait_ok(pid);
        close(ready[0]);
        close(ready[1]);
}

Test(notify, many_watchers_all_wake)
{
        enum { CHILDREN = 8, LOCAL = 4 };
        int ready[2];
        pid_t pids[CHILDREN];
        struct notify_watch *local[LOCAL];
        const char *error;
        cr_assert_eq(pipe(ready), 0);
        for (int i = 0; i < CHILDREN; i++)
                pids[i] = spawn_watcher(5, ready[1]);
        for (int i = 0; i < CHILDREN; i++) {
                char c;
                cr_assert_eq(read(ready[0], &c, 1), 1);
        }
        for (int i = 0; i < LOCAL; i++)
                cr_assert_eq(notify_watch_start(state, 5, &local[i], pool, &error), 0);
        publish(5);
        for (int i = 0; i < CHILDREN; i++)
                wait_ok(pids[i]);
        for (int i = 0; i < LOCAL; i++) {
                cr_assert(readable(notify_watch_fd(local[i]), WAKE_TIMEOUT_MS));
                notify_watch_stop(&local[i]);
                cr_assert_null(local[i]);
        }
        close(ready[0]);
        close(ready[1]);
}

Test(notify, drain_quiets_until_next_publish)
{
        struct notify_watch *watch;
        const char *error;
        cr_assert_eq(notify_watch_start(state, 1, &watch, pool, &error), 0, "%s", error);
        int fd = notify_watch_fd(watch);
        cr_assert(!readable(fd, 0));
        publish(1);
        publish(1);
        cr_assert(readable(fd, WAKE_TIMEOUT_MS));
        notify_watch_drain(watch);
        cr_assert(!readable(fd, 0));
        publish(1);
        cr_assert(readable(fd, WAKE_TIMEOUT_MS));
        notify_watch_stop(&watch);
}

Test(notify, other_users_do_not_wake)
{
        struct notify_watch *watch;
        const char *error;
        cr_assert_eq(notify_watch_start(state, 1, &watch, pool, &error), 0);
        /* Publishing is a synchronous write: had it reached our FIFO, the
           fd would be readable already. */
        publish(2);
        cr_assert(!readable(notify_watch_fd(watch), 0));
        notify_watch_stop(&watch);
}

Test(notify, publish_without_watchers_is_fine)
{
        publish(77);
        cr_assert_eq(fifo_count(77), 0);
}

Test(notify, stop_and_death_remove_fifos)
{
        struct notify_watch *watch;
        const char *error;
        cr_assert_eq(notify_watch_start(state, 3, &watch, pool, &error), 0);
        cr_assert_eq(fifo_count(3), 1);
        notify_watch_stop(&watch);
        cr_assert_eq(fifo_count(3), 0);

        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
                /* Dies without notify_watch_stop(). */
                struct notify_watch *w;
                _exit(notify_watch_start(state, 3, &w, pool, &error) == 0 ? 0 : 1);
        }
        wait_ok(pid);
        cr_assert_eq(fifo_count(3), 1);
        publish(3);
        cr_assert_eq(fifo_count(3), 0, "the publisher removed the dead watcher's FIFO");
}

Test(notify, full_pipe_stays_readable)
{
        struct notify_watch *watch;
        const char *error;
        cr_assert_eq(notify_watch_start(state, 4, &watch, pool, &error), 0);
        /* Far more wake-ups than a pipe holds: publishing never blocks. */
        for (int i = 0; i < 70000; i++)
                publish(4);
        cr_assert(readable(notify_watch_fd(watch), 0));
        notify_watch_drain(watch);
        cr_assert(!readable(notify_watch_fd(watch), 0));
        notify_watch_stop(&watch);
}

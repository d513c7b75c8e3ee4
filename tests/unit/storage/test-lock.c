/* Unit tests for storage/lock.c: maildrop locks and expunge guards across
 * processes, release on the holder's death, files kept after release. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock.h"
#include "pool.h"
#include "storage-test.h"

static struct pool *pool;
static const char *state;

static void setup(void)
{
        const char *error = NULL;
        pool = pool_create("test", 0);
        state = storage_test_tmpdir(pool);
        cr_assert_eq(lock_dir_init(state, pool, &error), 0, "%s", error);
}

static void teardown(void)
{
        storage_test_rmtree(state);
        pool_destroy(&pool);
}

TestSuite(lock, .init = setup, .fini = teardown);

static enum cove_store_err take(uint32_t user, bool exclusive, int *fd_r)
{
        const char *error = NULL;
        return lock_local_take(state, user, exclusive, fd_r, pool, &error);
}

/* Tries the lock in a forked child; returns the child's result code. */
static enum cove_store_err take_in_child(uint32_t user, bool exclusive)
{
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
                int fd;
                _exit((int)take(user, exclusive, &fd));
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status));
        return (enum cove_store_err)WEXITSTATUS(status);
}

Test(lock, second_maildrop_lock_refused_in_other_process)
{
        int fd;
        cr_assert_eq(take(7, true, &fd), COVE_STORE_OK);
        cr_assert_eq(take_in_child(7, true), COVE_STORE_INUSE);
        cr_assert_eq(take_in_child(8, true), COVE_STORE_OK, "other users are independent");
        lock_local_release(&fd);
        cr_assert_eq(fd, -1);
        cr_assert_eq(take_in_child(7, true), COVE_STORE_OK);
}

Test(lock, second_maildrop_lock_refused_in_same_process)
{
        int a, b;
        cr_assert_eq(take(7, true, &a), COVE_STORE_OK);
        cr_assert_eq(take(7, true, &b), COVE_STORE_INUSE);
        cr_assert_eq(b, -1);
        lock_local_release(&a);
        cr_assert_eq(take(7, true, &b), COVE_STORE_OK);
        lock_local_release(&b);
}

Test(lock, guard_refused_while_maildrop_held_and_vice_versa)
{
        int fd;
        cr_assert_eq(take(3, true, &fd), COVE_STORE_OK);
        cr_assert_eq(take_in_child(3, false), COVE_STORE_INUSE);
        lock_local_release(&fd);

        cr_assert_eq(take(3, false, &fd), COVE_STORE_OK);
        cr_assert_eq(take_in_child(3, true), COVE_STORE_INUSE);
        cr_assert_eq(take_in_child(3, false), COVE_STORE_OK, "guards share");
        lock_local_release(&fd);
        cr_assert_eq(take_in_child(3, true), COVE_STORE_OK);
}

Test(lock, killed_holder_releases_lock)
{
        int ready[2];
        cr_assert_eq(pipe(ready), 0);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
                int fd;
                char c = (char)take(9, true, &fd);
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        char c;
        cr_assert_eq(read(ready[0], &c, 1), 1);
        cr_assert_eq(c, COVE_STORE_OK);
        int fd;
        cr_assert_eq(take(9, true, &fd), COVE_STORE_INUSE);
        cr_assert_eq(kill(pid, SIGKILL), 0);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status));
        cr_assert_eq(take(9, true, &fd), COVE_STORE_OK, "the kernel released the lock");
        lock_local_release(&fd);
        close(ready[0]);
        close(ready[1]);
}

Test(lock, lock_files_are_kept)
{
        int fd;
        struct stat st;
        cr_assert_eq(take(11, true, &fd), COVE_STORE_OK);
        lock_local_release(&fd);
        cr_assert_eq(stat(pool_printf(pool, "%s/lock/11", state), &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600);
        cr_assert_eq(stat(pool_printf(pool, "%s/lock", state), &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0700);
}

Test(lock, unusable_state_dir_is_an_error)
{
        int fd;
        const char *error = NULL;
        cr_assert_eq(lock_local_take("/nonexistent-cove", 1, true, &fd, pool, &error),
                     COVE_STORE_INTERNAL);
        cr_assert_eq(fd, -1);
        cr_assert_not_null(error);
        cr_assert_neq(lock_dir_init("/nonexistent-cove/x", pool, &error), 0);
}

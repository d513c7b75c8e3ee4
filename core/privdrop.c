/* privdrop.c - dropping root to the configured user (see privdrop.h).
 *
 * Owns: initgroups/setgid/setuid in that order and the check that root
 * cannot be regained. Does not: keep any capability or saved root id.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"

static int drop_error(struct pool *pool, const char *user, const char *what, int err,
                      const char **error_r)
{
        *error_r = pool_printf(pool, "[server] user '%s': %s: %s", user, what, strerror(err));
        return -1;
}

int privdrop_apply(struct pool *pool, const char *user, const char **error_r)
{
        if (user == NULL || user[0] == '\0') {
                if (geteuid() == 0)
                        log_warn("running as root: set [server] user to drop privileges");
                return 0;
        }
        errno = 0;
        struct passwd *pw = getpwnam(user);
        if (pw == NULL) {
                *error_r = pool_printf(pool, "[server] user '%s': %s", user,
                                       errno != 0 ? strerror(errno) : "no such user");
                return -1;
        }
        if (geteuid() != 0) {
                if (geteuid() != pw->pw_uid)
                        log_warn("not started as root: keeping uid %ld instead of [server] "
                                 "user '%s'", (long)geteuid(), user);
                return 0;
        }
        if (pw->pw_uid == 0) {
                *error_r = pool_printf(pool, "[server] user '%s': refusing to run as uid 0",
                                       user);
                return -1;
        }
        if (initgroups(user, pw->pw_gid) < 0)
                return drop_error(pool, user, "initgroups", errno, error_r);
        if (setgid(pw->pw_gid) < 0)
                return drop_error(pool, user, "setgid", errno, error_r);
        if (setuid(pw->pw_uid) < 0)
                return drop_error(pool, user, "setuid", errno, error_r);
        /* Paranoia: the switch must be irreversible. */
        if (setuid(0) == 0 || geteuid() == 0 || getuid() != pw->pw_uid) {
                *error_r = pool_printf(pool, "[server] user '%s': root privileges remain "
                                       "after setuid", user);
                return -1;
        }
        log_info("dropped privileges to user %s (uid %ld, gid %ld)", user,
                 (long)pw->pw_uid, (long)pw->pw_gid);
        return 0;
}

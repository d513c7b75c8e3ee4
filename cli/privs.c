/* privs.c - acting as [server] user when covectl runs as root (see privs.h).
 *
 * Owns: the user lookup, the permanent switch (groups, then gid, then uid,
 * then a check that root cannot be regained) and handing what `init` created
 * to the user. Does not: decide which verbs need it (covectl.c,
 * verb-store.c), know the engine's file layout, or touch anything that was
 * there before init ran.
 */
#include "privs.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "pool.h"
#include "verbs.h"

/* nftw() passes no context: the new owner and the first failure, set only
   for the duration of one privs_give_tree(). */
static struct {
        uid_t uid;
        gid_t gid;
        int error;
        char path[1024];
} privs_walk;

static bool privs_active(const struct cli_ctx *ctx)
{
        return geteuid() == 0 && ctx->conf->server.user != NULL &&
               ctx->conf->server.user[0] != '\0';
}

static int privs_user(struct cli_ctx *ctx, uid_t *uid_r, gid_t *gid_r)
{
        const char *user = ctx->conf->server.user;
        errno = 0;
        struct passwd *pw = getpwnam(user);
        if (pw == NULL)
                return cli_fail(ctx, EX_CONFIG, "%s: [server] user: no such user '%s'",
                                ctx->conf->path, user);
        *uid_r = pw->pw_uid;
        *gid_r = pw->pw_gid;
        return 0;
}

int cli_privs_drop(struct cli_ctx *ctx)
{
        uid_t uid = 0;
        gid_t gid = 0;
        if (!privs_active(ctx))
                return 0;
        int ret = privs_user(ctx, &uid, &gid);
        if (ret != 0)
                return ret;
        const char *user = ctx->conf->server.user;
        if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
                return cli_fail(ctx, EX_NOPERM, "switching to [server] user '%s': %s", user,
                                strerror(errno));
        if (uid != 0 && setuid(0) == 0)
                return cli_fail(ctx, EX_NOPERM, "switching to [server] user '%s': root could "
                                "be regained", user);
        return 0;
}

static int privs_dir_snapshot(struct cli_ctx *ctx, const char *path, struct cli_privs_dir *dir)
{
        struct dirent **list;
        *dir = (struct cli_privs_dir){ .path = path };
        if (path == NULL || access(path, F_OK) < 0)
                return 0;
        int n = scandir(path, &list, NULL, NULL);
        if (n < 0)
                return cli_fail(ctx, EX_CANTCREAT, "reading %s: %s", path, strerror(errno));
        dir->existed = true;
        dir->names = pool_alloc(ctx->pool, (size_t)n * sizeof(*dir->names) + 1);
        for (int i = 0; i < n; i++) {
                dir->names[dir->count++] = pool_strdup(ctx->pool, list[i]->d_name);
                free(list[i]);
        }
        free(list);
        return 0;
}

int cli_privs_snapshot(struct cli_ctx *ctx, struct cli_privs_snapshot *snap)
{
        uid_t uid = 0;
        gid_t gid = 0;
        *snap = (struct cli_privs_snapshot){ 0 };
        if (!privs_active(ctx))
                return 0;
        int ret = privs_user(ctx, &uid, &gid);   /* an unknown user stops init early */
        if (ret == 0)
                ret = privs_dir_snapshot(ctx, ctx->conf->store.path, &snap->dirs[0]);
        if (ret == 0)
                ret = privs_dir_snapshot(ctx, ctx->conf->server.state_dir, &snap->dirs[1]);
        return ret;
}

static int privs_chown_one(const char *path, const struct stat *st, int type,
                           struct FTW *ftw)
{
        if (lchown(path, privs_walk.uid, privs_walk.gid) < 0) {
                privs_walk.error = errno;
                strncpy(privs_walk.path, path, sizeof(privs_walk.path) - 1);
                return 1;   /* stops the walk */
        }
        return 0;
}

static int privs_give_tree(struct cli_ctx *ctx, const char *root)
{
        privs_walk.error = 0;
        privs_walk.path[0] = '\0';
        if (nftw(root, privs_chown_one, 16, FTW_PHYS) != 0 && privs_walk.error == 0) {
                privs_walk.error = errno;
                strncpy(privs_walk.path, root, sizeof(privs_walk.path) - 1);
        }
        if (privs_walk.error != 0)
                return cli_fail(ctx, EX_CANTCREAT, "giving %s to [server] user '%s': %s",
                                privs_walk.path, ctx->conf->server.user,
                                strerror(privs_walk.error));
        return 0;
}

static bool privs_dir_had(const struct cli_privs_dir *dir, const char *name)
{
        for (size_t i = 0; i < dir->count; i++) {
                if (strcmp(dir->names[i], name) == 0)
                        return true;
        }
        return false;
}

/* Gives what appeared in one directory since its snapshot. */
static int privs_give_dir(struct cli_ctx *ctx, const struct cli_privs_dir *dir)
{
        struct dirent **list;
        if (dir->path == NULL || access(dir->path, F_OK) < 0)
                return 0;
        if (!dir->existed)
                return privs_give_tree(ctx, dir->path);
        int n = scandir(dir->path, &list, NULL, NULL), ret = 0;
        if (n < 0)
                return cli_fail(ctx, EX_CANTCREAT, "reading %s: %s", dir->path,
                                strerror(errno));
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                if (ret == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
                    !privs_dir_had(dir, name))
                        ret = privs_give_tree(ctx, pool_printf(ctx->pool, "%s/%s", dir->path,
                                                               name));
                free(list[i]);
        }
        free(list);
        return ret;
}

int cli_privs_give_store(struct cli_ctx *ctx, const struct cli_privs_snapshot *snap)
{
        if (!privs_active(ctx))
                return 0;
        int ret = privs_user(ctx, &privs_walk.uid, &privs_walk.gid);
        for (size_t i = 0; ret == 0 && i < N_ELEMENTS(snap->dirs); i++)
                ret = privs_give_dir(ctx, &snap->dirs[i]);
        return ret;
}

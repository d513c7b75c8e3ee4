/* privs.h - covectl run as root: act as the daemons' [server] user, so that
 * every file covectl creates in the store belongs to that user.
 *
 * Daemons drop root to [server] user after binding; a store made or touched
 * by root-owned covectl would lock them out. Nothing here does anything when
 * covectl is not root or [server] user is not set.
 */
#ifndef COVE_CLI_PRIVS_H
#define COVE_CLI_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

struct cli_ctx;

/* What existed in one store directory before `init` (see privs.c). */
struct cli_privs_dir {
        const char *path;        /* NULL: not configured */
        bool existed;
        const char **names;      /* its entries then, in ctx->pool */
        size_t count;
};

/* The directories `init` may create files in: [store] path, [server] state_dir. */
struct cli_privs_snapshot {
        struct cli_privs_dir dirs[2];
};

/* Switches for good to [server] user (its groups, gid, uid) when running as
   root. Returns 0, EX_CONFIG for an unknown user, EX_NOPERM when the switch
   fails (reason recorded in ctx). */
int cli_privs_drop(struct cli_ctx *ctx);

/* Before `init` creates the store as root: records what is in the store
   directories, so that only what init adds is handed over afterwards. */
int cli_privs_snapshot(struct cli_ctx *ctx, struct cli_privs_snapshot *snap);

/* After `init` created the store as root: gives [server] user everything
   created since the snapshot (a directory that did not exist with all below
   it; otherwise only its new entries and what is below them; symlinks are
   not followed). Returns 0, EX_CONFIG or EX_CANTCREAT with the reason
   recorded. */
int cli_privs_give_store(struct cli_ctx *ctx, const struct cli_privs_snapshot *snap);

#endif

/* verbs.h - covectl's verb table, the context a verb runs in, and the helpers
 * every verb shares (name checks, txns, store error -> exit code mapping).
 *
 * A verb is a table row plus a handler in cli/verb-<noun>.c. Handlers return
 * a sysexits.h code; on failure they record exactly one reason with
 * cli_fail(), which covectl.c prints as the single stderr line. Handlers
 * never print errors themselves and never exit().
 */
#ifndef COVE_CLI_VERBS_H
#define COVE_CLI_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cove/storage.h"

struct cove_conf;
struct pool;
struct store;
struct store_txn;

#define CLI_MAX_ARGS 4   /* positional arguments of any verb */

/* What a verb row allows or needs (struct cli_verb.flags). */
enum cli_verb_flag {
        CLI_VERB_STORE = 1u << 0,          /* open the existing store first */
        CLI_VERB_CREATE = 1u << 1,         /* the handler creates the store (init) */
        CLI_OPT_JSON = 1u << 2,            /* accepts --json */
        CLI_OPT_PASSWORD_STDIN = 1u << 3,  /* accepts --password-stdin */
        CLI_OPT_MAILBOX = 1u << 4,         /* accepts --mailbox BOX */
        CLI_OPT_QUOTA = 1u << 5,           /* accepts --bytes N and --messages N */
        CLI_OPT_CRLF = 1u << 6,            /* accepts --crlf */
        CLI_OPT_SCHEME = 1u << 7,          /* accepts --scheme NAME and --cost N */
        CLI_OPT_APOP = 1u << 8,            /* accepts --apop */
};

/* Parsed command line of one verb. Strings point into argv. */
struct cli_args {
        const char *pos[CLI_MAX_ARGS];
        size_t count;
        bool json;
        bool password_stdin;
        const char *mailbox;          /* NULL unless --mailbox */
        bool crlf;                    /* --crlf: bare LF -> CRLF */
        bool bytes_set, messages_set;
        uint64_t bytes, messages;     /* --bytes / --messages; 0 = unlimited */
        const char *scheme;           /* --scheme NAME (password hash), NULL unless given */
        const char *cost;             /* --cost N, unparsed, NULL unless given */
        bool apop;                    /* --apop: keep the password as the APOP secret */
};

/* Everything a handler may use. pool lives until covectl exits. */
struct cli_ctx {
        struct pool *pool;
        const struct cove_conf *conf;
        struct store *store;          /* open when the verb has CLI_VERB_STORE */
        struct cli_args args;
        const struct cli_verb *verb;
        FILE *out;                    /* stdout */
        const char *error;            /* the one failure reason, NULL on success */
};

typedef int cli_verb_fn(struct cli_ctx *ctx);

struct cli_verb {
        const char *noun;
        const char *verb;             /* NULL for one-word commands (init, deliver) */
        cli_verb_fn *handler;
        cli_verb_fn *check;           /* optional: argument checks made before the
                                         config is read; 0 or EX_USAGE */
        unsigned min_args, max_args;  /* positional arguments */
        unsigned flags;               /* enum cli_verb_flag */
        const char *usage;            /* arguments after the command words */
        const char *help;             /* one sentence */
};

/* The verb table, in help order, and its length. */
extern const struct cli_verb cli_verbs[];
extern const size_t cli_verb_count;

/* Records the failure reason (the first one wins; later calls keep it) and
   returns code, so handlers can `return cli_fail(ctx, EX_DATAERR, ...)`. */
int cli_fail(struct cli_ctx *ctx, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Maps a store error to a sysexits code: NOTFOUND -> EX_DATAERR (callers
   that look up users use cli_user_find for EX_NOUSER), EXISTS and OVERQUOTA ->
   EX_CANTCREAT, NOPERM -> EX_NOPERM, INUSE/EXPUNGED/TEMP -> EX_TEMPFAIL,
   CORRUPT -> EX_IOERR, INTERNAL -> EX_SOFTWARE. */
int cli_store_exit_code(enum cove_store_err err);

/* cli_fail() for a store error: "<what>: <detail>", where detail is the
   store's last error line, or cove_store_strerror(err) when it has none. */
int cli_fail_store(struct cli_ctx *ctx, enum cove_store_err err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Validates and normalises a user / mailbox name given on the command line.
   Returns 0, or EX_DATAERR with the reason recorded. *name_r is in ctx->pool. */
int cli_user_name(struct cli_ctx *ctx, const char *arg, const char **name_r);
int cli_mailbox_name(struct cli_ctx *ctx, const char *arg, const char **name_r);

/* Begins / commits a store transaction; returns 0 or an exit code with the
   reason recorded. Commit leaves *txn NULL either way. */
int cli_txn_begin(struct cli_ctx *ctx, bool write, struct store_txn **txn_r);
int cli_txn_commit(struct cli_ctx *ctx, struct store_txn **txn);

/* Looks up a (normalised) user: 0, EX_NOUSER when there is none, or another
   code. *user_r is borrowed from txn (cove/storage.h "Lifetimes"). */
int cli_user_find(struct cli_ctx *ctx, struct store_txn *txn, const char *name,
                  const struct cove_store_user **user_r);
/* Looks up a user's mailbox: 0, EX_DATAERR when there is none, or another code. */
int cli_mailbox_find(struct cli_ctx *ctx, struct store_txn *txn,
                     const struct cove_store_user *user, const char *box,
                     const struct cove_store_mailbox **mailbox_r);

/* Handlers, one per table row. */
int cli_verb_init(struct cli_ctx *ctx);
int cli_verb_stats(struct cli_ctx *ctx);
int cli_verb_user_add(struct cli_ctx *ctx);
int cli_verb_user_del(struct cli_ctx *ctx);
int cli_verb_user_list(struct cli_ctx *ctx);
int cli_verb_user_passwd(struct cli_ctx *ctx);
int cli_verb_mailbox_list(struct cli_ctx *ctx);
int cli_verb_mailbox_create(struct cli_ctx *ctx);
int cli_verb_mailbox_delete(struct cli_ctx *ctx);
int cli_verb_mailbox_rename(struct cli_ctx *ctx);
int cli_verb_quota_set(struct cli_ctx *ctx);
int cli_verb_quota_set_check(struct cli_ctx *ctx);
int cli_verb_quota_get(struct cli_ctx *ctx);
int cli_verb_deliver(struct cli_ctx *ctx);
int cli_verb_fetch(struct cli_ctx *ctx);
int cli_verb_fetch_check(struct cli_ctx *ctx);

#endif

/* verbs.c - covectl's verb table and the helpers verbs share.
 *
 * Owns: the table (one row per command, in help order), the mapping of store
 * errors to sysexits codes, and the one-reason error record. Does not: parse
 * the command line (covectl.c) or implement any verb (verb-<noun>.c).
 */
#include "verbs.h"

#include <stdarg.h>
#include <string.h>
#include <sysexits.h>

#include "pool.h"
#include "store.h"

const struct cli_verb cli_verbs[] = {
        { .noun = "init", .handler = cli_verb_init, .flags = CLI_VERB_CREATE,
          .usage = "", .help = "Create a new, empty store at the configured [store] path." },
        { .noun = "user", .verb = "add", .handler = cli_verb_user_add,
          .min_args = 1, .max_args = 1, .flags = CLI_VERB_STORE | CLI_OPT_PASSWORD_STDIN |
          CLI_OPT_SCHEME | CLI_OPT_APOP,
          .usage = "NAME [--password-stdin] [--scheme NAME] [--cost N] [--apop]",
          .help = "Create user NAME (user@domain) with a password and the default mailboxes; "
                  "--apop also keeps the password as the POP3 APOP secret." },
        { .noun = "user", .verb = "del", .handler = cli_verb_user_del,
          .min_args = 1, .max_args = 1, .flags = CLI_VERB_STORE,
          .usage = "NAME", .help = "Delete user NAME with all of its mailboxes and mail." },
        { .noun = "user", .verb = "list", .handler = cli_verb_user_list,
          .flags = CLI_VERB_STORE | CLI_OPT_JSON,
          .usage = "[--json]", .help = "List users with their quota and usage." },
        { .noun = "user", .verb = "passwd", .handler = cli_verb_user_passwd,
          .min_args = 1, .max_args = 1, .flags = CLI_VERB_STORE | CLI_OPT_PASSWORD_STDIN |
          CLI_OPT_SCHEME | CLI_OPT_APOP,
          .usage = "NAME [--password-stdin] [--scheme NAME] [--cost N] [--apop]",
          .help = "Set the password of user NAME; --apop also keeps it as the POP3 APOP "
                  "secret, without it any APOP secret is cleared." },
        { .noun = "mailbox", .verb = "list", .handler = cli_verb_mailbox_list,
          .min_args = 1, .max_args = 1, .flags = CLI_VERB_STORE | CLI_OPT_JSON,
          .usage = "NAME [--json]", .help = "List the mailboxes of user NAME with counters." },
        { .noun = "mailbox", .verb = "create", .handler = cli_verb_mailbox_create,
          .min_args = 2, .max_args = 2, .flags = CLI_VERB_STORE,
          .usage = "NAME BOX", .help = "Create mailbox BOX (and missing parents) for user NAME." },
        { .noun = "mailbox", .verb = "delete", .handler = cli_verb_mailbox_delete,
          .min_args = 2, .max_args = 2, .flags = CLI_VERB_STORE,
          .usage = "NAME BOX", .help = "Delete mailbox BOX of user NAME and its messages." },
        { .noun = "mailbox", .verb = "rename", .handler = cli_verb_mailbox_rename,
          .min_args = 3, .max_args = 3, .flags = CLI_VERB_STORE,
          .usage = "NAME OLD NEW",
          .help = "Rename mailbox OLD of user NAME (with children) to NEW." },
        { .noun = "quota", .verb = "set", .handler = cli_verb_quota_set,
          .check = cli_verb_quota_set_check,
          .min_args = 1, .max_args = 1, .flags = CLI_VERB_STORE | CLI_OPT_QUOTA,
          .usage = "NAME [--bytes N[k|M|G|T]] [--messages N]",
          .help = "Set the quota of user NAME; 0 means unlimited, an omitted limit is kept." },
        { .noun = "quota", .verb = "get", .handler = cli_verb_quota_get,
          .min_args = 1, .max_args = 1, .flags = CLI_VERB_STORE | CLI_OPT_JSON,
          .usage = "NAME [--json]", .help = "Show the quota and usage of user NAME." },
        { .noun = "deliver", .handler = cli_verb_deliver,
          .min_args = 1, .max_args = 1,
          .flags = CLI_VERB_STORE | CLI_OPT_MAILBOX | CLI_OPT_CRLF,
          .usage = "NAME [--mailbox BOX] [--crlf] < MESSAGE",
          .help = "Deliver the message on stdin to user NAME (local delivery agent)." },
        { .noun = "fetch", .handler = cli_verb_fetch, .check = cli_verb_fetch_check,
          .min_args = 3, .max_args = 3, .flags = CLI_VERB_STORE,
          .usage = "NAME BOX UID > MESSAGE",
          .help = "Write message UID of mailbox BOX of user NAME, byte-exact, to stdout." },
        { .noun = "stats", .handler = cli_verb_stats, .flags = CLI_VERB_STORE | CLI_OPT_JSON,
          .usage = "[--json]", .help = "Show store-wide counts and sizes." },
};
const size_t cli_verb_count = sizeof(cli_verbs) / sizeof(cli_verbs[0]);

static int cli_vfail(struct cli_ctx *ctx, int code, const char *fmt, va_list ap)
{
        if (ctx->error == NULL)
                ctx->error = pool_vprintf(ctx->pool, fmt, ap);
        return code;
}

int cli_fail(struct cli_ctx *ctx, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cli_vfail(ctx, code, fmt, ap);
        va_end(ap);
        return code;
}

int cli_store_exit_code(enum cove_store_err err)
{
        switch (err) {
        case COVE_STORE_OK: return EX_OK;
        case COVE_STORE_NOTFOUND: return EX_DATAERR;
        case COVE_STORE_EXISTS: return EX_CANTCREAT;
        case COVE_STORE_OVERQUOTA: return EX_CANTCREAT;
        case COVE_STORE_NOPERM: return EX_NOPERM;
        case COVE_STORE_INUSE: return EX_TEMPFAIL;
        case COVE_STORE_EXPUNGED: return EX_TEMPFAIL;
        case COVE_STORE_TEMP: return EX_TEMPFAIL;
        case COVE_STORE_CORRUPT: return EX_IOERR;
        case COVE_STORE_INTERNAL: return EX_SOFTWARE;
        }
        return EX_SOFTWARE;
}

int cli_fail_store(struct cli_ctx *ctx, enum cove_store_err err, const char *fmt, ...)
{
        const char *detail = ctx->store != NULL ? store_last_error(ctx->store) : NULL;
        if (detail == NULL || *detail == '\0')
                detail = cove_store_strerror(err);
        va_list ap;
        va_start(ap, fmt);
        const char *what = pool_vprintf(ctx->pool, fmt, ap);
        va_end(ap);
        return cli_fail(ctx, cli_store_exit_code(err), "%s: %s", what, detail);
}

int cli_user_name(struct cli_ctx *ctx, const char *arg, const char **name_r)
{
        const char *error;
        if (!store_user_name_normalize(ctx->pool, arg, name_r, &error))
                return cli_fail(ctx, EX_DATAERR, "invalid user name '%s': %s", arg, error);
        return 0;
}

int cli_mailbox_name(struct cli_ctx *ctx, const char *arg, const char **name_r)
{
        const char *error;
        if (!store_mailbox_name_normalize(ctx->pool, arg, name_r, &error))
                return cli_fail(ctx, EX_DATAERR, "invalid mailbox name '%s': %s", arg, error);
        return 0;
}

int cli_txn_begin(struct cli_ctx *ctx, bool write, struct store_txn **txn_r)
{
        enum cove_store_err err = store_txn_begin(ctx->store, write, txn_r);
        if (err != COVE_STORE_OK)
                return cli_fail_store(ctx, err, "cannot begin a %s transaction",
                                      write ? "write" : "read");
        return 0;
}

int cli_txn_commit(struct cli_ctx *ctx, struct store_txn **txn)
{
        enum cove_store_err err = store_txn_commit(txn);
        if (err != COVE_STORE_OK)
                return cli_fail_store(ctx, err, "commit failed, nothing was changed");
        return 0;
}

int cli_user_find(struct cli_ctx *ctx, struct store_txn *txn, const char *name,
                  const struct cove_store_user **user_r)
{
        enum cove_store_err err = store_user_lookup(txn, name, user_r);
        if (err == COVE_STORE_NOTFOUND)
                return cli_fail(ctx, EX_NOUSER, "no such user '%s'", name);
        if (err != COVE_STORE_OK)
                return cli_fail_store(ctx, err, "looking up user '%s'", name);
        return 0;
}

int cli_mailbox_find(struct cli_ctx *ctx, struct store_txn *txn,
                     const struct cove_store_user *user, const char *box,
                     const struct cove_store_mailbox **mailbox_r)
{
        /* The user record is borrowed until the next call on txn: copy the name. */
        const char *user_name = pool_strdup(ctx->pool, user->name);
        enum cove_store_err err = store_mailbox_lookup(txn, user->id, box, mailbox_r);
        if (err == COVE_STORE_NOTFOUND)
                return cli_fail(ctx, EX_DATAERR, "user '%s' has no mailbox '%s'", user_name,
                                box);
        if (err != COVE_STORE_OK)
                return cli_fail_store(ctx, err, "looking up mailbox '%s' of user '%s'", box,
                                      user_name);
        return 0;
}

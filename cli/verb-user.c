/* verb-user.c - `covectl user add|del|list|passwd`.
 *
 * Owns: turning a password typed or piped by the operator into the stored
 * hash (scheme and cost from --scheme/--cost, else core/password.c's
 * defaults), SCRAM secret and, with --apop, APOP secret, and the user
 * listing. Does not: choose the
 * default mailboxes (store_user_create makes them) or hash (core/password.c).
 */
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "json.h"
#include "password.h"
#include "pool.h"
#include "secret.h"
#include "store.h"
#include "verbs.h"

/* The stored forms of a new password. */
struct user_secret {
        const char *hash;
        const char *scram;
        const char *apop;    /* the password itself with --apop, else "" */
};

/* Checks that the user exists (want_exists) or not, before asking for a
   password, so the operator is not prompted in vain. */
static int user_precheck(struct cli_ctx *ctx, const char *name, bool want_exists)
{
        struct store_txn *txn;
        const struct cove_store_user *user;
        int ret = cli_txn_begin(ctx, false, &txn);
        if (ret != 0)
                return ret;
        enum cove_store_err err = store_user_lookup(txn, name, &user);
        store_txn_abort(&txn);
        if (err == COVE_STORE_OK && !want_exists)
                return cli_fail(ctx, EX_CANTCREAT, "user '%s' already exists", name);
        if (err == COVE_STORE_NOTFOUND && want_exists)
                return cli_fail(ctx, EX_NOUSER, "no such user '%s'", name);
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return cli_fail_store(ctx, err, "looking up user '%s'", name);
        return 0;
}

/* --scheme NAME and --cost N into hash parameters (defaults when absent). The
   cost's range is the scheme's (core/password.h), checked when hashing. */
static int user_hash_params(struct cli_ctx *ctx, struct password_params *params_r)
{
        uint64_t cost = 0;

        *params_r = password_params_default;
        if (ctx->args.scheme != NULL &&
            !password_scheme_parse(ctx->args.scheme, &params_r->scheme))
                return cli_fail(ctx, EX_USAGE, "--scheme: unknown scheme '%s' (use yescrypt, "
                                "sha512-crypt or pbkdf2-sha256)", ctx->args.scheme);
        if (ctx->args.cost != NULL &&
            (!str_to_u64(ctx->args.cost, &cost) || cost == 0 || cost > ULONG_MAX))
                return cli_fail(ctx, EX_USAGE, "--cost: invalid number '%s'", ctx->args.cost);
        params_r->cost = (unsigned long)cost;
        return 0;
}

/* Reads the new password and derives what the store keeps. */
static int user_secret_make(struct cli_ctx *ctx, struct user_secret *secret_r)
{
        char *password = NULL;
        const char *error;
        struct password_params params;
        int ret = user_hash_params(ctx, &params);
        if (ret != 0)
                return ret;
        ret = cli_secret_read(ctx->pool, ctx->args.password_stdin, &password, &error);
        if (ret != 0)
                return cli_fail(ctx, ret, "%s", error);
        /* APOP needs the plaintext-equivalent secret (docs/passwords.md). */
        secret_r->apop = ctx->args.apop ? pool_strdup(ctx->pool, password) : "";
        if (password_hash_with(ctx->pool, password, &params, &secret_r->hash, &error) < 0)
                ret = cli_fail(ctx, params.cost != 0 ? EX_USAGE : EX_SOFTWARE,
                               "hashing the password: %s", error);
        else if (password_scram_secret(ctx->pool, password, &secret_r->scram, &error) < 0)
                ret = cli_fail(ctx, EX_SOFTWARE, "deriving the SCRAM secret: %s", error);
        cli_secret_wipe(password);
        return ret;
}

int cli_verb_user_add(struct cli_ctx *ctx)
{
        const char *name;
        struct user_secret secret;
        struct store_txn *txn;
        uint32_t user_id;
        int ret;
        if ((ret = cli_user_name(ctx, ctx->args.pos[0], &name)) != 0 ||
            (ret = user_precheck(ctx, name, false)) != 0 ||
            (ret = user_secret_make(ctx, &secret)) != 0 ||
            (ret = cli_txn_begin(ctx, true, &txn)) != 0)
                return ret;
        enum cove_store_err err = store_user_create(txn, name, secret.hash, secret.scram,
                                                    &user_id);
        if (err == COVE_STORE_OK && secret.apop[0] != '\0')
                err = store_user_set_apop_secret(txn, user_id, secret.apop);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                if (err == COVE_STORE_EXISTS)
                        return cli_fail(ctx, EX_CANTCREAT, "user '%s' already exists", name);
                return cli_fail_store(ctx, err, "creating user '%s'", name);
        }
        return cli_txn_commit(ctx, &txn);
}

int cli_verb_user_passwd(struct cli_ctx *ctx)
{
        const char *name;
        struct user_secret secret;
        struct store_txn *txn;
        const struct cove_store_user *user;
        int ret;
        if ((ret = cli_user_name(ctx, ctx->args.pos[0], &name)) != 0 ||
            (ret = user_precheck(ctx, name, true)) != 0 ||
            (ret = user_secret_make(ctx, &secret)) != 0 ||
            (ret = cli_txn_begin(ctx, true, &txn)) != 0)
                return ret;
        if ((ret = cli_user_find(ctx, txn, name, &user)) != 0) {
                store_txn_abort(&txn);
                return ret;
        }
        uint32_t user_id = user->id;
        enum cove_store_err err = store_user_set_password(txn, user_id, secret.hash,
                                                          secret.scram);
        /* Without --apop a new password also ends APOP for this user. */
        if (err == COVE_STORE_OK)
                err = store_user_set_apop_secret(txn, user_id, secret.apop);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return cli_fail_store(ctx, err, "setting the password of '%s'", name);
        }
        return cli_txn_commit(ctx, &txn);
}

int cli_verb_user_del(struct cli_ctx *ctx)
{
        const char *name;
        struct store_txn *txn;
        const struct cove_store_user *user;
        int ret;
        if ((ret = cli_user_name(ctx, ctx->args.pos[0], &name)) != 0 ||
            (ret = cli_txn_begin(ctx, true, &txn)) != 0)
                return ret;
        if ((ret = cli_user_find(ctx, txn, name, &user)) != 0) {
                store_txn_abort(&txn);
                return ret;
        }
        enum cove_store_err err = store_user_delete(txn, user->id);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return cli_fail_store(ctx, err, "deleting user '%s'", name);
        }
        return cli_txn_commit(ctx, &txn);
}

/* A user row copied out of the iterator (its records are borrowed). */
struct user_row {
        const char *name;
        uint64_t quota_bytes, quota_messages, used_bytes, used_messages;
};

static int user_rows(struct cli_ctx *ctx, struct user_row **rows_r, size_t *count_r)
{
        struct store_txn *txn;
        struct store_iter *iter = NULL;
        const struct cove_store_user *u;
        size_t count = 0, cap = 16;
        struct user_row *rows = pool_alloc(ctx->pool, cap * sizeof(*rows));
        int ret = cli_txn_begin(ctx, false, &txn);
        if (ret != 0)
                return ret;
        enum cove_store_err err = store_user_iter_init(txn, &iter);
        while (err == COVE_STORE_OK && (err = store_user_iter_next(iter, &u)) == COVE_STORE_OK) {
                if (count == cap) {
                        rows = pool_realloc(ctx->pool, rows, cap * sizeof(*rows),
                                            2 * cap * sizeof(*rows));
                        cap *= 2;
                }
                rows[count++] = (struct user_row){
                        .name = pool_strdup(ctx->pool, u->name),
                        .quota_bytes = u->quota_bytes, .quota_messages = u->quota_messages,
                        .used_bytes = u->used_bytes, .used_messages = u->used_messages,
                };
        }
        if (iter != NULL)
                store_iter_deinit(&iter);
        store_txn_abort(&txn);
        if (err != COVE_STORE_NOTFOUND)
                return cli_fail_store(ctx, err, "listing users");
        *rows_r = rows;
        *count_r = count;
        return 0;
}

static const char *limit_str(struct cli_ctx *ctx, uint64_t limit)
{
        return limit == 0 ? "unlimited" : pool_printf(ctx->pool, "%" PRIu64, limit);
}

static void user_list_text(struct cli_ctx *ctx, const struct user_row *rows, size_t count)
{
        int width = 4;
        for (size_t i = 0; i < count; i++) {
                size_t len = strlen(rows[i].name);
                if (len > (size_t)width)
                        width = len > 200 ? 200 : (int)len;
        }
        fprintf(ctx->out, "%-*s %10s %10s %14s %14s\n", width, "USER", "MESSAGES",
                "MSG_QUOTA", "BYTES", "BYTE_QUOTA");
        for (size_t i = 0; i < count; i++) {
                const struct user_row *r = &rows[i];
                fprintf(ctx->out, "%-*s %10" PRIu64 " %10s %14" PRIu64 " %14s\n", width,
                        r->name, r->used_messages, limit_str(ctx, r->quota_messages),
                        r->used_bytes, limit_str(ctx, r->quota_bytes));
        }
}

static void user_list_json(struct cli_ctx *ctx, const struct user_row *rows, size_t count)
{
        struct cli_json json;
        cli_json_init(&json, ctx->out);
        cli_json_array_begin(&json);
        for (size_t i = 0; i < count; i++) {
                cli_json_object_begin(&json);
                cli_json_kv_string(&json, "name", rows[i].name);
                cli_json_kv_u64(&json, "quota_bytes", rows[i].quota_bytes);
                cli_json_kv_u64(&json, "quota_messages", rows[i].quota_messages);
                cli_json_kv_u64(&json, "used_bytes", rows[i].used_bytes);
                cli_json_kv_u64(&json, "used_messages", rows[i].used_messages);
                cli_json_object_end(&json);
        }
        cli_json_array_end(&json);
        cli_json_finish(&json);
}

int cli_verb_user_list(struct cli_ctx *ctx)
{
        struct user_row *rows = NULL;
        size_t count = 0;
        int ret = user_rows(ctx, &rows, &count);
        if (ret != 0)
                return ret;
        if (ctx->args.json)
                user_list_json(ctx, rows, count);
        else
                user_list_text(ctx, rows, count);
        return 0;
}

/* verb-quota.c - `covectl quota set|get`.
 *
 * Owns: changing a user's byte and message limits (0 = unlimited; a limit not
 * given is kept) and showing limits against usage. Does not: enforce quota
 * (the store facade does, at append) or recount usage.
 */
#include <inttypes.h>
#include <sysexits.h>

#include "json.h"
#include "pool.h"
#include "store.h"
#include "verbs.h"

int cli_verb_quota_set_check(struct cli_ctx *ctx)
{
        if (!ctx->args.bytes_set && !ctx->args.messages_set)
                return cli_fail(ctx, EX_USAGE, "quota set: give --bytes N, --messages N "
                                "or both (0 = unlimited)");
        return 0;
}

int cli_verb_quota_set(struct cli_ctx *ctx)
{
        const struct cli_args *a = &ctx->args;
        const struct cove_store_user *user;
        struct store_txn *txn;
        const char *name;
        int ret;
        if ((ret = cli_user_name(ctx, a->pos[0], &name)) != 0 ||
            (ret = cli_txn_begin(ctx, true, &txn)) != 0)
                return ret;
        if ((ret = cli_user_find(ctx, txn, name, &user)) != 0) {
                store_txn_abort(&txn);
                return ret;
        }
        uint64_t bytes = a->bytes_set ? a->bytes : user->quota_bytes;
        uint64_t messages = a->messages_set ? a->messages : user->quota_messages;
        enum cove_store_err err = store_user_set_quota(txn, user->id, bytes, messages);
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return cli_fail_store(ctx, err, "setting the quota of '%s'", name);
        }
        return cli_txn_commit(ctx, &txn);
}

/* "1234 of 10485760 (0.0%)" or "1234 of unlimited". */
static const char *usage_text(struct cli_ctx *ctx, uint64_t used, uint64_t limit)
{
        if (limit == 0)
                return pool_printf(ctx->pool, "%" PRIu64 " of unlimited", used);
        return pool_printf(ctx->pool, "%" PRIu64 " of %" PRIu64 " (%.1f%%)", used, limit,
                           100.0 * (double)used / (double)limit);
}

static void quota_json(struct cli_ctx *ctx, const struct cove_store_user *user)
{
        struct cli_json json;
        cli_json_init(&json, ctx->out);
        cli_json_object_begin(&json);
        cli_json_kv_string(&json, "name", user->name);
        cli_json_kv_u64(&json, "quota_bytes", user->quota_bytes);
        cli_json_kv_u64(&json, "quota_messages", user->quota_messages);
        cli_json_kv_u64(&json, "used_bytes", user->used_bytes);
        cli_json_kv_u64(&json, "used_messages", user->used_messages);
        cli_json_object_end(&json);
        cli_json_finish(&json);
}

int cli_verb_quota_get(struct cli_ctx *ctx)
{
        const struct cove_store_user *user;
        struct store_txn *txn;
        const char *name;
        int ret;
        if ((ret = cli_user_name(ctx, ctx->args.pos[0], &name)) != 0 ||
            (ret = cli_txn_begin(ctx, false, &txn)) != 0)
                return ret;
        if ((ret = cli_user_find(ctx, txn, name, &user)) != 0) {
                store_txn_abort(&txn);
                return ret;
        }
        if (ctx->args.json) {
                quota_json(ctx, user);
        } else {
                fprintf(ctx->out, "user:      %s\n", user->name);
                fprintf(ctx->out, "messages:  %s\n",
                        usage_text(ctx, user->used_messages, user->quota_messages));
                fprintf(ctx->out, "bytes:     %s\n",
                        usage_text(ctx, user->used_bytes, user->quota_bytes));
        }
        store_txn_abort(&txn);
        return 0;
}

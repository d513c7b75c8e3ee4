/* verb-store.c - store-wide verbs: `covectl init` and `covectl stats`.
 *
 * Owns: creating the store (and the installation secret, see login.h)
 * without ever overwriting one, and printing the store's statistics. Does
 * not: create users or mailboxes.
 */
#include <inttypes.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "json.h"
#include "login.h"
#include "pool.h"
#include "privs.h"
#include "store.h"
#include "verbs.h"

/* "engine lmdb at /var/lib/cove" for messages. */
static const char *store_describe(struct cli_ctx *ctx)
{
        const struct conf_store *s = &ctx->conf->store;
        if (s->path != NULL)
                return pool_printf(ctx->pool, "%s: [store] path %s (engine %s)",
                                   ctx->conf->path, s->path, s->engine);
        return pool_printf(ctx->pool, "%s: [store] engine %s", ctx->conf->path, s->engine);
}

int cli_verb_init(struct cli_ctx *ctx)
{
        struct store *store;
        const char *open_error, *create_error;
        /* Probe first, so init never touches an existing store: the engine's
           create path is not asked to decide what "existing" means. */
        if (store_open(ctx->conf, false, ctx->pool, &store, &open_error) == 0) {
                store_close(&store);
                return cli_fail(ctx, EX_CANTCREAT, "%s already holds a store; init refuses "
                                "to overwrite it", store_describe(ctx));
        }
        /* Run as root, init creates as root and then hands what it created
           to [server] user; other verbs switch users before opening. */
        struct cli_privs_snapshot snap;
        int ret = cli_privs_snapshot(ctx, &snap);
        if (ret != 0)
                return ret;
        if (store_open(ctx->conf, true, ctx->pool, &store, &create_error) == 0) {
                store_close(&store);
                /* Made here, as root if init is, then handed over with the
                   rest of the state directory. */
                const char *path = login_secret_path(ctx->pool, ctx->conf), *error;
                bool created;
                if (path != NULL && login_secret_create(ctx->pool, path, &created, &error) < 0)
                        return cli_fail(ctx, EX_CANTCREAT, "%s", error);
                return cli_privs_give_store(ctx, &snap);
        }
        /* The same failure with and without create is a config, plugin or
           ABI problem found before the engine looked at the path; anything
           else is about creating the store itself. */
        if (strcmp(open_error, create_error) == 0)
                return cli_fail(ctx, EX_CONFIG, "%s", create_error);
        return cli_fail(ctx, EX_CANTCREAT, "%s", create_error);
}

static void stats_json(struct cli_ctx *ctx, const struct cove_store_stats *st)
{
        struct cli_json json;
        cli_json_init(&json, ctx->out);
        cli_json_object_begin(&json);
        cli_json_kv_string(&json, "engine", store_engine_name(ctx->store));
        cli_json_kv_string(&json, "engine_version", store_engine_version(ctx->store));
        cli_json_kv_u64(&json, "users", st->users);
        cli_json_kv_u64(&json, "mailboxes", st->mailboxes);
        cli_json_kv_u64(&json, "messages", st->messages);
        cli_json_kv_u64(&json, "bytes_received", st->bytes_received);
        cli_json_kv_u64(&json, "bytes_stored", st->bytes_stored);
        cli_json_kv_u64(&json, "file_bytes", st->file_bytes);
        cli_json_object_end(&json);
        cli_json_finish(&json);
}

static void stats_text(struct cli_ctx *ctx, const struct cove_store_stats *st)
{
        FILE *out = ctx->out;
        fprintf(out, "engine:          %s %s\n", store_engine_name(ctx->store),
                store_engine_version(ctx->store));
        fprintf(out, "users:           %" PRIu64 "\n", st->users);
        fprintf(out, "mailboxes:       %" PRIu64 "\n", st->mailboxes);
        fprintf(out, "messages:        %" PRIu64 "\n", st->messages);
        fprintf(out, "bytes received:  %" PRIu64 "\n", st->bytes_received);
        fprintf(out, "bytes stored:    %" PRIu64 "\n", st->bytes_stored);
        if (st->bytes_received > 0)
                fprintf(out, "stored/received: %.1f%%\n",
                        100.0 * (double)st->bytes_stored / (double)st->bytes_received);
        fprintf(out, "store file size: %" PRIu64 "\n", st->file_bytes);
}

int cli_verb_stats(struct cli_ctx *ctx)
{
        struct cove_store_stats st = { 0 };
        enum cove_store_err err = store_stats(ctx->store, &st);
        if (err != COVE_STORE_OK)
                return cli_fail_store(ctx, err, "reading store statistics");
        if (ctx->args.json)
                stats_json(ctx, &st);
        else
                stats_text(ctx, &st);
        return 0;
}

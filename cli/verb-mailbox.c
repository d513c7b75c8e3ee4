/* verb-mailbox.c - `covectl mailbox list|create|delete|rename`.
 *
 * Owns: the mailbox listing (counters, special-use) and the admin edits of a
 * user's hierarchy, each in one write transaction. Does not: validate names
 * itself (the store facade's normalisers do) or touch subscriptions.
 */
#include <inttypes.h>
#include <string.h>
#include <sysexits.h>

#include "json.h"
#include "pool.h"
#include "store.h"
#include "verbs.h"

static const struct {
        uint32_t bit;
        const char *name;
} special_uses[] = {
        { COVE_SPECIAL_ALL, "\\All" },
        { COVE_SPECIAL_ARCHIVE, "\\Archive" },
        { COVE_SPECIAL_DRAFTS, "\\Drafts" },
        { COVE_SPECIAL_FLAGGED, "\\Flagged" },
        { COVE_SPECIAL_JUNK, "\\Junk" },
        { COVE_SPECIAL_SENT, "\\Sent" },
        { COVE_SPECIAL_TRASH, "\\Trash" },
};

/* A mailbox row copied out of the iterator (its records are borrowed). */
struct mailbox_row {
        const char *name;
        uint32_t special_use, messages, unseen, uidvalidity, uidnext;
        uint64_t bytes;
};

/* The user's mailboxes, copied into ctx->pool, in the store's order. */
static int mailbox_rows(struct cli_ctx *ctx, const char *name, struct mailbox_row **rows_r,
                        size_t *count_r)
{
        struct store_txn *txn;
        struct store_iter *iter = NULL;
        const struct cove_store_user *user;
        const struct cove_store_mailbox *mb;
        size_t count = 0, cap = 8;
        struct mailbox_row *rows = pool_alloc(ctx->pool, cap * sizeof(*rows));
        int ret = cli_txn_begin(ctx, false, &txn);
        if (ret != 0)
                return ret;
        if ((ret = cli_user_find(ctx, txn, name, &user)) != 0) {
                store_txn_abort(&txn);
                return ret;
        }
        enum cove_store_err err = store_mailbox_iter_init(txn, user->id, &iter);
        while (err == COVE_STORE_OK &&
               (err = store_mailbox_iter_next(iter, &mb)) == COVE_STORE_OK) {
                if (count == cap) {
                        rows = pool_realloc(ctx->pool, rows, cap * sizeof(*rows),
                                            2 * cap * sizeof(*rows));
                        cap *= 2;
                }
                rows[count++] = (struct mailbox_row){
                        .name = pool_strdup(ctx->pool, mb->name),
                        .special_use = mb->special_use, .messages = mb->messages,
                        .unseen = mb->unseen, .uidvalidity = mb->uidvalidity,
                        .uidnext = mb->uidnext, .bytes = mb->bytes,
                };
        }
        if (iter != NULL)
                store_iter_deinit(&iter);
        store_txn_abort(&txn);
        if (err != COVE_STORE_NOTFOUND)
                return cli_fail_store(ctx, err, "listing the mailboxes of '%s'", name);
        *rows_r = rows;
        *count_r = count;
        return 0;
}

/* "\Sent \Trash" or "-" for the text listing. */
static const char *special_use_text(struct cli_ctx *ctx, uint32_t bits)
{
        const char *text = NULL;
        for (size_t i = 0; i < sizeof(special_uses) / sizeof(special_uses[0]); i++) {
                if ((bits & special_uses[i].bit) == 0)
                        continue;
                text = text == NULL ? special_uses[i].name
                                    : pool_printf(ctx->pool, "%s,%s", text, special_uses[i].name);
        }
        return text != NULL ? text : "-";
}

static void mailbox_list_text(struct cli_ctx *ctx, const struct mailbox_row *rows, size_t count)
{
        int width = 7;
        for (size_t i = 0; i < count; i++) {
                size_t len = strlen(rows[i].name);
                if (len > (size_t)width)
                        width = len > 200 ? 200 : (int)len;
        }
        fprintf(ctx->out, "%-*s %-10s %9s %9s %14s %11s %9s\n", width, "MAILBOX",
                "SPECIAL", "MESSAGES", "UNSEEN", "BYTES", "UIDVALIDITY", "UIDNEXT");
        for (size_t i = 0; i < count; i++) {
                const struct mailbox_row *r = &rows[i];
                fprintf(ctx->out, "%-*s %-10s %9" PRIu32 " %9" PRIu32 " %14" PRIu64
                        " %11" PRIu32 " %9" PRIu32 "\n", width, r->name,
                        special_use_text(ctx, r->special_use), r->messages, r->unseen,
                        r->bytes, r->uidvalidity, r->uidnext);
        }
}

static void mailbox_list_json(struct cli_ctx *ctx, const struct mailbox_row *rows, size_t count)
{
        struct cli_json json;
        cli_json_init(&json, ctx->out);
        cli_json_array_begin(&json);
        for (size_t i = 0; i < count; i++) {
                const struct mailbox_row *r = &rows[i];
                cli_json_object_begin(&json);
                cli_json_kv_string(&json, "name", r->name);
                cli_json_key(&json, "special_use");
                cli_json_array_begin(&json);
                for (size_t s = 0; s < sizeof(special_uses) / sizeof(special_uses[0]); s++) {
                        if ((r->special_use & special_uses[s].bit) != 0)
                                cli_json_string(&json, special_uses[s].name);
                }
                cli_json_array_end(&json);
                cli_json_kv_u64(&json, "messages", r->messages);
                cli_json_kv_u64(&json, "unseen", r->unseen);
                cli_json_kv_u64(&json, "bytes", r->bytes);
                cli_json_kv_u64(&json, "uidvalidity", r->uidvalidity);
                cli_json_kv_u64(&json, "uidnext", r->uidnext);
                cli_json_object_end(&json);
        }
        cli_json_array_end(&json);
        cli_json_finish(&json);
}

int cli_verb_mailbox_list(struct cli_ctx *ctx)
{
        const char *name;
        struct mailbox_row *rows = NULL;
        size_t count = 0;
        int ret;
        if ((ret = cli_user_name(ctx, ctx->args.pos[0], &name)) != 0 ||
            (ret = mailbox_rows(ctx, name, &rows, &count)) != 0)
                return ret;
        if (ctx->args.json)
                mailbox_list_json(ctx, rows, count);
        else
                mailbox_list_text(ctx, rows, count);
        return 0;
}

/* What a mailbox edit needs: the normalised names and the user's id. */
struct mailbox_edit {
        const char *user;
        const char *box;
        const char *new_box;        /* rename only */
        uint32_t user_id;
        bool box_exists;            /* box was looked up and found */
        struct store_txn *txn;      /* a write txn, begun */
};

/* Normalises the arguments, begins the write txn and finds the user. */
static int mailbox_edit_begin(struct cli_ctx *ctx, struct mailbox_edit *edit)
{
        const struct cove_store_user *user;
        int ret;
        if ((ret = cli_user_name(ctx, ctx->args.pos[0], &edit->user)) != 0 ||
            (ret = cli_mailbox_name(ctx, ctx->args.pos[1], &edit->box)) != 0 ||
            (ctx->args.count > 2 &&
             (ret = cli_mailbox_name(ctx, ctx->args.pos[2], &edit->new_box)) != 0) ||
            (ret = cli_txn_begin(ctx, true, &edit->txn)) != 0)
                return ret;
        if ((ret = cli_user_find(ctx, edit->txn, edit->user, &user)) != 0) {
                store_txn_abort(&edit->txn);
                return ret;
        }
        edit->user_id = user->id;
        return 0;
}

/* Commits on success; on a store error aborts and explains it. */
static int mailbox_edit_end(struct cli_ctx *ctx, struct mailbox_edit *edit,
                            enum cove_store_err err, const char *action)
{
        if (err == COVE_STORE_OK)
                return cli_txn_commit(ctx, &edit->txn);
        store_txn_abort(&edit->txn);
        switch (err) {
        case COVE_STORE_NOTFOUND:
                if (edit->box_exists)
                        break;   /* something else is missing: say what */
                return cli_fail(ctx, EX_DATAERR, "user '%s' has no mailbox '%s'",
                                edit->user, edit->box);
        case COVE_STORE_EXISTS:
                return cli_fail(ctx, EX_CANTCREAT, "user '%s' already has a mailbox '%s'",
                                edit->user, edit->new_box != NULL ? edit->new_box : edit->box);
        case COVE_STORE_NOPERM:
                return cli_fail(ctx, EX_NOPERM, "%s mailbox '%s' of user '%s': not permitted",
                                action, edit->box, edit->user);
        default:
                break;
        }
        return cli_fail_store(ctx, err, "%s mailbox '%s' of user '%s'", action, edit->box,
                              edit->user);
}

int cli_verb_mailbox_create(struct cli_ctx *ctx)
{
        struct mailbox_edit edit = { 0 };
        uint32_t mailbox_id;
        int ret = mailbox_edit_begin(ctx, &edit);
        if (ret != 0)
                return ret;
        enum cove_store_err err = store_mailbox_create(edit.txn, edit.user_id, edit.box, 0,
                                                       &mailbox_id);
        return mailbox_edit_end(ctx, &edit, err, "creating");
}

int cli_verb_mailbox_delete(struct cli_ctx *ctx)
{
        struct mailbox_edit edit = { 0 };
        int ret = mailbox_edit_begin(ctx, &edit);
        if (ret != 0)
                return ret;
        enum cove_store_err err = store_mailbox_delete(edit.txn, edit.user_id, edit.box);
        return mailbox_edit_end(ctx, &edit, err, "deleting");
}

int cli_verb_mailbox_rename(struct cli_ctx *ctx)
{
        struct mailbox_edit edit = { 0 };
        const struct cove_store_mailbox *mb;
        int ret = mailbox_edit_begin(ctx, &edit);
        if (ret != 0)
                return ret;
        enum cove_store_err err = store_mailbox_lookup(edit.txn, edit.user_id, edit.box, &mb);
        edit.box_exists = err == COVE_STORE_OK;
        if (err == COVE_STORE_OK)
                err = store_mailbox_rename(edit.txn, edit.user_id, edit.box, edit.new_box);
        return mailbox_edit_end(ctx, &edit, err, "renaming");
}

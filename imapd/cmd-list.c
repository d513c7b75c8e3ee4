/* cmd-list.c - LIST (RFC 3501, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
 * SPECIAL-USE RFC 6154, CHILDREN RFC 3348) and LSUB.
 *
 * Owns: the selection and return options, wildcard matching ('*' and '%'),
 * the mailbox attributes and the order of LIST and STATUS responses. Does
 * not: convert names (commands.c) or compute status items (cmd-status.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "commands.h"
#include "pool.h"
#include "reply.h"
#include "store.h"

#define LIST_MAX_PATTERN 512

struct list_box {
        const char *name;       /* store form */
        uint32_t special;
        bool exists, subscribed;
};

struct list_opts {
        bool sel_subscribed, sel_special, recursive;
        bool ret_subscribed, ret_children, ret_special;
        const struct imap_arg *status_items;
        size_t status_count;
        const char **patterns;  /* client form, reference prepended */
        size_t pattern_count;
        bool lsub;
};

/* Wildcard match, '*' anything, '%' anything but the delimiter: one pass of
   dynamic programming (O(pattern x name), no backtracking blow-up). */
static bool list_match(struct pool *pool, const char *pattern, const char *name, char delim)
{
        size_t n = strlen(name);
        bool *dp = pool_alloc(pool, (n + 1) * sizeof(bool));
        bool *next = pool_alloc(pool, (n + 1) * sizeof(bool));
        dp[0] = true;
        for (const char *p = pattern; *p != '\0'; p++) {
                bool any = false;
                for (size_t j = 0; j <= n; j++) {
                        if (*p == '*') {
                                any = any || dp[j];
                                next[j] = any;
                        } else if (*p == '%') {
                                next[j] = dp[j] || (j > 0 && next[j - 1] && name[j - 1] != delim);
                        } else {
                                next[j] = j > 0 && dp[j - 1] && name[j - 1] == *p;
                        }
                }
                bool *t = dp;
                dp = next;
                next = t;
        }
        return dp[n];
}

/* INBOX is case-insensitive (RFC 3501 §5.1): a pattern starting with any
   case of "INBOX" matches it. */
static const char *pattern_inbox_fix(struct pool *pool, const char *pattern, char delim)
{
        if (strncasecmp(pattern, "INBOX", 5) != 0 ||
            (pattern[5] != '\0' && pattern[5] != delim))
                return pattern;
        char *p = pool_strdup(pool, pattern);
        memcpy(p, "INBOX", 5);
        return p;
}

static bool list_parse_selection(struct imap_cmd *cmd, const struct imap_arg *arg,
                                 struct list_opts *o)
{
        const struct imap_arg *l;
        size_t n;
        (void)imap_arg_get_list(arg, &l, &n);
        for (size_t i = 0; i < n; i++) {
                if (imap_arg_atom_equals(&l[i], "SUBSCRIBED"))
                        o->sel_subscribed = o->ret_subscribed = true;
                else if (imap_arg_atom_equals(&l[i], "SPECIAL-USE"))
                        o->sel_special = o->ret_special = true;
                else if (imap_arg_atom_equals(&l[i], "RECURSIVEMATCH"))
                        o->recursive = true;
                else if (!imap_arg_atom_equals(&l[i], "REMOTE"))
                        return false;
        }
        /* RFC 5258 §3: RECURSIVEMATCH needs another selection option. */
        return !o->recursive || o->sel_subscribed || o->sel_special;
}

static bool list_parse_return(struct imap_cmd *cmd, const struct imap_arg *arg,
                              struct list_opts *o)
{
        const struct imap_arg *l;
        size_t n;
        if (!imap_arg_get_list(arg, &l, &n))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (imap_arg_atom_equals(&l[i], "SUBSCRIBED"))
                        o->ret_subscribed = true;
                else if (imap_arg_atom_equals(&l[i], "CHILDREN"))
                        o->ret_children = true;
                else if (imap_arg_atom_equals(&l[i], "SPECIAL-USE"))
                        o->ret_special = true;
                else if (imap_arg_atom_equals(&l[i], "STATUS") && i + 1 < n &&
                         imap_arg_get_list(&l[i + 1], &o->status_items, &o->status_count) &&
                         imap_status_items_valid(o->status_items, o->status_count))
                        i++;
                else
                        return false;
        }
        return true;
}

/* Adds reference + pattern(s) from arg (astring or list of them). */
static bool list_parse_patterns(struct imap_cmd *cmd, const char *ref,
                                const struct imap_arg *arg, struct list_opts *o)
{
        const struct imap_arg *l = arg;
        size_t n = 1;
        char delim = cmd->session->daemon->delimiter;
        if (arg->type == IMAP_ARG_LIST)
                (void)imap_arg_get_list(arg, &l, &n);
        o->patterns = pool_alloc(cmd->pool, (n + 1) * sizeof(*o->patterns));
        for (size_t i = 0; i < n; i++) {
                const char *pat;
                if (!imap_arg_astring(&l[i], &pat, NULL))
                        return false;
                const char *full = pool_printf(cmd->pool, "%s%s", ref, pat);
                if (strlen(full) > LIST_MAX_PATTERN)
                        return false;
                o->patterns[o->pattern_count++] = pattern_inbox_fix(cmd->pool, full, delim);
        }
        return true;
}

static int list_box_cmp(const void *a, const void *b)
{
        return strcmp(((const struct list_box *)a)->name, ((const struct list_box *)b)->name);
}

static struct list_box *boxes_find(struct list_box *boxes, size_t n, const char *name)
{
        struct list_box key = { .name = name };
        return bsearch(&key, boxes, n, sizeof(*boxes), list_box_cmp);
}

/* Existing mailboxes plus subscribed names, sorted, merged. */
static enum cove_store_err list_gather(struct imap_cmd *cmd, struct store_txn *txn,
                                       struct list_box **boxes_r, size_t *n_r)
{
        struct buf b;
        buf_init(&b, 0);
        struct store_iter *iter;
        uint32_t user = cmd->session->user_id;
        enum cove_store_err err = store_mailbox_iter_init(txn, user, &iter);
        const struct cove_store_mailbox *mbox;
        while (err == COVE_STORE_OK && (err = store_mailbox_iter_next(iter, &mbox)) == COVE_STORE_OK) {
                struct list_box box = { .name = pool_strdup(cmd->pool, mbox->name),
                                        .special = mbox->special_use, .exists = true };
                buf_append(&b, &box, sizeof(box));
        }
        if (err == COVE_STORE_NOTFOUND) {
                store_iter_deinit(&iter);
                err = store_subscription_iter_init(txn, user, &iter);
        }
        size_t existing = b.len / sizeof(struct list_box);
        const char *name;
        while (err == COVE_STORE_OK && (err = store_subscription_iter_next(iter, &name)) == COVE_STORE_OK) {
                struct list_box *found = boxes_find((struct list_box *)(void *)b.data, existing,
                                                    name);
                if (found != NULL) {
                        found->subscribed = true;
                        continue;
                }
                struct list_box box = { .name = pool_strdup(cmd->pool, name), .subscribed = true };
                buf_append(&b, &box, sizeof(box));
        }
        if (iter != NULL)
                store_iter_deinit(&iter);
        size_t n = b.len / sizeof(struct list_box);
        struct list_box *boxes = pool_memdup(cmd->pool, b.data == NULL ? "" : b.data, b.len + 1);
        buf_free(&b);
        qsort(boxes, n, sizeof(*boxes), list_box_cmp);
        *boxes_r = boxes;
        *n_r = n;
        return err == COVE_STORE_NOTFOUND ? COVE_STORE_OK : err;
}

static bool has_children(struct imap_cmd *cmd, const struct list_box *boxes, size_t n,
                         size_t i, bool subscribed_only)
{
        size_t len = strlen(boxes[i].name);
        for (size_t j = 0; j < n; j++) {
                if (j == i || !boxes[j].exists || (subscribed_only && !boxes[j].subscribed))
                        continue;
                if (strncmp(boxes[j].name, boxes[i].name, len) == 0 &&
                    boxes[j].name[len] == COVE_STORE_HIERARCHY_SEP)
                        return true;
        }
        return false;
}

static void list_write(struct imap_cmd *cmd, const struct list_opts *o,
                       const struct list_box *boxes, size_t n, size_t i, const char *imap_name)
{
        const struct list_box *box = &boxes[i];
        char delim = cmd->session->daemon->delimiter;
        struct buf b;
        buf_init(&b, 0);
        buf_printf(&b, "* %s (", o->lsub ? "LSUB" : "LIST");
        size_t start = b.len;
        if (!box->exists)
                buf_append_str(&b, o->lsub ? " \\Noselect" : " \\NonExistent");
        else if (!o->lsub)
                buf_append_str(&b, has_children(cmd, boxes, n, i, false) ?
                               " \\HasChildren" : " \\HasNoChildren");
        if (box->subscribed && o->ret_subscribed)
                buf_append_str(&b, " \\Subscribed");
        if (box->exists && !o->lsub)
                imap_special_use_append(&b, box->special);
        if (b.len > start) {
                memmove(b.data + start, b.data + start + 1, b.len - start - 1);
                b.len--;
        }
        buf_printf(&b, ") \"%c\" ", delim);
        imap_buf_string(&b, imap_name, strlen(imap_name));
        buf_append_str(&b, "\r\n");
        imap_reply_write(cmd, b.data, b.len);
        buf_free(&b);
}

static bool list_selected(const struct list_opts *o, const struct list_box *box)
{
        if ((o->sel_subscribed || o->lsub) && !box->subscribed)
                return false;
        if (!(o->sel_subscribed || o->lsub) && !box->exists)
                return false;
        if (o->sel_special && box->special == 0)
                return false;
        return true;
}

static enum cmd_result list_run(struct imap_cmd *cmd, struct list_opts *o)
{
        struct store_txn *txn;
        struct list_box *boxes;
        size_t n;
        char delim = cmd->session->daemon->delimiter;
        enum cove_store_err err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = list_gather(cmd, txn, &boxes, &n);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, cmd->name);
        for (size_t i = 0; i < n; i++) {
                if (!list_selected(o, &boxes[i]))
                        continue;
                const char *imap_name = imap_mailbox_from_store(cmd, boxes[i].name);
                if (imap_name == NULL)
                        continue;   /* not representable with this delimiter */
                bool match = false;
                for (size_t p = 0; p < o->pattern_count && !match; p++)
                        match = list_match(cmd->pool, o->patterns[p], imap_name, delim);
                if (!match)
                        continue;
                list_write(cmd, o, boxes, n, i, imap_name);
                const struct cove_store_mailbox *mbox;
                if (o->status_items != NULL && boxes[i].exists &&
                    store_mailbox_lookup(txn, cmd->session->user_id, boxes[i].name,
                                         &mbox) == COVE_STORE_OK)
                        imap_status_write(cmd, mbox, imap_name, o->status_items,
                                          o->status_count);
        }
        return imap_reply_ok(cmd, "%s completed", cmd->name);
}

enum cmd_result imap_cmd_list(struct imap_cmd *cmd)
{
        struct list_opts o = { 0 };
        size_t i = 0;
        const char *ref;
        if (cmd->args[0].type == IMAP_ARG_LIST) {
                if (!list_parse_selection(cmd, &cmd->args[0], &o))
                        return imap_reply_bad(cmd, "Invalid LIST selection options");
                i++;
        }
        if (i + 2 > cmd->arg_count || !imap_arg_astring(&cmd->args[i], &ref, NULL))
                return imap_reply_bad(cmd, "Missing LIST arguments");
        if (!list_parse_patterns(cmd, ref, &cmd->args[i + 1], &o))
                return imap_reply_bad(cmd, "Invalid LIST pattern");
        i += 2;
        if (i < cmd->arg_count) {
                if (!imap_arg_atom_equals(&cmd->args[i], "RETURN") || i + 2 != cmd->arg_count ||
                    !list_parse_return(cmd, &cmd->args[i + 1], &o))
                        return imap_reply_bad(cmd, "Invalid LIST return options");
        }
        if (o.pattern_count == 1 && o.patterns[0][0] == '\0' && cmd->args[0].type != IMAP_ARG_LIST) {
                /* RFC 3501 §6.3.8: LIST "" "" asks for the delimiter. */
                imap_reply_untagged(cmd, "LIST (\\Noselect) \"%c\" \"\"",
                                    cmd->session->daemon->delimiter);
                return imap_reply_ok(cmd, "LIST completed");
        }
        return list_run(cmd, &o);
}

enum cmd_result imap_cmd_lsub(struct imap_cmd *cmd)
{
        struct list_opts o = { .lsub = true };
        const char *ref;
        (void)imap_arg_astring(&cmd->args[0], &ref, NULL);
        if (!list_parse_patterns(cmd, ref, &cmd->args[1], &o))
                return imap_reply_bad(cmd, "Invalid LSUB pattern");
        return list_run(cmd, &o);
}

/* store-mailbox.c - facade operations on users, mailboxes and subscriptions:
 * name normalisation, default mailboxes, missing parents, RFC 3501 rename and
 * delete rules, and the expunge guard for operations that empty INBOX.
 *
 * Does not touch message contents (store-msg.c) nor lock files (lock.c).
 */
#include "store-private.h"

#include <string.h>

#include "log.h"
#include "pool.h"

/* Every new user gets these (RFC 6154 special-use). */
static const struct {
        const char *name;
        uint32_t special_use;
} default_mailboxes[] = {
        { "INBOX", 0 },
        { "Drafts", COVE_SPECIAL_DRAFTS },
        { "Sent", COVE_SPECIAL_SENT },
        { "Trash", COVE_SPECIAL_TRASH },
        { "Junk", COVE_SPECIAL_JUNK },
        { "Archive", COVE_SPECIAL_ARCHIVE },
};

#define SPECIAL_USE_MASK (COVE_SPECIAL_ALL | COVE_SPECIAL_ARCHIVE | COVE_SPECIAL_DRAFTS | \
                          COVE_SPECIAL_FLAGGED | COVE_SPECIAL_JUNK | COVE_SPECIAL_SENT | \
                          COVE_SPECIAL_TRASH)

static const struct cove_store_ops *ops_of(struct store_txn *txn)
{
        return txn->store->ops;
}

/* ---- users ---- */

enum cove_store_err store_user_create(struct store_txn *txn, const char *name,
                                      const char *password_hash, const char *scram_secret,
                                      uint32_t *user_id_r)
{
        const char *normal, *error;
        *user_id_r = 0;
        enum cove_store_err err = store_txn_need_write(txn, "create user");
        if (err != COVE_STORE_OK)
                return err;
        if (!store_user_name_normalize(txn->pool, name, &normal, &error))
                return store_fail(txn->store, COVE_STORE_NOPERM, "create user: %s", error);
        const struct cove_store_user user = {
                .name = normal,
                .password_hash = password_hash != NULL ? password_hash : "",
                .scram_secret = scram_secret != NULL ? scram_secret : "",
        };
        uint32_t user_id;
        err = ops_of(txn)->user_create(txn->engine, &user, &user_id);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "create user %s", normal));
        for (size_t i = 0; i < N_ELEMENTS(default_mailboxes); i++) {
                uint32_t mailbox_id;
                err = ops_of(txn)->mailbox_create(txn->engine, user_id, default_mailboxes[i].name,
                                                  default_mailboxes[i].special_use, &mailbox_id);
                if (err != COVE_STORE_OK)
                        return store_engine_fail(txn->store, err,
                                                 pool_printf(txn->pool, "create user %s: "
                                                             "mailbox %s", normal,
                                                             default_mailboxes[i].name));
        }
        store_txn_touch(txn, user_id);
        *user_id_r = user_id;
        return COVE_STORE_OK;
}

enum cove_store_err store_user_lookup(struct store_txn *txn, const char *name,
                                      const struct cove_store_user **user_r)
{
        const char *normal, *error;
        *user_r = NULL;
        if (!store_user_name_normalize(txn->pool, name, &normal, &error))
                return store_fail(txn->store, COVE_STORE_NOTFOUND, "user lookup: %s", error);
        enum cove_store_err err = ops_of(txn)->user_lookup(txn->engine, normal, user_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "user %s", normal));
        return COVE_STORE_OK;
}

enum cove_store_err store_user_get(struct store_txn *txn, uint32_t user_id,
                                   const struct cove_store_user **user_r)
{
        *user_r = NULL;
        enum cove_store_err err = ops_of(txn)->user_get(txn->engine, user_id, user_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "user %u", user_id));
        return COVE_STORE_OK;
}

static enum cove_store_err user_update(struct store_txn *txn, uint32_t user_id,
                                       unsigned fields, const struct cove_store_user *values)
{
        enum cove_store_err err = store_txn_need_write(txn, "update user");
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->user_update(txn->engine, user_id, fields, values);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "update user %u", user_id));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

enum cove_store_err store_user_set_password(struct store_txn *txn, uint32_t user_id,
                                            const char *password_hash,
                                            const char *scram_secret)
{
        const struct cove_store_user values = {
                .password_hash = password_hash != NULL ? password_hash : "",
                .scram_secret = scram_secret != NULL ? scram_secret : "",
        };
        return user_update(txn, user_id, COVE_USER_SET_PASSWORD, &values);
}

enum cove_store_err store_user_set_apop_secret(struct store_txn *txn, uint32_t user_id,
                                              const char *secret)
{
        const struct cove_store_user values = {
                .apop_secret = secret != NULL ? secret : "",
        };
        return user_update(txn, user_id, COVE_USER_SET_APOP, &values);
}

enum cove_store_err store_user_set_quota(struct store_txn *txn, uint32_t user_id,
                                         uint64_t bytes, uint64_t messages)
{
        const struct cove_store_user values = {
                .quota_bytes = bytes,
                .quota_messages = messages,
        };
        return user_update(txn, user_id, COVE_USER_SET_QUOTA, &values);
}

enum cove_store_err store_user_delete(struct store_txn *txn, uint32_t user_id)
{
        enum cove_store_err err = store_txn_need_write(txn, "delete user");
        /* Deleting the user empties the maildrop under a POP3 session. */
        if (err == COVE_STORE_OK)
                err = store_txn_guard_expunge(txn, user_id);
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->user_delete(txn->engine, user_id);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "delete user %u", user_id));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

enum cove_store_err store_user_iter_init(struct store_txn *txn, struct store_iter **iter_r)
{
        struct cove_store_iter *iter;
        *iter_r = NULL;
        enum cove_store_err err = ops_of(txn)->user_iter_init(txn->engine, &iter);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err, "list users");
        *iter_r = store_iter_wrap(txn->store, iter);
        return COVE_STORE_OK;
}

enum cove_store_err store_user_iter_next(struct store_iter *iter,
                                         const struct cove_store_user **user_r)
{
        enum cove_store_err err = iter->store->ops->user_iter_next(iter->engine, user_r);
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return store_engine_fail(iter->store, err, "list users");
        return err;
}

/* ---- mailboxes ---- */

/* Looks up a normalised name; OK with *id_r, NOTFOUND, or an error. */
static enum cove_store_err mailbox_find(struct store_txn *txn, uint32_t user_id,
                                        const char *name, uint32_t *id_r)
{
        const struct cove_store_mailbox *mb;
        enum cove_store_err err = ops_of(txn)->mailbox_lookup(txn->engine, user_id, name, &mb);
        *id_r = err == COVE_STORE_OK ? mb->id : 0;
        return err;
}

/* Creates every missing ancestor of the normalised name (not name itself). */
static enum cove_store_err parents_create(struct store_txn *txn, uint32_t user_id,
                                          const char *name)
{
        for (const char *sep = strchr(name, COVE_STORE_HIERARCHY_SEP); sep != NULL;
             sep = strchr(sep + 1, COVE_STORE_HIERARCHY_SEP)) {
                const char *parent = pool_strndup(txn->pool, name, (size_t)(sep - name));
                uint32_t id;
                enum cove_store_err err = mailbox_find(txn, user_id, parent, &id);
                if (err == COVE_STORE_NOTFOUND)
                        err = ops_of(txn)->mailbox_create(txn->engine, user_id, parent, 0, &id);
                if (err != COVE_STORE_OK)
                        return store_engine_fail(txn->store, err,
                                                 pool_printf(txn->pool, "create mailbox %s",
                                                             parent));
        }
        return COVE_STORE_OK;
}

/* Creates the normalised name with missing parents; EXISTS if taken. */
static enum cove_store_err mailbox_create_normal(struct store_txn *txn, uint32_t user_id,
                                                 const char *name, uint32_t special_use,
                                                 uint32_t *mailbox_id_r)
{
        uint32_t id;
        enum cove_store_err err = mailbox_find(txn, user_id, name, &id);
        if (err == COVE_STORE_OK)
                return store_fail(txn->store, COVE_STORE_EXISTS, "create mailbox %s: %s", name,
                                  cove_store_strerror(COVE_STORE_EXISTS));
        if (err == COVE_STORE_NOTFOUND)
                err = parents_create(txn, user_id, name);
        else
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "mailbox %s", name));
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->mailbox_create(txn->engine, user_id, name, special_use, mailbox_id_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "create mailbox %s", name));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

enum cove_store_err store_mailbox_create(struct store_txn *txn, uint32_t user_id,
                                         const char *name, uint32_t special_use,
                                         uint32_t *mailbox_id_r)
{
        const char *normal, *error;
        uint32_t id = 0;
        enum cove_store_err err = store_txn_need_write(txn, "create mailbox");
        if (err != COVE_STORE_OK)
                return err;
        if (!store_mailbox_name_normalize(txn->pool, name, &normal, &error))
                return store_fail(txn->store, COVE_STORE_NOPERM, "create mailbox: %s", error);
        if ((special_use & ~SPECIAL_USE_MASK) != 0)
                return store_fail(txn->store, COVE_STORE_NOPERM,
                                  "create mailbox %s: unknown special-use bits 0x%x", normal,
                                  special_use & ~SPECIAL_USE_MASK);
        err = mailbox_create_normal(txn, user_id, normal, special_use, &id);
        if (mailbox_id_r != NULL)
                *mailbox_id_r = id;
        return err;
}

enum cove_store_err store_mailbox_lookup(struct store_txn *txn, uint32_t user_id,
                                         const char *name,
                                         const struct cove_store_mailbox **mailbox_r)
{
        const char *normal, *error;
        *mailbox_r = NULL;
        if (!store_mailbox_name_normalize(txn->pool, name, &normal, &error))
                return store_fail(txn->store, COVE_STORE_NOTFOUND, "mailbox lookup: %s", error);
        enum cove_store_err err = ops_of(txn)->mailbox_lookup(txn->engine, user_id, normal,
                                                              mailbox_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "mailbox %s", normal));
        return COVE_STORE_OK;
}

enum cove_store_err store_mailbox_get(struct store_txn *txn, uint32_t mailbox_id,
                                      const struct cove_store_mailbox **mailbox_r)
{
        *mailbox_r = NULL;
        enum cove_store_err err = ops_of(txn)->mailbox_get(txn->engine, mailbox_id, mailbox_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "mailbox %u", mailbox_id));
        return COVE_STORE_OK;
}

bool store_tracks_recent(const struct store *store)
{
        return store->ops->mailbox_advance_recent != NULL;
}

enum cove_store_err store_mailbox_advance_recent(struct store_txn *txn, uint32_t mailbox_id,
                                                 uint32_t uid, uint32_t *old_r)
{
        if (old_r != NULL)
                *old_r = 0;
        if (!store_tracks_recent(txn->store))
                return store_fail(txn->store, COVE_STORE_NOPERM,
                                  "engine does not track \\Recent");
        enum cove_store_err err = store_txn_need_write(txn, "advance recent");
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->mailbox_advance_recent(txn->engine, mailbox_id, uid, old_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "advance recent of mailbox %u",
                                                     mailbox_id));
        return COVE_STORE_OK;
}

/* The UIDs of every message in mailbox_id, in txn->pool. */
static enum cove_store_err mailbox_uids(struct store_txn *txn, uint32_t mailbox_id,
                                        uint32_t **uids_r, size_t *count_r)
{
        struct cove_store_iter *iter;
        size_t count = 0, cap = 0;
        uint32_t *uids = NULL;
        const struct cove_store_msg *msg;
        enum cove_store_err err = ops_of(txn)->msg_iter_init(txn->engine, mailbox_id, 1,
                                                             UINT32_MAX, &iter);
        if (err != COVE_STORE_OK)
                return err;
        while ((err = ops_of(txn)->msg_iter_next(iter, &msg)) == COVE_STORE_OK) {
                if (count == cap) {
                        size_t ncap = cap == 0 ? 64 : cap * 2;
                        uids = pool_realloc(txn->pool, uids, cap * sizeof(*uids),
                                            ncap * sizeof(*uids));
                        cap = ncap;
                }
                uids[count++] = msg->uid;
        }
        ops_of(txn)->iter_deinit(&iter);
        if (err != COVE_STORE_NOTFOUND)
                return err;
        *uids_r = uids;
        *count_r = count;
        return COVE_STORE_OK;
}

/* RFC 3501 §6.3.5: renaming INBOX moves its messages to a new mailbox with
   the given name and leaves INBOX, empty; INBOX's children stay where they
   are. Moving messages out of INBOX needs the expunge guard. */
static enum cove_store_err rename_inbox(struct store_txn *txn, uint32_t user_id,
                                        const char *new_name)
{
        uint32_t inbox_id, new_id, *uids;
        size_t count;
        enum cove_store_err err = mailbox_find(txn, user_id, "INBOX", &inbox_id);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err, "rename INBOX");
        err = store_txn_guard_expunge(txn, user_id);
        if (err == COVE_STORE_OK)
                err = mailbox_create_normal(txn, user_id, new_name, 0, &new_id);
        if (err != COVE_STORE_OK)
                return err;
        err = mailbox_uids(txn, inbox_id, &uids, &count);
        for (size_t i = 0; i < count && err == COVE_STORE_OK; i++) {
                struct cove_store_saved saved;
                err = ops_of(txn)->msg_move(txn->engine, inbox_id, uids[i], new_id, &saved);
        }
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "rename INBOX to %s",
                                                     new_name));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

/* EXISTS when some child "old/x" of the mailbox would land on a taken
   "new/x". The names are collected first: lookups may not run while an
   engine iterator is live on the same txn. */
static enum cove_store_err rename_children_check(struct store_txn *txn, uint32_t user_id,
                                                 const char *old_name, const char *new_name)
{
        struct cove_store_iter *iter;
        const char *prefix = pool_printf(txn->pool, "%s/", old_name);
        size_t plen = strlen(prefix), count = 0, cap = 0;
        const char **targets = NULL;
        const struct cove_store_mailbox *mb;
        enum cove_store_err err = ops_of(txn)->mailbox_iter_init(txn->engine, user_id, &iter);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err, "rename: list mailboxes");
        while ((err = ops_of(txn)->mailbox_iter_next(iter, &mb)) == COVE_STORE_OK) {
                if (strncmp(mb->name, prefix, plen) != 0)
                        continue;
                if (count == cap) {
                        size_t ncap = cap == 0 ? 8 : cap * 2;
                        targets = pool_realloc(txn->pool, targets, cap * sizeof(*targets),
                                               ncap * sizeof(*targets));
                        cap = ncap;
                }
                targets[count++] = pool_printf(txn->pool, "%s/%s", new_name, mb->name + plen);
        }
        ops_of(txn)->iter_deinit(&iter);
        if (err != COVE_STORE_NOTFOUND)
                return store_engine_fail(txn->store, err, "rename: list mailboxes");
        for (size_t i = 0; i < count; i++) {
                uint32_t id;
                err = mailbox_find(txn, user_id, targets[i], &id);
                if (err == COVE_STORE_OK)
                        return store_fail(txn->store, COVE_STORE_EXISTS, "rename %s to %s: %s "
                                          "already exists", old_name, new_name, targets[i]);
                if (err != COVE_STORE_NOTFOUND)
                        return store_engine_fail(txn->store, err, "rename");
        }
        return COVE_STORE_OK;
}

static enum cove_store_err rename_normal(struct store_txn *txn, uint32_t user_id,
                                         const char *old_name, const char *new_name)
{
        uint32_t old_id, new_id;
        size_t olen = strlen(old_name);
        enum cove_store_err err = mailbox_find(txn, user_id, old_name, &old_id);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "rename %s", old_name));
        err = mailbox_find(txn, user_id, new_name, &new_id);
        if (err == COVE_STORE_OK)
                return store_fail(txn->store, COVE_STORE_EXISTS, "rename %s to %s: target "
                                  "already exists", old_name, new_name);
        if (err != COVE_STORE_NOTFOUND)
                return store_engine_fail(txn->store, err, "rename");
        if (strncmp(new_name, old_name, olen) == 0 && new_name[olen] == COVE_STORE_HIERARCHY_SEP)
                return store_fail(txn->store, COVE_STORE_NOPERM, "rename %s to %s: cannot "
                                  "move a mailbox into its own child", old_name, new_name);
        err = rename_children_check(txn, user_id, old_name, new_name);
        if (err == COVE_STORE_OK)
                err = parents_create(txn, user_id, new_name);
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->mailbox_rename(txn->engine, old_id, new_name);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err, pool_printf(txn->pool, "rename %s "
                                                                      "to %s", old_name,
                                                                      new_name));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

enum cove_store_err store_mailbox_rename(struct store_txn *txn, uint32_t user_id,
                                         const char *old_name, const char *new_name)
{
        const char *old_normal, *new_normal, *error;
        enum cove_store_err err = store_txn_need_write(txn, "rename mailbox");
        if (err != COVE_STORE_OK)
                return err;
        if (!store_mailbox_name_normalize(txn->pool, old_name, &old_normal, &error))
                return store_fail(txn->store, COVE_STORE_NOTFOUND, "rename: %s", error);
        if (!store_mailbox_name_normalize(txn->pool, new_name, &new_normal, &error))
                return store_fail(txn->store, COVE_STORE_NOPERM, "rename to: %s", error);
        if (strcmp(old_normal, "INBOX") == 0)
                return rename_inbox(txn, user_id, new_normal);
        return rename_normal(txn, user_id, old_normal, new_normal);
}

enum cove_store_err store_mailbox_delete(struct store_txn *txn, uint32_t user_id,
                                         const char *name)
{
        const char *normal, *error;
        uint32_t id;
        enum cove_store_err err = store_txn_need_write(txn, "delete mailbox");
        if (err != COVE_STORE_OK)
                return err;
        if (!store_mailbox_name_normalize(txn->pool, name, &normal, &error))
                return store_fail(txn->store, COVE_STORE_NOTFOUND, "delete mailbox: %s", error);
        /* RFC 3501 §6.3.4: deleting INBOX is an error. */
        if (strcmp(normal, "INBOX") == 0)
                return store_fail(txn->store, COVE_STORE_NOPERM, "delete mailbox INBOX: "
                                  "INBOX cannot be deleted");
        err = mailbox_find(txn, user_id, normal, &id);
        if (err == COVE_STORE_OK)
                err = ops_of(txn)->mailbox_delete(txn->engine, id);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "delete mailbox %s", normal));
        if (txn->cache_mailbox_id == id)
                txn->cache_mailbox_id = 0;
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

enum cove_store_err store_mailbox_iter_init(struct store_txn *txn, uint32_t user_id,
                                            struct store_iter **iter_r)
{
        struct cove_store_iter *iter;
        *iter_r = NULL;
        enum cove_store_err err = ops_of(txn)->mailbox_iter_init(txn->engine, user_id, &iter);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err, "list mailboxes");
        *iter_r = store_iter_wrap(txn->store, iter);
        return COVE_STORE_OK;
}

enum cove_store_err store_mailbox_iter_next(struct store_iter *iter,
                                            const struct cove_store_mailbox **mailbox_r)
{
        enum cove_store_err err = iter->store->ops->mailbox_iter_next(iter->engine, mailbox_r);
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return store_engine_fail(iter->store, err, "list mailboxes");
        return err;
}

/* ---- subscriptions ---- */

enum cove_store_err store_subscription_set(struct store_txn *txn, uint32_t user_id,
                                           const char *name, bool subscribed)
{
        const char *normal, *error;
        enum cove_store_err err = store_txn_need_write(txn, "subscribe");
        if (err != COVE_STORE_OK)
                return err;
        if (!store_mailbox_name_normalize(txn->pool, name, &normal, &error))
                return store_fail(txn->store, COVE_STORE_NOPERM, "subscribe: %s", error);
        err = ops_of(txn)->subscription_set(txn->engine, user_id, normal, subscribed);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "subscribe %s", normal));
        return COVE_STORE_OK;
}

enum cove_store_err store_subscription_iter_init(struct store_txn *txn, uint32_t user_id,
                                                 struct store_iter **iter_r)
{
        struct cove_store_iter *iter;
        *iter_r = NULL;
        enum cove_store_err err = ops_of(txn)->subscription_iter_init(txn->engine, user_id,
                                                                      &iter);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err, "list subscriptions");
        *iter_r = store_iter_wrap(txn->store, iter);
        return COVE_STORE_OK;
}

enum cove_store_err store_subscription_iter_next(struct store_iter *iter, const char **name_r)
{
        enum cove_store_err err = iter->store->ops->subscription_iter_next(iter->engine, name_r);
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return store_engine_fail(iter->store, err, "list subscriptions");
        return err;
}

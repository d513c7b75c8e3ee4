/* store-msg.c - facade operations on messages: append (MIME structure,
 * quota), flags, expunge/copy/move (expunge guard on INBOX), change logs,
 * iterators and byte streams.
 *
 * Does not interpret message bytes beyond handing them to the MIME parser;
 * never logs them.
 */
#include "store-private.h"

#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "pool.h"

static const struct cove_store_ops *ops_of(struct store_txn *txn)
{
        return txn->store->ops;
}

struct store_iter *store_iter_wrap(struct store *store, struct cove_store_iter *engine)
{
        struct store_iter *iter = xcalloc(1, sizeof(*iter));
        iter->store = store;
        iter->engine = engine;
        return iter;
}

void store_iter_deinit(struct store_iter **iterp)
{
        struct store_iter *iter = *iterp;
        if (iter == NULL)
                return;
        *iterp = NULL;
        iter->store->ops->iter_deinit(&iter->engine);
        free(iter);
}

/* OVERQUOTA when adding bytes/messages to user_id's usage would pass a
   limit (0 = unlimited). */
static enum cove_store_err quota_check(struct store_txn *txn, uint32_t user_id,
                                       uint64_t bytes, uint64_t messages)
{
        const struct cove_store_user *user;
        enum cove_store_err err = ops_of(txn)->user_get(txn->engine, user_id, &user);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "user %u", user_id));
        if (user->quota_bytes != 0 &&
            (bytes > user->quota_bytes || user->used_bytes > user->quota_bytes - bytes))
                return store_fail(txn->store, COVE_STORE_OVERQUOTA, "user %u: storage quota "
                                  "exceeded (%llu + %llu > %llu bytes)", user_id,
                                  (unsigned long long)user->used_bytes,
                                  (unsigned long long)bytes,
                                  (unsigned long long)user->quota_bytes);
        if (user->quota_messages != 0 &&
            user->used_messages + messages > user->quota_messages)
                return store_fail(txn->store, COVE_STORE_OVERQUOTA, "user %u: message quota "
                                  "exceeded (%llu + %llu > %llu messages)", user_id,
                                  (unsigned long long)user->used_messages,
                                  (unsigned long long)messages,
                                  (unsigned long long)user->quota_messages);
        return COVE_STORE_OK;
}

/* Checks the parts; *size_r is the message size. */
static bool parts_check(const struct cove_store_part *parts, size_t count, uint64_t *size_r,
                        const char **error_r)
{
        uint64_t size = 0;
        if (count == 0 || count > COVE_STORE_MAX_PARTS || parts == NULL) {
                *error_r = "message must have 1..8 parts";
                return false;
        }
        for (size_t i = 0; i < count; i++) {
                if (parts[i].data == NULL && parts[i].size > 0) {
                        *error_r = "message part has no data";
                        return false;
                }
                if (parts[i].size > UINT64_MAX - size || parts[i].size > SIZE_MAX) {
                        *error_r = "message is too large";
                        return false;
                }
                size += parts[i].size;
        }
        *size_r = size;
        return true;
}

/* Parses the message into the cached structure blob, in pool. */
static bool structure_make(struct pool *pool, const struct cove_store_part *parts,
                           size_t count, const void **blob_r, size_t *len_r)
{
        struct mime_parser *parser = mime_parser_create(pool, NULL);
        for (size_t i = 0; i < count; i++)
                mime_parser_feed(parser, parts[i].data, (size_t)parts[i].size);
        return mime_structure_serialize(pool, mime_parser_finish(parser), blob_r, len_r) == 0;
}

static enum cove_store_err append_checks(struct store_txn *txn, const struct store_append *msg,
                                         uint64_t *size_r, const char *const **keywords_r,
                                         size_t *keyword_count_r)
{
        const char *error;
        enum cove_store_err err = store_txn_need_write(txn, "append");
        if (err != COVE_STORE_OK)
                return err;
        if (msg == NULL || !parts_check(msg->parts, msg->part_count, size_r, &error))
                return store_fail(txn->store, COVE_STORE_NOPERM, "append: %s",
                                  msg == NULL ? "no message" : error);
        if ((msg->flags & ~COVE_FLAG_ALL) != 0)
                return store_fail(txn->store, COVE_STORE_NOPERM, "append: unknown flag bits");
        if (!store_keywords_check(txn->pool, msg->keywords, msg->keyword_count, keywords_r,
                                  keyword_count_r, &error))
                return store_fail(txn->store, COVE_STORE_NOPERM, "append: %s", error);
        return COVE_STORE_OK;
}

enum cove_store_err store_msg_append(struct store_txn *txn, uint32_t mailbox_id,
                                     const struct store_append *msg,
                                     struct cove_store_saved *saved_r)
{
        uint64_t size = 0;
        uint32_t user_id;
        bool is_inbox;
        const char *const *keywords;
        size_t keyword_count;
        struct cove_store_saved ignored;
        if (saved_r == NULL)
                saved_r = &ignored;
        memset(saved_r, 0, sizeof(*saved_r));
        enum cove_store_err err = append_checks(txn, msg, &size, &keywords, &keyword_count);
        if (err == COVE_STORE_OK)
                err = store_mailbox_owner(txn, mailbox_id, &user_id, &is_inbox);
        if (err == COVE_STORE_OK)
                err = quota_check(txn, user_id, size, 1);
        if (err != COVE_STORE_OK)
                return err;
        /* The parse lives only until the engine has copied the blob. */
        struct pool *mime_pool = pool_create("store mime", 8192);
        struct cove_store_append append = {
                .parts = msg->parts,
                .part_count = msg->part_count,
                .flags = msg->flags,
                .keywords = keywords,
                .keyword_count = keyword_count,
                .internal_date = msg->internal_date != 0 ? msg->internal_date
                                                         : store_host()->now(),
                .internal_tz = msg->internal_date != 0 ? msg->internal_tz : 0,
                .uidl = msg->uidl,
        };
        if (!structure_make(mime_pool, msg->parts, msg->part_count, &append.structure,
                            &append.structure_len)) {
                pool_destroy(&mime_pool);
                return store_fail(txn->store, COVE_STORE_INTERNAL,
                                  "append: cannot serialize the MIME structure");
        }
        err = ops_of(txn)->msg_append(txn->engine, mailbox_id, &append, saved_r);
        pool_destroy(&mime_pool);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "append to mailbox %u",
                                                     mailbox_id));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

enum cove_store_err store_msg_get(struct store_txn *txn, uint32_t mailbox_id, uint32_t uid,
                                  const struct cove_store_msg **msg_r)
{
        *msg_r = NULL;
        enum cove_store_err err = ops_of(txn)->msg_get(txn->engine, mailbox_id, uid, msg_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "mailbox %u uid %u",
                                                     mailbox_id, uid));
        return COVE_STORE_OK;
}

enum cove_store_err store_msg_iter_init(struct store_txn *txn, uint32_t mailbox_id,
                                        uint32_t uid_first, uint32_t uid_last,
                                        struct store_iter **iter_r)
{
        struct cove_store_iter *iter;
        *iter_r = NULL;
        enum cove_store_err err = ops_of(txn)->msg_iter_init(txn->engine, mailbox_id,
                                                             uid_first, uid_last, &iter);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "list mailbox %u",
                                                     mailbox_id));
        *iter_r = store_iter_wrap(txn->store, iter);
        return COVE_STORE_OK;
}

enum cove_store_err store_msg_iter_next(struct store_iter *iter,
                                        const struct cove_store_msg **msg_r)
{
        enum cove_store_err err = iter->store->ops->msg_iter_next(iter->engine, msg_r);
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return store_engine_fail(iter->store, err, "list messages");
        return err;
}

enum cove_store_err store_msg_update_flags(struct store_txn *txn, uint32_t mailbox_id,
                                           uint32_t uid, enum cove_store_flag_op op,
                                           uint32_t flags, const char *const *keywords,
                                           size_t keyword_count, uint64_t *modseq_r)
{
        const char *const *kw;
        const char *error;
        size_t kw_count;
        uint32_t user_id;
        bool is_inbox;
        enum cove_store_err err = store_txn_need_write(txn, "store flags");
        if (err != COVE_STORE_OK)
                return err;
        if ((flags & ~COVE_FLAG_ALL) != 0 || (unsigned)op > COVE_STORE_FLAGS_REMOVE)
                return store_fail(txn->store, COVE_STORE_NOPERM,
                                  "store flags: unknown flag bits or operation");
        if (!store_keywords_check(txn->pool, keywords, keyword_count, &kw, &kw_count, &error))
                return store_fail(txn->store, COVE_STORE_NOPERM, "store flags: %s", error);
        err = store_mailbox_owner(txn, mailbox_id, &user_id, &is_inbox);
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->msg_update_flags(txn->engine, mailbox_id, uid, op, flags, kw,
                                            kw_count, modseq_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "store flags mailbox %u "
                                                     "uid %u", mailbox_id, uid));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

/* Owner of the source mailbox, with the expunge guard when it is INBOX. */
static enum cove_store_err source_guard(struct store_txn *txn, uint32_t mailbox_id,
                                        uint32_t *user_id_r)
{
        bool is_inbox;
        enum cove_store_err err = store_mailbox_owner(txn, mailbox_id, user_id_r, &is_inbox);
        if (err == COVE_STORE_OK && is_inbox)
                err = store_txn_guard_expunge(txn, *user_id_r);
        return err;
}

enum cove_store_err store_msg_expunge(struct store_txn *txn, uint32_t mailbox_id,
                                      uint32_t uid)
{
        uint32_t user_id;
        enum cove_store_err err = store_txn_need_write(txn, "expunge");
        if (err == COVE_STORE_OK)
                err = source_guard(txn, mailbox_id, &user_id);
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->msg_expunge(txn->engine, mailbox_id, uid);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "expunge mailbox %u uid %u",
                                                     mailbox_id, uid));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

/* The size of a message (for the quota of a copy). */
static enum cove_store_err msg_size(struct store_txn *txn, uint32_t mailbox_id, uint32_t uid,
                                    uint64_t *size_r)
{
        const struct cove_store_msg *msg;
        enum cove_store_err err = ops_of(txn)->msg_get(txn->engine, mailbox_id, uid, &msg);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "mailbox %u uid %u",
                                                     mailbox_id, uid));
        *size_r = msg->size;
        return COVE_STORE_OK;
}

enum cove_store_err store_msg_copy(struct store_txn *txn, uint32_t src_mailbox_id,
                                   uint32_t uid, uint32_t dst_mailbox_id,
                                   struct cove_store_saved *saved_r)
{
        uint32_t user_id;
        uint64_t size = 0;
        bool is_inbox;
        struct cove_store_saved ignored;
        if (saved_r == NULL)
                saved_r = &ignored;
        memset(saved_r, 0, sizeof(*saved_r));
        enum cove_store_err err = store_txn_need_write(txn, "copy");
        if (err == COVE_STORE_OK)
                err = store_mailbox_owner(txn, dst_mailbox_id, &user_id, &is_inbox);
        if (err == COVE_STORE_OK)
                err = msg_size(txn, src_mailbox_id, uid, &size);
        if (err == COVE_STORE_OK)
                err = quota_check(txn, user_id, size, 1);
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->msg_copy(txn->engine, src_mailbox_id, uid, dst_mailbox_id, saved_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "copy mailbox %u uid %u to "
                                                     "mailbox %u", src_mailbox_id, uid,
                                                     dst_mailbox_id));
        store_txn_touch(txn, user_id);
        return COVE_STORE_OK;
}

enum cove_store_err store_msg_move(struct store_txn *txn, uint32_t src_mailbox_id,
                                   uint32_t uid, uint32_t dst_mailbox_id,
                                   struct cove_store_saved *saved_r)
{
        uint32_t src_user, dst_user;
        uint64_t size = 0;
        bool is_inbox;
        struct cove_store_saved ignored;
        if (saved_r == NULL)
                saved_r = &ignored;
        memset(saved_r, 0, sizeof(*saved_r));
        enum cove_store_err err = store_txn_need_write(txn, "move");
        if (err == COVE_STORE_OK)
                err = source_guard(txn, src_mailbox_id, &src_user);
        if (err == COVE_STORE_OK)
                err = store_mailbox_owner(txn, dst_mailbox_id, &dst_user, &is_inbox);
        /* Quota-neutral within one user; charged to the new owner otherwise. */
        if (err == COVE_STORE_OK && dst_user != src_user) {
                err = msg_size(txn, src_mailbox_id, uid, &size);
                if (err == COVE_STORE_OK)
                        err = quota_check(txn, dst_user, size, 1);
        }
        if (err != COVE_STORE_OK)
                return err;
        err = ops_of(txn)->msg_move(txn->engine, src_mailbox_id, uid, dst_mailbox_id, saved_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "move mailbox %u uid %u to "
                                                     "mailbox %u", src_mailbox_id, uid,
                                                     dst_mailbox_id));
        store_txn_touch(txn, src_user);
        store_txn_touch(txn, dst_user);
        return COVE_STORE_OK;
}

enum cove_store_err store_change_iter_init(struct store_txn *txn, uint32_t mailbox_id,
                                           uint64_t since_modseq, struct store_iter **iter_r)
{
        struct cove_store_iter *iter;
        *iter_r = NULL;
        enum cove_store_err err = ops_of(txn)->change_iter_init(txn->engine, mailbox_id,
                                                                since_modseq, &iter);
        if (err != COVE_STORE_OK)
                return store_engine_fail(txn->store, err,
                                         pool_printf(txn->pool, "changes of mailbox %u",
                                                     mailbox_id));
        *iter_r = store_iter_wrap(txn->store, iter);
        return COVE_STORE_OK;
}

enum cove_store_err store_change_iter_next(struct store_iter *iter,
                                           const struct cove_store_change **change_r)
{
        enum cove_store_err err = iter->store->ops->change_iter_next(iter->engine, change_r);
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return store_engine_fail(iter->store, err, "list changes");
        return err;
}

/* ---- streams ---- */

enum cove_store_err store_stream_open(struct store *store, uint32_t mailbox_id, uint32_t uid,
                                      struct store_stream **stream_r, uint64_t *size_r)
{
        struct cove_store_stream *engine;
        *stream_r = NULL;
        enum cove_store_err err = store->ops->stream_open(store->engine, mailbox_id, uid,
                                                          &engine, size_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(store, err, "open message");
        struct store_stream *stream = xcalloc(1, sizeof(*stream));
        stream->store = store;
        stream->engine = engine;
        *stream_r = stream;
        return COVE_STORE_OK;
}

enum cove_store_err store_stream_read(struct store_stream *stream, uint64_t offset,
                                      const void **data_r, size_t *len_r)
{
        enum cove_store_err err = stream->store->ops->stream_read(stream->engine, offset,
                                                                  data_r, len_r);
        if (err != COVE_STORE_OK)
                return store_engine_fail(stream->store, err, "read message");
        return COVE_STORE_OK;
}

void store_stream_close(struct store_stream **streamp)
{
        struct store_stream *stream = *streamp;
        if (stream == NULL)
                return;
        *streamp = NULL;
        stream->store->ops->stream_close(&stream->engine);
        free(stream);
}

/* fixture.c - a do-nothing storage engine compiled into several broken (and
 * one acceptable) variants, to test the loader's checks and error mapping.
 *
 * Every op fails with INTERNAL; only open() has behaviour (see newer). Not an
 * engine anyone should copy: see plugins/lmdb for a real one.
 */
#include <stddef.h>
#include <string.h>

#include "cove/storage.h"

#define UNUSED __attribute__((unused))

static enum cove_store_err fx_open(const struct cove_store_host *host UNUSED,
                                   const struct cove_store_conf *conf,
                                   struct cove_store **store_r, const char **error_r)
{
        *store_r = NULL;
        *error_r = "fixture engine cannot open a store";
        for (size_t i = 0; i < conf->option_count; i++) {
                if (strcmp(conf->options[i].key, "fixture_error") == 0)
                        *error_r = conf->options[i].value;
        }
        return COVE_STORE_INTERNAL;
}

static void fx_close(struct cove_store **store) { *store = NULL; }
static const char *fx_last_error(struct cove_store *s UNUSED) { return "fixture"; }
static enum cove_store_err fx_txn_begin(struct cove_store *s UNUSED, unsigned f UNUSED,
                                        struct cove_store_txn **t UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_txn_commit(struct cove_store_txn **t UNUSED, unsigned f UNUSED)
{ return COVE_STORE_INTERNAL; }
static void fx_txn_abort(struct cove_store_txn **t) { *t = NULL; }
static enum cove_store_err fx_user_create(struct cove_store_txn *t UNUSED,
                                          const struct cove_store_user *u UNUSED,
                                          uint32_t *id UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_user_lookup(struct cove_store_txn *t UNUSED, const char *n UNUSED,
                                          const struct cove_store_user **u UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_user_get(struct cove_store_txn *t UNUSED, uint32_t id UNUSED,
                                       const struct cove_store_user **u UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_user_update(struct cove_store_txn *t UNUSED, uint32_t id UNUSED,
                                          unsigned f UNUSED,
                                          const struct cove_store_user *v UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_user_delete(struct cove_store_txn *t UNUSED, uint32_t id UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_iter_init(struct cove_store_txn *t UNUSED,
                                        struct cove_store_iter **i UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_user_iter_next(struct cove_store_iter *i UNUSED,
                                             const struct cove_store_user **u UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_mailbox_create(struct cove_store_txn *t UNUSED, uint32_t u UNUSED,
                                             const char *n UNUSED, uint32_t s UNUSED,
                                             uint32_t *id UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_mailbox_lookup(struct cove_store_txn *t UNUSED, uint32_t u UNUSED,
                                             const char *n UNUSED,
                                             const struct cove_store_mailbox **m UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_mailbox_get(struct cove_store_txn *t UNUSED, uint32_t id UNUSED,
                                          const struct cove_store_mailbox **m UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_mailbox_rename(struct cove_store_txn *t UNUSED,
                                             uint32_t id UNUSED, const char *n UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_mailbox_delete(struct cove_store_txn *t UNUSED, uint32_t id UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_mailbox_special(struct cove_store_txn *t UNUSED,
                                              uint32_t id UNUSED, uint32_t s UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_user_iter_init(struct cove_store_txn *t UNUSED, uint32_t u UNUSED,
                                             struct cove_store_iter **i UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_mailbox_iter_next(struct cove_store_iter *i UNUSED,
                                                const struct cove_store_mailbox **m UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_subscription_set(struct cove_store_txn *t UNUSED,
                                               uint32_t u UNUSED, const char *n UNUSED,
                                               bool s UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_subscription_next(struct cove_store_iter *i UNUSED,
                                                const char **n UNUSED)
{ return COVE_STORE_INTERNAL; }
static UNUSED enum cove_store_err fx_msg_append(struct cove_store_txn *t UNUSED, uint32_t m UNUSED,
                                         const struct cove_store_append *a UNUSED,
                                         struct cove_store_saved *s UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_msg_get(struct cove_store_txn *t UNUSED, uint32_t m UNUSED,
                                      uint32_t u UNUSED, const struct cove_store_msg **r UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_msg_iter_init(struct cove_store_txn *t UNUSED, uint32_t m UNUSED,
                                            uint32_t a UNUSED, uint32_t b UNUSED,
                                            struct cove_store_iter **i UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_msg_iter_next(struct cove_store_iter *i UNUSED,
                                            const struct cove_store_msg **m UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_msg_flags(struct cove_store_txn *t UNUSED, uint32_t m UNUSED,
                                        uint32_t u UNUSED, enum cove_store_flag_op o UNUSED,
                                        uint32_t f UNUSED, const char *const *k UNUSED,
                                        size_t c UNUSED, uint64_t *ms UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_msg_expunge(struct cove_store_txn *t UNUSED, uint32_t m UNUSED,
                                          uint32_t u UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_msg_copy(struct cove_store_txn *t UNUSED, uint32_t s UNUSED,
                                       uint32_t u UNUSED, uint32_t d UNUSED,
                                       struct cove_store_saved *r UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_change_init(struct cove_store_txn *t UNUSED, uint32_t m UNUSED,
                                          uint64_t s UNUSED, struct cove_store_iter **i UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_change_next(struct cove_store_iter *i UNUSED,
                                          const struct cove_store_change **c UNUSED)
{ return COVE_STORE_INTERNAL; }
static void fx_iter_deinit(struct cove_store_iter **i) { *i = NULL; }
static enum cove_store_err fx_stream_open(struct cove_store *s UNUSED, uint32_t m UNUSED,
                                          uint32_t u UNUSED, struct cove_store_stream **r UNUSED,
                                          uint64_t *z UNUSED)
{ return COVE_STORE_INTERNAL; }
static enum cove_store_err fx_stream_read(struct cove_store_stream *s UNUSED, uint64_t o UNUSED,
                                          const void **d UNUSED, size_t *l UNUSED)
{ return COVE_STORE_INTERNAL; }
static void fx_stream_close(struct cove_store_stream **s) { *s = NULL; }
static UNUSED enum cove_store_err fx_lock(struct cove_store *s UNUSED, uint32_t u UNUSED,
                                   struct cove_store_lock **l UNUSED)
{ return COVE_STORE_INUSE; }

/* A table followed by members a newer ABI might have appended. */
struct fixture_table {
        struct cove_store_ops ops;
        void (*future[4])(void);
};

#if defined(FIXTURE_ABI_OLD)
#define FX_MAJOR 0
#define FX_MINOR 9
#elif defined(FIXTURE_NEWER)
#define FX_MAJOR COVE_STORE_ABI_MAJOR
#define FX_MINOR (COVE_STORE_ABI_MINOR + 3)
#elif defined(FIXTURE_MINOR0)
#define FX_MAJOR COVE_STORE_ABI_MAJOR
#define FX_MINOR 0
#else
#define FX_MAJOR COVE_STORE_ABI_MAJOR
#define FX_MINOR COVE_STORE_ABI_MINOR
#endif

#if defined(FIXTURE_SHORT_STRUCT)
#define FX_SIZE offsetof(struct cove_store_ops, msg_append)
#elif defined(FIXTURE_NEWER)
#define FX_SIZE sizeof(struct fixture_table)
#elif defined(FIXTURE_MINOR0)
/* Built before ABI 1.1 appended sync_concurrent: the table ends earlier. */
#define FX_SIZE offsetof(struct cove_store_ops, sync_concurrent)
#else
#define FX_SIZE sizeof(struct cove_store_ops)
#endif

static const struct fixture_table table = {
        .ops = {
                .abi_major = FX_MAJOR, .abi_minor = FX_MINOR, .struct_size = FX_SIZE,
                .engine_name = "fixture", .engine_version = "0",
                .open = fx_open, .close = fx_close, .last_error = fx_last_error,
                .txn_begin = fx_txn_begin, .txn_commit = fx_txn_commit,
                .txn_abort = fx_txn_abort,
                .user_create = fx_user_create, .user_lookup = fx_user_lookup,
                .user_get = fx_user_get, .user_update = fx_user_update,
                .user_delete = fx_user_delete, .user_iter_init = fx_iter_init,
                .user_iter_next = fx_user_iter_next,
                .mailbox_create = fx_mailbox_create, .mailbox_lookup = fx_mailbox_lookup,
                .mailbox_get = fx_mailbox_get, .mailbox_rename = fx_mailbox_rename,
                .mailbox_delete = fx_mailbox_delete,
                .mailbox_set_special_use = fx_mailbox_special,
                .mailbox_iter_init = fx_user_iter_init,
                .mailbox_iter_next = fx_mailbox_iter_next,
                .subscription_set = fx_subscription_set,
                .subscription_iter_init = fx_user_iter_init,
                .subscription_iter_next = fx_subscription_next,
#if !defined(FIXTURE_NULL_OP)
                .msg_append = fx_msg_append,
#endif
                .msg_get = fx_msg_get, .msg_iter_init = fx_msg_iter_init,
                .msg_iter_next = fx_msg_iter_next, .msg_update_flags = fx_msg_flags,
                .msg_expunge = fx_msg_expunge, .msg_copy = fx_msg_copy,
                .msg_move = fx_msg_copy,
                .change_iter_init = fx_change_init, .change_iter_next = fx_change_next,
                .iter_deinit = fx_iter_deinit,
                .stream_open = fx_stream_open, .stream_read = fx_stream_read,
                .stream_close = fx_stream_close,
#if defined(FIXTURE_HALF_LOCK)
                .lock_maildrop = fx_lock, .lock_expunge_guard = fx_lock,
#endif
        },
};

#if defined(FIXTURE_NO_ENTRY)
/* Exported under the wrong name. */
const struct cove_store_ops *cove_store_entry_misspelt(void);
const struct cove_store_ops *cove_store_entry_misspelt(void)
{
        return &table.ops;
}
#else
const struct cove_store_ops *cove_store_entry(void)
{
        return &table.ops;
}
#endif

/* lmdb-plugin.c - the engine's function table and its one exported symbol.
 *
 * Owns: cove_store_entry() and the designated-initialiser ops table. The
 * optional lock and notify members stay NULL: the host's host-local layer
 * serves them. Everything else is implemented in the other lmdb-*.c files.
 */
#include "lmdb-private.h"

static const struct cove_store_ops lmdb_ops = {
        .abi_major = COVE_STORE_ABI_MAJOR,
        .abi_minor = COVE_STORE_ABI_MINOR,
        .struct_size = sizeof(struct cove_store_ops),
        .engine_name = "lmdb",
        .engine_version = "1.0",

        .open = lmdb_store_open,
        .close = lmdb_store_close,
        .last_error = lmdb_store_last_error,

        .txn_begin = lmdb_txn_begin,
        .txn_commit = lmdb_txn_commit,
        .txn_abort = lmdb_txn_abort,
        .sync = lmdb_store_sync,

        .user_create = lmdb_user_create,
        .user_lookup = lmdb_user_lookup,
        .user_get = lmdb_user_get,
        .user_update = lmdb_user_update,
        .user_delete = lmdb_user_delete,
        .user_iter_init = lmdb_user_iter_init,
        .user_iter_next = lmdb_user_iter_next,

        .mailbox_create = lmdb_mailbox_create,
        .mailbox_lookup = lmdb_mailbox_lookup,
        .mailbox_get = lmdb_mailbox_get,
        .mailbox_rename = lmdb_mailbox_rename,
        .mailbox_delete = lmdb_mailbox_delete,
        .mailbox_set_special_use = lmdb_mailbox_set_special_use,
        .mailbox_advance_recent = lmdb_mailbox_advance_recent,
        .sync_concurrent = lmdb_store_sync_concurrent,
        .txn_begin_nested = lmdb_txn_begin_nested,
        .txn_begin_handoff = lmdb_txn_begin_handoff,
        .txn_commit_handoff = lmdb_txn_commit_handoff,
        .mailbox_iter_init = lmdb_mailbox_iter_init,
        .mailbox_iter_next = lmdb_mailbox_iter_next,

        .subscription_set = lmdb_subscription_set,
        .subscription_iter_init = lmdb_subscription_iter_init,
        .subscription_iter_next = lmdb_subscription_iter_next,

        .msg_append = lmdb_msg_append,
        .msg_get = lmdb_msg_get,
        .msg_iter_init = lmdb_msg_iter_init,
        .msg_iter_next = lmdb_msg_iter_next,
        .msg_update_flags = lmdb_msg_update_flags,
        .msg_expunge = lmdb_msg_expunge,
        .msg_copy = lmdb_msg_copy,
        .msg_move = lmdb_msg_move,
        .change_iter_init = lmdb_change_iter_init,
        .change_iter_next = lmdb_change_iter_next,
        .iter_deinit = lmdb_iter_deinit,

        .stream_open = lmdb_stream_open,
        .stream_read = lmdb_stream_read,
        .stream_close = lmdb_stream_close,

        .stats = lmdb_stats,

        .lock_maildrop = NULL,
        .lock_expunge_guard = NULL,
        .unlock = NULL,
        .notify_publish = NULL,
        .notify_watch = NULL,
        .notify_drain = NULL,
        .notify_unwatch = NULL,
};

__attribute__((visibility("default")))
const struct cove_store_ops *cove_store_entry(void)
{
        return &lmdb_ops;
}

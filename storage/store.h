/* store.h - the store facade: the only way front-ends and covectl reach a
 * storage engine.
 *
 * The facade loads the engine (loader.c), and adds what no engine should
 * repeat: argument checks and name validation/normalisation, quota checks,
 * MIME parsing of appended mail into the cached structure, the POP3 maildrop
 * lock and the IMAP expunge guard (lock.c), and change notification after
 * every commit (notify.c). It does not speak any protocol.
 *
 * Errors are enum cove_store_err (cove/storage.h); store_last_error() gives a
 * one-line detail for logs and covectl. Records returned by lookups and
 * iterators are the engine's borrowed records, with the lifetimes stated in
 * cove/storage.h ("Lifetimes").
 *
 * Loop affinity: single-threaded; open the store after fork().
 */
#ifndef COVE_STORE_H
#define COVE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/storage.h"

struct cove_conf;
struct pool;
struct store;
struct store_txn;
struct store_iter;
struct store_stream;
struct store_lock;
struct store_watch;

/* ---- lifecycle ---- */

/* Loads the engine named by conf->store.engine from conf->store.plugin_dir and
   opens the store. With create, makes a new empty store (covectl init) and
   fails if one is there. On failure returns -1 and *error_r is one line
   naming the file, key or symbol at fault, e.g.
     "cove.conf:3: [store] engine: plugin 'foo' not found: /usr/lib/cove/plugins/cove_store_foo.so"
     "cove.conf:3: [store] engine: /usr/lib/cove/plugins/cove_store_foo.so: ABI 2.0, host needs 1.x"
     "cove.conf:7: [store] map_size: not a size"   (engine error "KEY: reason")
   the string is static or owned by error_pool. conf must outlive the call
   only (the handle copies what it keeps).

   State directory: when the engine leaves lock or notify ops NULL, the
   host-local ones keep lock files and notification FIFOs under
   [server] state_dir, else <[store] path>/state; store_open creates it (and
   its lock/ and notify/ subdirectories) with mode 0700, so open the store as
   the user the daemons run as. Neither set is an error naming
   [server] state_dir. */
int store_open(const struct cove_conf *conf, bool create, struct pool *error_pool,
               struct store **store_r, const char **error_r);
/* Closes the engine and unloads it; *store is NULL afterwards. Every txn,
   iterator, stream, lock and watch of the handle must be finished first. */
void store_close(struct store **store);

/* The engine's name and version ("lmdb", "0.1.0"). */
const char *store_engine_name(const struct store *store);
const char *store_engine_version(const struct store *store);

/* One line describing the last failure on this handle (never NULL). */
const char *store_last_error(struct store *store);

/* ---- transactions ---- */

enum cove_store_err store_txn_begin(struct store *store, bool write, struct store_txn **txn_r);
/* How a commit reaches the disk. */
enum store_flush {
        STORE_FLUSH_DURABLE,  /* durable when the commit returns */
        STORE_FLUSH_ORDERED,  /* durable after the next store_sync(); a machine
                                 crash before it may lose the commit, never
                                 leaves the store inconsistent */
        STORE_FLUSH_NONE,     /* durable after the next store_sync(); before it
                                 a machine crash may corrupt an LMDB store */
};

/* Commits and then publishes a change notification for every user touched
   in the txn. *txn is NULL afterwards. Unless flush is DURABLE, call
   store_sync() (or store_sync_concurrent()) and see it succeed before
   acknowledging the change. store_txn_commit() is DURABLE,
   store_txn_commit_nosync() NONE. */
enum cove_store_err store_txn_commit_as(struct store_txn **txn, enum store_flush flush);
enum cove_store_err store_txn_commit(struct store_txn **txn);
enum cove_store_err store_txn_commit_nosync(struct store_txn **txn);
enum cove_store_err store_sync(struct store *store);

/* True when the engine offers txn_begin_nested. */
bool store_can_nest(const struct store *store);
/* Begins a write txn nested in the write txn parent (one child at a time;
   parent is not used while it lives). Committing it (any commit function)
   moves its changes, its expunge guards and the users to notify into parent
   without I/O: they reach the disk, and are published, when parent
   commits. Aborting it, or a failed commit, discards only its changes. */
enum cove_store_err store_txn_begin_nested(struct store_txn *parent,
                                           struct store_txn **txn_r);

/* Handoff transactions (engines with txn_begin_handoff): a top-level write
   txn begun and committed on a helper thread while this thread nests its
   work in it (write-batch.c). On the helper: store_handoff_begin(),
   store_handoff_commit(); neither touches the handle's error text (errbuf
   gets it). On this thread: store_handoff_adopt() wraps the engine txn as a
   parent for store_txn_begin_nested(); store_handoff_release() takes the
   engine txn back for the commit; store_handoff_end() then publishes (when
   the commit succeeded), releases the guards and frees the wrapper. */
bool store_can_handoff(const struct store *store);
enum cove_store_err store_handoff_begin(struct store *store, struct cove_store_txn **etxn_r,
                                        char *errbuf, size_t errlen);
enum cove_store_err store_handoff_commit(struct store *store, struct cove_store_txn **etxn,
                                         char *errbuf, size_t errlen);
struct store_txn *store_handoff_adopt(struct store *store, struct cove_store_txn *etxn);
struct cove_store_txn *store_handoff_release(struct store_txn *txn);
void store_handoff_end(struct store_txn **txn, enum cove_store_err result);

/* True when the engine offers sync_concurrent: store_sync_concurrent() may
   then run on a second thread while this one keeps using the handle. */
bool store_can_sync_concurrently(const struct store *store);
/* The thread-safe flush: touches no handle state; on failure the one-line
   reason is in errbuf (errlen bytes), not in store_last_error(). Only when
   store_can_sync_concurrently(). */
enum cove_store_err store_sync_concurrent(struct store *store, char *errbuf, size_t errlen);
void store_txn_abort(struct store_txn **txn);
struct store *store_txn_store(struct store_txn *txn);

/* ---- names ---- */

/* Invalid names given to the functions below are never passed to the engine:
   lookups, deletes and rename sources answer NOTFOUND, creations and rename
   targets NOPERM, with the reason in store_last_error(). Invalid flag bits,
   keywords (atoms of at most COVE_STORE_MAX_KEYWORD bytes, at most
   COVE_STORE_MAX_KEYWORDS, duplicates ignored case-insensitively) and
   parts also give NOPERM. Writes in a read txn give NOPERM. */

/* Checks and normalises a user name "local@domain": lower-cases the domain,
   refuses empty parts, spaces, control characters and over-long names.
   Returns false with *error_r (static) on bad input; *normal_r in pool. */
bool store_user_name_normalize(struct pool *pool, const char *name, const char **normal_r,
                               const char **error_r);
/* Same for mailbox names: '/'-separated, valid UTF-8, no empty component, no
   control characters; any case of "inbox" as the first component becomes
   "INBOX". */
bool store_mailbox_name_normalize(struct pool *pool, const char *name, const char **normal_r,
                                  const char **error_r);

/* ---- users ---- */

enum cove_store_err store_user_create(struct store_txn *txn, const char *name,
                                      const char *password_hash, const char *scram_secret,
                                      uint32_t *user_id_r);
enum cove_store_err store_user_lookup(struct store_txn *txn, const char *name,
                                      const struct cove_store_user **user_r);
enum cove_store_err store_user_get(struct store_txn *txn, uint32_t user_id,
                                   const struct cove_store_user **user_r);
enum cove_store_err store_user_set_password(struct store_txn *txn, uint32_t user_id,
                                            const char *password_hash,
                                            const char *scram_secret);
/* Sets (or with NULL or "" clears) the user's POP3 APOP secret, a
   plaintext-equivalent password kept as given (docs/passwords.md). */
enum cove_store_err store_user_set_apop_secret(struct store_txn *txn, uint32_t user_id,
                                              const char *secret);
/* 0 means unlimited. */
enum cove_store_err store_user_set_quota(struct store_txn *txn, uint32_t user_id,
                                         uint64_t bytes, uint64_t messages);
enum cove_store_err store_user_delete(struct store_txn *txn, uint32_t user_id);
enum cove_store_err store_user_iter_init(struct store_txn *txn, struct store_iter **iter_r);
enum cove_store_err store_user_iter_next(struct store_iter *iter,
                                         const struct cove_store_user **user_r);

/* The mailboxes every new user gets: INBOX plus Drafts, Sent, Trash, Junk and
   Archive with their special-use attributes. store_user_create() makes them. */

/* ---- mailboxes ---- */

/* Creates name and any missing parents. EXISTS if name exists. */
enum cove_store_err store_mailbox_create(struct store_txn *txn, uint32_t user_id,
                                         const char *name, uint32_t special_use,
                                         uint32_t *mailbox_id_r);
enum cove_store_err store_mailbox_lookup(struct store_txn *txn, uint32_t user_id,
                                         const char *name,
                                         const struct cove_store_mailbox **mailbox_r);
enum cove_store_err store_mailbox_get(struct store_txn *txn, uint32_t mailbox_id,
                                      const struct cove_store_mailbox **mailbox_r);
/* Renames with children. Renaming INBOX follows RFC 3501 §6.3.5: its messages
   move to the new mailbox and INBOX stays, empty. */
enum cove_store_err store_mailbox_rename(struct store_txn *txn, uint32_t user_id,
                                         const char *old_name, const char *new_name);
/* Deletes a mailbox and its messages; NOPERM for INBOX. */
enum cove_store_err store_mailbox_delete(struct store_txn *txn, uint32_t user_id,
                                         const char *name);
/* IMAP \Recent (RFC 3501 section 2.3.2). store_tracks_recent() is false
   when the engine keeps no recent_uid watermark (then it is always 1 in
   records and \Recent is per session only). store_mailbox_advance_recent()
   raises the mailbox's recent_uid to min(uid, uidnext), never lowering it,
   in a write txn; *old_r (may be NULL) gets the value before, so the caller
   owns [*old_r, new recent_uid) as \Recent. NOPERM without engine support. */
bool store_tracks_recent(const struct store *store);
enum cove_store_err store_mailbox_advance_recent(struct store_txn *txn, uint32_t mailbox_id,
                                                 uint32_t uid, uint32_t *old_r);
enum cove_store_err store_mailbox_iter_init(struct store_txn *txn, uint32_t user_id,
                                            struct store_iter **iter_r);
enum cove_store_err store_mailbox_iter_next(struct store_iter *iter,
                                            const struct cove_store_mailbox **mailbox_r);
enum cove_store_err store_subscription_set(struct store_txn *txn, uint32_t user_id,
                                           const char *name, bool subscribed);
enum cove_store_err store_subscription_iter_init(struct store_txn *txn, uint32_t user_id,
                                                 struct store_iter **iter_r);
enum cove_store_err store_subscription_iter_next(struct store_iter *iter, const char **name_r);

/* ---- messages ---- */

struct store_append {
        const struct cove_store_part *parts;   /* concatenated = the message */
        size_t part_count;
        uint32_t flags;
        const char *const *keywords;
        size_t keyword_count;
        int64_t internal_date;   /* 0: now */
        int32_t internal_tz;
        const char *uidl;        /* POP3 UIDL override or NULL */
};

/* Parses the message (cached structure), checks the owner's quota
   (OVERQUOTA) and appends. saved_r may be NULL (also for copy and move). */
enum cove_store_err store_msg_append(struct store_txn *txn, uint32_t mailbox_id,
                                     const struct store_append *msg,
                                     struct cove_store_saved *saved_r);
enum cove_store_err store_msg_get(struct store_txn *txn, uint32_t mailbox_id, uint32_t uid,
                                  const struct cove_store_msg **msg_r);
enum cove_store_err store_msg_iter_init(struct store_txn *txn, uint32_t mailbox_id,
                                        uint32_t uid_first, uint32_t uid_last,
                                        struct store_iter **iter_r);
enum cove_store_err store_msg_iter_next(struct store_iter *iter,
                                        const struct cove_store_msg **msg_r);
enum cove_store_err store_msg_update_flags(struct store_txn *txn, uint32_t mailbox_id,
                                           uint32_t uid, enum cove_store_flag_op op,
                                           uint32_t flags, const char *const *keywords,
                                           size_t keyword_count, uint64_t *modseq_r);
/* Expunge from INBOX takes the expunge guard for the rest of the txn: INUSE
   while a POP3 session holds the maildrop, unless this txn holds that lock
   (store_txn_hold_maildrop). */
enum cove_store_err store_msg_expunge(struct store_txn *txn, uint32_t mailbox_id,
                                      uint32_t uid);
enum cove_store_err store_msg_copy(struct store_txn *txn, uint32_t src_mailbox_id,
                                   uint32_t uid, uint32_t dst_mailbox_id,
                                   struct cove_store_saved *saved_r);
/* Guarded like expunge when the source is INBOX; quota-neutral. */
enum cove_store_err store_msg_move(struct store_txn *txn, uint32_t src_mailbox_id,
                                   uint32_t uid, uint32_t dst_mailbox_id,
                                   struct cove_store_saved *saved_r);
enum cove_store_err store_change_iter_init(struct store_txn *txn, uint32_t mailbox_id,
                                           uint64_t since_modseq, struct store_iter **iter_r);
enum cove_store_err store_change_iter_next(struct store_iter *iter,
                                           const struct cove_store_change **change_r);
void store_iter_deinit(struct store_iter **iter);

/* Message bytes, streamed (no txn needed; pins no snapshot). */
enum cove_store_err store_stream_open(struct store *store, uint32_t mailbox_id, uint32_t uid,
                                      struct store_stream **stream_r, uint64_t *size_r);
enum cove_store_err store_stream_read(struct store_stream *stream, uint64_t offset,
                                      const void **data_r, size_t *len_r);
void store_stream_close(struct store_stream **stream);

/* ---- delivery (covectl deliver, cove-lmtpd) ---- */

/* Delivers one message to user `name` into `mailbox` (NULL: INBOX; a mailbox
   that does not exist falls back to INBOX), in its own write txn, durable on
   return. A transaction that fails with TEMP (nothing committed, e.g. the
   engine had to grow its file) is retried a few times first.
   Codes: NOTFOUND unknown user, OVERQUOTA, TEMP, INTERNAL. */
enum cove_store_err store_deliver(struct store *store, const char *name, const char *mailbox,
                                  const struct cove_store_part *parts, size_t part_count,
                                  struct cove_store_saved *saved_r);

/* ---- POP3 maildrop lock and change notification ---- */

/* Exclusive, non-waiting; INUSE when another session holds it (or an expunge
   is running). Released by store_lock_release() or the holder's death. */
enum cove_store_err store_maildrop_lock(struct store *store, uint32_t user_id,
                                        struct store_lock **lock_r);
void store_lock_release(struct store_lock **lock);
/* Declares that txn runs on behalf of the holder of `lock` (POP3 QUIT), so
   its INBOX expunges skip the guard. */
void store_txn_hold_maildrop(struct store_txn *txn, struct store_lock *lock);

/* Watches a user's mailboxes: the fd becomes readable within milliseconds of
   any commit touching that user, from any process. Drain after waking.
   Start the watch before reading the state you will compare against, so a
   commit in between is not missed. The fd belongs to the watch: do not
   close it; store_watch_stop() does. */
enum cove_store_err store_watch_start(struct store *store, uint32_t user_id,
                                      struct store_watch **watch_r);
int store_watch_fd(const struct store_watch *watch);
void store_watch_drain(struct store_watch *watch);
void store_watch_stop(struct store_watch **watch);

/* ---- statistics ---- */
/* Store-wide figures. Engines without a stats op get users, mailboxes,
   messages and bytes_received counted through the iterators (a full scan;
   bytes_stored and file_bytes stay 0). */
enum cove_store_err store_stats(struct store *store, struct cove_store_stats *stats_r);

#endif

/* cove/storage.h - the Cove storage engine ABI. The only header a plugin needs.
 *
 * Getting started
 * ---------------
 * A storage engine is a shared object named cove_store_<engine>.so, found in
 * the [store] plugin_dir of cove.conf. It exports exactly one symbol:
 *
 *     const struct cove_store_ops *cove_store_entry(void);
 *
 * returning a table of functions, filled in with designated initialisers:
 *
 *     static const struct cove_store_ops ops = {
 *             .abi_major = COVE_STORE_ABI_MAJOR,
 *             .abi_minor = COVE_STORE_ABI_MINOR,
 *             .struct_size = sizeof(struct cove_store_ops),
 *             .engine_name = "mine", .engine_version = "1.0",
 *             .open = mine_open, .close = mine_close, ...
 *     };
 *     const struct cove_store_ops *cove_store_entry(void) { return &ops; }
 *
 * The host (storage/loader.c) refuses the plugin, with one line naming the path
 * and the reason, when the major version differs, the minor is below the
 * host's floor, struct_size is too small for that minor, or a mandatory member
 * is NULL. Members marked "optional" may be NULL; the host then uses its own
 * implementation (host-local locks and notification) or goes without.
 *
 * The engine speaks IMAP's data model so every protocol sees the same truth:
 * users own mailboxes (a hierarchy, '/'-separated, UTF-8 names); a mailbox has
 * UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ; a message has a UID, a store-wide
 * message id (gid), a MODSEQ, flags and keywords, dates, its exact bytes and
 * an opaque cached structure blob (produced by the host's MIME parser).
 *
 * Every read and write happens inside a transaction (struct cove_store_txn),
 * except body streaming, which manages its own short reads so that a slow
 * client never pins a snapshot. Compression and single-instance storage of
 * bodies are engine concerns and invisible here: what comes out of a stream is
 * byte-for-byte what went into append.
 *
 * Caveats
 * -------
 * - Handles are per process and single-threaded: open the store after fork(),
 *   never share a struct cove_store between processes or threads.
 * - Pointers returned by lookups are borrowed (see "Lifetimes"); copy what you
 *   keep. Never free them.
 * - A write transaction may serialise against writers in other processes; keep
 *   it short. Never wait on the network while holding one.
 * - Names given to the engine are already validated and normalised by the host
 *   facade (storage/store.c): no empty components, no leading or trailing
 *   separator, valid UTF-8, "INBOX" spelled in upper case. Engines may rely on
 *   that and need not re-check.
 *
 * Lifetimes
 * ---------
 * - A record returned through an out-parameter by a lookup (user, mailbox,
 *   message) is valid until the next call on the same transaction or the end
 *   of that transaction, whichever comes first.
 * - An item returned by an iterator's next function is valid until the next
 *   call on that iterator or its deinit. Iterators must be deinited before
 *   their transaction ends.
 * - A chunk returned by cove_store_ops.stream_read is valid until the next
 *   call on that stream or its close.
 * - error_r strings are static or owned by the engine handle and valid until
 *   the next call on that handle.
 */
#ifndef COVE_STORAGE_H
#define COVE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COVE_STORE_ABI_MAJOR 1   /* bump: incompatible change */
#define COVE_STORE_ABI_MINOR 1   /* bump: members appended to a struct */

/* The name of the one symbol a plugin exports. */
#define COVE_STORE_ENTRY_SYMBOL "cove_store_entry"

/* Mailbox hierarchy separator inside the store (protocols may show another). */
#define COVE_STORE_HIERARCHY_SEP '/'

/* Result of every engine call. */
enum cove_store_err {
        COVE_STORE_OK = 0,
        COVE_STORE_NOTFOUND,    /* no such user/mailbox/message; end of iteration */
        COVE_STORE_EXISTS,      /* name already taken */
        COVE_STORE_NOPERM,      /* operation not allowed (e.g. delete INBOX) */
        COVE_STORE_OVERQUOTA,   /* user's quota would be exceeded */
        COVE_STORE_INUSE,       /* locked by another session (POP3 maildrop) */
        COVE_STORE_EXPUNGED,    /* message vanished while being read */
        COVE_STORE_TEMP,        /* transient: retry later (busy, out of space) */
        COVE_STORE_CORRUPT,     /* stored data failed a consistency check */
        COVE_STORE_INTERNAL,    /* anything else; details in error_r / the log */
};

/* Human-readable text of a code; static storage. */
static inline const char *cove_store_strerror(enum cove_store_err err)
{
        switch (err) {
        case COVE_STORE_OK: return "success";
        case COVE_STORE_NOTFOUND: return "not found";
        case COVE_STORE_EXISTS: return "already exists";
        case COVE_STORE_NOPERM: return "not permitted";
        case COVE_STORE_OVERQUOTA: return "quota exceeded";
        case COVE_STORE_INUSE: return "in use by another session";
        case COVE_STORE_EXPUNGED: return "message was expunged";
        case COVE_STORE_TEMP: return "temporary failure";
        case COVE_STORE_CORRUPT: return "store is corrupt";
        case COVE_STORE_INTERNAL: return "internal error";
        }
        return "unknown error";
}

/* ---- services the host passes to the engine ---------------------------- */

enum cove_store_log_level {
        COVE_STORE_LOG_ERROR = 0,
        COVE_STORE_LOG_WARN,
        COVE_STORE_LOG_INFO,
        COVE_STORE_LOG_DEBUG,
};

struct cove_store_host {
        uint32_t abi_major, abi_minor;  /* the host's COVE_STORE_ABI_* */
        size_t struct_size;             /* sizeof(struct cove_store_host) in the host */
        /* Logs one line through the host's logger (stderr or syslog). */
        void (*log)(enum cove_store_log_level level, const char *fmt, ...)
                __attribute__((format(printf, 2, 3)));
        /* Wall clock, seconds since the epoch (tests may fake it). */
        int64_t (*now)(void);
};

/* One engine option: a key = value line of the [store] section. */
struct cove_store_option {
        const char *key;
        const char *value;
};

struct cove_store_conf {
        const char *conf_file;      /* for messages only */
        const struct cove_store_option *options;  /* all [store] keys but engine, plugin_dir */
        size_t option_count;
        const char *state_dir;      /* host directory for locks/notify files; may be NULL */
        bool create;                /* true only for `covectl init`: create an empty store */
};

/* ---- data model ---------------------------------------------------------- */

/* System flags. \Recent is session state and never stored. */
#define COVE_FLAG_SEEN     (1u << 0)
#define COVE_FLAG_ANSWERED (1u << 1)
#define COVE_FLAG_FLAGGED  (1u << 2)
#define COVE_FLAG_DELETED  (1u << 3)
#define COVE_FLAG_DRAFT    (1u << 4)
#define COVE_FLAG_ALL      0x1fu

/* Special-use attributes of a mailbox (RFC 6154). */
#define COVE_SPECIAL_ALL      (1u << 0)
#define COVE_SPECIAL_ARCHIVE  (1u << 1)
#define COVE_SPECIAL_DRAFTS   (1u << 2)
#define COVE_SPECIAL_FLAGGED  (1u << 3)
#define COVE_SPECIAL_JUNK     (1u << 4)
#define COVE_SPECIAL_SENT     (1u << 5)
#define COVE_SPECIAL_TRASH    (1u << 6)

/* Limits the engine may rely on (enforced by the host facade). */
#define COVE_STORE_MAX_NAME      1024   /* bytes in a user or mailbox name */
#define COVE_STORE_MAX_KEYWORDS  64     /* keywords per message */
#define COVE_STORE_MAX_KEYWORD   128    /* bytes in a keyword */
#define COVE_STORE_MAX_PARTS     8      /* append parts (see cove_store_append) */

struct cove_store_user {
        uint32_t id;                /* never reused */
        const char *name;           /* "user@domain", lower-case domain */
        const char *password_hash;  /* crypt(3)-style string; "" when none */
        const char *scram_secret;   /* SCRAM-SHA-256 stored key string; "" when none */
        uint64_t quota_bytes;       /* 0 = unlimited */
        uint64_t quota_messages;    /* 0 = unlimited */
        uint64_t used_bytes;        /* sum of message sizes over all mailboxes */
        uint64_t used_messages;
        /* POP3 APOP shared secret (RFC 1939 section 7), stored as given: a
           plaintext-equivalent password; "" when none. Engines keep it as
           opaque bytes and never log it. */
        const char *apop_secret;
};

/* Fields of cove_store_ops.user_update; set the bit for each one to change. */
#define COVE_USER_SET_PASSWORD  (1u << 0)   /* password_hash and scram_secret */
#define COVE_USER_SET_QUOTA     (1u << 1)   /* quota_bytes and quota_messages */
#define COVE_USER_SET_APOP      (1u << 2)   /* apop_secret */

struct cove_store_mailbox {
        uint32_t id;                /* store-wide, never reused, survives rename */
        uint32_t user_id;
        const char *name;           /* full name, '/'-separated */
        uint32_t uidvalidity;       /* never repeats for the same name */
        uint32_t uidnext;           /* next UID to assign; UIDs only ascend */
        uint64_t highestmodseq;     /* MODSEQ of the latest change in the mailbox */
        uint64_t expunge_modseq;    /* highest MODSEQ of any expunge (0 = none) */
        uint32_t special_use;       /* COVE_SPECIAL_* */
        uint32_t messages;          /* message count */
        uint32_t unseen;            /* messages without COVE_FLAG_SEEN */
        uint64_t bytes;             /* sum of message sizes */
        /* IMAP \Recent watermark (RFC 3501 section 2.3.2): messages with
           UID >= recent_uid have not yet been shown as \Recent to any
           session. 1 for a new mailbox; only ever increases, never above
           uidnext (see cove_store_ops.mailbox_advance_recent). */
        uint32_t recent_uid;
};

struct cove_store_msg {
        uint32_t uid;
        uint64_t gid;               /* store-wide message id; kept by move, new on copy */
        uint64_t modseq;            /* of the last change to this message */
        uint32_t flags;             /* COVE_FLAG_* */
        const char *const *keywords;  /* keyword_count names, no duplicates */
        size_t keyword_count;
        int64_t internal_date;      /* seconds since the epoch */
        int32_t internal_tz;        /* the date's zone, minutes east of UTC */
        int64_t save_date;          /* when this copy was stored */
        uint64_t size;              /* exact octet count of the message */
        const void *structure;      /* opaque cached parse (host's format) */
        size_t structure_len;
        const char *uidl;           /* POP3 UIDL override, NULL when none */
};

/* A change since a MODSEQ: the message's current state changed (appended or
   flags) or it was expunged. Ordered by ascending modseq. */
struct cove_store_change {
        uint32_t uid;
        uint64_t modseq;
        bool expunged;
};

/* Message bytes for append, given as up to COVE_STORE_MAX_PARTS parts that
   are concatenated. Engines may store parts separately and single-instance
   each one (so a per-recipient header prefix does not defeat sharing of the
   body among recipients). */
struct cove_store_part {
        const void *data;
        uint64_t size;
};

struct cove_store_append {
        const struct cove_store_part *parts;
        size_t part_count;          /* 1..COVE_STORE_MAX_PARTS */
        uint32_t flags;             /* COVE_FLAG_* */
        const char *const *keywords;
        size_t keyword_count;
        int64_t internal_date;
        int32_t internal_tz;
        const void *structure;      /* opaque, stored and returned as-is */
        size_t structure_len;
        const char *uidl;           /* POP3 UIDL override or NULL */
};

/* Result of an append, copy or move. */
struct cove_store_saved {
        uint32_t uid;
        uint64_t gid;
        uint64_t modseq;
        uint32_t uidvalidity;
};

enum cove_store_flag_op {
        COVE_STORE_FLAGS_REPLACE = 0,
        COVE_STORE_FLAGS_ADD,
        COVE_STORE_FLAGS_REMOVE,
};

struct cove_store_stats {
        uint64_t users, mailboxes, messages;
        uint64_t bytes_received;    /* sum of message sizes (logical) */
        uint64_t bytes_stored;      /* bytes the bodies occupy after dedup+compression */
        uint64_t file_bytes;        /* size of the store's files on disk (0 if n/a) */
};

/* Opaque handles, defined by each engine. */
struct cove_store;
struct cove_store_txn;
struct cove_store_iter;
struct cove_store_stream;
struct cove_store_lock;
struct cove_store_watch;

#define COVE_STORE_TXN_READ   0u
#define COVE_STORE_TXN_WRITE  1u

/* Commit flags. Engines ignore flags they do not know (and then flush as
   for a normal commit, which satisfies every flag's promise).
   NOSYNC: skip the durable flush; the caller calls sync() before it
   acknowledges anything to a client (lets a front-end share one flush among
   several deliveries). Until that sync, a crash of the machine may lose the
   commit and, for some engines (LMDB), leave the store inconsistent.
   Engines without `sync` ignore it and flush. */
#define COVE_STORE_COMMIT_NOSYNC 1u
/* ORDERED (ABI 1.1): like NOSYNC, the commit is durable only after the next
   sync(), but a crash of the machine at any moment leaves the store
   consistent: at worst this commit (and later ones) are lost. Engines that
   cannot promise that flush fully, as for a normal commit. */
#define COVE_STORE_COMMIT_ORDERED 2u

/* ---- the function table --------------------------------------------------- */

struct cove_store_ops {
        uint32_t abi_major, abi_minor;
        size_t struct_size;         /* sizeof(struct cove_store_ops) as compiled */
        const char *engine_name;
        const char *engine_version;

        /* --- lifecycle --- */

        /** Opens (or with conf->create, creates) the store.
         * @param[in] host   services; valid until close
         * @param[in] conf   options; copy what you keep
         * @param[out] store_r  the handle
         * @param[out] error_r  on failure, one line; when an option is at fault
         *                      it starts with "KEY: " so the host can name the
         *                      config line
         * @return OK, NOTFOUND (no store there and !create), EXISTS (create on
         *         an existing store), NOPERM, CORRUPT, INTERNAL */
        enum cove_store_err (*open)(const struct cove_store_host *host,
                                    const struct cove_store_conf *conf,
                                    struct cove_store **store_r, const char **error_r);
        /** Closes the handle; sets *store to NULL. All txns, iterators and
         * streams must be finished. */
        void (*close)(struct cove_store **store);
        /** Last error detail for this handle (one line, never NULL). */
        const char *(*last_error)(struct cove_store *store);

        /* --- transactions --- */

        /** @param[in] flags COVE_STORE_TXN_READ or _WRITE
         * A read txn sees a consistent snapshot. A write txn may wait for other
         * writers. @return OK, TEMP, INTERNAL */
        enum cove_store_err (*txn_begin)(struct cove_store *store, unsigned flags,
                                         struct cove_store_txn **txn_r);
        /** Commits; *txn is NULL afterwards whatever the result. When it
         * returns OK (without NOSYNC) every change is durable.
         * @return OK, TEMP (nothing committed), INTERNAL */
        enum cove_store_err (*txn_commit)(struct cove_store_txn **txn, unsigned flags);
        /** Discards all changes; *txn is NULL afterwards. */
        void (*txn_abort)(struct cove_store_txn **txn);
        /** optional: makes every NOSYNC commit so far durable. */
        enum cove_store_err (*sync)(struct cove_store *store);

        /* --- users --- */

        /** Creates a user with zero usage. @return OK, EXISTS */
        enum cove_store_err (*user_create)(struct cove_store_txn *txn,
                                           const struct cove_store_user *user,
                                           uint32_t *user_id_r);
        /** @return OK, NOTFOUND. *user_r borrowed (see Lifetimes). */
        enum cove_store_err (*user_lookup)(struct cove_store_txn *txn, const char *name,
                                           const struct cove_store_user **user_r);
        enum cove_store_err (*user_get)(struct cove_store_txn *txn, uint32_t user_id,
                                        const struct cove_store_user **user_r);
        /** Changes the fields named by `fields` (COVE_USER_SET_*). */
        enum cove_store_err (*user_update)(struct cove_store_txn *txn, uint32_t user_id,
                                           unsigned fields,
                                           const struct cove_store_user *values);
        /** Deletes the user with every mailbox, message and subscription. */
        enum cove_store_err (*user_delete)(struct cove_store_txn *txn, uint32_t user_id);
        /** Iterates users in name order. */
        enum cove_store_err (*user_iter_init)(struct cove_store_txn *txn,
                                              struct cove_store_iter **iter_r);
        /** @return OK with *user_r set, NOTFOUND at the end, or an error. */
        enum cove_store_err (*user_iter_next)(struct cove_store_iter *iter,
                                              const struct cove_store_user **user_r);

        /* --- mailboxes --- */

        /** Creates a mailbox; the host has created missing parents first.
         * A fresh UIDVALIDITY is chosen (never reused for that name).
         * @return OK, EXISTS, NOTFOUND (no such user) */
        enum cove_store_err (*mailbox_create)(struct cove_store_txn *txn, uint32_t user_id,
                                              const char *name, uint32_t special_use,
                                              uint32_t *mailbox_id_r);
        enum cove_store_err (*mailbox_lookup)(struct cove_store_txn *txn, uint32_t user_id,
                                              const char *name,
                                              const struct cove_store_mailbox **mailbox_r);
        enum cove_store_err (*mailbox_get)(struct cove_store_txn *txn, uint32_t mailbox_id,
                                           const struct cove_store_mailbox **mailbox_r);
        /** Renames the mailbox and every mailbox below it (prefix "old/"),
         * keeping their ids and UIDVALIDITY. The host checks the new parents
         * exist and that no target name is taken. @return OK, EXISTS, NOTFOUND */
        enum cove_store_err (*mailbox_rename)(struct cove_store_txn *txn, uint32_t mailbox_id,
                                              const char *new_name);
        /** Deletes the mailbox and its messages (not its children).
         * @return OK, NOTFOUND */
        enum cove_store_err (*mailbox_delete)(struct cove_store_txn *txn, uint32_t mailbox_id);
        enum cove_store_err (*mailbox_set_special_use)(struct cove_store_txn *txn,
                                                       uint32_t mailbox_id,
                                                       uint32_t special_use);
        /** Iterates a user's mailboxes in byte order of name. */
        enum cove_store_err (*mailbox_iter_init)(struct cove_store_txn *txn, uint32_t user_id,
                                                 struct cove_store_iter **iter_r);
        enum cove_store_err (*mailbox_iter_next)(struct cove_store_iter *iter,
                                                 const struct cove_store_mailbox **mailbox_r);

        /* --- subscriptions (by name; may name mailboxes that do not exist) --- */

        enum cove_store_err (*subscription_set)(struct cove_store_txn *txn, uint32_t user_id,
                                                const char *name, bool subscribed);
        enum cove_store_err (*subscription_iter_init)(struct cove_store_txn *txn,
                                                      uint32_t user_id,
                                                      struct cove_store_iter **iter_r);
        enum cove_store_err (*subscription_iter_next)(struct cove_store_iter *iter,
                                                      const char **name_r);

        /* --- messages --- */

        /** Appends a message with the next UID and a new MODSEQ; updates the
         * mailbox counters and the owner's usage. Quota is the host's check.
         * @return OK, NOTFOUND (mailbox), TEMP (out of space), INTERNAL */
        enum cove_store_err (*msg_append)(struct cove_store_txn *txn, uint32_t mailbox_id,
                                          const struct cove_store_append *msg,
                                          struct cove_store_saved *saved_r);
        /** @return OK, NOTFOUND. *msg_r borrowed (see Lifetimes). */
        enum cove_store_err (*msg_get)(struct cove_store_txn *txn, uint32_t mailbox_id,
                                       uint32_t uid, const struct cove_store_msg **msg_r);
        /** Iterates messages with uid_first <= UID <= uid_last, ascending. */
        enum cove_store_err (*msg_iter_init)(struct cove_store_txn *txn, uint32_t mailbox_id,
                                             uint32_t uid_first, uint32_t uid_last,
                                             struct cove_store_iter **iter_r);
        enum cove_store_err (*msg_iter_next)(struct cove_store_iter *iter,
                                             const struct cove_store_msg **msg_r);
        /** Changes flags and keywords; gives the message a new MODSEQ even when
         * nothing changed only if `changed` would be true (no-op stores keep
         * the old MODSEQ). *modseq_r gets the message's MODSEQ afterwards.
         * @return OK, NOTFOUND */
        enum cove_store_err (*msg_update_flags)(struct cove_store_txn *txn,
                                                uint32_t mailbox_id, uint32_t uid,
                                                enum cove_store_flag_op op, uint32_t flags,
                                                const char *const *keywords,
                                                size_t keyword_count, uint64_t *modseq_r);
        /** Removes a message; records (uid, new MODSEQ) in the expunge log and
         * releases its bytes when no other message shares them.
         * @return OK, NOTFOUND */
        enum cove_store_err (*msg_expunge)(struct cove_store_txn *txn, uint32_t mailbox_id,
                                           uint32_t uid);
        /** Copies a message into another mailbox (new UID, new gid, same
         * flags, keywords, dates and bytes; bytes shared, not duplicated). */
        enum cove_store_err (*msg_copy)(struct cove_store_txn *txn, uint32_t src_mailbox_id,
                                        uint32_t uid, uint32_t dst_mailbox_id,
                                        struct cove_store_saved *saved_r);
        /** Moves a message: like copy then expunge, but keeps the gid. */
        enum cove_store_err (*msg_move)(struct cove_store_txn *txn, uint32_t src_mailbox_id,
                                        uint32_t uid, uint32_t dst_mailbox_id,
                                        struct cove_store_saved *saved_r);
        /** Iterates changes with MODSEQ > since_modseq in ascending MODSEQ:
         * current messages changed since then, and expunges since then. */
        enum cove_store_err (*change_iter_init)(struct cove_store_txn *txn,
                                                uint32_t mailbox_id, uint64_t since_modseq,
                                                struct cove_store_iter **iter_r);
        enum cove_store_err (*change_iter_next)(struct cove_store_iter *iter,
                                                const struct cove_store_change **change_r);

        /** Ends any iterator; sets *iter to NULL. */
        void (*iter_deinit)(struct cove_store_iter **iter);

        /* --- message bytes --- */

        /** Opens the bytes of a message for reading, outside any transaction.
         * The stream does its own short reads, so it pins no snapshot.
         * @param[out] size_r the message size
         * @return OK, NOTFOUND */
        enum cove_store_err (*stream_open)(struct cove_store *store, uint32_t mailbox_id,
                                           uint32_t uid, struct cove_store_stream **stream_r,
                                           uint64_t *size_r);
        /** Returns bytes starting at `offset` (any offset; use it for partial
         * fetches): *data_r and *len_r give the longest convenient run, possibly short
         * of the end. *len_r == 0 means offset >= size. The data is valid until
         * the next call on this stream or its close.
         * @return OK, EXPUNGED (the message went away meanwhile), CORRUPT */
        enum cove_store_err (*stream_read)(struct cove_store_stream *stream, uint64_t offset,
                                           const void **data_r, size_t *len_r);
        void (*stream_close)(struct cove_store_stream **stream);

        /* --- statistics --- */

        /** optional: store-wide figures for `covectl stats`. */
        enum cove_store_err (*stats)(struct cove_store *store, struct cove_store_stats *stats_r);

        /* --- locking and notification (optional: the host provides
               host-local implementations when these are NULL) --- */

        /** Takes user_id's exclusive POP3 maildrop lock without waiting.
         * Released by unlock or by the holder's death. @return OK, INUSE */
        enum cove_store_err (*lock_maildrop)(struct cove_store *store, uint32_t user_id,
                                             struct cove_store_lock **lock_r);
        /** Takes the shared expunge guard: fails with INUSE while a maildrop
         * lock is held; while held, lock_maildrop fails with INUSE. */
        enum cove_store_err (*lock_expunge_guard)(struct cove_store *store, uint32_t user_id,
                                                  struct cove_store_lock **lock_r);
        void (*unlock)(struct cove_store_lock **lock);
        /** Wakes every watcher of user_id (called by the host after commit). */
        enum cove_store_err (*notify_publish)(struct cove_store *store, uint32_t user_id);
        /** Starts watching user_id: *fd_r becomes readable after a publish. */
        enum cove_store_err (*notify_watch)(struct cove_store *store, uint32_t user_id,
                                            struct cove_store_watch **watch_r, int *fd_r);
        /** Consumes pending wake-ups so the fd is quiet until the next publish. */
        void (*notify_drain)(struct cove_store_watch *watch);
        void (*notify_unwatch)(struct cove_store_watch **watch);

        /* --- IMAP \Recent --- */

        /** optional: raises the mailbox's recent_uid to min(uid, uidnext) if
         * that is higher; never lowers it. Changes no MODSEQ. *old_r (may be
         * NULL) gets the value before the call, so the caller owns as \Recent
         * exactly the UIDs in [*old_r, new value). Needs a write txn. When
         * NULL, the host has no shared \Recent state (a message is \Recent
         * only to sessions that saw it arrive).
         * @return OK, NOTFOUND */
        enum cove_store_err (*mailbox_advance_recent)(struct cove_store_txn *txn,
                                                      uint32_t mailbox_id, uint32_t uid,
                                                      uint32_t *old_r);

        /* --- ABI 1.1 --- */

        /** optional: does what `sync` does, but may run on a second thread
         * while the first goes on using the handle (transactions, commits,
         * streams) concurrently. It must touch no handle state a concurrent
         * call could change, and reports failure only through its return
         * value and errbuf (one line, NUL-terminated, at most errlen bytes),
         * never through last_error. Makes durable at least every commit that
         * returned before it was called. Lets a front-end flush in a helper
         * thread while its event loop keeps serving reads and commits.
         * @return OK, TEMP (no space), INTERNAL */
        enum cove_store_err (*sync_concurrent)(struct cove_store *store, char *errbuf,
                                               size_t errlen);

        /** optional: begins a write transaction nested in the write
         * transaction parent. Committing the child (flags ignored) makes its
         * changes part of parent, with no I/O; aborting it, or a failed
         * write in it, discards only the child's changes and leaves parent
         * usable. parent must not be used while the child lives, and has at
         * most one child at a time. Lets a front-end put several clients'
         * changes into one commit (one flush) and still undo one client's.
         * @return OK, TEMP, INTERNAL */
        enum cove_store_err (*txn_begin_nested)(struct cove_store_txn *parent,
                                                struct cove_store_txn **txn_r);

        /** optional, both or neither: a top-level write transaction begun
         * and committed on a second thread ("handoff") while the first
         * thread keeps using the handle: read transactions, streams,
         * iterators, and nested transactions of this one (never while the
         * second thread is inside one of these two calls). The first thread
         * begins no other top-level write transaction meanwhile. Both calls
         * run on the same thread, touch no handle state a concurrent call
         * changes, and report failure through errbuf (one line, errlen
         * bytes), never last_error. The commit is durable when it returns
         * OK, and so is every commit made before it, even when this txn
         * changed nothing (a front-end acknowledges earlier ORDERED commits
         * on the strength of it); a handoff txn is always committed, never aborted (a failed
         * write in it makes the commit fail and discards everything). Lets
         * a front-end put its event loop's writes into one transaction
         * whose disk flush runs on another thread.
         * @return OK, TEMP, INTERNAL */
        enum cove_store_err (*txn_begin_handoff)(struct cove_store *store,
                                                 struct cove_store_txn **txn_r, char *errbuf,
                                                 size_t errlen);
        enum cove_store_err (*txn_commit_handoff)(struct cove_store_txn **txn, char *errbuf,
                                                  size_t errlen);

        /* ABI 1.2+: append new members here only. */
};

/* The one symbol a plugin exports. */
const struct cove_store_ops *cove_store_entry(void);
typedef const struct cove_store_ops *(*cove_store_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif

/* maildrop.h - the POP3 view of INBOX: a snapshot taken at login.
 *
 * Owns: reading INBOX once (uid, gid, stored size, UIDL) into the session
 * pool, message numbering, deletion marks, UIDLs, the exact POP3 sizes
 * (from the line figures stored at append; for older messages computed from
 * the bytes, cached per process by message gid) and the
 * UPDATE state's single expunge transaction. Refuses: any protocol output,
 * and taking or releasing the maildrop lock (the session holds it).
 */
#ifndef COVE_POP3_MAILDROP_H
#define COVE_POP3_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convert.h"
#include "store.h"

struct pool;
struct pop3_size_cache;

#define POP3_SIZE_UNKNOWN UINT64_MAX
/* UIDLs are 1..70 characters 0x21..0x7e (RFC 1939 §7). */
#define POP3_UIDL_MAX 70

struct pop3_msg {
        uint32_t uid;
        uint64_t gid;
        uint64_t stored_size;     /* octets as stored */
        uint64_t size;            /* POP3 size (CRLF, no dot-stuffing) or POP3_SIZE_UNKNOWN */
        const char *uidl;
        bool deleted;
};

struct pop3_maildrop {
        uint32_t mailbox_id;      /* INBOX */
        uint32_t uidvalidity;
        struct pop3_msg *msgs;    /* count entries, ascending UID = message numbers 1..count */
        uint32_t count;
        uint32_t deleted_count;
        uint32_t last_accessed;   /* LAST (RFC 1725): highest number retrieved */
};

/* Reads user_id's INBOX in one read txn into a snapshot allocated from pool.
   Sizes known without the bytes (stored line figures, the cache) are
   filled in. Returns OK, or the store's error. */
enum cove_store_err pop3_maildrop_load(struct store *store, struct pool *pool,
                                       struct pop3_size_cache *cache, uint32_t user_id,
                                       struct pop3_maildrop **maildrop_r);

/* The message numbered n (1-based), or NULL when n is out of range. */
struct pop3_msg *pop3_maildrop_get(struct pop3_maildrop *maildrop, uint64_t n);

/* Computes the POP3 size of msg by streaming its bytes through the same
   conversion RETR uses, reading about *budget bytes at most (decremented).
   Start with a zeroed scan. Returns OK when msg->size is known (the stream is
   closed), TEMP with *budget 0 when more work remains (call again with the
   same scan), or the stream's error (closed too). */
struct pop3_size_scan {
        uint64_t offset;          /* bytes scanned so far; 0 to start */
        struct pop3_conv conv;    /* counting conversion (no dot-stuffing) */
        struct store_stream *stream;
};
enum cove_store_err pop3_maildrop_scan(struct store *store, struct pop3_maildrop *maildrop,
                                       struct pop3_msg *msg, struct pop3_size_scan *scan,
                                       struct pop3_size_cache *cache, uint64_t *budget);

/* Records a POP3 size computed elsewhere (by RETR) in msg and the cache. */
void pop3_maildrop_set_size(struct pop3_size_cache *cache, struct pop3_msg *msg,
                            uint64_t size);

/* UPDATE state (RFC 1939 §6): expunges every message marked deleted in one
   write txn that holds the maildrop lock, and commits (which publishes the
   change). Nothing is removed unless everything is. Messages already gone
   are skipped. */
enum cove_store_err pop3_maildrop_update(struct store *store, struct store_lock *lock,
                                         const struct pop3_maildrop *maildrop);

/* ---- the per-process size cache ---- */

/* A bounded map from message gid to POP3 size (message bytes never change,
   so an entry never goes stale). entries 0 means 65536. */
struct pop3_size_cache *pop3_size_cache_create(size_t entries);
void pop3_size_cache_destroy(struct pop3_size_cache **cachep);

#endif

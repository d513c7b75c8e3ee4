/* deliver.h - local delivery shared by `covectl deliver` and cove-lmtpd:
 * recipient resolution and committing one message for several recipients.
 *
 * Owns the addressing rules (default domain for bare local parts,
 * plus-addressing, the local part's case), the quota check made before the
 * message is known, and the rule that each recipient's copy commits or fails
 * on its own. Does not speak LMTP or read config files: callers pass the
 * rules and map the codes to their replies (SMTP codes, sysexits).
 */
#ifndef COVE_DELIVER_H
#define COVE_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct write_batch;

struct cove_conf;
struct pool;

/* How an address names a user. */
struct store_rcpt_rules {
        const char *default_domain;  /* bare "local" means local@default_domain;
                                        NULL: a bare local part is refused */
        char delimiter;              /* plus-addressing separator ('+'); '\0': off */
};

/* The rules of a config: [server] default_domain, [lmtp] plus_addressing and
   recipient_delimiter (cove-lmtpd and `covectl deliver` share them). The
   strings stay conf's. */
void store_rcpt_rules_init(struct store_rcpt_rules *rules, const struct cove_conf *conf);

/* A resolved recipient. Strings live in the pool given to the resolver. */
struct store_rcpt {
        const char *address;   /* local[+detail]@domain with the default domain
                                  applied: what Delivered-To shows */
        const char *user;      /* the existing user's name (normalised) */
        const char *mailbox;   /* the +detail, as a mailbox name; NULL: INBOX */
        uint32_t user_id;
};

/* Resolves address, an RFC 5321 mailbox without angle brackets
   ("local@domain" or a bare "local"), to an existing user. The user is the
   first that exists of: the address as given; with the local part in lower
   case; and, with plus-addressing on, the same two with "+detail" removed
   from the local part (the detail then names the target mailbox, which
   delivery uses when it exists and otherwise ignores for INBOX).
   With size_hint > 0 (SIZE= of MAIL FROM) or not, the user must have room
   for one more message of size_hint bytes.
   Returns OK with *rcpt_r set; NOPERM when the address is malformed (empty
   or over-long parts, a bare name without a default domain, control
   characters; *error_r is a static reason); NOTFOUND when no such user;
   OVERQUOTA; TEMP or INTERNAL from the store (store_last_error()).
   Runs its own read transaction. */
enum cove_store_err store_rcpt_resolve(struct store *store, const struct store_rcpt_rules *rules,
                                       struct pool *pool, const char *address,
                                       uint64_t size_hint, struct store_rcpt *rcpt_r,
                                       const char **error_r);

/* One recipient of store_deliver_batch(). */
struct store_deliver_rcpt {
        const char *user;                 /* in: user name (normalised or not) */
        const char *mailbox;              /* in: target; NULL or missing: INBOX */
        struct cove_store_part prefix;    /* in: header lines put before the body for
                                             this recipient only (size 0: none) */
        enum cove_store_err result;       /* out: OK, NOTFOUND, OVERQUOTA, TEMP, ... */
        struct cove_store_saved saved;    /* out: where it went, when result is OK */
};

/* Appends prefix + body to each recipient's mailbox. The body is given once
   as body_count parts (at most COVE_STORE_MAX_PARTS - 1) and, kept as its own
   parts, is stored once for all recipients by engines that share identical
   parts (the LMDB engine does). All recipients go into one write transaction;
   a recipient refused there (unknown, over quota) is left out and does not
   affect the others. Should the engine fail during that transaction or at
   its commit, nothing of it is kept and each remaining recipient is retried
   in a transaction of its own, so one recipient's failure never costs
   another its delivery and no copy is ever stored twice. A TEMP result is
   retried a few times first (see store_deliver).
   flush: how the commits reach the disk (store.h). DURABLE: every OK
   result is durable when this returns. Otherwise the caller must call
   store_sync() and see it succeed before it reports any OK result as
   delivered (group commit: one flush for many deliveries). wb: when a write
   batch is running, the transactions nest in it (write-batch.h) and are
   stored only if the batch commits; NULL: transactions of their own. Every
   rcpts[i].result is set. */
void store_deliver_batch(struct store *store, struct store_deliver_rcpt *rcpts, size_t count,
                         const struct cove_store_part *body, size_t body_count,
                         enum store_flush flush, struct write_batch *wb);

#endif

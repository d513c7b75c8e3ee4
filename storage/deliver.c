/* deliver.c - local delivery (covectl deliver, cove-lmtpd): one message to
 * one user in its own durable write transaction.
 *
 * Owns the fallback rule (a missing or invalid target mailbox means INBOX).
 * Does not parse addresses or talk LMTP: callers pass the user name.
 */
#include "store-private.h"

#include "pool.h"

/* The target mailbox id: `mailbox` when it exists, else INBOX. */
static enum cove_store_err deliver_target(struct store_txn *txn, uint32_t user_id,
                                          const char *mailbox, uint32_t *mailbox_id_r)
{
        const struct cove_store_mailbox *mb;
        enum cove_store_err err = COVE_STORE_NOTFOUND;
        if (mailbox != NULL)
                err = store_mailbox_lookup(txn, user_id, mailbox, &mb);
        if (err == COVE_STORE_NOTFOUND)
                err = store_mailbox_lookup(txn, user_id, "INBOX", &mb);
        if (err != COVE_STORE_OK)
                return err;
        *mailbox_id_r = mb->id;
        return COVE_STORE_OK;
}

/* One delivery attempt in one write transaction. */
static enum cove_store_err deliver_once(struct store *store, const char *name,
                                        const char *mailbox,
                                        const struct cove_store_part *parts,
                                        size_t part_count, struct cove_store_saved *saved_r)
{
        struct store_txn *txn;
        const struct cove_store_user *user;
        uint32_t mailbox_id;
        enum cove_store_err err = store_txn_begin(store, true, &txn);
        if (err != COVE_STORE_OK)
                return err;
        err = store_user_lookup(txn, name, &user);
        if (err == COVE_STORE_OK)
                err = deliver_target(txn, user->id, mailbox, &mailbox_id);
        if (err == COVE_STORE_OK) {
                const struct store_append msg = {
                        .parts = parts,
                        .part_count = part_count,
                };
                err = store_msg_append(txn, mailbox_id, &msg, saved_r);
        }
        if (err != COVE_STORE_OK) {
                store_txn_abort(&txn);
                return err;
        }
        /* Durable before the caller acknowledges (RFC 5321 §6.1: once accepted,
           a message must not be lost). */
        return store_txn_commit(&txn);
}

/* A TEMP result means nothing was committed; engines return it for
   conditions the next transaction no longer has (the LMDB engine grows its
   map after a MAP_FULL), so a couple of immediate retries turn a would-be
   deferral into a delivery. */
#define DELIVER_ATTEMPTS 3

enum cove_store_err store_deliver(struct store *store, const char *name, const char *mailbox,
                                  const struct cove_store_part *parts, size_t part_count,
                                  struct cove_store_saved *saved_r)
{
        enum cove_store_err err = COVE_STORE_TEMP;
        for (unsigned attempt = 0; attempt < DELIVER_ATTEMPTS && err == COVE_STORE_TEMP;
             attempt++)
                err = deliver_once(store, name, mailbox, parts, part_count, saved_r);
        return err;
}

/* deliver.c - local delivery (covectl deliver, cove-lmtpd): recipient
 * resolution and appending one message for one or several users in durable
 * write transactions.
 *
 * Owns the addressing rules (deliver.h), the fallback rule (a missing or
 * invalid target mailbox means INBOX) and the batch/retry rules that keep one
 * recipient's failure from touching another's copy. Does not parse SMTP
 * paths or talk LMTP: callers pass an address or a user name.
 */
#include "deliver.h"
#include "write-batch.h"

#include <string.h>

#include "conf.h"
#include "pool.h"
#include "store-private.h"

/* A TEMP result means nothing was committed; engines return it for
   conditions the next transaction no longer has (the LMDB engine grows its
   map after a MAP_FULL), so a couple of immediate retries turn a would-be
   deferral into a delivery. */
#define DELIVER_ATTEMPTS 3

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

/* Appends rcpt's prefix + body inside txn; sets rcpt->result and ->saved. */
static enum cove_store_err append_one(struct store_txn *txn, struct store_deliver_rcpt *rcpt,
                                      const struct cove_store_part *body, size_t body_count)
{
        struct cove_store_part parts[COVE_STORE_MAX_PARTS];
        const struct cove_store_user *user;
        uint32_t mailbox_id;
        size_t n = 0;
        enum cove_store_err err;

        memset(&rcpt->saved, 0, sizeof(rcpt->saved));
        if (body_count > COVE_STORE_MAX_PARTS - (rcpt->prefix.size > 0 ? 1 : 0) ||
            body_count == 0)
                return rcpt->result = store_fail(store_txn_store(txn), COVE_STORE_NOPERM,
                                                 "deliver: too many message parts");
        if (rcpt->prefix.size > 0)
                parts[n++] = rcpt->prefix;
        memcpy(parts + n, body, body_count * sizeof(*body));
        n += body_count;

        err = store_user_lookup(txn, rcpt->user, &user);
        if (err == COVE_STORE_OK)
                err = deliver_target(txn, user->id, rcpt->mailbox, &mailbox_id);
        if (err == COVE_STORE_OK) {
                const struct store_append msg = { .parts = parts, .part_count = n };
                err = store_msg_append(txn, mailbox_id, &msg, &rcpt->saved);
        }
        return rcpt->result = err;
}

/* A write txn: nested in the running write batch wb, else its own. */
static enum cove_store_err begin_write(struct store *store, struct write_batch *wb,
                                       struct store_txn **txn_r)
{
        return wb != NULL ? write_batch_begin(wb, txn_r) : store_txn_begin(store, true, txn_r);
}

/* One recipient in its own transaction, retried while TEMP. */
static void deliver_alone(struct store *store, struct store_deliver_rcpt *rcpt,
                          const struct cove_store_part *body, size_t body_count,
                          enum store_flush flush, struct write_batch *wb)
{
        rcpt->result = COVE_STORE_TEMP;
        for (unsigned attempt = 0; attempt < DELIVER_ATTEMPTS &&
             rcpt->result == COVE_STORE_TEMP; attempt++) {
                struct store_txn *txn;
                enum cove_store_err err = begin_write(store, wb, &txn);
                if (err == COVE_STORE_OK && append_one(txn, rcpt, body, body_count) !=
                                            COVE_STORE_OK) {
                        err = rcpt->result;
                        store_txn_abort(&txn);
                } else if (err == COVE_STORE_OK) {
                        /* Durable before the caller acknowledges (RFC 5321
                           §6.1: once accepted, a message must not be lost). */
                        err = store_txn_commit_as(&txn, flush);
                }
                rcpt->result = err;
        }
}

enum cove_store_err store_deliver(struct store *store, const char *name, const char *mailbox,
                                  const struct cove_store_part *parts, size_t part_count,
                                  struct cove_store_saved *saved_r)
{
        struct store_deliver_rcpt rcpt = { .user = name, .mailbox = mailbox };
        deliver_alone(store, &rcpt, parts, part_count, STORE_FLUSH_DURABLE, NULL);
        if (saved_r != NULL)
                *saved_r = rcpt.saved;
        return rcpt.result;
}

/* Refusals of one recipient that leave the transaction usable: the facade
   answers them before the engine writes anything. */
static bool is_refusal(enum cove_store_err err)
{
        return err == COVE_STORE_NOTFOUND || err == COVE_STORE_OVERQUOTA ||
               err == COVE_STORE_NOPERM;
}

/* Every recipient in one transaction. Returns OK when it committed (or had
   nothing to commit): every result is then final. Otherwise nothing was
   kept; *stopped_r is the index of the first recipient not tried. */
static enum cove_store_err batch_once(struct store *store, struct store_deliver_rcpt *rcpts,
                                      size_t count, const struct cove_store_part *body,
                                      size_t body_count, enum store_flush flush,
                                      struct write_batch *wb, size_t *stopped_r)
{
        struct store_txn *txn;
        size_t ok = 0;
        *stopped_r = 0;
        enum cove_store_err err = begin_write(store, wb, &txn);
        if (err != COVE_STORE_OK)
                return err;
        for (size_t i = 0; i < count; i++) {
                err = append_one(txn, &rcpts[i], body, body_count);
                if (err == COVE_STORE_OK) {
                        ok++;
                } else if (!is_refusal(err)) {
                        *stopped_r = i;
                        store_txn_abort(&txn);
                        return err;
                }
        }
        *stopped_r = count;
        if (ok == 0) {
                store_txn_abort(&txn);
                return COVE_STORE_OK;
        }
        return store_txn_commit_as(&txn, flush);
}

void store_deliver_batch(struct store *store, struct store_deliver_rcpt *rcpts, size_t count,
                         const struct cove_store_part *body, size_t body_count,
                         enum store_flush flush, struct write_batch *wb)
{
        size_t stopped;
        if (count == 0)
                return;
        if (count == 1 || batch_once(store, rcpts, count, body, body_count, flush, wb,
                                     &stopped) != COVE_STORE_OK) {
                if (count == 1)
                        stopped = 0;
                /* Nothing of the batch was kept: retry alone whoever had been
                   accepted in it or was not reached; refusals stand. */
                for (size_t i = 0; i < count; i++) {
                        if (i >= stopped || rcpts[i].result == COVE_STORE_OK)
                                deliver_alone(store, &rcpts[i], body, body_count, flush, wb);
                }
        }
}

/* ---- recipient resolution ---- */

void store_rcpt_rules_init(struct store_rcpt_rules *rules, const struct cove_conf *conf)
{
        const char *delim = conf->lmtp_delivery.recipient_delimiter;
        *rules = (struct store_rcpt_rules){
                .default_domain = conf->server.default_domain,
                .delimiter = conf->lmtp_delivery.plus_addressing && delim != NULL ? delim[0]
                                                                                   : '\0',
        };
}

/* Up to four user names to try, in order (deliver.h). */
struct rcpt_candidates {
        const char *names[4];
        const char *details[4];
        size_t count;
};

static void candidate_add(struct rcpt_candidates *c, const char *name, const char *detail)
{
        for (size_t i = 0; i < c->count; i++) {
                if (strcmp(c->names[i], name) == 0)
                        return;
        }
        c->names[c->count] = name;
        c->details[c->count] = detail;
        c->count++;
}

static char *ascii_lower(struct pool *pool, const char *str, size_t len)
{
        char *copy = pool_strndup(pool, str, len);
        for (char *p = copy; *p != '\0'; p++) {
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        }
        return copy;
}

/* Splits address into local part and domain (default applied) and lists the
   candidate names. False with *error_r (static) when malformed. */
static bool rcpt_candidates(struct pool *pool, const struct store_rcpt_rules *rules,
                            const char *address, struct rcpt_candidates *c,
                            const char **full_r, const char **error_r)
{
        const char *at = strrchr(address, '@');
        const char *domain = at != NULL ? at + 1 : rules->default_domain;
        size_t local_len = at != NULL ? (size_t)(at - address) : strlen(address);
        if (domain == NULL) {
                *error_r = "address has no domain and no default domain is configured";
                return false;
        }
        if (local_len == 0 || domain[0] == '\0') {
                *error_r = "address has an empty local part or domain";
                return false;
        }
        if (local_len + strlen(domain) + 1 > COVE_STORE_MAX_NAME) {
                *error_r = "address is too long";
                return false;
        }
        const char *local = pool_strndup(pool, address, local_len);
        *full_r = pool_printf(pool, "%s@%s", local, domain);
        c->count = 0;
        candidate_add(c, *full_r, NULL);
        candidate_add(c, pool_printf(pool, "%s@%s", ascii_lower(pool, local, local_len),
                                     domain), NULL);
        const char *delim = rules->delimiter != '\0' ? strchr(local, rules->delimiter) : NULL;
        if (delim != NULL && delim > local) {
                size_t base_len = (size_t)(delim - local);
                const char *detail = delim[1] != '\0' ? delim + 1 : NULL;
                candidate_add(c, pool_printf(pool, "%.*s@%s", (int)base_len, local, domain),
                              detail);
                candidate_add(c, pool_printf(pool, "%s@%s",
                                             ascii_lower(pool, local, base_len), domain),
                              detail);
        }
        return true;
}

/* OVERQUOTA unless user has room for one more message of size bytes. */
static enum cove_store_err rcpt_room(struct store *store, const struct cove_store_user *user,
                                     uint64_t size)
{
        if (user->quota_messages != 0 && user->used_messages >= user->quota_messages)
                return store_fail(store, COVE_STORE_OVERQUOTA, "user %s: message quota full",
                                  user->name);
        if (user->quota_bytes != 0 &&
            (size > user->quota_bytes || user->used_bytes > user->quota_bytes - size))
                return store_fail(store, COVE_STORE_OVERQUOTA, "user %s: storage quota "
                                  "exceeded", user->name);
        return COVE_STORE_OK;
}

/* Looks the candidates up in order; fills rcpt from the first that exists. */
static enum cove_store_err rcpt_lookup(struct store *store, struct pool *pool,
                                       const struct rcpt_candidates *c, uint64_t size_hint,
                                       struct store_rcpt *rcpt, const char **error_r)
{
        struct store_txn *txn;
        const struct cove_store_user *user = NULL;
        const char *normal, *detail = NULL;
        bool any_valid = false;
        enum cove_store_err err = store_txn_begin(store, false, &txn);
        if (err != COVE_STORE_OK)
                return err;
        err = COVE_STORE_NOTFOUND;
        for (size_t i = 0; i < c->count && err == COVE_STORE_NOTFOUND; i++) {
                if (!store_user_name_normalize(pool, c->names[i], &normal, error_r))
                        continue;
                any_valid = true;
                detail = c->details[i];
                err = store_user_lookup(txn, normal, &user);
        }
        if (!any_valid)
                err = COVE_STORE_NOPERM;
        if (err == COVE_STORE_OK) {
                rcpt->user = pool_strdup(pool, user->name);
                rcpt->user_id = user->id;
                if (detail == NULL ||
                    !store_mailbox_name_normalize(pool, detail, &rcpt->mailbox, error_r))
                        rcpt->mailbox = NULL;
                err = rcpt_room(store, user, size_hint);
        }
        store_txn_abort(&txn);
        return err;
}

enum cove_store_err store_rcpt_resolve(struct store *store, const struct store_rcpt_rules *rules,
                                       struct pool *pool, const char *address,
                                       uint64_t size_hint, struct store_rcpt *rcpt_r,
                                       const char **error_r)
{
        struct rcpt_candidates c;
        memset(rcpt_r, 0, sizeof(*rcpt_r));
        *error_r = "no such user";
        if (address == NULL ||
            !rcpt_candidates(pool, rules, address, &c, &rcpt_r->address, error_r))
                return store_fail(store, COVE_STORE_NOPERM, "recipient: %s", *error_r);
        enum cove_store_err err = rcpt_lookup(store, pool, &c, size_hint, rcpt_r, error_r);
        if (err == COVE_STORE_NOPERM)
                return store_fail(store, err, "recipient: %s", *error_r);
        if (err == COVE_STORE_NOTFOUND)
                *error_r = "no such user";
        else if (err == COVE_STORE_OVERQUOTA)
                *error_r = "mailbox is full";
        else if (err != COVE_STORE_OK)
                *error_r = store_last_error(store);
        return err;
}

/* maildrop.c - the login snapshot of INBOX, POP3 sizes and UIDLs, UPDATE.
 *
 * Owns: one short read txn at login, UIDL choice (stored override, else
 * derived from UIDVALIDITY and UID), POP3 sizes from the line figures stored
 * with the structure at append, else streaming size computation with the
 * RETR conversion and the per-process gid -> size cache, and the one write txn
 * of the UPDATE state. Does not: speak POP3 or hold the lock.
 */
#include "maildrop.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mime.h"
#include "pool.h"

#define POP3_CACHE_DEFAULT 65536
#define POP3_CACHE_PROBES 4

struct pop3_size_entry {
        uint64_t gid;            /* 0 = free (gids start at 1) */
        uint64_t size;
};

struct pop3_size_cache {
        size_t size;
        struct pop3_size_entry *entries;
};

struct pop3_size_cache *pop3_size_cache_create(size_t entries)
{
        struct pop3_size_cache *c = xcalloc(1, sizeof(*c));

        c->size = entries != 0 ? entries : POP3_CACHE_DEFAULT;
        c->entries = xcalloc(c->size, sizeof(*c->entries));
        return c;
}

void pop3_size_cache_destroy(struct pop3_size_cache **cachep)
{
        struct pop3_size_cache *c = *cachep;

        if (c == NULL)
                return;
        *cachep = NULL;
        free(c->entries);
        free(c);
}

static size_t cache_slot(const struct pop3_size_cache *c, uint64_t gid, size_t i)
{
        uint64_t h = gid * 0x9e3779b97f4a7c15ull;

        return (size_t)((h >> 17) + i) % c->size;
}

static uint64_t cache_get(const struct pop3_size_cache *c, uint64_t gid)
{
        if (c == NULL || gid == 0)
                return POP3_SIZE_UNKNOWN;
        for (size_t i = 0; i < POP3_CACHE_PROBES; i++) {
                const struct pop3_size_entry *e = &c->entries[cache_slot(c, gid, i)];
                if (e->gid == gid)
                        return e->size;
        }
        return POP3_SIZE_UNKNOWN;
}

static void cache_put(struct pop3_size_cache *c, uint64_t gid, uint64_t size)
{
        struct pop3_size_entry *victim;

        if (c == NULL || gid == 0)
                return;
        victim = &c->entries[cache_slot(c, gid, 0)];
        for (size_t i = 0; i < POP3_CACHE_PROBES; i++) {
                struct pop3_size_entry *e = &c->entries[cache_slot(c, gid, i)];
                if (e->gid == gid || e->gid == 0) {
                        victim = e;
                        break;
                }
        }
        /* A full neighbourhood overwrites its first slot: a lost entry only
           costs a recount. */
        *victim = (struct pop3_size_entry){ .gid = gid, .size = size };
}

void pop3_maildrop_set_size(struct pop3_size_cache *cache, struct pop3_msg *msg,
                            uint64_t size)
{
        msg->size = size;
        cache_put(cache, msg->gid, size);
}

/* RFC 1939 §7: 1 to 70 characters in 0x21..0x7E. */
static bool uidl_valid(const char *uidl)
{
        size_t len = strlen(uidl);

        if (len == 0 || len > POP3_UIDL_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                if ((unsigned char)uidl[i] < 0x21 || (unsigned char)uidl[i] > 0x7e)
                        return false;
        }
        return true;
}

/* The stored override when usable, else UIDVALIDITY and UID in hex: unique
   forever, since UIDVALIDITY never repeats for INBOX and UIDs never repeat
   within it. */
static const char *uidl_for(struct pool *pool, uint32_t uidvalidity,
                            const struct cove_store_msg *m)
{
        if (m->uidl != NULL && uidl_valid(m->uidl))
                return pool_strdup(pool, m->uidl);
        return pool_printf(pool, "%08" PRIx32 "%08" PRIx32, uidvalidity, m->uid);
}

/* The POP3 size without reading the message: from the line figures the
   MIME parser stored at append (structure version 2), else from the cache,
   else POP3_SIZE_UNKNOWN (counted from the bytes when first needed). */
static uint64_t known_size(const struct pop3_size_cache *cache,
                           const struct cove_store_msg *m)
{
        uint64_t bare_lfs, size;
        enum mime_last_line last_line;

        if (m->size == 0)
                return 0;
        if (m->structure != NULL &&
            mime_structure_line_info(m->structure, m->structure_len, &bare_lfs, &last_line) &&
            pop3_conv_size_from_lines(m->size, bare_lfs, last_line, &size))
                return size;
        return cache_get(cache, m->gid);
}

static enum cove_store_err maildrop_read(struct store_txn *txn, struct pool *pool,
                                         struct pop3_size_cache *cache,
                                         struct pop3_maildrop *md)
{
        const struct cove_store_msg *m;
        struct store_iter *iter;
        enum cove_store_err err;
        size_t cap = md->count > 0 ? md->count : 16;

        md->msgs = pool_alloc(pool, cap * sizeof(*md->msgs));
        md->count = 0;
        err = store_msg_iter_init(txn, md->mailbox_id, 1, UINT32_MAX, &iter);
        if (err != COVE_STORE_OK)
                return err;
        while ((err = store_msg_iter_next(iter, &m)) == COVE_STORE_OK) {
                if (md->count == cap) {
                        md->msgs = pool_realloc(pool, md->msgs, cap * sizeof(*md->msgs),
                                                2 * cap * sizeof(*md->msgs));
                        cap *= 2;
                }
                md->msgs[md->count++] = (struct pop3_msg){
                        .uid = m->uid,
                        .gid = m->gid,
                        .stored_size = m->size,
                        .size = known_size(cache, m),
                        .uidl = uidl_for(pool, md->uidvalidity, m),
                };
        }
        store_iter_deinit(&iter);
        return err == COVE_STORE_NOTFOUND ? COVE_STORE_OK : err;
}

enum cove_store_err pop3_maildrop_load(struct store *store, struct pool *pool,
                                       struct pop3_size_cache *cache, uint32_t user_id,
                                       struct pop3_maildrop **maildrop_r)
{
        const struct cove_store_mailbox *box;
        struct pop3_maildrop *md = pool_alloc(pool, sizeof(*md));
        struct store_txn *txn;
        enum cove_store_err err;

        err = store_txn_begin(store, false, &txn);
        if (err != COVE_STORE_OK)
                return err;
        err = store_mailbox_lookup(txn, user_id, "INBOX", &box);
        if (err == COVE_STORE_OK) {
                md->mailbox_id = box->id;
                md->uidvalidity = box->uidvalidity;
                md->count = box->messages;
                err = maildrop_read(txn, pool, cache, md);
        }
        store_txn_abort(&txn);
        if (err != COVE_STORE_OK)
                return err;
        *maildrop_r = md;
        return COVE_STORE_OK;
}

struct pop3_msg *pop3_maildrop_get(struct pop3_maildrop *maildrop, uint64_t n)
{
        if (n == 0 || n > maildrop->count)
                return NULL;
        return &maildrop->msgs[n - 1];
}

static void count_only(void *context, const void *data, size_t len)
{
        (void)context;
        (void)data;
        (void)len;
}

enum cove_store_err pop3_maildrop_scan(struct store *store, struct pop3_maildrop *maildrop,
                                       struct pop3_msg *msg, struct pop3_size_scan *scan,
                                       struct pop3_size_cache *cache, uint64_t *budget)
{
        enum cove_store_err err = COVE_STORE_OK;
        uint64_t size;

        if (scan->stream == NULL) {
                err = store_stream_open(store, maildrop->mailbox_id, msg->uid, &scan->stream,
                                        &size);
                if (err != COVE_STORE_OK)
                        return err;
                msg->stored_size = size;   /* the stream is the authority */
                pop3_conv_init(&scan->conv, false, false, 0);
                scan->offset = 0;
        }
        while (scan->offset < msg->stored_size) {
                const void *data;
                size_t len;

                if (*budget == 0)
                        return COVE_STORE_TEMP;
                err = store_stream_read(scan->stream, scan->offset, &data, &len);
                if (err == COVE_STORE_OK && len == 0)
                        err = COVE_STORE_CORRUPT;   /* shorter than its recorded size */
                if (err != COVE_STORE_OK)
                        break;
                pop3_conv_feed(&scan->conv, data, len, count_only, NULL);
                scan->offset += len;
                *budget = len >= *budget ? 0 : *budget - len;
        }
        store_stream_close(&scan->stream);
        if (err != COVE_STORE_OK)
                return err;
        pop3_conv_finish(&scan->conv, count_only, NULL);
        pop3_maildrop_set_size(cache, msg, scan->conv.size);
        return COVE_STORE_OK;
}

enum cove_store_err pop3_maildrop_update(struct store *store, struct store_lock *lock,
                                         const struct pop3_maildrop *maildrop)
{
        struct store_txn *txn;
        enum cove_store_err err;

        if (maildrop->deleted_count == 0)
                return COVE_STORE_OK;
        err = store_txn_begin(store, true, &txn);
        if (err != COVE_STORE_OK)
                return err;
        store_txn_hold_maildrop(txn, lock);
        for (uint32_t i = 0; i < maildrop->count; i++) {
                if (!maildrop->msgs[i].deleted)
                        continue;
                err = store_msg_expunge(txn, maildrop->mailbox_id, maildrop->msgs[i].uid);
                if (err == COVE_STORE_NOTFOUND || err == COVE_STORE_EXPUNGED)
                        err = COVE_STORE_OK;   /* already gone: the goal is met */
                if (err != COVE_STORE_OK) {
                        store_txn_abort(&txn);
                        return err;
                }
        }
        return store_txn_commit(&txn);
}

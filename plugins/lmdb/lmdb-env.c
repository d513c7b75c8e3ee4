/* lmdb-env.c - the LMDB environment: open/create, close, transactions, map
 * growth and durability.
 *
 * Owns: the store directory checks, the format version check, the named
 * databases, the txn lifecycle (MAP_RESIZED/MAP_FULL handling, NOSYNC
 * commits, sync). Does not interpret records beyond the meta database.
 */
#include "lmdb-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char *const db_names[LMDB_DB_COUNT] = {
        [LMDB_DB_META] = "meta",
        [LMDB_DB_USERS] = "users",
        [LMDB_DB_USER_NAMES] = "user_names",
        [LMDB_DB_MAILBOXES] = "mailboxes",
        [LMDB_DB_MAILBOX_NAMES] = "mailbox_names",
        [LMDB_DB_SUBSCRIPTIONS] = "subscriptions",
        [LMDB_DB_MESSAGES] = "messages",
        [LMDB_DB_MODSEQ] = "modseq",
        [LMDB_DB_EXPUNGES] = "expunges",
        [LMDB_DB_BLOBS] = "blobs",
        [LMDB_DB_CHUNKS] = "chunks",
};

/* open() has no handle to own its error line when it fails. */
static char open_error[1024];

static void store_log(struct cove_store *store, enum cove_store_log_level level,
                      const char *msg)
{
        if (store->host != NULL && store->host->log != NULL)
                store->host->log(level, "lmdb: %s", msg);
}

/* mkdir -p for the store directory (create only). */
static int mkdir_parents(char *path)
{
        for (char *p = path + 1; *p != '\0'; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                int rc = mkdir(path, 0755);
                *p = '/';
                if (rc != 0 && errno != EEXIST)
                        return -1;
        }
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return -1;
        return 0;
}

static enum cove_store_err check_dir(struct cove_store *store, bool create)
{
        const char *dir = store->opts.path;
        char data[4096];
        struct stat st;

        if (snprintf(data, sizeof(data), "%s/data.mdb", dir) >= (int)sizeof(data))
                return lmdb_error(store, COVE_STORE_INTERNAL, "path: too long");
        if (create) {
                char *copy = strdup(dir);
                int rc = copy == NULL ? -1 : mkdir_parents(copy);
                free(copy);
                if (rc != 0)
                        return lmdb_error(store, COVE_STORE_NOPERM,
                                          "path: cannot create %s: %s", dir, strerror(errno));
        }
        if (stat(dir, &st) != 0)
                return lmdb_error(store, COVE_STORE_NOTFOUND,
                                  "path: no store in %s (%s); run `covectl init` to create one",
                                  dir, strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return lmdb_error(store, COVE_STORE_NOPERM, "path: %s is not a directory", dir);
        if (access(dir, R_OK | W_OK | X_OK) != 0)
                return lmdb_error(store, COVE_STORE_NOPERM, "path: %s is not writable: %s",
                                  dir, strerror(errno));
        bool exists = stat(data, &st) == 0;
        if (create && exists)
                return lmdb_error(store, COVE_STORE_EXISTS,
                                  "path: a store already exists in %s", dir);
        if (!create && !exists)
                return lmdb_error(store, COVE_STORE_NOTFOUND,
                                  "path: no store in %s; run `covectl init` to create one", dir);
        return COVE_STORE_OK;
}

static enum cove_store_err env_open(struct cove_store *store, bool create)
{
        const struct lmdb_options *o = &store->opts;
        int rc = mdb_env_create(&store->env);

        if (rc == 0)
                rc = mdb_env_set_maxdbs(store->env, LMDB_DB_COUNT + 1);
        if (rc == 0)
                rc = mdb_env_set_maxreaders(store->env, o->max_readers);
        if (rc == 0 && create)
                rc = mdb_env_set_mapsize(store->env, o->map_size != 0 ? o->map_size
                                                                      : LMDB_DEFAULT_MAP_SIZE);
        /* NOTLS: a txn belongs to its handle, not the thread (streams and
           iterators are driven from an event loop). Default sync: every
           commit is fsync'd. */
        if (rc == 0)
                rc = mdb_env_open(store->env, o->path, MDB_NOTLS, 0600);
        if (rc != 0) {
                enum cove_store_err err = rc == EACCES ? COVE_STORE_NOPERM
                        : rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? COVE_STORE_CORRUPT
                        : COVE_STORE_INTERNAL;
                return lmdb_error(store, err, "path: cannot open the lmdb environment in %s: %s",
                                  o->path, mdb_strerror(rc));
        }
        mdb_filehandle_t fd;
        if (mdb_env_get_fd(store->env, &fd) != 0)
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "lmdb: no file descriptor for the environment in %s", o->path);
        store->data_fd = fd;
        MDB_envinfo info;
        mdb_env_info(store->env, &info);
        if (o->map_size > info.me_mapsize)
                mdb_env_set_mapsize(store->env, o->map_size);
        int dead = 0;
        mdb_reader_check(store->env, &dead);
        if (dead > 0) {
                char msg[128];
                snprintf(msg, sizeof(msg), "cleared %d stale reader slot(s) of dead processes",
                         dead);
                store_log(store, COVE_STORE_LOG_INFO, msg);
        }
        return COVE_STORE_OK;
}

static enum cove_store_err format_init(struct cove_store_txn *txn)
{
        enum cove_store_err err = lmdb_meta_set(txn, LMDB_META_FORMAT, LMDB_FORMAT_VERSION);

        if (err == COVE_STORE_OK)
                err = lmdb_meta_set(txn, LMDB_META_BYTES_STORED, 0);
        return err;
}

static enum cove_store_err format_check(struct cove_store_txn *txn)
{
        uint64_t v;
        enum cove_store_err err = lmdb_meta_get(txn, LMDB_META_FORMAT, &v);

        if (err != COVE_STORE_OK)
                return err;
        if (v == 0)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "path: %s is not a Cove store (no format record)",
                                  txn->store->opts.path);
        if (v > LMDB_FORMAT_VERSION)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "path: store format %" PRIu64 " is newer than this engine "
                                  "supports (%u); upgrade Cove", v, LMDB_FORMAT_VERSION);
        if (v < LMDB_FORMAT_MIN)
                return lmdb_error(txn->store, COVE_STORE_CORRUPT,
                                  "path: unknown store format %" PRIu64, v);
        return COVE_STORE_OK;
}

static void count_leave(struct cove_store *store, bool map_full, uint64_t need);

static enum cove_store_err dbs_open(struct cove_store *store, bool create)
{
        struct cove_store_txn *txn;
        enum cove_store_err err = lmdb_txn_begin(store, create ? COVE_STORE_TXN_WRITE
                                                              : COVE_STORE_TXN_READ, &txn);
        if (err != COVE_STORE_OK)
                return err;
        /* meta first: a newer format is reported as such, whatever other
           databases it has. */
        for (unsigned i = 0; i < LMDB_DB_COUNT && err == COVE_STORE_OK; i++) {
                int rc = mdb_dbi_open(txn->txn, db_names[i], create ? MDB_CREATE : 0,
                                      &store->dbi[i]);
                if (rc == MDB_NOTFOUND)
                        err = lmdb_error(store, COVE_STORE_CORRUPT,
                                         "path: %s is not a Cove store (no '%s' database)",
                                         store->opts.path, db_names[i]);
                else if (rc != 0)
                        err = lmdb_txn_error(txn, rc, "open database");
                if (err == COVE_STORE_OK && i == LMDB_DB_META)
                        err = create ? format_init(txn) : format_check(txn);
        }
        if (err != COVE_STORE_OK) {
                lmdb_txn_abort(&txn);
                return err;
        }
        /* Committing (even a read txn) makes the dbi handles permanent. */
        int rc = mdb_txn_commit(txn->txn);
        txn->txn = NULL;
        count_leave(store, false, 0);
        lmdb_arena_free(&txn->arena);
        free(txn);
        if (rc != 0)
                return lmdb_error(store, COVE_STORE_INTERNAL, "path: cannot initialise: %s",
                                  mdb_strerror(rc));
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_store_open(const struct cove_store_host *host,
                                    const struct cove_store_conf *conf,
                                    struct cove_store **store_r, const char **error_r)
{
        struct cove_store *store = calloc(1, sizeof(*store));
        enum cove_store_err err;

        *store_r = NULL;
        if (store == NULL) {
                *error_r = "out of memory";
                return COVE_STORE_INTERNAL;
        }
        store->host = host;
        store->pid = getpid();
        pthread_mutex_init(&store->count_lock, NULL);
        err = lmdb_options_parse(store, conf, &store->opts);
        if (err == COVE_STORE_OK)
                err = check_dir(store, conf->create);
        if (err == COVE_STORE_OK)
                err = env_open(store, conf->create);
        if (err == COVE_STORE_OK)
                err = dbs_open(store, conf->create);
        if (err != COVE_STORE_OK) {
                snprintf(open_error, sizeof(open_error), "%s", store->error);
                *error_r = open_error;
                lmdb_store_close(&store);
                return err;
        }
        store->zbuf_size = compressBound(LMDB_CHUNK_SIZE);
        store->zbuf = lmdb_xmalloc(store->zbuf_size);
        *store_r = store;
        return COVE_STORE_OK;
}

void lmdb_store_close(struct cove_store **storep)
{
        struct cove_store *store = *storep;

        if (store == NULL)
                return;
        *storep = NULL;
        if (store->active_txns != 0)
                store_log(store, COVE_STORE_LOG_ERROR,
                          "store closed with transactions or streams still open");
        /* In a forked child, mdb_env_close would release the parent's
           reader slots (they carry the parent's pid): leave the inherited
           environment alone and free only our memory. */
        if (store->env != NULL && getpid() == store->pid)
                mdb_env_close(store->env);
        lmdb_options_free(&store->opts);
        pthread_mutex_destroy(&store->count_lock);
        free(store->zbuf);
        free(store);
}

const char *lmdb_store_last_error(struct cove_store *store)
{
        return store->error[0] != '\0' ? store->error : "no error";
}

/* ---- map growth and the txn count ----
   mdb_env_set_mapsize() is only safe with no txn of this process alive.
   active_txns counts txns alive *or beginning*, always under count_lock, so
   that a handoff txn beginning or ending on another thread (txn_begin_handoff)
   never races a growth decision. Growth itself also happens under the lock. */

static void growth_apply_locked(struct cove_store *store)
{
        if (store->grow_to == 0 || store->active_txns != 0)
                return;
        int rc = mdb_env_set_mapsize(store->env, store->grow_to);
        char msg[128];
        snprintf(msg, sizeof(msg), "map size grown to %" PRIu64 " bytes%s", store->grow_to,
                 rc == 0 ? "" : " (failed)");
        store_log(store, rc == 0 ? COVE_STORE_LOG_INFO : COVE_STORE_LOG_ERROR, msg);
        store->grow_to = 0;
}

/* Plans a larger map: at least double, and room for `need` more bytes. */
static void growth_plan_locked(struct cove_store *store, uint64_t need)
{
        MDB_envinfo info;

        mdb_env_info(store->env, &info);
        uint64_t cur = info.me_mapsize;
        uint64_t want = cur * 2;
        if (want < cur + need * 2 + (1u << 20))
                want = cur + need * 2 + (1u << 20);
        if (want > store->grow_to)
                store->grow_to = want;
}

/* Grows ahead of need when the high-water mark passes 3/4 of the map, so
   most writers never see MAP_FULL. No txn may be alive. */
static void headroom_check_locked(struct cove_store *store)
{
        MDB_envinfo info;
        MDB_stat st;

        if (mdb_env_info(store->env, &info) != 0 || mdb_env_stat(store->env, &st) != 0)
                return;
        uint64_t used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
        if (used > info.me_mapsize / 4 * 3)
                growth_plan_locked(store, 0);
}

/* A txn is about to begin: pending growth first when none is alive. */
static void count_enter(struct cove_store *store, bool write)
{
        pthread_mutex_lock(&store->count_lock);
        if (store->active_txns == 0) {
                if (write)
                        headroom_check_locked(store);
                growth_apply_locked(store);
        }
        store->active_txns++;
        pthread_mutex_unlock(&store->count_lock);
}

/* A txn ended (or failed to begin); map_full: it needed more map. */
static void count_leave(struct cove_store *store, bool map_full, uint64_t need)
{
        pthread_mutex_lock(&store->count_lock);
        store->active_txns--;
        if (map_full)
                growth_plan_locked(store, need);
        growth_apply_locked(store);
        pthread_mutex_unlock(&store->count_lock);
}

/* Begins a top-level LMDB txn; the caller has counted it (count_enter). */
static int begin_raw(struct cove_store *store, unsigned mdb_flags, MDB_txn **txn_r)
{
        int rc = mdb_txn_begin(store->env, NULL, mdb_flags, txn_r);

        if (rc == MDB_MAP_RESIZED) {
                /* Another process grew the map: adopt its size and retry,
                   if no other txn of ours is alive or beginning. */
                pthread_mutex_lock(&store->count_lock);
                bool alone = store->active_txns == 1;
                int rs = alone ? mdb_env_set_mapsize(store->env, 0) : MDB_MAP_RESIZED;
                pthread_mutex_unlock(&store->count_lock);
                if (rs == 0)
                        rc = mdb_txn_begin(store->env, NULL, mdb_flags, txn_r);
        }
        if (rc == MDB_READERS_FULL) {
                /* Slots of killed processes may be what fills the table. */
                int dead = 0;
                if (mdb_reader_check(store->env, &dead) == 0 && dead > 0)
                        rc = mdb_txn_begin(store->env, NULL, mdb_flags, txn_r);
        }
        return rc;
}

static enum cove_store_err map_rc_begin(int rc)
{
        switch (rc) {
        case MDB_MAP_RESIZED:
        case MDB_READERS_FULL:
        case EAGAIN:
        case EBUSY:
        case ENOMEM:
                return COVE_STORE_TEMP;
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
                return COVE_STORE_CORRUPT;
        default:
                return COVE_STORE_INTERNAL;
        }
}

static enum cove_store_err check_pid(struct cove_store *store)
{
        if (getpid() != store->pid)
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "store handle used in a child process; open the store "
                                  "after fork()");
        return COVE_STORE_OK;
}

enum cove_store_err lmdb_txn_begin(struct cove_store *store, unsigned flags,
                                   struct cove_store_txn **txn_r)
{
        bool write = (flags & COVE_STORE_TXN_WRITE) != 0;
        MDB_txn *raw;

        *txn_r = NULL;
        if (check_pid(store) != COVE_STORE_OK)
                return COVE_STORE_INTERNAL;
        count_enter(store, write);
        int rc = begin_raw(store, write ? 0 : MDB_RDONLY, &raw);
        if (rc != 0) {
                count_leave(store, false, 0);
                return lmdb_error(store, map_rc_begin(rc), "lmdb: begin transaction: %s",
                                  mdb_strerror(rc));
        }
        struct cove_store_txn *txn = lmdb_xmalloc(sizeof(*txn));
        *txn = (struct cove_store_txn){ .store = store, .txn = raw, .write = write };
        *txn_r = txn;
        return COVE_STORE_OK;
}

/* The batch's top-level write txn, begun and committed on the flush thread
   while the loop's thread uses the handle: only count_lock'd state and
   LMDB itself are touched here, and errors go to errbuf, never to the
   handle's error text. A full (durable) commit: no env flag is toggled. */
enum cove_store_err lmdb_txn_begin_handoff(struct cove_store *store,
                                           struct cove_store_txn **txn_r, char *errbuf,
                                           size_t errlen)
{
        MDB_txn *raw;

        *txn_r = NULL;
        count_enter(store, true);
        int rc = begin_raw(store, 0, &raw);
        if (rc != 0) {
                count_leave(store, false, 0);
                snprintf(errbuf, errlen, "lmdb: begin transaction: %s", mdb_strerror(rc));
                return map_rc_begin(rc);
        }
        struct cove_store_txn *txn = lmdb_xmalloc(sizeof(*txn));
        *txn = (struct cove_store_txn){ .store = store, .txn = raw, .write = true,
                                        .handoff = true };
        *txn_r = txn;
        return COVE_STORE_OK;
}

/* The id of the last committed write txn (mdb_env_info reads the meta
   pages without any lock of ours). */
static size_t last_txnid(struct cove_store *store)
{
        MDB_envinfo info;
        mdb_env_info(store->env, &info);
        return info.me_last_txnid;
}

enum cove_store_err lmdb_txn_commit_handoff(struct cove_store_txn **txnp, char *errbuf,
                                            size_t errlen)
{
        struct cove_store_txn *txn = *txnp;
        struct cove_store *store = txn->store;
        enum cove_store_err err = COVE_STORE_OK;

        *txnp = NULL;
        if (txn->failed) {
                mdb_txn_abort(txn->txn);
                err = txn->fail_err == COVE_STORE_TEMP ? COVE_STORE_TEMP : COVE_STORE_INTERNAL;
                snprintf(errbuf, errlen, "lmdb: a write in the transaction failed");
        } else {
                size_t id = mdb_txn_id(txn->txn);
                int rc = mdb_txn_commit(txn->txn);
                if (rc != 0) {
                        err = rc == MDB_MAP_FULL || rc == ENOSPC ? COVE_STORE_TEMP
                                                                 : COVE_STORE_INTERNAL;
                        txn->map_full = txn->map_full || rc == MDB_MAP_FULL;
                        snprintf(errbuf, errlen, "lmdb: commit: %s", mdb_strerror(rc));
                } else if (last_txnid(store) != id) {
                        /* LMDB skips a txn that changed nothing, flush and
                           all; earlier ORDERED commits still need it. (When
                           another process committed right after, the id
                           differs too: one flush more, never one less.) */
                        err = lmdb_store_sync_concurrent(store, errbuf, errlen);
                }
        }
        count_leave(store, txn->map_full, txn->need_hint);
        lmdb_arena_free(&txn->arena);
        free(txn);
        return err;
}

/* LMDB nests write txns natively: the child's pages join the parent's at
   commit, and an aborted (or failed) child leaves the parent as it was. */
enum cove_store_err lmdb_txn_begin_nested(struct cove_store_txn *parent,
                                          struct cove_store_txn **txn_r)
{
        struct cove_store *store = parent->store;
        MDB_txn *raw;

        *txn_r = NULL;
        if (!parent->write || parent->failed)
                return lmdb_error(store, COVE_STORE_INTERNAL,
                                  "lmdb: nested transaction in a %s parent",
                                  parent->write ? "failed" : "read-only");
        count_enter(store, false);
        int rc = mdb_txn_begin(store->env, parent->txn, 0, &raw);
        if (rc != 0) {
                count_leave(store, false, 0);
                return lmdb_error(store, map_rc_begin(rc), "lmdb: begin nested transaction: %s",
                                  mdb_strerror(rc));
        }
        struct cove_store_txn *txn = lmdb_xmalloc(sizeof(*txn));
        *txn = (struct cove_store_txn){ .store = store, .txn = raw, .write = true,
                                        .parent = parent };
        *txn_r = txn;
        return COVE_STORE_OK;
}

/* Frees the handle once the LMDB txn is gone; applies pending growth. */
static void txn_finish(struct cove_store_txn *txn)
{
        struct cove_store *store = txn->store;

        if (txn->iters != 0)
                store_log(store, COVE_STORE_LOG_ERROR,
                          "transaction ended with iterators still open");
        bool grow = txn->map_full;
        if (txn->map_full && txn->parent != NULL) {
                /* The map can only grow once the top-level txn has ended. */
                txn->parent->map_full = true;
                if (txn->need_hint > txn->parent->need_hint)
                        txn->parent->need_hint = txn->need_hint;
                grow = false;
        }
        count_leave(store, grow, txn->need_hint);
        lmdb_arena_free(&txn->arena);
        free(txn);
}

enum cove_store_err lmdb_txn_commit(struct cove_store_txn **txnp, unsigned flags)
{
        struct cove_store_txn *txn = *txnp;
        struct cove_store *store = txn->store;
        enum cove_store_err err = COVE_STORE_OK;

        *txnp = NULL;
        if (!txn->write || txn->failed) {
                mdb_txn_abort(txn->txn);
                if (txn->failed)
                        err = txn->fail_err == COVE_STORE_TEMP ? COVE_STORE_TEMP
                                                               : COVE_STORE_INTERNAL;
                txn_finish(txn);
                return err;
        }
        /* NOSYNC: nothing flushed. ORDERED: MDB_NOMETASYNC, the new pages
           are flushed before the meta page that points at them is written,
           only the meta page waits for sync(): a machine crash can undo the
           commit but never leave the root pointing at unwritten pages. */
        unsigned lazy = txn->parent != NULL ? 0   /* a child commits into memory */
                        : (flags & COVE_STORE_COMMIT_NOSYNC) != 0 ? MDB_NOSYNC
                        : (flags & COVE_STORE_COMMIT_ORDERED) != 0 ? MDB_NOMETASYNC : 0;
        if (lazy != 0)
                mdb_env_set_flags(store->env, lazy, 1);
        int rc = mdb_txn_commit(txn->txn);
        if (lazy != 0)
                mdb_env_set_flags(store->env, lazy, 0);
        if (rc != 0) {
                err = map_rc_begin(rc);
                if (rc == MDB_MAP_FULL || rc == ENOSPC) {
                        err = COVE_STORE_TEMP;
                        txn->map_full = rc == MDB_MAP_FULL;
                }
                lmdb_error(store, err, "lmdb: commit: %s", mdb_strerror(rc));
                if (err == COVE_STORE_CORRUPT)
                        err = COVE_STORE_INTERNAL;
        }
        txn_finish(txn);
        return err;
}

void lmdb_txn_abort(struct cove_store_txn **txnp)
{
        struct cove_store_txn *txn = *txnp;

        if (txn == NULL)
                return;
        *txnp = NULL;
        mdb_txn_abort(txn->txn);
        txn_finish(txn);
}

enum cove_store_err lmdb_store_sync(struct cove_store *store)
{
        int rc = mdb_env_sync(store->env, 1);

        if (rc != 0)
                return lmdb_error(store, rc == ENOSPC ? COVE_STORE_TEMP : COVE_STORE_INTERNAL,
                                  "lmdb: sync: %s", mdb_strerror(rc));
        return COVE_STORE_OK;
}

/* What mdb_env_sync(env, 1) does for an environment opened without
   MDB_WRITEMAP (this engine never uses it): fdatasync of the data file. Done
   here directly because mdb_env_sync reads env flags that a NOSYNC commit on
   the other thread toggles; the descriptor is fixed for the env's life. */
enum cove_store_err lmdb_store_sync_concurrent(struct cove_store *store, char *errbuf,
                                               size_t errlen)
{
        if (fdatasync(store->data_fd) == 0)
                return COVE_STORE_OK;
        int e = errno;
        snprintf(errbuf, errlen, "lmdb: sync: %s", strerror(e));
        return e == ENOSPC || e == EDQUOT ? COVE_STORE_TEMP : COVE_STORE_INTERNAL;
}

enum cove_store_err lmdb_raw_read_begin(struct cove_store *store, MDB_txn **txn_r)
{
        if (check_pid(store) != COVE_STORE_OK)
                return COVE_STORE_INTERNAL;
        count_enter(store, false);
        int rc = begin_raw(store, MDB_RDONLY, txn_r);
        if (rc != 0) {
                count_leave(store, false, 0);
                return lmdb_error(store, map_rc_begin(rc), "lmdb: begin read: %s",
                                  mdb_strerror(rc));
        }
        return COVE_STORE_OK;
}

void lmdb_raw_read_end(struct cove_store *store, MDB_txn **txn)
{
        if (*txn == NULL)
                return;
        mdb_txn_abort(*txn);
        *txn = NULL;
        count_leave(store, false, 0);
}

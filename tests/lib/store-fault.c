/* store-fault.c - cove_store_fault.so, a fake engine that wraps a real one
 * and fails on command, so the facade's error paths can be tested without
 * breaking a real store.
 *
 * Options (all other [store] keys go to the inner engine unchanged):
 *   fault_inner = lmdb        the engine to wrap (required), loaded from
 *                             fault_inner_dir or this plugin's own directory
 *   fault_write_fail = N      the Nth write op of this handle fails (1-based)
 *   fault_write_error = temp|internal|corrupt   what it fails with (temp)
 *   fault_commit_fail = N     the Nth commit of a write txn fails with TEMP,
 *                             aborting the inner txn (nothing is committed)
 *   fault_lock = none|inuse   inuse: every lock and guard is refused
 *   fault_sync = ok|fail      fail: every flush (sync, sync_concurrent) fails
 *                             with INTERNAL (the commits themselves stand)
 *   fault_commit_delay_ms = N every top-level write commit first waits N ms,
 *                             holding the writer lock (a slow disk: widens
 *                             the window between a change and its commit)
 * Built with FAULT_SERIAL (cove_store_fault_serial.so) it offers no
 * sync_concurrent, like an engine that can only flush on the caller's thread.
 * Locks are its own flock files (<state_dir>/fault-<user_id>); notification
 * is left to the host. Built against cove/storage.h alone, like any plugin.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cove/storage.h"

struct cove_store {
        void *dl;
        const struct cove_store_ops *inner;
        struct cove_store *inner_store;
        const char *state_dir;
        unsigned long write_fail_at, writes;
        enum cove_store_err write_err;
        unsigned long commit_fail_at, commits;
        unsigned long commit_delay_ms;
        bool lock_inuse;
        bool sync_fail;
        char error[512];
};

struct cove_store_txn {
        struct cove_store *fs;
        struct cove_store_txn *inner;   /* the inner engine's handle */
        bool write;
        bool nested;                    /* txn_begin_nested: commits into its parent */
};

struct cove_store_lock {
        int fd;
};

/* Iterators and streams carry the inner table: their ops get no txn. */
struct cove_store_iter {
        const struct cove_store_ops *ops;
        struct cove_store_iter *inner;
};

struct cove_store_stream {
        const struct cove_store_ops *ops;
        struct cove_store_stream *inner;
};

static enum cove_store_err fault_fail(struct cove_store *fs, enum cove_store_err err,
                                      const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static enum cove_store_err fault_fail(struct cove_store *fs, enum cove_store_err err,
                                      const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fs->error, sizeof(fs->error), fmt, ap);
        va_end(ap);
        return err;
}

/* Counts a write op; returns the injected error when this is the one. */
static enum cove_store_err fault_write(struct cove_store_txn *txn, const char *op)
{
        struct cove_store *fs = txn->fs;
        if (++fs->writes != fs->write_fail_at) {
                fs->error[0] = '\0';
                return COVE_STORE_OK;
        }
        return fault_fail(fs, fs->write_err, "injected failure of write #%lu (%s)",
                          fs->writes, op);
}

/* The inner txn, forgetting any injected error (a new call begins). */
static struct cove_store_txn *fwd(struct cove_store_txn *txn)
{
        txn->fs->error[0] = '\0';
        return txn->inner;
}

static const struct cove_store_ops *inner_ops(struct cove_store_txn *txn)
{
        return txn->fs->inner;
}

/* ---- options and loading the inner engine ---- */

static bool parse_count(const char *value, unsigned long *count_r)
{
        char *end;
        errno = 0;
        unsigned long n = strtoul(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || value[0] == '-')
                return false;
        *count_r = n;
        return true;
}

/* Applies one fault_* option; false with fs->error = "KEY: reason". */
static bool fault_option(struct cove_store *fs, const struct cove_store_option *opt,
                         const char **inner_r, const char **inner_dir_r)
{
        const char *k = opt->key, *v = opt->value;
        bool ok = true;
        if (strcmp(k, "fault_inner") == 0)
                *inner_r = v;
        else if (strcmp(k, "fault_inner_dir") == 0)
                *inner_dir_r = v;
        else if (strcmp(k, "fault_write_fail") == 0)
                ok = parse_count(v, &fs->write_fail_at);
        else if (strcmp(k, "fault_commit_fail") == 0)
                ok = parse_count(v, &fs->commit_fail_at);
        else if (strcmp(k, "fault_commit_delay_ms") == 0)
                ok = parse_count(v, &fs->commit_delay_ms);
        else if (strcmp(k, "fault_write_error") == 0) {
                ok = strcmp(v, "temp") == 0 || strcmp(v, "internal") == 0 ||
                     strcmp(v, "corrupt") == 0;
                fs->write_err = v[0] == 't' ? COVE_STORE_TEMP : v[0] == 'i'
                        ? COVE_STORE_INTERNAL : COVE_STORE_CORRUPT;
        } else if (strcmp(k, "fault_lock") == 0) {
                ok = strcmp(v, "none") == 0 || strcmp(v, "inuse") == 0;
                fs->lock_inuse = strcmp(v, "inuse") == 0;
        } else if (strcmp(k, "fault_sync") == 0) {
                ok = strcmp(v, "ok") == 0 || strcmp(v, "fail") == 0;
                fs->sync_fail = strcmp(v, "fail") == 0;
        } else {
                fault_fail(fs, COVE_STORE_INTERNAL, "%s: unknown fault option", k);
                return false;
        }
        if (!ok)
                fault_fail(fs, COVE_STORE_INTERNAL, "%s: invalid value '%s'", k, v);
        return ok;
}

/* The directory this plugin was loaded from. */
static const char *own_dir(char *buf, size_t size)
{
        Dl_info info;
        if (dladdr((void *)own_dir, &info) == 0 || info.dli_fname == NULL)
                return ".";
        snprintf(buf, size, "%s", info.dli_fname);
        return dirname(buf);
}

static bool inner_load(struct cove_store *fs, const char *inner, const char *dir)
{
        char path[4096], self[4096];
        cove_store_entry_fn entry;
        if (dir == NULL)
                dir = own_dir(self, sizeof(self));
        snprintf(path, sizeof(path), "%s/cove_store_%s.so", dir, inner);
        fs->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (fs->dl == NULL) {
                fault_fail(fs, COVE_STORE_INTERNAL, "fault_inner: cannot load %s: %s", path,
                           dlerror());
                return false;
        }
        void *sym = dlsym(fs->dl, COVE_STORE_ENTRY_SYMBOL);
        if (sym == NULL) {
                fault_fail(fs, COVE_STORE_INTERNAL, "fault_inner: %s: no entry symbol", path);
                return false;
        }
        memcpy(&entry, &sym, sizeof(entry));
        fs->inner = entry();
        if (fs->inner == NULL || fs->inner->abi_major != COVE_STORE_ABI_MAJOR ||
            fs->inner->struct_size < sizeof(struct cove_store_ops)) {
                fault_fail(fs, COVE_STORE_INTERNAL, "fault_inner: %s: ABI mismatch", path);
                return false;
        }
        return true;
}

static void fault_free(struct cove_store *fs)
{
        if (fs->inner_store != NULL)
                fs->inner->close(&fs->inner_store);
        if (fs->dl != NULL)
                dlclose(fs->dl);
        free((char *)fs->state_dir);
        free(fs);
}

/* The static error of a failed open (fs is gone by then). */
static char open_error[512];

static enum cove_store_err fault_open(const struct cove_store_host *host,
                                      const struct cove_store_conf *conf,
                                      struct cove_store **store_r, const char **error_r)
{
        struct cove_store *fs = calloc(1, sizeof(*fs));
        struct cove_store_option *rest = calloc(conf->option_count + 1, sizeof(*rest));
        const char *inner = NULL, *inner_dir = NULL;
        size_t nrest = 0;
        enum cove_store_err err = COVE_STORE_INTERNAL;
        *store_r = NULL;
        if (fs == NULL || rest == NULL) {
                free(fs);
                free(rest);
                *error_r = "out of memory";
                return COVE_STORE_INTERNAL;
        }
        fs->write_err = COVE_STORE_TEMP;
        fs->state_dir = conf->state_dir != NULL ? strdup(conf->state_dir) : NULL;
        bool ok = true;
        for (size_t i = 0; i < conf->option_count && ok; i++) {
                if (strncmp(conf->options[i].key, "fault_", 6) == 0)
                        ok = fault_option(fs, &conf->options[i], &inner, &inner_dir);
                else
                        rest[nrest++] = conf->options[i];
        }
        if (ok && inner == NULL)
                ok = (fault_fail(fs, COVE_STORE_INTERNAL, "fault_inner: required"), false);
        if (ok)
                ok = inner_load(fs, inner, inner_dir);
        if (ok) {
                struct cove_store_conf inner_conf = *conf;
                const char *inner_error = NULL;
                inner_conf.options = rest;
                inner_conf.option_count = nrest;
                err = fs->inner->open(host, &inner_conf, &fs->inner_store, &inner_error);
                if (err != COVE_STORE_OK)
                        fault_fail(fs, err, "%s", inner_error != NULL ? inner_error : "?");
                ok = err == COVE_STORE_OK;
        }
        free(rest);
        if (!ok) {
                snprintf(open_error, sizeof(open_error), "%s", fs->error);
                fs->inner_store = NULL;
                fault_free(fs);
                *error_r = open_error;
                return err == COVE_STORE_OK ? COVE_STORE_INTERNAL : err;
        }
        *store_r = fs;
        return COVE_STORE_OK;
}

static void fault_close(struct cove_store **store)
{
        if (*store != NULL)
                fault_free(*store);
        *store = NULL;
}

static const char *fault_last_error(struct cove_store *fs)
{
        return fs->error[0] != '\0' ? fs->error : fs->inner->last_error(fs->inner_store);
}

/* ---- transactions ---- */

/* Wraps an inner txn just begun (a test engine: no memory is no test). */
static struct cove_store_txn *fault_wrap(struct cove_store *fs, struct cove_store_txn *inner,
                                         bool write)
{
        struct cove_store_txn *txn = calloc(1, sizeof(*txn));
        if (txn == NULL)
                abort();
        txn->fs = fs;
        txn->inner = inner;
        txn->write = write;
        return txn;
}

static enum cove_store_err fault_txn_begin(struct cove_store *fs, unsigned flags,
                                           struct cove_store_txn **txn_r)
{
        struct cove_store_txn *inner;
        *txn_r = NULL;
        fs->error[0] = '\0';
        enum cove_store_err err = fs->inner->txn_begin(fs->inner_store, flags, &inner);
        if (err == COVE_STORE_OK)
                *txn_r = fault_wrap(fs, inner, (flags & COVE_STORE_TXN_WRITE) != 0);
        return err;
}

/* Nested txns count their writes and commits like top-level ones. */
static enum cove_store_err fault_txn_begin_nested(struct cove_store_txn *parent,
                                                  struct cove_store_txn **txn_r)
{
        struct cove_store *fs = parent->fs;
        struct cove_store_txn *inner;
        *txn_r = NULL;
        if (fs->inner->txn_begin_nested == NULL)
                return fault_fail(fs, COVE_STORE_INTERNAL, "fault: inner engine cannot nest");
        enum cove_store_err err = fs->inner->txn_begin_nested(parent->inner, &inner);
        if (err == COVE_STORE_OK) {
                *txn_r = fault_wrap(fs, inner, true);
                (*txn_r)->nested = true;
        }
        return err;
}

/* fault_commit_delay_ms, before a top-level write commit. */
static void commit_delay(const struct cove_store *fs)
{
        if (fs->commit_delay_ms > 0)
                usleep((useconds_t)(fs->commit_delay_ms * 1000));
}

/* Handoff txns (another thread): counted like the others; an injected
   commit failure aborts the inner txn on this same thread. */
static enum cove_store_err fault_txn_begin_handoff(struct cove_store *fs,
                                                   struct cove_store_txn **txn_r, char *errbuf,
                                                   size_t errlen)
{
        struct cove_store_txn *inner;
        *txn_r = NULL;
        enum cove_store_err err = fs->inner->txn_begin_handoff(fs->inner_store, &inner, errbuf,
                                                               errlen);
        if (err == COVE_STORE_OK)
                *txn_r = fault_wrap(fs, inner, true);
        return err;
}

static enum cove_store_err fault_txn_commit_handoff(struct cove_store_txn **txnp, char *errbuf,
                                                    size_t errlen)
{
        struct cove_store_txn *txn = *txnp;
        struct cove_store *fs = txn->fs;
        enum cove_store_err err;
        *txnp = NULL;
        if (++fs->commits == fs->commit_fail_at) {
                fs->inner->txn_abort(&txn->inner);
                snprintf(errbuf, errlen, "injected failure of commit #%lu", fs->commits);
                err = COVE_STORE_TEMP;
        } else {
                commit_delay(fs);
                err = fs->inner->txn_commit_handoff(&txn->inner, errbuf, errlen);
        }
        free(txn);
        return err;
}

static enum cove_store_err fault_txn_commit(struct cove_store_txn **txnp, unsigned flags)
{
        struct cove_store_txn *txn = *txnp;
        struct cove_store *fs = txn->fs;
        enum cove_store_err err;
        *txnp = NULL;
        if (txn->write && ++fs->commits == fs->commit_fail_at) {
                fs->inner->txn_abort(&txn->inner);
                err = fault_fail(fs, COVE_STORE_TEMP, "injected failure of commit #%lu",
                                 fs->commits);
        } else {
                fwd(txn);
                if (txn->write && !txn->nested)
                        commit_delay(fs);
                err = fs->inner->txn_commit(&txn->inner, flags);
        }
        free(txn);
        return err;
}

static void fault_txn_abort(struct cove_store_txn **txnp)
{
        struct cove_store_txn *txn = *txnp;
        *txnp = NULL;
        txn->fs->inner->txn_abort(&txn->inner);
        free(txn);
}

static enum cove_store_err fault_sync(struct cove_store *fs)
{
        if (fs->sync_fail)
                return fault_fail(fs, COVE_STORE_INTERNAL, "fault: injected sync failure");
        return fs->inner->sync != NULL ? fs->inner->sync(fs->inner_store) : COVE_STORE_OK;
}

#ifndef FAULT_SERIAL
/* Forwards without counting: the group-commit thread calls it concurrently
   with the loop's calls, which do count. */
static enum cove_store_err fault_sync_concurrent(struct cove_store *fs, char *errbuf,
                                                 size_t errlen)
{
        if (fs->sync_fail) {
                snprintf(errbuf, errlen, "fault: injected sync failure");
                return COVE_STORE_INTERNAL;
        }
        if (fs->inner->sync_concurrent == NULL) {
                snprintf(errbuf, errlen, "fault: the inner engine has no sync_concurrent");
                return COVE_STORE_INTERNAL;
        }
        return fs->inner->sync_concurrent(fs->inner_store, errbuf, errlen);
}
#endif

/* ---- users ---- */

static enum cove_store_err fault_user_create(struct cove_store_txn *txn,
                                             const struct cove_store_user *user,
                                             uint32_t *user_id_r)
{
        if (fault_write(txn, "user_create") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->user_create(txn->inner, user, user_id_r);
}

static enum cove_store_err fault_user_lookup(struct cove_store_txn *txn, const char *name,
                                             const struct cove_store_user **user_r)
{
        return inner_ops(txn)->user_lookup(fwd(txn), name, user_r);
}

static enum cove_store_err fault_user_get(struct cove_store_txn *txn, uint32_t user_id,
                                          const struct cove_store_user **user_r)
{
        return inner_ops(txn)->user_get(fwd(txn), user_id, user_r);
}

static enum cove_store_err fault_user_update(struct cove_store_txn *txn, uint32_t user_id,
                                             unsigned fields,
                                             const struct cove_store_user *values)
{
        if (fault_write(txn, "user_update") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->user_update(txn->inner, user_id, fields, values);
}

static enum cove_store_err fault_user_delete(struct cove_store_txn *txn, uint32_t user_id)
{
        if (fault_write(txn, "user_delete") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->user_delete(txn->inner, user_id);
}

/* Wraps the inner iterator an *_iter_init returned. */
static enum cove_store_err iter_wrap(struct cove_store_txn *txn, enum cove_store_err err,
                                     struct cove_store_iter *inner,
                                     struct cove_store_iter **iter_r)
{
        *iter_r = NULL;
        if (err != COVE_STORE_OK)
                return err;
        struct cove_store_iter *iter = calloc(1, sizeof(*iter));
        if (iter == NULL) {
                inner_ops(txn)->iter_deinit(&inner);
                return fault_fail(txn->fs, COVE_STORE_TEMP, "out of memory");
        }
        iter->ops = inner_ops(txn);
        iter->inner = inner;
        *iter_r = iter;
        return COVE_STORE_OK;
}

static void fault_iter_deinit(struct cove_store_iter **iterp)
{
        struct cove_store_iter *iter = *iterp;
        *iterp = NULL;
        if (iter == NULL)
                return;
        iter->ops->iter_deinit(&iter->inner);
        free(iter);
}

static enum cove_store_err fault_user_iter_init(struct cove_store_txn *txn,
                                                struct cove_store_iter **iter_r)
{
        struct cove_store_iter *inner = NULL;
        enum cove_store_err err = inner_ops(txn)->user_iter_init(fwd(txn), &inner);
        return iter_wrap(txn, err, inner, iter_r);
}

static enum cove_store_err fault_user_iter_next(struct cove_store_iter *iter,
                                                const struct cove_store_user **user_r)
{
        return iter->ops->user_iter_next(iter->inner, user_r);
}

/* ---- mailboxes and subscriptions ---- */

static enum cove_store_err fault_mailbox_create(struct cove_store_txn *txn, uint32_t user_id,
                                                const char *name, uint32_t special_use,
                                                uint32_t *mailbox_id_r)
{
        if (fault_write(txn, "mailbox_create") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->mailbox_create(txn->inner, user_id, name, special_use,
                                          mailbox_id_r);
}

static enum cove_store_err fault_mailbox_lookup(struct cove_store_txn *txn, uint32_t user_id,
                                                const char *name,
                                                const struct cove_store_mailbox **mailbox_r)
{
        return inner_ops(txn)->mailbox_lookup(fwd(txn), user_id, name, mailbox_r);
}

static enum cove_store_err fault_mailbox_get(struct cove_store_txn *txn, uint32_t mailbox_id,
                                             const struct cove_store_mailbox **mailbox_r)
{
        return inner_ops(txn)->mailbox_get(fwd(txn), mailbox_id, mailbox_r);
}

/* The \Recent watermark of the inner engine (LMDB keeps one); not counted
   by fault_write_fail, which aims at the writes under test. */
static enum cove_store_err fault_mailbox_advance_recent(struct cove_store_txn *txn,
                                                        uint32_t mailbox_id, uint32_t uid,
                                                        uint32_t *old_r)
{
        if (inner_ops(txn)->mailbox_advance_recent == NULL)
                return fault_fail(txn->fs, COVE_STORE_INTERNAL,
                                  "fault: inner engine does not track \\Recent");
        return inner_ops(txn)->mailbox_advance_recent(txn->inner, mailbox_id, uid, old_r);
}

static enum cove_store_err fault_mailbox_rename(struct cove_store_txn *txn,
                                                uint32_t mailbox_id, const char *new_name)
{
        if (fault_write(txn, "mailbox_rename") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->mailbox_rename(txn->inner, mailbox_id, new_name);
}

static enum cove_store_err fault_mailbox_delete(struct cove_store_txn *txn, uint32_t mailbox_id)
{
        if (fault_write(txn, "mailbox_delete") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->mailbox_delete(txn->inner, mailbox_id);
}

static enum cove_store_err fault_mailbox_set_special_use(struct cove_store_txn *txn,
                                                         uint32_t mailbox_id,
                                                         uint32_t special_use)
{
        if (fault_write(txn, "mailbox_set_special_use") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->mailbox_set_special_use(txn->inner, mailbox_id, special_use);
}

static enum cove_store_err fault_mailbox_iter_init(struct cove_store_txn *txn,
                                                   uint32_t user_id,
                                                   struct cove_store_iter **iter_r)
{
        struct cove_store_iter *inner = NULL;
        enum cove_store_err err = inner_ops(txn)->mailbox_iter_init(fwd(txn), user_id, &inner);
        return iter_wrap(txn, err, inner, iter_r);
}

static enum cove_store_err fault_mailbox_iter_next(struct cove_store_iter *iter,
                                                   const struct cove_store_mailbox **mailbox_r)
{
        return iter->ops->mailbox_iter_next(iter->inner, mailbox_r);
}

static enum cove_store_err fault_subscription_set(struct cove_store_txn *txn, uint32_t user_id,
                                                  const char *name, bool subscribed)
{
        if (fault_write(txn, "subscription_set") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->subscription_set(txn->inner, user_id, name, subscribed);
}

static enum cove_store_err fault_subscription_iter_init(struct cove_store_txn *txn,
                                                        uint32_t user_id,
                                                        struct cove_store_iter **iter_r)
{
        struct cove_store_iter *inner = NULL;
        enum cove_store_err err = inner_ops(txn)->subscription_iter_init(fwd(txn), user_id, &inner);
        return iter_wrap(txn, err, inner, iter_r);
}

static enum cove_store_err fault_subscription_iter_next(struct cove_store_iter *iter,
                                                        const char **name_r)
{
        return iter->ops->subscription_iter_next(iter->inner, name_r);
}

/* ---- messages ---- */

static enum cove_store_err fault_msg_append(struct cove_store_txn *txn, uint32_t mailbox_id,
                                            const struct cove_store_append *msg,
                                            struct cove_store_saved *saved_r)
{
        if (fault_write(txn, "msg_append") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->msg_append(txn->inner, mailbox_id, msg, saved_r);
}

static enum cove_store_err fault_msg_get(struct cove_store_txn *txn, uint32_t mailbox_id,
                                         uint32_t uid, const struct cove_store_msg **msg_r)
{
        return inner_ops(txn)->msg_get(fwd(txn), mailbox_id, uid, msg_r);
}

static enum cove_store_err fault_msg_iter_init(struct cove_store_txn *txn, uint32_t mailbox_id,
                                               uint32_t uid_first, uint32_t uid_last,
                                               struct cove_store_iter **iter_r)
{
        struct cove_store_iter *inner = NULL;
        enum cove_store_err err = inner_ops(txn)->msg_iter_init(fwd(txn), mailbox_id, uid_first,
                                                            uid_last, &inner);
        return iter_wrap(txn, err, inner, iter_r);
}

static enum cove_store_err fault_msg_iter_next(struct cove_store_iter *iter,
                                               const struct cove_store_msg **msg_r)
{
        return iter->ops->msg_iter_next(iter->inner, msg_r);
}

static enum cove_store_err fault_msg_update_flags(struct cove_store_txn *txn,
                                                  uint32_t mailbox_id, uint32_t uid,
                                                  enum cove_store_flag_op op, uint32_t flags,
                                                  const char *const *keywords,
                                                  size_t keyword_count, uint64_t *modseq_r)
{
        if (fault_write(txn, "msg_update_flags") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->msg_update_flags(txn->inner, mailbox_id, uid, op, flags, keywords,
                                            keyword_count, modseq_r);
}

static enum cove_store_err fault_msg_expunge(struct cove_store_txn *txn, uint32_t mailbox_id,
                                             uint32_t uid)
{
        if (fault_write(txn, "msg_expunge") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->msg_expunge(txn->inner, mailbox_id, uid);
}

static enum cove_store_err fault_msg_copy(struct cove_store_txn *txn, uint32_t src,
                                          uint32_t uid, uint32_t dst,
                                          struct cove_store_saved *saved_r)
{
        if (fault_write(txn, "msg_copy") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->msg_copy(txn->inner, src, uid, dst, saved_r);
}

static enum cove_store_err fault_msg_move(struct cove_store_txn *txn, uint32_t src,
                                          uint32_t uid, uint32_t dst,
                                          struct cove_store_saved *saved_r)
{
        if (fault_write(txn, "msg_move") != COVE_STORE_OK)
                return txn->fs->write_err;
        return inner_ops(txn)->msg_move(txn->inner, src, uid, dst, saved_r);
}

static enum cove_store_err fault_change_iter_init(struct cove_store_txn *txn,
                                                  uint32_t mailbox_id, uint64_t since,
                                                  struct cove_store_iter **iter_r)
{
        struct cove_store_iter *inner = NULL;
        enum cove_store_err err = inner_ops(txn)->change_iter_init(fwd(txn), mailbox_id, since,
                                                               &inner);
        return iter_wrap(txn, err, inner, iter_r);
}

static enum cove_store_err fault_change_iter_next(struct cove_store_iter *iter,
                                                  const struct cove_store_change **change_r)
{
        return iter->ops->change_iter_next(iter->inner, change_r);
}

/* ---- streams, stats ---- */

static enum cove_store_err fault_stream_open(struct cove_store *fs, uint32_t mailbox_id,
                                             uint32_t uid, struct cove_store_stream **stream_r,
                                             uint64_t *size_r)
{
        struct cove_store_stream *stream = calloc(1, sizeof(*stream));
        *stream_r = NULL;
        if (stream == NULL)
                return fault_fail(fs, COVE_STORE_TEMP, "out of memory");
        fs->error[0] = '\0';
        enum cove_store_err err = fs->inner->stream_open(fs->inner_store, mailbox_id, uid,
                                                         &stream->inner, size_r);
        if (err != COVE_STORE_OK) {
                free(stream);
                return err;
        }
        stream->ops = fs->inner;
        *stream_r = stream;
        return COVE_STORE_OK;
}

static enum cove_store_err fault_stream_read(struct cove_store_stream *stream, uint64_t offset,
                                             const void **data_r, size_t *len_r)
{
        return stream->ops->stream_read(stream->inner, offset, data_r, len_r);
}

static void fault_stream_close(struct cove_store_stream **streamp)
{
        struct cove_store_stream *stream = *streamp;
        *streamp = NULL;
        if (stream == NULL)
                return;
        stream->ops->stream_close(&stream->inner);
        free(stream);
}

static enum cove_store_err fault_stats(struct cove_store *fs, struct cove_store_stats *stats_r)
{
        if (fs->inner->stats == NULL) {
                memset(stats_r, 0, sizeof(*stats_r));
                return fault_fail(fs, COVE_STORE_INTERNAL, "inner engine has no stats");
        }
        return fs->inner->stats(fs->inner_store, stats_r);
}

/* ---- locks: flock files of our own, or INUSE on command ---- */

static enum cove_store_err fault_lock(struct cove_store *fs, uint32_t user_id, int how,
                                      struct cove_store_lock **lock_r)
{
        char path[4096];
        *lock_r = NULL;
        if (fs->lock_inuse)
                return fault_fail(fs, COVE_STORE_INUSE, "injected lock refusal for user %u",
                                  user_id);
        if (fs->state_dir == NULL)
                return fault_fail(fs, COVE_STORE_INTERNAL, "no state_dir for locks");
        snprintf(path, sizeof(path), "%s/fault-%u", fs->state_dir, user_id);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return fault_fail(fs, COVE_STORE_INTERNAL, "open %s: %s", path,
                                  strerror(errno));
        if (flock(fd, how | LOCK_NB) < 0) {
                close(fd);
                return fault_fail(fs, COVE_STORE_INUSE, "user %u is locked", user_id);
        }
        struct cove_store_lock *lock = calloc(1, sizeof(*lock));
        if (lock == NULL) {
                close(fd);
                return fault_fail(fs, COVE_STORE_TEMP, "out of memory");
        }
        lock->fd = fd;
        *lock_r = lock;
        return COVE_STORE_OK;
}

static enum cove_store_err fault_lock_maildrop(struct cove_store *fs, uint32_t user_id,
                                               struct cove_store_lock **lock_r)
{
        return fault_lock(fs, user_id, LOCK_EX, lock_r);
}

static enum cove_store_err fault_lock_expunge_guard(struct cove_store *fs, uint32_t user_id,
                                                    struct cove_store_lock **lock_r)
{
        return fault_lock(fs, user_id, LOCK_SH, lock_r);
}

static void fault_unlock(struct cove_store_lock **lockp)
{
        struct cove_store_lock *lock = *lockp;
        *lockp = NULL;
        if (lock == NULL)
                return;
        close(lock->fd);
        free(lock);
}

static const struct cove_store_ops fault_ops = {
        .abi_major = COVE_STORE_ABI_MAJOR,
        .abi_minor = COVE_STORE_ABI_MINOR,
        .struct_size = sizeof(struct cove_store_ops),
#ifdef FAULT_SERIAL
        .engine_name = "fault_serial",
#else
        .engine_name = "fault",
#endif
        .engine_version = "1.0",
        .open = fault_open,
        .close = fault_close,
        .last_error = fault_last_error,
        .txn_begin = fault_txn_begin,
        .txn_commit = fault_txn_commit,
        .mailbox_advance_recent = fault_mailbox_advance_recent,
        .txn_abort = fault_txn_abort,
        .sync = fault_sync,
        .txn_begin_nested = fault_txn_begin_nested,
        .txn_begin_handoff = fault_txn_begin_handoff,
        .txn_commit_handoff = fault_txn_commit_handoff,
#ifndef FAULT_SERIAL
        .sync_concurrent = fault_sync_concurrent,
#endif
        .user_create = fault_user_create,
        .user_lookup = fault_user_lookup,
        .user_get = fault_user_get,
        .user_update = fault_user_update,
        .user_delete = fault_user_delete,
        .user_iter_init = fault_user_iter_init,
        .user_iter_next = fault_user_iter_next,
        .mailbox_create = fault_mailbox_create,
        .mailbox_lookup = fault_mailbox_lookup,
        .mailbox_get = fault_mailbox_get,
        .mailbox_rename = fault_mailbox_rename,
        .mailbox_delete = fault_mailbox_delete,
        .mailbox_set_special_use = fault_mailbox_set_special_use,
        .mailbox_iter_init = fault_mailbox_iter_init,
        .mailbox_iter_next = fault_mailbox_iter_next,
        .subscription_set = fault_subscription_set,
        .subscription_iter_init = fault_subscription_iter_init,
        .subscription_iter_next = fault_subscription_iter_next,
        .msg_append = fault_msg_append,
        .msg_get = fault_msg_get,
        .msg_iter_init = fault_msg_iter_init,
        .msg_iter_next = fault_msg_iter_next,
        .msg_update_flags = fault_msg_update_flags,
        .msg_expunge = fault_msg_expunge,
        .msg_copy = fault_msg_copy,
        .msg_move = fault_msg_move,
        .change_iter_init = fault_change_iter_init,
        .change_iter_next = fault_change_iter_next,
        .iter_deinit = fault_iter_deinit,
        .stream_open = fault_stream_open,
        .stream_read = fault_stream_read,
        .stream_close = fault_stream_close,
        .stats = fault_stats,
        .lock_maildrop = fault_lock_maildrop,
        .lock_expunge_guard = fault_lock_expunge_guard,
        .unlock = fault_unlock,
};

const struct cove_store_ops *cove_store_entry(void)
{
        return &fault_ops;
}

/* lock.h - host-local POP3 maildrop locks and IMAP expunge guards.
 *
 * Used by the facade when the engine leaves its lock ops NULL. One lock file
 * per user, <state_dir>/lock/<user_id>, created on first use and never
 * deleted (deleting a file someone holds a lock on would let a second process
 * lock a fresh inode). The maildrop lock is flock(LOCK_EX|LOCK_NB) on it, the
 * expunge guard flock(LOCK_SH|LOCK_NB): guards share, the maildrop excludes
 * them and itself. flock locks belong to the open file description, so two
 * sessions in one process conflict just as two processes do, and the kernel
 * releases them when the holder dies. Works on one host only (local files).
 */
#ifndef COVE_STORAGE_LOCK_H
#define COVE_STORAGE_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cove/storage.h"

struct pool;

/* Creates <state_dir>/lock (mode 0700) if missing. Returns 0, or -1 with
   *error_r in pool. */
int lock_dir_init(const char *state_dir, struct pool *pool, const char **error_r);

/* Takes user_id's lock without waiting: exclusive (maildrop) or shared
   (expunge guard). On OK *fd_r holds the lock until lock_local_release().
   Returns INUSE when a conflicting lock is held anywhere on this host, or
   INTERNAL with *error_r (in pool) when the lock file cannot be opened. */
enum cove_store_err lock_local_take(const char *state_dir, uint32_t user_id, bool exclusive,
                                    int *fd_r, struct pool *pool, const char **error_r);

/* Releases the lock and closes the fd; *fd is -1 afterwards. */
void lock_local_release(int *fd);

#endif

/* notify.h - host-local change notification: wakes every waiting process
 * within milliseconds of a commit, with no polling.
 *
 * Used by the facade when the engine leaves its notify ops NULL. Each watcher
 * owns a named pipe (FIFO) in <state_dir>/notify/<user_id>/, opened O_RDWR so
 * it never sees EOF; its read end is the fd the caller puts in its event
 * loop. A publish writes one byte into every FIFO of the user's directory
 * (non-blocking: a full pipe is already readable). A FIFO nobody has open any
 * more (its watcher crashed) gives ENXIO to the publisher, which removes it.
 *
 * Why not inotify: one inotify instance per watcher runs into
 * fs.inotify.max_user_instances (128 by default) long before a worker's IDLE
 * sessions do; FIFOs cost one fd per watcher and no kernel table.
 *
 * Caveat: start watching before reading the state you compare against, so
 * that a commit between the two is not missed.
 */
#ifndef COVE_STORAGE_NOTIFY_H
#define COVE_STORAGE_NOTIFY_H

#include <stdint.h>

struct pool;
struct notify_watch;

/* Creates <state_dir>/notify (mode 0700) if missing. 0, or -1 + *error_r. */
int notify_dir_init(const char *state_dir, struct pool *pool, const char **error_r);

/* Wakes every watcher of user_id on this host. Returns 0, or -1 with
   *error_r (in pool) when the user's directory cannot be read; a watcher
   that cannot be woken is skipped (and removed when it is dead). */
int notify_publish(const char *state_dir, uint32_t user_id, struct pool *pool,
                   const char **error_r);

/* Starts watching user_id. On success *watch_r is a heap handle to free with
   notify_watch_stop(). Returns 0, or -1 with *error_r (in pool). */
int notify_watch_start(const char *state_dir, uint32_t user_id,
                       struct notify_watch **watch_r, struct pool *pool,
                       const char **error_r);

/* The fd to poll for readability (owned by the watch; do not close). */
int notify_watch_fd(const struct notify_watch *watch);

/* Consumes pending wake-ups: the fd is quiet until the next publish. */
void notify_watch_drain(struct notify_watch *watch);

/* Stops watching, removes the FIFO, closes the fd; *watch is NULL after. */
void notify_watch_stop(struct notify_watch **watch);

#endif

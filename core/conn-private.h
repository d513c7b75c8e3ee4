/* conn-private.h - internals shared by conn.c (lifecycle, manager, TLS
 * handshake) and conn-io.c (input and output paths). Only these two files and
 * the net unit tests include it; protocols use conn.h.
 */
#ifndef COVE_CONN_PRIVATE_H
#define COVE_CONN_PRIVATE_H

#include "conn.h"

/* Queues the connection for the manager's before-sleep pass (ready, drained,
   producer, dispatch, flush, free). Idempotent. */
void conn_mark_pending(struct conn *conn);

/* Starts/stops the read and write watchers to match the connection's state. */
void conn_update_watchers(struct conn *conn);

/* Restarts the inactivity timer (activity seen). */
void conn_touch(struct conn *conn);

/* A fatal I/O error: drop output and close with reason (copied). */
void conn_fail(struct conn *conn, const char *reason);

/* Called by the flush path once the plaintext STARTTLS reply is out. */
void conn_tls_begin(struct conn *conn);

/* conn-io.c */
size_t conn_input_avail(const struct conn *conn);
size_t conn_input_room(const struct conn *conn);
/* Reads until EAGAIN, EOF, error or a full input buffer. */
void conn_read_some(struct conn *conn);
/* Drops input covered by conn_discard_bytes() / an over-long line. */
void conn_discard_pending(struct conn *conn);
/* Writes buffered output until EAGAIN; sets need_drained when back-pressure
   ends. Skipped while the write watcher waits (write_blocked) unless force. */
void conn_flush(struct conn *conn, bool force);

#endif

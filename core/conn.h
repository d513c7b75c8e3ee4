/* conn.h - one client connection on a libev loop, and the set of them (conn_mgr).
 *
 * Owns: the socket, its read/write watchers and inactivity timer, the bounded
 * input buffer (lines, exact byte counts), the output buffer with back-pressure,
 * optional TLS (implicit or STARTTLS), deferred close. Knows no protocol: a
 * session embeds struct conn as its first member and is driven by conn_vfuncs.
 */
#ifndef COVE_CONN_H
#define COVE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "buf.h"

struct pool;
struct conn;
struct conn_mgr;
struct tls_ctx;
struct ssl_st;

/* Callbacks a protocol provides. All run on the loop, never nested inside
   another callback of the same connection, and never after on_close. */
struct conn_vfuncs {
        /* The connection is ready for the protocol: after accept, or after the
           implicit-TLS handshake. Send the greeting here. Required. */
        void (*on_ready)(struct conn *conn);
        /* Unread input is buffered. Take it with conn_read_line() /
           conn_read_bytes() and process it; return when more input is needed
           or the session suspends. Called again as long as it consumes input.
           Required. */
        void (*on_input)(struct conn *conn);
        /* Output fell below the low-water mark after back-pressure. Optional. */
        void (*on_drained)(struct conn *conn);
        /* The inactivity timeout expired. Typically writes a goodbye and calls
           conn_close(). NULL: the framework closes ("inactivity timeout").
           If it returns without closing, the timer is rearmed. */
        void (*on_timeout)(struct conn *conn);
        /* The server is stopping gracefully. Say goodbye and conn_close() now
           if the session is between commands, else close when the current
           command ends. NULL: the framework closes the connection when it is
           idle (no buffered input or output, not suspended, no producer). */
        void (*on_shutdown)(struct conn *conn);
        /* The last call: release what the session holds (store handles, lists
           it is on). Writing is no longer possible. reason is for logging
           ("client disconnected", "inactivity timeout", ...). Called only if
           on_ready was called. The session memory (conn->pool) is freed after
           it returns. Optional. */
        void (*on_close)(struct conn *conn, const char *reason);
};

/* Per-manager connection parameters. Zero fields take the defaults shown. */
struct conn_settings {
        size_t max_line;         /* longest line, without CRLF; default 8192 */
        size_t input_size;       /* input buffer bound; default max(16 KiB, max_line + 2) */
        size_t output_high;      /* back-pressure above this; default 64 KiB */
        size_t output_low;       /* ...until at or below this; default output_high / 4 */
        unsigned timeout_secs;   /* inactivity timeout; 0 = none */
        unsigned handshake_secs; /* TLS handshake limit; default 30 */
        size_t session_size;     /* bytes allocated per connection, >= sizeof(struct conn);
                                    the session struct embedding conn first; default sizeof(struct conn) */
        const struct conn_vfuncs *vfuncs;  /* required */
        void *context;           /* copied to conn->context (daemon state) */
};

/* Result of the input-taking calls. */
enum conn_read {
        CONN_READ_OK,        /* a line / bytes were returned */
        CONN_READ_MORE,      /* not enough input yet: return from on_input */
        CONN_READ_TOO_LONG,  /* a line exceeded max_line: answer an error; the rest
                                of that line is discarded up to its LF */
};

/* A producer streams a long reply (RETR, FETCH BODY[]). It writes until
   conn_output_full() or the end and returns MORE or DONE. */
enum conn_produce {
        CONN_PRODUCE_MORE,   /* call again once output has drained */
        CONN_PRODUCE_DONE,   /* finished: input processing resumes */
};
typedef enum conn_produce conn_produce_fn(struct conn *conn, void *context);

enum conn_tls_state {
        CONN_TLS_NONE,
        CONN_TLS_STARTTLS,   /* flushing the plaintext reply before the handshake */
        CONN_TLS_HANDSHAKE,
        CONN_TLS_ON,
};

struct conn {
        /* --- public, read-only for protocols --- */
        struct pool *pool;        /* session pool: accept to close; holds this struct */
        struct conn_mgr *mgr;
        struct ev_loop *loop;
        const struct conn_vfuncs *v;
        void *context;            /* conn_settings.context */
        const char *id;           /* session id for log lines ("session=<id>") */
        const char *peer_ip;      /* "192.0.2.1", "2001:db8::1", or "unix" */
        unsigned peer_port;       /* 0 for UNIX sockets */
        int fd;
        bool secured;             /* TLS is established */
        bool loopback;            /* 127.0.0.0/8, ::1 (also v4-mapped) or a UNIX socket */
        bool closing;             /* conn_close() was called; stop using it */

        /* --- private to the framework (conn*.c) --- */
        ev_io read_io, write_io;
        ev_timer timer;
        struct ssl_st *ssl;
        struct tls_ctx *tls;
        enum conn_tls_state tls_state;
        struct buf in, out;
        size_t in_pos, out_pos;       /* consumed prefix of in / written prefix of out */
        uint64_t in_consumed;         /* progress counter for the dispatch loop */
        uint64_t discard_left;        /* bytes to drop (conn_discard_bytes) */
        size_t starttls_plain;        /* plaintext bytes to send before the handshake */
        size_t max_line, out_high, out_low;
        unsigned timeout_secs;        /* inactivity timeout outside handshakes */
        conn_produce_fn *producer;
        void *producer_ctx;
        const char *close_reason;
        struct conn *prev, *next;     /* mgr->all */
        struct conn *pending_next;    /* mgr->pending */
        bool ready, pending, suspended, backpressure, eof, io_error;
        bool discard_line, write_blocked, close_flush, need_ready, need_dispatch;
        bool need_drained, tls_read_wants_write, tls_write_wants_read;
        bool hs_want_write, shutdown_seen;
        bool output_held;             /* conn_output_hold() */
        bool abandon_on_eof;          /* conn_abandon_on_eof() */
};

/* ---- the manager: one per loop (worker) ---- */

/* Creates a manager on loop. It owns an ev_prepare watcher that, before the
   loop sleeps, runs deferred work (ready, resumed input, producers), flushes
   output and frees closed connections. set is copied. */
struct conn_mgr *conn_mgr_create(struct ev_loop *loop, const struct conn_settings *set);

/* Closes every connection (on_close with reason "shutdown"), frees them and
   the manager; sets *mgrp to NULL. Not callable from a conn callback. */
void conn_mgr_destroy(struct conn_mgr **mgrp);

/* Sets the TLS context new connections and STARTTLS use (NULL: none); takes a
   reference and drops the previous one. Existing connections keep theirs. */
void conn_mgr_set_tls(struct conn_mgr *mgr, struct tls_ctx *tls);
/* The current context (borrowed) or NULL. */
struct tls_ctx *conn_mgr_get_tls(const struct conn_mgr *mgr);

/* Number of live connections (closing ones included until freed). */
unsigned conn_mgr_count(const struct conn_mgr *mgr);

/* Called for each connection just before its memory is freed (after
   on_close); used by the worker for per-IP accounting and shutdown. */
typedef void conn_mgr_free_fn(struct conn *conn, void *context);
void conn_mgr_set_free_hook(struct conn_mgr *mgr, conn_mgr_free_fn *fn, void *context);

/* Graceful stop: on_shutdown on every ready connection (or close the idle
   ones); from now on idle connections are closed as they become idle. */
void conn_mgr_shutdown(struct conn_mgr *mgr);

/* Closes every connection now, without flushing. */
void conn_mgr_close_all(struct conn_mgr *mgr, const char *reason);

/* ---- connections ---- */

/* Wraps an accepted socket. Takes ownership of fd (closed on failure too).
   tls: implicit TLS, the handshake runs first (needs a TLS context).
   on_ready runs from the loop shortly after. Returns 0, or -1 with *error_r
   (static string) when fd is not usable or TLS is not configured. */
int conn_create(struct conn_mgr *mgr, int fd, bool tls, struct conn **conn_r,
                const char **error_r);

/* Closes the connection: no more callbacks except on_close, which runs from
   the loop after the current callback returns. Safe to call more than once
   and from any callback. The memory stays valid until then. */
void conn_close(struct conn *conn, const char *reason);
/* Same, but first sends what is in the output buffer (bounded by the
   inactivity timeout). Use after a final reply (BYE, +OK, 221). */
void conn_close_after_flush(struct conn *conn, const char *reason);

/* Stops / restarts calling on_input (waiting on the store, a lock, ...).
   Input keeps being read into the buffer until it is full. Resuming
   dispatches buffered input from the loop, not from inside this call. */
void conn_input_suspend(struct conn *conn);
void conn_input_resume(struct conn *conn);

/* While on, the end of the peer's input closes the connection at once,
   even while input is suspended (normally a suspended connection answers
   what it has read first). For waits whose result only that peer could
   use, such as a password check: on_close then cancels the work instead of
   it being done for nobody (a flood of LOGINs that hang up). */
void conn_abandon_on_eof(struct conn *conn, bool on);

/* Keeps written output in the buffer (up to the high-water mark, or until
   the connection closes) until conn_output_release(): a reply whose end
   comes later (after a disk flush) then leaves in one segment, not as a
   small head that Nagle and the peer's delayed ACK would stall. */
void conn_output_hold(struct conn *conn);
void conn_output_release(struct conn *conn);

/* Changes the inactivity timeout (0: none) and restarts it. */
void conn_set_timeout(struct conn *conn, unsigned secs);

/* ---- input (call from on_input) ----
   Both calls hand out nothing (MORE / 0) while the connection is closing,
   suspended, over the output high-water mark, running a producer or in a
   STARTTLS handshake, so a loop "while a line is available" stops exactly
   where the framework wants it to; dispatch resumes later on its own. */

/* Takes one line. On CONN_READ_OK *line_r points at the line without its
   CRLF or LF, NUL-terminated (it may contain NULs; use *len_r). It lives in
   the input buffer until on_input returns: copy what must outlive that. */
enum conn_read conn_read_line(struct conn *conn, const char **line_r, size_t *len_r);

/* Takes up to max bytes of what is buffered (literals, DATA streams): returns
   how many (0: none yet, wait for the next on_input) and points *data_r at
   them, valid until on_input returns. Never buffers more than input_size. */
size_t conn_read_bytes(struct conn *conn, size_t max, const void **data_r);

/* Drops the next n bytes of input as they arrive (a refused literal). */
void conn_discard_bytes(struct conn *conn, uint64_t n);
/* True while such a discard is still in progress. */
bool conn_discarding(const struct conn *conn);

/* Zero-copy access for incremental parsers: the buffered unread input (empty
   under the same conditions as above), then mark n of those bytes consumed
   (n <= the length peeked). */
void conn_input_peek(struct conn *conn, const void **data_r, size_t *len_r);
void conn_input_consume(struct conn *conn, size_t n);

/* ---- output ---- */

/* Appends to the output buffer (never fails; ignored once closing). Output is
   flushed before the loop sleeps. Above output_high the connection stops
   reading input until the buffer drains to output_low, then on_drained runs. */
void conn_write(struct conn *conn, const void *data, size_t len);
void conn_write_str(struct conn *conn, const char *str);
void conn_printf(struct conn *conn, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Bytes waiting to be sent; true when at or above the high-water mark. */
size_t conn_output_pending(const struct conn *conn);
bool conn_output_full(const struct conn *conn);

/* Installs a producer for a long reply: fn is called from the loop whenever
   output is below the high-water mark, until it returns DONE. on_input is not
   called while a producer is active (replies stay in order). Replaces any
   previous producer; fn NULL removes it. */
void conn_set_producer(struct conn *conn, conn_produce_fn *fn, void *context);

/* ---- TLS ---- */

/* STARTTLS / STLS. Call after writing the protocol's "go ahead" reply (which
   is sent in plaintext first). Discards every byte of buffered input received
   after the command line (plaintext injection, CVE-2011-0411); input is not
   dispatched until the handshake completes, then conn->secured is true. A
   failed handshake closes the connection. Returns -1 with *error_r (static)
   when TLS is not configured or already active; nothing is changed then. */
int conn_starttls(struct conn *conn, const char **error_r);

/* "TLSv1.3/TLS_AES_256_GCM_SHA384" for logs, or "" without TLS. Static buffer. */
const char *conn_tls_describe(const struct conn *conn);

#endif

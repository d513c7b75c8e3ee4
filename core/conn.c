/* conn.c - connection lifecycle and the per-loop manager (see conn.h).
 *
 * Owns: creation, watchers and their callbacks, the before-sleep pass
 * (deferred ready/dispatch/producer/flush/free), input dispatch, timeouts,
 * close and free, TLS handshakes. Does not: parse input or format output
 * (conn-io.c has the buffers), accept sockets or handle signals (worker.c).
 */
#include "conn-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "pool.h"
#include "tls.h"

#define CONN_DEFAULT_MAX_LINE 8192
#define CONN_DEFAULT_INPUT (16 * 1024)
#define CONN_DEFAULT_HIGH (64 * 1024)
#define CONN_DEFAULT_HANDSHAKE 30
#define CONN_CLOSE_FLUSH_SECS 30
#define CONN_LINGER_BYTES (64 * 1024)

struct conn_mgr {
        struct ev_loop *loop;
        struct conn_settings set;
        ev_prepare prepare;
        ev_idle idle;            /* keeps the loop from sleeping while work is queued */
        struct tls_ctx *tls;
        struct conn *all;
        struct conn *pending_head, **pending_tail;
        unsigned count;
        unsigned long long next_id;
        conn_mgr_free_fn *free_hook;
        void *free_context;
        bool shutting_down;
};

static void conn_process(struct conn *c);

static void mgr_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct conn_mgr *mgr = container_of(w, struct conn_mgr, prepare);
        struct conn *list = mgr->pending_head;
        mgr->pending_head = NULL;
        mgr->pending_tail = &mgr->pending_head;
        /* One pass: work queued during the pass waits for the next loop
           iteration, which the idle watcher makes non-blocking. */
        while (list != NULL) {
                struct conn *c = list;
                list = c->pending_next;
                c->pending_next = NULL;
                c->pending = false;
                conn_process(c);
        }
        if (mgr->pending_head != NULL)
                ev_idle_start(loop, &mgr->idle);
        else
                ev_idle_stop(loop, &mgr->idle);
}

static void mgr_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
        /* Nothing: its being active only makes the next poll non-blocking. */
}

static void settings_defaults(struct conn_settings *s)
{
        if (s->max_line == 0)
                s->max_line = CONN_DEFAULT_MAX_LINE;
        if (s->input_size < s->max_line + 2)
                s->input_size = s->max_line + 2;
        if (s->input_size < CONN_DEFAULT_INPUT)
                s->input_size = CONN_DEFAULT_INPUT;
        if (s->output_high == 0)
                s->output_high = CONN_DEFAULT_HIGH;
        if (s->output_low == 0 || s->output_low >= s->output_high)
                s->output_low = s->output_high / 4;
        if (s->handshake_secs == 0)
                s->handshake_secs = CONN_DEFAULT_HANDSHAKE;
        if (s->session_size < sizeof(struct conn))
                s->session_size = sizeof(struct conn);
}

struct conn_mgr *conn_mgr_create(struct ev_loop *loop, const struct conn_settings *set)
{
        COVE_ASSERT(set->vfuncs != NULL && set->vfuncs->on_ready != NULL &&
                    set->vfuncs->on_input != NULL);
        struct conn_mgr *mgr = xcalloc(1, sizeof(*mgr));
        mgr->loop = loop;
        mgr->set = *set;
        settings_defaults(&mgr->set);
        mgr->pending_tail = &mgr->pending_head;
        ev_prepare_init(&mgr->prepare, mgr_prepare_cb);
        ev_prepare_start(loop, &mgr->prepare);
        ev_unref(loop);   /* the prepare watcher alone must not keep the loop alive */
        ev_idle_init(&mgr->idle, mgr_idle_cb);
        return mgr;
}

static void conn_finalize(struct conn *c);

void conn_mgr_destroy(struct conn_mgr **mgrp)
{
        struct conn_mgr *mgr = *mgrp;
        if (mgr == NULL)
                return;
        *mgrp = NULL;
        for (struct conn *c = mgr->pending_head; c != NULL; c = c->pending_next)
                c->pending = false;
        mgr->pending_head = NULL;
        while (mgr->all != NULL) {
                struct conn *c = mgr->all;
                c->pending_next = NULL;
                if (!c->closing)
                        conn_close(c, "shutdown");
                c->pending = false;
                conn_finalize(c);
        }
        ev_ref(mgr->loop);
        ev_prepare_stop(mgr->loop, &mgr->prepare);
        ev_idle_stop(mgr->loop, &mgr->idle);
        tls_ctx_unref(&mgr->tls);
        free(mgr);
}

void conn_mgr_set_tls(struct conn_mgr *mgr, struct tls_ctx *tls)
{
        if (tls != NULL)
                tls_ctx_ref(tls);
        tls_ctx_unref(&mgr->tls);
        mgr->tls = tls;
}

struct tls_ctx *conn_mgr_get_tls(const struct conn_mgr *mgr)
{
        return mgr->tls;
}

unsigned conn_mgr_count(const struct conn_mgr *mgr)
{
        return mgr->count;
}

void conn_mgr_set_free_hook(struct conn_mgr *mgr, conn_mgr_free_fn *fn, void *context)
{
        mgr->free_hook = fn;
        mgr->free_context = context;
}

static bool conn_is_idle(const struct conn *c)
{
        return !c->suspended && c->producer == NULL && !c->need_dispatch &&
               conn_output_pending(c) == 0 && conn_input_avail(c) == 0;
}

void conn_mgr_shutdown(struct conn_mgr *mgr)
{
        mgr->shutting_down = true;
        for (struct conn *c = mgr->all; c != NULL; c = c->next) {
                if (c->closing)
                        continue;
                if (!c->ready) {
                        conn_close(c, "shutdown");
                } else if (c->v->on_shutdown != NULL) {
                        c->shutdown_seen = true;
                        c->v->on_shutdown(c);
                        conn_mark_pending(c);
                } else if (conn_is_idle(c)) {
                        conn_close(c, "shutdown");
                }
        }
}

void conn_mgr_close_all(struct conn_mgr *mgr, const char *reason)
{
        for (struct conn *c = mgr->all; c != NULL; c = c->next) {
                if (!c->closing)
                        conn_fail(c, reason);
                else
                        c->io_error = true;   /* stop waiting for a flush */
                conn_mark_pending(c);
        }
}

void conn_mark_pending(struct conn *c)
{
        if (c->pending)
                return;
        c->pending = true;
        c->pending_next = NULL;
        *c->mgr->pending_tail = c;
        c->mgr->pending_tail = &c->pending_next;
        /* Marked from a later watcher of this iteration (another prepare,
           after the manager's pass): the next poll must not block. */
        ev_idle_start(c->loop, &c->mgr->idle);
}

static void watcher_set(struct ev_loop *loop, ev_io *io, bool on)
{
        if (on && !ev_is_active(io))
                ev_io_start(loop, io);
        else if (!on && ev_is_active(io))
                ev_io_stop(loop, io);
}

void conn_update_watchers(struct conn *c)
{
        bool r = false, w = false;
        if (c->io_error || (c->closing && !c->close_flush)) {
                /* both off */
        } else if (c->tls_state == CONN_TLS_HANDSHAKE) {
                r = !c->hs_want_write;
                w = c->hs_want_write;
        } else {
                r = !c->closing && !c->eof && !c->backpressure &&
                    c->tls_state != CONN_TLS_STARTTLS && conn_input_room(c) > 0;
                if (c->tls_write_wants_read && !c->eof)
                        r = true;
                w = c->write_blocked || c->tls_read_wants_write;
        }
        watcher_set(c->loop, &c->read_io, r);
        watcher_set(c->loop, &c->write_io, w);
}

void conn_touch(struct conn *c)
{
        if (c->timer.repeat > 0)
                ev_timer_again(c->loop, &c->timer);
}

static void conn_set_timer(struct conn *c, unsigned secs)
{
        c->timer.repeat = (ev_tstamp)secs;
        ev_timer_again(c->loop, &c->timer);   /* repeat 0 stops it */
}

void conn_set_timeout(struct conn *c, unsigned secs)
{
        c->timeout_secs = secs;
        if (c->tls_state != CONN_TLS_HANDSHAKE)
                conn_set_timer(c, secs);
}

static bool conn_can_dispatch(const struct conn *c)
{
        return c->ready && !c->closing && !c->suspended && !c->backpressure &&
               c->producer == NULL &&
               (c->tls_state == CONN_TLS_NONE || c->tls_state == CONN_TLS_ON);
}

static void conn_check_eof(struct conn *c)
{
        if (!c->eof || c->closing)
                return;
        if (c->abandon_on_eof) {
                conn_close(c, "client disconnected");
                return;
        }
        if (c->ready && (c->suspended || c->producer != NULL || c->backpressure ||
                         c->need_dispatch))
                return;   /* still answering; checked again when that ends */
        conn_close_after_flush(c, "client disconnected");
}

static void conn_dispatch(struct conn *c)
{
        while (conn_can_dispatch(c)) {
                conn_discard_pending(c);
                size_t avail = conn_input_avail(c);
                if (avail == 0)
                        break;
                uint64_t before = c->in_consumed;
                c->v->on_input(c);
                if (c->in_consumed != before)
                        continue;
                if (avail >= c->in.max && conn_can_dispatch(c)) {
                        /* A full buffer nobody consumes would stall forever. */
                        log_error("session=%s input buffer full and not consumed", c->id);
                        conn_fail(c, "input buffer full");
                }
                break;
        }
        conn_check_eof(c);
}

static void conn_call(struct conn *c, void (*fn)(struct conn *))
{
        if (fn == NULL || c->closing)
                return;
        fn(c);
}

/* Decrypted input sits inside OpenSSL, room to take it, and no socket
   event will announce it. */
static bool conn_tls_input_waiting(struct conn *c)
{
        return c->ssl != NULL && c->tls_state == CONN_TLS_ON && !c->eof && !c->closing &&
               !c->backpressure && !c->tls_read_wants_write && conn_input_room(c) > 0 &&
               tls_has_pending(c->ssl);
}

/* The part of the before-sleep pass that talks to the protocol. */
static void conn_process_protocol(struct conn *c)
{
        if (c->need_ready) {
                c->need_ready = false;
                c->ready = true;
                c->need_dispatch = true;   /* clients may speak before the greeting */
                conn_call(c, c->v->on_ready);
        }
        if (c->need_drained) {
                c->need_drained = false;
                c->need_dispatch = true;
                conn_call(c, c->v->on_drained);
        }
        if (c->producer != NULL && !c->backpressure && !c->closing) {
                enum conn_produce r = c->producer(c, c->producer_ctx);
                if (r == CONN_PRODUCE_DONE) {
                        c->producer = NULL;
                        c->producer_ctx = NULL;
                        c->need_dispatch = true;
                }
        }
        if (c->need_dispatch) {
                c->need_dispatch = false;
                conn_dispatch(c);
        }
        if (conn_tls_input_waiting(c)) {
                conn_read_some(c);
                conn_dispatch(c);
        }
        if (c->mgr->shutting_down && !c->closing && c->ready && !c->shutdown_seen &&
            conn_is_idle(c))
                conn_close(c, "shutdown");
}

/* Between events an idle connection keeps no buffers: a fully consumed
   input buffer (the 16 KB read chunk) and a drained output buffer (as large
   as the largest reply so far) are freed, so ten thousand IDLE sessions do
   not each hold them. Lines handed out by conn_read_line() are dead by now
   (they live for one on_input call); the next read or reply allocates. */
static void conn_trim_buffers(struct conn *c)
{
        if (c->in.data != NULL && c->in_pos >= c->in.len) {
                buf_free(&c->in);
                c->in_pos = 0;
        }
        /* Not while a producer streams: it refills the buffer at once. */
        if (c->out.data != NULL && c->out_pos >= c->out.len && c->producer == NULL) {
                buf_free(&c->out);
                c->out_pos = 0;
        }
}

static void conn_process(struct conn *c)
{
        if (!c->closing)
                conn_process_protocol(c);
        bool held = c->output_held && !c->closing && !c->backpressure;
        if (!c->io_error && !held &&
            (conn_output_pending(c) > 0 || c->tls_state == CONN_TLS_STARTTLS))
                conn_flush(c, false);
        conn_update_watchers(c);
        if (c->closing) {
                if (c->close_flush && !c->io_error && conn_output_pending(c) > 0)
                        return;   /* the write watcher brings us back */
                if (!c->pending)
                        conn_finalize(c);
                return;
        }
        conn_trim_buffers(c);
        if (c->need_drained || c->need_dispatch ||
            (c->producer != NULL && !c->backpressure) || conn_tls_input_waiting(c))
                conn_mark_pending(c);
}

static void conn_after_event(struct conn *c)
{
        conn_update_watchers(c);
        conn_mark_pending(c);
}

static void conn_handshake_step(struct conn *c)
{
        const char *error;
        switch (tls_handshake(c->ssl, &error)) {
        case TLS_OK:
                c->tls_state = CONN_TLS_ON;
                c->secured = true;
                c->hs_want_write = false;
                conn_set_timer(c, c->timeout_secs);
                if (!c->ready)
                        c->need_ready = true;
                else
                        c->need_dispatch = true;
                log_debug("session=%s TLS established: %s", c->id, conn_tls_describe(c));
                break;
        case TLS_WANT_READ:
                c->hs_want_write = false;
                break;
        case TLS_WANT_WRITE:
                c->hs_want_write = true;
                break;
        case TLS_EOF:
        case TLS_ERROR:
                log_info("session=%s peer=%s TLS handshake failed: %s", c->id, c->peer_ip,
                         error);
                conn_fail(c, pool_printf(c->pool, "TLS handshake failed: %s", error));
                break;
        }
}

void conn_tls_begin(struct conn *c)
{
        const char *error;
        c->ssl = tls_session_new(c->tls, c->fd, &error);
        if (c->ssl == NULL) {
                log_error("session=%s TLS: %s", c->id, error);
                conn_fail(c, "TLS setup failed");
                return;
        }
        c->tls_state = CONN_TLS_HANDSHAKE;
        conn_set_timer(c, c->mgr->set.handshake_secs);
        conn_handshake_step(c);
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
        struct conn *c = container_of(w, struct conn, read_io);
        if (c->tls_state == CONN_TLS_HANDSHAKE) {
                conn_handshake_step(c);
        } else {
                if (c->tls_write_wants_read) {
                        c->tls_write_wants_read = false;
                        conn_flush(c, true);
                }
                conn_read_some(c);
                conn_dispatch(c);
        }
        conn_after_event(c);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
        struct conn *c = container_of(w, struct conn, write_io);
        if (c->tls_state == CONN_TLS_HANDSHAKE) {
                conn_handshake_step(c);
        } else {
                if (c->tls_read_wants_write) {
                        c->tls_read_wants_write = false;
                        conn_read_some(c);
                        conn_dispatch(c);
                }
                conn_flush(c, true);
        }
        conn_after_event(c);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct conn *c = container_of(w, struct conn, timer);
        if (c->closing) {
                c->io_error = true;   /* a close-after-flush the peer never drains */
        } else if (c->tls_state == CONN_TLS_HANDSHAKE) {
                log_info("session=%s peer=%s TLS handshake timeout", c->id, c->peer_ip);
                conn_fail(c, "TLS handshake timeout");
        } else if (c->ready && c->v->on_timeout != NULL) {
                conn_call(c, c->v->on_timeout);
        } else {
                conn_close_after_flush(c, "inactivity timeout");
        }
        conn_after_event(c);
}

static void conn_init_peer(struct conn *c)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        char ip[64];
        if (getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0)
                len = 0;
        listen_peer_describe((struct sockaddr *)&ss, len, ip, sizeof(ip), &c->peer_port,
                             &c->loopback);
        c->peer_ip = pool_strdup(c->pool, ip);
}

static struct conn *conn_alloc(struct conn_mgr *mgr, int fd)
{
        const struct conn_settings *s = &mgr->set;
        struct pool *pool = pool_create("conn", 4096);
        struct conn *c = pool_alloc(pool, s->session_size);
        c->pool = pool;
        c->mgr = mgr;
        c->loop = mgr->loop;
        c->v = s->vfuncs;
        c->context = s->context;
        c->fd = fd;
        c->id = pool_printf(pool, "%ld-%llu", (long)getpid(), ++mgr->next_id);
        c->max_line = s->max_line;
        c->out_high = s->output_high;
        c->out_low = s->output_low;
        c->timeout_secs = s->timeout_secs;
        buf_init(&c->in, s->input_size);
        buf_init(&c->out, 0);
        ev_io_init(&c->read_io, conn_read_cb, fd, EV_READ);
        ev_io_init(&c->write_io, conn_write_cb, fd, EV_WRITE);
        ev_init(&c->timer, conn_timer_cb);
        conn_init_peer(c);
        c->next = mgr->all;
        if (mgr->all != NULL)
                mgr->all->prev = c;
        mgr->all = c;
        mgr->count++;
        return c;
}

int conn_create(struct conn_mgr *mgr, int fd, bool tls, struct conn **conn_r,
                const char **error_r)
{
        if (tls && mgr->tls == NULL) {
                close(fd);
                *error_r = "implicit TLS requested but no TLS certificate is configured";
                return -1;
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                *error_r = strerror(errno);
                close(fd);
                return -1;
        }
        struct conn *c = conn_alloc(mgr, fd);
        if (tls) {
                c->tls = mgr->tls;
                tls_ctx_ref(c->tls);
                conn_tls_begin(c);
        } else {
                conn_set_timer(c, c->timeout_secs);
                c->need_ready = true;
        }
        conn_after_event(c);
        *conn_r = c;
        return 0;
}

/* Closing a socket with unread input makes the kernel send RST, which can
   destroy our last reply (BYE, +OK) in the peer's receive queue. Signal EOF
   and swallow what is already queued (bounded, never waits). */
static void conn_linger(struct conn *c)
{
        if (c->io_error || c->eof)
                return;
        (void)shutdown(c->fd, SHUT_WR);
        char tmp[4096];
        for (size_t total = 0; total < CONN_LINGER_BYTES;) {
                ssize_t n = read(c->fd, tmp, sizeof(tmp));
                if (n <= 0)
                        break;
                total += (size_t)n;
        }
}

static void conn_finalize(struct conn *c)
{
        struct conn_mgr *mgr = c->mgr;
        ev_io_stop(c->loop, &c->read_io);
        ev_io_stop(c->loop, &c->write_io);
        ev_timer_stop(c->loop, &c->timer);
        if (c->ready && c->v->on_close != NULL)
                c->v->on_close(c, c->close_reason);
        tls_session_free(&c->ssl);
        tls_ctx_unref(&c->tls);
        conn_linger(c);
        close(c->fd);
        if (c->prev != NULL)
                c->prev->next = c->next;
        else
                mgr->all = c->next;
        if (c->next != NULL)
                c->next->prev = c->prev;
        mgr->count--;
        if (mgr->free_hook != NULL)
                mgr->free_hook(c, mgr->free_context);
        buf_free(&c->in);
        buf_free(&c->out);
        struct pool *pool = c->pool;
        pool_destroy(&pool);
}

static void conn_close_common(struct conn *c, const char *reason, bool flush)
{
        if (c->closing)
                return;
        c->closing = true;
        c->close_flush = flush;
        c->close_reason = pool_strdup(c->pool, reason != NULL ? reason : "closed");
        c->producer = NULL;
        if (flush && (c->timeout_secs == 0 || c->timeout_secs > CONN_CLOSE_FLUSH_SECS))
                conn_set_timer(c, CONN_CLOSE_FLUSH_SECS);   /* a peer that never reads */
        conn_update_watchers(c);
        conn_mark_pending(c);
}

void conn_close(struct conn *c, const char *reason)
{
        conn_close_common(c, reason, false);
}

void conn_close_after_flush(struct conn *c, const char *reason)
{
        conn_close_common(c, reason, true);
}

void conn_fail(struct conn *c, const char *reason)
{
        c->io_error = true;
        buf_reset(&c->out);
        c->out_pos = 0;
        conn_close(c, reason);
}

void conn_input_suspend(struct conn *c)
{
        c->suspended = true;
}

void conn_abandon_on_eof(struct conn *c, bool on)
{
        c->abandon_on_eof = on;
        if (on)
                conn_check_eof(c);
}

void conn_input_resume(struct conn *c)
{
        if (!c->suspended)
                return;
        c->suspended = false;
        c->need_dispatch = true;
        conn_mark_pending(c);
}

void conn_output_hold(struct conn *c)
{
        c->output_held = true;
}

void conn_output_release(struct conn *c)
{
        if (!c->output_held)
                return;
        c->output_held = false;
        conn_mark_pending(c);
}

void conn_set_producer(struct conn *c, conn_produce_fn *fn, void *context)
{
        c->producer = fn;
        c->producer_ctx = fn != NULL ? context : NULL;
        if (fn == NULL)
                c->need_dispatch = true;
        conn_mark_pending(c);
}

int conn_starttls(struct conn *c, const char **error_r)
{
        if (c->tls_state != CONN_TLS_NONE) {
                *error_r = "TLS is already active";
                return -1;
        }
        if (c->mgr->tls == NULL) {
                *error_r = "TLS is not configured";
                return -1;
        }
        /* Everything after the STARTTLS line was sent in plaintext before the
           client could have seen our reply: it must not be trusted
           (CVE-2011-0411). */
        c->in_consumed += conn_input_avail(c);
        c->in_pos = c->in.len;
        c->discard_line = false;
        c->discard_left = 0;
        c->tls = c->mgr->tls;
        tls_ctx_ref(c->tls);
        c->tls_state = CONN_TLS_STARTTLS;
        c->starttls_plain = conn_output_pending(c);
        conn_update_watchers(c);
        conn_mark_pending(c);   /* the flush path starts the handshake */
        return 0;
}

const char *conn_tls_describe(const struct conn *c)
{
        static char desc[128];
        if (c->ssl == NULL || c->tls_state != CONN_TLS_ON)
                return "";
        tls_session_describe(c->ssl, desc, sizeof(desc));
        return desc;
}

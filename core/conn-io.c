/* conn-io.c - a connection's input and output buffers (see conn.h).
 *
 * Owns: reading until EAGAIN (plain or TLS), line splitting with the length
 * bound and discard-to-LF recovery, exact byte reads and discards, output
 * appends, flushing and the back-pressure marks. Does not: decide when to
 * call the protocol (conn.c dispatches) or create TLS sessions.
 */
#include "conn-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"
#include "tls.h"

#define CONN_READ_CHUNK (16 * 1024)
#define CONN_OUT_COMPACT (64 * 1024)

size_t conn_input_avail(const struct conn *c)
{
        return c->in.len - c->in_pos;
}

size_t conn_input_room(const struct conn *c)
{
        return c->in.max - conn_input_avail(c);
}

/* Never resets or moves the buffer: lines handed out earlier in the same
   on_input call must stay intact. conn_read_some() compacts, outside it. */
static void input_consume(struct conn *c, size_t n)
{
        /* UNSAFE: callers pass n <= conn_input_avail(). */
        c->in_pos += n;
        c->in_consumed += n;
}

static void io_failed(struct conn *c, const char *what, const char *error)
{
        log_debug("session=%s %s failed: %s", c->id, what, error);
        conn_fail(c, pool_printf(c->pool, "%s failed: %s", what, error));
}

/* One read into the buffer tail: >0 bytes, 0 EAGAIN / stop, -1 EOF or error. */
static ssize_t read_once(struct conn *c, char *tail, size_t avail)
{
        if (c->ssl != NULL) {
                const char *error;
                size_t n;
                switch (tls_read(c->ssl, tail, avail, &n, &error)) {
                case TLS_OK:
                        return (ssize_t)n;
                case TLS_WANT_READ:
                        return 0;
                case TLS_WANT_WRITE:
                        c->tls_read_wants_write = true;
                        return 0;
                case TLS_EOF:
                        c->eof = true;
                        return -1;
                case TLS_ERROR:
                        io_failed(c, "TLS read", error);
                        return -1;
                }
        }
        for (;;) {
                ssize_t n = read(c->fd, tail, avail);
                if (n > 0)
                        return n;
                if (n == 0) {
                        c->eof = true;
                        return -1;
                }
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return 0;
                io_failed(c, "read", strerror(errno));
                return -1;
        }
}

void conn_read_some(struct conn *c)
{
        while (!c->eof && !c->io_error && !c->closing && !c->tls_read_wants_write) {
                if (c->in_pos > 0) {
                        buf_consume(&c->in, c->in_pos);
                        c->in_pos = 0;
                }
                size_t room = c->in.max - c->in.len;
                if (room == 0)
                        return;
                /* Grow gradually so idle connections keep small buffers. */
                size_t want = room < CONN_READ_CHUNK ? room : CONN_READ_CHUNK;
                size_t avail;
                char *tail = buf_tail(&c->in, want, &avail);
                if (tail == NULL)
                        return;
                ssize_t n = read_once(c, tail, avail);
                if (n <= 0)
                        return;
                buf_commit(&c->in, (size_t)n);
                conn_touch(c);
                if (c->ssl == NULL && (size_t)n < avail)
                        return;   /* short read: the socket is empty (level-triggered) */
        }
}

void conn_discard_pending(struct conn *c)
{
        size_t avail = conn_input_avail(c);
        if (c->discard_left > 0 && avail > 0) {
                size_t n = c->discard_left < avail ? (size_t)c->discard_left : avail;
                c->discard_left -= n;
                input_consume(c, n);
                avail -= n;
        }
        if (c->discard_line && c->discard_left == 0 && avail > 0) {
                const char *start = c->in.data + c->in_pos;
                const char *lf = memchr(start, '\n', avail);
                if (lf != NULL) {
                        c->discard_line = false;
                        input_consume(c, (size_t)(lf - start) + 1);
                } else {
                        input_consume(c, avail);
                }
        }
}

/* Input is handed out only while the session may act on it: this is what
   stops a pipelined batch at back-pressure, suspension, a producer, close or
   STARTTLS even inside one on_input call. */
static bool input_open(const struct conn *c)
{
        return !c->closing && !c->suspended && !c->backpressure && c->producer == NULL &&
               (c->tls_state == CONN_TLS_NONE || c->tls_state == CONN_TLS_ON);
}

enum conn_read conn_read_line(struct conn *c, const char **line_r, size_t *len_r)
{
        if (!input_open(c))
                return CONN_READ_MORE;
        conn_discard_pending(c);
        if (c->discard_left > 0 || c->discard_line)
                return CONN_READ_MORE;
        size_t avail = conn_input_avail(c);
        if (avail == 0)
                return CONN_READ_MORE;
        char *start = c->in.data + c->in_pos;
        char *lf = memchr(start, '\n', avail);
        if (lf == NULL) {
                /* max_line bytes plus a CR may still end well. */
                if (avail <= c->max_line + 1)
                        return CONN_READ_MORE;
                c->discard_line = true;
                input_consume(c, avail);
                return CONN_READ_TOO_LONG;
        }
        size_t total = (size_t)(lf - start) + 1;
        size_t len = total - 1;
        if (len > 0 && start[len - 1] == '\r')
                len--;
        if (len > c->max_line) {
                input_consume(c, total);
                return CONN_READ_TOO_LONG;
        }
        start[len] = '\0';
        *line_r = start;
        *len_r = len;
        input_consume(c, total);
        return CONN_READ_OK;
}

size_t conn_read_bytes(struct conn *c, size_t max, const void **data_r)
{
        if (!input_open(c))
                return 0;
        conn_discard_pending(c);
        if (c->discard_left > 0 || c->discard_line)
                return 0;
        size_t avail = conn_input_avail(c);
        size_t n = avail < max ? avail : max;
        *data_r = c->in.data != NULL ? c->in.data + c->in_pos : "";
        input_consume(c, n);
        return n;
}

void conn_discard_bytes(struct conn *c, uint64_t n)
{
        c->discard_left += n;
        conn_discard_pending(c);
}

bool conn_discarding(const struct conn *c)
{
        return c->discard_left > 0;
}

void conn_input_peek(struct conn *c, const void **data_r, size_t *len_r)
{
        if (input_open(c))
                conn_discard_pending(c);
        if (!input_open(c) || c->discard_left > 0 || c->discard_line) {
                *data_r = "";
                *len_r = 0;
                return;
        }
        *data_r = c->in.data != NULL ? c->in.data + c->in_pos : "";
        *len_r = conn_input_avail(c);
}

void conn_input_consume(struct conn *c, size_t n)
{
        COVE_ASSERT(n <= conn_input_avail(c));
        input_consume(c, n);
}

size_t conn_output_pending(const struct conn *c)
{
        return c->out.len - c->out_pos;
}

bool conn_output_full(const struct conn *c)
{
        return conn_output_pending(c) >= c->out_high;
}

static void output_added(struct conn *c)
{
        if (!c->backpressure && conn_output_full(c)) {
                c->backpressure = true;
                conn_update_watchers(c);
        }
        conn_mark_pending(c);
}

void conn_write(struct conn *c, const void *data, size_t len)
{
        if (c->closing || len == 0)
                return;
        if (!buf_append(&c->out, data, len))
                log_fatal("session=%s output buffer overflow", c->id);
        output_added(c);
}

void conn_write_str(struct conn *c, const char *str)
{
        conn_write(c, str, strlen(str));
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
        if (c->closing)
                return;
        va_list ap;
        va_start(ap, fmt);
        bool ok = buf_vprintf(&c->out, fmt, ap);
        va_end(ap);
        if (!ok)
                log_fatal("session=%s output buffer overflow", c->id);
        output_added(c);
}

/* One write from the buffer head: >0 bytes, 0 would block, -1 failed. */
static ssize_t write_once(struct conn *c, const char *data, size_t len)
{
        if (c->ssl != NULL && c->tls_state == CONN_TLS_ON) {
                const char *error;
                size_t n;
                switch (tls_write(c->ssl, data, len, &n, &error)) {
                case TLS_OK:
                        return (ssize_t)n;
                case TLS_WANT_WRITE:
                        c->write_blocked = true;
                        return 0;
                case TLS_WANT_READ:
                        c->tls_write_wants_read = true;
                        return 0;
                case TLS_EOF:
                case TLS_ERROR:
                        io_failed(c, "TLS write", error);
                        return -1;
                }
        }
        for (;;) {
                ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
                if (n >= 0)
                        return n;
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                        c->write_blocked = true;
                        return 0;
                }
                io_failed(c, "write", strerror(errno));
                return -1;
        }
}

static void output_compact(struct conn *c)
{
        if (c->out_pos == c->out.len) {
                buf_reset(&c->out);
                c->out_pos = 0;
        } else if (c->out_pos >= CONN_OUT_COMPACT && c->out_pos * 2 >= c->out.len) {
                buf_consume(&c->out, c->out_pos);
                c->out_pos = 0;
        }
}

void conn_flush(struct conn *c, bool force)
{
        if (force)
                c->write_blocked = false;
        while (!c->io_error && !c->write_blocked && !c->tls_write_wants_read &&
               c->tls_state != CONN_TLS_HANDSHAKE) {
                size_t len = conn_output_pending(c);
                if (c->tls_state == CONN_TLS_STARTTLS && len > c->starttls_plain)
                        len = c->starttls_plain;   /* later output goes encrypted */
                if (len == 0)
                        break;
                ssize_t n = write_once(c, c->out.data + c->out_pos, len);
                if (n <= 0)
                        break;
                c->out_pos += (size_t)n;
                if (c->tls_state == CONN_TLS_STARTTLS)
                        c->starttls_plain -= (size_t)n;
                conn_touch(c);
        }
        if (c->io_error)
                return;
        output_compact(c);
        if (c->backpressure && conn_output_pending(c) <= c->out_low) {
                c->backpressure = false;
                c->need_drained = true;
                conn_mark_pending(c);
        }
        if (c->tls_state == CONN_TLS_STARTTLS && c->starttls_plain == 0 && !c->closing)
                conn_tls_begin(c);
        conn_update_watchers(c);
}

/* net-test.h - shared fixtures for the net unit tests: a small line-echo
 * protocol driven through conn_vfuncs, socketpair and loop helpers, and a
 * self-signed certificate generated with the OpenSSL API.
 */
#ifndef COVE_NET_TEST_H
#define COVE_NET_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conn.h"

/* The echo protocol: on_ready sends "HELLO\r\n"; each line is recorded in
   net_events.lines ("a|b|") and answered "ECHO <line>\r\n", except:
     QUIT      -> "BYE\r\n", close after flush
     PID       -> "PID <getpid()>\r\n"
     HOLD      -> suspends input for good (a command that never ends)
     CLOSE     -> conn_close() inside on_input, then writes (ignored)
     STARTTLS  -> "OK\r\n" then conn_starttls()
     FLOOD n   -> n bytes of 'f' written at once (back-pressure)
     BIG n     -> n bytes streamed by a producer, then "\r\nEND\r\n"
     LIT n     -> the next n bytes are taken with conn_read_bytes() and
                  checked against net_pattern(); recorded as "LIT:<n>:ok"
     SKIP n    -> conn_discard_bytes(n)
   A too-long line answers "ERR too long\r\n" and records "TOOLONG". */
struct net_session {
        struct conn conn;
        unsigned long long lit_left, lit_total, lit_pos;
        bool lit_bad;
        size_t big_left;
};

struct net_events {
        struct buf lines;
        unsigned ready, closed, drained, timeouts, shutdowns;
        char close_reason[128];
        struct conn *last;     /* the last connection made ready (not freed yet) */
        bool suspend_on_ready; /* set by a test: input starts suspended */
};
extern struct net_events net_events;
extern const struct conn_vfuncs net_echo_vfuncs;
/* The same without on_drained/on_timeout/on_shutdown (framework defaults). */
extern const struct conn_vfuncs net_echo_plain_vfuncs;

unsigned char net_pattern(unsigned long long i);

/* Resets net_events. Call from .init; net_events_free() from .fini. */
void net_events_reset(void);
void net_events_free(void);

/* Settings for the echo protocol with test-friendly defaults. */
struct conn_settings net_settings(void);

/* A connected AF_UNIX socketpair: fds[0] for the server (conn_create),
   fds[1] for the test, both non-blocking. */
void net_socketpair(int fds[2]);

/* Runs loop iterations without blocking, n times. */
void net_pump(struct ev_loop *loop, unsigned n);
/* Runs the loop (blocking at most ~10 ms per iteration) until *flag is true
   or secs elapse; returns *flag. */
bool net_run_until(struct ev_loop *loop, const volatile bool *flag, double secs);
/* Same with a predicate. */
bool net_run_until_fn(struct ev_loop *loop, bool (*pred)(void *), void *arg, double secs);

/* Writes all of data to a non-blocking fd (retrying on EAGAIN). */
void net_send(int fd, const void *data, size_t len);
/* Reads whatever is available (non-blocking) and appends to out. Returns
   bytes read, or -1 on EOF. */
long net_drain(int fd, struct buf *out);

/* Generates a self-signed EC certificate for "localhost" in dir
   (cert.pem, key.pem); returns the paths (static buffers). */
void net_make_cert(const char *dir, const char **cert_r, const char **key_r);

#endif

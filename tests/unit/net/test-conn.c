/* Unit tests for core/conn.c and conn-io.c over socketpairs: line splitting,
   limits, literals, back-pressure, producers, timeouts, close safety. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "net-test.h"

static struct ev_loop *loop;
static struct conn_mgr *mgr;
static struct buf got;     /* what the peer received */
static int peer = -1;

static void setup(void)
{
        net_events_reset();
        buf_init(&got, 0);
        loop = ev_loop_new(EVFLAG_AUTO);
}

static void teardown(void)
{
        conn_mgr_destroy(&mgr);
        if (peer >= 0)
                close(peer);
        peer = -1;
        ev_loop_destroy(loop);
        buf_free(&got);
        net_events_free();
}

TestSuite(conn, .init = setup, .fini = teardown);

static struct conn *start(const struct conn_settings *set)
{
        int fds[2];
        struct conn *c;
        const char *error;
        mgr = conn_mgr_create(loop, set);
        net_socketpair(fds);
        peer = fds[1];
        cr_assert_eq(conn_create(mgr, fds[0], false, &c, &error), 0);
        net_pump(loop, 3);
        cr_assert_eq(net_events.ready, 1);
        return c;
}

static const char *lines(void)
{
        return net_events.lines.data != NULL ? net_events.lines.data : "";
}

static void feed(const char *s)
{
        net_send(peer, s, strlen(s));
        net_pump(loop, 4);
}

Test(conn, greeting_and_peer_flags)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        net_drain(peer, &got);
        cr_assert_str_eq(got.data, "HELLO\r\n");
        cr_assert_str_eq(c->peer_ip, "unix");
        cr_assert(c->loopback);
        cr_assert_not(c->secured);
        cr_assert_not_null(c->id);
}

Test(conn, crlf_and_bare_lf_lines)
{
        struct conn_settings set = net_settings();
        start(&set);
        feed("one\r\ntwo\nthree\r\n\r\n");
        cr_assert_str_eq(lines(), "one|two|three||");
        net_drain(peer, &got);
        cr_assert(strstr(got.data, "ECHO one\r\nECHO two\r\nECHO three\r\nECHO \r\n") != NULL);
}

Test(conn, input_before_greeting_is_dispatched)
{
        struct conn_settings set = net_settings();
        int fds[2];
        struct conn *c;
        const char *error;
        mgr = conn_mgr_create(loop, &set);
        net_socketpair(fds);
        peer = fds[1];
        net_send(peer, "early\r\n", 7);
        cr_assert_eq(conn_create(mgr, fds[0], false, &c, &error), 0);
        net_pump(loop, 4);
        cr_assert_str_eq(lines(), "early|");
        net_drain(peer, &got);
        cr_assert_str_eq(got.data, "HELLO\r\nECHO early\r\n");
}

Test(conn, line_split_across_reads)
{
        struct conn_settings set = net_settings();
        start(&set);
        const char *text = "alpha beta\r\ngamma\r\ndelta epsilon\n";
        for (size_t i = 0; text[i] != '\0'; i++) {
                net_send(peer, &text[i], 1);
                net_pump(loop, 2);
        }
        cr_assert_str_eq(lines(), "alpha beta|gamma|delta epsilon|");
}

Test(conn, line_random_pieces_same_result)
{
        struct conn_settings set = net_settings();
        start(&set);
        struct buf all;
        buf_init(&all, 0);
        for (int i = 0; i < 200; i++)
                buf_printf(&all, "line-%d%s", i, i % 3 == 0 ? "\n" : "\r\n");
        srand(42);
        for (size_t pos = 0; pos < all.len;) {
                size_t n = 1 + (size_t)rand() % 50;
                if (n > all.len - pos)
                        n = all.len - pos;
                net_send(peer, all.data + pos, n);
                pos += n;
                net_pump(loop, 2);
                net_drain(peer, &got);
        }
        net_pump(loop, 4);
        struct buf want;
        buf_init(&want, 0);
        for (int i = 0; i < 200; i++)
                buf_printf(&want, "line-%d|", i);
        cr_assert_str_eq(lines(), want.data);
        buf_free(&want);
        buf_free(&all);
}

Test(conn, many_lines_in_one_read)
{
        struct conn_settings set = net_settings();
        start(&set);
        struct buf all, want;
        buf_init(&all, 0);
        buf_init(&want, 0);
        for (int i = 0; i < 60; i++) {
                buf_printf(&all, "l%d\r\n", i);
                buf_printf(&want, "l%d|", i);
        }
        cr_assert_lt(all.len, 1024);   /* fits one read */
        net_send(peer, all.data, all.len);
        net_pump(loop, 10);
        cr_assert_str_eq(lines(), want.data);
        buf_free(&all);
        buf_free(&want);
}

Test(conn, too_long_line_then_recovery)
{
        struct conn_settings set = net_settings();   /* max_line 64, input 1024 */
        start(&set);
        char longline[200];
        memset(longline, 'x', sizeof(longline));
        net_send(peer, longline, sizeof(longline));
        feed("xxxx\r\nnext\r\n");
        cr_assert_str_eq(lines(), "TOOLONG|next|");
        /* Over the limit with its LF already buffered. */
        char mid[80];
        memset(mid, 'y', sizeof(mid));
        net_send(peer, mid, sizeof(mid));
        feed("\r\nafter\r\n");
        cr_assert_str_eq(lines(), "TOOLONG|next|TOOLONG|after|");
        /* Exactly max_line is fine. */
        char exact[67];
        memset(exact, 'z', 64);
        memcpy(exact + 64, "\r\n", 3);
        feed(exact);
        cr_assert_eq(strlen(lines()), strlen("TOOLONG|next|TOOLONG|after|") + 65);
        net_drain(peer, &got);
        cr_assert(strstr(got.data, "ERR too long\r\n") != NULL);
}

Test(conn, huge_line_larger_than_buffer)
{
        struct conn_settings set = net_settings();
        start(&set);
        char *big = malloc(100000);
        memset(big, 'q', 100000);
        for (size_t pos = 0; pos < 100000; pos += 5000) {
                net_send(peer, big + pos, 5000);
                net_pump(loop, 2);
        }
        feed("\nok\r\n");
        cr_assert_str_eq(lines(), "TOOLONG|ok|");
        free(big);
}

Test(conn, literal_1mb_random_pieces)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        const size_t size = 1024 * 1024;
        unsigned char *data = malloc(size);
        for (size_t i = 0; i < size; i++)
                data[i] = net_pattern(i);
        feed("LIT 1048576\r\n");
        srand(7);
        for (size_t pos = 0; pos < size;) {
                size_t n = 1 + (size_t)rand() % 9000;
                if (n > size - pos)
                        n = size - pos;
                net_send(peer, data + pos, n);
                pos += n;
                net_pump(loop, 1);
                /* Never buffered whole: the input buffer stays bounded. */
                cr_assert_leq(c->in.cap, set.input_size < 16384 ? 16384 : set.input_size);
        }
        feed("DONE\r\n");
        cr_assert_str_eq(lines(), "LIT 1048576|LIT:1048576:ok|DONE|");
        free(data);
}

Test(conn, discard_bytes_then_line)
{
        struct conn_settings set = net_settings();
        start(&set);
        feed("SKIP 10\r\n0123");
        feed("456789tail\r\n");
        cr_assert_str_eq(lines(), "SKIP 10|tail|");
}

static bool peer_got(void *arg)
{
        net_drain(peer, &got);
        return got.data != NULL && strstr(got.data, arg) != NULL;
}

Test(conn, backpressure_stops_reading_until_drained)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        int small = 4096;
        setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        feed("FLOOD 400000\r\nPING\r\n");
        net_pump(loop, 10);
        cr_assert(c->backpressure);
        cr_assert_not(ev_is_active(&c->read_io), "reading must stop under back-pressure");
        cr_assert_str_eq(lines(), "FLOOD 400000|");   /* PING is held back */
        cr_assert_eq(net_events.drained, 0);
        feed("MORE\r\n");
        cr_assert_str_eq(lines(), "FLOOD 400000|");
        cr_assert(net_run_until_fn(loop, peer_got, "ECHO MORE\r\n", 10.0));
        cr_assert_geq(net_events.drained, 1);
        cr_assert_str_eq(lines(), "FLOOD 400000|PING|MORE|");
        cr_assert_not(c->backpressure);
}

Test(conn, producer_streams_in_order)
{
        struct conn_settings set = net_settings();
        start(&set);
        feed("BIG 300000\r\nAFTER\r\n");
        cr_assert(net_run_until_fn(loop, peer_got, "ECHO AFTER\r\n", 10.0));
        const char *end = strstr(got.data, "\r\nEND\r\n");
        cr_assert_not_null(end);
        size_t hello = strlen("HELLO\r\n");
        cr_assert_eq((size_t)(end - got.data), hello + 300000);
        cr_assert_str_eq(end, "\r\nEND\r\nECHO AFTER\r\n");
}

Test(conn, inactivity_timeout_fires)
{
        struct conn_settings set = net_settings();
        set.timeout_secs = 1;
        start(&set);
        cr_assert(net_run_until_fn(loop, peer_got, "TIMEOUT\r\n", 5.0));
        net_pump(loop, 3);
        cr_assert_eq(net_events.timeouts, 1);
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(net_events.close_reason, "inactivity timeout");
        cr_assert_eq(conn_mgr_count(mgr), 0);
}

Test(conn, close_inside_callback_is_deferred)
{
        struct conn_settings set = net_settings();
        start(&set);
        feed("CLOSE\r\nNEVER\r\n");
        cr_assert_str_eq(lines(), "CLOSE|");
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(net_events.close_reason, "close command");
        cr_assert_eq(conn_mgr_count(mgr), 0);
        net_drain(peer, &got);
        cr_assert_null(strstr(got.data, "IGNORED"));
        cr_assert_eq(net_drain(peer, &got), -1);   /* EOF */
}

Test(conn, quit_flushes_then_closes)
{
        struct conn_settings set = net_settings();
        start(&set);
        feed("QUIT\r\nIGNORED\r\n");
        net_pump(loop, 3);
        net_drain(peer, &got);
        cr_assert_str_eq(got.data, "HELLO\r\nBYE\r\n");
        cr_assert_eq(net_drain(peer, &got), -1);   /* EOF */
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(net_events.close_reason, "quit");
}

Test(conn, peer_eof_processes_pipelined_then_closes)
{
        struct conn_settings set = net_settings();
        start(&set);
        net_send(peer, "a\r\nb\r\n", 6);
        shutdown(peer, SHUT_WR);
        net_pump(loop, 5);
        cr_assert_str_eq(lines(), "a|b|");
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(net_events.close_reason, "client disconnected");
        net_drain(peer, &got);
        cr_assert(strstr(got.data, "ECHO b\r\n") != NULL);
}

/* Suspended (a command still being answered), the peer's EOF waits for
   the answer; with conn_abandon_on_eof() it closes at once, also when the
   EOF was seen before the flag was set. */
Test(conn, eof_while_suspended_waits_unless_abandoned)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        conn_input_suspend(c);
        shutdown(peer, SHUT_WR);
        net_pump(loop, 5);
        cr_assert_eq(net_events.closed, 0, "a suspended connection waits for its answer");
        conn_abandon_on_eof(c, true);
        net_pump(loop, 3);
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(net_events.close_reason, "client disconnected");
}

Test(conn, eof_after_abandon_closes_at_once)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        conn_input_suspend(c);
        conn_abandon_on_eof(c, true);
        feed("queued\r\n");
        cr_assert_eq(net_events.closed, 0);
        shutdown(peer, SHUT_WR);
        net_pump(loop, 5);
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(lines(), "", "nothing more is dispatched");
}

Test(conn, suspend_and_resume)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        conn_input_suspend(c);
        feed("x\r\ny\r\n");
        cr_assert_str_eq(lines(), "");
        conn_input_resume(c);
        net_pump(loop, 3);
        cr_assert_str_eq(lines(), "x|y|");
}

Test(conn, shutdown_calls_on_shutdown)
{
        struct conn_settings set = net_settings();
        start(&set);
        conn_mgr_shutdown(mgr);
        net_pump(loop, 3);
        cr_assert_eq(net_events.shutdowns, 1);
        cr_assert_eq(conn_mgr_count(mgr), 0);
        net_drain(peer, &got);
        cr_assert(strstr(got.data, "BYE shutdown\r\n") != NULL);
}

Test(conn, mgr_destroy_closes_live_connections)
{
        struct conn_settings set = net_settings();
        start(&set);
        conn_mgr_destroy(&mgr);
        cr_assert_null(mgr);
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(net_events.close_reason, "shutdown");
}

Test(conn, peek_and_consume)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        const void *data;
        size_t len;
        conn_input_suspend(c);
        feed("xyz\r\n");
        conn_input_peek(c, &data, &len);
        cr_assert_eq(len, 0, "nothing is handed out while suspended");
        conn_input_resume(c);
        conn_input_peek(c, &data, &len);
        cr_assert_eq(len, 5);
        cr_assert_eq(memcmp(data, "xyz\r\n", 5), 0);
        conn_input_consume(c, 1);
        net_pump(loop, 3);
        cr_assert_str_eq(lines(), "yz|");
}

/* An idle connection holds no input or output buffer between events (10,000
   IDLE sessions must not each keep 16 KB + their largest reply). */
Test(conn, idle_connection_holds_no_buffers)
{
        struct conn_settings set = net_settings();
        struct conn *c = start(&set);
        net_drain(peer, &got);
        feed("one\r\ntwo\r\n");
        net_drain(peer, &got);
        net_pump(loop, 4);
        cr_assert_str_eq(lines(), "one|two|");
        cr_assert_null(c->in.data, "input buffer kept while idle");
        cr_assert_null(c->out.data, "output buffer kept while idle");
        /* And it still works afterwards. */
        feed("three\r\n");
        cr_assert_str_eq(lines(), "one|two|three|");
}

/* net-test.c - shared fixtures for the net unit tests (see net-test.h). */
#include "net-test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"

struct net_events net_events;

unsigned char net_pattern(unsigned long long i)
{
        return (unsigned char)((i * 7 + (i >> 9)) & 0xff);
}

void net_events_reset(void)
{
        buf_free(&net_events.lines);
        memset(&net_events, 0, sizeof(net_events));
        buf_init(&net_events.lines, 0);
}

void net_events_free(void)
{
        buf_free(&net_events.lines);
}

static void record(const char *s, size_t len)
{
        buf_append(&net_events.lines, s, len);
        buf_append_char(&net_events.lines, '|');
}

static void echo_ready(struct conn *c)
{
        net_events.ready++;
        net_events.last = c;
        if (net_events.suspend_on_ready)
                conn_input_suspend(c);
        conn_write_str(c, "HELLO\r\n");
}

static enum conn_produce echo_produce(struct conn *c, void *context)
{
        struct net_session *s = context;
        char chunk[4096];
        memset(chunk, 'b', sizeof(chunk));
        while (s->big_left > 0 && !conn_output_full(c)) {
                size_t n = s->big_left < sizeof(chunk) ? s->big_left : sizeof(chunk);
                conn_write(c, chunk, n);
                s->big_left -= n;
        }
        if (s->big_left > 0)
                return CONN_PRODUCE_MORE;
        conn_write_str(c, "\r\nEND\r\n");
        return CONN_PRODUCE_DONE;
}

/* Returns false when the session stops taking input for now. */
static bool echo_literal(struct net_session *s)
{
        while (s->lit_left > 0) {
                const void *data;
                size_t n = conn_read_bytes(&s->conn, s->lit_left, &data);
                if (n == 0)
                        return false;
                const unsigned char *p = data;
                for (size_t i = 0; i < n; i++) {
                        if (p[i] != net_pattern(s->lit_pos + i))
                                s->lit_bad = true;
                }
                s->lit_pos += n;
                s->lit_left -= n;
        }
        char msg[64];
        int len = snprintf(msg, sizeof(msg), "LIT:%llu:%s", s->lit_total,
                           s->lit_bad ? "bad" : "ok");
        record(msg, (size_t)len);
        s->lit_total = 0;
        return true;
}

static bool echo_command(struct net_session *s, const char *line, size_t len)
{
        struct conn *c = &s->conn;
        unsigned long long n = 0;
        if (strcmp(line, "QUIT") == 0) {
                conn_write_str(c, "BYE\r\n");
                conn_close_after_flush(c, "quit");
        } else if (strcmp(line, "CLOSE") == 0) {
                conn_close(c, "close command");
                conn_close(c, "twice");
                conn_write_str(c, "IGNORED\r\n");
        } else if (strcmp(line, "STARTTLS") == 0) {
                const char *error;
                conn_write_str(c, "OK\r\n");
                if (conn_starttls(c, &error) < 0)
                        conn_printf(c, "NO %s\r\n", error);
        } else if (strcmp(line, "HOLD") == 0) {
                conn_input_suspend(c);   /* a command that never finishes */
        } else if (strcmp(line, "PID") == 0) {
                conn_printf(c, "PID %ld\r\n", (long)getpid());
        } else if (sscanf(line, "FLOOD %llu", &n) == 1) {
                char *big = malloc(n);
                memset(big, 'f', n);
                conn_write(c, big, n);
                free(big);
        } else if (sscanf(line, "BIG %llu", &n) == 1) {
                s->big_left = n;
                conn_set_producer(c, echo_produce, s);
        } else if (sscanf(line, "LIT %llu", &n) == 1) {
                s->lit_left = s->lit_total = n;
                s->lit_pos = 0;
                s->lit_bad = false;
                return echo_literal(s);
        } else if (sscanf(line, "SKIP %llu", &n) == 1) {
                conn_discard_bytes(c, n);
        } else {
                conn_printf(c, "ECHO %.*s\r\n", (int)len, line);
        }
        return !c->closing;
}

static void echo_input(struct conn *c)
{
        struct net_session *s = container_of(c, struct net_session, conn);
        /* Lines handed out earlier in this call must survive later reads. */
        const char *prev = NULL;
        char prev_copy[80] = "";
        if (s->lit_left > 0 && !echo_literal(s))
                return;
        for (;;) {
                const char *line;
                size_t len;
                enum conn_read r = conn_read_line(c, &line, &len);
                if (prev != NULL && strcmp(prev, prev_copy) != 0)
                        record("CORRUPT", 7);
                if (r == CONN_READ_MORE)
                        return;
                if (r == CONN_READ_TOO_LONG) {
                        record("TOOLONG", 7);
                        conn_write_str(c, "ERR too long\r\n");
                        continue;
                }
                record(line, len);
                prev = line;
                snprintf(prev_copy, sizeof(prev_copy), "%s", line);
                if (!echo_command(s, line, len))
                        return;
        }
}

static void echo_drained(struct conn *c)
{
        net_events.drained++;
}

static void echo_timeout(struct conn *c)
{
        net_events.timeouts++;
        conn_write_str(c, "TIMEOUT\r\n");
        conn_close_after_flush(c, "inactivity timeout");
}

static void echo_shutdown(struct conn *c)
{
        net_events.shutdowns++;
        conn_write_str(c, "BYE shutdown\r\n");
        conn_close_after_flush(c, "shutdown");
}

static void echo_close(struct conn *c, const char *reason)
{
        net_events.closed++;
        snprintf(net_events.close_reason, sizeof(net_events.close_reason), "%s", reason);
        if (net_events.last == c)
                net_events.last = NULL;
}

const struct conn_vfuncs net_echo_vfuncs = {
        .on_ready = echo_ready,
        .on_input = echo_input,
        .on_drained = echo_drained,
        .on_timeout = echo_timeout,
        .on_shutdown = echo_shutdown,
        .on_close = echo_close,
};

const struct conn_vfuncs net_echo_plain_vfuncs = {
        .on_ready = echo_ready,
        .on_input = echo_input,
        .on_close = echo_close,
};

struct conn_settings net_settings(void)
{
        return (struct conn_settings) {
                .max_line = 64,
                .input_size = 1024,
                .output_high = 8192,
                .output_low = 1024,
                .timeout_secs = 60,
                .session_size = sizeof(struct net_session),
                .vfuncs = &net_echo_vfuncs,
        };
}

void net_socketpair(int fds[2])
{
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
}

void net_pump(struct ev_loop *loop, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                ev_run(loop, EVRUN_NOWAIT);
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents) { }

bool net_run_until_fn(struct ev_loop *loop, bool (*pred)(void *), void *arg, double secs)
{
        ev_timer tick;
        ev_timer_init(&tick, tick_cb, 0.01, 0.01);
        ev_timer_start(loop, &tick);
        ev_now_update(loop);
        ev_tstamp end = ev_now(loop) + secs;
        while (!pred(arg) && ev_now(loop) < end)
                ev_run(loop, EVRUN_ONCE);
        ev_timer_stop(loop, &tick);
        return pred(arg);
}

static bool flag_pred(void *arg)
{
        return *(const volatile bool *)arg;
}

bool net_run_until(struct ev_loop *loop, const volatile bool *flag, double secs)
{
        return net_run_until_fn(loop, flag_pred, (void *)flag, secs);
}

void net_send(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                        usleep(1000);
                        continue;
                }
                cr_assert_gt(n, 0, "write: %s", strerror(errno));
                p += n;
                len -= (size_t)n;
        }
}

long net_drain(int fd, struct buf *out)
{
        long total = 0;
        char tmp[65536];
        for (;;) {
                ssize_t n = read(fd, tmp, sizeof(tmp));
                if (n > 0) {
                        buf_append(out, tmp, (size_t)n);
                        total += n;
                        continue;
                }
                if (n == 0)
                        return total > 0 ? total : -1;
                return total;
        }
}

static void write_pem(const char *path, EVP_PKEY *key, X509 *x509)
{
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        if (key != NULL)
                cr_assert(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
        else
                cr_assert(PEM_write_X509(f, x509));
        fclose(f);
}

void net_make_cert(const char *dir, const char **cert_r, const char **key_r)
{
        static char cert[512], key[512];
        EVP_PKEY *pkey = EVP_EC_gen("P-256");
        cr_assert_not_null(pkey);
        X509 *x = X509_new();
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
        X509_set_pubkey(x, pkey);
        X509_NAME *name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"localhost", -1, -1, 0);
        X509_set_issuer_name(x, name);
        cr_assert(X509_sign(x, pkey, EVP_sha256()) > 0);
        snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
        snprintf(key, sizeof(key), "%s/key.pem", dir);
        write_pem(cert, NULL, x);
        write_pem(key, pkey, NULL);
        X509_free(x);
        EVP_PKEY_free(pkey);
        *cert_r = cert;
        *key_r = key;
}

/* Unit tests for core/tls.c and the TLS paths of conn.c: implicit TLS echo,
   STARTTLS with pipelined plaintext discarded, version floor, cert errors. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "conn-private.h"
#include "conn.h"
#include "net-test.h"
#include "pool.h"
#include "tls.h"

static struct ev_loop *loop;
static struct conn_mgr *mgr;
static struct pool *pool;
static struct tls_ctx *tls;
static char dir[64];
static const char *cert, *key;

static void setup(void)
{
        net_events_reset();
        pool = pool_create("test", 1024);
        loop = ev_loop_new(EVFLAG_AUTO);
        strcpy(dir, "/tmp/cove-tls-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        net_make_cert(dir, &cert, &key);
}

static void teardown(void)
{
        conn_mgr_destroy(&mgr);
        tls_ctx_unref(&tls);
        ev_loop_destroy(loop);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
        pool_destroy(&pool);
        net_events_free();
}

TestSuite(tls, .init = setup, .fini = teardown);

/* ---- a blocking client running in a thread ---- */

struct client {
        int fd;
        bool starttls;       /* speak plaintext first, inject, then STARTTLS */
        bool bulk;           /* a 100 KB literal in, a 200 KB producer reply out */
        bool split;          /* a literal in two 10000-byte TLS records, then wait */
        int max_version;     /* 0: any */
        char error[256];
        volatile bool done;
        bool ok;
};

static bool plain_line(int fd, char *buf, size_t size)
{
        size_t n = 0;
        while (n + 1 < size) {
                if (read(fd, buf + n, 1) != 1)
                        return false;
                if (buf[n++] == '\n')
                        break;
        }
        buf[n] = '\0';
        return true;
}

static bool tls_line(SSL *ssl, char *buf, size_t size)
{
        size_t n = 0;
        while (n + 1 < size) {
                if (SSL_read(ssl, buf + n, 1) != 1)
                        return false;
                if (buf[n++] == '\n')
                        break;
        }
        buf[n] = '\0';
        return true;
}

static bool expect(struct client *cl, bool ok, const char *got, const char *want)
{
        if (ok && strcmp(got, want) == 0)
                return true;
        snprintf(cl->error, sizeof(cl->error), "wanted '%s', got '%s'", want, ok ? got : "EOF");
        return false;
}

static bool client_session(struct client *cl, SSL *ssl)
{
        char line[256];
        if (!cl->starttls && !expect(cl, tls_line(ssl, line, sizeof(line)), line, "HELLO\r\n"))
                return false;
        const char *msg = "PING\r\nQUIT\r\n";
        if (SSL_write(ssl, msg, (int)strlen(msg)) <= 0)
                return false;
        if (!expect(cl, tls_line(ssl, line, sizeof(line)), line, "ECHO PING\r\n") ||
            !expect(cl, tls_line(ssl, line, sizeof(line)), line, "BYE\r\n"))
                return false;
        char c;
        return SSL_read(ssl, &c, 1) <= 0;   /* then the server closes */
}

/* Everything pipelined in one go, then the whole answer read to EOF. */
static bool client_bulk(struct client *cl, SSL *ssl)
{
        struct buf out, in;
        buf_init(&out, 0);
        buf_init(&in, 0);
        buf_append_str(&out, "LIT 100000\r\n");
        for (unsigned long long i = 0; i < 100000; i++)
                buf_append_char(&out, (char)net_pattern(i));
        buf_append_str(&out, "BIG 200000\r\nQUIT\r\n");
        bool ok = SSL_write(ssl, out.data, (int)out.len) == (int)out.len;
        char tmp[8192];
        int n;
        while (ok && (n = SSL_read(ssl, tmp, sizeof(tmp))) > 0)
                buf_append(&in, tmp, (size_t)n);
        const char *want_tail = "\r\nEND\r\nBYE\r\n";
        size_t want = strlen("HELLO\r\n") + 200000 + strlen(want_tail);
        if (ok && (in.len != want || strcmp(in.data + in.len - strlen(want_tail), want_tail) != 0)) {
                snprintf(cl->error, sizeof(cl->error), "got %zu bytes, wanted %zu", in.len, want);
                ok = false;
        }
        buf_free(&out);
        buf_free(&in);
        return ok;
}

static bool client_split(struct client *cl, SSL *ssl)
{
        char line[64], rec[10000];
        if (!expect(cl, tls_line(ssl, line, sizeof(line)), line, "HELLO\r\n"))
                return false;
        size_t head = (size_t)snprintf(rec, sizeof(rec), "LIT 19989\r\n");
        for (size_t i = head; i < sizeof(rec); i++)
                rec[i] = (char)net_pattern(i - head);
        if (SSL_write(ssl, rec, sizeof(rec)) != sizeof(rec))
                return false;
        for (size_t i = 0; i < sizeof(rec); i++)
                rec[i] = (char)net_pattern(sizeof(rec) - head + i);
        if (SSL_write(ssl, rec, sizeof(rec)) != sizeof(rec))
                return false;
        return SSL_read(ssl, line, 1) <= 0;   /* until the server closes */
}

static bool client_plain_part(struct client *cl)
{
        char line[256];
        if (!expect(cl, plain_line(cl->fd, line, sizeof(line)), line, "HELLO\r\n"))
                return false;
        /* The injection: a command pipelined after STARTTLS in plaintext. */
        const char *msg = "STARTTLS\r\nINJECTED\r\n";
        if (write(cl->fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
                return false;
        return expect(cl, plain_line(cl->fd, line, sizeof(line)), line, "OK\r\n");
}

static void *client_main(void *arg)
{
        struct client *cl = arg;
        int flags = fcntl(cl->fd, F_GETFL);
        fcntl(cl->fd, F_SETFL, flags & ~O_NONBLOCK);
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (cl->max_version != 0)
                SSL_CTX_set_max_proto_version(ctx, cl->max_version);
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, cl->fd);
        if (!cl->starttls || client_plain_part(cl)) {
                if (SSL_connect(ssl) == 1)
                        cl->ok = cl->bulk ? client_bulk(cl, ssl) :
                                 cl->split ? client_split(cl, ssl) : client_session(cl, ssl);
                else if (cl->error[0] == '\0')
                        snprintf(cl->error, sizeof(cl->error), "handshake failed");
        }
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        close(cl->fd);
        cl->done = true;
        return NULL;
}

static bool finished(void *arg)
{
        struct client *cl = arg;
        return cl->done && conn_mgr_count(mgr) == 0;
}

static void (*between)(void);   /* runs on the loop thread while the client talks */

static void run_client(struct client *cl, bool implicit_tls, const char *min_version)
{
        const char *error;
        struct conn_settings set = net_settings();
        cr_assert_eq(tls_ctx_create(pool, cert, key, min_version, &tls, &error), 0, "%s", error);
        mgr = conn_mgr_create(loop, &set);
        conn_mgr_set_tls(mgr, tls);
        int fds[2];
        net_socketpair(fds);
        cl->fd = fds[1];
        struct conn *c;
        cr_assert_eq(conn_create(mgr, fds[0], implicit_tls, &c, &error), 0);
        pthread_t th;
        pthread_create(&th, NULL, client_main, cl);
        if (between != NULL)
                between();
        bool ok = net_run_until_fn(loop, finished, cl, 20.0);
        pthread_join(th, NULL);
        cr_assert(ok, "session did not finish");
}

Test(tls, implicit_tls_echo)
{
        struct client cl = { 0 };
        run_client(&cl, true, NULL);
        cr_assert(cl.ok, "%s", cl.error);
        cr_assert_str_eq(net_events.lines.data, "PING|QUIT|");
        cr_assert_eq(net_events.ready, 1);
        cr_assert_eq(net_events.closed, 1);
        cr_assert_str_eq(net_events.close_reason, "quit");
}

Test(tls, bulk_literal_in_and_producer_out)
{
        struct client cl = { .bulk = true };
        run_client(&cl, true, NULL);
        cr_assert(cl.ok, "%s", cl.error);
        cr_assert_str_eq(net_events.lines.data, "LIT 100000|LIT:100000:ok|BIG 200000|QUIT|");
}

static bool is_ready(void *arg) { return net_events.ready == 1; }
static bool input_full(void *arg) { return conn_input_room(net_events.last) == 0; }
static bool literal_done(void *arg)
{
        return net_events.lines.data != NULL &&
               strstr(net_events.lines.data, "LIT:19989:ok") != NULL;
}

/* The first record fills part of the buffer, the second only partly fits:
   the rest sits decrypted inside OpenSSL with the socket empty. Only the
   SSL_has_pending check can deliver it once the buffer has room again. */
static void split_between(void)
{
        /* Input is suspended from on_ready on (suspend_on_ready): suspending
           only after is_ready raced with the first record being consumed. */
        cr_assert(net_run_until_fn(loop, is_ready, NULL, 10.0));
        cr_assert(net_run_until_fn(loop, input_full, NULL, 10.0));
        conn_input_resume(net_events.last);
        cr_assert(net_run_until_fn(loop, literal_done, NULL, 5.0),
                  "decrypted input left inside OpenSSL was never read");
        conn_close(net_events.last, "test done");
}

Test(tls, decrypted_input_left_in_openssl_is_read)
{
        struct client cl = { .split = true };
        net_events.suspend_on_ready = true;
        between = split_between;
        run_client(&cl, true, NULL);
        between = NULL;
        cr_assert(cl.ok, "%s", cl.error);
}

Test(tls, starttls_discards_pipelined_plaintext)
{
        struct client cl = { .starttls = true };
        run_client(&cl, false, NULL);
        cr_assert(cl.ok, "%s", cl.error);
        /* INJECTED never reached the protocol. */
        cr_assert_str_eq(net_events.lines.data, "STARTTLS|PING|QUIT|");
}

Test(tls, min_version_refuses_older_client)
{
        struct client cl = { .max_version = TLS1_2_VERSION };
        run_client(&cl, true, "TLSv1.3");
        cr_assert_not(cl.ok);
        cr_assert_eq(net_events.ready, 0);
        cr_assert_eq(net_events.closed, 0);   /* never ready: no on_close */
}

Test(tls, starttls_without_context_is_refused)
{
        const char *error;
        struct conn_settings set = net_settings();
        mgr = conn_mgr_create(loop, &set);
        int fds[2];
        net_socketpair(fds);
        struct conn *c;
        cr_assert_eq(conn_create(mgr, fds[0], false, &c, &error), 0);
        net_pump(loop, 2);
        net_send(fds[1], "STARTTLS\r\nNEXT\r\n", 16);
        net_pump(loop, 4);
        struct buf got;
        buf_init(&got, 0);
        net_drain(fds[1], &got);
        cr_assert_str_eq(got.data, "HELLO\r\nOK\r\nNO TLS is not configured\r\nECHO NEXT\r\n");
        cr_assert_eq(conn_create(mgr, dup(fds[1]), true, &c, &error), -1);
        buf_free(&got);
        close(fds[1]);
}

Test(tls, cert_errors_name_the_file)
{
        struct tls_ctx *ctx = NULL;
        const char *error;
        cr_assert_eq(tls_ctx_create(pool, "/nonexistent/cert.pem", key, NULL, &ctx, &error), -1);
        cr_assert_str_eq(error, "tls cert /nonexistent/cert.pem: No such file or directory");
        char junk[128];
        snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
        FILE *f = fopen(junk, "w");
        fputs("not a certificate\n", f);
        fclose(f);
        cr_assert_eq(tls_ctx_create(pool, junk, key, NULL, &ctx, &error), -1);
        cr_assert(strncmp(error, "tls cert ", 9) == 0 && strstr(error, junk) != NULL, "%s", error);
        cr_assert_eq(tls_ctx_create(pool, cert, junk, NULL, &ctx, &error), -1);
        cr_assert(strncmp(error, "tls key ", 8) == 0 && strstr(error, junk) != NULL, "%s", error);
        /* A key from another certificate. */
        char other[128];
        snprintf(other, sizeof(other), "%s/o", dir);
        mkdir(other, 0700);
        const char *cert2, *key2;
        net_make_cert(other, &cert2, &key2);
        char key2copy[128];
        snprintf(key2copy, sizeof(key2copy), "%s", key2);
        net_make_cert(dir, &cert, &key);
        cr_assert_eq(tls_ctx_create(pool, cert, key2copy, NULL, &ctx, &error), -1);
        cr_assert(strstr(error, "does not match certificate") != NULL, "%s", error);
        cr_assert_eq(tls_ctx_create(pool, cert, key, "TLSv1.1", &ctx, &error), -1);
        cr_assert_str_eq(error, "tls min_version: 'TLSv1.1' is not TLSv1.2 or TLSv1.3");
        cr_assert_null(ctx);
}

Test(tls, context_refcount_outlives_swap)
{
        const char *error;
        struct tls_ctx *a, *b;
        cr_assert_eq(tls_ctx_create(pool, cert, key, NULL, &a, &error), 0);
        cr_assert_eq(tls_ctx_create(pool, cert, key, "TLSv1.3", &b, &error), 0);
        struct conn_settings set = net_settings();
        mgr = conn_mgr_create(loop, &set);
        conn_mgr_set_tls(mgr, a);
        tls_ctx_unref(&a);
        int fds[2];
        net_socketpair(fds);
        struct conn *c;
        cr_assert_eq(conn_create(mgr, fds[0], true, &c, &error), 0);
        conn_mgr_set_tls(mgr, b);   /* the old context lives on in c */
        tls_ctx_unref(&b);
        cr_assert_eq(conn_mgr_get_tls(mgr) != NULL, true);
        cr_assert_neq((void *)c->tls, (void *)conn_mgr_get_tls(mgr));
        close(fds[1]);
}

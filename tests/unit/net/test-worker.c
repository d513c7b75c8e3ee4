/* Unit tests for core/worker.c: a forked master with two workers stops
   gracefully on SIGTERM; a single-process worker reloads its certificate on
   SIGHUP and keeps the old one when the new one is bad; per-IP limit. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "listen.h"
#include "log.h"
#include "net-test.h"
#include "pool.h"
#include "worker.h"

static struct pool *pool;
static pid_t child = -1;
static char dir[64];

static void setup(void)
{
        net_events_reset();
        pool = pool_create("test", 1024);
        strcpy(dir, "/tmp/cove-wrk-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
        if (child > 0) {
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
        }
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
        pool_destroy(&pool);
        net_events_free();
}

TestSuite(worker, .init = setup, .fini = teardown, .timeout = 60);

/* Highest descriptor number open in this process. */
static int highest_fd(void)
{
        int max = 2;
        DIR *d = opendir("/proc/self/fd");
        cr_assert_not_null(d);
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
                if (atoi(e->d_name) > max)
                        max = atoi(e->d_name);
        }
        closedir(d);
        return max;
}

static unsigned fd_headroom;   /* nonzero: the daemon gets only this many more fds */

/* Binds 127.0.0.1:0 here, forks worker_run() with set, returns the port. */
static unsigned start_daemon(struct worker_settings *set, bool tls)
{
        struct listen_set *ls = listen_set_create(pool);
        const char *error;
        cr_assert_eq(listen_set_add(ls, "127.0.0.1:0", tls, NULL, &error), 0, "%s", error);
        unsigned port = ls->items[0].port;
        child = fork();
        cr_assert_geq(child, 0);
        if (child == 0) {
                if (fd_headroom > 0) {
                        rlim_t n = (rlim_t)highest_fd() + 1 + fd_headroom;
                        struct rlimit rl = { .rlim_cur = n, .rlim_max = n };
                        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
                }
                int ret = worker_run(set, ls, &error);
                if (ret < 0)
                        fprintf(stderr, "worker_run: %s\n", error);
                listen_set_close(ls, true);
                pool_destroy(&pool);
                net_events_free();
                _exit(ret == 0 ? 0 : 1);
        }
        listen_set_close(ls, false);
        return port;
}

static int connect_local(unsigned port)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        struct timeval tv = { .tv_sec = 10 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return fd;
}

static void read_line(int fd, char *buf, size_t size)
{
        size_t n = 0;
        while (n + 1 < size && read(fd, buf + n, 1) == 1 && buf[n++] != '\n')
                ;
        buf[n] = '\0';
}

static int wait_exit(pid_t pid, double secs)
{
        int status;
        for (int i = 0; i < (int)(secs * 100); i++) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        child = -1;
                        return status;
                }
                usleep(10000);
        }
        cr_assert_fail("process %ld did not exit", (long)pid);
        return -1;
}

Test(worker, master_two_workers_graceful_sigterm)
{
        struct worker_settings set = {
                .name = "test",
                .workers = 2,
                .shutdown_secs = 10,
                .conn = net_settings(),
        };
        unsigned port = start_daemon(&set, false);
        int fds[3];
        char line[128];
        for (int i = 0; i < 3; i++) {
                fds[i] = connect_local(port);
                read_line(fds[i], line, sizeof(line));
                cr_assert_str_eq(line, "HELLO\r\n");
        }
        cr_assert_eq(write(fds[0], "PING\r\n", 6), 6);
        read_line(fds[0], line, sizeof(line));
        cr_assert_str_eq(line, "ECHO PING\r\n");
        cr_assert_eq(kill(child, SIGTERM), 0);
        for (int i = 0; i < 3; i++) {
                read_line(fds[i], line, sizeof(line));
                cr_assert_str_eq(line, "BYE shutdown\r\n");
                cr_assert_eq(read(fds[i], line, 1), 0, "connection %d not closed", i);
                close(fds[i]);
        }
        int status = wait_exit(child, 20.0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

Test(worker, per_ip_limit_refuses_extra_connection)
{
        struct worker_settings set = {
                .name = "test",
                .single_process = true,
                .max_connections_per_ip = 2,
                .limit_reply = "BUSY\r\n",
                .conn = net_settings(),
        };
        unsigned port = start_daemon(&set, false);
        char line[128];
        int a = connect_local(port), b = connect_local(port);
        read_line(a, line, sizeof(line));
        read_line(b, line, sizeof(line));
        cr_assert_str_eq(line, "HELLO\r\n");
        int c = connect_local(port);
        read_line(c, line, sizeof(line));
        cr_assert_str_eq(line, "BUSY\r\n");
        cr_assert_eq(read(c, line, 1), 0);
        close(c);
        close(a);
        /* A slot is free again once a connection is gone. */
        int d = -1;
        for (int i = 0; i < 100; i++) {
                d = connect_local(port);
                read_line(d, line, sizeof(line));
                if (strcmp(line, "HELLO\r\n") == 0)
                        break;
                close(d);
                usleep(20000);
        }
        cr_assert_str_eq(line, "HELLO\r\n");
        close(d);
        close(b);
        kill(child, SIGTERM);
        int status = wait_exit(child, 20.0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Connects with TLS and returns the SHA-256 of the server certificate. */
static void tls_fingerprint(unsigned port, unsigned char md[32])
{
        int fd = connect_local(port);
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        cr_assert_eq(SSL_connect(ssl), 1, "TLS handshake failed");
        char hello[8] = { 0 };
        cr_assert_eq(SSL_read(ssl, hello, 7), 7);
        cr_assert_str_eq(hello, "HELLO\r\n");
        X509 *x = SSL_get1_peer_certificate(ssl);
        unsigned len = 32;
        X509_digest(x, EVP_sha256(), md, &len);
        X509_free(x);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        close(fd);
}

Test(worker, sighup_reloads_cert_and_keeps_old_on_error)
{
        const char *cert, *key;
        net_make_cert(dir, &cert, &key);
        struct worker_settings set = {
                .name = "test",
                .single_process = true,
                .tls_cert = cert,
                .tls_key = key,
                .conn = net_settings(),
        };
        unsigned port = start_daemon(&set, true);
        unsigned char first[32], now[32];
        tls_fingerprint(port, first);
        /* A broken certificate: the reload fails and the old one stays. */
        FILE *f = fopen(cert, "w");
        fputs("garbage\n", f);
        fclose(f);
        kill(child, SIGHUP);
        usleep(200000);
        tls_fingerprint(port, now);
        cr_assert_eq(memcmp(first, now, 32), 0);
        /* A new valid certificate: new connections get it. */
        net_make_cert(dir, &cert, &key);
        kill(child, SIGHUP);
        bool changed = false;
        for (int i = 0; i < 100 && !changed; i++) {
                usleep(20000);
                tls_fingerprint(port, now);
                changed = memcmp(first, now, 32) != 0;
        }
        cr_assert(changed, "certificate not reloaded");
        kill(child, SIGTERM);
        int status = wait_exit(child, 20.0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(worker, bad_cert_stops_startup_with_one_line)
{
        struct listen_set *ls = listen_set_create(pool);
        const char *error;
        cr_assert_eq(listen_set_add(ls, "127.0.0.1:0", true, NULL, &error), 0);
        struct worker_settings set = {
                .single_process = true,
                .tls_cert = "/nonexistent/c.pem",
                .tls_key = "/nonexistent/k.pem",
                .conn = net_settings(),
        };
        cr_assert_eq(worker_run(&set, ls, &error), -1);
        cr_assert_str_eq(error, "tls cert /nonexistent/c.pem: No such file or directory");
        set.tls_cert = NULL;
        cr_assert_eq(worker_run(&set, ls, &error), -1);
        cr_assert(strstr(error, "implicit TLS needs [tls] cert and key") != NULL, "%s", error);
        listen_set_close(ls, false);
}

static int failing_init(struct worker *w, void *context, const char **error_r)
{
        *error_r = "store: cannot open /nonexistent";
        return -1;
}

Test(worker, init_failure_stops_master)
{
        struct worker_settings set = {
                .name = "test",
                .workers = 2,
                .init = failing_init,
                .conn = net_settings(),
        };
        start_daemon(&set, false);
        int status = wait_exit(child, 20.0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
}

static long worker_pid_of(int fd)
{
        char line[128];
        long pid = 0;
        cr_assert_eq(write(fd, "PID\r\n", 5), 5);
        read_line(fd, line, sizeof(line));
        cr_assert_eq(sscanf(line, "PID %ld", &pid), 1, "got '%s'", line);
        return pid;
}

Test(worker, master_restarts_a_dead_worker)
{
        struct worker_settings set = { .name = "test", .workers = 1, .conn = net_settings() };
        unsigned port = start_daemon(&set, false);
        char line[128];
        int fd = connect_local(port);
        read_line(fd, line, sizeof(line));
        cr_assert_str_eq(line, "HELLO\r\n");
        long first = worker_pid_of(fd);
        cr_assert_neq(first, (long)child);
        cr_assert_eq(kill((pid_t)first, SIGKILL), 0);
        cr_assert_eq(read(fd, line, 1), 0);   /* its connections die with it */
        close(fd);
        /* The master still holds the listener: the replacement serves this. */
        fd = connect_local(port);
        read_line(fd, line, sizeof(line));
        cr_assert_str_eq(line, "HELLO\r\n");
        long second = worker_pid_of(fd);
        cr_assert_neq(second, first);
        close(fd);
        kill(child, SIGTERM);
        int status = wait_exit(child, 20.0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(worker, out_of_descriptors_sheds_and_recovers)
{
        struct worker_settings set = {
                .name = "test",
                .single_process = true,
                .conn = net_settings(),
        };
        fd_headroom = 10;   /* libev's own descriptors, the spare, a few clients */
        unsigned port = start_daemon(&set, false);
        fd_headroom = 0;
        int fds[24];
        unsigned served = 0, shed = 0;
        char line[128];
        for (size_t i = 0; i < N_ELEMENTS(fds); i++) {
                fds[i] = connect_local(port);
                read_line(fds[i], line, sizeof(line));
                if (strcmp(line, "HELLO\r\n") == 0)
                        served++;
                else if (line[0] == '\0')
                        shed++;   /* accepted and closed at once */
        }
        cr_assert_gt(served, 0);
        cr_assert_gt(shed, 0);
        cr_assert_eq(served + shed, N_ELEMENTS(fds));
        for (size_t i = 0; i < N_ELEMENTS(fds); i++)
                close(fds[i]);
        /* Descriptors come back: new clients are served again. */
        bool ok = false;
        for (int i = 0; i < 100 && !ok; i++) {
                int fd = connect_local(port);
                read_line(fd, line, sizeof(line));
                ok = strcmp(line, "HELLO\r\n") == 0;
                close(fd);
                if (!ok)
                        usleep(20000);
        }
        cr_assert(ok);
        kill(child, SIGTERM);
        int status = wait_exit(child, 20.0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(worker, sigterm_closes_idle_now_and_busy_at_deadline)
{
        struct worker_settings set = {
                .name = "test",
                .single_process = true,
                .shutdown_secs = 3,
                .conn = net_settings(),
        };
        set.conn.vfuncs = &net_echo_plain_vfuncs;
        unsigned port = start_daemon(&set, false);
        char line[128];
        int idle = connect_local(port), busy = connect_local(port);
        read_line(idle, line, sizeof(line));
        read_line(busy, line, sizeof(line));
        cr_assert_str_eq(line, "HELLO\r\n");
        cr_assert_eq(write(busy, "HOLD\r\n", 6), 6);
        cr_assert_eq(write(busy, "PID\r\n", 5), 5);   /* never answered */
        usleep(100000);
        kill(child, SIGTERM);
        cr_assert_eq(read(idle, line, 1), 0, "idle connection not closed");
        struct pollfd pfd = { .fd = busy, .events = POLLIN };
        cr_assert_eq(poll(&pfd, 1, 0), 0, "the busy session must outlive the idle one");
        /* The busy one is cut at the 3 s deadline (the socket's 10 s receive
           timeout would fail this read otherwise). */
        cr_assert_eq(read(busy, line, 1), 0, "busy connection not closed");
        int status = wait_exit(child, 20.0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(idle);
        close(busy);
}

/* loadgen.c - POP3 load generator in C (one thread, epoll), so that the
 * client costs far less CPU than the servers it measures.
 *
 * Same workload and output as loadgen.py: N concurrent client loops for D
 * seconds; each session connects, sends USER/PASS (pipelined), STAT, UIDL,
 * RETRs every message one at a time, QUITs without deleting. Loop i uses
 * users i+1, i+1+N, ... so no two sessions want the same maildrop. Prints
 * one JSON line: sessions, sessions/s, MB/s of RETR payload (bytes of the
 * multi-line replies without the terminator), p50/p99 session latency.
 *
 *   cc -O2 -o loadgen loadgen.c
 *   ./loadgen --port 1110 --users 32 --concurrency 16 --seconds 10
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024)

enum step { S_GREETING, S_USER, S_PASS, S_STAT, S_UIDL_OK, S_UIDL, S_RETR_OK, S_RETR, S_QUIT };

struct client {
        int fd, index, turn, count, next_msg;
        enum step step;
        int match;              /* bytes of "\r\n.\r\n" matched so far */
        uint64_t got;           /* payload bytes this session */
        double start;
        size_t len;
        char buf[BUF_SIZE];
};

static struct {
        const char *host, *user_format, *password, *label;
        int port, users, concurrency;
        double seconds;
} opt = { "127.0.0.1", "u%04d@example.org", "pw", "", 0, 50, 32, 20 };

static double *lat;
static size_t nlat, caplat;
static uint64_t total_bytes, errors;
static char last_error[200];
static int epfd;

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int send_str(struct client *c, const char *s)
{
        size_t len = strlen(s);
        return write(c->fd, s, len) == (ssize_t)len ? 0 : -1;
}

static void start_session(struct client *c)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
        int one = 1;

        inet_pton(AF_INET, opt.host, &sa.sin_addr);
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        c->start = now();
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("connect");
                exit(1);
        }
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fcntl(c->fd, F_SETFL, O_NONBLOCK);
        c->step = S_GREETING;
        c->len = 0;
        c->got = 0;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void end_session(struct client *c, const char *error)
{
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        if (error != NULL) {
                errors++;
                snprintf(last_error, sizeof(last_error), "%s", error);
                for (char *q = last_error; *q != '\0'; q++) {
                        if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
                                *q = '?';   /* keeps the JSON line valid */
                }
                return;
        }
        if (nlat == caplat) {
                caplat = caplat ? caplat * 2 : 1024;
                lat = realloc(lat, caplat * sizeof(*lat));
        }
        lat[nlat++] = now() - c->start;
        total_bytes += c->got;
}

/* Consumes a multi-line reply's bytes; returns bytes used, sets *done. */
static size_t eat_multi(struct client *c, const char *p, size_t len, int *done)
{
        static const char term[] = "\r\n.\r\n";
        size_t i = 0;

        *done = 0;
        while (i < len) {
                if (c->match == 0) {
                        const char *cr = memchr(p + i, '\r', len - i);
                        if (cr == NULL) {
                                i = len;
                                break;
                        }
                        i = (size_t)(cr - p);
                }
                if (p[i] == term[c->match])
                        c->match++;
                else
                        c->match = p[i] == '\r' ? 1 : 0;
                i++;
                if (c->match == 5) {
                        *done = 1;
                        break;
                }
        }
        return i;
}

/* Sends the command that follows a completed reply; -1 on failure. */
static int next_command(struct client *c)
{
        char cmd[64];

        switch (c->step) {
        case S_GREETING:
                c->step = S_USER;
                snprintf(cmd, sizeof(cmd), opt.user_format,
                         c->index + 1 + c->turn * opt.concurrency);
                c->turn = (c->turn + 1) % ((opt.users - c->index - 1) / opt.concurrency + 1);
                char both[256];
                snprintf(both, sizeof(both), "USER %s\r\nPASS %s\r\n", cmd, opt.password);
                return send_str(c, both);
        case S_USER:
                c->step = S_PASS;
                return 0;
        case S_PASS:
                c->step = S_STAT;
                return send_str(c, "STAT\r\n");
        case S_STAT:
                c->step = S_UIDL_OK;
                return send_str(c, "UIDL\r\n");
        case S_UIDL_OK:
                c->step = S_UIDL;
                c->match = 2;   /* the +OK line's CRLF */
                return 0;
        case S_UIDL:
        case S_RETR:
                if (c->next_msg > c->count) {
                        c->step = S_QUIT;
                        return send_str(c, "QUIT\r\n");
                }
                c->step = S_RETR_OK;
                snprintf(cmd, sizeof(cmd), "RETR %d\r\n", c->next_msg++);
                return send_str(c, cmd);
        case S_RETR_OK:
                c->step = S_RETR;
                c->match = 2;
                return 0;
        case S_QUIT:
                return 0;
        }
        return -1;
}

/* Handles buffered input; returns 1 when the session ended. */
static int process(struct client *c)
{
        size_t pos = 0;

        while (pos < c->len) {
                if (c->step == S_UIDL || c->step == S_RETR) {
                        int done;
                        size_t used = eat_multi(c, c->buf + pos, c->len - pos, &done);
                        if (c->step == S_RETR)
                                c->got += used;
                        pos += used;
                        if (!done)
                                continue;
                        if (c->step == S_RETR)
                                c->got -= 3;
                        if (next_command(c) < 0)
                                return end_session(c, "write failed"), 1;
                        continue;
                }
                char *eol = memmem(c->buf + pos, c->len - pos, "\r\n", 2);
                if (eol == NULL)
                        break;
                if (strncmp(c->buf + pos, "+OK", 3) != 0) {
                        *eol = '\0';
                        end_session(c, c->buf + pos);
                        return 1;
                }
                if (c->step == S_STAT) {
                        c->count = atoi(c->buf + pos + 4);
                        c->next_msg = 1;
                }
                pos = (size_t)(eol - c->buf) + 2;
                if (c->step == S_QUIT) {
                        end_session(c, NULL);
                        return 1;
                }
                if (next_command(c) < 0)
                        return end_session(c, "write failed"), 1;
        }
        memmove(c->buf, c->buf + pos, c->len - pos);
        c->len -= pos;
        if (c->len == sizeof(c->buf))
                return end_session(c, "line too long"), 1;
        return 0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double pct(double p)
{
        size_t i = (size_t)(p * nlat);
        return nlat ? 1000 * lat[i < nlat ? i : nlat - 1] : 0;
}

static void parse_args(int argc, char **argv)
{
        for (int i = 1; i + 1 < argc; i += 2) {
                const char *k = argv[i], *v = argv[i + 1];
                if (!strcmp(k, "--host")) opt.host = v;
                else if (!strcmp(k, "--port")) opt.port = atoi(v);
                else if (!strcmp(k, "--users")) opt.users = atoi(v);
                else if (!strcmp(k, "--user-format")) opt.user_format = v;
                else if (!strcmp(k, "--password")) opt.password = v;
                else if (!strcmp(k, "--concurrency")) opt.concurrency = atoi(v);
                else if (!strcmp(k, "--seconds")) opt.seconds = atof(v);
                else if (!strcmp(k, "--label")) opt.label = v;
                else {
                        fprintf(stderr, "unknown option %s\n", k);
                        exit(2);
                }
        }
        if (opt.port == 0 || opt.concurrency < 1 || opt.users < opt.concurrency) {
                fprintf(stderr, "need --port, and --users >= --concurrency >= 1\n");
                exit(2);
        }
}

int main(int argc, char **argv)
{
        struct epoll_event evs[256];
        struct client *clients;
        double t0, deadline, elapsed;
        int active;

        parse_args(argc, argv);
        epfd = epoll_create1(0);
        clients = calloc((size_t)opt.concurrency, sizeof(*clients));
        t0 = now();
        deadline = t0 + opt.seconds;
        for (int i = 0; i < opt.concurrency; i++) {
                clients[i].index = i;
                start_session(&clients[i]);
        }
        active = opt.concurrency;
        while (active > 0) {
                int n = epoll_wait(epfd, evs, 256, 1000);
                for (int k = 0; k < n; k++) {
                        struct client *c = evs[k].data.ptr;
                        ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
                        if (r == 0 || (r < 0 && errno != EAGAIN)) {
                                end_session(c, "connection closed");
                        } else if (r < 0 || !process((c->len += (size_t)r, c))) {
                                continue;
                        }
                        /* The session ended: start the next one, or stop. */
                        if (now() < deadline)
                                start_session(c);
                        else
                                active--;
                }
        }
        elapsed = now() - t0;
        qsort(lat, nlat, sizeof(*lat), cmp_double);
        printf("{\"server\": \"%s\", \"client\": \"c\", \"concurrency\": %d, \"sessions\": %zu, "
               "\"sessions_per_s\": %.1f, \"mb_per_s\": %.2f, \"p50_ms\": %.1f, "
               "\"p99_ms\": %.1f, \"errors\": %llu, \"last_error\": %s%s%s}\n",
               opt.label, opt.concurrency, nlat, nlat / elapsed, total_bytes / elapsed / 1e6,
               pct(0.50), pct(0.99), (unsigned long long)errors,
               errors ? "\"" : "", errors ? last_error : "null", errors ? "\"" : "");
        free(clients);
        free(lat);
        return 0;
}

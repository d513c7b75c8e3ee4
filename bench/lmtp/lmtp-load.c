/* lmtp-load.c - LMTP load generator: N concurrent connections, one poll()
 * loop, deliver a size mix to random users and report durable messages/s,
 * MB/s and latency (the same load and output as lmtp-load.py, at a fraction
 * of its CPU, so that the generator is not what saturates first).
 *
 * Not installed; run.sh builds it. Not part of Cove: plain libc only.
 *
 * Usage: lmtp-load --port P [--users N] [--domain D] [--connections C]
 *                  [--seconds S] [--label L] [--json]
 *                  [--size BYTES --messages M]   (M messages of one size per
 *                                                 connection, for memory tests)
 * Size mix (by count): 60% 2 KB, 30% 20 KB, 9% 200 KB, 1% 5 MB; users are
 * user00000@D .. user{N-1}@D. A delivery counts when the server answered
 * 250 to the final dot; latency runs from MAIL FROM to that reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MIX_COUNT 4
static size_t mix_size[MIX_COUNT] = { 2048, 20480, 204800, 5 * 1024 * 1024 };
static unsigned mix_weight[MIX_COUNT] = { 60, 30, 9, 1 };

enum phase { GREETING, LHLO, ENVELOPE, BODY, RESET };

struct client {
        int fd;
        enum phase phase;
        unsigned want;            /* final reply lines still expected */
        bool failed;              /* a reply in this group was not the expected one */
        char in[8192];
        size_t in_len;
        char head[512];           /* the envelope commands */
        const char *out;          /* pending output */
        size_t out_len;
        size_t body;              /* index into the mix */
        double t0;
        uint64_t rnd;
        bool size_ext;
        unsigned sent;            /* messages begun */
};

struct opts {
        int port;
        unsigned users, connections;
        double seconds;
        const char *domain, *label;
        bool json;
        size_t size;              /* 0: the mix */
        unsigned messages;        /* per connection; 0: until --seconds */
};

static char *bodies[MIX_COUNT];
static size_t body_len[MIX_COUNT];
static double *lat;
static size_t lat_count, lat_cap;
static unsigned long long ok_count, err_count, ok_bytes;

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* A message of about size bytes, ending in the end-of-data line. Lines start
   with a-z, so no dot-stuffing is needed. */
static void make_body(size_t i, uint64_t *rnd)
{
        char head[256], line[78];
        int hl = snprintf(head, sizeof(head), "From: load@example.net\r\nSubject: load %llx\r\n"
                          "Message-ID: <%llx@bench>\r\n\r\n",
                          (unsigned long long)(next_rnd(rnd) & 0xffffffffffffULL),
                          (unsigned long long)next_rnd(rnd));
        for (int k = 0; k < 76; k++)
                line[k] = (char)('a' + next_rnd(rnd) % 26);
        line[76] = '\r';
        line[77] = '\n';
        size_t n = (mix_size[i] > (size_t)hl ? mix_size[i] - (size_t)hl : 0) / sizeof(line);
        char *b = malloc((size_t)hl + n * sizeof(line) + 3);
        memcpy(b, head, (size_t)hl);
        for (size_t k = 0; k < n; k++)
                memcpy(b + hl + k * sizeof(line), line, sizeof(line));
        memcpy(b + hl + n * sizeof(line), ".\r\n", 3);
        bodies[i] = b;
        body_len[i] = (size_t)hl + n * sizeof(line) + 3;
}

static void start_message(struct client *c, const struct opts *o)
{
        unsigned r = (unsigned)(next_rnd(&c->rnd) % 100), acc = 0;
        c->body = MIX_COUNT - 1;
        for (size_t i = 0; i < MIX_COUNT; i++) {
                acc += mix_weight[i];
                if (r < acc) {
                        c->body = i;
                        break;
                }
        }
        char size[40] = "";
        if (c->size_ext)
                snprintf(size, sizeof(size), " SIZE=%zu", body_len[c->body] - 3);
        int n = snprintf(c->head, sizeof(c->head),
                         "MAIL FROM:<load@example.net>%s\r\nRCPT TO:<user%05u@%s>\r\nDATA\r\n",
                         size, (unsigned)(next_rnd(&c->rnd) % o->users), o->domain);
        c->out = c->head;
        c->out_len = (size_t)n;
        c->phase = ENVELOPE;
        c->want = 3;
        c->failed = false;
        c->sent++;
        c->t0 = now();
}

static void record(struct client *c)
{
        if (c->failed) {
                err_count++;
                return;
        }
        ok_count++;
        ok_bytes += body_len[c->body] - 3;
        if (lat_count == lat_cap) {
                lat_cap = lat_cap ? lat_cap * 2 : 4096;
                lat = realloc(lat, lat_cap * sizeof(*lat));
        }
        lat[lat_count++] = now() - c->t0;
}

/* One final reply line arrived with code; advances the client. Returns false
   when the connection should end. */
static bool on_reply(struct client *c, int code, const struct opts *o, bool running)
{
        switch (c->phase) {
        case GREETING:
                c->out = "LHLO bench\r\n";
                c->out_len = strlen(c->out);
                c->phase = LHLO;
                return code == 220;
        case LHLO:
                if (code != 250 || !running)
                        return false;
                start_message(c, o);
                return true;
        case ENVELOPE:
                if (code != (c->want == 1 ? 354 : 250))
                        c->failed = true;
                if (--c->want > 0)
                        return true;
                if (c->failed) {
                        /* Refused: end any DATA with an empty message, reset. */
                        err_count++;
                        c->out = code == 354 ? ".\r\nRSET\r\n" : "RSET\r\n";
                        c->out_len = strlen(c->out);
                        c->want = code == 354 ? 2 : 1;
                        c->phase = RESET;
                        return true;
                }
                c->out = bodies[c->body];
                c->out_len = body_len[c->body];
                c->phase = BODY;
                c->want = 1;
                return true;
        case BODY:
        case RESET:
                if (c->phase == BODY) {
                        c->failed = code != 250;
                        record(c);
                } else if (--c->want > 0) {
                        return true;
                }
                if (!running || (o->messages != 0 && c->sent >= o->messages))
                        return false;
                start_message(c, o);
                return true;
        }
        return false;
}

/* Parses reply lines in c->in; remembers SIZE in LHLO's reply. */
static bool on_input(struct client *c, const struct opts *o, bool running)
{
        size_t start = 0;
        for (size_t i = 0; i + 1 < c->in_len; i++) {
                if (c->in[i] != '\r' || c->in[i + 1] != '\n')
                        continue;
                const char *line = c->in + start;
                size_t len = i - start;
                start = i + 2;
                if (len < 3)
                        return false;
                if (c->phase == LHLO && len >= 8 && strncmp(line + 4, "SIZE", 4) == 0)
                        c->size_ext = true;
                if (len > 3 && line[3] == '-')
                        continue;
                if (!on_reply(c, atoi(line), o, running))
                        return false;
        }
        memmove(c->in, c->in + start, c->in_len - start);
        c->in_len -= start;
        return true;
}

static int connect_one(int port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                perror("connect");
                exit(1);
        }
        return fd;
}

/* Reads and writes what poll reported; false when the client is done. */
static bool service(struct client *c, short revents, const struct opts *o, bool running)
{
        if (revents & POLLOUT) {
                ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN)
                        return false;
                if (n > 0) {
                        c->out += n;
                        c->out_len -= (size_t)n;
                }
        }
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
                if (n <= 0)
                        return n < 0 && errno == EAGAIN;
                c->in_len += (size_t)n;
                return on_input(c, o, running);
        }
        return true;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
        *o = (struct opts){ .port = 2424, .users = 10000, .connections = 16, .seconds = 20,
                            .domain = "example.org", .label = "" };
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(a, "--json") == 0) {
                        o->json = true;
                        continue;
                }
                if (v == NULL) {
                        fprintf(stderr, "lmtp-load: %s needs a value\n", a);
                        exit(64);
                }
                i++;
                if (strcmp(a, "--port") == 0) o->port = atoi(v);
                else if (strcmp(a, "--users") == 0) o->users = (unsigned)atoi(v);
                else if (strcmp(a, "--connections") == 0) o->connections = (unsigned)atoi(v);
                else if (strcmp(a, "--seconds") == 0) o->seconds = atof(v);
                else if (strcmp(a, "--domain") == 0) o->domain = v;
                else if (strcmp(a, "--label") == 0) o->label = v;
                else if (strcmp(a, "--size") == 0) o->size = (size_t)atol(v);
                else if (strcmp(a, "--messages") == 0) o->messages = (unsigned)atoi(v);
                else {
                        fprintf(stderr, "lmtp-load: unknown option %s\n", a);
                        exit(64);
                }
        }
        if (o->users == 0 || o->connections == 0) {
                fprintf(stderr, "lmtp-load: --users and --connections must be > 0\n");
                exit(64);
        }
}

static void report(const struct opts *o, double elapsed)
{
        if (lat_count > 0)
                qsort(lat, lat_count, sizeof(*lat), cmp_double);
        double p50 = lat_count ? lat[lat_count / 2] * 1000 : 0;
        size_t i99 = (size_t)((double)lat_count * 0.99);
        double p99 = lat_count ? lat[i99 < lat_count ? i99 : lat_count - 1] * 1000 : 0;
        double rate = (double)ok_count / elapsed, mbs = (double)ok_bytes / elapsed / 1e6;
        if (o->json)
                printf("{\"label\": \"%s\", \"connections\": %u, \"seconds\": %.2f, "
                       "\"messages\": %llu, \"errors\": %llu, \"msg_per_s\": %.1f, "
                       "\"mb_per_s\": %.2f, \"p50_ms\": %.1f, \"p99_ms\": %.1f}\n",
                       o->label, o->connections, elapsed, ok_count, err_count, rate, mbs,
                       p50, p99);
        else
                printf("%8s conns=%-3u msgs=%-6llu err=%-3llu %8.1f msg/s %7.2f MB/s "
                       "p50=%.1f ms p99=%.1f ms\n", o->label, o->connections, ok_count,
                       err_count, rate, mbs, p50, p99);
}

int main(int argc, char **argv)
{
        struct opts o;
        parse_args(argc, argv, &o);
        if (o.size != 0) {   /* one size for every message */
                for (size_t i = 0; i < MIX_COUNT; i++)
                        mix_size[i] = o.size;
        }
        if (o.messages != 0)
                o.seconds = 1e9;
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i < MIX_COUNT; i++)
                make_body(i, &seed);
        struct client *cl = calloc(o.connections, sizeof(*cl));
        struct pollfd *pf = calloc(o.connections, sizeof(*pf));
        for (unsigned i = 0; i < o.connections; i++) {
                cl[i] = (struct client){ .fd = connect_one(o.port), .phase = GREETING,
                                         .want = 1, .rnd = 0x2545f4914f6cdd1dULL * (i + 2) };
        }
        double start = now(), deadline = start + o.seconds;
        unsigned live = o.connections;
        while (live > 0) {
                bool running = now() < deadline;
                for (unsigned i = 0; i < o.connections; i++) {
                        pf[i].fd = cl[i].fd;
                        pf[i].events = cl[i].fd < 0 ? 0 : POLLIN | (cl[i].out_len ? POLLOUT : 0);
                }
                if (poll(pf, o.connections, 100) < 0 && errno != EINTR) {
                        perror("poll");
                        return 1;
                }
                for (unsigned i = 0; i < o.connections; i++) {
                        if (cl[i].fd < 0 || pf[i].revents == 0)
                                continue;
                        if (!service(&cl[i], pf[i].revents, &o, running)) {
                                close(cl[i].fd);
                                cl[i].fd = -1;
                                live--;
                        }
                }
        }
        report(&o, now() - start);
        return 0;
}

/* imap-load.c - IMAP load generator for bench/imap (libev, one process).
 *
 * Owns: N concurrent raw-protocol IMAP clients with a mixed profile (LOGIN,
 * SELECT, FETCH headers, FETCH bodies, STORE, APPEND, SEARCH, EXPUNGE,
 * LOGOUT) and an IDLE mode that parks N logged-in clients in IDLE; per
 * command rates and p50/p99 latency as one JSON line; its own CPU use.
 * Does not: verify response contents (only tagged OK/NO/BAD), use TLS.
 *
 *   imap-load --port P --users U --clients C --seconds S [--warmup W]
 *   imap-load --port P --users U --clients C --idle --hold S
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum op {
        OP_LOGIN, OP_SELECT, OP_FETCH_HDR, OP_FETCH_BODY, OP_STORE, OP_SEARCH,
        OP_APPEND, OP_EXPUNGE, OP_LOGOUT, OP_IDLE, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
        "LOGIN", "SELECT", "FETCH_HDR", "FETCH_BODY", "STORE", "SEARCH",
        "APPEND", "EXPUNGE", "LOGOUT", "IDLE",
};
/* Mixed profile weights (per command after SELECT). EXPUNGE is preceded by a
   STORE +FLAGS.SILENT (\Deleted) of one of the session's own appends, so the
   mailbox size stays steady. */
static const unsigned op_weight[OP_COUNT] = {
        [OP_FETCH_HDR] = 30, [OP_FETCH_BODY] = 20, [OP_STORE] = 20,
        [OP_SEARCH] = 10, [OP_APPEND] = 10, [OP_EXPUNGE] = 10,
};

struct lat {
        float *v;
        size_t n, cap;
        unsigned long errors;
};

struct client {
        ev_io io;
        ev_timer retry;
        int fd, id;
        bool connected, want_write, greeted, deleting, in_idle, setting_up;
        unsigned gen;              /* bumped on every close */
        char *in;
        size_t in_len, in_cap, skip;
        bool cont;                 /* next line continues a response after a literal */
        char out[8192];
        size_t out_len, out_off;
        enum op cur;
        unsigned tag, ops_left, exists, base_exists, own_appends;
        double t_sent;
};

static struct {
        const char *host, *user_fmt, *password, *label;
        int port, users, clients, ops_per_session, ramp;
        double seconds, warmup, hold;
        bool idle;
        uint64_t seed;
} opt = {
        .host = "127.0.0.1", .user_fmt = "u%04d@example.org", .password = "pw",
        .label = "imap", .users = 50, .clients = 16, .ops_per_session = 20,
        .ramp = 64, .seconds = 10, .warmup = 2, .hold = 5, .seed = 1,
};

static struct ev_loop *loop;
static struct client *clients;
static struct lat lat[OP_COUNT];
static double t_measure, t_end, t_ready;
static bool measuring, stopping;
static unsigned long idling, setting_up, conn_errors, closed_by_peer;
static unsigned long long bytes_in;
static char append_msg[8192];
static size_t append_len;

static double now(void)
{
        return ev_now(loop);
}

static uint64_t rnd_state;
static uint32_t rnd(uint32_t n)
{
        rnd_state ^= rnd_state << 13;
        rnd_state ^= rnd_state >> 7;
        rnd_state ^= rnd_state << 17;
        return n ? (uint32_t)(rnd_state % n) : 0;
}

static void lat_add(enum op op, double ms, bool ok)
{
        struct lat *l = &lat[op];
        if (!measuring)
                return;
        if (!ok)
                l->errors++;
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 4096;
                l->v = realloc(l->v, l->cap * sizeof(*l->v));
                if (!l->v)
                        abort();
        }
        l->v[l->n++] = (float)ms;
}

static void client_start(struct client *c);
static void client_next(struct client *c);

static void client_close(struct client *c, bool retry)
{
        if (c->fd >= 0) {
                ev_io_stop(loop, &c->io);
                close(c->fd);
                c->fd = -1;
        }
        if (c->in_idle)
                idling--;
        if (c->setting_up)
                setting_up--;
        c->gen++;
        c->connected = c->greeted = c->in_idle = c->deleting = c->setting_up = false;
        c->in_len = c->skip = 0;
        c->cont = false;
        c->out_len = c->out_off = 0;
        if (retry && !stopping) {
                ev_timer_set(&c->retry, 0.05 + rnd(100) / 1000.0, 0);
                ev_timer_start(loop, &c->retry);
        }
}

static void client_flush(struct client *c)
{
        while (c->out_off < c->out_len) {
                ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                if (n < 0) {
                        if (errno == EAGAIN)
                                break;
                        conn_errors++;
                        client_close(c, true);
                        return;
                }
                c->out_off += (size_t)n;
        }
        bool want = c->out_off < c->out_len;
        if (want != c->want_write) {
                c->want_write = want;
                ev_io_stop(loop, &c->io);
                ev_io_set(&c->io, c->fd, EV_READ | (want ? EV_WRITE : 0));
                ev_io_start(loop, &c->io);
        }
        if (!want)
                c->out_len = c->out_off = 0;
}

static void client_send(struct client *c, enum op op, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void client_send(struct client *c, enum op op, const char *fmt, ...)
{
        va_list ap;
        c->tag++;
        int n = snprintf(c->out + c->out_len, sizeof(c->out) - c->out_len, "T%u ", c->tag);
        va_start(ap, fmt);
        n += vsnprintf(c->out + c->out_len + n, sizeof(c->out) - c->out_len - n, fmt, ap);
        va_end(ap);
        c->out_len += (size_t)n;
        c->cur = op;
        c->t_sent = now();
        client_flush(c);
}

static enum op pick_op(struct client *c)
{
        unsigned total = 0;
        for (int i = 0; i < OP_COUNT; i++)
                total += op_weight[i];
        for (;;) {
                unsigned r = rnd(total);
                int i = 0;
                while (r >= op_weight[i])
                        r -= op_weight[i++];
                if (i == OP_EXPUNGE && c->exists <= c->base_exists)
                        continue;   /* nothing of our own to expunge yet */
                return (enum op)i;
        }
}

static void send_op(struct client *c, enum op op)
{
        unsigned n = c->exists ? c->exists : 1;
        unsigned seq = 1 + rnd(n);
        switch (op) {
        case OP_FETCH_HDR: {
                unsigned from = seq > 20 ? seq - 19 : 1;
                client_send(c, op, "FETCH %u:%u (UID FLAGS RFC822.SIZE INTERNALDATE "
                            "BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT DATE "
                            "MESSAGE-ID)])\r\n", from, seq);
                break;
        }
        case OP_FETCH_BODY:
                client_send(c, op, "FETCH %u (UID BODY.PEEK[])\r\n", seq);
                break;
        case OP_STORE:
                client_send(c, op, "STORE %u %cFLAGS (\\Seen)\r\n", seq, rnd(2) ? '+' : '-');
                break;
        case OP_SEARCH:
                if (rnd(2))
                        client_send(c, op, "UID SEARCH UNSEEN\r\n");
                else
                        client_send(c, op, "UID SEARCH FROM \"sender%u\"\r\n", rnd(1000));
                break;
        case OP_APPEND:
                client_send(c, op, "APPEND INBOX (\\Seen) {%zu+}\r\n%s\r\n", append_len,
                            append_msg);
                break;
        case OP_EXPUNGE:
                /* Our appends are the highest sequence numbers. */
                c->deleting = true;
                client_send(c, OP_STORE, "STORE %u +FLAGS.SILENT (\\Deleted)\r\n", c->exists);
                break;
        default:
                abort();
        }
}

static void client_next(struct client *c)
{
        if (stopping) {
                client_close(c, false);
                return;
        }
        if (c->ops_left == 0) {
                client_send(c, OP_LOGOUT, "LOGOUT\r\n");
                return;
        }
        c->ops_left--;
        send_op(c, pick_op(c));
}

/* A tagged completion of c->cur. */
static void client_done(struct client *c, bool ok)
{
        lat_add(c->cur, (now() - c->t_sent) * 1000.0, ok);
        switch (c->cur) {
        case OP_LOGIN:
                if (!ok) {
                        conn_errors++;
                        client_close(c, true);
                        return;
                }
                client_send(c, OP_SELECT, "SELECT INBOX\r\n");
                return;
        case OP_SELECT:
                if (!ok) {
                        client_close(c, true);
                        return;
                }
                if (opt.idle) {
                        client_send(c, OP_IDLE, "IDLE\r\n");
                        return;
                }
                if (c->base_exists == 0 || c->exists < c->base_exists)
                        c->base_exists = c->exists;
                c->ops_left = (unsigned)opt.ops_per_session;
                break;
        case OP_STORE:
                if (c->deleting) {
                        c->deleting = false;
                        client_send(c, OP_EXPUNGE, "EXPUNGE\r\n");
                        return;
                }
                break;
        case OP_LOGOUT:
                client_close(c, false);
                client_start(c);
                return;
        default:
                break;
        }
        client_next(c);
}

static void on_greeting(struct client *c)
{
        c->greeted = true;
        int user = c->id % opt.users + 1;
        char name[256];
        snprintf(name, sizeof(name), opt.user_fmt, user);
        client_send(c, OP_LOGIN, "LOGIN %s %s\r\n", name, opt.password);
}

static void on_idling(struct client *c)
{
        c->in_idle = true;
        idling++;
        c->setting_up = false;
        setting_up--;
        lat_add(OP_IDLE, (now() - c->t_sent) * 1000.0, true);
        if (idling == (unsigned long)opt.clients) {
                t_ready = now();
                printf("ready %lu\n", idling);
                fflush(stdout);
        }
}

/* One complete line (without CRLF). Returns false if c was closed. */
static bool handle_line(struct client *c, const char *line, size_t len)
{
        unsigned gen = c->gen;
        bool cont = c->cont;
        c->cont = false;
        if (len > 2 && line[len - 1] == '}') {
                const char *b = memrchr(line, '{', len);
                if (b) {
                        c->skip = strtoull(b + 1, NULL, 10);
                        c->cont = true;
                }
        }
        if (cont)
                return true;
        if (!c->greeted) {
                if (len >= 4 && memcmp(line, "* OK", 4) == 0) {
                        on_greeting(c);
                        return c->gen == gen;
                }
                conn_errors++;
                client_close(c, true);
                return false;
        }
        if (line[0] == '*') {
                char *end;
                unsigned long n = strtoul(line + 2, &end, 10);
                if (end != line + 2 && *end == ' ') {
                        if (strncmp(end, " EXISTS", 7) == 0)
                                c->exists = (unsigned)n;
                        else if (strncmp(end, " EXPUNGE", 8) == 0 && c->exists)
                                c->exists--;
                }
                if (len >= 5 && memcmp(line, "* BYE", 5) == 0 && c->cur != OP_LOGOUT) {
                        closed_by_peer++;
                        client_close(c, true);
                        return false;
                }
                return true;
        }
        if (line[0] == '+') {
                if (c->cur == OP_IDLE && !c->in_idle)
                        on_idling(c);
                return true;
        }
        if (line[0] == 'T') {
                char *end;
                unsigned long t = strtoul(line + 1, &end, 10);
                if (t == c->tag && *end == ' ') {
                        client_done(c, strncmp(end + 1, "OK", 2) == 0);
                        return c->gen == gen;
                }
        }
        return true;
}

static void client_read(struct client *c)
{
        size_t minfree = opt.idle ? 1024 : 16384;
        for (;;) {
                if (c->in_cap - c->in_len < minfree) {
                        c->in_cap = c->in_cap ? c->in_cap * 2 : minfree * 2;
                        c->in = realloc(c->in, c->in_cap);
                        if (!c->in)
                                abort();
                }
                ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                        if (c->cur != OP_LOGOUT)
                                closed_by_peer++;
                        bool was_logout = c->cur == OP_LOGOUT && c->greeted;
                        client_close(c, !was_logout);
                        if (was_logout)
                                client_start(c);
                        return;
                }
                if (n < 0)
                        break;
                bytes_in += (unsigned long long)n;
                c->in_len += (size_t)n;
                size_t pos = 0;
                while (pos < c->in_len) {
                        if (c->skip) {
                                size_t k = c->in_len - pos < c->skip ? c->in_len - pos : c->skip;
                                pos += k;
                                c->skip -= k;
                                continue;
                        }
                        char *nl = memchr(c->in + pos, '\n', c->in_len - pos);
                        if (!nl)
                                break;
                        size_t len = (size_t)(nl - (c->in + pos));
                        if (len && c->in[pos + len - 1] == '\r')
                                len--;
                        size_t next = (size_t)(nl - c->in) + 1;
                        if (!handle_line(c, c->in + pos, len))
                                return;
                        pos = next;
                }
                memmove(c->in, c->in + pos, c->in_len - pos);
                c->in_len -= pos;
                if ((size_t)n < minfree)
                        break;
        }
        /* Keep idle clients small: drop a large buffer once empty. */
        if (c->in_len == 0 && c->in_cap > minfree * 2) {
                free(c->in);
                c->in = NULL;
                c->in_cap = 0;
        }
}

static void on_io(struct ev_loop *l, ev_io *w, int revents)
{
        (void)l;
        struct client *c = (struct client *)w;
        if (!c->connected && (revents & EV_WRITE)) {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                        conn_errors++;
                        client_close(c, true);
                        return;
                }
                c->connected = true;
                c->want_write = true;
                client_flush(c);
                if (c->fd < 0)
                        return;
        }
        if (revents & EV_WRITE)
                client_flush(c);
        if (c->fd >= 0 && (revents & EV_READ))
                client_read(c);
}

static void client_start(struct client *c)
{
        if (stopping)
                return;
        if (opt.idle && setting_up >= (unsigned long)opt.ramp) {
                ev_timer_set(&c->retry, 0.02 + rnd(50) / 1000.0, 0);
                ev_timer_start(loop, &c->retry);
                return;
        }
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
        inet_pton(AF_INET, opt.host, &sa.sin_addr);
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                conn_errors++;
                ev_timer_set(&c->retry, 0.1, 0);
                ev_timer_start(loop, &c->retry);
                return;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (opt.idle) {
                int small = 4096;   /* keep the client's own kernel memory modest */
                setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        }
        setting_up++;
        c->setting_up = true;
        c->tag = 0;
        c->exists = 0;
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                conn_errors++;
                client_close(c, true);
                return;
        }
        c->want_write = true;
        ev_io_init(&c->io, on_io, c->fd, EV_READ | EV_WRITE);
        ev_io_start(loop, &c->io);
}

static void on_retry(struct ev_loop *l, ev_timer *w, int revents)
{
        (void)l;
        (void)revents;
        struct client *c = (struct client *)((char *)w - offsetof(struct client, retry));
        if (c->fd < 0)
                client_start(c);
}

static int cmp_float(const void *a, const void *b)
{
        float x = *(const float *)a, y = *(const float *)b;
        return (x > y) - (x < y);
}

static double pct(struct lat *l, double p)
{
        if (l->n == 0)
                return 0;
        size_t i = (size_t)(p * (double)(l->n - 1) + 0.5);
        return l->v[i];
}

static void report(double elapsed)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                     ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        unsigned long total = 0;
        printf("{\"label\": \"%s\", \"mode\": \"%s\", \"clients\": %d, \"seconds\": %.2f, "
               "\"ops\": {", opt.label, opt.idle ? "idle" : "mixed", opt.clients, elapsed);
        bool first = true;
        for (int i = 0; i < OP_COUNT; i++) {
                struct lat *l = &lat[i];
                if (l->n == 0)
                        continue;
                qsort(l->v, l->n, sizeof(*l->v), cmp_float);
                total += l->n;
                printf("%s\"%s\": {\"count\": %zu, \"per_s\": %.1f, \"p50_ms\": %.2f, "
                       "\"p99_ms\": %.2f, \"errors\": %lu}", first ? "" : ", ", op_names[i],
                       l->n, l->n / elapsed, pct(l, 0.50), pct(l, 0.99), l->errors);
                first = false;
        }
        printf("}, \"total_per_s\": %.1f, \"mb_in\": %.1f, \"client_cpu_s\": %.2f, "
               "\"client_cpu_pct\": %.1f, \"idling\": %lu, \"conn_errors\": %lu, "
               "\"closed_by_peer\": %lu, \"setup_s\": %.2f}\n", total / elapsed, bytes_in / 1e6, cpu,
               100.0 * cpu / (now() - t_measure + opt.warmup + 1e-9), idling, conn_errors,
               closed_by_peer, t_ready ? t_ready - t_measure : 0.0);
        fflush(stdout);
}

static void on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
        (void)revents;
        double t = now();
        if (!measuring && t >= t_measure && !opt.idle) {
                measuring = true;
                bytes_in = 0;
        }
        if (t >= t_end) {
                stopping = true;
                measuring = false;
                ev_timer_stop(l, w);
                report(opt.idle ? opt.hold : opt.seconds);
                for (int i = 0; i < opt.clients; i++) {
                        ev_timer_stop(l, &clients[i].retry);
                        client_close(&clients[i], false);
                }
                ev_break(l, EVBREAK_ALL);
        }
}

static void on_stdin(struct ev_loop *l, ev_io *w, int revents)
{
        (void)revents;
        char buf[64];
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n <= 0) {
                ev_io_stop(l, w);
                t_end = now();   /* the driver closed our stdin: finish now */
        }
}

static void usage(void)
{
        fprintf(stderr, "usage: imap-load --port P [--host H] [--users U] [--clients C]\n"
                "  [--seconds S] [--warmup W] [--ops-per-session N] [--user-fmt FMT]\n"
                "  [--password PW] [--label L] [--seed N]\n"
                "  [--idle --hold S --ramp K --setup-timeout S]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        double setup_timeout = 300;
        static const struct option lopts[] = {
                { "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "users", 1, 0, 'u' },
                { "clients", 1, 0, 'c' }, { "seconds", 1, 0, 's' }, { "warmup", 1, 0, 'w' },
                { "ops-per-session", 1, 0, 'o' }, { "user-fmt", 1, 0, 'f' },
                { "password", 1, 0, 'P' }, { "label", 1, 0, 'l' }, { "seed", 1, 0, 'S' },
                { "idle", 0, 0, 'i' }, { "hold", 1, 0, 'H' }, { "ramp", 1, 0, 'r' },
                { "setup-timeout", 1, 0, 'T' }, { 0, 0, 0, 0 },
        };
        int ch;
        while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
                switch (ch) {
                case 'h': opt.host = optarg; break;
                case 'p': opt.port = atoi(optarg); break;
                case 'u': opt.users = atoi(optarg); break;
                case 'c': opt.clients = atoi(optarg); break;
                case 's': opt.seconds = atof(optarg); break;
                case 'w': opt.warmup = atof(optarg); break;
                case 'o': opt.ops_per_session = atoi(optarg); break;
                case 'f': opt.user_fmt = optarg; break;
                case 'P': opt.password = optarg; break;
                case 'l': opt.label = optarg; break;
                case 'S': opt.seed = strtoull(optarg, NULL, 10); break;
                case 'i': opt.idle = true; break;
                case 'H': opt.hold = atof(optarg); break;
                case 'r': opt.ramp = atoi(optarg); break;
                case 'T': setup_timeout = atof(optarg); break;
                default: usage();
                }
        }
        if (opt.port <= 0 || opt.users <= 0 || opt.clients <= 0)
                usage();
        rnd_state = opt.seed * 0x9E3779B97F4A7C15ull + 1;
        /* A 4 KB plain-text message for APPEND (CRLF lines). */
        append_len = (size_t)snprintf(append_msg, sizeof(append_msg),
                                      "From: appender@example.net\r\nTo: user@example.org\r\n"
                                      "Subject: appended\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000"
                                      "\r\n\r\n");
        while (append_len < 4000) {
                memcpy(append_msg + append_len, "The quick brown fox jumps over the lazy dog."
                       " 0123456789\r\n", 57);
                append_len += 57;
        }
        append_msg[append_len] = '\0';
        signal(SIGPIPE, SIG_IGN);
        loop = ev_default_loop(EVFLAG_AUTO);
        clients = calloc((size_t)opt.clients, sizeof(*clients));
        for (int i = 0; i < opt.clients; i++) {
                clients[i].id = i;
                clients[i].fd = -1;
                ev_timer_init(&clients[i].retry, on_retry, 0, 0);
                client_start(&clients[i]);
        }
        ev_timer tick;
        ev_io in;
        double t0 = ev_now(loop);
        if (opt.idle) {
                /* Measure setup; t_end is pushed out once everyone idles. */
                measuring = true;
                t_measure = t0;
                t_end = t0 + setup_timeout + opt.hold;
                ev_io_init(&in, on_stdin, 0, EV_READ);
                ev_io_start(loop, &in);
        } else {
                t_measure = t0 + opt.warmup;
                t_end = t_measure + opt.seconds;
        }
        ev_timer_init(&tick, on_tick, 0.05, 0.05);
        ev_timer_start(loop, &tick);
        ev_run(loop, 0);
        return 0;
}

/* worker.c - the master process and the libev worker processes (see worker.h).
 *
 * Owns: start-up order (TLS, privilege drop, fork), supervision and restart
 * back-off, signal handling, accept with the EMFILE spare fd and per-IP
 * limit, graceful shutdown. Does not: bind (listen.c), manage connection
 * buffers (conn.c) or speak any protocol.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "pool.h"
#include "privdrop.h"
#include "tls.h"

/* Connections taken per wake-up. Every worker shares the listening socket and
   is woken together; taking one at a time lets the others take the rest of
   a burst, so a burst of clients spreads over all cores instead of piling
   onto the first worker awake (measured: bench/imap, 3x commands/s with 32
   clients on 2 workers). Level-triggered watchers call back at once while
   more connections wait. */
#define WORKER_ACCEPT_BATCH 1
#define WORKER_IP_BUCKETS 1024
#define WORKER_DEFAULT_SHUTDOWN 30
#define WORKER_MAX_PROCESSES 256
#define MASTER_STABLE_SECS 10.0   /* a worker up this long resets its back-off */
#define MASTER_MAX_BACKOFF 60.0

struct ip_entry {
        struct ip_entry *next;
        unsigned count;
        char ip[];
};

struct worker_accept {
        ev_io io;
        struct worker *worker;
        const struct listener *listener;
};

struct worker {
        const struct worker_settings *set;
        struct listen_set *listeners;
        unsigned index;
        struct ev_loop *loop;
        struct conn_mgr *mgr;
        struct worker_accept *accepts;
        ev_signal sig_term, sig_int, sig_hup;
        ev_timer deadline;
        int spare_fd;
        ev_tstamp last_shed_log;
        bool stopping;
        struct ip_entry **ips;
};

struct ev_loop *worker_loop(const struct worker *w) { return w->loop; }
struct conn_mgr *worker_conn_mgr(const struct worker *w) { return w->mgr; }
unsigned worker_index(const struct worker *w) { return w->index; }
bool worker_is_stopping(const struct worker *w) { return w->stopping; }

/* ---- per-IP connection counts (this worker's connections only) ---- */

static unsigned ip_hash(const char *ip)
{
        unsigned h = 5381;
        for (; *ip != '\0'; ip++)
                h = h * 33 + (unsigned char)*ip;
        return h % WORKER_IP_BUCKETS;
}

static struct ip_entry **ip_find(struct worker *w, const char *ip)
{
        struct ip_entry **ep = &w->ips[ip_hash(ip)];
        while (*ep != NULL && strcmp((*ep)->ip, ip) != 0)
                ep = &(*ep)->next;
        return ep;
}

/* Counts the connection; false when that puts the address over the limit. */
static bool ip_enter(struct worker *w, const struct conn *c)
{
        if (strcmp(c->peer_ip, "unix") == 0)
                return true;
        struct ip_entry **ep = ip_find(w, c->peer_ip);
        if (*ep == NULL) {
                size_t len = strlen(c->peer_ip) + 1;
                *ep = xcalloc(1, sizeof(**ep) + len);
                memcpy((*ep)->ip, c->peer_ip, len);
        }
        (*ep)->count++;
        unsigned max = w->set->max_connections_per_ip;
        return max == 0 || (*ep)->count <= max;
}

static void ip_leave(struct worker *w, const struct conn *c)
{
        if (strcmp(c->peer_ip, "unix") == 0)
                return;
        struct ip_entry **ep = ip_find(w, c->peer_ip);
        if (*ep == NULL)
                return;
        if (--(*ep)->count == 0) {
                struct ip_entry *e = *ep;
                *ep = e->next;
                free(e);
        }
}

/* ---- accepting ---- */

static void worker_conn_freed(struct conn *c, void *context)
{
        struct worker *w = context;
        ip_leave(w, c);
        if (w->stopping && conn_mgr_count(w->mgr) == 0)
                ev_break(w->loop, EVBREAK_ALL);
}

static void worker_new_conn(struct worker *w, const struct listener *l, int fd)
{
        struct conn *c;
        const char *error;
        if (conn_create(w->mgr, fd, l->tls, &c, &error) < 0) {
                log_error("listen %s: %s", l->addr.text, error);
                return;
        }
        log_debug("session=%s accepted peer=%s port=%u listener=%s%s", c->id, c->peer_ip,
                  c->peer_port, l->addr.text, l->tls ? " tls" : "");
        if (!ip_enter(w, c)) {
                log_info("session=%s peer=%s refused: more than %u connections from this "
                         "address", c->id, c->peer_ip, w->set->max_connections_per_ip);
                if (!l->tls && w->set->limit_reply != NULL)
                        conn_write_str(c, w->set->limit_reply);
                conn_close_after_flush(c, "per-IP connection limit");
        }
}

/* Out of descriptors: free the spare, accept and drop one connection so the
   listener does not stay readable and spin, then take the spare back. */
static void worker_shed(struct worker *w, const struct listener *l)
{
        if (w->spare_fd >= 0) {
                close(w->spare_fd);
                w->spare_fd = -1;
        }
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
                close(fd);
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (ev_now(w->loop) - w->last_shed_log >= 1.0) {
                w->last_shed_log = ev_now(w->loop);
                log_warn("listen %s: out of file descriptors, dropping new connections",
                         l->addr.text);
        }
}

static void worker_accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
        struct worker_accept *a = container_of(io, struct worker_accept, io);
        struct worker *w = a->worker;
        for (unsigned i = 0; i < WORKER_ACCEPT_BATCH && !w->stopping; i++) {
                int fd = accept4(a->listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd >= 0) {
                        worker_new_conn(w, a->listener, fd);
                        continue;
                }
                if (errno == EINTR || errno == ECONNABORTED)
                        continue;
                if (errno == EMFILE || errno == ENFILE)
                        worker_shed(w, a->listener);
                else if (errno != EAGAIN && errno != EWOULDBLOCK)
                        log_error_errno("listen %s: accept", a->listener->addr.text);
                return;
        }
}

/* ---- signals and shutdown ---- */

static void worker_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
        struct worker *w = container_of(t, struct worker, deadline);
        log_info("shutdown deadline reached: closing %u connections", conn_mgr_count(w->mgr));
        conn_mgr_close_all(w->mgr, "shutdown");
}

static void worker_stop(struct worker *w)
{
        if (w->stopping)
                return;
        w->stopping = true;
        log_info("worker %u stopping: %u connections", w->index, conn_mgr_count(w->mgr));
        for (size_t i = 0; i < w->listeners->count; i++)
                ev_io_stop(w->loop, &w->accepts[i].io);
        conn_mgr_shutdown(w->mgr);
        if (conn_mgr_count(w->mgr) == 0) {
                ev_break(w->loop, EVBREAK_ALL);
                return;
        }
        unsigned secs = w->set->shutdown_secs > 0 ? w->set->shutdown_secs
                                                  : WORKER_DEFAULT_SHUTDOWN;
        ev_timer_init(&w->deadline, worker_deadline_cb, (ev_tstamp)secs, 0.);
        ev_timer_start(w->loop, &w->deadline);
}

static void worker_tls_reload(struct worker *w)
{
        const struct worker_settings *set = w->set;
        if (set->tls_cert == NULL) {
                log_info("SIGHUP: no TLS certificate configured, nothing to reload");
                return;
        }
        struct pool *pool = pool_create("tls reload", 512);
        struct tls_ctx *ctx;
        const char *error;
        if (tls_ctx_create(pool, set->tls_cert, set->tls_key, set->tls_min_version, &ctx,
                           &error) < 0) {
                log_error("TLS reload failed, keeping the previous certificate: %s", error);
        } else {
                conn_mgr_set_tls(w->mgr, ctx);
                tls_ctx_unref(&ctx);
                log_info("worker %u: TLS certificate reloaded from %s", w->index,
                         set->tls_cert);
        }
        pool_destroy(&pool);
}

static void worker_signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
        struct worker *w = s->data;
        if (s->signum == SIGHUP)
                worker_tls_reload(w);
        else
                worker_stop(w);
}

static void worker_start_watchers(struct worker *w)
{
        w->accepts = xcalloc(w->listeners->count + 1, sizeof(*w->accepts));
        for (size_t i = 0; i < w->listeners->count; i++) {
                struct worker_accept *a = &w->accepts[i];
                a->worker = w;
                a->listener = &w->listeners->items[i];
                ev_io_init(&a->io, worker_accept_cb, a->listener->fd, EV_READ);
                ev_io_start(w->loop, &a->io);
        }
        ev_signal *sigs[] = { &w->sig_term, &w->sig_int, &w->sig_hup };
        int nums[] = { SIGTERM, SIGINT, SIGHUP };
        for (size_t i = 0; i < N_ELEMENTS(sigs); i++) {
                ev_signal_init(sigs[i], worker_signal_cb, nums[i]);
                sigs[i]->data = w;
                ev_signal_start(w->loop, sigs[i]);
        }
}

static void worker_stop_watchers(struct worker *w)
{
        for (size_t i = 0; i < w->listeners->count; i++)
                ev_io_stop(w->loop, &w->accepts[i].io);
        ev_signal_stop(w->loop, &w->sig_term);
        ev_signal_stop(w->loop, &w->sig_int);
        ev_signal_stop(w->loop, &w->sig_hup);
        ev_timer_stop(w->loop, &w->deadline);
        free(w->accepts);
        w->accepts = NULL;
}

/* Runs one worker on loop until it is stopped. Returns an exit status; on
   init failure WORKER_EXIT_CONFIG with *error_r from the init hook. */
static int worker_main(const struct worker_settings *set, struct listen_set *listeners,
                       struct tls_ctx *tls, unsigned index, struct ev_loop *loop,
                       const char **error_r)
{
        struct worker w = {
                .set = set,
                .listeners = listeners,
                .index = index,
                .loop = loop,
                .spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC),
                .ips = xcalloc(WORKER_IP_BUCKETS, sizeof(struct ip_entry *)),
        };
        ev_init(&w.deadline, worker_deadline_cb);
        w.mgr = conn_mgr_create(loop, &set->conn);
        conn_mgr_set_tls(w.mgr, tls);
        conn_mgr_set_free_hook(w.mgr, worker_conn_freed, &w);
        int status = 0;
        if (set->init != NULL && set->init(&w, set->context, error_r) < 0) {
                status = WORKER_EXIT_CONFIG;
        } else {
                worker_start_watchers(&w);
                ev_run(loop, 0);
                worker_stop_watchers(&w);
        }
        conn_mgr_destroy(&w.mgr);
        if (status == 0 && set->deinit != NULL)
                set->deinit(&w, set->context);
        if (w.spare_fd >= 0)
                close(w.spare_fd);
        free(w.ips);
        return status;
}

/* ---- the master ---- */

struct master;

struct worker_slot {
        struct master *m;
        unsigned index;
        pid_t pid;
        ev_tstamp started;
        unsigned failures;
        ev_timer restart;
};

struct master {
        const struct worker_settings *set;
        struct listen_set *listeners;
        struct tls_ctx *tls;
        struct ev_loop *loop;
        pid_t pid;
        struct worker_slot *slots;
        unsigned count;
        ev_signal sig_term, sig_int, sig_hup;
        ev_child child;
        ev_timer kill_timer;
        bool stopping, failed;
};

static void master_stop_watchers(struct master *m)
{
        ev_signal_stop(m->loop, &m->sig_term);
        ev_signal_stop(m->loop, &m->sig_int);
        ev_signal_stop(m->loop, &m->sig_hup);
        ev_child_stop(m->loop, &m->child);
        ev_timer_stop(m->loop, &m->kill_timer);
        for (unsigned i = 0; i < m->count; i++)
                ev_timer_stop(m->loop, &m->slots[i].restart);
}

static void master_signal_workers(struct master *m, int sig)
{
        for (unsigned i = 0; i < m->count; i++) {
                if (m->slots[i].pid > 0)
                        (void)kill(m->slots[i].pid, sig);
        }
}

static unsigned master_live(const struct master *m)
{
        unsigned n = 0;
        for (unsigned i = 0; i < m->count; i++)
                n += m->slots[i].pid > 0;
        return n;
}

/* In the new child: become worker slot->index and never return. */
static void __attribute__((noreturn)) master_child(struct master *m, unsigned index)
{
        ev_loop_fork(m->loop);
        master_stop_watchers(m);
        /* Do not outlive a master that was killed outright. */
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != m->pid)
                exit(0);
        const char *error = NULL;
        int status = worker_main(m->set, m->listeners, m->tls, index, m->loop, &error);
        if (status == WORKER_EXIT_CONFIG)
                log_error("worker %u: %s", index, error != NULL ? error : "init failed");
        tls_ctx_unref(&m->tls);
        free(m->slots);
        exit(status);
}

static void master_spawn(struct master *m, struct worker_slot *s)
{
        pid_t pid = fork();
        if (pid == 0)
                master_child(m, s->index);
        if (pid < 0) {
                log_error_errno("fork worker %u", s->index);
                s->failures++;
                ev_timer_set(&s->restart, MASTER_MAX_BACKOFF / 4, 0.);
                ev_timer_start(m->loop, &s->restart);
                return;
        }
        s->pid = pid;
        s->started = ev_now(m->loop);
        log_debug("worker %u started: pid %ld", s->index, (long)pid);
}

static void master_restart_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
        struct worker_slot *s = container_of(t, struct worker_slot, restart);
        if (!s->m->stopping && s->pid == 0)
                master_spawn(s->m, s);
}

static void master_stop(struct master *m)
{
        if (m->stopping)
                return;
        m->stopping = true;
        for (unsigned i = 0; i < m->count; i++)
                ev_timer_stop(m->loop, &m->slots[i].restart);
        master_signal_workers(m, SIGTERM);
        if (master_live(m) == 0) {
                ev_break(m->loop, EVBREAK_ALL);
                return;
        }
        unsigned secs = m->set->shutdown_secs > 0 ? m->set->shutdown_secs
                                                  : WORKER_DEFAULT_SHUTDOWN;
        ev_timer_set(&m->kill_timer, (ev_tstamp)secs + 5.0, 0.);
        ev_timer_start(m->loop, &m->kill_timer);
}

static void master_kill_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
        struct master *m = container_of(t, struct master, kill_timer);
        log_error("%u workers ignored the shutdown deadline: killing them", master_live(m));
        master_signal_workers(m, SIGKILL);
}

static void master_worker_died(struct master *m, struct worker_slot *s, int status)
{
        if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_CONFIG) {
                log_error("worker %u could not start: stopping", s->index);
                m->failed = true;
                master_stop(m);
                return;
        }
        if (WIFSIGNALED(status))
                log_error("worker %u (pid %ld) killed by signal %d: restarting", s->index,
                          (long)s->pid, WTERMSIG(status));
        else
                log_error("worker %u (pid %ld) exited with status %d: restarting", s->index,
                          (long)s->pid, WEXITSTATUS(status));
        /* Back-off for workers that die young: 0, 2, 4 ... 60 seconds. */
        if (ev_now(m->loop) - s->started >= MASTER_STABLE_SECS)
                s->failures = 0;
        double delay = s->failures == 0 ? 0.0 : (double)(1u << (s->failures < 6 ? s->failures : 6));
        if (delay > MASTER_MAX_BACKOFF)
                delay = MASTER_MAX_BACKOFF;
        s->failures++;
        ev_timer_set(&s->restart, delay, 0.);
        ev_timer_start(m->loop, &s->restart);
}

static void master_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
        struct master *m = container_of(w, struct master, child);
        struct worker_slot *s = NULL;
        for (unsigned i = 0; i < m->count; i++) {
                if (m->slots[i].pid == w->rpid)
                        s = &m->slots[i];
        }
        if (s == NULL)
                return;   /* not ours (a daemon's helper process) */
        if (!m->stopping)
                master_worker_died(m, s, w->rstatus);
        s->pid = 0;
        if (m->stopping && master_live(m) == 0)
                ev_break(loop, EVBREAK_ALL);
}

static void master_signal_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
        struct master *m = sig->data;
        if (sig->signum == SIGHUP) {
                log_info("SIGHUP: reloading TLS in %u workers", master_live(m));
                master_signal_workers(m, SIGHUP);
        } else {
                log_info("stopping %u workers", master_live(m));
                master_stop(m);
        }
}

static unsigned master_worker_count(const struct worker_settings *set)
{
        long n = set->workers;
        if (n == 0)
                n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1)
                n = 1;
        return n > WORKER_MAX_PROCESSES ? WORKER_MAX_PROCESSES : (unsigned)n;
}

static void master_start_watchers(struct master *m)
{
        ev_signal *sigs[] = { &m->sig_term, &m->sig_int, &m->sig_hup };
        int nums[] = { SIGTERM, SIGINT, SIGHUP };
        for (size_t i = 0; i < N_ELEMENTS(sigs); i++) {
                ev_signal_init(sigs[i], master_signal_cb, nums[i]);
                sigs[i]->data = m;
                ev_signal_start(m->loop, sigs[i]);
        }
        ev_child_init(&m->child, master_child_cb, 0, 0);
        ev_child_start(m->loop, &m->child);
        ev_timer_init(&m->kill_timer, master_kill_cb, 0., 0.);
}

static int master_run(struct master *m, const char **error_r)
{
        m->count = master_worker_count(m->set);
        m->slots = xcalloc(m->count, sizeof(*m->slots));
        m->pid = getpid();
        master_start_watchers(m);
        log_info("%s: starting %u workers", m->set->name != NULL ? m->set->name : "cove",
                 m->count);
        for (unsigned i = 0; i < m->count; i++) {
                struct worker_slot *s = &m->slots[i];
                s->m = m;
                s->index = i;
                ev_timer_init(&s->restart, master_restart_cb, 0., 0.);
                master_spawn(m, s);
        }
        ev_run(m->loop, 0);
        master_stop_watchers(m);
        free(m->slots);
        m->slots = NULL;
        if (m->failed) {
                *error_r = "a worker failed to start (see the log)";
                return -1;
        }
        log_info("all workers stopped");
        return 0;
}

static int worker_check_tls(const struct worker_settings *set, struct listen_set *listeners,
                            struct tls_ctx **tls_r, const char **error_r)
{
        *tls_r = NULL;
        if (set->tls_cert != NULL &&
            tls_ctx_create(listeners->pool, set->tls_cert, set->tls_key,
                           set->tls_min_version, tls_r, error_r) < 0)
                return -1;
        for (size_t i = 0; i < listeners->count; i++) {
                if (listeners->items[i].tls && *tls_r == NULL) {
                        *error_r = pool_printf(listeners->pool,
                                               "listen %s: implicit TLS needs [tls] cert and key",
                                               listeners->items[i].addr.text);
                        return -1;
                }
        }
        return 0;
}

int worker_run(const struct worker_settings *set, struct listen_set *listeners,
               const char **error_r)
{
        struct tls_ctx *tls;
        signal(SIGPIPE, SIG_IGN);
        if (worker_check_tls(set, listeners, &tls, error_r) < 0)
                return -1;
        if (privdrop_apply(listeners->pool, set->user, error_r) < 0) {
                tls_ctx_unref(&tls);
                return -1;
        }
        struct ev_loop *loop = ev_default_loop(0);
        int ret;
        if (set->single_process) {
                ret = worker_main(set, listeners, tls, 0, loop, error_r) == 0 ? 0 : -1;
        } else {
                struct master m = { .set = set, .listeners = listeners, .tls = tls,
                                    .loop = loop };
                ret = master_run(&m, error_r);
        }
        tls_ctx_unref(&tls);
        return ret;
}

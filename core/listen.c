/* listen.c - listening sockets: address syntax and binding (see listen.h).
 *
 * Owns: the address grammar, socket options, stale UNIX socket handling and
 * peer formatting. Does not: accept, or decide which listener speaks what.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "pool.h"

#define LISTEN_DEFAULT_BACKLOG 511
#define LISTEN_DEFAULT_MODE 0666

static int addr_error(struct pool *pool, const char *text, const char *reason,
                      const char **error_r)
{
        *error_r = pool_printf(pool, "listen %s: %s", text, reason);
        return -1;
}

static int parse_port(const char *s, uint16_t *port_r)
{
        uint64_t v;
        if (!str_to_u64(s, &v) || v > 65535)
                return -1;
        *port_r = (uint16_t)v;
        return 0;
}

static int parse_unix(struct pool *pool, const char *text, struct listen_addr *addr,
                      const char **error_r)
{
        const char *path = text + 5;
        struct sockaddr_un sun;
        if (path[0] != '/')
                return addr_error(pool, text, "UNIX socket path must be absolute", error_r);
        if (strlen(path) >= sizeof(sun.sun_path))
                return addr_error(pool, text, "UNIX socket path too long", error_r);
        addr->family = LISTEN_UNIX;
        addr->path = pool_strdup(pool, path);
        return 0;
}

static int parse_inet(struct pool *pool, const char *text, struct listen_addr *addr,
                      const char **error_r)
{
        const char *host_start = text, *host_end, *port;
        if (text[0] == '[') {
                host_start = text + 1;
                host_end = strchr(host_start, ']');
                if (host_end == NULL)
                        return addr_error(pool, text, "missing ']'", error_r);
                if (host_end[1] != ':')
                        return addr_error(pool, text, "missing port", error_r);
                port = host_end + 2;
        } else {
                host_end = strrchr(text, ':');
                if (host_end == NULL)
                        return addr_error(pool, text, "missing port", error_r);
                if (memchr(text, ':', (size_t)(host_end - text)) != NULL)
                        return addr_error(pool, text,
                                          "IPv6 addresses need brackets: [ADDR]:PORT", error_r);
                port = host_end + 1;
        }
        if (host_end == host_start)
                return addr_error(pool, text, "missing host (use * or 0.0.0.0 for any)",
                                  error_r);
        if (parse_port(port, &addr->port) < 0)
                return addr_error(pool, text, "invalid port", error_r);
        char *host = pool_strndup(pool, host_start, (size_t)(host_end - host_start));
        struct in6_addr a6;
        if (text[0] == '[' && inet_pton(AF_INET6, host, &a6) != 1)
                return addr_error(pool, text, "invalid IPv6 address", error_r);
        for (const char *p = host; *p != '\0'; p++) {
                if (*p == ' ' || *p == '\t' || *p == '[' || *p == ']' || *p == '/')
                        return addr_error(pool, text, "invalid host", error_r);
        }
        addr->family = LISTEN_INET;
        addr->host = host;
        return 0;
}

int listen_addr_parse(struct pool *pool, const char *text, struct listen_addr *addr_r,
                      const char **error_r)
{
        struct listen_addr addr = { .text = pool_strdup(pool, text) };
        int ret;
        if (text[0] == '\0')
                return addr_error(pool, "\"\"", "empty address", error_r);
        if (strncmp(text, "unix:", 5) == 0)
                ret = parse_unix(pool, addr.text, &addr, error_r);
        else
                ret = parse_inet(pool, addr.text, &addr, error_r);
        if (ret == 0)
                *addr_r = addr;
        return ret;
}

struct listen_set *listen_set_create(struct pool *pool)
{
        struct listen_set *set = pool_alloc(pool, sizeof(*set));
        set->pool = pool;
        return set;
}

static int sys_error(struct pool *pool, const struct listen_addr *addr, const char *op,
                     int err, const char **error_r)
{
        if (op == NULL)
                *error_r = pool_printf(pool, "listen %s: %s", addr->text, strerror(err));
        else
                *error_r = pool_printf(pool, "listen %s: %s: %s", addr->text, op,
                                       strerror(err));
        return -1;
}

static int bind_inet(struct pool *pool, const struct listen_addr *addr, int backlog,
                     int *fd_r, uint16_t *port_r, const char **error_r)
{
        struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
        }, *res;
        char port[8];
        snprintf(port, sizeof(port), "%u", addr->port);
        const char *host = strcmp(addr->host, "*") == 0 ? "0.0.0.0" : addr->host;
        int gai = getaddrinfo(host, port, &hints, &res);
        if (gai != 0)
                return addr_error(pool, addr->text, gai_strerror(gai), error_r);
        /* A name may resolve to several addresses; the first one is bound. */
        int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                int err = errno;
                freeaddrinfo(res);
                return sys_error(pool, addr, "socket", err, error_r);
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (res->ai_family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        int ret = bind(fd, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
        if (ret < 0 || listen(fd, backlog) < 0) {
                int err = errno;
                close(fd);
                return sys_error(pool, addr, NULL, err, error_r);
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        *port_r = addr->port;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
                if (ss.ss_family == AF_INET)
                        *port_r = ntohs(((struct sockaddr_in *)&ss)->sin_port);
                else if (ss.ss_family == AF_INET6)
                        *port_r = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        *fd_r = fd;
        return 0;
}

/* Removes a socket file left by a dead process; refuses a live one and
   anything that is not a socket. */
static int unix_remove_stale(struct pool *pool, const struct listen_addr *addr,
                             const struct sockaddr_un *sun, const char **error_r)
{
        struct stat st;
        if (lstat(addr->path, &st) < 0)
                return errno == ENOENT ? 0 : sys_error(pool, addr, "stat", errno, error_r);
        if (!S_ISSOCK(st.st_mode))
                return addr_error(pool, addr->text, "exists and is not a socket", error_r);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return sys_error(pool, addr, "socket", errno, error_r);
        int ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
        close(fd);
        if (ret == 0)
                return sys_error(pool, addr, NULL, EADDRINUSE, error_r);
        if (unlink(addr->path) < 0 && errno != ENOENT)
                return sys_error(pool, addr, "unlink stale socket", errno, error_r);
        return 0;
}

static int bind_unix(struct pool *pool, const struct listen_addr *addr,
                     const struct listen_opts *opts, int *fd_r, const char **error_r)
{
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        /* UNSAFE: listen_addr_parse() checked the length against sun_path. */
        memcpy(sun.sun_path, addr->path, strlen(addr->path) + 1);
        if (unix_remove_stale(pool, addr, &sun, error_r) < 0)
                return -1;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return sys_error(pool, addr, "socket", errno, error_r);
        if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
                int err = errno;
                close(fd);
                return sys_error(pool, addr, NULL, err, error_r);
        }
        if (chmod(addr->path, opts->unix_mode) < 0 || listen(fd, opts->backlog) < 0) {
                int err = errno;
                close(fd);
                (void)unlink(addr->path);
                return sys_error(pool, addr, NULL, err, error_r);
        }
        *fd_r = fd;
        return 0;
}

static void set_push(struct listen_set *set, const struct listener *l)
{
        size_t old = set->count * sizeof(*set->items);
        set->items = pool_realloc(set->pool, set->items, old, old + sizeof(*set->items));
        set->items[set->count++] = *l;
}

int listen_set_add(struct listen_set *set, const char *text, bool tls,
                   const struct listen_opts *opts, const char **error_r)
{
        struct listen_opts o = {
                .backlog = opts != NULL && opts->backlog > 0 ? opts->backlog
                                                             : LISTEN_DEFAULT_BACKLOG,
                .unix_mode = opts != NULL && opts->unix_mode != 0 ? opts->unix_mode
                                                                  : LISTEN_DEFAULT_MODE,
        };
        struct listener l = { .fd = -1, .tls = tls };
        if (listen_addr_parse(set->pool, text, &l.addr, error_r) < 0)
                return -1;
        int ret;
        if (l.addr.family == LISTEN_UNIX)
                ret = bind_unix(set->pool, &l.addr, &o, &l.fd, error_r);
        else
                ret = bind_inet(set->pool, &l.addr, o.backlog, &l.fd, &l.port, error_r);
        if (ret < 0)
                return -1;
        set_push(set, &l);
        return 0;
}

int listen_set_add_list(struct listen_set *set, const struct conf_addr_list *list,
                        bool tls, const struct listen_opts *opts, const char **error_r)
{
        for (size_t i = 0; i < list->count; i++) {
                if (listen_set_add(set, list->addrs[i], tls, opts, error_r) < 0)
                        return -1;
        }
        return 0;
}

void listen_set_close(struct listen_set *set, bool unlink_unix)
{
        for (size_t i = 0; i < set->count; i++) {
                struct listener *l = &set->items[i];
                if (l->fd < 0)
                        continue;
                close(l->fd);
                l->fd = -1;
                if (unlink_unix && l->addr.family == LISTEN_UNIX)
                        (void)unlink(l->addr.path);
        }
}

void listen_peer_describe(const struct sockaddr *sa, socklen_t len, char *ip, size_t ip_size,
                          unsigned *port_r, bool *loopback_r)
{
        *port_r = 0;
        *loopback_r = false;
        snprintf(ip, ip_size, "unknown");
        if (len < (socklen_t)sizeof(sa->sa_family))
                return;
        if (sa->sa_family == AF_UNIX) {
                snprintf(ip, ip_size, "unix");
                *loopback_r = true;
        } else if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
                inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)ip_size);
                *port_r = ntohs(in->sin_port);
                *loopback_r = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        } else if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
                const uint8_t *b = in6->sin6_addr.s6_addr;
                inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)ip_size);
                *port_r = ntohs(in6->sin6_port);
                *loopback_r = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                              (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127);
        }
}

/* listen.h - listening sockets: address syntax and binding.
 *
 * Owns: parsing "HOST:PORT", "[V6]:PORT" and "unix:/path", binding them
 * non-blocking (SO_REUSEADDR, IPV6_V6ONLY, stale UNIX socket removal, socket
 * mode) and describing peers. Does not: accept connections (worker.c), speak
 * TLS (a listener only carries the "implicit TLS" mark) or read config files.
 */
#ifndef COVE_LISTEN_H
#define COVE_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct pool;
struct conf_addr_list;

enum listen_family {
        LISTEN_INET,     /* IPv4 or IPv6, by host */
        LISTEN_UNIX,
};

struct listen_addr {
        enum listen_family family;
        const char *text;   /* as configured, for messages */
        const char *host;   /* INET: without brackets; "*" means 0.0.0.0 */
        const char *path;   /* UNIX: absolute path */
        uint16_t port;      /* INET: 0 picks an ephemeral port (tests) */
};

struct listener {
        struct listen_addr addr;
        int fd;             /* -1 once closed */
        bool tls;           /* implicit TLS: handshake right after accept */
        uint16_t port;      /* INET: the port actually bound */
};

struct listen_opts {
        int backlog;        /* default 511 */
        unsigned unix_mode; /* default 0666 */
};

struct listen_set {
        struct pool *pool;
        struct listener *items;
        size_t count;
};

/* Parses one address. Returns 0, or -1 with *error_r from pool:
   "listen foo: missing port". Host names are resolved when binding. */
int listen_addr_parse(struct pool *pool, const char *text, struct listen_addr *addr_r,
                      const char **error_r);

/* An empty set whose listeners and messages live in pool. */
struct listen_set *listen_set_create(struct pool *pool);

/* Parses and binds one address / every address of a config list, marking
   them tls. opts may be NULL. On error returns -1 with *error_r naming the
   address: "listen 127.0.0.1:143: Address already in use"; listeners bound
   so far stay in the set (close them with listen_set_close()). */
int listen_set_add(struct listen_set *set, const char *text, bool tls,
                   const struct listen_opts *opts, const char **error_r);
int listen_set_add_list(struct listen_set *set, const struct conf_addr_list *list,
                        bool tls, const struct listen_opts *opts, const char **error_r);

/* Closes every listener. unlink_unix removes the socket files too (only the
   process that created them should, at final exit). */
void listen_set_close(struct listen_set *set, bool unlink_unix);

/* Formats a peer: IP text ("unix" for AF_UNIX) into ip (>= 64 bytes), its
   port (0 for UNIX), and whether it is loopback (127/8, ::1, v4-mapped
   127/8, UNIX). */
void listen_peer_describe(const struct sockaddr *sa, socklen_t len, char *ip, size_t ip_size,
                          unsigned *port_r, bool *loopback_r);

#endif

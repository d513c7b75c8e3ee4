/* Unit tests for core/listen.c: address grammar, binding, error lines,
   UNIX sockets (stale removal, live refusal, mode), peer description. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "listen.h"
#include "pool.h"

static struct pool *pool;
static char dir[] = "/tmp/cove-net-XXXXXX";

static void setup(void)
{
        pool = pool_create("test", 1024);
        strcpy(dir, "/tmp/cove-net-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
        pool_destroy(&pool);
}

TestSuite(listen, .init = setup, .fini = teardown);

Test(listen, parse_good)
{
        struct listen_addr a;
        const char *error;
        cr_assert_eq(listen_addr_parse(pool, "127.0.0.1:143", &a, &error), 0);
        cr_assert_eq(a.family, LISTEN_INET);
        cr_assert_str_eq(a.host, "127.0.0.1");
        cr_assert_eq(a.port, 143);
        cr_assert_eq(listen_addr_parse(pool, "[::1]:993", &a, &error), 0);
        cr_assert_str_eq(a.host, "::1");
        cr_assert_eq(a.port, 993);
        cr_assert_eq(listen_addr_parse(pool, "*:110", &a, &error), 0);
        cr_assert_str_eq(a.host, "*");
        cr_assert_eq(listen_addr_parse(pool, "mail.example.org:24", &a, &error), 0);
        cr_assert_eq(listen_addr_parse(pool, "unix:/run/cove/lmtp", &a, &error), 0);
        cr_assert_eq(a.family, LISTEN_UNIX);
        cr_assert_str_eq(a.path, "/run/cove/lmtp");
        cr_assert_str_eq(a.text, "unix:/run/cove/lmtp");
}

static void bad(const char *text, const char *want)
{
        struct listen_addr a;
        const char *error = NULL;
        cr_assert_eq(listen_addr_parse(pool, text, &a, &error), -1, "%s accepted", text);
        cr_assert_str_eq(error, want);
}

Test(listen, parse_bad)
{
        bad("127.0.0.1", "listen 127.0.0.1: missing port");
        bad("127.0.0.1:", "listen 127.0.0.1:: invalid port");
        bad("127.0.0.1:65536", "listen 127.0.0.1:65536: invalid port");
        bad("127.0.0.1:-1", "listen 127.0.0.1:-1: invalid port");
        bad("127.0.0.1:14x", "listen 127.0.0.1:14x: invalid port");
        bad(":143", "listen :143: missing host (use * or 0.0.0.0 for any)");
        bad("::1:143", "listen ::1:143: IPv6 addresses need brackets: [ADDR]:PORT");
        bad("[::1:143", "listen [::1:143: missing ']'");
        bad("[::1]143", "listen [::1]143: missing port");
        bad("[zz::1]:143", "listen [zz::1]:143: invalid IPv6 address");
        bad("unix:relative", "listen unix:relative: UNIX socket path must be absolute");
        bad("", "listen \"\": empty address");
        char longpath[200] = "unix:/";
        memset(longpath + 6, 'a', 150);
        longpath[156] = '\0';
        struct listen_addr a;
        const char *error;
        cr_assert_eq(listen_addr_parse(pool, longpath, &a, &error), -1);
        cr_assert(strstr(error, "UNIX socket path too long") != NULL);
}

Test(listen, bind_ephemeral_and_in_use)
{
        struct listen_set *set = listen_set_create(pool);
        const char *error;
        cr_assert_eq(listen_set_add(set, "127.0.0.1:0", true, NULL, &error), 0);
        cr_assert_eq(set->count, 1);
        cr_assert(set->items[0].tls);
        cr_assert_gt(set->items[0].port, 0);
        char addr[64];
        snprintf(addr, sizeof(addr), "127.0.0.1:%u", set->items[0].port);
        cr_assert_eq(listen_set_add(set, addr, false, NULL, &error), -1);
        char want[128];
        snprintf(want, sizeof(want), "listen %s: Address already in use", addr);
        cr_assert_str_eq(error, want);
        cr_assert_eq(set->count, 1);
        listen_set_close(set, true);
        cr_assert_eq(set->items[0].fd, -1);
}

Test(listen, bind_ipv6_loopback)
{
        struct listen_set *set = listen_set_create(pool);
        const char *error;
        if (listen_set_add(set, "[::1]:0", false, NULL, &error) < 0)
                cr_skip_test("no IPv6 loopback here: %s", error);
        int v6only = 0;
        socklen_t len = sizeof(v6only);
        getsockopt(set->items[0].fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len);
        cr_assert_eq(v6only, 1);
        listen_set_close(set, false);
}

Test(listen, bind_unresolvable_host)
{
        struct listen_set *set = listen_set_create(pool);
        const char *error;
        cr_assert_eq(listen_set_add(set, "no-such-host.invalid:25", false, NULL, &error), -1);
        cr_assert(strncmp(error, "listen no-such-host.invalid:25: ", 32) == 0, "%s", error);
}

Test(listen, unix_socket_stale_live_and_mode)
{
        char addr[300], path[256];
        snprintf(path, sizeof(path), "%s/lmtp", dir);
        snprintf(addr, sizeof(addr), "unix:%s", path);
        struct listen_set *set = listen_set_create(pool);
        const char *error;
        struct listen_opts opts = { .unix_mode = 0660 };
        cr_assert_eq(listen_set_add(set, addr, false, &opts, &error), 0, "%s", error);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        cr_assert(S_ISSOCK(st.st_mode));
        cr_assert_eq(st.st_mode & 0777, 0660);
        /* A live socket is refused, not stolen. */
        struct listen_set *set2 = listen_set_create(pool);
        cr_assert_eq(listen_set_add(set2, addr, false, NULL, &error), -1);
        char want[400];
        snprintf(want, sizeof(want), "listen %s: Address already in use", addr);
        cr_assert_str_eq(error, want);
        /* A stale one (its listener gone, file left) is replaced. */
        listen_set_close(set, false);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(listen_set_add(set2, addr, false, NULL, &error), 0, "%s", error);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0666);
        listen_set_close(set2, true);
        cr_assert_eq(stat(path, &st), -1);
}

Test(listen, unix_path_not_a_socket)
{
        char addr[300], path[256];
        snprintf(path, sizeof(path), "%s/file", dir);
        snprintf(addr, sizeof(addr), "unix:%s", path);
        FILE *f = fopen(path, "w");
        fclose(f);
        struct listen_set *set = listen_set_create(pool);
        const char *error;
        cr_assert_eq(listen_set_add(set, addr, false, NULL, &error), -1);
        cr_assert(strstr(error, "exists and is not a socket") != NULL);
}

Test(listen, add_list_stops_at_first_error)
{
        const char *addrs[] = { "127.0.0.1:0", "bogus", "127.0.0.1:0" };
        struct conf_addr_list list = { .count = 3, .addrs = addrs, .line = 3 };
        struct listen_set *set = listen_set_create(pool);
        const char *error;
        cr_assert_eq(listen_set_add_list(set, &list, false, NULL, &error), -1);
        cr_assert_str_eq(error, "listen bogus: missing port");
        cr_assert_eq(set->count, 1);
        listen_set_close(set, false);
}

Test(listen, peer_describe)
{
        char ip[64];
        unsigned port;
        bool lo;
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(4242) };
        inet_pton(AF_INET, "127.8.9.10", &in.sin_addr);
        listen_peer_describe((struct sockaddr *)&in, sizeof(in), ip, sizeof(ip), &port, &lo);
        cr_assert_str_eq(ip, "127.8.9.10");
        cr_assert_eq(port, 4242);
        cr_assert(lo);
        inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
        listen_peer_describe((struct sockaddr *)&in, sizeof(in), ip, sizeof(ip), &port, &lo);
        cr_assert_not(lo);
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
        inet_pton(AF_INET6, "::1", &in6.sin6_addr);
        listen_peer_describe((struct sockaddr *)&in6, sizeof(in6), ip, sizeof(ip), &port, &lo);
        cr_assert_str_eq(ip, "::1");
        cr_assert(lo);
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
        listen_peer_describe((struct sockaddr *)&in6, sizeof(in6), ip, sizeof(ip), &port, &lo);
        cr_assert(lo);
        inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
        listen_peer_describe((struct sockaddr *)&in6, sizeof(in6), ip, sizeof(ip), &port, &lo);
        cr_assert_str_eq(ip, "2001:db8::1");
        cr_assert_not(lo);
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        listen_peer_describe((struct sockaddr *)&un, sizeof(sa_family_t), ip, sizeof(ip), &port,
                             &lo);
        cr_assert_str_eq(ip, "unix");
        cr_assert(lo);
}

/* privdrop lives with the worker; its checks need root to mean anything. */
#include <pwd.h>
#include <sys/wait.h>

#include "privdrop.h"

Test(listen, privdrop_switches_user_irreversibly)
{
        if (geteuid() != 0)
                cr_skip_test("needs root");
        struct passwd *pw = getpwnam("nobody");
        if (pw == NULL)
                cr_skip_test("no user nobody");
        uid_t want = pw->pw_uid;
        pid_t pid = fork();
        if (pid == 0) {
                const char *error;
                int ret = privdrop_apply(pool, "nobody", &error);
                _exit(ret == 0 && getuid() == want && geteuid() == want &&
                      setuid(0) < 0 ? 0 : 1);
        }
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(listen, privdrop_refuses_bad_users)
{
        const char *error;
        cr_assert_eq(privdrop_apply(pool, "no-such-user-cove", &error), -1);
        cr_assert_str_eq(error, "[server] user 'no-such-user-cove': no such user");
        if (geteuid() == 0) {
                cr_assert_eq(privdrop_apply(pool, "root", &error), -1);
                cr_assert_str_eq(error, "[server] user 'root': refusing to run as uid 0");
        }
        cr_assert_eq(privdrop_apply(pool, NULL, &error), 0);
}

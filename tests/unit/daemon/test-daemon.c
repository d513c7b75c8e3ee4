/* Unit tests for core/daemon.c: options, config errors and exit statuses,
 * the worker settings taken from the config, and start-up failures of
 * daemon_run (no address, address in use). Each test runs in its own
 * process (Criterion), so exit() paths are checked with .exit_code. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "pool.h"

static char dir[] = "/tmp/cove-daemon-XXXXXX";
static char conf_path[256];

static void cleanup(void);

static void write_conf(const char *text)
{
        FILE *f;

        cr_assert_not_null(mkdtemp(dir));
        /* Tests that end in the daemon's exit() never reach .fini. */
        atexit(cleanup);
        snprintf(conf_path, sizeof(conf_path), "%s/cove.conf", dir);
        f = fopen(conf_path, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
}

static void cleanup(void)
{
        if (conf_path[0] == '\0')
                return;
        unlink(conf_path);
        rmdir(dir);
        conf_path[0] = '\0';
}

TestSuite(daemon, .fini = cleanup);

static struct daemon *start(const char *a1, const char *a2, const char *a3)
{
        char *argv[] = { "cove-testd", (char *)a1, (char *)a2, (char *)a3, NULL };
        int argc = 1 + (a1 != NULL) + (a2 != NULL) + (a3 != NULL);

        return daemon_start("cove-testd", argc, argv);
}

static const char good_conf[] =
        "[store]\nengine = lmdb\npath = /nonexistent\n"
        "[server]\nworkers = 3\nuser = nobody\nmax_connections_per_ip = 7\nlog_level = warn\n"
        "[pop3]\nlisten = 127.0.0.1:1\ntimeout = 15m\nmax_line = 1000\n";

Test(daemon, loads_config_and_fills_worker_settings)
{
        struct worker_settings set;
        struct daemon *d;

        write_conf(good_conf);
        d = start("-c", conf_path, "-F");
        cr_assert(d->foreground);
        cr_assert(!d->single_process);
        cr_assert_str_eq(d->conf_path, conf_path);
        daemon_worker_settings(d, "pop3", &d->conf->pop3, &set);
        cr_assert_str_eq(set.name, "pop3");
        cr_assert_str_eq(set.user, "nobody");
        cr_assert_eq(set.workers, 3);
        cr_assert_eq(set.max_connections_per_ip, 7);
        cr_assert_eq(set.conn.timeout_secs, 900);
        cr_assert_eq(set.conn.max_line, 1000);
        cr_assert_null(set.conn.vfuncs);
        cr_assert(!set.single_process);
        daemon_destroy(&d);
        cr_assert_null(d);
}

Test(daemon, debug_flag_means_one_process)
{
        struct worker_settings set;
        struct daemon *d;

        write_conf(good_conf);
        d = start("-d", "-c", conf_path);
        cr_assert(d->foreground);
        cr_assert(d->single_process);
        daemon_worker_settings(d, "pop3", &d->conf->pop3, &set);
        cr_assert(set.single_process);
        daemon_destroy(&d);
}

Test(daemon, help_exits_zero, .exit_code = 0)
{
        start("-h", NULL, NULL);
        cr_assert_fail("not reached");
}

Test(daemon, unknown_option_is_usage_error, .exit_code = DAEMON_EXIT_USAGE)
{
        start("-x", NULL, NULL);
        cr_assert_fail("not reached");
}

Test(daemon, missing_argument_is_usage_error, .exit_code = DAEMON_EXIT_USAGE)
{
        start("-c", NULL, NULL);
        cr_assert_fail("not reached");
}

Test(daemon, extra_argument_is_usage_error, .exit_code = DAEMON_EXIT_USAGE)
{
        start("-F", "extra", NULL);
        cr_assert_fail("not reached");
}

Test(daemon, missing_config_file_exits_config, .exit_code = DAEMON_EXIT_CONFIG)
{
        start("-F", "-c", "/nonexistent/cove.conf");
        cr_assert_fail("not reached");
}

Test(daemon, bad_config_exits_config, .exit_code = DAEMON_EXIT_CONFIG)
{
        write_conf("[store]\nengine = lmdb\n[pop3]\nbogus = 1\n");
        start("-F", "-c", conf_path);
        cr_assert_fail("not reached");
}

Test(daemon, no_listen_address_exits_config, .exit_code = DAEMON_EXIT_CONFIG)
{
        struct worker_settings set;
        struct daemon *d;

        write_conf(good_conf);
        d = start("-F", "-c", conf_path);
        daemon_worker_settings(d, "imap", &d->conf->imap, &set);
        daemon_run(d, "imap", &d->conf->imap, &set);
        cr_assert_fail("not reached");
}

Test(daemon, address_in_use_exits_config, .exit_code = DAEMON_EXIT_CONFIG)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        char text[512];
        struct worker_settings set;
        struct daemon *d;

        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        cr_assert_eq(listen(fd, 1), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        snprintf(text, sizeof(text), "[store]\nengine = lmdb\n[pop3]\nlisten = 127.0.0.1:%u\n",
                 ntohs(sa.sin_port));
        write_conf(text);
        d = start("-F", "-c", conf_path);
        daemon_worker_settings(d, "pop3", &d->conf->pop3, &set);
        daemon_run(d, "pop3", &d->conf->pop3, &set);
        cr_assert_fail("not reached");
}

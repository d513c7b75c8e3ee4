/* daemon.c - shared start-up of the cove-*d daemons (see daemon.h).
 *
 * Owns: option parsing, config loading, log start, binding the protocol's
 * listeners, detaching, and turning start-up failures into one line and an
 * exit status. Does not: speak any protocol, open the store (worker init
 * hooks do) or supervise processes (worker.c).
 */
#include "daemon.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "pool.h"

static void daemon_usage(FILE *out, const char *ident)
{
        fprintf(out,
                "usage: %s [-c CONF] [-F] [-d] [-h]\n"
                "  -c CONF   config file (default $COVE_CONF, else " CONF_DEFAULT_PATH ")\n"
                "  -F        stay in the foreground and log to stderr\n"
                "  -d        debug: foreground, a single process, log level debug\n"
                "  -h        this help\n", ident);
}

/* Parses argv into d; exits on -h and on usage errors. */
static void daemon_parse_args(struct daemon *d, int argc, char **argv)
{
        static const struct option longopts[] = {
                { .name = "config", .has_arg = required_argument, .val = 'c' },
                { .name = "foreground", .has_arg = no_argument, .val = 'F' },
                { .name = "debug", .has_arg = no_argument, .val = 'd' },
                { .name = "help", .has_arg = no_argument, .val = 'h' },
                { .name = NULL },
        };
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, ":c:Fdh", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        d->conf_path = pool_strdup(d->pool, optarg);
                        break;
                case 'F':
                        d->foreground = true;
                        break;
                case 'd':
                        d->foreground = true;
                        d->single_process = true;
                        break;
                case 'h':
                        daemon_usage(stdout, d->ident);
                        exit(0);
                case ':':
                        fprintf(stderr, "%s: option -%c needs an argument\n", d->ident, optopt);
                        daemon_usage(stderr, d->ident);
                        exit(DAEMON_EXIT_USAGE);
                default:
                        fprintf(stderr, "%s: unknown option %s\n", d->ident, argv[optind - 1]);
                        daemon_usage(stderr, d->ident);
                        exit(DAEMON_EXIT_USAGE);
                }
        }
        if (optind < argc) {
                fprintf(stderr, "%s: unexpected argument '%s'\n", d->ident, argv[optind]);
                daemon_usage(stderr, d->ident);
                exit(DAEMON_EXIT_USAGE);
        }
}

struct daemon *daemon_start(const char *ident, int argc, char **argv)
{
        struct pool *pool = pool_create("daemon", 4096);
        struct daemon *d = pool_alloc(pool, sizeof(*d));
        const char *error;
        enum log_level level = LOG_LEVEL_INFO;

        d->pool = pool;
        d->ident = pool_strdup(pool, ident);
        daemon_parse_args(d, argc, argv);
        if (d->conf_path == NULL) {
                const char *env = getenv("COVE_CONF");
                d->conf_path = pool_strdup(pool, env != NULL && *env != '\0' ?
                                           env : CONF_DEFAULT_PATH);
        }
        /* Errors before the config is read go to stderr whatever -F says:
           nobody reads syslog for a daemon that never started. */
        log_init(ident, true, LOG_LEVEL_INFO);
        if (conf_load(pool, d->conf_path, &d->conf, &error) < 0) {
                log_error("%s", error);
                exit(DAEMON_EXIT_CONFIG);
        }
        if (d->single_process)
                level = LOG_LEVEL_DEBUG;
        else if (!log_level_parse(d->conf->server.log_level, &level))
                level = LOG_LEVEL_INFO;  /* conf.c has validated it already */
        log_init(ident, d->foreground, level);
        return d;
}

void daemon_worker_settings(const struct daemon *d, const char *section,
                            const struct conf_proto *proto,
                            struct worker_settings *set_r)
{
        const struct cove_conf *conf = d->conf;

        *set_r = (struct worker_settings){
                .name = section,
                .user = conf->server.user,
                .workers = conf->server.workers,
                .single_process = d->single_process,
                .max_connections_per_ip = conf->server.max_connections_per_ip,
                .tls_cert = conf->tls.cert,
                .tls_key = conf->tls.key,
                .tls_min_version = conf->tls.min_version,
                .conn = {
                        .max_line = proto->max_line,
                        .timeout_secs = proto->timeout_secs,
                },
        };
}

static void daemon_fail(const char *error)
{
        log_error("%s", error);
        exit(DAEMON_EXIT_CONFIG);
}

int daemon_run(struct daemon *d, const char *section, const struct conf_proto *proto,
               const struct worker_settings *set)
{
        struct listen_set *ls = listen_set_create(d->pool);
        const char *error;
        int ret;

        if (proto->listen.count == 0 && proto->listen_tls.count == 0) {
                daemon_fail(conf_error(d->pool, d->conf, section, "listen",
                                       "no listen or listen_tls address configured"));
        }
        if (listen_set_add_list(ls, &proto->listen, false, NULL, &error) < 0 ||
            listen_set_add_list(ls, &proto->listen_tls, true, NULL, &error) < 0) {
                listen_set_close(ls, false);
                daemon_fail(error);
        }
        for (size_t i = 0; i < ls->count; i++) {
                log_info("%s: listening on %s%s", section, ls->items[i].addr.text,
                         ls->items[i].tls ? " (TLS)" : "");
        }
        /* Detach after binding, so bind errors still reach the terminal;
           keep the working directory, relative paths in the config stay valid. */
        if (!d->foreground && daemon(1, 0) < 0) {
                listen_set_close(ls, false);
                daemon_fail("detaching from the terminal failed");
        }
        ret = worker_run(set, ls, &error);
        listen_set_close(ls, true);
        if (ret < 0)
                daemon_fail(error);
        return 0;
}

void daemon_destroy(struct daemon **daemonp)
{
        struct daemon *d = *daemonp;
        struct pool *pool;

        if (d == NULL)
                return;
        *daemonp = NULL;
        pool = d->pool;     /* d lives in its own pool */
        pool_destroy(&pool);
}

/* covectl.c - the admin CLI's entry point: global options, finding the verb
 * in the table, parsing its options, loading the config, opening the store,
 * running the handler and turning its result into one exit code and at most
 * one stderr line. Does not: implement any verb (verb-<noun>.c) or know the
 * store's internals (storage/store.h only).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "pool.h"
#include "privs.h"
#include "store.h"
#include "verbs.h"

#define CLI_PROG "covectl"

struct cli_main {
        const char *conf_path;
        bool verbose;
        bool json;          /* --json given before the command */
};

static void usage_verb(FILE *out, const struct cli_verb *v)
{
        fprintf(out, "  " CLI_PROG " [-c CONF] %s%s%s%s%s\n", v->noun,
                v->verb != NULL ? " " : "", v->verb != NULL ? v->verb : "",
                *v->usage != '\0' ? " " : "", v->usage);
}

static void usage_all(FILE *out)
{
        fputs("usage: " CLI_PROG " [-c CONF] [-F] [-v] [--json] COMMAND [ARGS]\n"
              "  -c CONF   config file (default $COVE_CONF, else " CONF_DEFAULT_PATH ")\n"
              "  -F        log to stderr (the default for " CLI_PROG ")\n"
              "  -v        verbose: log store activity at debug level\n"
              "  --json    machine-readable output for listing commands\n"
              "  -h        this help; '" CLI_PROG " COMMAND -h' for one command\n"
              "commands:\n", out);
        for (size_t i = 0; i < cli_verb_count; i++)
                usage_verb(out, &cli_verbs[i]);
}

static void help_verb(FILE *out, const struct cli_verb *v)
{
        fputs("usage:\n", out);
        usage_verb(out, v);
        fprintf(out, "%s\n", v->help);
}

/* Prints the help of every verb of a noun ("covectl user -h"). */
static void help_noun(FILE *out, const char *noun)
{
        fputs("usage:\n", out);
        for (size_t i = 0; i < cli_verb_count; i++) {
                if (strcmp(cli_verbs[i].noun, noun) == 0)
                        usage_verb(out, &cli_verbs[i]);
        }
}

static bool is_help(const char *arg)
{
        return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* Finds the row for argv[0] (and argv[1] for two-word commands). Returns NULL
   and sets *noun_known when only the noun matched. */
static const struct cli_verb *verb_find(int argc, char **argv, bool *noun_known)
{
        *noun_known = false;
        for (size_t i = 0; i < cli_verb_count; i++) {
                const struct cli_verb *v = &cli_verbs[i];
                if (strcmp(v->noun, argv[0]) != 0)
                        continue;
                *noun_known = true;
                if (v->verb == NULL || (argc > 1 && strcmp(v->verb, argv[1]) == 0))
                        return v;
        }
        return NULL;
}

/* Parses a count with an optional binary suffix (k, M, G, T; any case). */
static bool parse_size(const char *arg, bool suffixes, uint64_t *value_r)
{
        size_t len = strlen(arg);
        unsigned shift = 0;
        if (suffixes && len > 1) {
                static const char units[] = "kmgt";
                const char *u = strchr(units, arg[len - 1] | 0x20);
                if (u != NULL) {
                        shift = 10u * (unsigned)(u - units + 1);
                        len--;
                }
        }
        uint64_t value;
        if (!str_to_u64_n(arg, len, &value) || value > (UINT64_MAX >> shift))
                return false;
        *value_r = value << shift;
        return true;
}

static int opt_value(struct cli_ctx *ctx, int argc, char **argv, int *i)
{
        if (*i + 1 >= argc)
                return cli_fail(ctx, EX_USAGE, "option %s needs a value", argv[*i]);
        (*i)++;
        return 0;
}

/* Handles one "--option" of a verb; 0 or EX_USAGE. */
static int verb_option(struct cli_ctx *ctx, int argc, char **argv, int *i)
{
        const char *opt = argv[*i];
        unsigned flags = ctx->verb->flags;
        struct cli_args *a = &ctx->args;
        int ret;
        if (strcmp(opt, "--json") == 0 && (flags & CLI_OPT_JSON) != 0) {
                a->json = true;
        } else if (strcmp(opt, "--password-stdin") == 0 &&
                   (flags & CLI_OPT_PASSWORD_STDIN) != 0) {
                a->password_stdin = true;
        } else if (strcmp(opt, "--apop") == 0 && (flags & CLI_OPT_APOP) != 0) {
                a->apop = true;
        } else if (strcmp(opt, "--crlf") == 0 && (flags & CLI_OPT_CRLF) != 0) {
                a->crlf = true;
        } else if ((strcmp(opt, "--scheme") == 0 || strcmp(opt, "--cost") == 0) &&
                   (flags & CLI_OPT_SCHEME) != 0) {
                if ((ret = opt_value(ctx, argc, argv, i)) != 0)
                        return ret;
                *(opt[2] == 's' ? &a->scheme : &a->cost) = argv[*i];
        } else if (strcmp(opt, "--mailbox") == 0 && (flags & CLI_OPT_MAILBOX) != 0) {
                if ((ret = opt_value(ctx, argc, argv, i)) != 0)
                        return ret;
                a->mailbox = argv[*i];
        } else if ((strcmp(opt, "--bytes") == 0 || strcmp(opt, "--messages") == 0) &&
                   (flags & CLI_OPT_QUOTA) != 0) {
                bool bytes = opt[2] == 'b';
                if ((ret = opt_value(ctx, argc, argv, i)) != 0)
                        return ret;
                if (!parse_size(argv[*i], bytes, bytes ? &a->bytes : &a->messages))
                        return cli_fail(ctx, EX_USAGE, "%s: invalid number '%s'%s", opt,
                                        argv[*i], bytes ? " (use N, Nk, NM, NG or NT)" : "");
                *(bytes ? &a->bytes_set : &a->messages_set) = true;
        } else {
                return cli_fail(ctx, EX_USAGE, "unknown option '%s' for '%s%s%s'", opt,
                                ctx->verb->noun, ctx->verb->verb != NULL ? " " : "",
                                ctx->verb->verb != NULL ? ctx->verb->verb : "");
        }
        return 0;
}

/* Parses the verb's arguments (options may come before or after the
   positional ones; "--" ends options). */
static int verb_args(struct cli_ctx *ctx, int argc, char **argv)
{
        const struct cli_verb *v = ctx->verb;
        bool options = true;
        for (int i = 0; i < argc; i++) {
                int ret;
                if (options && strcmp(argv[i], "--") == 0) {
                        options = false;
                } else if (options && argv[i][0] == '-' && argv[i][1] != '\0') {
                        if ((ret = verb_option(ctx, argc, argv, &i)) != 0)
                                return ret;
                } else if (ctx->args.count == v->max_args) {
                        return cli_fail(ctx, EX_USAGE, "unexpected argument '%s' (usage: "
                                        CLI_PROG " %s%s%s %s)", argv[i], v->noun,
                                        v->verb != NULL ? " " : "",
                                        v->verb != NULL ? v->verb : "", v->usage);
                } else {
                        ctx->args.pos[ctx->args.count++] = argv[i];
                }
        }
        if (ctx->args.count < v->min_args)
                return cli_fail(ctx, EX_USAGE, "missing argument (usage: " CLI_PROG
                                " %s%s%s %s)", v->noun, v->verb != NULL ? " " : "",
                                v->verb != NULL ? v->verb : "", v->usage);
        return 0;
}

/* Parses the global options; leaves *optind_r at the command. -1: help shown. */
static int global_args(struct cli_ctx *ctx, struct cli_main *m, int argc, char **argv,
                       int *optind_r)
{
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { "config", required_argument, NULL, 'c' },
                { NULL, 0, NULL, 0 },
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:c:Fhv", longopts, NULL)) != -1) {
                switch (c) {
                case 'c': m->conf_path = optarg; break;
                case 'F': break;   /* covectl always logs to stderr */
                case 'v': m->verbose = true; break;
                case 'j': m->json = true; break;
                case 'h': usage_all(stdout); return -1;
                case ':':
                        return cli_fail(ctx, EX_USAGE, "option %s needs a value",
                                        argv[optind - 1]);
                default:
                        if (optopt != 0)
                                return cli_fail(ctx, EX_USAGE, "unknown option '-%c' (try "
                                                CLI_PROG " -h)", optopt);
                        return cli_fail(ctx, EX_USAGE, "unknown option '%s' (try "
                                        CLI_PROG " -h)", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_fail(ctx, EX_USAGE, "no command given (try " CLI_PROG " -h)");
        *optind_r = optind;
        return 0;
}

/* Finds the verb and parses its arguments; -1 when help was printed. */
static int command_args(struct cli_ctx *ctx, const struct cli_main *m, int argc, char **argv)
{
        bool noun_known;
        const struct cli_verb *v = verb_find(argc, argv, &noun_known);
        if (v == NULL && noun_known && (argc == 1 || is_help(argv[1]))) {
                if (argc == 1)
                        return cli_fail(ctx, EX_USAGE, "'%s' needs a subcommand (try "
                                        CLI_PROG " %s -h)", argv[0], argv[0]);
                help_noun(stdout, argv[0]);
                return -1;
        }
        if (v == NULL)
                return cli_fail(ctx, EX_USAGE, "unknown command '%s%s%s' (try " CLI_PROG
                                " -h)", argv[0], noun_known ? " " : "",
                                noun_known ? argv[1] : "");
        int skip = v->verb != NULL ? 2 : 1;
        for (int i = skip; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (is_help(argv[i])) {
                        help_verb(stdout, v);
                        return -1;
                }
        }
        ctx->verb = v;
        if (m->json) {
                if ((v->flags & CLI_OPT_JSON) == 0)
                        return cli_fail(ctx, EX_USAGE, "--json is not supported by '%s'",
                                        argv[0]);
                ctx->args.json = true;
        }
        int ret = verb_args(ctx, argc - skip, argv + skip);
        if (ret == 0 && v->check != NULL)
                ret = v->check(ctx);
        return ret;
}

static const char *conf_path(const struct cli_main *m)
{
        if (m->conf_path != NULL)
                return m->conf_path;
        const char *env = getenv("COVE_CONF");
        return env != NULL && *env != '\0' ? env : CONF_DEFAULT_PATH;
}

/* Loads the config and, for most verbs, opens the store; then runs the verb. */
static int run(struct cli_ctx *ctx, const struct cli_main *m)
{
        const char *error;
        if (conf_load(ctx->pool, conf_path(m), &ctx->conf, &error) < 0)
                return cli_fail(ctx, EX_CONFIG, "%s", error);
        if ((ctx->verb->flags & CLI_VERB_STORE) != 0) {
                /* As root, become [server] user first: files the store
                   creates (locks, notify FIFOs) must belong to the daemons. */
                int ret = cli_privs_drop(ctx);
                if (ret != 0)
                        return ret;
                if (store_open(ctx->conf, false, ctx->pool, &ctx->store, &error) < 0)
                        return cli_fail(ctx, EX_CONFIG, "%s", error);
        }
        int ret = ctx->verb->handler(ctx);
        if (ret != 0 && ctx->error == NULL)
                cli_fail(ctx, ret, "%s failed", ctx->verb->noun);
        return ret;
}

/* Replaces control characters so the reason stays one line. */
static void print_error(const char *error)
{
        fputs(CLI_PROG ": ", stderr);
        for (const char *p = error; *p != '\0'; p++)
                fputc((unsigned char)*p < 0x20 ? ' ' : *p, stderr);
        fputc('\n', stderr);
}

int main(int argc, char **argv)
{
        struct cli_main m = { 0 };
        struct cli_ctx ctx = {
                .pool = pool_create("covectl", 16384),
                .out = stdout,
        };
        int ret, cmd = 0;
        ret = global_args(&ctx, &m, argc, argv, &cmd);
        log_init(CLI_PROG, true, m.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
        if (ret == 0)
                ret = command_args(&ctx, &m, argc - cmd, argv + cmd);
        if (ret == 0)
                ret = run(&ctx, &m);
        if (ctx.store != NULL)
                store_close(&ctx.store);
        if (ret == -1)
                ret = 0;    /* help was printed */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                if (ret == 0)
                        ret = cli_fail(&ctx, EX_IOERR, "writing to stdout: %s",
                                       strerror(errno));
        }
        if (ret != 0)
                print_error(ctx.error != NULL ? ctx.error : "failed");
        pool_destroy(&ctx.pool);
        return ret;
}

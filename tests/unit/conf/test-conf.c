/* Unit tests for core/conf.c: good files (every section, defaults, units,
 * address lists, engine options in order), and every error with its exact
 * one-line "FILE:LINE: [section] key: reason" message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf-private.h"
#include "conf.h"
#include "pool.h"

static struct pool *pool;
static char tmpdir[64];

static void setup(void)
{
        pool = pool_create("test-conf", 0);
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-conf.XXXXXX");
        cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        cr_assert_eq(system(cmd), 0);
        pool_destroy(&pool);
}

TestSuite(conf, .init = setup, .fini = teardown);

static const struct cove_conf *parse_ok(const char *text)
{
        const struct cove_conf *conf = NULL;
        const char *error = NULL;
        int ret = conf_parse(pool, "t.conf", text, strlen(text), &conf, &error);
        cr_assert_eq(ret, 0, "unexpected error: %s", error == NULL ? "(none)" : error);
        cr_assert_not_null(conf);
        return conf;
}

static const char *parse_err_n(const char *text, size_t len)
{
        const struct cove_conf *conf = NULL;
        const char *error = NULL;
        int ret = conf_parse(pool, "t.conf", text, len, &conf, &error);
        cr_assert_eq(ret, -1, "parsed a bad file:\n%s", text);
        cr_assert_not_null(error);
        cr_assert_null(strchr(error, '\n'), "error is not one line: %s", error);
        return error;
}

static const char *parse_err(const char *text)
{
        return parse_err_n(text, strlen(text));
}

static void expect_err(const char *text, const char *expected)
{
        cr_expect_str_eq(parse_err(text), expected, "for input:\n%s", text);
}

static const char *write_file(const char *name, const char *data, size_t len)
{
        const char *path = pool_printf(pool, "%s/%s", tmpdir, name);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(data, 1, len, f), len);
        cr_assert_eq(fclose(f), 0);
        return path;
}

#define MIN_STORE "[store]\nengine = lmdb\n"

/* ---- good files ------------------------------------------------------------ */

Test(conf, minimal_file_gets_every_default)
{
        const struct cove_conf *c = parse_ok(MIN_STORE);
        cr_expect_str_eq(c->path, "t.conf");
        cr_expect_str_eq(c->store.engine, "lmdb");
        cr_expect_eq(c->store.engine_line, 2);
        cr_expect_str_eq(c->store.plugin_dir, COVE_PLUGIN_INSTALL_DIR);
        cr_expect_eq(c->store.plugin_dir_line, 0);
        cr_expect_null(c->store.path);
        cr_expect_eq(c->store.option_count, 0);
        cr_expect_str_eq(c->store.flush, "commit");
        cr_expect_null(c->server.user);
        cr_expect_eq(c->server.workers, 0);
        cr_expect_str_eq(c->server.log_level, "info");
        cr_expect_null(c->server.state_dir);
        cr_expect_eq(c->server.allow_plaintext_auth, false);
        cr_expect_eq(c->server.max_connections_per_ip, 50);
        cr_expect_null(c->tls.cert);
        cr_expect_null(c->tls.key);
        cr_expect_str_eq(c->tls.min_version, "TLSv1.2");
        cr_expect_eq(c->imap.timeout_secs, 1800);
        cr_expect_eq(c->imap.max_line, 65536);
        cr_expect_eq(c->pop3.timeout_secs, 600);
        cr_expect_eq(c->pop3.max_line, 512);
        cr_expect_eq(c->lmtp.timeout_secs, 300);
        cr_expect_eq(c->lmtp.max_line, 4096);
        cr_expect_eq(c->imap.listen.count, 0);
        cr_expect_eq(c->imap.listen.line, 0);
        cr_expect_eq(c->lmtp.listen_tls.count, 0);
        cr_expect_eq(c->limits.max_message_size, 50u * 1024 * 1024);
        cr_expect_eq(c->limits.max_literal, 50u * 1024 * 1024);
}

static const char full_conf[] =
        "# Cove test configuration\n"
        "; a semicolon comment\n"
        "[store]\n"
        "engine = lmdb            # the default engine\n"
        "path = /var/lib/cove\n"
        "plugin_dir = /opt/cove/plugins\n"
        "map_size = 4G\n"
        "\n"
        "[server]\n"
        "user = cove\n"
        "workers = 4\n"
        "log_level = debug\n"
        "state_dir = /run/cove\n"
        "allow_plaintext_auth = yes\n"
        "max_connections_per_ip = 0\n"
        "[tls]\n"
        "cert = /etc/cove/cert.pem\n"
        "key = \"/etc/cove/key with space.pem\"   # quoted\n"
        "min_version = TLSv1.3\n"
        "[imap]\n"
        "listen = 0.0.0.0:143, [::]:143\n"
        "listen_tls = 0.0.0.0:993\n"
        "timeout = 2h\n"
        "max_line = 1M\n"
        "[pop3]\n"
        "listen = localhost:110,mail.example.org:1110\n"
        "listen_tls = [::1]:995\n"
        "timeout = 900s\n"
        "max_line = 1k\n"
        "[lmtp]\n"
        "listen = unix:/run/cove/lmtp, 127.0.0.1:24\n"
        "timeout = 120\n"
        "max_line = 64K\n"
        "[limits]\n"
        "max_message_size = 100m\n"
        "max_literal = 10M\n";

Test(conf, full_file_every_section)
{
        const struct cove_conf *c = parse_ok(full_conf);
        cr_expect_str_eq(c->store.engine, "lmdb");
        cr_expect_eq(c->store.engine_line, 4);
        cr_expect_str_eq(c->store.path, "/var/lib/cove");
        cr_expect_str_eq(c->store.plugin_dir, "/opt/cove/plugins");
        cr_expect_eq(c->store.plugin_dir_line, 6);
        cr_expect_str_eq(c->server.user, "cove");
        cr_expect_eq(c->server.workers, 4);
        cr_expect_str_eq(c->server.log_level, "debug");
        cr_expect_str_eq(c->server.state_dir, "/run/cove");
        cr_expect_eq(c->server.allow_plaintext_auth, true);
        cr_expect_eq(c->server.max_connections_per_ip, 0);
        cr_expect_str_eq(c->tls.cert, "/etc/cove/cert.pem");
        cr_expect_str_eq(c->tls.key, "/etc/cove/key with space.pem");
        cr_expect_str_eq(c->tls.min_version, "TLSv1.3");

        cr_assert_eq(c->imap.listen.count, 2);
        cr_expect_str_eq(c->imap.listen.addrs[0], "0.0.0.0:143");
        cr_expect_str_eq(c->imap.listen.addrs[1], "[::]:143");
        cr_expect_eq(c->imap.listen.line, 21);
        cr_assert_eq(c->imap.listen_tls.count, 1);
        cr_expect_str_eq(c->imap.listen_tls.addrs[0], "0.0.0.0:993");
        cr_expect_eq(c->imap.timeout_secs, 7200);
        cr_expect_eq(c->imap.max_line, 1024 * 1024);

        cr_assert_eq(c->pop3.listen.count, 2);
        cr_expect_str_eq(c->pop3.listen.addrs[0], "localhost:110");
        cr_expect_str_eq(c->pop3.listen.addrs[1], "mail.example.org:1110");
        cr_expect_str_eq(c->pop3.listen_tls.addrs[0], "[::1]:995");
        cr_expect_eq(c->pop3.timeout_secs, 900);
        cr_expect_eq(c->pop3.max_line, 1024);

        cr_assert_eq(c->lmtp.listen.count, 2);
        cr_expect_str_eq(c->lmtp.listen.addrs[0], "unix:/run/cove/lmtp");
        cr_expect_str_eq(c->lmtp.listen.addrs[1], "127.0.0.1:24");
        cr_expect_eq(c->lmtp.listen.line, 31);
        cr_expect_eq(c->lmtp.timeout_secs, 120);
        cr_expect_eq(c->lmtp.max_line, 64 * 1024);

        cr_expect_eq(c->limits.max_message_size, 100u * 1024 * 1024);
        cr_expect_eq(c->limits.max_literal, 10u * 1024 * 1024);
}

Test(conf, engine_options_in_file_order_with_lines)
{
        const struct cove_conf *c = parse_ok(
                "[store]\n"
                "zeta = 1\n"
                "engine = pgsql\n"
                "path = /srv/x\n"
                "plugin_dir = /p\n"
                "conninfo = \"host=db user=cove\"\n"
                "alpha = a#b\n"
                "empty = \"\"\n");
        cr_assert_eq(c->store.option_count, 5);
        const char *keys[] = { "zeta", "path", "conninfo", "alpha", "empty" };
        const char *values[] = { "1", "/srv/x", "host=db user=cove", "a#b", "" };
        unsigned lines[] = { 2, 4, 6, 7, 8 };
        for (size_t i = 0; i < 5; i++) {
                cr_expect_str_eq(c->store.options[i].key, keys[i]);
                cr_expect_str_eq(c->store.options[i].value, values[i]);
                cr_expect_eq(c->store.options[i].line, lines[i]);
        }
        const struct conf_option *o = conf_store_option(c, "conninfo");
        cr_assert_not_null(o);
        cr_expect_eq(o->line, 6);
        cr_expect_null(conf_store_option(c, "engine"));
        cr_expect_null(conf_store_option(c, "plugin_dir"));
        cr_expect_null(conf_store_option(c, "nope"));
}

Test(conf, derived_defaults)
{
        const struct cove_conf *c = parse_ok(
                "[store]\nengine = lmdb\npath = /var/lib/cove\n"
                "[limits]\nmax_message_size = 10M\n");
        cr_expect_str_eq(c->server.state_dir, "/var/lib/cove");
        cr_expect_eq(c->limits.max_literal, 10u * 1024 * 1024);
}

Test(conf, bool_spellings)
{
        static const struct { const char *text; bool value; } cases[] = {
                { "yes", true }, { "no", false }, { "true", true }, { "false", false },
                { "on", true }, { "off", false }, { "1", true }, { "0", false },
                { "YES", true }, { "Off", false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *text = pool_printf(pool, MIN_STORE
                                               "[server]\nallow_plaintext_auth = %s\n",
                                               cases[i].text);
                cr_expect_eq(parse_ok(text)->server.allow_plaintext_auth, cases[i].value,
                             "%s", cases[i].text);
        }
}

Test(conf, size_and_duration_units)
{
        static const struct { const char *text; size_t value; } sizes[] = {
                { "1024", 1024 }, { "64k", 65536 }, { "64K", 65536 },
                { "1M", 1048576 }, { "1g", 1073741824 },
        };
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                const char *text = pool_printf(pool, MIN_STORE "[limits]\nmax_literal = %s\n",
                                               sizes[i].text);
                cr_expect_eq(parse_ok(text)->limits.max_literal, sizes[i].value, "%s",
                             sizes[i].text);
        }
        static const struct { const char *text; unsigned value; } durations[] = {
                { "1800", 1800 }, { "1800s", 1800 }, { "30m", 1800 }, { "1h", 3600 },
                { "24H", 86400 },
        };
        for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
                const char *text = pool_printf(pool, MIN_STORE "[imap]\ntimeout = %s\n",
                                               durations[i].text);
                cr_expect_eq(parse_ok(text)->imap.timeout_secs, durations[i].value, "%s",
                             durations[i].text);
        }
}

Test(conf, syntax_details)
{
        /* CRLF, a byte order mark, indented comments, a header comment, no
           final newline, blanks around '=' and in the header. */
        const struct cove_conf *c = parse_ok(
                "\xef\xbb\xbf[ store ]   # engine section\r\n"
                "   # indented comment\r\n"
                "\t; another\r\n"
                "  engine\t=\tlmdb  \r\n"
                "name = \"a # b\"\r\n"
                "[server]\n"
                "user=mail   ");
        cr_expect_str_eq(c->store.engine, "lmdb");
        cr_expect_eq(c->store.engine_line, 4);
        cr_expect_str_eq(conf_store_option(c, "name")->value, "a # b");
        cr_expect_str_eq(c->server.user, "mail");
}

Test(conf, longest_line_is_accepted)
{
        char *text = pool_alloc(pool, 8192);
        strcpy(text, MIN_STORE "k = ");
        size_t head = strlen(text), line_start = strlen(MIN_STORE);
        memset(text + head, 'v', 4096 - (head - line_start));
        const struct cove_conf *c = parse_ok(text);
        cr_expect_eq(strlen(conf_store_option(c, "k")->value), 4096 - 4);
}

Test(conf, key_line_and_error_helper)
{
        const struct cove_conf *c = parse_ok(full_conf);
        cr_expect_eq(conf_key_line(c, "tls", "cert"), 17);
        cr_expect_eq(conf_key_line(c, "store", "map_size"), 7);
        cr_expect_eq(conf_key_line(c, "imap", "nope"), 0);
        cr_expect_eq(conf_key_line(c, "nope", "cert"), 0);
        cr_expect_eq(conf_key_line(c, "limits", "max_literal"), 36);
        cr_expect_str_eq(conf_error(pool, c, "tls", "cert", "cannot load: %s", "bad PEM"),
                         "t.conf:17: [tls] cert: cannot load: bad PEM");
        cr_expect_str_eq(conf_error(pool, c, "store", "engine", "plugin '%s' not found", "x"),
                         "t.conf:4: [store] engine: plugin 'x' not found");
        cr_expect_str_eq(conf_error(pool, c, "lmtp", "listen_tls", "not yet"),
                         "t.conf: [lmtp] listen_tls: not yet");
        cr_expect_str_eq(conf_error(pool, c, "imap", NULL, "no listener"),
                         "t.conf: [imap]: no listener");
}

Test(conf, load_reads_a_file)
{
        const char *path = write_file("cove.conf", full_conf, strlen(full_conf));
        const struct cove_conf *c = NULL;
        const char *error = NULL;
        cr_assert_eq(conf_load(pool, path, &c, &error), 0, "%s", error);
        cr_expect_str_eq(c->path, path);
        cr_expect_str_eq(c->tls.min_version, "TLSv1.3");
}

/* ---- errors ------------------------------------------------------------- */

Test(conf, load_missing_and_unreadable)
{
        const struct cove_conf *c = NULL;
        const char *error = NULL;
        const char *missing = pool_printf(pool, "%s/none.conf", tmpdir);
        cr_assert_eq(conf_load(pool, missing, &c, &error), -1);
        cr_expect_str_eq(error, pool_printf(pool, "%s: cannot read: No such file or directory",
                                            missing));
        cr_assert_eq(conf_load(pool, tmpdir, &c, &error), -1);
        cr_expect_str_eq(error, pool_printf(pool, "%s: cannot read: Is a directory", tmpdir));
        if (geteuid() != 0) {
                const char *path = write_file("secret.conf", MIN_STORE, strlen(MIN_STORE));
                cr_assert_eq(chmod(path, 0), 0);
                cr_assert_eq(conf_load(pool, path, &c, &error), -1);
                cr_expect_str_eq(error, pool_printf(pool, "%s: cannot read: Permission denied",
                                                    path));
        }
}

Test(conf, file_too_large)
{
        size_t len = 1024 * 1024 + 1;
        char *big = pool_alloc(pool, len);
        memset(big, '#', len);
        for (size_t i = 0; i < len; i += 100)
                big[i] = '\n';
        cr_expect_str_eq(parse_err_n(big, len), "t.conf: file larger than 1048576 bytes (1M)");
        const char *path = write_file("big.conf", big, len);
        const struct cove_conf *c = NULL;
        const char *error = NULL;
        cr_assert_eq(conf_load(pool, path, &c, &error), -1);
        cr_expect_str_eq(error, pool_printf(pool, "%s: file larger than 1048576 bytes (1M)",
                                            path));
        /* Exactly 1M of comments is fine until the missing engine. */
        cr_expect_str_eq(parse_err_n(big, len - 1), "t.conf: [store] engine: required key missing");
}

Test(conf, line_too_long)
{
        char *text = pool_alloc(pool, 8192);
        strcpy(text, MIN_STORE "k = ");
        size_t head = strlen(text), line_start = strlen(MIN_STORE);
        memset(text + head, 'v', 4097 - (head - line_start));
        expect_err(text, "t.conf:3: line longer than 4096 bytes");
}

Test(conf, nul_and_control_bytes)
{
        static const char nul[] = "[store]\nengine = lm\0db\n";
        cr_expect_str_eq(parse_err_n(nul, sizeof(nul) - 1), "t.conf:2: [store]: NUL byte in line");
        expect_err("[store]\nengine = lm\x1b" "db\n",
                   "t.conf:2: [store]: control character 0x1b in line");
}

Test(conf, missing_required_engine)
{
        expect_err("", "t.conf: [store] engine: required key missing");
        expect_err("# only a comment\n[store]\npath = /x\n",
                   "t.conf: [store] engine: required key missing");
}

Test(conf, structure_errors)
{
        expect_err(MIN_STORE "[bogus]\nx = 1\n",
                   "t.conf:3: [bogus]: unknown section (expected store, server, tls, imap, "
                   "pop3, lmtp or limits)");
        expect_err(MIN_STORE "[imap\n", "t.conf:3: missing ']' in section header");
        expect_err(MIN_STORE "[imap] x\n", "t.conf:3: unexpected text after section header");
        expect_err(MIN_STORE "[imap]\nfoo = 1\n", "t.conf:4: [imap] foo: unknown key");
        expect_err(MIN_STORE "[server]\nuser\n",
                   "t.conf:4: [server]: expected 'key = value' or '[section]'");
        expect_err("engine = lmdb\n[store]\n",
                   "t.conf:1: engine: key outside any section (add [store], [imap], ... above it)");
        expect_err(MIN_STORE "= x\n", "t.conf:3: [store]: missing key before '='");
        expect_err(MIN_STORE "a b = x\n",
                   "t.conf:3: [store]: bad key name 'a b' (use letters, digits, _ - .)");
}

Test(conf, duplicate_keys)
{
        expect_err("[store]\nengine = lmdb\nengine = pgsql\n",
                   "t.conf:3: [store] engine: duplicate key (first set on line 2)");
        expect_err(MIN_STORE "opt = 1\n\nopt = 2\n",
                   "t.conf:5: [store] opt: duplicate key (first set on line 3)");
        expect_err(MIN_STORE "path = /a\npath = /b\n",
                   "t.conf:4: [store] path: duplicate key (first set on line 3)");
        expect_err(MIN_STORE "[imap]\ntimeout = 1h\n[pop3]\n[imap]\ntimeout = 2h\n",
                   "t.conf:7: [imap] timeout: duplicate key (first set on line 4)");
}

Test(conf, value_syntax_errors)
{
        expect_err(MIN_STORE "[server]\nuser =\n",
                   "t.conf:4: [server] user: empty value (remove the line to get the default)");
        expect_err(MIN_STORE "[server]\nuser = # comment only\n",
                   "t.conf:4: [server] user: empty value (remove the line to get the default)");
        expect_err(MIN_STORE "[server]\nuser = \"\"\n", "t.conf:4: [server] user: empty value");
        expect_err(MIN_STORE "[server]\nuser = \"cove\n",
                   "t.conf:4: [server] user: missing closing '\"'");
        expect_err(MIN_STORE "[server]\nuser = \"cove\" x\n",
                   "t.conf:4: [server] user: unexpected text after closing '\"'");
}

Test(conf, bad_typed_values)
{
        expect_err("[store]\nengine = ../evil\n",
                   "t.conf:2: [store] engine: bad value '../evil': engine names use only "
                   "a-z, 0-9 and _");
        expect_err(MIN_STORE "[server]\nlog_level = loud\n",
                   "t.conf:4: [server] log_level: bad value 'loud': expected error, warn, "
                   "info or debug");
        expect_err(MIN_STORE "[server]\nallow_plaintext_auth = maybe\n",
                   "t.conf:4: [server] allow_plaintext_auth: bad value 'maybe': expected "
                   "yes/no/true/false/on/off/1/0");
        expect_err(MIN_STORE "[server]\nworkers = -1\n",
                   "t.conf:4: [server] workers: bad value '-1': expected a number");
        expect_err(MIN_STORE "[server]\nworkers = 1025\n",
                   "t.conf:4: [server] workers: bad value '1025': out of range (0-1024)");
        expect_err(MIN_STORE "[server]\nworkers = 99999999999999999999999\n",
                   "t.conf:4: [server] workers: bad value '99999999999999999999999': "
                   "expected a number");
        expect_err("[store]\nengine = lmdb\nflush = later\n",
                   "t.conf:3: [store] flush: bad value 'later': expected commit or group");
        expect_err(MIN_STORE "[tls]\nmin_version = SSLv3\n",
                   "t.conf:4: [tls] min_version: bad value 'SSLv3': expected TLSv1.2 or TLSv1.3");
        expect_err(MIN_STORE "[limits]\nmax_message_size = 5X\n",
                   "t.conf:4: [limits] max_message_size: bad value '5X': expected a size "
                   "such as 512, 64k, 50M or 1G");
        expect_err(MIN_STORE "[limits]\nmax_message_size = 2G\n",
                   "t.conf:4: [limits] max_message_size: bad value '2G': out of range "
                   "(1k-1G bytes)");
        expect_err(MIN_STORE "[limits]\nmax_literal = 99999999999G\n",
                   "t.conf:4: [limits] max_literal: bad value '99999999999G': out of range "
                   "(1k-1G bytes)");
        expect_err(MIN_STORE "[imap]\nmax_line = 1k\n",
                   "t.conf:4: [imap] max_line: bad value '1k': out of range (8k-16M bytes)");
        expect_err(MIN_STORE "[imap]\ntimeout = 10 m\n",
                   "t.conf:4: [imap] timeout: bad value '10 m': expected a duration such as "
                   "90, 90s, 30m or 2h");
}

Test(conf, rfc_timeout_minimums)
{
        expect_err(MIN_STORE "[imap]\ntimeout = 29m\n",
                   "t.conf:4: [imap] timeout: bad value '29m': out of range "
                   "(1800-86400 seconds)");
        expect_err(MIN_STORE "[pop3]\ntimeout = 599\n",
                   "t.conf:4: [pop3] timeout: bad value '599': out of range "
                   "(600-86400 seconds)");
        expect_err(MIN_STORE "[lmtp]\ntimeout = 2d\n",
                   "t.conf:4: [lmtp] timeout: bad value '2d': expected a duration such as "
                   "90, 90s, 30m or 2h");
        cr_expect_eq(parse_ok(MIN_STORE "[pop3]\ntimeout = 10m\n")->pop3.timeout_secs, 600);
}

Test(conf, bad_addresses)
{
        static const struct { const char *value, *reason; } cases[] = {
                { "1.2.3.4", "expected HOST:PORT, [IPv6]:PORT or unix:/path" },
                { "1.2.3.4:0", "port must be 1-65535" },
                { "1.2.3.4:65536", "port must be 1-65535" },
                { "1.2.3.4:", "port must be 1-65535" },
                { "1.2.3.4:x", "port must be 1-65535" },
                { ":143", "missing host (use 0.0.0.0 or [::] for every address)" },
                { "::1:143", "IPv6 addresses need brackets, as in [::1]:143" },
                { "[::1]143", "expected :PORT after ']'" },
                { "[::1:143", "missing ']'" },
                { "[zz]:143", "bad IPv6 address" },
                { "[]:143", "bad IPv6 address" },
                { "999.1.1.1:143", "bad IPv4 address" },
                { "-bad-:143", "bad host name" },
                { "a..b:143", "bad host name" },
                { "unix:run/lmtp", "unix socket path must be absolute" },
                { "unix:", "unix socket path must be absolute" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *text = pool_printf(pool, MIN_STORE "[lmtp]\nlisten = %s\n",
                                               cases[i].value);
                const char *expected = pool_printf(pool, "t.conf:4: [lmtp] listen: bad "
                                                   "address '%s': %s", cases[i].value,
                                                   cases[i].reason);
                expect_err(text, expected);
        }
        char *long_path = pool_alloc(pool, 200);
        strcpy(long_path, "unix:/");
        memset(long_path + 6, 'x', 107);
        expect_err(pool_printf(pool, MIN_STORE "[lmtp]\nlisten = %s\n", long_path),
                   pool_printf(pool, "t.conf:4: [lmtp] listen: bad address '%.64s...': unix "
                               "socket path longer than 107 bytes", long_path));
        long_path[6 + 106] = '\0';
        cr_expect_eq(parse_ok(pool_printf(pool, MIN_STORE "[lmtp]\nlisten = %s\n",
                                          long_path))->lmtp.listen.count, 1);
        expect_err(MIN_STORE "[imap]\nlisten = 1.2.3.4:1,,1.2.3.4:2\n",
                   "t.conf:4: [imap] listen: empty address in list");
        expect_err(MIN_STORE "[imap]\nlisten = 1.2.3.4:1,\n",
                   "t.conf:4: [imap] listen: empty address in list");
}

Test(conf, too_many_addresses)
{
        char *list = pool_strdup(pool, "127.0.0.1:1");
        for (int i = 2; i <= 65; i++)
                list = pool_printf(pool, "%s,127.0.0.1:%d", list, i);
        expect_err(pool_printf(pool, MIN_STORE "[imap]\nlisten = %s\n", list),
                   "t.conf:4: [imap] listen: more than 64 addresses");
}

Test(conf, too_many_engine_options)
{
        char *text = pool_strdup(pool, MIN_STORE);
        for (int i = 0; i <= 256; i++)
                text = pool_printf(pool, "%so%d = %d\n", text, i, i);
        expect_err(text, "t.conf:259: [store] o256: more than 256 engine options");
}

Test(conf, tls_rules)
{
        expect_err(MIN_STORE "[tls]\ncert = /c.pem\n",
                   "t.conf: [tls] key: required when [tls] cert is set");
        expect_err(MIN_STORE "[tls]\nkey = /k.pem\n",
                   "t.conf: [tls] cert: required when [tls] key is set");
        expect_err(MIN_STORE "[pop3]\nlisten_tls = 0.0.0.0:995\n",
                   "t.conf:4: [pop3] listen_tls: needs [tls] cert and key");
}

Test(conf, long_bad_value_is_shortened_in_message)
{
        char *value = pool_alloc(pool, 200);
        memset(value, 'z', 150);
        const char *err = parse_err(pool_printf(pool, MIN_STORE "[server]\nlog_level = %s\n",
                                                value));
        cr_expect_str_eq(err, pool_printf(pool, "t.conf:4: [server] log_level: bad value "
                                          "'%.64s...': expected error, warn, info or debug",
                                          value));
}

/* ---- value helpers (conf-private.h) --------------------------------------- */

Test(conf, value_helpers)
{
        uint64_t n = 0;
        cr_expect(conf_value_size("16G", &n));
        cr_expect_eq(n, 16 * CONF_GIB);
        cr_expect(conf_value_size("99999999999999999G", &n));
        cr_expect_eq(n, UINT64_MAX, "a scaled overflow saturates");
        cr_expect_not(conf_value_size("", &n));
        cr_expect_not(conf_value_size("k", &n));
        cr_expect_not(conf_value_size("1kb", &n));
        cr_expect_not(conf_value_size("1 k", &n));
        cr_expect_not(conf_value_size("+1", &n));
        cr_expect_not(conf_value_duration("1d", &n));
        cr_expect(conf_value_duration("2M", &n));
        cr_expect_eq(n, 120);
        bool b = true;
        cr_expect_not(conf_value_bool("", &b));
        cr_expect_not(conf_value_bool("yess", &b));
        cr_expect_str_eq(conf_value_format_size(pool, 0), "0");
        cr_expect_str_eq(conf_value_format_size(pool, 1000), "1000");
        cr_expect_str_eq(conf_value_format_size(pool, 3 * CONF_MIB), "3M");
        cr_expect_str_eq(conf_value_format_size(pool, CONF_GIB + CONF_KIB), "1048577k");
}

Test(conf, good_addresses)
{
        static const char *const good[] = {
                "127.0.0.1:65535", "0.0.0.0:1", "[::]:143", "[fe80::1]:993",
                "[::ffff:192.0.2.1]:25", "mail-1.example.org:24", "localhost:110",
                "x:1", "unix:/", "unix:/run/cove/lmtp.sock",
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                const char *reason = NULL;
                cr_expect_eq(conf_value_check_addr(good[i], &reason), 0, "%s: %s", good[i],
                             reason == NULL ? "" : reason);
        }
        const char *reason = NULL;
        cr_expect_eq(conf_value_check_addr("a-.b:1", &reason), -1);
        cr_expect_eq(conf_value_check_addr("1.2.3:1", &reason), -1);
        cr_expect_str_eq(reason, "bad IPv4 address");
}

/* test-address.c - MAIL FROM / RCPT TO argument syntax. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "pool.h"

static struct pool *pool;

static void setup(void)
{
        pool = pool_create("test", 1024);
}

static void teardown(void)
{
        pool_destroy(&pool);
}

TestSuite(lmtp_address, .init = setup, .fini = teardown);

static const char *ok(const char *text, enum lmtp_path_kind kind, struct lmtp_path *path)
{
        const char *error = NULL;
        cr_assert_eq(lmtp_path_parse(pool, text, kind, path, &error), 0, "%s: %s", text,
                     error);
        return path->mailbox;
}

static void bad(const char *text, enum lmtp_path_kind kind)
{
        struct lmtp_path path;
        const char *error = NULL;
        cr_assert_eq(lmtp_path_parse(pool, text, kind, &path, &error), -1, "%s accepted",
                     text);
        cr_assert(error != NULL && error[0] != '\0');
}

Test(lmtp_address, plain_and_null_paths)
{
        struct lmtp_path p;
        cr_assert_str_eq(ok("<a.b@example.org>", LMTP_PATH_REVERSE, &p), "a.b@example.org");
        cr_assert_str_eq(ok("<>", LMTP_PATH_REVERSE, &p), "");
        cr_assert_str_eq(ok(" <x+tag@Example.ORG>", LMTP_PATH_FORWARD, &p),
                         "x+tag@Example.ORG");
        cr_assert_str_eq(ok("<postmaster>", LMTP_PATH_FORWARD, &p), "postmaster");
        cr_assert_str_eq(ok("<u@[192.0.2.1]>", LMTP_PATH_FORWARD, &p), "u@[192.0.2.1]");
}

Test(lmtp_address, quoted_local_part_and_route)
{
        struct lmtp_path p;
        cr_assert_str_eq(ok("<\"john\"@example.org>", LMTP_PATH_FORWARD, &p),
                         "john@example.org");
        cr_assert_str_eq(ok("<\"a\\\"b c\"@example.org>", LMTP_PATH_FORWARD, &p),
                         "a\"b c@example.org");
        cr_assert_str_eq(ok("<@relay.example,@b.example:u@example.org>", LMTP_PATH_FORWARD,
                            &p), "u@example.org");
}

Test(lmtp_address, parameters)
{
        struct lmtp_path p;
        ok("<a@b.c> SIZE=1234 BODY=8BITMIME  FLAG", LMTP_PATH_REVERSE, &p);
        cr_assert_eq(p.param_count, 3);
        cr_assert_str_eq(p.params[0].key, "SIZE");
        cr_assert_str_eq(p.params[0].value, "1234");
        cr_assert_str_eq(p.params[1].value, "8BITMIME");
        cr_assert_str_eq(p.params[2].key, "FLAG");
        cr_assert_null(p.params[2].value);
}

Test(lmtp_address, malformed)
{
        bad("a@b.c", LMTP_PATH_FORWARD);
        bad("<a@b.c", LMTP_PATH_FORWARD);
        bad("<>", LMTP_PATH_FORWARD);
        bad("<a@>", LMTP_PATH_FORWARD);
        bad("<@b.c>", LMTP_PATH_FORWARD);
        bad("<a..b@c.d>", LMTP_PATH_FORWARD);
        bad("<.a@c.d>", LMTP_PATH_FORWARD);
        bad("<a@b..c>", LMTP_PATH_FORWARD);
        bad("<a b@c.d>", LMTP_PATH_FORWARD);
        bad("<a@b.c>garbage", LMTP_PATH_FORWARD);
        bad("<a@b.c> =x", LMTP_PATH_FORWARD);
        bad("<local>", LMTP_PATH_REVERSE);
        bad("<\"unterminated@b.c>", LMTP_PATH_FORWARD);
        bad("<\"\"@b.c>", LMTP_PATH_FORWARD);
        bad("<a\x01@b.c>", LMTP_PATH_FORWARD);
        bad("<a@[1.2.3.4>", LMTP_PATH_FORWARD);
        bad("<@x:>", LMTP_PATH_FORWARD);
        bad("", LMTP_PATH_REVERSE);
}

Test(lmtp_address, limits)
{
        char local[400], text[512];
        memset(local, 'a', sizeof(local) - 1);
        local[sizeof(local) - 1] = '\0';
        snprintf(text, sizeof(text), "<%s@example.org>", local);
        bad(text, LMTP_PATH_FORWARD);
        struct lmtp_path p;
        char params[1024] = "<a@b.c>";
        for (int i = 0; i < 17; i++)
                strcat(params, " X=1");
        bad(params, LMTP_PATH_REVERSE);
        params[strlen(params) - 4] = '\0';
        ok(params, LMTP_PATH_REVERSE, &p);
        cr_assert_eq(p.param_count, 16);
}

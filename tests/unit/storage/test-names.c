/* Unit tests for storage/store-names.c: user and mailbox name rules and
 * normal forms, keyword checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"
#include "store-private.h"

static struct pool *pool;
static void setup(void) { pool = pool_create("test", 0); }
static void teardown(void) { pool_destroy(&pool); }

TestSuite(names, .init = setup, .fini = teardown);

struct name_case {
        const char *in;
        const char *out;   /* NULL: refused */
};

Test(names, user_names)
{
        static const struct name_case cases[] = {
                { "alice@example.org", "alice@example.org" },
                { "Alice@EXAMPLE.Org", "Alice@example.org" },
                { "a.b+tag@sub.example.org", "a.b+tag@sub.example.org" },
                { "jörg@bücher.example", "jörg@bücher.example" },
                { "x@localhost", "x@localhost" },
                { "", NULL },
                { "alice", NULL },
                { "@example.org", NULL },
                { "alice@", NULL },
                { "a@b@c", NULL },
                { "al ice@example.org", NULL },
                { "alice@exa mple.org", NULL },
                { "al\tice@example.org", NULL },
                { "alice@example..org", NULL },
                { "alice@.example.org", NULL },
                { "alice@example.org.", NULL },
                { "alice@exa_mple.org", NULL },
                { "al\"ice@example.org", NULL },
                { "a<b@example.org", NULL },
                { "\xc3\x28@example.org", NULL },          /* invalid UTF-8 */
                { "\xc0\xaf@example.org", NULL },          /* overlong '/' */
                { "\xed\xa0\x80@example.org", NULL },      /* surrogate */
                { "al\x7f" "ice@example.org", NULL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *out = NULL, *error = NULL;
                bool ok = store_user_name_normalize(pool, cases[i].in, &out, &error);
                if (cases[i].out == NULL) {
                        cr_assert(!ok, "accepted '%s'", cases[i].in);
                        cr_assert_not_null(error);
                } else {
                        cr_assert(ok, "refused '%s': %s", cases[i].in, error);
                        cr_assert_str_eq(out, cases[i].out);
                }
        }
        const char *out, *error;
        cr_assert(!store_user_name_normalize(pool, NULL, &out, &error));
}

Test(names, user_name_lengths)
{
        const char *out, *error;
        char local[70], name[400];
        memset(local, 'a', 64);
        local[64] = '\0';
        snprintf(name, sizeof(name), "%s@example.org", local);
        cr_assert(store_user_name_normalize(pool, name, &out, &error));
        memset(local, 'a', 65);
        local[65] = '\0';
        snprintf(name, sizeof(name), "%s@example.org", local);
        cr_assert(!store_user_name_normalize(pool, name, &out, &error));
        /* A 64-byte label is one too many. */
        snprintf(name, sizeof(name), "a@%s.org", local + 1);
        cr_assert(!store_user_name_normalize(pool, name, &out, &error));
}

Test(names, mailbox_names)
{
        static const struct name_case cases[] = {
                { "INBOX", "INBOX" },
                { "inbox", "INBOX" },
                { "InBoX", "INBOX" },
                { "inbox/Sub", "INBOX/Sub" },
                { "Inboxes", "Inboxes" },
                { "Work/inbox", "Work/inbox" },
                { "Sent", "Sent" },
                { "a/b/c", "a/b/c" },
                { "Entwürfe", "Entwürfe" },
                { "日本語/メール", "日本語/メール" },
                { "with space", "with space" },
                { "", NULL },
                { "/a", NULL },
                { "a/", NULL },
                { "a//b", NULL },
                { "/", NULL },
                { "a\nb", NULL },
                { "a\x01", NULL },
                { "a\x7f", NULL },
                { "\xff", NULL },
                { "\xe2\x82", NULL },                      /* truncated */
                { "\xf4\x90\x80\x80", NULL },              /* > U+10FFFF */
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *out = NULL, *error = NULL;
                bool ok = store_mailbox_name_normalize(pool, cases[i].in, &out, &error);
                if (cases[i].out == NULL) {
                        cr_assert(!ok, "accepted '%s'", cases[i].in);
                        cr_assert_not_null(error);
                } else {
                        cr_assert(ok, "refused '%s': %s", cases[i].in, error);
                        cr_assert_str_eq(out, cases[i].out);
                }
        }
}

Test(names, mailbox_name_length)
{
        const char *out, *error;
        char *name = pool_alloc(pool, COVE_STORE_MAX_NAME + 2);
        memset(name, 'x', COVE_STORE_MAX_NAME);
        cr_assert(store_mailbox_name_normalize(pool, name, &out, &error));
        name[COVE_STORE_MAX_NAME] = 'x';
        cr_assert(!store_mailbox_name_normalize(pool, name, &out, &error));
}

Test(names, keywords)
{
        const char *const *out;
        size_t n;
        const char *error;
        const char *const ok[] = { "$Forwarded", "Junk", "$forwarded", "NonJunk", "a.b-c_d" };
        cr_assert(store_keywords_check(pool, ok, 5, &out, &n, &error));
        cr_assert_eq(n, 4, "case-insensitive duplicates collapse");
        cr_assert_str_eq(out[0], "$Forwarded");
        cr_assert_str_eq(out[3], "a.b-c_d");

        static const char *const bad[] = {
                "", "a b", "a(b", "a)", "{x", "%", "*", "\"q\"", "back\\slash", "]",
                "\\Seen", "caf\xc3\xa9", "tab\t",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert(!store_keywords_check(pool, &bad[i], 1, &out, &n, &error),
                          "accepted '%s'", bad[i]);

        char *long_kw = pool_alloc(pool, COVE_STORE_MAX_KEYWORD + 2);
        memset(long_kw, 'k', COVE_STORE_MAX_KEYWORD);
        const char *one[] = { long_kw };
        cr_assert(store_keywords_check(pool, one, 1, &out, &n, &error));
        long_kw[COVE_STORE_MAX_KEYWORD] = 'k';
        cr_assert(!store_keywords_check(pool, one, 1, &out, &n, &error));

        const char *many[COVE_STORE_MAX_KEYWORDS + 1];
        for (size_t i = 0; i <= COVE_STORE_MAX_KEYWORDS; i++)
                many[i] = pool_printf(pool, "kw%zu", i);
        cr_assert(store_keywords_check(pool, many, COVE_STORE_MAX_KEYWORDS, &out, &n, &error));
        cr_assert_eq(n, COVE_STORE_MAX_KEYWORDS);
        cr_assert(!store_keywords_check(pool, many, COVE_STORE_MAX_KEYWORDS + 1, &out, &n,
                                        &error));
        cr_assert_str_eq(error, "too many keywords");
        cr_assert(store_keywords_check(pool, NULL, 0, &out, &n, &error));
        cr_assert_eq(n, 0);
}

/* test-search-parse.c - SEARCH argument parsing: every key, CHARSET, RETURN,
 * sets, lists, malformed input and the depth/size bounds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"
#include "search-test.h"
#include "seqset.h"

TestSuite(search_parse, .init = stest_setup, .fini = stest_teardown);

static struct imap_search_program *parse_ok(const char *text)
{
        struct imap_search_program *prog;
        cr_assert_eq(stest_parse(text, &prog), IMAP_SEARCH_PARSE_OK, "refused: %s", text);
        cr_assert_not_null(prog);
        return prog;
}

static void parse_bad(const char *text)
{
        struct imap_search_program *prog;
        cr_assert_eq(stest_parse(text, &prog), IMAP_SEARCH_PARSE_BAD, "accepted: %s", text);
}

Test(search_parse, every_rfc3501_key)
{
        static const char *const good[] = {
                "ALL", "ANSWERED", "BCC joe", "BEFORE 1-Feb-1994", "BODY \"a b\"",
                "CC x", "DELETED", "DRAFT", "FLAGGED", "FROM alice",
                "HEADER X-Foo bar", "KEYWORD $Forwarded", "LARGER 100", "NEW",
                "NOT SEEN", "OLD", "ON 01-Jan-2024", "OR SEEN FLAGGED", "RECENT", "SEEN",
                "SENTBEFORE 1-Jan-2000", "SENTON \"8-Mar-2024\"", "SENTSINCE 29-Feb-2024",
                "SINCE 31-Dec-1999", "SMALLER 5", "SUBJECT lunch", "TEXT hello", "TO bob",
                "UID 1:*", "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED",
                "UNKEYWORD junk", "UNSEEN", "1,3:5,*", "(SEEN FLAGGED)",
                "all", "sUbJeCt x", "HEADER Subject \"\"",
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                parse_ok(good[i]);
}

Test(search_parse, tree_shape)
{
        struct imap_search_program *prog = parse_ok("SEEN OR FROM a (TO b BODY c) TEXT d");
        const struct imap_search_key *k = prog->root->children;

        cr_assert_eq(prog->root->type, IMAP_SEARCH_KEY_AND);
        cr_assert_eq(k->type, IMAP_SEARCH_KEY_FLAGS_SET);
        cr_assert_eq(k->flags, COVE_FLAG_SEEN);
        k = k->next;
        cr_assert_eq(k->type, IMAP_SEARCH_KEY_OR);
        cr_assert_eq(k->children->type, IMAP_SEARCH_KEY_ADDRESS);
        cr_assert_str_eq(k->children->str, "From");
        cr_assert_eq(k->children->next->type, IMAP_SEARCH_KEY_AND);
        cr_assert_null(k->children->next->next);
        cr_assert_eq(k->next->type, IMAP_SEARCH_KEY_TEXT);
        cr_assert(prog->uses_header);
        cr_assert(prog->uses_body);
        cr_assert_eq(prog->scan_count, 2);
        cr_assert(!prog->esearch);
}

Test(search_parse, record_only_program_needs_no_bytes)
{
        struct imap_search_program *prog = parse_ok("SEEN UID 1:5 LARGER 3 SINCE 1-Jan-2020");
        cr_assert(!prog->uses_header);
        cr_assert(!prog->uses_body);
}

Test(search_parse, sets)
{
        struct imap_search_program *prog = parse_ok("UID 5:2,*,7:* 3");
        const struct imap_search_key *k = prog->root->children;
        struct imap_search_mailbox box = { .messages = 4, .max_uid = 9 };

        cr_assert_eq(k->type, IMAP_SEARCH_KEY_UIDSET);
        cr_assert_str_eq(k->set_text, "5:2,*,7:*");
        cr_assert_eq(k->next->type, IMAP_SEARCH_KEY_SEQSET);
        imap_search_bind(prog, test_pool, &box);
        cr_assert(imap_seqset_contains(k->set, 2));
        cr_assert(imap_seqset_contains(k->set, 8));
        cr_assert(imap_seqset_contains(k->set, 9));
        cr_assert(!imap_seqset_contains(k->set, 6));
        cr_assert(!imap_seqset_contains(k->set, 10));
        cr_assert(imap_seqset_contains(k->next->set, 3));
        parse_ok("4294967295");
        parse_bad("UID 0");
        parse_bad("0:3");
        parse_bad("4294967296");
        parse_bad("1,,2");
        parse_bad("1:");
        parse_bad("UID 1:x");
        parse_bad("UID");
        parse_bad("UID \"1\"");
        parse_bad("$");
        parse_bad("UID $");
}

Test(search_parse, dates)
{
        struct imap_search_program *prog = parse_ok("ON 1-Jan-1970 SINCE \"2-jan-1970\"");
        cr_assert_eq(prog->root->children->day, 0);
        cr_assert_eq(prog->root->children->next->day, 1);
        prog = parse_ok("BEFORE 29-Feb-2000");
        cr_assert_eq(prog->root->children->day, 11016);
        parse_bad("BEFORE 29-Feb-1900");
        parse_bad("BEFORE 32-Jan-2000");
        parse_bad("BEFORE 1-Foo-2000");
        parse_bad("BEFORE 1-Jan-99");
        parse_bad("BEFORE 1-Jan-19999");
        parse_bad("BEFORE 2000-01-01");
        parse_bad("BEFORE 001-Jan-2000");
        parse_bad("SINCE");
        parse_bad("SENTON (1-Jan-2000)");
}

Test(search_parse, numbers_and_keywords)
{
        struct imap_search_program *prog = parse_ok("LARGER 18446744073709551615");
        cr_assert_eq(prog->root->children->size, UINT64_MAX);
        parse_bad("LARGER 18446744073709551616");
        parse_bad("LARGER -1");
        parse_bad("SMALLER abc");
        parse_bad("SMALLER \"5\"");
        prog = parse_ok("KEYWORD \\Seen UNKEYWORD \\Draft");
        cr_assert_eq(prog->root->children->type, IMAP_SEARCH_KEY_FLAGS_SET);
        cr_assert_eq(prog->root->children->next->type, IMAP_SEARCH_KEY_FLAGS_UNSET);
        parse_bad("KEYWORD \\Bogus");
        parse_bad("KEYWORD \"quoted\"");
        parse_bad("KEYWORD");
}

Test(search_parse, strings_and_literals)
{
        struct imap_search_program *prog = parse_ok("SUBJECT {6}\nGr\xc3\xbc\xc3\x9f");
        const struct imap_search_key *k = prog->root->children;

        cr_assert_eq(k->type, IMAP_SEARCH_KEY_HEADER);
        cr_assert_str_eq(k->str, "Subject");
        cr_assert_eq(k->needle.len, 6);
        cr_assert(memcmp(k->needle.pat, "gr\xc3\xbc\xc3\x9f", 6) == 0);
        prog = parse_ok("HEADER {8}\nX-Mailer {0}\n");
        cr_assert_str_eq(prog->root->children->str, "X-Mailer");
        cr_assert_eq(prog->root->children->needle.len, 0);
        parse_bad("HEADER \"\" x");
        parse_bad("HEADER X-Foo");
        parse_bad("FROM");
        parse_bad("FROM (a)");
}

Test(search_parse, nul_in_string_is_refused)
{
        const struct imap_search_tok toks[] = {
                { .type = IMAP_SEARCH_TOK_ATOM, .data = "BODY", .len = 4 },
                { .type = IMAP_SEARCH_TOK_STRING, .data = "a\0b", .len = 3 },
        };
        struct imap_search_program *prog;
        const char *error;

        cr_assert_eq(imap_search_parse(test_pool, toks, 2, &prog, &error),
                     IMAP_SEARCH_PARSE_BAD);
}

Test(search_parse, charset)
{
        struct imap_search_program *prog;

        parse_ok("CHARSET UTF-8 TEXT x");
        parse_ok("CHARSET us-ascii ALL");
        parse_ok("CHARSET \"utf-8\" ALL");
        cr_assert_eq(stest_parse("CHARSET ISO-8859-1 TEXT x", &prog),
                     IMAP_SEARCH_PARSE_BADCHARSET);
        cr_assert_eq(stest_parse("CHARSET KOI8-R ALL", &prog), IMAP_SEARCH_PARSE_BADCHARSET);
        parse_bad("CHARSET");
        parse_bad("CHARSET UTF-8");
        parse_bad("ALL CHARSET UTF-8");
}

Test(search_parse, return_options)
{
        struct imap_search_program *prog = parse_ok("RETURN (MIN MAX) ALL");
        cr_assert(prog->esearch);
        cr_assert_eq(prog->return_opts, IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX);
        prog = parse_ok("RETURN () SEEN");
        cr_assert_eq(prog->return_opts, IMAP_SEARCH_RETURN_ALL);
        prog = parse_ok("RETURN (count all) CHARSET UTF-8 SEEN");
        cr_assert_eq(prog->return_opts, IMAP_SEARCH_RETURN_COUNT | IMAP_SEARCH_RETURN_ALL);
        parse_bad("RETURN (SAVE) ALL");
        parse_bad("RETURN (MIN ALL");
        parse_bad("RETURN MIN ALL");
        parse_bad("RETURN (MIN)");
        parse_bad("RETURN ((MIN)) ALL");
        parse_bad("ALL RETURN (MIN)");
}

Test(search_parse, malformed)
{
        static const char *const bad[] = {
                "", "FOO", "NOT", "OR SEEN", "OR", "(", ")", "()", "(SEEN", "SEEN)",
                "((SEEN)", "SEEN ())", "\"ALL\"", "VERYLONGUNKNOWNKEYWORDNAME",
                "NOT NOT", "OR (SEEN) (", "HEADER", "TEXT", "SENTBEFORE x",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                parse_bad(bad[i]);
}

static char *repeat(const char *head, const char *unit, unsigned n, const char *tail)
{
        size_t ul = strlen(unit);
        char *s = pool_alloc(test_pool, strlen(head) + ul * n + strlen(tail) + 1);
        char *p = stpcpy(s, head);
        for (unsigned i = 0; i < n; i++)
                p = stpcpy(p, unit);
        strcpy(p, tail);
        return s;
}

Test(search_parse, depth_is_bounded)
{
        char *ok_parens = repeat("", "(", IMAP_SEARCH_MAX_DEPTH - 1, "SEEN");
        ok_parens = repeat(ok_parens, ")", IMAP_SEARCH_MAX_DEPTH - 1, "");
        parse_ok(ok_parens);

        char *deep = repeat("", "(", IMAP_SEARCH_MAX_DEPTH, "SEEN");
        deep = repeat(deep, ")", IMAP_SEARCH_MAX_DEPTH, "");
        parse_bad(deep);

        parse_ok(repeat("", "NOT ", IMAP_SEARCH_MAX_DEPTH - 1, "SEEN"));
        parse_bad(repeat("", "NOT ", IMAP_SEARCH_MAX_DEPTH, "SEEN"));
        /* A very deep list must be refused without exhausting the stack. */
        parse_bad(repeat("", "(", 100000, "SEEN"));
        parse_bad(repeat("", "NOT ", 100000, "SEEN"));
}

Test(search_parse, or_chains_flatten)
{
        /* Left-nested (Thunderbird style) and right-nested chains of 200
           alternatives are one OR node, however deep they would nest. */
        struct imap_search_program *prog =
                parse_ok(repeat("", "OR ", 199, repeat("", "FROM x ", 200, "")));
        const struct imap_search_key *or = prog->root->children;
        unsigned n = 0;

        cr_assert_eq(or->type, IMAP_SEARCH_KEY_OR);
        for (const struct imap_search_key *k = or->children; k != NULL; k = k->next)
                n++;
        cr_assert_eq(n, 200);
        prog = parse_ok(repeat("", "OR SEEN ", 199, "DRAFT"));
        n = 0;
        for (const struct imap_search_key *k = prog->root->children->children; k != NULL;
             k = k->next)
                n++;
        cr_assert_eq(n, 200);
}

Test(search_parse, key_count_is_bounded)
{
        parse_ok(repeat("", "SEEN ", IMAP_SEARCH_MAX_KEYS - 1, ""));
        parse_bad(repeat("", "SEEN ", IMAP_SEARCH_MAX_KEYS, ""));
        parse_bad(repeat("", "OR ", IMAP_SEARCH_MAX_KEYS, repeat("", "SEEN ",
                                                             IMAP_SEARCH_MAX_KEYS + 1, "")));
}

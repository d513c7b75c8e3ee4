/* test-parser.c - the IMAP tokenizer: tokens, literals fed whole and
 * trickled, spooled literals, bounds and errors. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "pool.h"
#include "spool.h"

static struct pool *pool;
static struct imap_parser *parser;

static void setup(void)
{
        pool = pool_create("test", 1024);
        struct imap_parser_settings set = {
                .max_literal = 1000, .max_spool_literal = 100000, .max_command = 4000,
        };
        parser = imap_parser_create(pool, &set);
        imap_parser_reset(parser, pool);
}

static void teardown(void)
{
        pool_destroy(&pool);
}

TestSuite(imap_parser, .init = setup, .fini = teardown);

static enum imap_parse_result feed(const char *line)
{
        return imap_parser_feed_line(parser, line, strlen(line));
}

/* Feeds literal bytes in pieces of `step` bytes (0: random 1..7). */
static enum imap_parse_result feed_literal(const char *data, size_t len, size_t step)
{
        enum imap_parse_result r = PARSE_MORE;
        size_t pos = 0;
        while (pos < len) {
                size_t n = step != 0 ? step : (size_t)(rand() % 7) + 1;
                if (n > len - pos)
                        n = len - pos;
                size_t taken;
                r = imap_parser_feed_bytes(parser, data + pos, n, &taken);
                cr_assert_eq(taken, n);
                pos += n;
        }
        return r;
}

Test(imap_parser, atoms_quoted_nil_lists)
{
        cr_assert_eq(feed("a1 FETCH 1:* (FLAGS \"q \\\"x\\\\\" NIL BODY.PEEK[HEADER.FIELDS (A B)]<0.10>)"),
                     PARSE_OK);
        size_t n;
        const struct imap_arg *args = imap_parser_args(parser, &n);
        cr_assert_eq(n, 4);
        cr_assert_str_eq(args[0].str, "a1");
        cr_assert_str_eq(args[2].str, "1:*");
        cr_assert_eq(args[3].type, IMAP_ARG_LIST);
        cr_assert_eq(args[3].list_count, 4);
        cr_assert_eq(args[3].list[1].type, IMAP_ARG_QUOTED);
        cr_assert_str_eq(args[3].list[1].str, "q \"x\\");
        cr_assert_eq(args[3].list[2].type, IMAP_ARG_NIL);
        cr_assert_str_eq(args[3].list[3].str, "BODY.PEEK[HEADER.FIELDS (A B)]<0.10>");
}

/* RFC 3501 header-fld-name is an astring: quoted names inside a BODY or
   BODY.PEEK section stay in the one atom, as written. */
Test(imap_parser, section_quoted_field_names)
{
        const char *line = "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (\"From\" \"Sub ject\" X-Y "
                           "\"a]\\\"b\")]<0.5> body[1.HEADER.FIELDS.NOT (\"X\")])";
        cr_assert_eq(feed(line), PARSE_OK, "%s", imap_parser_error(parser));
        size_t n;
        const struct imap_arg *args = imap_parser_args(parser, &n);
        cr_assert_eq(n, 4);
        cr_assert_eq(args[3].list_count, 2);
        cr_assert_eq(args[3].list[0].type, IMAP_ARG_ATOM);
        cr_assert_str_eq(args[3].list[0].str,
                         "BODY.PEEK[HEADER.FIELDS (\"From\" \"Sub ject\" X-Y \"a]\\\"b\")]<0.5>");
        cr_assert_str_eq(args[3].list[1].str, "body[1.HEADER.FIELDS.NOT (\"X\")]");
}

/* Quoted strings are refused in other sections and outside brackets, and a
   quoted string inside a section follows the quoted-string rules. */
Test(imap_parser, section_quoted_errors)
{
        const char *bad[] = {
                "a FETCH 1 BINARY[\"1\"]", "a FETCH 1 X[\"y\"]", "a FETCH 1 BODY\"x\"[]",
                "a FETCH 1 BODY[HEADER.FIELDS (\"X)]", "a FETCH 1 BODY[HEADER.FIELDS (\"X\\q\")]",
                "a FETCH 1 BODY[HEADER.FIELDS (\"X\")", "a FETCH 1 BODY[]\"x\"",
                "a FETCH 1 BODY[HEADER.FIELDS (\"X\\",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                imap_parser_reset(parser, pool);
                cr_assert_eq(feed(bad[i]), PARSE_ERROR, "%s", bad[i]);
        }
}

/* A literal header-fld-name (RFC 3501 astring) inside a section: the atom
   continues after it, with the literal folded in as a quoted string. */
static void section_literal(size_t step)
{
        cr_assert_eq(feed("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From {4}"), PARSE_MORE);
        uint64_t size;
        bool sync;
        imap_parser_literal(parser, &size, &sync);
        cr_assert_eq(size, 4);
        cr_assert(sync);
        cr_assert(imap_parser_literal_accept(parser, NULL));
        cr_assert_eq(feed_literal("X-\"Y", 4, step), PARSE_MORE);
        cr_assert_eq(imap_parser_wants(parser), IMAP_WANT_LINE);
        cr_assert_eq(feed(" {2+}"), PARSE_MORE);
        cr_assert(imap_parser_literal_accept(parser, NULL));
        cr_assert_eq(feed_literal("\\z", 2, step), PARSE_MORE);
        cr_assert_eq(feed(")]<0.9> FLAGS)"), PARSE_OK, "%s", imap_parser_error(parser));
        size_t n;
        const struct imap_arg *args = imap_parser_args(parser, &n);
        cr_assert_eq(n, 4);
        cr_assert_eq(args[3].list_count, 2);
        cr_assert_eq(args[3].list[0].type, IMAP_ARG_ATOM);
        cr_assert_str_eq(args[3].list[0].str,
                         "BODY.PEEK[HEADER.FIELDS (From \"X-\\\"Y\" \"\\\\z\")]<0.9>");
        cr_assert_eq(args[3].list[0].len, strlen(args[3].list[0].str));
        cr_assert_str_eq(args[3].list[1].str, "FLAGS");
}

Test(imap_parser, section_literal_whole)
{
        section_literal(100);
}

Test(imap_parser, section_literal_trickled)
{
        section_literal(1);
        imap_parser_reset(parser, pool);
        section_literal(0);
}

Test(imap_parser, section_literal_errors)
{
        /* A name no quoted string can carry. */
        cr_assert_eq(feed("a FETCH 1 BODY[HEADER.FIELDS ({3}"), PARSE_MORE);
        cr_assert(imap_parser_literal_accept(parser, NULL));
        cr_assert_eq(feed_literal("a\rb", 3, 1), PARSE_MORE);
        cr_assert_eq(feed(")]"), PARSE_ERROR);
        cr_assert_str_eq(imap_parser_error(parser), "Invalid characters in header field name");
        /* Over the literal limit: skipped; the rest cannot parse. */
        imap_parser_reset(parser, pool);
        cr_assert_eq(feed("a FETCH 1 BODY[HEADER.FIELDS ({5000+}"), PARSE_MORE);
        cr_assert(!imap_parser_literal_accept(parser, NULL));
        imap_parser_literal_skip(parser);
        cr_assert_neq(feed(")]"), PARSE_OK);
        /* Not in other sections, and the literal must end the line. */
        const char *bad[] = { "a FETCH 1 BINARY[{1}", "a FETCH 1 BODY[HEADER.FIELDS ({1} x)]",
                              "a FETCH 1 BODY[HEADER.FIELDS ({x})]" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                imap_parser_reset(parser, pool);
                cr_assert_eq(feed(bad[i]), PARSE_ERROR, "%s", bad[i]);
        }
        /* A spool offered for it (APPEND position) is not used. */
        imap_parser_reset(parser, pool);
        cr_assert_eq(feed("a APPEND BODY[HEADER.FIELDS ({1}"), PARSE_MORE);
        struct imap_spool *spool = imap_spool_create(pool, "/tmp");
        cr_assert(imap_parser_literal_accept(parser, spool));
        cr_assert_eq(feed_literal("Q", 1, 1), PARSE_MORE);
        cr_assert_eq(imap_spool_size(spool), 0);
        imap_spool_destroy(&spool);
        cr_assert_eq(feed(")]"), PARSE_OK);
        size_t n;
        const struct imap_arg *args = imap_parser_args(parser, &n);
        cr_assert_str_eq(args[2].str, "BODY[HEADER.FIELDS (\"Q\")]");
}

static void literal_roundtrip(size_t step)
{
        cr_assert_eq(feed("a LOGIN {5}"), PARSE_MORE);
        uint64_t size;
        bool sync;
        imap_parser_literal(parser, &size, &sync);
        cr_assert_eq(size, 5);
        cr_assert(sync);
        cr_assert(imap_parser_literal_accept(parser, NULL));
        cr_assert_eq(imap_parser_wants(parser), IMAP_WANT_LITERAL);
        cr_assert_eq(feed_literal("us\0er", 5, step), PARSE_MORE);
        cr_assert_eq(imap_parser_wants(parser), IMAP_WANT_LINE);
        cr_assert_eq(feed(" {3+}"), PARSE_MORE);
        imap_parser_literal(parser, &size, &sync);
        cr_assert(!sync);
        cr_assert(imap_parser_literal_accept(parser, NULL));
        cr_assert_eq(feed_literal("pwd", 3, step), PARSE_MORE);
        cr_assert_eq(feed(""), PARSE_OK);
        size_t n;
        const struct imap_arg *args = imap_parser_args(parser, &n);
        cr_assert_eq(n, 4);
        cr_assert_eq(args[2].type, IMAP_ARG_LITERAL);
        cr_assert_eq(args[2].len, 5);
        cr_assert(memcmp(args[2].str, "us\0er", 5) == 0);
        cr_assert_str_eq(args[3].str, "pwd");
}

Test(imap_parser, literal_whole)
{
        literal_roundtrip(100);
}

Test(imap_parser, literal_trickled)
{
        literal_roundtrip(1);
        imap_parser_reset(parser, pool);
        srand(7);
        literal_roundtrip(0);
}

Test(imap_parser, literal_limits)
{
        cr_assert_eq(feed("a SELECT {1001}"), PARSE_MORE);
        cr_assert(!imap_parser_literal_accept(parser, NULL));
        imap_parser_reset(parser, pool);
        cr_assert_eq(feed("a APPEND x {100001+}"), PARSE_MORE);
        struct imap_spool *spool = imap_spool_create(pool, "/tmp");
        cr_assert(!imap_parser_literal_accept(parser, spool));
        imap_parser_literal_skip(parser);
        cr_assert_eq(feed(""), PARSE_OK);
        imap_spool_destroy(&spool);
}

Test(imap_parser, spooled_literal)
{
        static char big[90000];
        memset(big, 'x', sizeof(big));
        cr_assert_eq(feed("a APPEND INBOX {90000}"), PARSE_MORE);
        struct imap_spool *spool = imap_spool_create(pool, "/tmp");
        cr_assert(imap_parser_literal_accept(parser, spool));
        cr_assert_eq(feed_literal(big, sizeof(big), 4096), PARSE_MORE);
        cr_assert_eq(feed(""), PARSE_OK);
        size_t n;
        const struct imap_arg *args = imap_parser_args(parser, &n);
        cr_assert_eq(args[3].spool, spool);
        const void *data;
        size_t len;
        const char *error;
        cr_assert_eq(imap_spool_map(spool, &data, &len, &error), 0);
        cr_assert_eq(len, sizeof(big));
        cr_assert(memcmp(data, big, len) == 0);
        imap_spool_destroy(&spool);
}

Test(imap_parser, errors)
{
        const char *bad[] = {
                "a \"unterminated", "a (unclosed", "a )", "a {12", "a {x}", "a {5} x",
                "a \"bad\\q\"", "a \"x\"y", "a BODY[x", "a BODY[a[b]]", "a \x01",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                imap_parser_reset(parser, pool);
                cr_assert_eq(feed(bad[i]), PARSE_ERROR, "%s", bad[i]);
                cr_assert_not_null(imap_parser_error(parser));
        }
}

Test(imap_parser, nesting_and_size_bounds)
{
        char line[200] = "a ";
        for (int i = 0; i < 40; i++)
                strcat(line, "(");
        cr_assert_eq(feed(line), PARSE_ERROR);
        imap_parser_reset(parser, pool);
        char *huge = malloc(5000);
        memset(huge, 'a', 4999);
        huge[4999] = '\0';
        huge[1] = ' ';
        cr_assert_eq(feed(huge), PARSE_ERROR);
        free(huge);
}

Test(imap_parser, helpers)
{
        cr_assert(imap_tag_valid("A001"));
        cr_assert(!imap_tag_valid("a+b"));
        cr_assert(!imap_tag_valid(""));
        cr_assert(!imap_tag_valid("a*"));
        uint64_t size;
        cr_assert(imap_literal_plus_suffix("x {12+}", 7, &size));
        cr_assert_eq(size, 12);
        cr_assert(!imap_literal_plus_suffix("x {12}", 6, &size));
        cr_assert(!imap_literal_plus_suffix("x {+}", 5, &size));
}

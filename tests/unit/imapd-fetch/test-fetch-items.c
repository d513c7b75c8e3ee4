/* test-fetch-items.c - the FETCH attribute list: macros, every item name,
 * section atoms as the tokenizer hands them over (one atom per item), what
 * sets \Seen and what needs the structure, and refusals. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fetch-test.h"
#include "parser.h"

TestSuite(fetch_items, .init = ftest_setup, .fini = ftest_teardown);

static struct imap_arg atom(const char *s)
{
        return (struct imap_arg){ .type = IMAP_ARG_ATOM, .str = s, .len = strlen(s) };
}

static int parse_list(const char *const *names, size_t n, bool uid,
                      struct imap_fetch_request *req)
{
        struct imap_arg *list = calloc(n, sizeof(*list));
        for (size_t i = 0; i < n; i++)
                list[i] = atom(names[i]);
        struct imap_arg arg = { .type = IMAP_ARG_LIST, .list = list, .list_count = n };
        const char *error = NULL;
        int ret = imap_fetch_parse_items(test_pool, &arg, uid, req, &error);
        free(list);
        if (ret < 0)
                cr_assert_not_null(error);
        return ret;
}

static int parse_atom(const char *name, bool uid, struct imap_fetch_request *req)
{
        struct imap_arg arg = atom(name);
        const char *error = NULL;
        int ret = imap_fetch_parse_items(test_pool, &arg, uid, req, &error);
        if (ret < 0)
                cr_assert_not_null(error);
        return ret;
}

Test(fetch_items, macros)
{
        struct imap_fetch_request req;
        cr_assert_eq(parse_atom("all", false, &req), 0);
        cr_assert_eq(req.count, 4);
        cr_assert_eq(req.items[0].kind, IMAP_FETCH_FLAGS);
        cr_assert_eq(req.items[3].kind, IMAP_FETCH_ENVELOPE);
        cr_assert(req.needs_tree);
        cr_assert_not(req.sets_seen);
        cr_assert_eq(parse_atom("FAST", false, &req), 0);
        cr_assert_eq(req.count, 3);
        cr_assert_not(req.needs_tree);
        cr_assert_eq(parse_atom("Full", true, &req), 0);
        cr_assert_eq(req.count, 6);
        cr_assert_eq(req.items[0].kind, IMAP_FETCH_UID);
        cr_assert_eq(req.items[5].kind, IMAP_FETCH_BODY);
        /* Macros stand alone (RFC 3501 §6.4.5). */
        const char *in_list[] = { "ALL" };
        cr_assert_eq(parse_list(in_list, 1, false, &req), -1);
}

Test(fetch_items, every_simple_item)
{
        const char *names[] = { "uid", "FLAGS", "InternalDate", "RFC822.SIZE", "ENVELOPE",
                                "BODY", "BODYSTRUCTURE", "RFC822", "RFC822.HEADER",
                                "RFC822.TEXT" };
        struct imap_fetch_request req;
        cr_assert_eq(parse_list(names, 10, false, &req), 0);
        cr_assert_eq(req.count, 10);
        cr_assert_eq(req.items[7].kind, IMAP_FETCH_SECTION);
        cr_assert_str_eq(req.items[7].label, "RFC822");
        cr_assert_not(req.items[7].with_section);
        cr_assert_eq(req.items[8].section.text, IMAP_SECTION_HEADER);
        cr_assert(req.items[8].peek);
        cr_assert_eq(req.items[9].section.text, IMAP_SECTION_TEXT);
        cr_assert_not(req.items[9].peek);
        cr_assert(req.sets_seen);
}

Test(fetch_items, rfc822_header_alone_is_peek)
{
        struct imap_fetch_request req;
        cr_assert_eq(parse_atom("RFC822.HEADER", false, &req), 0);
        cr_assert_not(req.sets_seen);
        cr_assert(req.needs_tree);
        /* Whole-message bodies need no structure. */
        cr_assert_eq(parse_atom("RFC822", false, &req), 0);
        cr_assert(req.sets_seen);
        cr_assert_not(req.needs_tree);
        cr_assert_eq(parse_atom("BODY.PEEK[]<0.100>", false, &req), 0);
        cr_assert_not(req.sets_seen);
        cr_assert_not(req.needs_tree);
}

Test(fetch_items, section_atoms)
{
        const char *names[] = {
                "BODY[]", "body.peek[1.2.MIME]", "BODY[HEADER.FIELDS (From \"X-Y\" to)]<0.50>",
                "BODY.PEEK[2.HEADER.FIELDS.NOT (Received)]", "BINARY[1]", "BINARY.PEEK[1.2]<5.5>",
                "BINARY.SIZE[3]",
        };
        struct imap_fetch_request req;
        cr_assert_eq(parse_list(names, 7, true, &req), 0);
        cr_assert_eq(req.count, 8);
        cr_assert_eq(req.items[0].kind, IMAP_FETCH_UID);
        const struct imap_fetch_item *it = &req.items[1];
        cr_assert(it->with_section && !it->peek);
        cr_assert_str_eq(it->label, "BODY");
        it = &req.items[2];
        cr_assert(it->peek);
        cr_assert_str_eq(it->label, "BODY");
        cr_assert_str_eq(it->section.part, "1.2");
        cr_assert_eq(it->section.text, IMAP_SECTION_MIME);
        it = &req.items[3];
        cr_assert_eq(it->section.text, IMAP_SECTION_HEADER_FIELDS);
        cr_assert_eq(it->section.field_count, 3);
        cr_assert_str_eq(it->section.fields[0], "From");
        cr_assert_str_eq(it->section.fields[1], "X-Y");
        cr_assert_str_eq(it->section.fields[2], "to");
        cr_assert(it->section.partial);
        cr_assert_eq(it->section.count, 50);
        it = &req.items[4];
        cr_assert_eq(it->section.text, IMAP_SECTION_HEADER_FIELDS_NOT);
        cr_assert_str_eq(it->section.part, "2");
        cr_assert_eq(req.items[5].kind, IMAP_FETCH_BINARY);
        cr_assert(req.items[6].peek && req.items[6].section.partial);
        cr_assert_eq(req.items[7].kind, IMAP_FETCH_BINARY_SIZE);
        cr_assert(req.sets_seen);
        cr_assert(req.needs_tree);
}

Test(fetch_items, uid_fetch_has_one_uid)
{
        const char *names[] = { "FLAGS", "UID" };
        struct imap_fetch_request req;
        cr_assert_eq(parse_list(names, 2, true, &req), 0);
        cr_assert_eq(req.count, 2);
        cr_assert_eq(req.items[0].kind, IMAP_FETCH_UID);
        cr_assert_eq(req.items[1].kind, IMAP_FETCH_FLAGS);
        cr_assert_eq(parse_list(names, 2, false, &req), 0);
        cr_assert_eq(req.items[1].kind, IMAP_FETCH_UID);
}

Test(fetch_items, refusals)
{
        static const char *bad[] = {
                "BODY[", "BODY[]]", "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
                "BODY[HEADER.FIELDS (A B]", "BODY[HEADER.FIELDS (\"A]", "BODY[TEXT (A)]",
                "BODY[HEADER.FIELDS (A)] ", "BODY[]<0.0>", "BODY[]<5>", "BODY[]x",
                "BODY[0]", "BODY.PEK[]", "BINARY[HEADER]", "BINARY[1.TEXT]",
                "BINARY.SIZE[1]<0.5>", "RFC822.HEADERS", "FOO", "BODY [1]", "[1]",
                "BODY[HEADER.FIELDS (A:B)]", "BODY[1.MIME (A)]", "BODY[HEADER.FIELDS  (A)]",
                "BODY[HEADER.FIELDS (A  B)]",
        };
        struct imap_fetch_request req;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert_eq(parse_atom(bad[i], false, &req), -1, "'%s' accepted", bad[i]);
        struct imap_arg quoted = { .type = IMAP_ARG_QUOTED, .str = "FLAGS", .len = 5 };
        struct imap_arg list = { .type = IMAP_ARG_LIST, .list = &quoted, .list_count = 1 };
        const char *error;
        cr_assert_eq(imap_fetch_parse_items(test_pool, &quoted, false, &req, &error), -1);
        cr_assert_eq(imap_fetch_parse_items(test_pool, &list, false, &req, &error), -1);
        struct imap_arg empty = { .type = IMAP_ARG_LIST, .list_count = 0 };
        cr_assert_eq(imap_fetch_parse_items(test_pool, &empty, false, &req, &error), -1);
}

Test(fetch_items, item_count_bounded)
{
        const char *names[IMAP_FETCH_MAX_ITEMS + 1];
        struct imap_fetch_request req;
        for (size_t i = 0; i < IMAP_FETCH_MAX_ITEMS + 1; i++)
                names[i] = "FLAGS";
        cr_assert_eq(parse_list(names, IMAP_FETCH_MAX_ITEMS, false, &req), 0);
        cr_assert_eq(parse_list(names, IMAP_FETCH_MAX_ITEMS + 1, false, &req), -1);
}

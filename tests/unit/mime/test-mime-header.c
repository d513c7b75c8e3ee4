/* Unit tests for core/mime-header.c, mime-params.c and mime-address.c:
 * field iteration and lookup, unfolding, parameters, address lists. */
#include <criterion/criterion.h>
#include <string.h>

#include "mime-private.h"
#include "mime-test.h"
#include "pool.h"

TestSuite(mime_header, .init = mtest_setup, .fini = mtest_teardown);

static const char block[] =
        "Received: from a\r\n"
        "\tby b\r\n"
        "no colon here\r\n"
        "X-Empty:\r\n"
        "subject : Hello\r\n"
        "  world\r\n"
        "Received: from c\n"
        "\r\n"
        "Body-Like: not a field\r\n";

Test(mime_header, iterates_fields)
{
        size_t pos = 0;
        struct mime_header_field f;
        const char *names[] = { "Received", "X-Empty", "subject", "Received" };
        const char *values[] = { " from a\r\n\tby b", "", " Hello\r\n  world", " from c" };

        for (int i = 0; i < 4; i++) {
                cr_assert(mime_header_next(block, sizeof(block) - 1, &pos, &f));
                cr_assert_eq(f.name_len, strlen(names[i]));
                cr_assert_eq(strncmp(f.name, names[i], f.name_len), 0);
                cr_assert_eq(f.value_len, strlen(values[i]), "field %d", i);
                cr_assert_eq(strncmp(f.value, values[i], f.value_len), 0);
                cr_assert_eq(block[f.offset + f.size - 1], '\n');
        }
        cr_assert_eq(f.offset, strstr(block, "Received: from c") - block);
        cr_assert_eq(f.size, strlen("Received: from c\n"));
        cr_assert_not(mime_header_next(block, sizeof(block) - 1, &pos, &f));
}

Test(mime_header, finds_values)
{
        const char *const *values;
        cr_assert_eq(mime_header_find(test_pool, block, sizeof(block) - 1, "RECEIVED", &values), 2);
        cr_assert_str_eq(values[0], "from a\tby b");
        cr_assert_str_eq(values[1], "from c");
        cr_assert_null(values[2]);
        cr_assert_eq(mime_header_find(test_pool, block, sizeof(block) - 1, "Subject", &values), 1);
        cr_assert_str_eq(values[0], "Hello  world");
        cr_assert_eq(mime_header_find(test_pool, block, sizeof(block) - 1, "Body-Like", &values), 0);
        cr_assert_null(values[0]);
        /* A block without the blank line, ending mid-field. */
        cr_assert_eq(mime_header_find(test_pool, "To: x\r\n y", 9, "to", &values), 1);
        cr_assert_str_eq(values[0], "x y");
}

Test(mime_header, unfolds)
{
        cr_assert_str_eq(mime_header_unfold(test_pool, "  a\r\n b\n\tc  ", 12), "a b\tc");
        cr_assert_str_eq(mime_header_unfold(test_pool, "\r\n", 2), "");
        cr_assert_str_eq(mime_header_unfold(test_pool, "x\0y", 3), "xy");
}

static const struct mime_param *params(const char *value, unsigned *count_r)
{
        const struct mime_param *p;
        mime_params_parse(test_pool, value, &p, count_r);
        return p;
}

Test(mime_header, parameters)
{
        unsigned n;
        const struct mime_param *p = params("; boundary=----=_Part_1_2.3; charset = \"a\\\"b\" ;"
                                            " junk; Format=Flowed; charset=dup", &n);
        cr_assert_eq(n, 3);
        cr_assert_str_eq(p[0].name, "boundary");
        cr_assert_str_eq(p[0].value, "----=_Part_1_2.3");
        cr_assert_str_eq(p[1].value, "a\"b");
        cr_assert_str_eq(p[2].name, "format");
        cr_assert_str_eq(p[2].value, "Flowed");
        cr_assert_null(p[2].charset);

        /* Sections out of order, a gap ends the value. */
        p = params(";title*2=\"c\";title*0=\"a\";title*1=b;title*4=e", &n);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(p[0].value, "abc");
        /* name*= wins over name=; unknown charset keeps decoded bytes. */
        p = params(";name=plain;name*=x-unknown''%41%00%42", &n);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(p[0].value, "AB");
        cr_assert_str_eq(p[0].charset, "x-unknown");
        /* Leading-zero section numbers are not sections. */
        p = params(";a*01=x", &n);
        cr_assert_str_eq(p[0].name, "a*01");
        p = params("", &n);
        cr_assert_eq(n, 0);
        cr_assert_null(p);
}

static struct mime_address_list addrs(const char *value)
{
        struct mime_address_list l;
        mime_address_list_parse(test_pool, value, &l);
        return l;
}

Test(mime_header, address_edge_cases)
{
        struct mime_address_list l = addrs("");
        cr_assert_eq(l.count, 0);
        l = addrs("   ,, ,");
        cr_assert_eq(l.count, 0);
        l = addrs("<>");
        cr_assert_eq(l.count, 0);
        l = addrs("Nobody <>");
        cr_assert_eq(l.count, 1);
        cr_assert_str_eq(l.addrs[0].name, "Nobody");
        cr_assert_null(l.addrs[0].mailbox);
        l = addrs("a@b; c@d");
        cr_assert_eq(l.count, 2);
        cr_assert_str_eq(l.addrs[1].mailbox, "c");
        l = addrs("Team: x@y.z");       /* unterminated group */
        cr_assert_eq(l.count, 3);
        cr_assert_eq(l.addrs[2].kind, MIME_ADDRESS_GROUP_END);
        l = addrs("\"john doe\"@example.com (The (nested) Man)");
        cr_assert_eq(l.count, 1);
        cr_assert_str_eq(l.addrs[0].mailbox, "\"john doe\"");
        cr_assert_str_eq(l.addrs[0].name, "The (nested) Man");
        l = addrs("John Q. Public <JQB@a.b.example>, x@[192.0.2.1]");
        cr_assert_str_eq(l.addrs[0].name, "John Q. Public");
        cr_assert_str_eq(l.addrs[0].host, "a.b.example");
        cr_assert_str_eq(l.addrs[1].host, "[192.0.2.1]");
        l = addrs("\"unterminated <a@b>");
        cr_assert_eq(l.count, 1);
        l = addrs("(((deep comment never closed");
        cr_assert_eq(l.count, 0);
}

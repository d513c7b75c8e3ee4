/* test-search-text.c - case folding, needles and the streaming sink (matches
 * and characters split across pieces), plus the date helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "pool.h"
#include "search-test.h"

TestSuite(search_text, .init = stest_setup, .fini = stest_teardown);

static const char *fold(const char *s)
{
        size_t len;
        return (const char *)imap_search_fold(test_pool, s, strlen(s), &len);
}

Test(search_text, folding)
{
        cr_assert_str_eq(fold("Hello WORLD 123"), "hello world 123");
        cr_assert_str_eq(fold("GRÜSSE ÀÉÎÕÜ Ý"), "grüsse àéîõü ý");
        cr_assert_str_eq(fold("×÷ß"), "×÷ß");
        cr_assert_str_eq(fold("ŁÓDŹ ŽŠČ Ÿ Œ İ"), "łódź žšč ÿ œ i");
        cr_assert_str_eq(fold("ΑΘΗΝΑ Άλφα ΣΟΦΟΣ σοφος"), "αθηνα άλφα σοφοσ σοφοσ");
        cr_assert_str_eq(fold("МОСКВА Ёж"), "москва ёж");
        cr_assert_str_eq(fold("日本語 €"), "日本語 €");
        /* invalid UTF-8 passes unchanged */
        cr_assert_str_eq(fold("A\xff\xc3(B\xc3"), "a\xff\xc3(b\xc3");
}

static bool find(const char *needle, const char *hay)
{
        struct imap_search_needle n;
        size_t len;
        unsigned char *h = imap_search_fold(test_pool, hay, strlen(hay), &len);

        imap_search_needle_init(test_pool, &n, needle, strlen(needle));
        return imap_search_needle_find(&n, h, len);
}

Test(search_text, needles)
{
        cr_assert(find("lunch", "Lunch Tomorrow"));
        cr_assert(find("KÖLN", "grüße aus köln"));
        cr_assert(find("", "anything"));
        cr_assert(find("aab", "aaab"));
        cr_assert(find("abab", "abaabab"));
        cr_assert(!find("abc", "ab"));
        cr_assert(!find("köln", "koln"));
        cr_assert(!find("lunchx", "lunch"));
}

/* Feeds text to a one-needle sink in pieces of size `piece`. */
static bool sink_find(const char *needle, const char *text, size_t piece, bool header,
                      bool body_only)
{
        struct imap_search_needle n;
        struct imap_search_scan scan = { .needle = &n, .body_only = body_only };
        struct imap_search_sink sink = { .scans = &scan, .count = 1, .remaining = 1 };
        size_t len = strlen(text);

        imap_search_needle_init(test_pool, &n, needle, strlen(needle));
        imap_search_sink_begin(&sink, header);
        for (size_t i = 0; i < len; i += piece)
                imap_search_sink_feed(&sink, text + i, len - i < piece ? len - i : piece);
        imap_search_sink_end(&sink);
        return scan.found;
}

Test(search_text, sink_pieces)
{
        static const char text[] = "Grüße aus KÖLN – ça va? Ünïcödé ΣΟΦΙΑ";
        for (size_t piece = 1; piece <= sizeof(text); piece++) {
                cr_assert(sink_find("köln", text, piece, false, false));
                cr_assert(sink_find("ünïcödé σοφια", text, piece, false, false));
                cr_assert(sink_find("– ça", text, piece, false, false));
                cr_assert(!sink_find("grüsse", text, piece, false, false));
                cr_assert(!sink_find("kölnx", text, piece, false, false));
        }
        cr_assert(sink_find("ÇA VA", text, 3, false, false));
}

Test(search_text, sink_header_scope)
{
        cr_assert(sink_find("x", "x", 1, true, false));
        cr_assert(!sink_find("x", "x", 1, true, true));
        cr_assert(sink_find("x", "x", 1, false, true));
}

Test(search_text, sink_segments_do_not_join)
{
        struct imap_search_needle n;
        struct imap_search_scan scan = { .needle = &n };
        struct imap_search_sink sink = { .scans = &scan, .count = 1, .remaining = 1 };

        imap_search_needle_init(test_pool, &n, "abcd", 4);
        imap_search_sink_begin(&sink, false);
        imap_search_sink_feed(&sink, "ab", 2);
        imap_search_sink_end(&sink);
        imap_search_sink_begin(&sink, false);
        imap_search_sink_feed(&sink, "cd", 2);
        imap_search_sink_end(&sink);
        cr_assert(!scan.found);
}

Test(search_text, dates)
{
        int64_t day;

        cr_assert_eq(imap_search_days_from_civil(1970, 1, 1), 0);
        cr_assert_eq(imap_search_days_from_civil(2024, 3, 8), 19790);
        cr_assert_eq(imap_search_days_from_civil(1969, 12, 31), -1);
        cr_assert(imap_search_rfc5322_day("Fri, 8 Mar 2024 11:11:11 +0100", &day));
        cr_assert_eq(day, 19790);
        cr_assert(imap_search_rfc5322_day("  (comment) 08 mar 2024 23:59 -1200", &day));
        cr_assert_eq(day, 19790);
        cr_assert(imap_search_rfc5322_day("Fri , 8 Mar 24 00:00 GMT", &day));
        cr_assert_eq(day, 19790);
        cr_assert(imap_search_rfc5322_day("1 Jan 99", &day));
        cr_assert_eq(day, imap_search_days_from_civil(1999, 1, 1));
        cr_assert(imap_search_rfc5322_day("1 Jan 101", &day));
        cr_assert_eq(day, imap_search_days_from_civil(2001, 1, 1));
        cr_assert(!imap_search_rfc5322_day("", &day));
        cr_assert(!imap_search_rfc5322_day("tomorrow", &day));
        cr_assert(!imap_search_rfc5322_day("31 Feb 2024", &day));
        cr_assert(!imap_search_rfc5322_day("8 March 2024", &day));
        cr_assert(!imap_search_rfc5322_day("(unclosed comment 8 Mar 2024", &day));
        cr_assert(!imap_search_rfc5322_day("Fri, 8 Mar 2", &day));
}

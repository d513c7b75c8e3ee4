/* test-search-eval.c - evaluation of every key on corpus and inline
 * messages: record keys without reading bytes, encoded-word headers,
 * addresses, Date:, base64/QP/ISO-8859-1 bodies, nested messages, and
 * matches across chunk and slice boundaries (every message is evaluated with
 * 1, 2, 7, 64-byte and whole chunks by stest_match). */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "pool.h"
#include "search-test.h"

TestSuite(search_eval, .init = stest_setup, .fini = stest_teardown);

static bool corpus(const char *file, const char *search)
{
        struct stest_msg m = { 0 };
        m.data = stest_load(file, &m.len);
        return stest_match(search, &m);
}

Test(search_eval, record_keys_read_no_bytes)
{
        static const char *const kws[] = { "$Forwarded", "Work" };
        struct stest_msg m = {
                .data = "Subject: x\r\n\r\nbody\r\n", .len = 20, .uid = 7, .seq = 3,
                .flags = COVE_FLAG_SEEN | COVE_FLAG_FLAGGED, .keywords = kws,
                .keyword_count = 2, .recent = true,
                /* 2024-03-08 23:30 UTC, shown at +01:00: the 9th there */
                .internal_date = 1709940600, .internal_tz = 60,
        };
        static const struct {
                const char *search;
                bool match;
        } cases[] = {
                { "ALL", true }, { "SEEN", true }, { "UNSEEN", false },
                { "FLAGGED", true }, { "UNFLAGGED", false }, { "ANSWERED", false },
                { "UNANSWERED", true }, { "DELETED", false }, { "UNDELETED", true },
                { "DRAFT", false }, { "UNDRAFT", true },
                { "KEYWORD work", true }, { "KEYWORD $Junk", false },
                { "UNKEYWORD $Junk", true }, { "UNKEYWORD $forwarded", false },
                { "RECENT", true }, { "NEW", false }, { "OLD", false },
                { "ON 9-Mar-2024", true }, { "ON 8-Mar-2024", false },
                { "BEFORE 9-Mar-2024", false }, { "BEFORE 10-Mar-2024", true },
                { "SINCE 9-Mar-2024", true }, { "SINCE 10-Mar-2024", false },
                { "LARGER 19", true }, { "LARGER 20", false },
                { "SMALLER 21", true }, { "SMALLER 20", false },
                { "3", true }, { "1:2", false }, { "*", false }, { "*:3", true },
                { "5:*", false }, { "1,3", true }, { "4:2", true },
                { "UID 7", true }, { "UID 8:*", false }, { "UID *", false },
                { "UID 1:3,6:8", true }, { "UID *:7", true },
                { "NOT SEEN", false }, { "NOT NOT SEEN", true },
                { "OR DELETED FLAGGED", true }, { "OR DELETED DRAFT", false },
                { "(SEEN FLAGGED) UID 7", true }, { "(SEEN FLAGGED) UID 6", false },
                { "OR OR DELETED DRAFT (RECENT NOT OLD)", true },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                cr_assert_eq(stest_match(cases[i].search, &m), cases[i].match, "%s",
                             cases[i].search);
                cr_assert_eq(stest_last_reads, 0, "%s read bytes", cases[i].search);
        }
        m.flags = 0;
        cr_assert(stest_match("NEW", &m));
        m.recent = false;
        cr_assert(stest_match("OLD", &m));
        cr_assert(!stest_match("NEW", &m));
}

Test(search_eval, header_key_skipped_when_record_decides)
{
        struct stest_msg m = { .data = "Subject: x\r\n\r\nbody\r\n", .len = 20 };
        cr_assert(!stest_match("SEEN SUBJECT x", &m));
        cr_assert_eq(stest_last_reads, 0);
        cr_assert(stest_match("OR UNSEEN BODY nothing", &m));
        cr_assert_eq(stest_last_reads, 0);
        cr_assert(stest_match("SUBJECT x", &m));
        cr_assert_gt(stest_last_reads, 0);
}

Test(search_eval, encoded_word_headers)
{
        cr_assert(corpus("encoded-words.eml", "SUBJECT \"grüße aus köln\""));
        cr_assert(corpus("encoded-words.eml", "SUBJECT KÖLN"));
        cr_assert(!corpus("encoded-words.eml", "SUBJECT utf-8"));
        cr_assert(corpus("encoded-words.eml", "FROM andré"));
        cr_assert(corpus("encoded-words.eml", "FROM \"ANDRÉ PIRARD\""));
        cr_assert(corpus("encoded-words.eml", "FROM pirard@vm1.ulg"));
        cr_assert(!corpus("encoded-words.eml", "FROM ISO-8859-1"));
        cr_assert(corpus("encoded-words.eml", "TO jörg"));
        cr_assert(corpus("encoded-words.eml", "TO \"Quoted, Name\""));
        cr_assert(corpus("encoded-words.eml", "TO q@example.com"));
        cr_assert(corpus("encoded-words.eml", "CC keith"));
        cr_assert(!corpus("encoded-words.eml", "CC jörg"));
        cr_assert(!corpus("encoded-words.eml", "BCC moore"));
        cr_assert(corpus("encoded-words.eml", "HEADER content-type ISO-8859"));
        cr_assert(corpus("encoded-words.eml", "HEADER MIME-Version \"\""));
        cr_assert(!corpus("encoded-words.eml", "HEADER X-Absent \"\""));
}

Test(search_eval, folded_header_is_unfolded)
{
        cr_assert(corpus("simple-text.eml", "SUBJECT \"lunch tomorrow?\""));
        cr_assert(corpus("simple-text.eml", "HEADER Received \"mail.example.net with\""));
        cr_assert(corpus("simple-text.eml", "HEADER return-path alice"));
        cr_assert(!corpus("simple-text.eml", "SUBJECT dinner"));
}

Test(search_eval, address_forms)
{
        cr_assert(corpus("group.eml", "BCC \"Giant; \\\"Big\\\" Box\""));
        cr_assert(corpus("group.eml", "BCC \"pete silly\""));
        cr_assert(corpus("group.eml", "BCC sysservices@example.net"));
        cr_assert(corpus("group.eml", "TO \"ed jones\""));
        cr_assert(corpus("group.eml", "TO jdoe@one.test"));
        cr_assert(corpus("group.eml", "TO \"A Group\""));
        cr_assert(corpus("group.eml", "FROM \"mary smith\""));
        cr_assert(!corpus("group.eml", "FROM joe"));
        cr_assert(corpus("alternative.eml", "FROM \"Shop, Inc.\""));
        cr_assert(corpus("alternative.eml", "FROM news@shop"));
}

Test(search_eval, sent_dates)
{
        cr_assert(corpus("encoded-words.eml", "SENTON 8-Mar-2024"));
        cr_assert(!corpus("encoded-words.eml", "SENTON 7-Mar-2024"));
        cr_assert(corpus("encoded-words.eml", "SENTBEFORE 9-Mar-2024"));
        cr_assert(!corpus("encoded-words.eml", "SENTBEFORE 8-Mar-2024"));
        cr_assert(corpus("encoded-words.eml", "SENTSINCE 8-Mar-2024"));
        cr_assert(!corpus("encoded-words.eml", "SENTSINCE 9-Mar-2024"));
        /* time and zone disregarded: 12:00 -0500 is still the 7th */
        cr_assert(corpus("mixed-attach.eml", "SENTON 7-Mar-2024"));
        /* no Date: header matches no SENT* key */
        cr_assert(!corpus("group.eml", "SENTBEFORE 1-Jan-2100"));
        cr_assert(!corpus("group.eml", "SENTSINCE 1-Jan-1900"));
        cr_assert(corpus("group.eml", "NOT SENTON 1-Jan-2000"));
}

Test(search_eval, qp_and_charset_bodies)
{
        cr_assert(corpus("encoded-words.eml", "BODY grüße"));
        cr_assert(!corpus("encoded-words.eml", "BODY GRÜSSE"), "no ß -> ss folding");
        cr_assert(!corpus("encoded-words.eml", "BODY Gr=FC"));
        cr_assert(!corpus("encoded-words.eml", "BODY andré"));
        cr_assert(corpus("encoded-words.eml", "TEXT andré"));
        cr_assert(corpus("encoded-words.eml", "TEXT grüße"));
        cr_assert(corpus("alternative.eml", "BODY \"20% off – this week\""));
        cr_assert(!corpus("alternative.eml", "BODY =E2=80=93"));
        cr_assert(corpus("alternative.eml", "BODY \"<p>everything\""));
        cr_assert(!corpus("alternative.eml", "BODY epilogue"));
        cr_assert(!corpus("alternative.eml", "BODY \"multi-part message\""));
        cr_assert(corpus("8bit.eml", "BODY \"GRÜßE AUS KÖLN – ÇA\""));
        cr_assert(corpus("8bit.eml", "BODY ünïcödé"));
}

Test(search_eval, base64_and_attachments)
{
        static const char msg[] =
                "From: b@example.org\r\nSubject: b64\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n"
                "SGVsbG8gV29ybGQsIGdyw7zDn2UgYXVzIEvDtmxuIQ==\r\n";

        cr_assert(stest_match_text("BODY \"hello world\"", msg));
        cr_assert(stest_match_text("BODY \"grüße aus köln!\"", msg));
        cr_assert(!stest_match_text("BODY SGVsbG8", msg));
        cr_assert(corpus("mixed-attach.eml", "BODY \"attached REPORT\""));
        cr_assert(!corpus("mixed-attach.eml", "BODY JVBERi"));
        cr_assert(!corpus("mixed-attach.eml", "BODY %PDF"));
        cr_assert(corpus("nested.eml", "BODY \"plain body\""));
        cr_assert(corpus("nested.eml", "BODY cid:logo"));
        cr_assert(!corpus("nested.eml", "BODY bytes"));
        cr_assert(corpus("digest.eml", "BODY \"second message\""));
        cr_assert(corpus("digest.eml", "BODY \"not a message\""));
        cr_assert(corpus("bare-lf.eml", "BODY \"implicit text\""));
}

Test(search_eval, iso_8859_1_body)
{
        static const char msg[] =
                "Subject: menu\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n"
                "Caf\xe9 cr\xe8me br\xfbl\xe9" "e\r\n";
        static const char cp1252[] =
                "Subject: q\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n"
                "\x93quoted\x94 \x80 5\r\n";

        cr_assert(stest_match_text("BODY \"CAFÉ CRÈME BRÛLÉE\"", msg));
        cr_assert(!stest_match_text("BODY \"caf\xe9\"", msg));
        cr_assert(stest_match_text("BODY \"“quoted” € 5\"", cp1252));
}

Test(search_eval, encapsulated_message)
{
        cr_assert(corpus("rfc822-attach.eml", "BODY ivan@example.net"));
        cr_assert(corpus("rfc822-attach.eml", "BODY \"subject: original\""));
        cr_assert(!corpus("rfc822-attach.eml", "FROM ivan"));
        cr_assert(corpus("rfc822-attach.eml", "TEXT \"<b>hello\""));
        cr_assert(corpus("rfc822-attach.eml", "BODY forwarding"));
        cr_assert(corpus("rfc822-attach.eml", "BODY gina@example.org"));
}

Test(search_eval, text_sees_header_body_does_not)
{
        cr_assert(corpus("simple-text.eml", "TEXT \"mx.example.org\""));
        cr_assert(!corpus("simple-text.eml", "BODY \"mx.example.org\""));
        cr_assert(corpus("simple-text.eml", "TEXT \"free for lunch\""));
        cr_assert(corpus("simple-text.eml", "TEXT \"subject: lunch tomorrow\""));
        cr_assert(corpus("simple-text.eml", "BODY \"\""));
}

Test(search_eval, combined_keys)
{
        cr_assert(corpus("encoded-words.eml", "FROM andré BODY grüße SENTON 8-Mar-2024"));
        cr_assert(!corpus("encoded-words.eml", "FROM andré BODY nothing"));
        cr_assert(corpus("encoded-words.eml", "OR BODY nothing SUBJECT köln"));
        cr_assert(corpus("encoded-words.eml", "NOT (BODY nothing TEXT andré)"));
        cr_assert(corpus("encoded-words.eml", "OR BODY nothing TEXT köln"));
        cr_assert(!corpus("encoded-words.eml", "NOT OR BODY nothing TEXT köln"));
}

Test(search_eval, structure_fallback_reparses)
{
        struct stest_msg m = { .no_structure = true };
        m.data = stest_load("encoded-words.eml", &m.len);
        cr_assert(stest_match("SUBJECT köln BODY grüße", &m));
        cr_assert(!stest_match("SUBJECT lunch", &m));
}

/* A big QP body: the needle sits across the search slice boundary and at the
   very end, the matcher sees it whatever the chunking. */
Test(search_eval, large_body_boundaries)
{
        struct buf b;
        const char *head = "Subject: big\r\nContent-Transfer-Encoding: quoted-printable\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n\r\n";

        /* The body is decoded in 16 KiB slices of store data: "needle"
           starts 4 bytes before the first slice boundary of the body. */
        buf_init(&b, 0);
        buf_append_str(&b, head);
        while (b.len < strlen(head) + 16384 - 50)
                buf_append_str(&b, "filler text line with nothing to find =\r\n");
        while (b.len < strlen(head) + 16384 - 4)
                buf_append_char(&b, 'x');
        buf_append_str(&b, "needle=C3=BC across\r\n");
        for (int i = 0; i < 4000; i++)
                buf_append_str(&b, "more filler, still nothing\r\n");
        buf_append_str(&b, "at the very END");

        struct stest_msg m = { .data = pool_strdup(test_pool, b.data), .len = b.len };
        buf_free(&b);
        cr_assert(stest_match("BODY \"xneedleü across\"", &m));
        cr_assert(stest_match("BODY \"the very end\"", &m));
        cr_assert(!stest_match("BODY \"the very end!\"", &m));
        cr_assert(!stest_match("BODY \"filler, nothing\"", &m));
}

static enum cove_store_err gone_read(void *ctx, uint64_t offset, const void **data_r,
                                     size_t *len_r)
{
        return COVE_STORE_EXPUNGED;
}

static enum cove_store_err corrupt_read(void *ctx, uint64_t offset, const void **data_r,
                                        size_t *len_r)
{
        return COVE_STORE_CORRUPT;
}

Test(search_eval, read_errors)
{
        struct imap_search_program *prog;
        struct imap_search_mailbox box = { .messages = 1, .max_uid = 1 };
        struct cove_store_msg rec = { .uid = 1, .size = 100 };
        struct imap_search_msg msg = { .rec = &rec, .seq = 1, .read = gone_read };
        bool match = true;

        cr_assert_eq(stest_parse("BODY x", &prog), IMAP_SEARCH_PARSE_OK);
        imap_search_bind(prog, test_pool, &box);
        cr_assert_eq(imap_search_eval(prog, &msg, test_pool, &match), COVE_STORE_OK);
        cr_assert(!match);
        cr_assert_eq(stest_parse("NOT SUBJECT x", &prog), IMAP_SEARCH_PARSE_OK);
        cr_assert_eq(imap_search_eval(prog, &msg, test_pool, &match), COVE_STORE_OK);
        cr_assert(!match, "an expunged message never matches, not even NOT");
        msg.read = corrupt_read;
        cr_assert_eq(imap_search_eval(prog, &msg, test_pool, &match),
                     COVE_STORE_CORRUPT);
}

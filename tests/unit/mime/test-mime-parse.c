/* Unit tests for core/mime.c on the corpus: offsets, sizes, lines, content
 * fields, envelopes and sections, each parse also trickled (mtest_parse). */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"
#include "mime-test.h"
#include "pool.h"

TestSuite(mime_parse, .init = mtest_setup, .fini = mtest_teardown);

static const struct mime_part *parse_file(const char *name, const char **msg_r)
{
        size_t len;
        *msg_r = mtest_load(name, &len);
        return mtest_parse(*msg_r, len, NULL, NULL, NULL);
}

static const struct mime_address *addr(const struct mime_envelope *env,
                                       enum mime_env_field f, unsigned i)
{
        cr_assert_lt(i, env->addr[f].count);
        return &env->addr[f].addrs[i];
}

static void assert_addr(const struct mime_address *a, const char *name,
                        const char *mailbox, const char *host)
{
        cr_assert_eq(a->kind, MIME_ADDRESS_MAILBOX);
        if (name == NULL)
                cr_assert_null(a->name, "name %s", a->name);
        else
                cr_assert_str_eq(a->name, name);
        cr_assert_str_eq(a->mailbox, mailbox);
        if (host == NULL)
                cr_assert_null(a->host);
        else
                cr_assert_str_eq(a->host, host);
}

static const struct mime_part *section(const struct mime_part *root, const char *s)
{
        const struct mime_part *part = NULL;
        cr_assert(mime_part_find_section(root, s, &part), "section %s", s);
        return part;
}

Test(mime_parse, simple_text)
{
        const char *msg;
        const struct mime_part *root = parse_file("simple-text.eml", &msg);
        const char *body = "Hi Bob,\r\nare you free for lunch tomorrow?\r\nAlice\r\n";

        cr_assert_eq(root->header_offset, 0);
        cr_assert_eq(root->body_offset, strstr(msg, "Hi Bob") - msg);
        cr_assert_str_eq(mtest_body(msg, root), body);
        cr_assert_eq(root->body_size, strlen(body));
        cr_assert_eq(root->body_lines, 3);
        cr_assert_eq(root->child_count, 0);
        cr_assert_eq(root->flags, 0);
        cr_assert(mime_part_is(root, "text", "plain"));
        cr_assert_str_eq(mime_param_get(root->params, root->param_count, "charset"), "us-ascii");
        cr_assert_str_eq(root->encoding, "7bit");
        cr_assert_null(root->disposition);

        const struct mime_envelope *env = root->envelope;
        cr_assert_not_null(env);
        cr_assert_str_eq(env->raw[MIME_ENV_SUBJECT], "Lunch tomorrow?");
        cr_assert_str_eq(env->raw[MIME_ENV_DATE], "Tue, 5 Mar 2024 09:59:58 +0100");
        cr_assert_str_eq(env->raw[MIME_ENV_MESSAGE_ID], "<20240305095958.1234@example.org>");
        cr_assert_str_eq(env->raw[MIME_ENV_FROM], "Alice Example <alice@example.org>");
        cr_assert_null(env->raw[MIME_ENV_SENDER]);
        cr_assert_null(env->raw[MIME_ENV_IN_REPLY_TO]);
        cr_assert_eq(env->addr[MIME_ENV_SENDER].count, 0);
        cr_assert_eq(env->addr[MIME_ENV_FROM].count, 1);
        assert_addr(addr(env, MIME_ENV_FROM, 0), "Alice Example", "alice", "example.org");
        assert_addr(addr(env, MIME_ENV_TO, 0), NULL, "bob", "example.net");
        cr_assert_eq(section(root, "1"), root);
        cr_assert_eq(section(root, ""), root);
        const struct mime_part *p;
        cr_assert_not(mime_part_find_section(root, "2", &p));
        cr_assert_not(mime_part_find_section(root, "1.1", &p));
        cr_assert_not(mime_part_find_section(root, "0", &p));
        cr_assert_not(mime_part_find_section(root, "1.", &p));
}

Test(mime_parse, multipart_alternative)
{
        const char *msg;
        const struct mime_part *root = parse_file("alternative.eml", &msg);

        cr_assert(mime_part_is(root, "multipart", "alternative"));
        cr_assert_str_eq(mime_param_get(root->params, root->param_count, "boundary"),
                         "=_alt_7f3a");
        cr_assert_eq(root->child_count, 2);
        cr_assert_eq(root->flags, 0);
        cr_assert_eq(root->body_lines, 13);
        cr_assert_eq(root->body_offset + root->body_size, strlen(msg));

        const struct mime_part *plain = mtest_child(root, 0), *html = mtest_child(root, 1);
        cr_assert_str_eq(mtest_header(msg, plain),
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        cr_assert_str_eq(mtest_body(msg, plain),
                         "Everything is 20% off =E2=80=93 this week only.");
        cr_assert_eq(plain->body_lines, 1);
        cr_assert_str_eq(plain->encoding, "quoted-printable");
        cr_assert_null(plain->envelope);
        cr_assert_str_eq(mtest_body(msg, html),
                         "<p>Everything is 20% off =E2=80=93 this week only.</p>");
        cr_assert(mime_part_is(html, "TEXT", "HTML"));
        assert_addr(addr(root->envelope, MIME_ENV_FROM, 0), "Shop, Inc.", "news",
                    "shop.example");
        cr_assert_eq(section(root, "2"), html);
}

Test(mime_parse, mixed_with_base64_attachment)
{
        const char *msg;
        const struct mime_part *root = parse_file("mixed-attach.eml", &msg);

        cr_assert_eq(root->child_count, 2);
        const struct mime_part *text = mtest_child(root, 0), *pdf = mtest_child(root, 1);
        cr_assert_str_eq(mtest_body(msg, text), "See the attached report.");
        cr_assert_eq(text->param_count, 2);
        cr_assert_str_eq(text->params[1].name, "format");
        cr_assert_str_eq(text->params[1].value, "flowed");

        cr_assert(mime_part_is(pdf, "application", "pdf"));
        cr_assert_str_eq(mime_param_get(pdf->params, pdf->param_count, "name"), "report.pdf");
        cr_assert_str_eq(pdf->encoding, "base64");
        cr_assert_str_eq(pdf->disposition, "attachment");
        cr_assert_eq(pdf->disposition_param_count, 2);
        cr_assert_str_eq(pdf->disposition_params[0].value, "report.pdf");
        cr_assert_str_eq(pdf->disposition_params[1].name, "size");
        cr_assert_str_eq(pdf->id, "<part2.report@example.org>");
        cr_assert_str_eq(pdf->description, "Quarterly report");
        cr_assert_str_eq(pdf->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
        cr_assert_eq(pdf->language_count, 2);
        cr_assert_str_eq(pdf->languages[0], "en");
        cr_assert_str_eq(pdf->languages[1], "de");
        cr_assert_str_eq(pdf->location, "http://example.org/reports/q1.pdf");
        cr_assert_str_eq(mtest_body(msg, pdf), "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9U\r\n"
                         "eXBlL0NhdGFsb2c+PgplbmRvYmoK");
        cr_assert_eq(pdf->body_lines, 2);

        struct mime_decoder *dec = mime_decoder_create(test_pool,
                mime_transfer_encoding_parse(pdf->encoding));
        struct buf out;
        buf_init(&out, 0);
        cr_assert(mime_decoder_feed(dec, msg + pdf->body_offset, pdf->body_size, &out));
        cr_assert(mime_decoder_finish(dec, &out));
        cr_assert_not(mime_decoder_had_errors(dec));
        cr_assert_eq(out.len, 48);
        cr_assert_eq(memcmp(out.data, "%PDF-1.4\n", 9), 0);
        buf_free(&out);
}

Test(mime_parse, nested_multiparts)
{
        const char *msg;
        const struct mime_part *root = parse_file("nested.eml", &msg);

        cr_assert_eq(root->child_count, 2);
        const struct mime_part *alt = mtest_child(root, 0);
        cr_assert(mime_part_is(alt, "multipart", "alternative"));
        cr_assert_eq(alt->child_count, 2);
        cr_assert_str_eq(mtest_body(msg, mtest_child(alt, 0)), "plain body");
        const struct mime_part *rel = mtest_child(alt, 1);
        cr_assert(mime_part_is(rel, "multipart", "related"));
        cr_assert_str_eq(mtest_body(msg, rel),
                         "--rel\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:logo\">\r\n"
                         "--rel\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\n"
                         "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--rel--");
        cr_assert_eq(rel->body_lines, 11);
        const struct mime_part *png = mtest_child(rel, 1);
        cr_assert_str_eq(png->id, "<logo>");
        cr_assert_str_eq(mtest_body(msg, png), "iVBORw0KGgo=");
        cr_assert_str_eq(mtest_body(msg, mtest_child(root, 1)), "bytes");

        cr_assert_eq(section(root, "1.2.2"), png);
        cr_assert_eq(section(root, "1.1"), mtest_child(alt, 0));
        cr_assert_eq(section(root, "2"), mtest_child(root, 1));
        const struct mime_part *p;
        cr_assert_not(mime_part_find_section(root, "3", &p));
        cr_assert_not(mime_part_find_section(root, "1.2.3", &p));
        cr_assert_not(mime_part_find_section(root, "2.1", &p));
        cr_assert_not(mime_part_find_section(root, "1.x", &p));
}

Test(mime_parse, message_rfc822_attachment)
{
        const char *msg;
        const struct mime_part *root = parse_file("rfc822-attach.eml", &msg);

        const struct mime_part *rfc = mtest_child(root, 1);
        cr_assert(mime_part_is(rfc, "message", "rfc822"));
        cr_assert_str_eq(rfc->disposition, "inline");
        cr_assert_eq(rfc->child_count, 1);
        cr_assert_null(rfc->envelope);
        const struct mime_part *inner = rfc->children;
        cr_assert_not_null(inner->envelope);
        cr_assert_eq(inner->header_offset, rfc->body_offset);
        cr_assert_eq(inner->body_offset + inner->body_size, rfc->body_offset + rfc->body_size);
        cr_assert(strncmp(mtest_body(msg, rfc), "From: Ivan", 10) == 0);
        const char *rb = mtest_body(msg, rfc);
        cr_assert_str_eq(rb + strlen(rb) - 14, "--orig-alt--\r\n");
        cr_assert_eq(rfc->body_lines, 18);

        const struct mime_envelope *env = inner->envelope;
        cr_assert_str_eq(env->raw[MIME_ENV_SUBJECT], "original");
        cr_assert_str_eq(env->raw[MIME_ENV_IN_REPLY_TO], "<earlier@example.org>");
        cr_assert_str_eq(env->raw[MIME_ENV_MESSAGE_ID], "<orig-1@example.net>");
        assert_addr(addr(env, MIME_ENV_FROM, 0), "Ivan", "ivan", "example.net");
        cr_assert(mime_part_is(inner, "multipart", "alternative"));
        cr_assert_eq(inner->flags, 0);
        cr_assert_eq(inner->child_count, 2);
        cr_assert_str_eq(mtest_body(msg, mtest_child(inner, 0)), "hello");
        cr_assert_str_eq(mtest_body(msg, mtest_child(inner, 1)), "<b>hello</b>");

        cr_assert_eq(section(root, "2"), rfc);
        cr_assert_eq(section(root, "2.1"), mtest_child(inner, 0));
        cr_assert_eq(section(root, "2.2"), mtest_child(inner, 1));
        const struct mime_part *p;
        cr_assert_not(mime_part_find_section(root, "2.3", &p));
        cr_assert_str_eq(root->envelope->raw[MIME_ENV_SUBJECT], "Fwd: original");
}

Test(mime_parse, multipart_digest_defaults)
{
        const char *msg;
        const struct mime_part *root = parse_file("digest.eml", &msg);

        cr_assert(mime_part_is(root, "multipart", "digest"));
        cr_assert_eq(root->child_count, 3);
        const struct mime_part *m1 = mtest_child(root, 0);
        cr_assert(mime_part_is(m1, "message", "rfc822"));
        cr_assert_eq(m1->param_count, 0);
        cr_assert_eq(m1->header_size, 2);
        cr_assert_str_eq(mtest_body(msg, m1),
                         "From: a@example.org\r\nSubject: first\r\n\r\nfirst message");
        cr_assert_eq(m1->child_count, 1);
        const struct mime_part *e1 = m1->children;
        cr_assert_str_eq(e1->envelope->raw[MIME_ENV_SUBJECT], "first");
        cr_assert(mime_part_is(e1, "text", "plain"));
        cr_assert_str_eq(mime_param_get(e1->params, e1->param_count, "charset"), "us-ascii");
        cr_assert_str_eq(mtest_body(msg, e1), "first message");
        cr_assert_eq(e1->body_lines, 1);
        cr_assert_str_eq(mtest_child(root, 1)->children->envelope->raw[MIME_ENV_SUBJECT],
                         "second");
        const struct mime_part *t = mtest_child(root, 2);
        cr_assert(mime_part_is(t, "text", "plain"));
        cr_assert_eq(t->param_count, 0);
        cr_assert_eq(t->child_count, 0);
        cr_assert_str_eq(mtest_body(msg, t), "not a message");
        cr_assert_eq(section(root, "1.1"), e1);
}

Test(mime_parse, encoded_words)
{
        const char *msg;
        const struct mime_part *root = parse_file("encoded-words.eml", &msg);
        const struct mime_envelope *env = root->envelope;

        const struct mime_address *from = addr(env, MIME_ENV_FROM, 0);
        assert_addr(from, "=?ISO-8859-1?Q?Andr=E9?= Pirard", "PIRARD", "vm1.ulg.ac.be");
        cr_assert_str_eq(mime_words_decode(test_pool, from->name, strlen(from->name)),
                         "Andr\xc3\xa9 Pirard");
        cr_assert_eq(env->addr[MIME_ENV_TO].count, 2);
        const struct mime_address *to = addr(env, MIME_ENV_TO, 0);
        assert_addr(to, "=?utf-8?B?SsO2cmc=?=", "joerg", "example.de");
        cr_assert_str_eq(mime_words_decode(test_pool, to->name, strlen(to->name)),
                         "J\xc3\xb6rg");
        assert_addr(addr(env, MIME_ENV_TO, 1), "Quoted, Name", "q", "example.com");
        const char *subj = env->raw[MIME_ENV_SUBJECT];
        cr_assert_str_eq(subj, "=?utf-8?B?R3LDvMOfZSBhdXM=?= =?utf-8?Q?_K=C3=B6ln?=");
        cr_assert_str_eq(mime_words_decode(test_pool, subj, strlen(subj)),
                         "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");

        struct mime_decoder *dec = mime_decoder_create(test_pool, MIME_TE_QP);
        struct buf out;
        buf_init(&out, 0);
        cr_assert(mime_decoder_feed(dec, msg + root->body_offset, root->body_size, &out));
        cr_assert(mime_decoder_finish(dec, &out));
        char *utf8;
        size_t utf8_len;
        cr_assert(mime_charset_to_utf8(test_pool,
                  mime_param_get(root->params, root->param_count, "charset"),
                  out.data, out.len, &utf8, &utf8_len));
        cr_assert_str_eq(utf8, "Gr\xc3\xbc\xc3\x9f" "e\r\n");
        buf_free(&out);
}

Test(mime_parse, rfc2231_parameters)
{
        const char *msg;
        const struct mime_part *root = parse_file("rfc2231.eml", &msg);
        const struct mime_part *att = mtest_child(root, 0);

        cr_assert_eq(att->param_count, 1);
        cr_assert_str_eq(att->params[0].name, "name");
        cr_assert_str_eq(att->params[0].value, "r\xc3\xa9sum\xc3\xa9.txt");
        cr_assert_str_eq(att->params[0].charset, "iso-8859-1");
        cr_assert_null(att->params[0].language);
        cr_assert_eq(att->disposition_param_count, 1);
        const struct mime_param *fn = &att->disposition_params[0];
        cr_assert_str_eq(fn->name, "filename");
        cr_assert_str_eq(fn->value, "\xe2\x82\xac rates for 2024.pdf");
        cr_assert_str_eq(fn->charset, "utf-8");
        cr_assert_str_eq(fn->language, "en");
        cr_assert_str_eq(mtest_body(msg, att), "data");
}

Test(mime_parse, groups_routes_and_comments)
{
        const char *msg;
        const struct mime_part *root = parse_file("group.eml", &msg);
        const struct mime_envelope *env = root->envelope;

        cr_assert_eq(env->addr[MIME_ENV_TO].count, 5);
        const struct mime_address *g = addr(env, MIME_ENV_TO, 0);
        cr_assert_eq(g->kind, MIME_ADDRESS_GROUP_START);
        cr_assert_str_eq(g->mailbox, "A Group");
        cr_assert_null(g->host);
        assert_addr(addr(env, MIME_ENV_TO, 1), "Ed Jones", "c", "a.test");
        assert_addr(addr(env, MIME_ENV_TO, 2), NULL, "joe", "where.test");
        assert_addr(addr(env, MIME_ENV_TO, 3), "John", "jdoe", "one.test");
        g = addr(env, MIME_ENV_TO, 4);
        cr_assert_eq(g->kind, MIME_ADDRESS_GROUP_END);
        cr_assert(g->mailbox == NULL && g->host == NULL && g->name == NULL);

        cr_assert_eq(env->addr[MIME_ENV_CC].count, 2);
        cr_assert_eq(addr(env, MIME_ENV_CC, 0)->kind, MIME_ADDRESS_GROUP_START);
        cr_assert_str_eq(addr(env, MIME_ENV_CC, 0)->mailbox, "Undisclosed recipients");
        cr_assert_eq(addr(env, MIME_ENV_CC, 1)->kind, MIME_ADDRESS_GROUP_END);

        cr_assert_eq(env->addr[MIME_ENV_BCC].count, 2);
        assert_addr(addr(env, MIME_ENV_BCC, 0), "Pete Silly", "pete", "silly.test");
        assert_addr(addr(env, MIME_ENV_BCC, 1), "Giant; \"Big\" Box", "sysservices",
                    "example.net");

        const struct mime_address *rt = addr(env, MIME_ENV_REPLY_TO, 0);
        assert_addr(rt, NULL, "jdoe", "example.org");
        cr_assert_str_eq(rt->adl, "@route1,@route2");
        assert_addr(addr(env, MIME_ENV_SENDER, 0), NULL, "local-only", NULL);
}

Test(mime_parse, bare_lf_line_endings)
{
        const char *msg;
        const struct mime_part *root = parse_file("bare-lf.eml", &msg);

        cr_assert_eq(root->child_count, 2);
        cr_assert_eq(root->flags, 0);
        cr_assert_str_eq(mtest_body(msg, root), strstr(msg, "preamble\n"));
        const struct mime_part *a = mtest_child(root, 0), *b = mtest_child(root, 1);
        cr_assert_str_eq(mtest_header(msg, a), "Content-Type: text/plain\n\n");
        cr_assert_str_eq(mtest_body(msg, a), "line one\nline two");
        cr_assert_eq(a->body_lines, 2);
        cr_assert_str_eq(mtest_header(msg, b), "\n");
        cr_assert_str_eq(mtest_body(msg, b), "implicit text/plain");
        cr_assert_str_eq(mime_param_get(b->params, b->param_count, "charset"), "us-ascii");
}

Test(mime_parse, eight_bit_body)
{
        const char *msg;
        const struct mime_part *root = parse_file("8bit.eml", &msg);

        cr_assert_str_eq(root->encoding, "8bit");
        cr_assert_str_eq(mtest_body(msg, root),
                         "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x93 \xc3\xa7" "a va?\r\n"
                         "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9\r\n");
        cr_assert_eq(root->body_lines, 2);
}

Test(mime_parse, missing_final_boundary)
{
        const char *msg;
        const struct mime_part *root = parse_file("missing-final.eml", &msg);

        cr_assert_eq(root->child_count, 2);
        cr_assert_eq(root->flags, MIME_PART_FLAG_UNTERMINATED);
        cr_assert_str_eq(mtest_body(msg, mtest_child(root, 0)), "part one");
        cr_assert_str_eq(mtest_body(msg, mtest_child(root, 1)),
                         "part two, no close delimiter follows\r\n");
        cr_assert_eq(mtest_child(root, 1)->body_lines, 1);
}

Test(mime_parse, boundary_never_appears)
{
        const char *msg;
        const struct mime_part *root = parse_file("no-boundary.eml", &msg);

        cr_assert(mime_part_is(root, "multipart", "mixed"));
        cr_assert_eq(root->child_count, 0);
        cr_assert(root->flags & MIME_PART_FLAG_NO_BOUNDARY);
        cr_assert_str_eq(mtest_body(msg, root),
                         "just some text\r\n--not-the-boundary\r\nmore text\r\n");
        cr_assert_eq(root->body_lines, 3);
}

Test(mime_parse, garbage_headers)
{
        const char *msg;
        const struct mime_part *root = parse_file("garbage-headers.eml", &msg);

        cr_assert_eq(root->flags, MIME_PART_FLAG_BAD_HEADER);
        cr_assert(mime_part_is(root, "text", "plain"));
        cr_assert_str_eq(root->params[0].value, "iso-8859-1");
        cr_assert_str_eq(root->envelope->raw[MIME_ENV_SUBJECT], "spaced colon");
        cr_assert_str_eq(mtest_body(msg, root), "garbage body\r\n");
}

/* search-test.c - shared helpers for the SEARCH unit tests (see search-test.h). */
#include "search-test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "pool.h"

struct pool *test_pool;
unsigned stest_last_reads;

void stest_setup(void)
{
        test_pool = pool_create("test-search", 4096);
}

void stest_teardown(void)
{
        pool_destroy(&test_pool);
}

static size_t take_quoted(const char *p, char *out, size_t *out_len_r)
{
        size_t i = 1, o = 0;

        while (p[i] != '\0' && p[i] != '"') {
                if (p[i] == '\\' && p[i + 1] != '\0')
                        i++;
                out[o++] = p[i++];
        }
        cr_assert_eq(p[i], '"', "unterminated quoted string in test input");
        *out_len_r = o;
        return i + 1;
}

size_t stest_tokens(const char *text, struct imap_search_tok **toks_r)
{
        size_t cap = strlen(text) + 1, n = 0;
        struct imap_search_tok *toks = pool_alloc(test_pool, cap * sizeof(*toks));
        const char *p = text;

        while (*p != '\0') {
                struct imap_search_tok *t = &toks[n];
                if (*p == ' ') {
                        p++;
                        continue;
                }
                n++;
                if (*p == '(' || *p == ')') {
                        t->type = *p == '(' ? IMAP_SEARCH_TOK_LIST_OPEN :
                                IMAP_SEARCH_TOK_LIST_CLOSE;
                        p++;
                } else if (*p == '"') {
                        char *out = pool_alloc(test_pool, strlen(p) + 1);
                        t->type = IMAP_SEARCH_TOK_STRING;
                        p += take_quoted(p, out, &t->len);
                        t->data = out;
                } else if (*p == '{') {
                        char *end;
                        unsigned long len = strtoul(p + 1, &end, 10);
                        cr_assert(end[0] == '}' && end[1] == '\n', "bad test literal");
                        t->type = IMAP_SEARCH_TOK_STRING;
                        t->data = end + 2;
                        t->len = len;
                        p = end + 2 + len;
                } else {
                        size_t len = strcspn(p, " ()");
                        t->type = IMAP_SEARCH_TOK_ATOM;
                        t->data = p;
                        t->len = len;
                        p += len;
                }
        }
        *toks_r = toks;
        return n;
}

enum imap_search_parse_result stest_parse(const char *text,
                                          struct imap_search_program **prog_r)
{
        struct imap_search_tok *toks;
        size_t n = stest_tokens(text, &toks);
        const char *error = NULL;
        enum imap_search_parse_result r;

        *prog_r = NULL;
        r = imap_search_parse(test_pool, toks, n, prog_r, &error);
        if (r != IMAP_SEARCH_PARSE_OK) {
                cr_assert_not_null(error);
                *prog_r = NULL;
        }
        return r;
}

const char *stest_load(const char *name, size_t *len_r)
{
        char *path = pool_printf(test_pool, "%s/%s", MIME_CORPUS_DIR, name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *data = pool_alloc(test_pool, (size_t)n + 1);
        cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        *len_r = (size_t)n;
        return data;
}

struct chunk_reader {
        const char *data;
        size_t len, chunk;
        unsigned reads;
};

static enum cove_store_err chunk_read(void *ctx, uint64_t offset, const void **data_r,
                                      size_t *len_r)
{
        struct chunk_reader *r = ctx;

        r->reads++;
        if (offset >= r->len) {
                *data_r = r->data + r->len;
                *len_r = 0;
                return COVE_STORE_OK;
        }
        *data_r = r->data + offset;
        *len_r = r->len - offset < r->chunk ? r->len - offset : r->chunk;
        return COVE_STORE_OK;
}

bool stest_match(const char *search, const struct stest_msg *m)
{
        static const size_t chunks[] = { 1, 2, 7, 64, SIZE_MAX };
        struct imap_search_program *prog;
        struct imap_search_mailbox box = { .messages = 10, .max_uid = 10 };
        struct cove_store_msg rec = {
                .uid = m->uid != 0 ? m->uid : 1, .flags = m->flags,
                .keywords = m->keywords, .keyword_count = m->keyword_count,
                .internal_date = m->internal_date, .internal_tz = m->internal_tz,
                .size = m->len,
        };
        bool answer = false;

        cr_assert_eq(stest_parse(search, &prog), IMAP_SEARCH_PARSE_OK,
                     "cannot parse: %s", search);
        imap_search_bind(prog, test_pool, &box);
        if (!m->no_structure) {
                struct mime_parser *parser = mime_parser_create(test_pool, NULL);
                mime_parser_feed(parser, m->data, m->len);
                cr_assert_eq(mime_structure_serialize(test_pool, mime_parser_finish(parser),
                                                      &rec.structure, &rec.structure_len), 0);
        }
        for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
                struct chunk_reader reader = { .data = m->data, .len = m->len,
                                               .chunk = chunks[i] };
                struct imap_search_msg msg = {
                        .rec = &rec, .seq = m->seq != 0 ? m->seq : 1, .recent = m->recent,
                        .read = chunk_read, .read_ctx = &reader,
                };
                struct pool *scratch = pool_create("test-search-scratch", 1024);
                bool match;

                cr_assert_eq(imap_search_eval(prog, &msg, scratch, &match),
                             COVE_STORE_OK);
                pool_destroy(&scratch);
                if (i == 0)
                        answer = match;
                cr_assert_eq(match, answer, "%s: chunk size %zu disagrees", search,
                             chunks[i]);
                stest_last_reads = reader.reads;
        }
        return answer;
}

bool stest_match_text(const char *search, const char *message)
{
        struct stest_msg m = { .data = message, .len = strlen(message) };
        return stest_match(search, &m);
}

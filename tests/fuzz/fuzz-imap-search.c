/* fuzz-imap-search.c - libFuzzer target for the SEARCH program parser and
 * evaluator (imapd/search-*.c).
 *
 * The input is split at spaces into tokens: "(" and ")" alone are list
 * brackets, a token starting with '"' is a string (the rest of it), anything
 * else an atom. A program that parses is bound to a small mailbox and
 * evaluated on a fixed MIME message served in 3-byte chunks, so header,
 * charset and body paths run too. Seeds: corpus/imap-search/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "pool.h"
#include "search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_message[] =
        "From: =?ISO-8859-1?Q?Andr=E9?= <a@example.org>\r\n"
        "To: \"B, C\" <b@example.com>, group: d@example.net;\r\n"
        "Subject: =?utf-8?B?R3LDvMOfZQ==?= test\r\n"
        "Date: Fri, 8 Mar 2024 11:11:11 +0100\r\n"
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln caf=E9\r\n"
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nPGI+aGVsbG88L2I+\r\n"
        "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
        "--b--\r\n";

static enum cove_store_err fuzz_read(void *ctx, uint64_t offset, const void **data_r,
                                     size_t *len_r)
{
        size_t len = sizeof(fuzz_message) - 1;

        (void)ctx;
        if (offset >= len) {
                *data_r = fuzz_message + len;
                *len_r = 0;
                return COVE_STORE_OK;
        }
        *data_r = fuzz_message + offset;
        *len_r = len - offset < 3 ? len - offset : 3;
        return COVE_STORE_OK;
}

static size_t fuzz_tokens(struct pool *pool, const uint8_t *data, size_t size,
                          struct imap_search_tok **toks_r)
{
        struct imap_search_tok *toks = pool_alloc(pool, (size + 1) * sizeof(*toks));
        size_t n = 0, i = 0;

        while (i < size) {
                size_t start = i;
                while (i < size && data[i] != ' ')
                        i++;
                if (i > start) {
                        const char *p = (const char *)data + start;
                        size_t len = i - start;
                        struct imap_search_tok *t = &toks[n++];

                        if (len == 1 && (p[0] == '(' || p[0] == ')')) {
                                t->type = p[0] == '(' ? IMAP_SEARCH_TOK_LIST_OPEN :
                                        IMAP_SEARCH_TOK_LIST_CLOSE;
                        } else if (p[0] == '"') {
                                t->type = IMAP_SEARCH_TOK_STRING;
                                t->data = p + 1;
                                t->len = len - 1;
                        } else {
                                t->type = IMAP_SEARCH_TOK_ATOM;
                                t->data = p;
                                t->len = len;
                        }
                }
                i++;
        }
        *toks_r = toks;
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pool *pool = pool_create("fuzz-imap-search", 4096);
        struct imap_search_program *prog;
        struct imap_search_tok *toks;
        const char *error;
        size_t n = fuzz_tokens(pool, data, size, &toks);

        if (imap_search_parse(pool, toks, n, &prog, &error) == IMAP_SEARCH_PARSE_OK) {
                struct imap_search_mailbox box = { .messages = 3, .max_uid = 9 };
                struct mime_parser *parser = mime_parser_create(pool, NULL);
                struct cove_store_msg rec = {
                        .uid = 7, .flags = COVE_FLAG_SEEN, .internal_date = 1709892671,
                        .size = sizeof(fuzz_message) - 1,
                };
                struct imap_search_msg msg = {
                        .rec = &rec, .seq = 2, .recent = true, .read = fuzz_read,
                };
                bool match;

                mime_parser_feed(parser, fuzz_message, sizeof(fuzz_message) - 1);
                if (mime_structure_serialize(pool, mime_parser_finish(parser),
                                             &rec.structure, &rec.structure_len) < 0)
                        abort();
                imap_search_bind(prog, pool, &box);
                if (imap_search_eval(prog, &msg, pool, &match) != COVE_STORE_OK)
                        abort();
        }
        pool_destroy(&pool);
        return 0;
}

/* fuzz-imap-parser.c - libFuzzer target for the IMAP tokenizer
 * (imapd/parser.c) and the section specs it hands to FETCH
 * (imapd/fetch-section.c).
 *
 * The input is a client's byte stream: lines end at LF (a CR before it is
 * dropped), literals take their announced bytes, commands follow each other
 * (pipelining). Literals whose size is a multiple of 3 go to a spool; those
 * over a limit are skipped as the session does. Every parsed tree is walked
 * with the argument helpers. Seeds: corpus/imap-parser/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "fetch.h"
#include "parser.h"
#include "pool.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_SPOOLS 4

struct fuzz {
        struct pool *pool;
        struct imap_parser *parser;
        struct imap_spool *spools[FUZZ_MAX_SPOOLS];
        size_t spool_count;
};

/* BODY[...] / BODY.PEEK[...] / BINARY[...]: the section part goes through
   the FETCH section parser and its reply name is rebuilt. */
static void fuzz_section(struct pool *pool, const struct imap_arg *arg)
{
        const char *bracket = memchr(arg->str, '[', arg->len);
        if (bracket == NULL)
                return;
        size_t prefix = (size_t)(bracket - arg->str);
        if (prefix < 4 || strncasecmp(arg->str, "BODY", 4) != 0)
                return;
        struct imap_section sec;
        const char *error;
        if (imap_section_parse(pool, bracket, arg->len - prefix, &sec, &error) < 0) {
                if (error == NULL)
                        abort();
                return;
        }
        struct buf out;
        buf_init(&out, 0);
        imap_section_append_name(&out, &sec);
        buf_free(&out);
}

static void fuzz_walk(struct pool *pool, const struct imap_arg *args, size_t count,
                      unsigned depth)
{
        if (depth > IMAP_PARSER_MAX_DEPTH + 1 || count > IMAP_PARSER_MAX_LIST)
                abort();
        for (size_t i = 0; i < count; i++) {
                const struct imap_arg *arg = &args[i];
                const struct imap_arg *list;
                const char *str;
                size_t n, len;
                if (imap_arg_get_list(arg, &list, &n)) {
                        fuzz_walk(pool, list, n, depth + 1);
                        continue;
                }
                if (imap_arg_astring(arg, &str, &len) && len > 0 && str[len] != '\0')
                        abort();
                (void)imap_arg_string(arg, &str, &len);
                if (arg->type == IMAP_ARG_ATOM) {
                        (void)imap_arg_atom_equals(arg, "BODY");
                        fuzz_section(pool, arg);
                }
                if (arg->spool != NULL) {
                        const void *map;
                        if (imap_spool_map(arg->spool, &map, &len, &str) == 0 && len > 0)
                                (void)((const volatile char *)map)[len - 1];
                }
        }
}

/* The command is over (parsed, failed or cut off): look at it, then start
   the next one. */
static void fuzz_command_end(struct fuzz *fz, struct pool *cmd_pool, bool ok)
{
        size_t count;
        const struct imap_arg *args = imap_parser_args(fz->parser, &count);
        if (count > 0 && args[0].type == IMAP_ARG_ATOM)
                (void)imap_tag_valid(args[0].str);
        if (ok)
                fuzz_walk(cmd_pool, args, count, 0);
        else if (strlen(imap_parser_error(fz->parser)) == 0)
                abort();
        (void)imap_parser_depth(fz->parser);
        for (size_t i = 0; i < fz->spool_count; i++)
                imap_spool_destroy(&fz->spools[i]);
        fz->spool_count = 0;
        pool_clear(cmd_pool);
        imap_parser_reset(fz->parser, cmd_pool);
}

/* After a literal announcement: accept it (memory or spool) or skip its
   bytes as session.c does for a refused literal. Returns bytes skipped. */
static size_t fuzz_literal(struct fuzz *fz, struct pool *cmd_pool, size_t avail)
{
        uint64_t lit_size;
        bool sync;
        imap_parser_literal(fz->parser, &lit_size, &sync);
        struct imap_spool *spool = NULL;
        if (lit_size % 3 == 0 && fz->spool_count < FUZZ_MAX_SPOOLS)
                spool = imap_spool_create(cmd_pool, "/tmp");
        if (imap_parser_literal_accept(fz->parser, spool)) {
                if (spool != NULL)
                        fz->spools[fz->spool_count++] = spool;
                return 0;
        }
        if (spool != NULL)
                imap_spool_destroy(&spool);
        imap_parser_literal_skip(fz->parser);
        return lit_size < avail ? (size_t)lit_size : avail;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct imap_parser_settings set = {
                .max_literal = 1024, .max_spool_literal = 16384, .max_command = 8192,
        };
        struct pool *cmd_pool = pool_create("fuzz-imap-parser cmd", 1024);
        struct fuzz fz = { .pool = pool_create("fuzz-imap-parser", 1024) };
        const char *p = (const char *)data;
        size_t pos = 0;

        fz.parser = imap_parser_create(fz.pool, &set);
        imap_parser_reset(fz.parser, cmd_pool);
        while (pos < size) {
                enum imap_parse_result r;
                if (imap_parser_wants(fz.parser) == IMAP_WANT_LITERAL) {
                        /* Trickled, as a slow client sends it. */
                        uint64_t left = imap_parser_literal_left(fz.parser);
                        size_t n = size - pos < 5 ? size - pos : 5, taken;
                        if (left < n)
                                n = (size_t)left;
                        r = imap_parser_feed_bytes(fz.parser, p + pos, n, &taken);
                        if (r != PARSE_ERROR && taken != n)
                                abort();
                        pos += taken;
                        if (r == PARSE_ERROR)
                                fuzz_command_end(&fz, cmd_pool, false);
                        continue;
                }
                const char *nl = memchr(p + pos, '\n', size - pos);
                size_t end = nl != NULL ? (size_t)(nl - p) : size, len = end - pos;
                uint64_t plus;
                if (len > 0 && p[end - 1] == '\r')
                        len--;
                (void)imap_literal_plus_suffix(p + pos, len, &plus);
                r = imap_parser_feed_line(fz.parser, p + pos, len);
                pos = nl != NULL ? end + 1 : size;
                if (r == PARSE_MORE)
                        pos += fuzz_literal(&fz, cmd_pool, size - pos);
                else
                        fuzz_command_end(&fz, cmd_pool, r == PARSE_OK);
        }
        fuzz_command_end(&fz, cmd_pool, false);
        pool_destroy(&cmd_pool);
        pool_destroy(&fz.pool);
        return 0;
}

/* search-eval.c - evaluates a search program on one message, cheapest
 * evidence first: the message record, then the header, then a body pass.
 *
 * Owns: three-valued evaluation of the key tree (yes / no / not known yet),
 * set membership with '*', date and size keys, header and address matching.
 * Refuses: parsing (search-parse.c) and the body pass (search-body.c).
 */
#include "search-private.h"

#include <string.h>

#include "buf.h"
#include "log.h"
#include "mime.h"
#include "pool.h"
#include "seqset.h"

enum tri {
        TRI_NO = 0,
        TRI_YES,
        TRI_MAYBE,      /* depends on data not read yet */
};

struct eval_ctx {
        const struct imap_search_msg *msg;
        struct pool *scratch;
        struct imap_search_reader rd;
        bool have_header;
        const char *header;
        size_t header_len;
        const struct mime_part *root;
        bool sent_known;
        int64_t sent_day;
        const struct imap_search_scan *scans;   /* set once the body pass ran */
};

static enum tri tri_of(bool b)
{
        return b ? TRI_YES : TRI_NO;
}

static bool has_keyword(const struct cove_store_msg *rec, const char *keyword)
{
        for (size_t i = 0; i < rec->keyword_count; i++) {
                if (str_eq_nocase(rec->keywords[i], keyword))
                        return true;
        }
        return false;
}

/* The internal date's day in its own zone (RFC 3501: time and timezone
   disregarded). */
static int64_t internal_day(const struct cove_store_msg *rec)
{
        int64_t t = rec->internal_date + (int64_t)rec->internal_tz * 60;
        int64_t day = t / 86400;

        return t % 86400 < 0 ? day - 1 : day;
}

static enum tri compare_day(enum imap_search_key_type type, int64_t day, int64_t want)
{
        switch (type) {
        case IMAP_SEARCH_KEY_BEFORE:
        case IMAP_SEARCH_KEY_SENTBEFORE:
                return tri_of(day < want);
        case IMAP_SEARCH_KEY_ON:
        case IMAP_SEARCH_KEY_SENTON:
                return tri_of(day == want);
        default:
                return tri_of(day >= want);
        }
}

static bool text_matches(struct eval_ctx *ctx, const char *value,
                         const struct imap_search_needle *needle)
{
        char *decoded = mime_words_decode(ctx->scratch, value, strlen(value));
        size_t len;
        unsigned char *folded = imap_search_fold(ctx->scratch, decoded, strlen(decoded), &len);

        return imap_search_needle_find(needle, folded, len);
}

static bool header_matches(struct eval_ctx *ctx, const struct imap_search_key *key)
{
        const char *const *values;
        unsigned count = mime_header_find(ctx->scratch, ctx->header, ctx->header_len,
                                          key->str, &values);

        for (unsigned i = 0; i < count; i++) {
                if (text_matches(ctx, values[i], &key->needle))
                        return true;
        }
        return false;
}

static int address_field(const char *name)
{
        if (str_eq_nocase(name, "From"))
                return MIME_ENV_FROM;
        if (str_eq_nocase(name, "To"))
                return MIME_ENV_TO;
        if (str_eq_nocase(name, "Cc"))
                return MIME_ENV_CC;
        return MIME_ENV_BCC;
}

/* FROM/TO/CC/BCC: the decoded field text, or any parsed address's display
   name (unquoted, decoded) or mailbox@host. */
static bool address_matches(struct eval_ctx *ctx, const struct imap_search_key *key)
{
        const struct mime_address_list *list;

        if (header_matches(ctx, key))
                return true;
        if (ctx->root == NULL || ctx->root->envelope == NULL)
                return false;
        list = &ctx->root->envelope->addr[address_field(key->str)];
        for (unsigned i = 0; i < list->count; i++) {
                const struct mime_address *addr = &list->addrs[i];

                if (addr->name != NULL && text_matches(ctx, addr->name, &key->needle))
                        return true;
                if (addr->mailbox != NULL) {
                        const char *spec = addr->host == NULL ? addr->mailbox :
                                pool_printf(ctx->scratch, "%s@%s", addr->mailbox, addr->host);
                        if (text_matches(ctx, spec, &key->needle))
                                return true;
                }
        }
        return false;
}

static enum tri eval_sent(struct eval_ctx *ctx, const struct imap_search_key *key)
{
        if (!ctx->have_header)
                return TRI_MAYBE;
        /* No or unparsable Date: matches no SENT* key. */
        if (!ctx->sent_known)
                return TRI_NO;
        return compare_day(key->type, ctx->sent_day, key->day);
}

static enum tri eval_key(struct eval_ctx *ctx, const struct imap_search_key *key);

static enum tri eval_children(struct eval_ctx *ctx, const struct imap_search_key *key,
                              enum tri decisive)
{
        enum tri result = decisive == TRI_NO ? TRI_YES : TRI_NO;

        for (const struct imap_search_key *k = key->children; k != NULL; k = k->next) {
                enum tri r = eval_key(ctx, k);
                if (r == decisive)
                        return r;
                if (r == TRI_MAYBE)
                        result = TRI_MAYBE;
        }
        return result;
}

static enum tri eval_record_key(struct eval_ctx *ctx, const struct imap_search_key *key)
{
        const struct cove_store_msg *rec = ctx->msg->rec;

        switch (key->type) {
        case IMAP_SEARCH_KEY_FLAGS_SET:
                return tri_of((rec->flags & key->flags) == key->flags);
        case IMAP_SEARCH_KEY_FLAGS_UNSET:
                return tri_of((rec->flags & key->flags) == 0);
        case IMAP_SEARCH_KEY_KEYWORD:
                return tri_of(has_keyword(rec, key->str));
        case IMAP_SEARCH_KEY_UNKEYWORD:
                return tri_of(!has_keyword(rec, key->str));
        case IMAP_SEARCH_KEY_RECENT:
                return tri_of(ctx->msg->recent);
        case IMAP_SEARCH_KEY_NEW:
                return tri_of(ctx->msg->recent && (rec->flags & COVE_FLAG_SEEN) == 0);
        case IMAP_SEARCH_KEY_OLD:
                return tri_of(!ctx->msg->recent);
        case IMAP_SEARCH_KEY_LARGER:
                return tri_of(rec->size > key->size);
        case IMAP_SEARCH_KEY_SMALLER:
                return tri_of(rec->size < key->size);
        case IMAP_SEARCH_KEY_SEQSET:
                return tri_of(key->set != NULL &&
                              imap_seqset_contains(key->set, ctx->msg->seq));
        case IMAP_SEARCH_KEY_UIDSET:
                return tri_of(key->set != NULL && imap_seqset_contains(key->set, rec->uid));
        default:
                return compare_day(key->type, internal_day(rec), key->day);
        }
}

static enum tri eval_key(struct eval_ctx *ctx, const struct imap_search_key *key)
{
        switch (key->type) {
        case IMAP_SEARCH_KEY_AND:
                return eval_children(ctx, key, TRI_NO);
        case IMAP_SEARCH_KEY_OR:
                return eval_children(ctx, key, TRI_YES);
        case IMAP_SEARCH_KEY_NOT: {
                enum tri r = eval_key(ctx, key->children);
                return r == TRI_MAYBE ? r : tri_of(r == TRI_NO);
        }
        case IMAP_SEARCH_KEY_ALL:
                return TRI_YES;
        case IMAP_SEARCH_KEY_SENTBEFORE:
        case IMAP_SEARCH_KEY_SENTON:
        case IMAP_SEARCH_KEY_SENTSINCE:
                return eval_sent(ctx, key);
        case IMAP_SEARCH_KEY_HEADER:
                return !ctx->have_header ? TRI_MAYBE : tri_of(header_matches(ctx, key));
        case IMAP_SEARCH_KEY_ADDRESS:
                return !ctx->have_header ? TRI_MAYBE : tri_of(address_matches(ctx, key));
        case IMAP_SEARCH_KEY_BODY:
        case IMAP_SEARCH_KEY_TEXT:
                return ctx->scans == NULL ? TRI_MAYBE : tri_of(ctx->scans[key->scan].found);
        default:
                return eval_record_key(ctx, key);
        }
}

/* The part tree: from the cached structure, or by parsing the stream when
   the cache is missing or unreadable (bounded memory, one pass). */
static enum cove_store_err load_structure(struct eval_ctx *ctx)
{
        const struct cove_store_msg *rec = ctx->msg->rec;
        struct mime_parser *parser;
        const char *error;
        uint64_t offset = 0;

        if (rec->structure_len > 0 &&
            mime_structure_parse(ctx->scratch, rec->structure, rec->structure_len,
                                 &ctx->root, &error) == 0)
                return COVE_STORE_OK;
        parser = mime_parser_create(ctx->scratch, NULL);
        for (;;) {
                const void *chunk;
                size_t n;
                enum cove_store_err err = ctx->rd.read(ctx->rd.ctx, offset, &chunk, &n);

                if (err != COVE_STORE_OK)
                        return err;
                if (n == 0)
                        break;
                mime_parser_feed(parser, chunk, n);
                offset += n;
        }
        ctx->root = mime_parser_finish(parser);
        return COVE_STORE_OK;
}

static enum cove_store_err load_header(struct eval_ctx *ctx)
{
        enum cove_store_err err = load_structure(ctx);
        const char *const *dates;
        uint64_t len;
        char *header;

        if (err != COVE_STORE_OK)
                return err;
        len = ctx->root->header_size;
        if (len > IMAP_SEARCH_MAX_HEADER)
                len = IMAP_SEARCH_MAX_HEADER;
        err = imap_search_read_range(&ctx->rd, ctx->scratch, 0, len, &header,
                                     &ctx->header_len);
        if (err != COVE_STORE_OK)
                return err;
        ctx->header = header;
        if (mime_header_find(ctx->scratch, header, ctx->header_len, "Date", &dates) > 0)
                ctx->sent_known = imap_search_rfc5322_day(dates[0], &ctx->sent_day);
        ctx->have_header = true;
        return COVE_STORE_OK;
}

static void collect_scans(const struct imap_search_key *key, struct imap_search_scan *scans)
{
        for (; key != NULL; key = key->next) {
                if (key->type == IMAP_SEARCH_KEY_BODY || key->type == IMAP_SEARCH_KEY_TEXT) {
                        scans[key->scan].needle = &key->needle;
                        scans[key->scan].body_only = key->type == IMAP_SEARCH_KEY_BODY;
                }
                collect_scans(key->children, scans);
        }
}

static enum cove_store_err run_body_pass(struct eval_ctx *ctx,
                                         const struct imap_search_program *prog)
{
        struct imap_search_scan *scans =
                pool_alloc(ctx->scratch, prog->scan_count * sizeof(*scans));
        struct imap_search_sink sink = {
                .scans = scans, .count = prog->scan_count, .remaining = prog->scan_count,
        };
        enum cove_store_err err;

        collect_scans(prog->root, scans);
        err = imap_search_body_scan(&ctx->rd, ctx->root, ctx->scratch, &sink);
        if (err == COVE_STORE_OK)
                ctx->scans = scans;
        return err;
}

enum cove_store_err imap_search_eval(const struct imap_search_program *prog,
                                     const struct imap_search_msg *msg,
                                     struct pool *scratch, bool *match_r)
{
        struct eval_ctx ctx = {
                .msg = msg, .scratch = scratch,
                .rd = { .read = msg->read, .ctx = msg->read_ctx, .size = msg->rec->size },
        };
        enum cove_store_err err = COVE_STORE_OK;
        enum tri r;

        *match_r = false;
        r = eval_key(&ctx, prog->root);
        if (r == TRI_MAYBE) {
                err = load_header(&ctx);
                if (err == COVE_STORE_OK)
                        r = eval_key(&ctx, prog->root);
        }
        if (err == COVE_STORE_OK && r == TRI_MAYBE) {
                err = run_body_pass(&ctx, prog);
                if (err == COVE_STORE_OK)
                        r = eval_key(&ctx, prog->root);
        }
        if (err == COVE_STORE_EXPUNGED)
                return COVE_STORE_OK;
        if (err != COVE_STORE_OK)
                return err;
        COVE_ASSERT(r != TRI_MAYBE);
        *match_r = r == TRI_YES;
        return COVE_STORE_OK;
}

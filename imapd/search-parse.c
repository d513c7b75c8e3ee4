/* search-parse.c - turns SEARCH arguments into a search program (key tree).
 *
 * Owns: the RFC 3501 §6.4.4 key grammar (one table row per key), CHARSET,
 * RFC 4731 RETURN options, sequence/UID set syntax and the depth and size
 * bounds. Refuses: tokenizing (the tokenizer hands over tokens) and any
 * evaluation.
 */
#include "search-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "pool.h"
#include "seqset.h"

enum search_arg {
        SEARCH_ARG_NONE = 0,
        SEARCH_ARG_ASTRING,     /* one string: needle */
        SEARCH_ARG_HEADER,      /* field name, then needle */
        SEARCH_ARG_KEYWORD,     /* flag-keyword atom */
        SEARCH_ARG_DATE,
        SEARCH_ARG_NUMBER,
        SEARCH_ARG_SET,         /* sequence-set (UID) */
        SEARCH_ARG_KEY,         /* NOT: one search key */
        SEARCH_ARG_KEYS,        /* OR: two search keys */
};

struct search_keydef {
        const char *name;
        enum imap_search_key_type type;
        enum search_arg arg;
        uint32_t flags;         /* FLAGS_SET / FLAGS_UNSET */
        const char *header;     /* ADDRESS / HEADER keys with a fixed field */
};

/* Sorted by name (bsearch). */
static const struct search_keydef search_keys[] = {
        { .name = "ALL", .type = IMAP_SEARCH_KEY_ALL },
        { .name = "ANSWERED", .type = IMAP_SEARCH_KEY_FLAGS_SET, .flags = COVE_FLAG_ANSWERED },
        { .name = "BCC", .type = IMAP_SEARCH_KEY_ADDRESS, .arg = SEARCH_ARG_ASTRING,
          .header = "Bcc" },
        { .name = "BEFORE", .type = IMAP_SEARCH_KEY_BEFORE, .arg = SEARCH_ARG_DATE },
        { .name = "BODY", .type = IMAP_SEARCH_KEY_BODY, .arg = SEARCH_ARG_ASTRING },
        { .name = "CC", .type = IMAP_SEARCH_KEY_ADDRESS, .arg = SEARCH_ARG_ASTRING,
          .header = "Cc" },
        { .name = "DELETED", .type = IMAP_SEARCH_KEY_FLAGS_SET, .flags = COVE_FLAG_DELETED },
        { .name = "DRAFT", .type = IMAP_SEARCH_KEY_FLAGS_SET, .flags = COVE_FLAG_DRAFT },
        { .name = "FLAGGED", .type = IMAP_SEARCH_KEY_FLAGS_SET, .flags = COVE_FLAG_FLAGGED },
        { .name = "FROM", .type = IMAP_SEARCH_KEY_ADDRESS, .arg = SEARCH_ARG_ASTRING,
          .header = "From" },
        { .name = "HEADER", .type = IMAP_SEARCH_KEY_HEADER, .arg = SEARCH_ARG_HEADER },
        { .name = "KEYWORD", .type = IMAP_SEARCH_KEY_KEYWORD, .arg = SEARCH_ARG_KEYWORD },
        { .name = "LARGER", .type = IMAP_SEARCH_KEY_LARGER, .arg = SEARCH_ARG_NUMBER },
        { .name = "NEW", .type = IMAP_SEARCH_KEY_NEW },
        { .name = "NOT", .type = IMAP_SEARCH_KEY_NOT, .arg = SEARCH_ARG_KEY },
        { .name = "OLD", .type = IMAP_SEARCH_KEY_OLD },
        { .name = "ON", .type = IMAP_SEARCH_KEY_ON, .arg = SEARCH_ARG_DATE },
        { .name = "OR", .type = IMAP_SEARCH_KEY_OR, .arg = SEARCH_ARG_KEYS },
        { .name = "RECENT", .type = IMAP_SEARCH_KEY_RECENT },
        { .name = "SEEN", .type = IMAP_SEARCH_KEY_FLAGS_SET, .flags = COVE_FLAG_SEEN },
        { .name = "SENTBEFORE", .type = IMAP_SEARCH_KEY_SENTBEFORE, .arg = SEARCH_ARG_DATE },
        { .name = "SENTON", .type = IMAP_SEARCH_KEY_SENTON, .arg = SEARCH_ARG_DATE },
        { .name = "SENTSINCE", .type = IMAP_SEARCH_KEY_SENTSINCE, .arg = SEARCH_ARG_DATE },
        { .name = "SINCE", .type = IMAP_SEARCH_KEY_SINCE, .arg = SEARCH_ARG_DATE },
        { .name = "SMALLER", .type = IMAP_SEARCH_KEY_SMALLER, .arg = SEARCH_ARG_NUMBER },
        { .name = "SUBJECT", .type = IMAP_SEARCH_KEY_HEADER, .arg = SEARCH_ARG_ASTRING,
          .header = "Subject" },
        { .name = "TEXT", .type = IMAP_SEARCH_KEY_TEXT, .arg = SEARCH_ARG_ASTRING },
        { .name = "TO", .type = IMAP_SEARCH_KEY_ADDRESS, .arg = SEARCH_ARG_ASTRING,
          .header = "To" },
        { .name = "UID", .type = IMAP_SEARCH_KEY_UIDSET, .arg = SEARCH_ARG_SET },
        { .name = "UNANSWERED", .type = IMAP_SEARCH_KEY_FLAGS_UNSET,
          .flags = COVE_FLAG_ANSWERED },
        { .name = "UNDELETED", .type = IMAP_SEARCH_KEY_FLAGS_UNSET, .flags = COVE_FLAG_DELETED },
        { .name = "UNDRAFT", .type = IMAP_SEARCH_KEY_FLAGS_UNSET, .flags = COVE_FLAG_DRAFT },
        { .name = "UNFLAGGED", .type = IMAP_SEARCH_KEY_FLAGS_UNSET, .flags = COVE_FLAG_FLAGGED },
        { .name = "UNKEYWORD", .type = IMAP_SEARCH_KEY_UNKEYWORD, .arg = SEARCH_ARG_KEYWORD },
        { .name = "UNSEEN", .type = IMAP_SEARCH_KEY_FLAGS_UNSET, .flags = COVE_FLAG_SEEN },
};

/* System flags accepted by KEYWORD/UNKEYWORD as a courtesy to clients that
   send them there. */
static const struct {
        const char *name;
        uint32_t flag;
} search_system_flags[] = {
        { "\\Answered", COVE_FLAG_ANSWERED }, { "\\Deleted", COVE_FLAG_DELETED },
        { "\\Draft", COVE_FLAG_DRAFT }, { "\\Flagged", COVE_FLAG_FLAGGED },
        { "\\Seen", COVE_FLAG_SEEN },
};

struct search_parser {
        struct pool *pool;
        const struct imap_search_tok *toks;
        size_t count, pos;
        unsigned keys, scans;
        bool uses_header, uses_body;
        const char *error;
};

static bool tok_is_atom(const struct imap_search_tok *tok, const char *word)
{
        size_t n = strlen(word);
        return tok->type == IMAP_SEARCH_TOK_ATOM && tok->len == n &&
               strncasecmp(tok->data, word, n) == 0;
}

static const struct imap_search_tok *peek(struct search_parser *sp)
{
        return sp->pos < sp->count ? &sp->toks[sp->pos] : NULL;
}

static bool fail(struct search_parser *sp, const char *error)
{
        if (sp->error == NULL)
                sp->error = error;
        return false;
}

static bool take_astring(struct search_parser *sp, const char **str_r, size_t *len_r)
{
        const struct imap_search_tok *tok = peek(sp);

        if (tok == NULL || (tok->type != IMAP_SEARCH_TOK_ATOM &&
                            tok->type != IMAP_SEARCH_TOK_STRING))
                return fail(sp, "Missing string argument");
        if (memchr(tok->data, '\0', tok->len) != NULL)
                return fail(sp, "NUL in search string");
        *str_r = pool_strndup(sp->pool, tok->data, tok->len);
        *len_r = tok->len;
        sp->pos++;
        return true;
}

static bool take_atom(struct search_parser *sp, const char **str_r, size_t *len_r)
{
        const struct imap_search_tok *tok = peek(sp);

        if (tok == NULL || tok->type != IMAP_SEARCH_TOK_ATOM || tok->len == 0)
                return fail(sp, "Missing atom argument");
        *str_r = pool_strndup(sp->pool, tok->data, tok->len);
        *len_r = tok->len;
        sp->pos++;
        return true;
}

/* The set is checked now and resolved against the mailbox by
   imap_search_bind(), when the value of '*' is known. */
static bool parse_set(struct search_parser *sp, const char *s, size_t len,
                      struct imap_search_key *key)
{
        key->set_text = pool_strndup(sp->pool, s, len);
        if (strlen(key->set_text) != len || !imap_seqset_valid(key->set_text))
                return fail(sp, "Invalid sequence set");
        return true;
}

static bool looks_like_set(const struct imap_search_tok *tok)
{
        return tok->type == IMAP_SEARCH_TOK_ATOM && tok->len > 0 &&
               (tok->data[0] == '*' || (tok->data[0] >= '0' && tok->data[0] <= '9'));
}

static bool parse_keyword(struct search_parser *sp, struct imap_search_key *key)
{
        const char *kw;
        size_t len;

        if (!take_atom(sp, &kw, &len))
                return false;
        if (kw[0] != '\\') {
                key->str = kw;
                return true;
        }
        for (size_t i = 0; i < N_ELEMENTS(search_system_flags); i++) {
                if (str_eq_nocase(kw, search_system_flags[i].name)) {
                        key->type = key->type == IMAP_SEARCH_KEY_KEYWORD ?
                                IMAP_SEARCH_KEY_FLAGS_SET : IMAP_SEARCH_KEY_FLAGS_UNSET;
                        key->flags = search_system_flags[i].flag;
                        return true;
                }
        }
        return fail(sp, "Invalid keyword");
}

static struct imap_search_key *new_key(struct search_parser *sp,
                                       enum imap_search_key_type type)
{
        struct imap_search_key *key;

        if (sp->keys >= IMAP_SEARCH_MAX_KEYS) {
                fail(sp, "Too many search keys");
                return NULL;
        }
        sp->keys++;
        key = pool_alloc(sp->pool, sizeof(*key));
        key->type = type;
        return key;
}

static struct imap_search_key *parse_key(struct search_parser *sp, unsigned depth);

/* Parses keys up to a LIST_CLOSE (in a list) or the end, as children of and. */
static bool parse_key_list(struct search_parser *sp, struct imap_search_key *and,
                           unsigned depth, bool in_list)
{
        struct imap_search_key **tail = &and->children;
        const struct imap_search_tok *tok;

        while ((tok = peek(sp)) != NULL && tok->type != IMAP_SEARCH_TOK_LIST_CLOSE) {
                struct imap_search_key *key = parse_key(sp, depth);
                if (key == NULL)
                        return false;
                *tail = key;
                tail = &key->next;
        }
        if (and->children == NULL)
                return fail(sp, "Missing search key");
        if (in_list) {
                if (tok == NULL)
                        return fail(sp, "Missing ')'");
                sp->pos++;
        } else if (tok != NULL) {
                return fail(sp, "Unexpected ')'");
        }
        return true;
}

/* OR is associative: every OR met where an OR operand is expected adds one
   more operand to the same node, so OR chains nest no deeper than one. */
static bool parse_or(struct search_parser *sp, struct imap_search_key *or, unsigned depth)
{
        struct imap_search_key **tail = &or->children;
        unsigned need = 2;

        while (need > 0) {
                const struct imap_search_tok *tok = peek(sp);
                if (tok != NULL && tok_is_atom(tok, "OR")) {
                        sp->pos++;
                        need++;
                        continue;
                }
                struct imap_search_key *key = parse_key(sp, depth + 1);
                if (key == NULL)
                        return false;
                *tail = key;
                tail = &key->next;
                need--;
        }
        return true;
}

static bool parse_args(struct search_parser *sp, const struct search_keydef *def,
                       struct imap_search_key *key, unsigned depth)
{
        const char *s;
        size_t len;

        switch (def->arg) {
        case SEARCH_ARG_NONE:
                return true;
        case SEARCH_ARG_HEADER:
                if (!take_astring(sp, &key->str, &len))
                        return false;
                if (len == 0)
                        return fail(sp, "Empty header field name");
                __attribute__((fallthrough));   /* then the value */
        case SEARCH_ARG_ASTRING:
                if (!take_astring(sp, &s, &len))
                        return false;
                imap_search_needle_init(sp->pool, &key->needle, s, len);
                return true;
        case SEARCH_ARG_KEYWORD:
                return parse_keyword(sp, key);
        case SEARCH_ARG_DATE:
                if (!take_astring(sp, &s, &len))
                        return false;
                if (!imap_search_date_parse(s, len, &key->day))
                        return fail(sp, "Invalid date");
                return true;
        case SEARCH_ARG_NUMBER:
                if (!take_atom(sp, &s, &len) || !str_to_u64_n(s, len, &key->size))
                        return fail(sp, "Invalid number");
                return true;
        case SEARCH_ARG_SET:
                if (!take_atom(sp, &s, &len))
                        return false;
                return parse_set(sp, s, len, key);
        case SEARCH_ARG_KEY:
                key->children = parse_key(sp, depth + 1);
                return key->children != NULL;
        case SEARCH_ARG_KEYS:
                return parse_or(sp, key, depth);
        }
        return fail(sp, "Invalid search key");
}

static int keydef_cmp(const void *name, const void *def)
{
        return strcasecmp(name, ((const struct search_keydef *)def)->name);
}

static void note_key_needs(struct search_parser *sp, struct imap_search_key *key)
{
        switch (key->type) {
        case IMAP_SEARCH_KEY_HEADER:
        case IMAP_SEARCH_KEY_ADDRESS:
        case IMAP_SEARCH_KEY_SENTBEFORE:
        case IMAP_SEARCH_KEY_SENTON:
        case IMAP_SEARCH_KEY_SENTSINCE:
                sp->uses_header = true;
                break;
        case IMAP_SEARCH_KEY_BODY:
        case IMAP_SEARCH_KEY_TEXT:
                sp->uses_body = true;
                key->scan = sp->scans++;
                break;
        default:
                break;
        }
}

static struct imap_search_key *parse_key(struct search_parser *sp, unsigned depth)
{
        const struct imap_search_tok *tok = peek(sp);
        const struct search_keydef *def;
        struct imap_search_key *key;
        char name[16];

        if (depth >= IMAP_SEARCH_MAX_DEPTH) {
                fail(sp, "Search keys nested too deeply");
                return NULL;
        }
        if (tok == NULL) {
                fail(sp, "Missing search key");
                return NULL;
        }
        if (tok->type == IMAP_SEARCH_TOK_LIST_OPEN) {
                sp->pos++;
                key = new_key(sp, IMAP_SEARCH_KEY_AND);
                if (key == NULL || !parse_key_list(sp, key, depth + 1, true))
                        return NULL;
                return key;
        }
        if (looks_like_set(tok)) {
                key = new_key(sp, IMAP_SEARCH_KEY_SEQSET);
                if (key == NULL || !parse_set(sp, tok->data, tok->len, key))
                        return NULL;
                sp->pos++;
                return key;
        }
        if (tok->type != IMAP_SEARCH_TOK_ATOM || tok->len >= sizeof(name)) {
                fail(sp, "Unknown search key");
                return NULL;
        }
        memcpy(name, tok->data, tok->len);
        name[tok->len] = '\0';
        def = bsearch(name, search_keys, N_ELEMENTS(search_keys), sizeof(search_keys[0]),
                      keydef_cmp);
        if (def == NULL) {
                fail(sp, "Unknown search key");
                return NULL;
        }
        sp->pos++;
        key = new_key(sp, def->type);
        if (key == NULL)
                return NULL;
        key->flags = def->flags;
        key->str = def->header;
        if (!parse_args(sp, def, key, depth))
                return NULL;
        note_key_needs(sp, key);
        return key;
}

/* RFC 4731 §3.1: RETURN (MIN MAX ALL COUNT); an empty list means ALL. */
static bool parse_return(struct search_parser *sp, struct imap_search_program *prog)
{
        static const struct {
                const char *name;
                unsigned bit;
        } opts[] = {
                { "MIN", IMAP_SEARCH_RETURN_MIN }, { "MAX", IMAP_SEARCH_RETURN_MAX },
                { "ALL", IMAP_SEARCH_RETURN_ALL }, { "COUNT", IMAP_SEARCH_RETURN_COUNT },
        };
        const struct imap_search_tok *tok = peek(sp);

        if (tok == NULL || tok->type != IMAP_SEARCH_TOK_LIST_OPEN)
                return fail(sp, "RETURN needs a list of options");
        sp->pos++;
        prog->esearch = true;
        while ((tok = peek(sp)) != NULL && tok->type == IMAP_SEARCH_TOK_ATOM) {
                size_t i;
                for (i = 0; i < N_ELEMENTS(opts); i++) {
                        if (tok_is_atom(tok, opts[i].name))
                                break;
                }
                if (i == N_ELEMENTS(opts))
                        return fail(sp, "Unknown RETURN option");
                prog->return_opts |= opts[i].bit;
                sp->pos++;
        }
        if (tok == NULL || tok->type != IMAP_SEARCH_TOK_LIST_CLOSE)
                return fail(sp, "Invalid RETURN options");
        sp->pos++;
        if (prog->return_opts == 0)
                prog->return_opts = IMAP_SEARCH_RETURN_ALL;
        return true;
}

/* RFC 3501 §6.4.4: US-ASCII must be supported; UTF-8 is what we match in. */
static bool charset_supported(const char *charset)
{
        return str_eq_nocase(charset, "UTF-8") || str_eq_nocase(charset, "US-ASCII");
}

enum imap_search_parse_result
imap_search_parse(struct pool *pool, const struct imap_search_tok *toks, size_t count,
                  struct imap_search_program **prog_r, const char **error_r)
{
        struct search_parser sp = { .pool = pool, .toks = toks, .count = count };
        struct imap_search_program *prog = pool_alloc(pool, sizeof(*prog));
        const struct imap_search_tok *tok;

        tok = peek(&sp);
        if (tok != NULL && tok_is_atom(tok, "RETURN")) {
                sp.pos++;
                if (!parse_return(&sp, prog))
                        goto bad;
        }
        tok = peek(&sp);
        if (tok != NULL && tok_is_atom(tok, "CHARSET")) {
                const char *charset;
                size_t len;

                sp.pos++;
                if (!take_astring(&sp, &charset, &len))
                        goto bad;
                if (!charset_supported(charset)) {
                        *error_r = "Unsupported charset";
                        return IMAP_SEARCH_PARSE_BADCHARSET;
                }
        }
        prog->root = new_key(&sp, IMAP_SEARCH_KEY_AND);
        if (!parse_key_list(&sp, prog->root, 0, false))
                goto bad;
        prog->uses_header = sp.uses_header;
        prog->uses_body = sp.uses_body;
        prog->key_count = sp.keys;
        prog->scan_count = sp.scans;
        *prog_r = prog;
        return IMAP_SEARCH_PARSE_OK;
bad:
        *error_r = sp.error != NULL ? sp.error : "Invalid search arguments";
        return IMAP_SEARCH_PARSE_BAD;
}

static void bind_sets(struct imap_search_key *key, struct pool *pool,
                      const struct imap_search_mailbox *box)
{
        const char *error;

        for (; key != NULL; key = key->next) {
                if (key->type == IMAP_SEARCH_KEY_SEQSET || key->type == IMAP_SEARCH_KEY_UIDSET) {
                        uint32_t star = key->type == IMAP_SEARCH_KEY_SEQSET ?
                                box->messages : box->max_uid;
                        /* Checked at parse time; a set that still fails
                           stays NULL and matches nothing. */
                        if (imap_seqset_parse(pool, key->set_text, star, &key->set,
                                              &error) < 0)
                                key->set = NULL;
                }
                bind_sets(key->children, pool, box);
        }
}

void imap_search_bind(struct imap_search_program *prog, struct pool *pool,
                      const struct imap_search_mailbox *box)
{
        bind_sets(prog->root, pool, box);
}

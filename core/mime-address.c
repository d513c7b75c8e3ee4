/* mime-address.c - RFC 5322 address lists as IMAP ENVELOPE wants them.
 *
 * Owns: lexing an address-list value into words and specials, and building
 * mailbox / group-start / group-end entries (RFC 3501 §7.4.2 shape). It is
 * lenient: any input gives a list, possibly empty. Does not: decode encoded
 * words in display names (they stay raw, as ENVELOPE wants).
 */
#include "mime-private.h"

#include <string.h>

#include "pool.h"

enum tok_kind { TOK_WORD, TOK_QUOTED, TOK_SPECIAL, TOK_COMMENT, TOK_LITERAL };

struct tok {
        enum tok_kind kind;
        char special;           /* TOK_SPECIAL */
        const char *text;       /* WORD/QUOTED/COMMENT/LITERAL: as unquoted text */
        const char *raw;        /* as written (for local parts and literals) */
};

struct toks {
        struct tok *v;
        unsigned count, cap;
};

static void tok_push(struct pool *pool, struct toks *t, struct tok tok)
{
        if (t->count == t->cap) {
                unsigned ncap = t->cap == 0 ? 16 : t->cap * 2;
                t->v = pool_realloc(pool, t->v, t->cap * sizeof(*t->v),
                                    ncap * sizeof(*t->v));
                t->cap = ncap;
        }
        t->v[t->count++] = tok;
}

/* Reads a comment starting at '(' into its text (nested parentheses kept,
   counted rather than recursed). */
static const char *read_comment(struct pool *pool, const char **pp)
{
        const char *p = *pp + 1;
        unsigned depth = 1;
        struct mime_str s = { 0 };

        while (*p != '\0') {
                if (*p == '\\' && p[1] != '\0') {
                        mime_str_append(pool, &s, p + 1, 1);
                        p += 2;
                        continue;
                }
                if (*p == '(')
                        depth++;
                else if (*p == ')' && --depth == 0) {
                        p++;
                        break;
                }
                mime_str_append(pool, &s, p, 1);
                p++;
        }
        *pp = p;
        return pool_strdup(pool, mime_str_get(&s));
}

static bool is_atom_char(char c)
{
        return (unsigned char)c > 32 && c != 127 &&
               strchr("()<>[]:;@\\,.\"", c) == NULL;
}

static void lex(struct pool *pool, const char *p, struct toks *t)
{
        while (*p != '\0') {
                const char *start = p;
                if (mime_is_wsp(*p) || *p == ']' || *p == ')' || *p == '\\' ||
                    (unsigned char)*p < 32 || *p == 127) {
                        p++;
                } else if (*p == '(') {
                        const char *text = read_comment(pool, &p);
                        tok_push(pool, t, (struct tok){ .kind = TOK_COMMENT, .text = text });
                } else if (*p == '"') {
                        const char *text = mime_read_quoted(pool, &p);
                        tok_push(pool, t, (struct tok){ .kind = TOK_QUOTED, .text = text,
                                .raw = pool_strndup(pool, start, (size_t)(p - start)) });
                } else if (*p == '[') {
                        while (*p != '\0' && *p != ']')
                                p++;
                        if (*p == ']')
                                p++;
                        const char *raw = pool_strndup(pool, start, (size_t)(p - start));
                        tok_push(pool, t, (struct tok){ .kind = TOK_LITERAL,
                                .text = raw, .raw = raw });
                } else if (is_atom_char(*p)) {
                        while (is_atom_char(*p))
                                p++;
                        const char *w = pool_strndup(pool, start, (size_t)(p - start));
                        tok_push(pool, t, (struct tok){ .kind = TOK_WORD, .text = w, .raw = w });
                } else {
                        tok_push(pool, t, (struct tok){ .kind = TOK_SPECIAL,
                                .special = *p, .raw = "" });
                        p++;
                }
        }
}

static bool is_special(const struct tok *t, char c)
{
        return t->kind == TOK_SPECIAL && t->special == c;
}

static bool is_word(const struct tok *t)
{
        return t->kind == TOK_WORD || t->kind == TOK_QUOTED;
}

/* Display phrase of tokens [from, to): words joined by one space, '.' glued
   to the word before it (obs-phrase "John Q. Public"). NULL when empty. */
static const char *phrase(struct pool *pool, const struct tok *v,
                          unsigned from, unsigned to)
{
        struct mime_str s = { 0 };
        for (unsigned i = from; i < to; i++) {
                if (is_word(&v[i])) {
                        if (s.len > 0)
                                mime_str_append(pool, &s, " ", 1);
                        mime_str_append(pool, &s, v[i].text, strlen(v[i].text));
                } else if (is_special(&v[i], '.') && s.len > 0) {
                        mime_str_append(pool, &s, ".", 1);
                }
        }
        return s.len > 0 ? pool_strdup(pool, s.data) : NULL;
}

/* Concatenates raw words, literals and dots of [from, to) (a local part or
   a domain); NULL when empty. */
static const char *joined(struct pool *pool, const struct tok *v,
                          unsigned from, unsigned to)
{
        struct mime_str s = { 0 };
        for (unsigned i = from; i < to; i++) {
                if (is_word(&v[i]) || v[i].kind == TOK_LITERAL)
                        mime_str_append(pool, &s, v[i].raw, strlen(v[i].raw));
                else if (is_special(&v[i], '.'))
                        mime_str_append(pool, &s, ".", 1);
        }
        return s.len > 0 ? pool_strdup(pool, s.data) : NULL;
}

/* Fills mailbox/host from an addr-spec in [from, to). */
static void addr_spec(struct pool *pool, const struct tok *v, unsigned from,
                      unsigned to, struct mime_address *a)
{
        unsigned at = from;
        while (at < to && !is_special(&v[at], '@'))
                at++;
        a->mailbox = joined(pool, v, from, at);
        if (at < to)
                a->host = joined(pool, v, at + 1, to);
}

/* Parses one mailbox in [from, to): "phrase <[route:]addr-spec>" or a bare
   addr-spec with an optional comment as its name. */
static bool mailbox(struct pool *pool, const struct tok *v, unsigned from,
                    unsigned to, struct mime_address *a)
{
        unsigned lt = from, gt, colon;
        *a = (struct mime_address){ .kind = MIME_ADDRESS_MAILBOX };

        while (lt < to && !is_special(&v[lt], '<'))
                lt++;
        if (lt == to) {
                addr_spec(pool, v, from, to, a);
                /* "addr (Full Name)": the last comment is the name. */
                for (unsigned i = to; i-- > from && a->name == NULL;) {
                        if (v[i].kind == TOK_COMMENT && v[i].text[0] != '\0')
                                a->name = v[i].text;
                }
                return a->mailbox != NULL || a->host != NULL;
        }
        a->name = phrase(pool, v, from, lt);
        for (gt = lt + 1; gt < to && !is_special(&v[gt], '>'); gt++)
                ;
        for (colon = lt + 1; colon < gt && !is_special(&v[colon], ':'); colon++)
                ;
        if (colon < gt) {       /* obs-route: "@a,@b:" */
                struct mime_str s = { 0 };
                for (unsigned i = lt + 1; i < colon; i++) {
                        const char *r = is_special(&v[i], '@') ? "@" :
                                is_special(&v[i], ',') ? "," :
                                is_special(&v[i], '.') ? "." :
                                v[i].kind == TOK_COMMENT ? "" : v[i].raw;
                        mime_str_append(pool, &s, r, strlen(r));
                }
                a->adl = s.len > 0 ? pool_strdup(pool, s.data) : NULL;
                addr_spec(pool, v, colon + 1, gt, a);
        } else {
                addr_spec(pool, v, lt + 1, gt, a);
        }
        /* "<>" (null return path) is still an address with a name. */
        return a->mailbox != NULL || a->host != NULL || a->name != NULL;
}

struct addr_out {
        struct mime_address *v;
        unsigned count, cap;
};

static void out_push(struct pool *pool, struct addr_out *o, const struct mime_address *a)
{
        if (o->count == o->cap) {
                unsigned ncap = o->cap == 0 ? 4 : o->cap * 2;
                o->v = pool_realloc(pool, o->v, o->cap * sizeof(*o->v),
                                    ncap * sizeof(*o->v));
                o->cap = ncap;
        }
        o->v[o->count++] = *a;
}

/* Finds where the address starting at i ends: at ',' (or ';' inside a
   group) outside angle brackets, or at a ':' that opens a group. */
static unsigned address_end(const struct tok *v, unsigned i, unsigned n,
                            bool in_group, bool *group_r)
{
        bool in_angle = false, seen_at = false;
        *group_r = false;
        for (; i < n; i++) {
                if (is_special(&v[i], '<'))
                        in_angle = true;
                else if (is_special(&v[i], '>'))
                        in_angle = false;
                else if (in_angle)
                        continue;
                else if (is_special(&v[i], '@'))
                        seen_at = true;
                else if (is_special(&v[i], ',') || is_special(&v[i], ';'))
                        return i;   /* ';' outside a group: a common typo for ',' */
                else if (is_special(&v[i], ':') && !in_group && !seen_at) {
                        *group_r = true;
                        return i;
                }
        }
        return n;
}

void mime_address_list_parse(struct pool *pool, const char *value,
                             struct mime_address_list *list_r)
{
        struct toks t = { 0 };
        struct addr_out o = { 0 };
        bool in_group = false, group;
        unsigned i = 0;

        lex(pool, value, &t);
        while (i < t.count) {
                unsigned end = address_end(t.v, i, t.count, in_group, &group);
                if (group) {
                        struct mime_address a = {
                                .kind = MIME_ADDRESS_GROUP_START,
                                .mailbox = phrase(pool, t.v, i, end),
                        };
                        if (a.mailbox == NULL)
                                a.mailbox = "";
                        out_push(pool, &o, &a);
                        in_group = true;
                } else {
                        struct mime_address a;
                        if (mailbox(pool, t.v, i, end, &a))
                                out_push(pool, &o, &a);
                        if (in_group && end < t.count && is_special(&t.v[end], ';')) {
                                out_push(pool, &o, &(struct mime_address){
                                        .kind = MIME_ADDRESS_GROUP_END });
                                in_group = false;
                        }
                }
                i = end + 1;
        }
        if (in_group)
                out_push(pool, &o, &(struct mime_address){ .kind = MIME_ADDRESS_GROUP_END });
        list_r->addrs = o.v;
        list_r->count = o.count;
}

/* parser.c - the IMAP tokenizer (see parser.h).
 *
 * Owns: RFC 3501 §9 / RFC 9051 §9 argument syntax (atoms, quoted strings,
 * literals, NIL, lists), bracketed atom sections, LITERAL+ announcements, and
 * every bound on what a client can make it hold. Does not: interpret any
 * argument, talk to the socket, or know which command is running.
 */
#include "parser.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pool.h"
#include "spool.h"

enum parser_state {
        STATE_LINE,         /* between tokens, inside a line */
        STATE_LITERAL,      /* announced, waiting for accept */
        STATE_LITERAL_DATA, /* reading literal bytes */
};

struct level {
        struct imap_arg *items;
        size_t count, cap;
};

struct imap_parser {
        struct imap_parser_settings set;
        struct pool *pool;              /* the command pool */
        struct level stack[IMAP_PARSER_MAX_DEPTH + 1];
        unsigned depth;
        size_t total;                   /* bytes of arguments so far */
        enum parser_state state;
        uint64_t lit_size, lit_got;
        bool lit_sync;
        bool after_literal;             /* the next line continues after a literal */
        /* A literal inside a BODY[ section (a header-fld-name): the atom so
           far, the literal appended as a quoted string once read; the next
           line continues the atom. */
        char *sect_atom;
        size_t sect_len;
        bool sect_open;
        /* A syntax error found in literal data: reported by the next line
           (feed_bytes errors mean the spool failed, not the client). */
        const char *pending_error;
        char *lit_buf;
        struct imap_spool *lit_spool;
        const char *error;
};

struct imap_parser *imap_parser_create(struct pool *session_pool,
                                       const struct imap_parser_settings *set)
{
        struct imap_parser *parser = pool_alloc(session_pool, sizeof(*parser));
        parser->set = *set;
        return parser;
}

void imap_parser_reset(struct imap_parser *parser, struct pool *cmd_pool)
{
        struct imap_parser_settings set = parser->set;
        memset(parser, 0, sizeof(*parser));
        parser->set = set;
        parser->pool = cmd_pool;
}

static enum imap_parse_result fail(struct imap_parser *parser, const char *error)
{
        parser->error = error;
        return PARSE_ERROR;
}

/* A new argument at the current level; NULL when the level is full. */
static struct imap_arg *arg_add(struct imap_parser *parser)
{
        struct level *lv = &parser->stack[parser->depth];
        if (lv->count >= IMAP_PARSER_MAX_LIST)
                return NULL;
        if (lv->count == lv->cap) {
                size_t cap = lv->cap == 0 ? 8 : lv->cap * 2;
                lv->items = pool_realloc(parser->pool, lv->items,
                                         lv->cap * sizeof(*lv->items), cap * sizeof(*lv->items));
                lv->cap = cap;
        }
        return &lv->items[lv->count++];
}

static bool account(struct imap_parser *parser, size_t len)
{
        if (len > parser->set.max_command || parser->total > parser->set.max_command - len)
                return false;
        parser->total += len;
        return true;
}

static bool is_atom_end(char c)
{
        return c == ' ' || c == '(' || c == ')' || c == '\0';
}

/* Scans the quoted string whose opening '"' is at line[start] (RFC 3501 §9
   quoted: no CR, LF or NUL; only \\ and \" escaped). On success *end_r is
   the index of the closing quote and *n_r the unescaped length; otherwise
   *error_r says why. */
static bool quoted_scan(const char *line, size_t len, size_t start, size_t *end_r,
                        size_t *n_r, const char **error_r)
{
        size_t n = 0;
        for (size_t i = start + 1; i < len; i++) {
                char c = line[i];
                if (c == '"') {
                        *end_r = i;
                        *n_r = n;
                        return true;
                }
                if (c == '\0' || c == '\r' || c == '\n') {
                        *error_r = "Invalid characters in quoted string";
                        return false;
                }
                if (c == '\\') {
                        if (i + 1 >= len || (line[i + 1] != '\\' && line[i + 1] != '"')) {
                                *error_r = "Invalid escape in quoted string";
                                return false;
                        }
                        i++;
                }
                n++;
        }
        *error_r = "Missing closing quote";
        return false;
}

/* True when the atom text before a '[' is a fetch-att whose section may
   hold a header-list (RFC 3501 §9: "BODY" / "BODY.PEEK" section): only there
   can quoted strings occur between the brackets. */
static bool section_takes_strings(const char *prefix, size_t len)
{
        return (len == 4 && strncasecmp(prefix, "BODY", 4) == 0) ||
               (len == 9 && strncasecmp(prefix, "BODY.PEEK", 9) == 0);
}

/* An atom; '[' opens a section in which spaces and parentheses are allowed
   until the matching ']' (FETCH BODY[HEADER.FIELDS (A B)]). In a BODY or
   BODY.PEEK section quoted strings are allowed too (header-fld-name is an
   astring): they stay in the atom as written, quotes and escapes included,
   and fetch-section.c unquotes them. */
/* Appends n bytes to the section atom being built across a literal. */
static bool sect_append(struct imap_parser *parser, const char *data, size_t n)
{
        if (!account(parser, n))
                return false;
        char *atom = pool_alloc(parser->pool, parser->sect_len + n + 1);
        if (parser->sect_len > 0)
                memcpy(atom, parser->sect_atom, parser->sect_len);
        memcpy(atom + parser->sect_len, data, n);
        parser->sect_atom = atom;
        parser->sect_len += n;
        return true;
}

static enum imap_parse_result parse_literal_start(struct imap_parser *parser, const char *line,
                                                  size_t len, size_t *pos);

/* '{' inside a BODY[ section: a literal header-fld-name. The atom so far is
   kept and continues on the line after the literal. */
static enum imap_parse_result section_literal(struct imap_parser *parser, const char *line,
                                              size_t start, size_t len, size_t *pos)
{
        if (!sect_append(parser, line + start, *pos - start))
                return fail(parser, "Too many arguments");
        parser->sect_open = true;
        return parse_literal_start(parser, line, len, pos);
}

/* The atom's bytes: a continued section atom gets the line's part added. */
static const char *atom_text(struct imap_parser *parser, const char *line, size_t start,
                             size_t n, size_t *len_r)
{
        if (!parser->sect_open) {
                *len_r = n;
                return pool_strndup(parser->pool, line + start, n);
        }
        parser->sect_open = false;
        if (!sect_append(parser, line + start, n))
                return NULL;
        *len_r = parser->sect_len;
        return parser->sect_atom;
}

static enum imap_parse_result parse_atom(struct imap_parser *parser, const char *line,
                                         size_t len, size_t *pos)
{
        size_t start = *pos, i = *pos;
        /* A line after a section literal starts inside that section. */
        bool in_section = parser->sect_open, strings = parser->sect_open;
        for (; i < len; i++) {
                char c = line[i];
                if (strings && c == '{') {
                        *pos = i;
                        return section_literal(parser, line, start, len, pos);
                }
                if (strings && c == '"') {
                        size_t end, n;
                        const char *error;
                        if (!quoted_scan(line, len, i, &end, &n, &error))
                                return fail(parser, error);
                        i = end;
                        continue;
                }
                if ((unsigned char)c < 0x20 || c == 0x7f || c == '"')
                        return fail(parser, "Invalid characters in atom");
                if (in_section) {
                        if (c == ']')
                                in_section = strings = false;
                        else if (c == '[')
                                return fail(parser, "Nested [ in atom");
                        continue;
                }
                if (c == '[') {
                        in_section = true;
                        strings = section_takes_strings(line + start, i - start);
                        continue;
                }
                if (is_atom_end(c))
                        break;
        }
        if (in_section)
                return fail(parser, "Missing ] in atom");
        size_t n = i - start, text_len;
        struct imap_arg *arg = arg_add(parser);
        if (arg == NULL || !account(parser, n + 16))
                return fail(parser, "Too many arguments");
        const char *text = atom_text(parser, line, start, n, &text_len);
        if (text == NULL)
                return fail(parser, "Too many arguments");
        arg->str = text;
        arg->len = text_len;
        arg->type = text_len == 3 && strncasecmp(text, "NIL", 3) == 0 ? IMAP_ARG_NIL :
                                                                        IMAP_ARG_ATOM;
        *pos = i;
        return PARSE_OK;
}

static enum imap_parse_result parse_quoted(struct imap_parser *parser, const char *line,
                                           size_t len, size_t *pos)
{
        size_t end, n;
        const char *error;
        if (!quoted_scan(line, len, *pos, &end, &n, &error))
                return fail(parser, error);
        struct imap_arg *arg = arg_add(parser);
        if (arg == NULL || !account(parser, n + 16))
                return fail(parser, "Too many arguments");
        char *out = pool_alloc(parser->pool, n + 1);
        size_t o = 0;
        for (size_t i = *pos + 1; i < end; i++) {
                if (line[i] == '\\')
                        i++;
                out[o++] = line[i];
        }
        arg->type = IMAP_ARG_QUOTED;
        arg->str = out;
        arg->len = n;
        *pos = end + 1;
        return PARSE_OK;
}

/* "{N}" or "{N+}" closing the line. */
static enum imap_parse_result parse_literal_start(struct imap_parser *parser, const char *line,
                                                  size_t len, size_t *pos)
{
        size_t i = *pos + 1;
        uint64_t size = 0;
        if (i >= len || line[i] < '0' || line[i] > '9')
                return fail(parser, "Invalid literal size");
        for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
                if (size > (UINT64_MAX - 9) / 10)
                        return fail(parser, "Invalid literal size");
                size = size * 10 + (uint64_t)(line[i] - '0');
        }
        bool sync = true;
        if (i < len && line[i] == '+') {
                sync = false;
                i++;
        }
        if (i >= len || line[i] != '}')
                return fail(parser, "Invalid literal size");
        if (i + 1 != len)
                return fail(parser, "Literal must end the line");
        parser->lit_size = size;
        parser->lit_sync = sync;
        parser->lit_got = 0;
        parser->state = STATE_LITERAL;
        *pos = len;
        return PARSE_MORE;
}

static enum imap_parse_result list_open(struct imap_parser *parser)
{
        if (parser->depth >= IMAP_PARSER_MAX_DEPTH)
                return fail(parser, "Too deep nesting");
        if (!account(parser, 16))
                return fail(parser, "Too many arguments");
        parser->depth++;
        memset(&parser->stack[parser->depth], 0, sizeof(parser->stack[0]));
        return PARSE_OK;
}

static enum imap_parse_result list_close(struct imap_parser *parser)
{
        if (parser->depth == 0)
                return fail(parser, "Unexpected )");
        struct level *lv = &parser->stack[parser->depth];
        parser->depth--;
        struct imap_arg *arg = arg_add(parser);
        if (arg == NULL)
                return fail(parser, "Too many arguments");
        arg->type = IMAP_ARG_LIST;
        arg->list = lv->items;
        arg->list_count = lv->count;
        return PARSE_OK;
}

/* Between tokens: one space separates arguments; '(' and ')' need none. */
static bool separator_ok(const char *line, size_t len, size_t pos)
{
        return pos >= len || line[pos] == ' ' || line[pos] == ')';
}

enum imap_parse_result imap_parser_feed_line(struct imap_parser *parser, const char *line,
                                             size_t len)
{
        size_t pos = 0;
        if (parser->state != STATE_LINE)
                return fail(parser, "Literal data expected");
        if (parser->pending_error != NULL)
                return fail(parser, parser->pending_error);
        if (parser->after_literal) {
                parser->after_literal = false;
                if (len > 0 && line[0] != ' ' && line[0] != ')')
                        return fail(parser, "Missing space after literal");
        }
        if (parser->sect_open) {
                enum imap_parse_result r = parse_atom(parser, line, len, &pos);
                if (r != PARSE_OK)
                        return r;
                if (!separator_ok(line, len, pos))
                        return fail(parser, "Missing space after atom");
        }
        while (pos < len) {
                char c = line[pos];
                enum imap_parse_result r = PARSE_OK;
                if (c == ' ') {
                        pos++;
                        continue;
                }
                if (c == '(') {
                        r = list_open(parser);
                        pos++;
                } else if (c == ')') {
                        r = list_close(parser);
                        pos++;
                        if (r == PARSE_OK && !separator_ok(line, len, pos) && line[pos] != '(')
                                return fail(parser, "Missing space after )");
                } else if (c == '"') {
                        r = parse_quoted(parser, line, len, &pos);
                        if (r == PARSE_OK && !separator_ok(line, len, pos))
                                return fail(parser, "Missing space after quoted string");
                } else if (c == '{') {
                        return parse_literal_start(parser, line, len, &pos);
                } else {
                        r = parse_atom(parser, line, len, &pos);
                }
                if (r != PARSE_OK)
                        return r;
        }
        if (parser->depth > 0)
                return fail(parser, "Missing )");
        return PARSE_OK;
}

void imap_parser_literal(const struct imap_parser *parser, uint64_t *size_r, bool *sync_r)
{
        *size_r = parser->lit_size;
        *sync_r = parser->lit_sync;
}

bool imap_parser_literal_accept(struct imap_parser *parser, struct imap_spool *spool)
{
        if (parser->state != STATE_LITERAL)
                return false;
        if (parser->sect_open)
                spool = NULL;   /* a header field name, never a message */
        if (spool != NULL) {
                if (parser->lit_size > parser->set.max_spool_literal)
                        return false;
        } else if (parser->lit_size > parser->set.max_literal ||
                   !account(parser, (size_t)parser->lit_size + 16)) {
                return false;
        }
        parser->lit_spool = spool;
        parser->lit_buf = spool != NULL ? NULL :
                pool_alloc(parser->pool, (size_t)parser->lit_size + 1);
        parser->state = STATE_LITERAL_DATA;
        return true;
}

/* A section literal joins its atom as the quoted string it could have been
   sent as; one that no quoted string can carry fails the command when the
   next line arrives. */
static enum imap_parse_result section_literal_done(struct imap_parser *parser)
{
        const char *p = parser->lit_buf;
        size_t n = (size_t)parser->lit_size, escapes = 0;
        parser->state = STATE_LINE;
        for (size_t i = 0; i < n; i++) {
                if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n') {
                        parser->pending_error = "Invalid characters in header field name";
                        return PARSE_MORE;
                }
                escapes += p[i] == '"' || p[i] == '\\';
        }
        /* UNSAFE: n <= max_literal and escapes <= n, so this cannot wrap. */
        size_t quoted_len = n + escapes + 2;
        char *quoted = pool_alloc(parser->pool, quoted_len), *o = quoted;
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
                if (p[i] == '"' || p[i] == '\\')
                        *o++ = '\\';
                *o++ = p[i];
        }
        *o = '"';
        if (!sect_append(parser, quoted, quoted_len))
                parser->pending_error = "Too many arguments";
        return PARSE_MORE;
}

static enum imap_parse_result literal_done(struct imap_parser *parser)
{
        if (parser->sect_open)
                return section_literal_done(parser);
        struct imap_arg *arg = arg_add(parser);
        if (arg == NULL)
                return fail(parser, "Too many arguments");
        arg->type = IMAP_ARG_LITERAL;
        arg->str = parser->lit_buf;
        arg->len = (size_t)parser->lit_size;
        arg->spool = parser->lit_spool;
        parser->state = STATE_LINE;
        parser->after_literal = true;
        return PARSE_MORE;
}

enum imap_parse_result imap_parser_feed_bytes(struct imap_parser *parser, const void *data,
                                              size_t len, size_t *taken_r)
{
        *taken_r = 0;
        if (parser->state != STATE_LITERAL_DATA)
                return fail(parser, "No literal expected");
        uint64_t left = parser->lit_size - parser->lit_got;
        size_t n = len < left ? len : (size_t)left;
        if (n > 0) {
                if (parser->lit_spool != NULL) {
                        const char *error;
                        if (imap_spool_write(parser->lit_spool, data, n, &error) < 0)
                                return fail(parser, "Cannot store the literal");
                } else {
                        memcpy(parser->lit_buf + parser->lit_got, data, n);
                }
                parser->lit_got += n;
                *taken_r = n;
        }
        if (parser->lit_got == parser->lit_size)
                return literal_done(parser);
        return PARSE_MORE;
}

void imap_parser_literal_skip(struct imap_parser *parser)
{
        parser->sect_open = false;
        parser->state = STATE_LINE;
        parser->after_literal = true;
        struct imap_arg *arg = arg_add(parser);
        if (arg != NULL) {
                arg->type = IMAP_ARG_NIL;
                arg->str = "NIL";
                arg->len = 3;
        }
}

uint64_t imap_parser_literal_left(const struct imap_parser *parser)
{
        return parser->state == STATE_LITERAL_DATA ? parser->lit_size - parser->lit_got : 0;
}

bool imap_tag_valid(const char *tag)
{
        if (*tag == '\0')
                return false;
        for (const char *p = tag; *p != '\0'; p++) {
                unsigned char c = (unsigned char)*p;
                if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\+", c) != NULL)
                        return false;
        }
        return true;
}

bool imap_literal_plus_suffix(const char *line, size_t len, uint64_t *size_r)
{
        if (len < 4 || line[len - 1] != '}' || line[len - 2] != '+')
                return false;
        size_t i = len - 2;
        uint64_t size = 0, mult = 1;
        while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') {
                if (mult > UINT64_MAX / 10 / 10)
                        return false;
                size += (uint64_t)(line[i - 1] - '0') * mult;
                mult *= 10;
                i--;
        }
        if (i == 0 || i == len - 2 || line[i - 1] != '{')
                return false;
        *size_r = size;
        return true;
}

enum imap_parser_want imap_parser_wants(const struct imap_parser *parser)
{
        return parser->state == STATE_LINE ? IMAP_WANT_LINE : IMAP_WANT_LITERAL;
}

const struct imap_arg *imap_parser_args(const struct imap_parser *parser, size_t *count_r)
{
        *count_r = parser->stack[0].count;
        return parser->stack[0].items;
}

unsigned imap_parser_depth(const struct imap_parser *parser)
{
        return parser->depth;
}

const char *imap_parser_error(const struct imap_parser *parser)
{
        return parser->error == NULL ? "Syntax error" : parser->error;
}

bool imap_arg_is_atom(const struct imap_arg *arg)
{
        return arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL;
}

bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name)
{
        return imap_arg_is_atom(arg) && strcasecmp(arg->str, name) == 0;
}

bool imap_arg_string(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
        if (arg->type != IMAP_ARG_QUOTED &&
            (arg->type != IMAP_ARG_LITERAL || arg->str == NULL))
                return false;
        *str_r = arg->str;
        if (len_r != NULL)
                *len_r = arg->len;
        return true;
}

bool imap_arg_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
        if (imap_arg_is_atom(arg)) {
                *str_r = arg->str;
                if (len_r != NULL)
                        *len_r = arg->len;
                return true;
        }
        return imap_arg_string(arg, str_r, len_r);
}

bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r,
                       size_t *count_r)
{
        if (arg->type != IMAP_ARG_LIST)
                return false;
        *list_r = arg->list;
        *count_r = arg->list_count;
        return true;
}

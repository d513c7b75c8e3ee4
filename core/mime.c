/* mime.c - the incremental MIME parser: bytes in, struct mime_part tree out.
 *
 * Owns: splitting input into lines (any chunking gives the same lines),
 * header field collection per part, boundary tracking (RFC 2046 §5.1) with
 * an explicit frame stack (no recursion), offsets, sizes and line counts,
 * and the structure limits. Does not: parse field values (mime-params.c,
 * mime-address.c), decode bodies, or serialize (mime-serialize.c).
 */
#include "mime-private.h"

#include <string.h>
#include <strings.h>

#include "log.h"
#include "pool.h"

/* RFC 2046 boundaries are at most 70 characters; longer ones (up to this)
   are honoured for real-world senders, beyond it the multipart is opaque. */
#define MIME_BOUNDARY_MAX 200u
/* Bytes of a body line kept for boundary matching. */
#define MIME_BODY_LINE_KEEP (MIME_BOUNDARY_MAX + 64u)
/* Upper bound for limits->max_header_line, so the line buffer stays sane. */
#define MIME_HEADER_LINE_CAP (16u * 1024u * 1024u)

enum field_kind {
        FK_NONE = -1,
        FK_TYPE = 0,
        FK_ENCODING,
        FK_ID,
        FK_DESCRIPTION,
        FK_MD5,
        FK_DISPOSITION,
        FK_LANGUAGE,
        FK_LOCATION,
        FK_ENV,                         /* FK_ENV + enum mime_env_field */
        FK_COUNT = FK_ENV + MIME_ENV_COUNT
};

static const struct {
        const char *name;
        int kind;
} field_table[] = {
        { "content-type", FK_TYPE },
        { "content-transfer-encoding", FK_ENCODING },
        { "content-id", FK_ID },
        { "content-description", FK_DESCRIPTION },
        { "content-md5", FK_MD5 },
        { "content-disposition", FK_DISPOSITION },
        { "content-language", FK_LANGUAGE },
        { "content-location", FK_LOCATION },
        { "date", FK_ENV + MIME_ENV_DATE },
        { "subject", FK_ENV + MIME_ENV_SUBJECT },
        { "from", FK_ENV + MIME_ENV_FROM },
        { "sender", FK_ENV + MIME_ENV_SENDER },
        { "reply-to", FK_ENV + MIME_ENV_REPLY_TO },
        { "to", FK_ENV + MIME_ENV_TO },
        { "cc", FK_ENV + MIME_ENV_CC },
        { "bcc", FK_ENV + MIME_ENV_BCC },
        { "in-reply-to", FK_ENV + MIME_ENV_IN_REPLY_TO },
        { "message-id", FK_ENV + MIME_ENV_MESSAGE_ID },
};

enum frame_state {
        FS_HEADER,      /* reading the part's header */
        FS_BODY,        /* leaf body, or message part with its child above */
        FS_PREAMBLE,    /* multipart before its first delimiter */
        FS_CHILD,       /* multipart with a child part open above it */
        FS_SKIP,        /* multipart past max_parts: waits for its close */
        FS_EPILOGUE,    /* multipart after its close delimiter */
};

/* One open part. The stack holds the root at 0 and the innermost on top. */
struct frame {
        struct mime_part *part;
        enum frame_state state;
        uint64_t body_line;             /* LFs before the body's first byte */
        const char *boundary;           /* multipart only */
        size_t boundary_len;
        struct mime_part *last_child;
};

/* A complete input line. text holds min(len, keep) bytes of content. */
struct line {
        const char *text;
        size_t kept;
        uint64_t start;                 /* offset of the first byte */
        uint64_t len;                   /* content length, without CRLF/LF */
        unsigned term;                  /* 2 CRLF, 1 LF, 0 none (end of input) */
};

struct mime_parser {
        struct pool *pool;
        struct mime_limits limits;
        bool finished;
        struct mime_part *root;
        unsigned parts;

        uint64_t offset;                /* bytes fed so far */
        uint64_t line_no;               /* LFs before the current line */
        uint64_t bare_lfs;              /* LFs not preceded by CR */
        char last_byte;

        /* The line being collected across feeds. */
        bool pend_active;
        uint64_t pend_start, pend_len;
        char *pend;
        size_t pend_kept, pend_cap;
        char pend_last;

        /* The previous complete line (for "CRLF before a delimiter"). */
        bool have_prev;
        uint64_t prev_start, prev_len;

        struct frame *stack;
        unsigned depth, stack_cap;

        /* Header fields of the part being read. */
        struct mime_str field;
        int field_kind;
        unsigned header_fields;
        const char *values[FK_COUNT];
};

bool mime_env_field_is_address(enum mime_env_field field)
{
        return field >= MIME_ENV_FROM && field <= MIME_ENV_BCC;
}

bool mime_part_is(const struct mime_part *part, const char *type,
                  const char *subtype)
{
        return strcasecmp(part->type, type) == 0 &&
               (subtype == NULL || strcasecmp(part->subtype, subtype) == 0);
}

/* Returns the index-th child (1-based) or NULL. */
static const struct mime_part *nth_child(const struct mime_part *part, uint64_t index)
{
        const struct mime_part *c = part->children;
        for (uint64_t i = 1; c != NULL && i < index; i++)
                c = c->next;
        return index == 0 ? NULL : c;
}

static bool is_message_with_child(const struct mime_part *part)
{
        return strcasecmp(part->type, "message") == 0 && part->children != NULL &&
               part->children->envelope != NULL;
}

bool mime_part_find_section(const struct mime_part *root, const char *section,
                            const struct mime_part **part_r)
{
        const struct mime_part *cur = root;
        const char *s = section != NULL ? section : "";

        /* cur is a message root or a multipart when a number is read. */
        while (*s != '\0') {
                uint64_t n = 0;
                if (*s < '1' || *s > '9')
                        return false;
                while (*s >= '0' && *s <= '9') {
                        if (n > UINT32_MAX)
                                return false;
                        n = n * 10 + (uint64_t)(*s++ - '0');
                }
                if (*s == '.') {
                        if (*++s == '\0')
                                return false;
                } else if (*s != '\0') {
                        return false;
                }
                /* RFC 3501 §6.4.5: the parts of a multipart, else "1" is the
                   (only) body of the message. */
                if (strcasecmp(cur->type, "multipart") == 0)
                        cur = nth_child(cur, n);
                else if (n != 1 || cur->envelope == NULL)
                        return false;
                if (cur == NULL)
                        return false;
                if (*s != '\0') {
                        if (is_message_with_child(cur))
                                cur = cur->children;
                        else if (strcasecmp(cur->type, "multipart") != 0)
                                return false;
                }
        }
        *part_r = cur;
        return true;
}

static struct frame *top(struct mime_parser *p)
{
        return &p->stack[p->depth - 1];
}

static struct mime_part *part_new(struct mime_parser *p, struct mime_part *parent,
                                  uint64_t header_offset, bool message_root)
{
        struct mime_part *part = pool_alloc(p->pool, sizeof(*part));
        part->parent = parent;
        part->header_offset = header_offset;
        part->body_offset = header_offset;
        part->type = "text";
        part->subtype = "plain";
        part->encoding = "7bit";
        if (message_root)
                part->envelope = pool_alloc(p->pool, sizeof(struct mime_envelope));
        p->parts++;
        return part;
}

/* Opens a part as the child of the top frame (or the root) in header state. */
static void push_part(struct mime_parser *p, uint64_t header_offset, bool message_root)
{
        struct mime_part *parent = p->depth > 0 ? top(p)->part : NULL;
        struct mime_part *part = part_new(p, parent, header_offset, message_root);

        if (parent != NULL) {
                struct frame *f = top(p);
                if (f->last_child == NULL)
                        parent->children = part;
                else
                        f->last_child->next = part;
                f->last_child = part;
                parent->child_count++;
        } else {
                p->root = part;
        }
        if (p->depth == p->stack_cap) {
                unsigned ncap = p->stack_cap == 0 ? 8 : p->stack_cap * 2;
                p->stack = pool_realloc(p->pool, p->stack, p->stack_cap * sizeof(*p->stack),
                                        ncap * sizeof(*p->stack));
                p->stack_cap = ncap;
        }
        p->stack[p->depth++] = (struct frame){ .part = part, .state = FS_HEADER };
        p->header_fields = 0;
        p->field_kind = FK_NONE;
        memset(p->values, 0, sizeof(p->values));
}

struct mime_parser *mime_parser_create(struct pool *pool,
                                       const struct mime_limits *limits)
{
        struct mime_parser *p = pool_alloc(pool, sizeof(*p));
        p->pool = pool;
        if (limits != NULL)
                p->limits = *limits;
        if (p->limits.max_depth == 0)
                p->limits.max_depth = MIME_DEFAULT_MAX_DEPTH;
        if (p->limits.max_parts == 0)
                p->limits.max_parts = MIME_DEFAULT_MAX_PARTS;
        if (p->limits.max_headers == 0)
                p->limits.max_headers = MIME_DEFAULT_MAX_HEADERS;
        if (p->limits.max_header_line == 0)
                p->limits.max_header_line = MIME_DEFAULT_MAX_HEADER_LINE;
        if (p->limits.max_header_line > MIME_HEADER_LINE_CAP)
                p->limits.max_header_line = MIME_HEADER_LINE_CAP;
        push_part(p, 0, true);
        return p;
}

/* ---- header fields ---- */

static int field_lookup(const char *name, size_t len, bool message_root)
{
        for (size_t i = 0; i < N_ELEMENTS(field_table); i++) {
                if (strlen(field_table[i].name) == len &&
                    strncasecmp(field_table[i].name, name, len) == 0) {
                        if (field_table[i].kind >= FK_ENV && !message_root)
                                return FK_NONE;
                        return field_table[i].kind;
                }
        }
        return FK_NONE;
}

/* Stores the field being collected, if any (first occurrence wins). */
static void field_finish(struct mime_parser *p)
{
        if (p->field_kind == FK_NONE)
                return;
        if (p->field.overflow)
                top(p)->part->flags |= MIME_PART_FLAG_BAD_HEADER;
        else
                p->values[p->field_kind] = mime_header_unfold(p->pool, p->field.data,
                                                              p->field.len);
        p->field_kind = FK_NONE;
        p->field = (struct mime_str){ 0 };
}

static void field_start(struct mime_parser *p, const struct line *l)
{
        struct mime_part *part = top(p)->part;
        size_t n = 0;

        if (++p->header_fields > p->limits.max_headers) {
                part->flags |= MIME_PART_FLAG_BAD_HEADER;
                return;
        }
        while (n < l->kept && (unsigned char)l->text[n] > 32 &&
               (unsigned char)l->text[n] < 127 && l->text[n] != ':')
                n++;
        size_t colon = n;
        while (colon < l->kept && (l->text[colon] == ' ' || l->text[colon] == '\t'))
                colon++;
        if (n == 0 || colon >= l->kept || l->text[colon] != ':') {
                part->flags |= MIME_PART_FLAG_BAD_HEADER;
                return;
        }
        int kind = field_lookup(l->text, n, part->envelope != NULL);
        if (kind == FK_NONE || p->values[kind] != NULL)
                return;
        p->field_kind = kind;
        p->field = (struct mime_str){ .max = p->limits.max_header_line };
        if (l->kept < l->len)
                p->field.overflow = true;
        else
                mime_str_append(p->pool, &p->field, l->text + colon + 1,
                                l->kept - colon - 1);
}

static void field_continue(struct mime_parser *p, const struct line *l)
{
        if (p->field_kind == FK_NONE || p->field.overflow)
                return;
        if (l->kept < l->len)
                p->field.overflow = true;
        else
                mime_str_append(p->pool, &p->field, l->text, l->kept);
}

/* Removes all whitespace (RFC 2557 §4.4.2: long URLs are folded). */
static const char *strip_spaces(struct pool *pool, const char *v)
{
        char *out = pool_strdup(pool, v);
        size_t o = 0;
        for (size_t i = 0; out[i] != '\0'; i++) {
                if (!mime_is_wsp(out[i]))
                        out[o++] = out[i];
        }
        out[o] = '\0';
        return out;
}

static void apply_content_type(struct mime_parser *p, struct mime_part *part)
{
        const char *ct = p->values[FK_TYPE];
        if (ct != NULL && mime_content_type_parse(p->pool, ct, part))
                return;
        /* RFC 2046 §5.1.5: in a digest the default is message/rfc822. */
        if (part->parent != NULL && mime_part_is(part->parent, "multipart", "digest")) {
                part->type = "message";
                part->subtype = "rfc822";
                return;
        }
        /* RFC 2045 §5.2: missing or invalid gives text/plain; us-ascii. */
        struct mime_param *param = pool_alloc(p->pool, sizeof(*param));
        *param = (struct mime_param){ .name = "charset", .value = "us-ascii" };
        part->type = "text";
        part->subtype = "plain";
        part->params = param;
        part->param_count = 1;
}

/* Turns the collected field values into the part's content fields. */
static void apply_header(struct mime_parser *p, struct mime_part *part)
{
        const char *const *v = p->values;

        apply_content_type(p, part);
        if (v[FK_ENCODING] != NULL) {
                const char *s = mime_skip_cfws(v[FK_ENCODING]);
                const char *tok = mime_read_token(p->pool, &s, true);
                if (tok != NULL)
                        part->encoding = tok;
        }
        part->id = v[FK_ID];
        part->description = v[FK_DESCRIPTION];
        part->md5 = v[FK_MD5];
        if (v[FK_DISPOSITION] != NULL)
                mime_content_disposition_parse(p->pool, v[FK_DISPOSITION], part);
        if (v[FK_LANGUAGE] != NULL)
                mime_content_language_parse(p->pool, v[FK_LANGUAGE], part);
        if (v[FK_LOCATION] != NULL)
                part->location = strip_spaces(p->pool, v[FK_LOCATION]);
        if (part->envelope != NULL) {
                struct mime_envelope *env = (struct mime_envelope *)part->envelope;
                for (int i = 0; i < MIME_ENV_COUNT; i++) {
                        env->raw[i] = v[FK_ENV + i];
                        if (env->raw[i] != NULL && mime_env_field_is_address(i))
                                mime_address_list_parse(p->pool, env->raw[i], &env->addr[i]);
                }
        }
        memset(p->values, 0, sizeof(p->values));
}

static bool identity_encoding(const char *enc)
{
        return strcmp(enc, "7bit") == 0 || strcmp(enc, "8bit") == 0 ||
               strcmp(enc, "binary") == 0;
}

/* Decides how the body of the top part is read once its header is done. */
static void start_body(struct mime_parser *p)
{
        struct frame *f = top(p);
        struct mime_part *part = f->part;
        bool room = p->depth < p->limits.max_depth;  /* a child is at depth p->depth */

        f->state = FS_BODY;
        if (strcmp(part->type, "multipart") == 0) {
                const char *b = mime_param_get(part->params, part->param_count, "boundary");
                size_t blen = b != NULL ? strlen(b) : 0;
                if (blen == 0 || blen > MIME_BOUNDARY_MAX) {
                        part->flags |= MIME_PART_FLAG_NO_BOUNDARY;
                } else if (!room) {
                        part->flags |= MIME_PART_FLAG_LIMITED;
                } else {
                        f->boundary = b;
                        f->boundary_len = blen;
                        f->state = FS_PREAMBLE;
                }
                return;
        }
        if (strcmp(part->type, "message") == 0 &&
            (strcmp(part->subtype, "rfc822") == 0 || strcmp(part->subtype, "global") == 0) &&
            identity_encoding(part->encoding)) {
                if (!room || p->parts >= p->limits.max_parts)
                        part->flags |= MIME_PART_FLAG_LIMITED;
                else
                        push_part(p, part->body_offset, true);
        }
}

/* The blank line ending the top part's header: the body starts at
   body_offset, on line number p->line_no + 1. */
static void header_end(struct mime_parser *p, uint64_t body_offset)
{
        struct frame *f = top(p);
        struct mime_part *part = f->part;

        field_finish(p);
        part->header_size = body_offset - part->header_offset;
        part->body_offset = body_offset;
        f->body_line = p->line_no + 1;
        apply_header(p, part);
        start_body(p);
}

static void header_line(struct mime_parser *p, const struct line *l)
{
        if (l->len == 0 && l->term > 0) {
                header_end(p, l->start + l->term);
                return;
        }
        if (l->text[0] == ' ' || l->text[0] == '\t') {
                if (p->header_fields == 0)
                        top(p)->part->flags |= MIME_PART_FLAG_BAD_HEADER;
                field_continue(p, l);
                return;
        }
        field_finish(p);
        field_start(p, l);
}

/* ---- part ends and boundaries ---- */

/* Where parts end when a delimiter line starts at line_start: before the
   previous line's CRLF/LF, which belongs to the delimiter. */
struct part_end {
        uint64_t offset;
        uint64_t line;                  /* LFs before offset */
        bool ends_lf;                   /* the byte before offset is LF */
};

static struct part_end end_before_line(const struct mime_parser *p)
{
        if (!p->have_prev)
                return (struct part_end){ .offset = 0, .line = 0, .ends_lf = false };
        return (struct part_end){
                .offset = p->prev_start + p->prev_len,
                .line = p->line_no - 1,
                .ends_lf = p->prev_len == 0 && p->prev_start > 0,
        };
}

/* Closes the top part at end. */
static void pop_part(struct mime_parser *p, struct part_end *end)
{
        struct frame *f = top(p);
        struct mime_part *part = f->part;
        uint64_t start = f->state == FS_HEADER ? part->header_offset : part->body_offset;

        /* The part began on the delimiter's own line start (a blank line
           ended its header, or the delimiter follows its opening line): the
           line break is the part's, and every enclosing part closed with it
           ends here too, so the tree still nests. Only the current line can
           start after end->offset. */
        if (start > end->offset)
                *end = (struct part_end){ .offset = start, .line = p->line_no, .ends_lf = true };
        if (f->state == FS_HEADER) {
                field_finish(p);
                part->header_size = end->offset - part->header_offset;
                part->body_offset = end->offset;
                part->flags |= MIME_PART_FLAG_NO_HEADER_END;
                apply_header(p, part);
        } else if (end->offset > part->body_offset) {
                part->body_size = end->offset - part->body_offset;
                part->body_lines = end->line - f->body_line + (end->ends_lf ? 0 : 1);
        }
        if (f->boundary != NULL) {
                if (f->state != FS_EPILOGUE)
                        part->flags |= MIME_PART_FLAG_UNTERMINATED;
                if (part->child_count == 0)
                        part->flags |= MIME_PART_FLAG_NO_BOUNDARY;
        }
        p->depth--;
}

/* Finds the innermost open multipart whose boundary the line is. Returns the
   frame index or -1; *close_r tells a close delimiter. */
static int boundary_match(const struct mime_parser *p, const struct line *l,
                          bool *close_r)
{
        for (unsigned i = p->depth; i-- > 0;) {
                const struct frame *f = &p->stack[i];
                if (f->boundary == NULL || f->state == FS_EPILOGUE)
                        continue;
                size_t blen = f->boundary_len;
                if (l->kept < 2 + blen || memcmp(l->text + 2, f->boundary, blen) != 0)
                        continue;
                const char *rest = l->text + 2 + blen;
                size_t rest_len = l->kept - 2 - blen;
                if (rest_len >= 2 && rest[0] == '-' && rest[1] == '-') {
                        *close_r = true;
                        return (int)i;
                }
                /* RFC 2046 §5.1.1: only transport padding may follow. */
                bool padding = l->kept == l->len;
                for (size_t k = 0; k < rest_len && padding; k++)
                        padding = rest[k] == ' ' || rest[k] == '\t';
                if (padding) {
                        *close_r = false;
                        return (int)i;
                }
        }
        return -1;
}

static void on_boundary(struct mime_parser *p, unsigned idx, bool close,
                        const struct line *l)
{
        struct part_end end = end_before_line(p);

        while (p->depth - 1 > idx)
                pop_part(p, &end);
        struct frame *f = top(p);
        if (close) {
                f->state = FS_EPILOGUE;
                return;
        }
        if (f->state == FS_SKIP)
                return;
        if (p->parts >= p->limits.max_parts) {
                f->part->flags |= MIME_PART_FLAG_LIMITED;
                f->state = FS_SKIP;
                return;
        }
        f->state = FS_CHILD;
        push_part(p, l->start + l->len + l->term, false);
}

static void process_line(struct mime_parser *p, const struct line *l)
{
        if (l->kept >= 2 && l->text[0] == '-' && l->text[1] == '-') {
                bool close;
                int idx = boundary_match(p, l, &close);
                if (idx >= 0) {
                        on_boundary(p, (unsigned)idx, close, l);
                        return;
                }
        }
        if (top(p)->state == FS_HEADER)
                header_line(p, l);
}

/* ---- input ---- */

/* Bytes of the current line kept for examination: whole header fields (up
   to the limit) in a header, a boundary-sized prefix in a body. */
static size_t line_keep(struct mime_parser *p)
{
        if (top(p)->state == FS_HEADER && p->limits.max_header_line > MIME_BODY_LINE_KEEP)
                return p->limits.max_header_line;
        return MIME_BODY_LINE_KEEP;
}

static void line_done(struct mime_parser *p, const struct line *l)
{
        process_line(p, l);
        if (l->term > 0) {
                p->line_no++;
                p->have_prev = true;
                p->prev_start = l->start;
                p->prev_len = l->len;
        }
}

/* A line wholly inside one chunk (ending at its LF) needs no copy. */
static void feed_whole_line(struct mime_parser *p, const char *s, size_t n)
{
        struct line l = { .text = s, .start = p->offset, .len = n - 1, .term = 1 };
        if (l.len > 0 && s[l.len - 1] == '\r')
                l.len--, l.term = 2;
        size_t keep = line_keep(p);
        l.kept = l.len < keep ? (size_t)l.len : keep;
        line_done(p, &l);
}

/* Collects a line piece; with_lf says the piece ends the line. */
static void feed_piece(struct mime_parser *p, const char *s, size_t n, bool with_lf)
{
        size_t keep = line_keep(p);

        if (!p->pend_active) {
                p->pend_active = true;
                p->pend_start = p->offset;
                p->pend_len = 0;
                p->pend_kept = 0;
        }
        /* keep + 1 so that a CR just past the kept prefix is still seen */
        size_t room = keep + 1 - p->pend_kept;
        size_t take = n < room ? n : room;
        if (p->pend_kept + take > p->pend_cap) {
                size_t ncap = keep + 1 < 256 ? keep + 1 : 256;
                while (ncap < p->pend_kept + take)
                        ncap = ncap * 2 > keep + 1 ? keep + 1 : ncap * 2;
                p->pend = pool_realloc(p->pool, p->pend, p->pend_cap, ncap);
                p->pend_cap = ncap;
        }
        memcpy(p->pend + p->pend_kept, s, take);
        p->pend_kept += take;
        p->pend_len += n;
        if (n > 0)
                p->pend_last = n >= 2 || !with_lf ? s[n - (with_lf ? 2 : 1)] : p->pend_last;
        if (!with_lf)
                return;
        struct line l = { .text = p->pend, .start = p->pend_start,
                          .len = p->pend_len - 1, .term = 1 };
        if (l.len > 0 && p->pend_last == '\r')
                l.len--, l.term = 2;
        l.kept = l.len < keep ? (size_t)l.len : keep;
        p->pend_active = false;
        line_done(p, &l);
}

void mime_parser_feed(struct mime_parser *parser, const void *data, size_t len)
{
        const char *s = data;

        if (parser->finished)
                return;
        while (len > 0) {
                const char *lf = memchr(s, '\n', len);
                size_t n = lf != NULL ? (size_t)(lf - s) + 1 : len;
                /* The byte before this LF may be the previous feed's last. */
                if (lf != NULL && (n >= 2 ? s[n - 2] : parser->offset > 0 ?
                                   parser->last_byte : '\0') != '\r')
                        parser->bare_lfs++;
                if (lf != NULL && !parser->pend_active)
                        feed_whole_line(parser, s, n);
                else
                        feed_piece(parser, s, n, lf != NULL);
                parser->offset += n;
                parser->last_byte = s[n - 1];
                s += n;
                len -= n;
        }
}

const struct mime_part *mime_parser_finish(struct mime_parser *p)
{
        if (p->finished)
                return p->root;
        if (p->pend_active) {
                size_t keep = line_keep(p);
                struct line l = { .text = p->pend, .start = p->pend_start,
                                  .len = p->pend_len, .term = 0 };
                l.kept = l.len < keep ? (size_t)l.len : keep;
                p->pend_active = false;
                line_done(p, &l);
        }
        struct part_end end = {
                .offset = p->offset,
                .line = p->line_no,
                .ends_lf = p->offset > 0 && p->last_byte == '\n',
        };
        while (p->depth > 0)
                pop_part(p, &end);
        p->root->line_info = true;
        p->root->bare_lf_count = p->bare_lfs;
        if (p->offset == 0 || p->last_byte == '\n')
                p->root->last_line = MIME_LAST_LINE_TERMINATED;
        else
                p->root->last_line = p->last_byte == '\r' ? MIME_LAST_LINE_CR :
                                                           MIME_LAST_LINE_OPEN;
        p->finished = true;
        return p->root;
}

/* mime-serialize.c - the cached form of a part tree (format versions 1, 2).
 *
 * Owns: writing a tree as compact bytes and rebuilding it with full
 * validation, both iteratively (a hostile blob cannot drive recursion).
 * Does not: parse messages (mime.c) or store anything (the store facade
 * keeps the blob opaque).
 *
 * Layout: version byte; version 2 only: the root's bare_lf_count and
 * last_line; then each part in pre-order:
 *   flags header_offset header_size body_size body_lines child_count
 *   type subtype params id description encoding md5 disposition
 *   disposition_params languages location envelope?
 * integers are canonical LEB128 varints; strings are varint(len + 1)
 * followed by the bytes (0 = NULL); a params list is a count then
 * (name value charset language) each; an envelope is a 0/1 byte, then the
 * ten raw values, each address field followed by its address count and
 * (kind name adl mailbox host) each.
 */
#include "mime-private.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pool.h"

/* ---- writing ---- */

static void put_varint(struct buf *b, uint64_t v)
{
        unsigned char tmp[10];
        size_t n = 0;
        do {
                unsigned char c = v & 0x7f;
                v >>= 7;
                tmp[n++] = v != 0 ? (unsigned char)(c | 0x80) : c;
        } while (v != 0);
        buf_append(b, tmp, n);
}

static void put_str(struct buf *b, const char *s)
{
        if (s == NULL) {
                put_varint(b, 0);
                return;
        }
        size_t len = strlen(s);
        put_varint(b, (uint64_t)len + 1);
        buf_append(b, s, len);
}

static void put_params(struct buf *b, const struct mime_param *params, unsigned count)
{
        put_varint(b, count);
        for (unsigned i = 0; i < count; i++) {
                put_str(b, params[i].name);
                put_str(b, params[i].value);
                put_str(b, params[i].charset);
                put_str(b, params[i].language);
        }
}

static void put_envelope(struct buf *b, const struct mime_envelope *env)
{
        put_varint(b, env != NULL);
        if (env == NULL)
                return;
        for (int i = 0; i < MIME_ENV_COUNT; i++) {
                put_str(b, env->raw[i]);
                if (!mime_env_field_is_address(i))
                        continue;
                put_varint(b, env->addr[i].count);
                for (unsigned k = 0; k < env->addr[i].count; k++) {
                        const struct mime_address *a = &env->addr[i].addrs[k];
                        put_varint(b, a->kind);
                        put_str(b, a->name);
                        put_str(b, a->adl);
                        put_str(b, a->mailbox);
                        put_str(b, a->host);
                }
        }
}

/* Checks what the reader will insist on, so that a blob we write always
   parses back. */
static bool part_writable(const struct mime_part *part)
{
        unsigned n = 0;
        for (const struct mime_part *c = part->children; c != NULL; c = c->next) {
                if (c->parent != part || ++n > part->child_count)
                        return false;
        }
        bool multipart = strcasecmp(part->type != NULL ? part->type : "", "multipart") == 0;
        bool want_env = part->parent == NULL ||
                strcasecmp(part->parent->type, "multipart") != 0;
        return n == part->child_count && part->type != NULL && part->subtype != NULL &&
               part->encoding != NULL && (part->flags & ~MIME_PART_FLAGS_ALL) == 0 &&
               part->body_offset == part->header_offset + part->header_size &&
               (multipart || part->child_count <= 1) &&
               (part->envelope != NULL) == want_env;
}

/* The root's line figures as the reader will check them. */
static bool line_info_writable(const struct mime_part *root)
{
        uint64_t size = root->body_offset + root->body_size;

        if (!root->line_info)
                return true;
        return root->last_line <= MIME_LAST_LINE_OPEN && root->bare_lf_count <= size &&
               (size > 0 || root->last_line == MIME_LAST_LINE_TERMINATED);
}

static void put_part(struct buf *b, const struct mime_part *part)
{
        put_varint(b, part->flags);
        put_varint(b, part->header_offset);
        put_varint(b, part->header_size);
        put_varint(b, part->body_size);
        put_varint(b, part->body_lines);
        put_varint(b, part->child_count);
        put_str(b, part->type);
        put_str(b, part->subtype);
        put_params(b, part->params, part->param_count);
        put_str(b, part->id);
        put_str(b, part->description);
        put_str(b, part->encoding);
        put_str(b, part->md5);
        put_str(b, part->disposition);
        put_params(b, part->disposition_params, part->disposition_param_count);
        put_varint(b, part->language_count);
        for (unsigned i = 0; i < part->language_count; i++)
                put_str(b, part->languages[i]);
        put_str(b, part->location);
        put_envelope(b, part->envelope);
}

int mime_structure_serialize(struct pool *pool, const struct mime_part *root,
                             const void **blob_r, size_t *len_r)
{
        struct buf b;
        const struct mime_part *part = root;
        int ret = 0;

        if (root == NULL || root->parent != NULL || !line_info_writable(root))
                return -1;
        buf_init(&b, 0);
        if (root->line_info) {
                buf_append_char(&b, MIME_STRUCTURE_VERSION);
                put_varint(&b, root->bare_lf_count);
                put_varint(&b, root->last_line);
        } else {
                buf_append_char(&b, 1);   /* the figures are unknown */
        }
        while (part != NULL) {
                if (!part_writable(part)) {
                        ret = -1;
                        break;
                }
                put_part(&b, part);
                if (part->children != NULL) {
                        part = part->children;
                        continue;
                }
                while (part != root && part->next == NULL)
                        part = part->parent;
                part = part == root ? NULL : part->next;
        }
        if (ret == 0) {
                *blob_r = pool_memdup(pool, b.data, b.len);
                *len_r = b.len;
        }
        buf_free(&b);
        return ret;
}

/* ---- reading ---- */

struct reader {
        struct pool *pool;
        const unsigned char *p, *end;
        const char *error;
};

static bool fail(struct reader *r, const char *error)
{
        if (r->error == NULL)
                r->error = error;
        return false;
}

static size_t left(const struct reader *r)
{
        return (size_t)(r->end - r->p);
}

static bool get_varint(struct reader *r, uint64_t *v_r)
{
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (r->p == r->end)
                        return fail(r, "truncated integer");
                unsigned char c = *r->p++;
                if (shift == 63 && (c & 0x7e) != 0)
                        return fail(r, "integer overflow");
                v |= (uint64_t)(c & 0x7f) << shift;
                if ((c & 0x80) == 0) {
                        if (c == 0 && shift > 0)
                                return fail(r, "non-canonical integer");
                        *v_r = v;
                        return true;
                }
        }
        return fail(r, "integer too long");
}

/* A count of items that take at least min_size bytes each. */
static bool get_count(struct reader *r, size_t min_size, unsigned *count_r)
{
        uint64_t v;
        if (!get_varint(r, &v))
                return false;
        if (v > UINT32_MAX || v > left(r) / min_size)
                return fail(r, "count exceeds blob");
        *count_r = (unsigned)v;
        return true;
}

static bool get_str(struct reader *r, const char **s_r)
{
        uint64_t v;
        if (!get_varint(r, &v))
                return false;
        if (v == 0) {
                *s_r = NULL;
                return true;
        }
        if (v - 1 > left(r))
                return fail(r, "truncated string");
        size_t len = (size_t)(v - 1);
        if (memchr(r->p, '\0', len) != NULL)
                return fail(r, "NUL in string");
        *s_r = pool_strndup(r->pool, r->p, len);
        r->p += len;
        return true;
}

static bool get_str_nonnull(struct reader *r, const char **s_r)
{
        return get_str(r, s_r) && (*s_r != NULL || fail(r, "missing required string"));
}

static bool get_params(struct reader *r, const struct mime_param **params_r,
                       unsigned *count_r)
{
        unsigned count;
        if (!get_count(r, 4, &count))
                return false;
        struct mime_param *params = count > 0 ?
                pool_alloc(r->pool, count * sizeof(*params)) : NULL;
        for (unsigned i = 0; i < count; i++) {
                if (!get_str_nonnull(r, &params[i].name) ||
                    !get_str_nonnull(r, &params[i].value) ||
                    !get_str(r, &params[i].charset) || !get_str(r, &params[i].language))
                        return false;
        }
        *params_r = params;
        *count_r = count;
        return true;
}

static bool get_address(struct reader *r, struct mime_address *a)
{
        uint64_t kind;
        if (!get_varint(r, &kind) || !get_str(r, &a->name) || !get_str(r, &a->adl) ||
            !get_str(r, &a->mailbox) || !get_str(r, &a->host))
                return false;
        if (kind > MIME_ADDRESS_GROUP_END)
                return fail(r, "bad address kind");
        a->kind = (enum mime_address_kind)kind;
        if (a->kind == MIME_ADDRESS_GROUP_START &&
            (a->mailbox == NULL || a->host != NULL || a->name != NULL || a->adl != NULL))
                return fail(r, "bad group start");
        if (a->kind == MIME_ADDRESS_GROUP_END &&
            (a->mailbox != NULL || a->host != NULL || a->name != NULL || a->adl != NULL))
                return fail(r, "bad group end");
        return true;
}

static bool get_envelope(struct reader *r, const struct mime_envelope **env_r)
{
        uint64_t present;
        if (!get_varint(r, &present) || present > 1)
                return fail(r, "bad envelope marker");
        *env_r = NULL;
        if (present == 0)
                return true;
        struct mime_envelope *env = pool_alloc(r->pool, sizeof(*env));
        for (int i = 0; i < MIME_ENV_COUNT; i++) {
                if (!get_str(r, &env->raw[i]))
                        return false;
                if (!mime_env_field_is_address(i))
                        continue;
                unsigned count;
                if (!get_count(r, 5, &count))
                        return false;
                if (count > 0 && env->raw[i] == NULL)
                        return fail(r, "addresses without a field");
                struct mime_address *addrs = count > 0 ?
                        pool_alloc(r->pool, count * sizeof(*addrs)) : NULL;
                for (unsigned k = 0; k < count; k++) {
                        if (!get_address(r, &addrs[k]))
                                return false;
                }
                env->addr[i] = (struct mime_address_list){ .addrs = addrs, .count = count };
        }
        *env_r = env;
        return true;
}

static bool get_languages(struct reader *r, struct mime_part *part)
{
        unsigned count;
        if (!get_count(r, 1, &count))
                return false;
        const char **langs = count > 0 ? pool_alloc(r->pool, count * sizeof(*langs)) : NULL;
        for (unsigned i = 0; i < count; i++) {
                if (!get_str_nonnull(r, &langs[i]))
                        return false;
        }
        part->languages = langs;
        part->language_count = count;
        return true;
}

static bool get_offsets(struct reader *r, struct mime_part *part)
{
        uint64_t flags;
        if (!get_varint(r, &flags) || !get_varint(r, &part->header_offset) ||
            !get_varint(r, &part->header_size) || !get_varint(r, &part->body_size) ||
            !get_varint(r, &part->body_lines) || !get_count(r, 1, &part->child_count))
                return false;
        if ((flags & ~(uint64_t)MIME_PART_FLAGS_ALL) != 0)
                return fail(r, "unknown part flags");
        part->flags = (unsigned)flags;
        if (part->header_size > UINT64_MAX - part->header_offset)
                return fail(r, "header offset overflow");
        part->body_offset = part->header_offset + part->header_size;
        if (part->body_size > UINT64_MAX - part->body_offset)
                return fail(r, "body offset overflow");
        if (part->body_lines > part->body_size)
                return fail(r, "more lines than bytes");
        return true;
}

static bool get_part(struct reader *r, struct mime_part *part)
{
        return get_offsets(r, part) &&
               get_str_nonnull(r, &part->type) && get_str_nonnull(r, &part->subtype) &&
               get_params(r, &part->params, &part->param_count) &&
               get_str(r, &part->id) && get_str(r, &part->description) &&
               get_str_nonnull(r, &part->encoding) && get_str(r, &part->md5) &&
               get_str(r, &part->disposition) &&
               get_params(r, &part->disposition_params, &part->disposition_param_count) &&
               get_languages(r, part) && get_str(r, &part->location) &&
               get_envelope(r, &part->envelope);
}

/* Checks a freshly read part against its parent and previous sibling. */
static bool check_nesting(struct reader *r, const struct mime_part *part,
                          const struct mime_part *prev)
{
        const struct mime_part *parent = part->parent;
        bool multipart = strcasecmp(part->type, "multipart") == 0;

        if (!multipart && part->child_count > 1)
                return fail(r, "non-multipart with several children");
        if (parent == NULL)
                return part->envelope != NULL || fail(r, "root without envelope");
        bool parent_multi = strcasecmp(parent->type, "multipart") == 0;
        if ((part->envelope != NULL) == parent_multi)
                return fail(r, "envelope on the wrong part");
        uint64_t lo = prev != NULL ? prev->body_offset + prev->body_size : parent->body_offset;
        if (part->header_offset < lo ||
            part->body_offset + part->body_size > parent->body_offset + parent->body_size)
                return fail(r, "part outside its parent");
        return true;
}

/* Version 2's head: the root's line figures. */
static bool get_line_info(struct reader *r, uint64_t *bare_lfs_r,
                          enum mime_last_line *last_line_r)
{
        uint64_t last;

        if (!get_varint(r, bare_lfs_r) || !get_varint(r, &last))
                return false;
        if (last > MIME_LAST_LINE_OPEN)
                return fail(r, "bad last line kind");
        *last_line_r = (enum mime_last_line)last;
        return true;
}

bool mime_structure_line_info(const void *blob, size_t len, uint64_t *bare_lf_count_r,
                              enum mime_last_line *last_line_r)
{
        struct reader r = { .p = blob, .end = (const unsigned char *)blob + len };

        if (len == 0 || *r.p != MIME_STRUCTURE_VERSION)
                return false;
        r.p++;
        return get_line_info(&r, bare_lf_count_r, last_line_r);
}

/* The root's figures must fit in the message the root describes. */
static bool check_line_info(struct reader *r, const struct mime_part *root)
{
        uint64_t size = root->body_offset + root->body_size;

        if (root->bare_lf_count > size)
                return fail(r, "more bare LFs than bytes");
        if (size == 0 && root->last_line != MIME_LAST_LINE_TERMINATED)
                return fail(r, "open last line in an empty message");
        return true;
}

struct open_part {
        struct mime_part *part;
        struct mime_part *last;
        unsigned remaining;
};

int mime_structure_parse(struct pool *pool, const void *blob, size_t len,
                         const struct mime_part **root_r, const char **error_r)
{
        struct reader r = { .pool = pool, .p = blob, .end = (const unsigned char *)blob + len };
        struct open_part *stack = NULL;
        unsigned depth = 0, cap = 0;
        struct mime_part *root = NULL;
        uint64_t bare_lfs = 0;
        enum mime_last_line last_line = MIME_LAST_LINE_TERMINATED;
        bool line_info;

        if (len == 0 || *r.p < MIME_STRUCTURE_VERSION_MIN || *r.p > MIME_STRUCTURE_VERSION) {
                *error_r = len == 0 ? "empty structure blob" : "unknown structure version";
                return -1;
        }
        line_info = *r.p++ >= 2;
        if (line_info && !get_line_info(&r, &bare_lfs, &last_line)) {
                *error_r = r.error;
                return -1;
        }
        do {
                struct open_part *o = depth > 0 ? &stack[depth - 1] : NULL;
                if (o != NULL && o->remaining == 0) {
                        depth--;
                        continue;
                }
                struct mime_part *part = pool_alloc(pool, sizeof(*part));
                part->parent = o != NULL ? o->part : NULL;
                if (!get_part(&r, part) || !check_nesting(&r, part, o != NULL ? o->last : NULL))
                        break;
                if (o == NULL) {
                        root = part;
                        part->line_info = line_info;
                        part->bare_lf_count = bare_lfs;
                        part->last_line = last_line;
                        if (line_info && !check_line_info(&r, part))
                                break;
                } else {
                        if (o->last == NULL)
                                o->part->children = part;
                        else
                                o->last->next = part;
                        o->last = part;
                        o->remaining--;
                }
                if (part->child_count == 0)
                        continue;
                if (depth == cap) {
                        unsigned ncap = cap == 0 ? 16 : cap * 2;
                        stack = pool_realloc(pool, stack, cap * sizeof(*stack),
                                             ncap * sizeof(*stack));
                        cap = ncap;
                }
                stack[depth++] = (struct open_part){ .part = part, .remaining = part->child_count };
        } while (depth > 0);
        if (r.error == NULL && r.p != r.end)
                r.error = "trailing bytes after structure";
        if (r.error != NULL) {
                *error_r = r.error;
                return -1;
        }
        *root_r = root;
        return 0;
}

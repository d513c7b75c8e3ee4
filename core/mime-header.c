/* mime-header.c - header blocks: field iteration, lookup, unfolding, and the
 * small RFC 5322 lexer the structured-field parsers share.
 *
 * Owns: splitting a header block into fields and the lexical helpers (CFWS,
 * tokens, quoted-strings). Does not: interpret field values (mime-params.c,
 * mime-address.c) or decode encoded words (mime-encoding.c).
 */
#include "mime-private.h"

#include <string.h>
#include <strings.h>

#include "pool.h"

bool mime_str_append(struct pool *pool, struct mime_str *str,
                     const void *data, size_t len)
{
        const char *src = data;
        size_t add = 0;
        for (size_t i = 0; i < len; i++)
                add += src[i] != '\0';
        if (str->max != 0 && (add > str->max || str->len > str->max - add)) {
                str->overflow = true;
                return false;
        }
        if (str->len + add + 1 > str->cap) {
                size_t cap = str->cap < 64 ? 64 : str->cap;
                while (cap < str->len + add + 1)
                        cap *= 2;
                str->data = pool_realloc(pool, str->data, str->cap, cap);
                str->cap = cap;
        }
        for (size_t i = 0; i < len; i++) {
                if (src[i] != '\0')
                        str->data[str->len++] = src[i];
        }
        str->data[str->len] = '\0';
        return true;
}

const char *mime_str_get(const struct mime_str *str)
{
        return str->data != NULL ? str->data : "";
}

bool mime_is_wsp(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int mime_hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

const char *mime_skip_cfws(const char *p)
{
        unsigned depth = 0;

        for (;;) {
                if (*p == '\0')
                        return p;
                if (depth == 0) {
                        if (mime_is_wsp(*p))
                                p++;
                        else if (*p == '(')
                                depth++, p++;
                        else
                                return p;
                        continue;
                }
                /* Inside a comment: nesting is a counter, never recursion. */
                if (*p == '\\' && p[1] != '\0')
                        p += 2;
                else if (*p == '(')
                        depth++, p++;
                else if (*p == ')')
                        depth--, p++;
                else
                        p++;
        }
}

/* RFC 2045 tspecials plus space and controls end a token. */
static bool is_token_char(char c)
{
        if ((unsigned char)c <= 32 || c == 127)
                return false;
        return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

char *mime_read_token(struct pool *pool, const char **pp, bool lower)
{
        const char *p = *pp;
        size_t n = 0;

        while (is_token_char(p[n]))
                n++;
        if (n == 0)
                return NULL;
        char *tok = pool_strndup(pool, p, n);
        if (lower) {
                for (size_t i = 0; i < n; i++) {
                        if (tok[i] >= 'A' && tok[i] <= 'Z')
                                tok[i] = (char)(tok[i] - 'A' + 'a');
                }
        }
        *pp = p + n;
        return tok;
}

char *mime_read_quoted(struct pool *pool, const char **pp)
{
        const char *p = *pp + 1;        /* past the opening quote */
        size_t n = 0;

        /* First pass sizes, second copies; both stop at the same place. */
        const char *q = p;
        while (*q != '\0' && *q != '"') {
                if (*q == '\\' && q[1] != '\0')
                        q++;
                q++, n++;
        }
        char *out = pool_alloc(pool, n + 1);
        size_t o = 0;
        while (*p != '\0' && *p != '"') {
                if (*p == '\\' && p[1] != '\0')
                        p++;
                out[o++] = *p++;
        }
        *pp = *p == '"' ? p + 1 : p;
        return out;
}

/* ---- header blocks ---- */

/* Returns the offset just past the line starting at pos (past its LF, or
   len), and the length of its content without CRLF/LF. */
static size_t line_end(const char *h, size_t len, size_t pos, size_t *content_r)
{
        const char *lf = memchr(h + pos, '\n', len - pos);
        size_t end = lf != NULL ? (size_t)(lf - h) + 1 : len;
        size_t content = lf != NULL ? (size_t)(lf - h) - pos : len - pos;
        if (lf != NULL && content > 0 && h[pos + content - 1] == '\r')
                content--;
        *content_r = content;
        return end;
}

/* Length of a valid field name at the line start (printable, no space, no
   colon), or 0; *colon_r gets the colon's offset in the line. Whitespace
   between name and colon is allowed (RFC 5322 §4.5.3 obs-optional). */
static size_t field_name_len(const char *line, size_t len, size_t *colon_r)
{
        size_t n = 0;
        while (n < len && line[n] > 32 && line[n] < 127 && line[n] != ':')
                n++;
        size_t c = n;
        while (c < len && (line[c] == ' ' || line[c] == '\t'))
                c++;
        if (n == 0 || c >= len || line[c] != ':')
                return 0;
        *colon_r = c;
        return n;
}

bool mime_header_next(const void *header, size_t len, size_t *pos,
                      struct mime_header_field *field_r)
{
        const char *h = header;

        while (*pos < len) {
                size_t start = *pos, content, colon = 0;
                size_t end = line_end(h, len, start, &content);
                if (content == 0 && end > start && h[end - 1] == '\n')
                        return false;   /* the blank line ends the header */
                size_t name_len = h[start] == ' ' || h[start] == '\t' ? 0 :
                        field_name_len(h + start, content, &colon);
                size_t value_end = start + content;
                /* Continuation lines belong to this field (or to the
                   skipped non-field line). */
                while (end < len && (h[end] == ' ' || h[end] == '\t')) {
                        size_t c2;
                        size_t e2 = line_end(h, len, end, &c2);
                        value_end = end + c2;
                        end = e2;
                }
                *pos = end;
                if (name_len == 0)
                        continue;
                *field_r = (struct mime_header_field){
                        .name = h + start,
                        .name_len = name_len,
                        .value = h + start + colon + 1,
                        .value_len = value_end - (start + colon + 1),
                        .offset = start,
                        .size = end - start,
                };
                return true;
        }
        return false;
}

char *mime_header_unfold(struct pool *pool, const void *value, size_t len)
{
        const char *v = value;
        char *out = pool_alloc(pool, len + 1);
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n')
                        continue;
                if (v[i] == '\n' || v[i] == '\0')
                        continue;
                out[o++] = v[i];
        }
        size_t s = 0;
        while (s < o && mime_is_wsp(out[s]))
                s++;
        while (o > s && mime_is_wsp(out[o - 1]))
                o--;
        memmove(out, out + s, o - s);
        out[o - s] = '\0';
        return out;
}

unsigned mime_header_find(struct pool *pool, const void *header, size_t len,
                          const char *name, const char *const **values_r)
{
        size_t name_len = strlen(name), pos = 0;
        struct mime_header_field f;
        unsigned count = 0, cap = 0;
        const char **values = NULL;

        while (mime_header_next(header, len, &pos, &f)) {
                if (f.name_len != name_len || strncasecmp(f.name, name, name_len) != 0)
                        continue;
                if (count + 1 >= cap) {
                        unsigned ncap = cap == 0 ? 4 : cap * 2;
                        values = pool_realloc(pool, values, cap * sizeof(*values),
                                              ncap * sizeof(*values));
                        cap = ncap;
                }
                values[count++] = mime_header_unfold(pool, f.value, f.value_len);
        }
        if (values == NULL)
                values = pool_alloc(pool, sizeof(*values));
        values[count] = NULL;
        *values_r = values;
        return count;
}

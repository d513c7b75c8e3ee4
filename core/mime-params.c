/* mime-params.c - Content-Type, Content-Disposition and Content-Language
 * values, and their parameters (RFC 2045 §5.1, RFC 2183, RFC 2231).
 *
 * Owns: type/subtype and parameter lists, joining of RFC 2231 continuations,
 * percent-decoding and charset conversion of extended values. Does not:
 * decide defaults (mime.c) or decode RFC 2047 words in values.
 */
#include "mime-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pool.h"

/* Bounds the work one header can cause: raw parameters read per field and
   the highest RFC 2231 section number honoured. */
#define MIME_MAX_RAW_PARAMS 256u
#define MIME_MAX_SECTION 255u

struct raw_param {
        char *base;             /* name without the RFC 2231 suffix */
        int section;            /* -1: no section number */
        bool extended;          /* trailing '*': charset'lang'%XX value */
        const char *value;
        bool used;
};

/* Reads a parameter value: a quoted-string, or (leniently, as real mail
   needs for unquoted "boundary=----=_Part") everything up to ';' or
   whitespace. */
static char *read_value(struct pool *pool, const char **pp)
{
        const char *p = *pp;
        if (*p == '"')
                return mime_read_quoted(pool, pp);
        size_t n = 0;
        while (p[n] != '\0' && p[n] != ';' && !mime_is_wsp(p[n]))
                n++;
        *pp = p + n;
        return pool_strndup(pool, p, n);
}

/* Splits "name*3*" into base "name", section 3, extended. */
static void split_name(struct raw_param *rp, char *name)
{
        rp->section = -1;
        rp->extended = false;
        char *star = strchr(name, '*');
        if (star == NULL) {
                rp->base = name;
                return;
        }
        char *end;
        if (star[1] >= '0' && star[1] <= '9') {
                unsigned long n = strtoul(star + 1, &end, 10);
                if ((*end == '\0' || (*end == '*' && end[1] == '\0')) &&
                    n <= MIME_MAX_SECTION && !(star[1] == '0' && end - star > 2)) {
                        rp->section = (int)n;
                        rp->extended = *end == '*';
                        *star = '\0';
                }
        } else if (star[1] == '\0') {
                rp->extended = true;
                *star = '\0';
        }
        rp->base = name;
}

static unsigned read_raw_params(struct pool *pool, const char *p,
                                struct raw_param **raw_r)
{
        struct raw_param *raw = NULL;
        unsigned n = 0, cap = 0;

        while (n < MIME_MAX_RAW_PARAMS) {
                p = mime_skip_cfws(p);
                while (*p == ';')
                        p = mime_skip_cfws(p + 1);
                if (*p == '\0')
                        break;
                char *name = mime_read_token(pool, &p, true);
                p = mime_skip_cfws(p);
                if (name == NULL || *p != '=') {
                        /* Not "name=value": skip to the next ';'. */
                        while (*p != '\0' && *p != ';') {
                                if (*p == '"')
                                        mime_read_quoted(pool, &p);
                                else
                                        p++;
                        }
                        continue;
                }
                p = mime_skip_cfws(p + 1);
                if (n == cap) {
                        unsigned ncap = cap == 0 ? 4 : cap * 2;
                        raw = pool_realloc(pool, raw, cap * sizeof(*raw), ncap * sizeof(*raw));
                        cap = ncap;
                }
                raw[n].value = read_value(pool, &p);
                split_name(&raw[n], name);
                n++;
        }
        *raw_r = raw;
        return n;
}

/* Decodes %XX escapes in place (RFC 2231 §4); NUL results are dropped. */
static size_t percent_decode(char *s)
{
        size_t o = 0;
        for (size_t i = 0; s[i] != '\0'; i++) {
                int hi, lo;
                if (s[i] == '%' && (hi = mime_hex_value(s[i + 1])) >= 0 &&
                    (lo = mime_hex_value(s[i + 2])) >= 0) {
                        char c = (char)(hi * 16 + lo);
                        i += 2;
                        if (c != '\0')
                                s[o++] = c;
                        continue;
                }
                s[o++] = s[i];
        }
        s[o] = '\0';
        return o;
}

/* Splits "charset'lang'value" of an extended first section. */
static const char *split_charset(struct pool *pool, const char *v,
                                 struct mime_param *param)
{
        const char *q1 = strchr(v, '\'');
        const char *q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;
        if (q2 == NULL)
                return v;
        if (q1 > v)
                param->charset = pool_strndup(pool, v, (size_t)(q1 - v));
        if (q2 > q1 + 1)
                param->language = pool_strndup(pool, q1 + 1, (size_t)(q2 - q1 - 1));
        return q2 + 1;
}

/* Builds the parameter for base name raw[first].base from every raw
   parameter with that base (RFC 2231 §3: sections 0..n joined in order,
   stopping at the first missing one). */
static void build_param(struct pool *pool, struct raw_param *raw, unsigned n,
                        unsigned first, struct mime_param *param)
{
        const char *base = raw[first].base;
        struct mime_str val = { 0 };
        bool any_ext = false, have_plain = false, have_sections = false;
        const char *plain = NULL;

        param->name = base;
        for (unsigned i = first; i < n; i++) {
                if (raw[i].used || strcmp(raw[i].base, base) != 0)
                        continue;
                raw[i].used = true;
                if (raw[i].section >= 0)
                        have_sections = true;
                else if (raw[i].extended && !any_ext) {
                        any_ext = true;
                        plain = raw[i].value;   /* name*= beats name= */
                        have_plain = true;
                } else if (!have_plain) {
                        plain = raw[i].value;
                        have_plain = true;
                }
        }
        if (have_sections && !any_ext) {
                for (int sec = 0; sec <= (int)MIME_MAX_SECTION; sec++) {
                        unsigned k = first;
                        while (k < n && !(strcmp(raw[k].base, base) == 0 &&
                                          raw[k].section == sec))
                                k++;
                        if (k == n)
                                break;
                        char *v = pool_strdup(pool, raw[k].value);
                        if (raw[k].extended) {
                                if (sec == 0)
                                        v = (char *)split_charset(pool, v, param);
                                any_ext = true;
                                percent_decode(v);
                        }
                        mime_str_append(pool, &val, v, strlen(v));
                }
                if (val.len > 0 || !have_plain) {
                        param->value = pool_strdup(pool, mime_str_get(&val));
                        goto convert;
                }
        }
        if (any_ext && plain != NULL) {
                char *v = pool_strdup(pool, split_charset(pool, plain, param));
                percent_decode(v);
                param->value = v;
        } else {
                param->value = plain != NULL ? plain : "";
                any_ext = false;
        }
convert:
        if (any_ext && param->charset != NULL) {
                char *out;
                size_t out_len;
                if (mime_charset_to_utf8(pool, param->charset, param->value,
                                         strlen(param->value), &out, &out_len))
                        param->value = out;
        }
        if (!any_ext) {
                param->charset = NULL;
                param->language = NULL;
        }
}

void mime_params_parse(struct pool *pool, const char *p,
                       const struct mime_param **params_r, unsigned *count_r)
{
        struct raw_param *raw;
        unsigned n = read_raw_params(pool, p, &raw), count = 0;
        struct mime_param *params = pool_alloc(pool, (n + 1) * sizeof(*params));

        for (unsigned i = 0; i < n; i++) {
                if (!raw[i].used)
                        build_param(pool, raw, n, i, &params[count++]);
        }
        *params_r = count > 0 ? params : NULL;
        *count_r = count;
}

bool mime_content_type_parse(struct pool *pool, const char *value,
                             struct mime_part *part)
{
        const char *p = mime_skip_cfws(value);
        char *type = mime_read_token(pool, &p, true);
        p = mime_skip_cfws(p);
        if (type == NULL || *p != '/')
                return false;
        p = mime_skip_cfws(p + 1);
        char *subtype = mime_read_token(pool, &p, true);
        if (subtype == NULL)
                return false;
        part->type = type;
        part->subtype = subtype;
        mime_params_parse(pool, p, &part->params, &part->param_count);
        return true;
}

void mime_content_disposition_parse(struct pool *pool, const char *value,
                                    struct mime_part *part)
{
        const char *p = mime_skip_cfws(value);
        char *type = mime_read_token(pool, &p, true);
        if (type == NULL)
                return;
        part->disposition = type;
        mime_params_parse(pool, p, &part->disposition_params,
                          &part->disposition_param_count);
}

void mime_content_language_parse(struct pool *pool, const char *value,
                                 struct mime_part *part)
{
        const char **langs = NULL;
        unsigned count = 0, cap = 0;
        const char *p = value;

        for (;;) {
                p = mime_skip_cfws(p);
                while (*p == ',')
                        p = mime_skip_cfws(p + 1);
                if (*p == '\0')
                        break;
                char *tag = mime_read_token(pool, &p, false);
                if (tag == NULL) {
                        p++;    /* stray special: skip it */
                        continue;
                }
                if (count == cap) {
                        unsigned ncap = cap == 0 ? 4 : cap * 2;
                        langs = pool_realloc(pool, langs, cap * sizeof(*langs),
                                             ncap * sizeof(*langs));
                        cap = ncap;
                }
                langs[count++] = tag;
        }
        part->languages = langs;
        part->language_count = count;
}

const char *mime_param_get(const struct mime_param *params, unsigned count,
                           const char *name)
{
        for (unsigned i = 0; i < count; i++) {
                if (strcasecmp(params[i].name, name) == 0)
                        return params[i].value;
        }
        return NULL;
}

/* address.c - RFC 5321 path and ESMTP parameter syntax (address.h).
 *
 * A small recursive-descent scanner over one NUL-terminated argument string.
 * Lenient where MTAs commonly are (spaces after the colon, UTF-8 and '_' in
 * names); strict about structure, control characters and lengths.
 */
#include "address.h"

#include <string.h>

#include "buf.h"
#include "pool.h"

#define LMTP_MAX_LOCAL 256      /* RFC 5321 §4.5.3.1.1 says 64; MTAs pass more */
#define LMTP_MAX_DOMAIN 255

static bool is_atext(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_domain_char(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c >= 0x80;
}

/* Dot-string: atoms separated by single dots. Advances *pp. */
static bool scan_dot_string(const char **pp, struct buf *out)
{
        const char *p = *pp;
        for (;;) {
                const char *start = p;
                while (*p != '\0' && is_atext((unsigned char)*p))
                        p++;
                if (p == start || !buf_append(out, start, (size_t)(p - start)))
                        return false;
                if (*p != '.')
                        break;
                buf_append_char(out, *p++);
        }
        *pp = p;
        return true;
}

/* Quoted-string: unquoted into out (RFC 5321 §4.1.2 qtextSMTP, quoted-pairSMTP). */
static bool scan_quoted(const char **pp, struct buf *out)
{
        const char *p = *pp + 1;
        while (*p != '"') {
                unsigned char c = (unsigned char)*p;
                if (c == '\\' && p[1] >= 32 && p[1] <= 126)
                        c = (unsigned char)*++p;
                else if (c < 32 || c == 127 || c == '\\')
                        return false;
                if (!buf_append_char(out, (char)c))
                        return false;
                p++;
        }
        *pp = p + 1;
        return out->len > 0;
}

/* Domain or address literal. */
static bool scan_domain(const char **pp, struct buf *out)
{
        const char *p = *pp, *start = p;
        if (*p == '[') {
                while (*p != ']' && *p > 32 && *p < 127)
                        p++;
                if (*p != ']')
                        return false;
                p++;
        } else {
                for (;;) {
                        const char *label = p;
                        while (is_domain_char((unsigned char)*p))
                                p++;
                        if (p == label)
                                return false;
                        if (*p != '.')
                                break;
                        p++;
                }
        }
        *pp = p;
        return buf_append(out, start, (size_t)(p - start));
}

/* Source route "@a,@b:" (RFC 5321 §4.1.2 A-d-l): accepted and ignored. */
static bool skip_route(const char **pp)
{
        const char *p = *pp;
        struct buf ignored;
        if (*p != '@')
                return true;
        buf_init(&ignored, LMTP_MAX_DOMAIN);
        bool ok = true;
        while (ok && *p == '@') {
                p++;
                buf_reset(&ignored);
                ok = scan_domain(&p, &ignored);
                if (ok && *p == ',')
                        p++;
                else if (ok && *p == ':')
                        break;
                else
                        ok = false;
        }
        buf_free(&ignored);
        *pp = p + 1;
        return ok;
}

/* The mailbox between the brackets; *pp points after '<'. */
static int scan_mailbox(struct pool *pool, const char **pp, enum lmtp_path_kind kind,
                        const char **mailbox_r, const char **error_r)
{
        const char *p = *pp;
        struct buf out;
        buf_init(&out, LMTP_MAX_LOCAL + 1 + LMTP_MAX_DOMAIN);
        bool ok = *p == '"' ? scan_quoted(&p, &out) : scan_dot_string(&p, &out);
        if (!ok || out.len > LMTP_MAX_LOCAL) {
                *error_r = "bad local part";
        } else if (*p == '@') {
                buf_append_char(&out, *p++);
                size_t at = out.len;
                ok = scan_domain(&p, &out) && out.len - at <= LMTP_MAX_DOMAIN;
                if (!ok)
                        *error_r = "bad domain";
        } else if (kind == LMTP_PATH_REVERSE) {
                ok = false;
                *error_r = "sender address needs a domain";
        }
        if (ok && *p != '>') {
                ok = false;
                *error_r = "address not closed by '>'";
        }
        if (ok) {
                *mailbox_r = pool_strndup(pool, out.data, out.len);
                *pp = p + 1;
        }
        buf_free(&out);
        return ok ? 0 : -1;
}

/* " KEY[=VALUE]..." after the path. */
static int scan_params(struct pool *pool, const char *p, struct lmtp_path *path,
                       const char **error_r)
{
        while (*p == ' ') {
                while (*p == ' ')
                        p++;
                if (*p == '\0')
                        break;
                const char *key = p;
                while (*p != '\0' && *p != ' ' && *p != '=')
                        p++;
                const char *key_end = p, *value = NULL;
                if (*p == '=') {
                        value = ++p;
                        while (*p != '\0' && *p != ' ')
                                p++;
                }
                if (key_end == key || path->param_count == LMTP_MAX_PARAMS) {
                        *error_r = key_end == key ? "empty parameter name"
                                                  : "too many parameters";
                        return -1;
                }
                struct lmtp_param *param = &path->params[path->param_count++];
                param->key = pool_strndup(pool, key, (size_t)(key_end - key));
                param->value = value == NULL ? NULL
                                             : pool_strndup(pool, value, (size_t)(p - value));
        }
        if (*p != '\0') {
                *error_r = "garbage after the address";
                return -1;
        }
        return 0;
}

int lmtp_path_parse(struct pool *pool, const char *text, enum lmtp_path_kind kind,
                    struct lmtp_path *path_r, const char **error_r)
{
        const char *p = text;
        memset(path_r, 0, sizeof(*path_r));
        while (*p == ' ')
                p++;
        if (*p != '<') {
                *error_r = "address must be in angle brackets";
                return -1;
        }
        p++;
        if (*p == '>' && kind == LMTP_PATH_REVERSE) {
                path_r->mailbox = "";
                p++;
        } else {
                if (!skip_route(&p)) {
                        *error_r = "bad source route";
                        return -1;
                }
                if (scan_mailbox(pool, &p, kind, &path_r->mailbox, error_r) < 0)
                        return -1;
        }
        return scan_params(pool, p, path_r, error_r);
}

/* store-names.c - checks and normal forms of user names, mailbox names and
 * keywords, so every engine sees one spelling of each.
 *
 * Owns: the syntax rules (documented in store.h) and UTF-8 validation. Does
 * not look anything up: existence is the engine's business.
 */
#include "store-private.h"

#include <string.h>

#include "buf.h"
#include "pool.h"

#define USER_LOCAL_MAX 64     /* RFC 5321 §4.5.3.1.1 */
#define USER_DOMAIN_MAX 255   /* RFC 5321 §4.5.3.1.2 */
#define DOMAIN_LABEL_MAX 63

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0 when it
   is invalid: overlong forms, surrogates and code points above U+10FFFF are
   refused (RFC 3629 §4). */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
        unsigned char c = s[0];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; min = 0x80; }
        else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; min = 0x800; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; min = 0x10000; }
        else
                return 0;
        if (n > len)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* Checks that [s, s+len) is valid UTF-8 without control characters. */
static bool text_valid(const char *s, size_t len, const char **error_r)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < len;) {
                if (p[i] < 0x20 || p[i] == 0x7f) {
                        *error_r = "contains a control character";
                        return false;
                }
                size_t n = utf8_seq_len(p + i, len - i);
                if (n == 0) {
                        *error_r = "is not valid UTF-8";
                        return false;
                }
                i += n;
        }
        return true;
}

static bool local_part_valid(const char *local, size_t len, const char **error_r)
{
        if (len == 0 || len > USER_LOCAL_MAX) {
                *error_r = len == 0 ? "user name has an empty local part"
                                    : "user name's local part is longer than 64 bytes";
                return false;
        }
        if (!text_valid(local, len, error_r)) {
                *error_r = "user name contains a control character or invalid UTF-8";
                return false;
        }
        for (size_t i = 0; i < len; i++) {
                /* RFC 5322 specials, which would need quoting. */
                if (local[i] == ' ' || strchr("()<>,;:\\\"[]", local[i]) != NULL) {
                        *error_r = "user name contains a space or one of ()<>,;:\\\"[]";
                        return false;
                }
        }
        return true;
}

static bool domain_valid(const char *domain, size_t len, const char **error_r)
{
        if (len == 0 || len > USER_DOMAIN_MAX) {
                *error_r = len == 0 ? "user name has an empty domain"
                                    : "user name's domain is longer than 255 bytes";
                return false;
        }
        if (!text_valid(domain, len, error_r)) {
                *error_r = "user name contains a control character or invalid UTF-8";
                return false;
        }
        size_t label = 0;
        for (size_t i = 0; i <= len; i++) {
                unsigned char c = i < len ? (unsigned char)domain[i] : '.';
                if (c == '.') {
                        if (label == 0 || label > DOMAIN_LABEL_MAX) {
                                *error_r = "user name's domain has an empty or over-long label";
                                return false;
                        }
                        label = 0;
                        continue;
                }
                label++;
                /* Letters, digits, '-' and (IDN) UTF-8 bytes. */
                if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-')) {
                        *error_r = "user name's domain contains an invalid character";
                        return false;
                }
        }
        return true;
}

bool store_user_name_normalize(struct pool *pool, const char *name, const char **normal_r,
                               const char **error_r)
{
        if (name == NULL || name[0] == '\0') {
                *error_r = "user name is empty";
                return false;
        }
        size_t len = strnlen(name, COVE_STORE_MAX_NAME + 1);
        const char *at = strchr(name, '@');
        if (len > COVE_STORE_MAX_NAME) {
                *error_r = "user name is too long";
                return false;
        }
        if (at == NULL || strchr(at + 1, '@') != NULL) {
                *error_r = at == NULL ? "user name must be local@domain"
                                      : "user name contains more than one '@'";
                return false;
        }
        size_t local_len = (size_t)(at - name);
        if (!local_part_valid(name, local_len, error_r) ||
            !domain_valid(at + 1, len - local_len - 1, error_r))
                return false;
        char *normal = pool_strndup(pool, name, len);
        /* The domain is case-insensitive (RFC 5321 §2.4); the local part is
           kept as given. */
        for (char *p = normal + local_len + 1; *p != '\0'; p++) {
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        }
        *normal_r = normal;
        return true;
}

bool store_mailbox_name_normalize(struct pool *pool, const char *name, const char **normal_r,
                                  const char **error_r)
{
        if (name == NULL || name[0] == '\0') {
                *error_r = "mailbox name is empty";
                return false;
        }
        size_t len = strnlen(name, COVE_STORE_MAX_NAME + 1);
        if (len > COVE_STORE_MAX_NAME) {
                *error_r = "mailbox name is too long";
                return false;
        }
        if (!text_valid(name, len, error_r)) {
                *error_r = "mailbox name contains a control character or invalid UTF-8";
                return false;
        }
        if (name[0] == COVE_STORE_HIERARCHY_SEP || name[len - 1] == COVE_STORE_HIERARCHY_SEP ||
            strstr(name, "//") != NULL) {
                *error_r = "mailbox name has an empty hierarchy component";
                return false;
        }
        char *normal = pool_strndup(pool, name, len);
        /* RFC 3501 §5.1: INBOX is case-insensitive, also as a parent. */
        if (str_has_prefix_nocase(normal, "inbox") &&
            (normal[5] == '\0' || normal[5] == COVE_STORE_HIERARCHY_SEP))
                memcpy(normal, "INBOX", 5);
        *normal_r = normal;
        return true;
}

/* RFC 3501 §9: ATOM-CHAR is any CHAR except atom-specials. */
static bool keyword_valid(const char *kw, const char **error_r)
{
        size_t len = kw == NULL ? 0 : strnlen(kw, COVE_STORE_MAX_KEYWORD + 1);
        if (len == 0 || len > COVE_STORE_MAX_KEYWORD) {
                *error_r = len == 0 ? "empty keyword" : "keyword is too long";
                return false;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)kw[i];
                if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL) {
                        *error_r = "keyword contains a character not allowed in an atom";
                        return false;
                }
        }
        return true;
}

bool store_keywords_check(struct pool *pool, const char *const *keywords, size_t count,
                          const char *const **out_r, size_t *count_r, const char **error_r)
{
        *out_r = NULL;
        *count_r = 0;
        if (count == 0)
                return true;
        if (keywords == NULL) {
                *error_r = "keyword list is NULL";
                return false;
        }
        const char **out = pool_alloc(pool, (count < COVE_STORE_MAX_KEYWORDS + 1
                                             ? count : COVE_STORE_MAX_KEYWORDS + 1) * sizeof(*out));
        size_t n = 0;
        for (size_t i = 0; i < count; i++) {
                if (!keyword_valid(keywords[i], error_r))
                        return false;
                bool dup = false;
                /* Keywords compare case-insensitively (RFC 3501 §2.3.2). */
                for (size_t j = 0; j < n && !dup; j++)
                        dup = str_eq_nocase(out[j], keywords[i]);
                if (dup)
                        continue;
                if (n == COVE_STORE_MAX_KEYWORDS) {
                        *error_r = "too many keywords";
                        return false;
                }
                out[n++] = keywords[i];
        }
        *out_r = out;
        *count_r = n;
        return true;
}

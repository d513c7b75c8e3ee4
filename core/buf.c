/* buf.c - growable byte buffers and small string helpers (see buf.h).
 *
 * Owns: growth policy and the NUL-after-data invariant. Does not: know about
 * lines, protocols or sockets.
 */
#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

void buf_init(struct buf *buf, size_t max)
{
        buf->data = NULL;
        buf->len = 0;
        buf->cap = 0;
        buf->max = max;
}

void buf_free(struct buf *buf)
{
        free(buf->data);
        buf->data = NULL;
        buf->len = 0;
        buf->cap = 0;
}

void buf_reset(struct buf *buf)
{
        buf->len = 0;
        if (buf->data != NULL)
                buf->data[0] = '\0';
}

bool buf_reserve(struct buf *buf, size_t extra)
{
        if (extra > SIZE_MAX - buf->len - 1)
                return false;
        size_t need = buf->len + extra;
        if (buf->max != 0 && need > buf->max)
                return false;
        if (need <= buf->cap && buf->data != NULL)
                return true;
        size_t cap = buf->cap < 64 ? 64 : buf->cap;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (buf->max != 0 && cap > buf->max)
                cap = buf->max;
        buf->data = xrealloc(buf->data, cap + 1);
        buf->cap = cap;
        buf->data[buf->len] = '\0';
        return true;
}

bool buf_append(struct buf *buf, const void *data, size_t len)
{
        if (!buf_reserve(buf, len))
                return false;
        if (len > 0)
                memcpy(buf->data + buf->len, data, len);
        buf->len += len;
        buf->data[buf->len] = '\0';
        return true;
}

bool buf_append_str(struct buf *buf, const char *str)
{
        return buf_append(buf, str, strlen(str));
}

bool buf_append_char(struct buf *buf, char c)
{
        return buf_append(buf, &c, 1);
}

bool buf_vprintf(struct buf *buf, const char *fmt, va_list ap)
{
        va_list ap2;
        va_copy(ap2, ap);
        int n = vsnprintf(NULL, 0, fmt, ap2);
        va_end(ap2);
        if (n < 0 || !buf_reserve(buf, (size_t)n))
                return false;
        vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
        buf->len += (size_t)n;
        return true;
}

bool buf_printf(struct buf *buf, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        bool ok = buf_vprintf(buf, fmt, ap);
        va_end(ap);
        return ok;
}

void buf_consume(struct buf *buf, size_t n)
{
        if (n >= buf->len) {
                buf_reset(buf);
                return;
        }
        memmove(buf->data, buf->data + n, buf->len - n);
        buf->len -= n;
        buf->data[buf->len] = '\0';
}

char *buf_tail(struct buf *buf, size_t want, size_t *avail_r)
{
        if (!buf_reserve(buf, want)) {
                /* Offer whatever room is left under the limit. */
                if (buf->max == 0 || buf->len >= buf->max)
                        return NULL;
                if (!buf_reserve(buf, buf->max - buf->len))
                        return NULL;
        }
        *avail_r = buf->cap - buf->len;
        return buf->data + buf->len;
}

void buf_commit(struct buf *buf, size_t n)
{
        /* UNSAFE: n was bounded by buf_tail()'s avail_r. */
        buf->len += n;
        buf->data[buf->len] = '\0';
}

bool buf_find_lf(const struct buf *buf, size_t from, size_t *pos_r)
{
        if (buf->data == NULL || from >= buf->len)
                return false;
        const char *p = memchr(buf->data + from, '\n', buf->len - from);
        if (p == NULL)
                return false;
        *pos_r = (size_t)(p - buf->data);
        return true;
}

bool str_eq_nocase(const char *a, const char *b)
{
        return strcasecmp(a, b) == 0;
}

bool str_has_prefix_nocase(const char *str, const char *prefix)
{
        return strncasecmp(str, prefix, strlen(prefix)) == 0;
}

bool str_to_u64_n(const char *str, size_t len, uint64_t *value_r)
{
        uint64_t v = 0;
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (str[i] < '0' || str[i] > '9')
                        return false;
                unsigned d = (unsigned)(str[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *value_r = v;
        return true;
}

bool str_to_u64(const char *str, uint64_t *value_r)
{
        return str_to_u64_n(str, strlen(str), value_r);
}

char *str_trim(char *str)
{
        size_t len = strlen(str);
        while (len > 0 && isspace((unsigned char)str[len - 1]))
                str[--len] = '\0';
        size_t start = 0;
        while (str[start] != '\0' && isspace((unsigned char)str[start]))
                start++;
        if (start > 0)
                memmove(str, str + start, len - start + 1);
        return str;
}

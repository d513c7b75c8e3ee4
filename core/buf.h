/* buf.h - growable byte buffers and small string helpers.
 *
 * A struct buf owns heap memory (xmalloc family) that outlives any arena: it is
 * used for connection input/output queues and for building byte strings of
 * unknown length. The data is always NUL-terminated one past `len` so it can be
 * used as a C string when it holds text; binary content is fine too.
 */
#ifndef COVE_BUF_H
#define COVE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
        char *data;     /* owned; NUL at data[len]; NULL until first growth */
        size_t len;     /* bytes in use */
        size_t cap;     /* bytes allocated (excluding the NUL slot) */
        size_t max;     /* growth limit; 0 = unbounded */
};

/* Initialises an empty buffer that may grow to max bytes (0: no limit). */
void buf_init(struct buf *buf, size_t max);

/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *buf);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *buf);

/* Makes room for `extra` more bytes. Returns false (nothing changed) when that
   would exceed buf->max. */
bool buf_reserve(struct buf *buf, size_t extra);

/* Appends bytes / a C string / formatted text. Return false when buf->max
   would be exceeded; the buffer is then unchanged. */
bool buf_append(struct buf *buf, const void *data, size_t len);
bool buf_append_str(struct buf *buf, const char *str);
bool buf_append_char(struct buf *buf, char c);
bool buf_printf(struct buf *buf, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
bool buf_vprintf(struct buf *buf, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

/* Removes the first n bytes (n <= len), shifting the rest down. */
void buf_consume(struct buf *buf, size_t n);

/* Writable tail: returns a pointer to at least `want` free bytes (growing if
   allowed), or NULL when max forbids it. Call buf_commit(buf, n) after writing
   n bytes there. */
char *buf_tail(struct buf *buf, size_t want, size_t *avail_r);
void buf_commit(struct buf *buf, size_t n);

/* Finds "\n" in the buffer from offset `from`; returns its offset via pos_r. */
bool buf_find_lf(const struct buf *buf, size_t from, size_t *pos_r);

/* --- string helpers (no allocation) --- */

/* ASCII case-insensitive comparisons. */
bool str_eq_nocase(const char *a, const char *b);
bool str_has_prefix_nocase(const char *str, const char *prefix);
/* Parses a decimal uint64 with no sign, no spaces; false on overflow/garbage. */
bool str_to_u64(const char *str, uint64_t *value_r);
/* Same for exactly len bytes. */
bool str_to_u64_n(const char *str, size_t len, uint64_t *value_r);
/* Strips ASCII whitespace at both ends in place; returns str. */
char *str_trim(char *str);

#endif

/* imap-string.c - IMAP string output (see imap-string.h).
 *
 * Owns: the NIL / atom / quoted / literal decision and escaping used by
 * every imapd reply. Does not: write to a connection or know what a value
 * means.
 */
#include "imap-string.h"

#include <string.h>
#include <strings.h>

#include "buf.h"

bool imap_string_quotable(const void *data, size_t len)
{
        const unsigned char *p = data;

        if (len > IMAP_STRING_MAX_QUOTED)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n' || p[i] >= 0x80)
                        return false;
        }
        return true;
}

bool imap_string_is_atom(const char *str)
{
        /* "NIL" as an atom would read as NIL. */
        if (*str == '\0' || strcasecmp(str, "NIL") == 0)
                return false;
        for (const char *p = str; *p != '\0'; p++) {
                unsigned char c = (unsigned char)*p;
                /* RFC 3501 §9 ATOM-CHAR (CHAR except atom-specials), minus ']'. */
                if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
                        return false;
        }
        return true;
}

static char upper_ascii(char c)
{
        return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static void string_append(struct buf *out, const char *p, size_t len, bool upper)
{
        if (!imap_string_quotable(p, len)) {
                buf_printf(out, "{%zu}\r\n", len);
                if (!upper) {
                        buf_append(out, p, len);
                        return;
                }
                for (size_t i = 0; i < len; i++)
                        buf_append_char(out, upper_ascii(p[i]));
                return;
        }
        buf_append_char(out, '"');
        for (size_t i = 0; i < len; i++) {
                if (p[i] == '"' || p[i] == '\\')
                        buf_append_char(out, '\\');
                buf_append_char(out, upper ? upper_ascii(p[i]) : p[i]);
        }
        buf_append_char(out, '"');
}

void imap_string_append(struct buf *out, const void *data, size_t len)
{
        string_append(out, data, len, false);
}

void imap_string_append_upper(struct buf *out, const void *data, size_t len)
{
        string_append(out, data, len, true);
}

void imap_nstring_append(struct buf *out, const char *str, size_t len)
{
        if (str == NULL)
                buf_append_str(out, "NIL");
        else
                string_append(out, str, len, false);
}

void imap_astring_append(struct buf *out, const char *str)
{
        if (imap_string_is_atom(str))
                buf_append_str(out, str);
        else
                string_append(out, str, strlen(str), false);
}

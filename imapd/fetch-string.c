/* fetch-string.c - IMAP string output for FETCH replies (see fetch.h).
 *
 * Owns: choosing NIL, atom, quoted string or literal for a value and writing
 * it to a buffer. Refuses: parsing (imapd/parser.c) and anything that knows
 * what the value means.
 */
#include "fetch.h"

#include <string.h>
#include <strings.h>

#include "buf.h"

/* A quoted string can carry 7-bit text without CR, LF or NUL (RFC 3501 §9
   QUOTED-CHAR); anything else needs a literal. */
static bool quotable(const unsigned char *p, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n' || p[i] >= 0x80)
                        return false;
        }
        return true;
}

static void append_string(struct buf *out, const unsigned char *p, size_t len, bool upper)
{
        bool literal = !quotable(p, len);

        if (literal && !upper) {
                buf_printf(out, "{%zu}\r\n", len);
                buf_append(out, p, len);
                return;
        }
        if (literal)
                buf_printf(out, "{%zu}\r\n", len);
        else
                buf_append_char(out, '"');
        for (size_t i = 0; i < len; i++) {
                char c = (char)p[i];
                if (!literal && (c == '"' || c == '\\'))
                        buf_append_char(out, '\\');
                else if (upper && c >= 'a' && c <= 'z')
                        c = (char)(c - 'a' + 'A');
                buf_append_char(out, c);
        }
        if (!literal)
                buf_append_char(out, '"');
}

void imap_fetch_append_string(struct buf *out, const void *data, size_t len)
{
        append_string(out, data, len, false);
}

void imap_fetch_append_nstring(struct buf *out, const char *str)
{
        if (str == NULL)
                buf_append_str(out, "NIL");
        else
                append_string(out, (const unsigned char *)str, strlen(str), false);
}

void imap_fetch_append_nstring_upper(struct buf *out, const char *str)
{
        if (str == NULL)
                buf_append_str(out, "NIL");
        else
                append_string(out, (const unsigned char *)str, strlen(str), true);
}

/* RFC 3501 §9 ATOM-CHAR: CHAR except atom-specials. ']' is excluded too, so
   the result can sit inside a section's brackets. */
static bool is_atom_char(unsigned char c)
{
        if (c <= 0x20 || c >= 0x7f)
                return false;
        return strchr("(){%*\"\\]", c) == NULL;
}

void imap_fetch_append_astring(struct buf *out, const char *str)
{
        size_t len = strlen(str);
        /* "NIL" as an atom would read as NIL. */
        bool atom = len > 0 && strcasecmp(str, "NIL") != 0;

        for (size_t i = 0; atom && i < len; i++)
                atom = is_atom_char((unsigned char)str[i]);
        if (atom)
                buf_append(out, str, len);
        else
                imap_fetch_append_string(out, str, len);
}

/* fetch-string.c - the FETCH names for IMAP string output (see fetch.h).
 *
 * Owns: nothing but the mapping of fetch.h's string writers onto
 * imap-string.c, the one implementation of NIL / atom / quoted / literal
 * output. Refuses: any formatting decision of its own.
 */
#include "fetch.h"

#include <string.h>

#include "imap-string.h"

void imap_fetch_append_string(struct buf *out, const void *data, size_t len)
{
        imap_string_append(out, data, len);
}

void imap_fetch_append_nstring(struct buf *out, const char *str)
{
        imap_nstring_append(out, str, str == NULL ? 0 : strlen(str));
}

void imap_fetch_append_nstring_upper(struct buf *out, const char *str)
{
        if (str == NULL)
                imap_nstring_append(out, NULL, 0);
        else
                imap_string_append_upper(out, str, strlen(str));
}

void imap_fetch_append_astring(struct buf *out, const char *str)
{
        imap_astring_append(out, str);
}

/* fetch-envelope.c - the FETCH ENVELOPE item (RFC 3501 §7.4.2).
 *
 * Owns: turning a parsed struct mime_envelope into the ENVELOPE list,
 * including the Sender/Reply-To defaults and group syntax. Refuses: header
 * parsing (core/mime.c did it at append) and encoded-word decoding (IMAP
 * sends header values undecoded).
 */
#include "fetch.h"

#include "buf.h"
#include "mime.h"

/* A host of NIL marks group syntax in IMAP, so an address written without a
   domain gets this placeholder (the form UW imapd made customary). */
#define MISSING_HOST ".MISSING-HOST-NAME."

static void append_address(struct buf *out, const struct mime_address *addr)
{
        buf_append_char(out, '(');
        switch (addr->kind) {
        case MIME_ADDRESS_GROUP_START:
                /* RFC 3501 §7.4.2: (NIL NIL "group name" NIL) opens a group. */
                buf_append_str(out, "NIL NIL ");
                imap_fetch_append_nstring(out, addr->mailbox != NULL ? addr->mailbox : "");
                buf_append_str(out, " NIL");
                break;
        case MIME_ADDRESS_GROUP_END:
                buf_append_str(out, "NIL NIL NIL NIL");
                break;
        case MIME_ADDRESS_MAILBOX:
                imap_fetch_append_nstring(out, addr->name);
                buf_append_char(out, ' ');
                imap_fetch_append_nstring(out, addr->adl);
                buf_append_char(out, ' ');
                if (addr->mailbox == NULL && addr->host == NULL) {
                        /* "Name <>": neither NIL, or it would end a group. */
                        buf_append_str(out, "\"\" \"\"");
                        break;
                }
                imap_fetch_append_nstring(out, addr->mailbox != NULL ? addr->mailbox : "");
                buf_append_char(out, ' ');
                imap_fetch_append_nstring(out, addr->host != NULL ? addr->host : MISSING_HOST);
                break;
        }
        buf_append_char(out, ')');
}

static void append_address_list(struct buf *out, const struct mime_address_list *list)
{
        if (list->count == 0) {
                buf_append_str(out, "NIL");
                return;
        }
        buf_append_char(out, '(');
        for (unsigned i = 0; i < list->count; i++)
                append_address(out, &list->addrs[i]);
        buf_append_char(out, ')');
}

static const struct mime_address_list *
address_field(const struct mime_envelope *env, enum mime_env_field field)
{
        /* RFC 3501 §7.4.2: an absent or empty Sender or Reply-To takes the
           value of From. */
        if ((field == MIME_ENV_SENDER || field == MIME_ENV_REPLY_TO) &&
            env->addr[field].count == 0)
                return &env->addr[MIME_ENV_FROM];
        return &env->addr[field];
}

void imap_fetch_append_envelope(struct buf *out, const struct mime_envelope *env)
{
        buf_append_char(out, '(');
        for (unsigned f = 0; f < MIME_ENV_COUNT; f++) {
                if (f > 0)
                        buf_append_char(out, ' ');
                if (env == NULL)
                        buf_append_str(out, "NIL");
                else if (mime_env_field_is_address((enum mime_env_field)f))
                        append_address_list(out, address_field(env, (enum mime_env_field)f));
                else
                        imap_fetch_append_nstring(out, env->raw[f]);
        }
        buf_append_char(out, ')');
}

/* fetch-bodystructure.c - the FETCH BODY and BODYSTRUCTURE items
 * (RFC 3501 §7.4.2, body grammar in §9).
 *
 * Owns: walking a struct mime_part tree and writing body-type-1part /
 * body-type-mpart with or without extension data. Refuses: MIME parsing
 * (the tree comes from the structure cached at append) and envelopes
 * (fetch-envelope.c).
 */
#include "fetch.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mime.h"

static bool has_8bit(const char *s)
{
        for (; *s != '\0'; s++) {
                if ((unsigned char)*s >= 0x80)
                        return true;
        }
        return false;
}

static bool valid_utf8(const unsigned char *s)
{
        while (*s != '\0') {
                unsigned n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 :
                             (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : 4;
                if (n == 4 || (n == 1 && *s < 0xc2))
                        return false;
                s++;
                for (unsigned i = 0; i < n; i++, s++) {
                        if ((*s & 0xc0) != 0x80)
                                return false;
                }
        }
        return true;
}

/* RFC 2231 attribute-char: CHAR except SPACE, CTLs, "*", "'", "%" and
   tspecials. */
static bool is_attribute_char(unsigned char c)
{
        if (c <= 0x20 || c >= 0x7f)
                return false;
        return strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL;
}

/* An 8-bit value cannot go into a 7-bit structure as is: send it as an
   RFC 2231 extended parameter, labelled utf-8 when it is valid UTF-8 (which
   core/mime.c produces whenever it knew the charset), else with the charset
   it was declared in, else unknown-8bit (RFC 1428). */
static void append_param_2231(struct buf *out, const struct mime_param *param)
{
        const char *charset = valid_utf8((const unsigned char *)param->value) ? "utf-8" :
                              param->charset != NULL ? param->charset : "unknown-8bit";
        struct buf value;

        buf_init(&value, 0);
        buf_printf(&value, "%s'%s'", charset,
                   param->language != NULL ? param->language : "");
        for (const unsigned char *p = (const unsigned char *)param->value; *p != '\0'; p++) {
                if (is_attribute_char(*p))
                        buf_append_char(&value, (char)*p);
                else
                        buf_printf(&value, "%%%02X", *p);
        }
        struct buf name;
        buf_init(&name, 0);
        buf_printf(&name, "%s*", param->name);
        imap_fetch_append_nstring_upper(out, name.data);
        buf_append_char(out, ' ');
        imap_fetch_append_string(out, value.data, value.len);
        buf_free(&name);
        buf_free(&value);
}

/* add_charset: a text part without a charset parameter is us-ascii
   (RFC 2045 §5.2); say so, as RFC 3501's examples do. */
static void append_params(struct buf *out, const struct mime_param *params, unsigned count,
                          bool add_charset)
{
        if (add_charset && mime_param_get(params, count, "charset") != NULL)
                add_charset = false;
        if (count == 0 && !add_charset) {
                buf_append_str(out, "NIL");
                return;
        }
        buf_append_char(out, '(');
        if (add_charset)
                buf_append_str(out, count > 0 ? "\"CHARSET\" \"us-ascii\" " :
                                                 "\"CHARSET\" \"us-ascii\"");
        for (unsigned i = 0; i < count; i++) {
                if (i > 0)
                        buf_append_char(out, ' ');
                if (has_8bit(params[i].value) || has_8bit(params[i].name)) {
                        append_param_2231(out, &params[i]);
                        continue;
                }
                imap_fetch_append_nstring_upper(out, params[i].name);
                buf_append_char(out, ' ');
                imap_fetch_append_nstring(out, params[i].value);
        }
        buf_append_char(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc: the tail every extension
   has. */
static void append_dsp_lang_loc(struct buf *out, const struct mime_part *part)
{
        if (part->disposition == NULL) {
                buf_append_str(out, "NIL");
        } else {
                buf_append_char(out, '(');
                imap_fetch_append_nstring_upper(out, part->disposition);
                buf_append_char(out, ' ');
                append_params(out, part->disposition_params,
                              part->disposition_param_count, false);
                buf_append_char(out, ')');
        }
        buf_append_char(out, ' ');
        if (part->language_count == 0) {
                buf_append_str(out, "NIL");
        } else if (part->language_count == 1) {
                imap_fetch_append_nstring(out, part->languages[0]);
        } else {
                buf_append_char(out, '(');
                for (unsigned i = 0; i < part->language_count; i++) {
                        if (i > 0)
                                buf_append_char(out, ' ');
                        imap_fetch_append_nstring(out, part->languages[i]);
                }
                buf_append_char(out, ')');
        }
        buf_append_char(out, ' ');
        imap_fetch_append_nstring(out, part->location);
}

static void append_part(struct buf *out, const struct mime_part *part, bool extended,
                        unsigned depth);

static bool is_message(const struct mime_part *part)
{
        return part->children != NULL && part->children->envelope != NULL &&
               (mime_part_is(part, "message", "rfc822") ||
                mime_part_is(part, "message", "global"));
}

static void append_single(struct buf *out, const struct mime_part *part, bool extended,
                          unsigned depth)
{
        buf_append_char(out, '(');
        imap_fetch_append_nstring_upper(out, part->type);
        buf_append_char(out, ' ');
        imap_fetch_append_nstring_upper(out, part->subtype);
        buf_append_char(out, ' ');
        append_params(out, part->params, part->param_count,
                      strcmp(part->type, "text") == 0);
        buf_append_char(out, ' ');
        imap_fetch_append_nstring(out, part->id);
        buf_append_char(out, ' ');
        imap_fetch_append_nstring(out, part->description);
        buf_append_char(out, ' ');
        imap_fetch_append_nstring_upper(out, part->encoding);
        buf_printf(out, " %llu", (unsigned long long)part->body_size);
        if (is_message(part) && depth < IMAP_FETCH_MAX_DEPTH) {
                /* body-type-msg: envelope, the encapsulated body, lines. */
                buf_append_char(out, ' ');
                imap_fetch_append_envelope(out, part->children->envelope);
                buf_append_char(out, ' ');
                append_part(out, part->children, extended, depth + 1);
                buf_printf(out, " %llu", (unsigned long long)part->body_lines);
        } else if (strcmp(part->type, "text") == 0) {
                buf_printf(out, " %llu", (unsigned long long)part->body_lines);
        }
        if (extended) {
                buf_append_char(out, ' ');
                imap_fetch_append_nstring(out, part->md5);
                buf_append_char(out, ' ');
                append_dsp_lang_loc(out, part);
        }
        buf_append_char(out, ')');
}

static void append_multi(struct buf *out, const struct mime_part *part, bool extended,
                         unsigned depth)
{
        buf_append_char(out, '(');
        if (part->children == NULL) {
                /* The grammar needs at least one body (mime.h). */
                buf_append_str(out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") "
                               "NIL NIL \"7BIT\" 0 0");
                buf_append_str(out, extended ? " NIL NIL NIL NIL)" : ")");
        }
        for (const struct mime_part *child = part->children; child != NULL;
             child = child->next)
                append_part(out, child, extended, depth + 1);
        buf_append_char(out, ' ');
        imap_fetch_append_nstring_upper(out, part->subtype);
        if (extended) {
                buf_append_char(out, ' ');
                append_params(out, part->params, part->param_count, false);
                buf_append_char(out, ' ');
                append_dsp_lang_loc(out, part);
        }
        buf_append_char(out, ')');
}

static void append_part(struct buf *out, const struct mime_part *part, bool extended,
                        unsigned depth)
{
        if (strcmp(part->type, "multipart") == 0 && depth < IMAP_FETCH_MAX_DEPTH)
                append_multi(out, part, extended, depth);
        else
                append_single(out, part, extended, depth);
}

void imap_fetch_append_bodystructure(struct buf *out, const struct mime_part *part,
                                     bool extended)
{
        append_part(out, part, extended, 0);
}

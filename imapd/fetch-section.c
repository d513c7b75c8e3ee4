/* fetch-section.c - BODY[section]<partial> specs (RFC 3501 §6.4.5).
 *
 * Owns: the grammar of a section spec once the tokenizer has split the fetch
 * attribute (part numbers, HEADER/HEADER.FIELDS[.NOT]/TEXT/MIME, the partial
 * window), its name in replies, and resolving it to a byte range of the
 * stored message from the cached part tree. Refuses: reading message bytes
 * (cmd-fetch.c streams them) and field filtering (fetch-hdrfilter.c).
 */
#include "fetch.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "mime.h"
#include "pool.h"

static const struct {
        const char *name;
        enum imap_section_text text;
} section_texts[] = {
        { .name = "HEADER", .text = IMAP_SECTION_HEADER },
        { .name = "HEADER.FIELDS", .text = IMAP_SECTION_HEADER_FIELDS },
        { .name = "HEADER.FIELDS.NOT", .text = IMAP_SECTION_HEADER_FIELDS_NOT },
        { .name = "TEXT", .text = IMAP_SECTION_TEXT },
        { .name = "MIME", .text = IMAP_SECTION_MIME },
};

static const char *section_text_name(enum imap_section_text text)
{
        for (size_t i = 0; i < N_ELEMENTS(section_texts); i++) {
                if (section_texts[i].text == text)
                        return section_texts[i].name;
        }
        return "";
}

/* Reads "nz-number *('.' nz-number)" from the front of spec; stops before a
   '.' that is not followed by a digit. Returns the bytes used, or -1. */
static int parse_part_numbers(const char *spec, size_t len, const char **error_r)
{
        size_t pos = 0;
        unsigned parts = 0;

        while (pos < len && spec[pos] >= '0' && spec[pos] <= '9') {
                if (spec[pos] == '0') {
                        *error_r = "section part numbers start at 1";
                        return -1;
                }
                uint64_t n = 0;
                while (pos < len && spec[pos] >= '0' && spec[pos] <= '9') {
                        n = n * 10 + (uint64_t)(spec[pos++] - '0');
                        if (n > UINT32_MAX) {
                                *error_r = "section part number too large";
                                return -1;
                        }
                }
                if (++parts > IMAP_SECTION_MAX_PARTS) {
                        *error_r = "section part numbers nested too deeply";
                        return -1;
                }
                if (pos + 1 < len && spec[pos] == '.' && spec[pos + 1] >= '0' &&
                    spec[pos + 1] <= '9')
                        pos++;
                else
                        break;
        }
        return (int)pos;
}

int imap_section_parse_spec(struct pool *pool, const char *spec, size_t len,
                            struct imap_section *sec, const char **error_r)
{
        if (len > IMAP_SECTION_MAX_PARTS * 11 + 32) {
                *error_r = "section spec too long";
                return -1;
        }
        int used = parse_part_numbers(spec, len, error_r);
        if (used < 0)
                return -1;
        size_t pos = (size_t)used;
        sec->part = pool_strndup(pool, spec, pos);
        sec->text = IMAP_SECTION_ALL;
        sec->fields = NULL;
        sec->field_count = 0;
        if (pos == len)
                return 0;
        if (pos > 0 && spec[pos++] != '.') {
                *error_r = "bad section part number";
                return -1;
        }
        for (size_t i = 0; i < N_ELEMENTS(section_texts); i++) {
                const char *name = section_texts[i].name;
                if (strlen(name) == len - pos && strncasecmp(spec + pos, name, len - pos) == 0) {
                        sec->text = section_texts[i].text;
                        if (sec->text == IMAP_SECTION_MIME && pos == 0) {
                                *error_r = "MIME needs a section part number";
                                return -1;
                        }
                        return 0;
                }
        }
        *error_r = "unknown section text";
        return -1;
}

static bool valid_field_name(const char *name)
{
        size_t len = strlen(name);

        if (len == 0 || len > IMAP_SECTION_MAX_FIELD)
                return false;
        /* RFC 5322 §3.6.8 ftext: printable ASCII except ':'. */
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)name[i];
                if (c <= 0x20 || c >= 0x7f || c == ':')
                        return false;
        }
        return true;
}

int imap_section_set_fields(struct pool *pool, struct imap_section *sec,
                            const char *const *names, unsigned count,
                            const char **error_r)
{
        if (count == 0) {
                *error_r = "empty header field list";
                return -1;
        }
        const char **copy = pool_alloc(pool, sizeof(*copy) * (count + 1));
        for (unsigned i = 0; i < count; i++) {
                if (!valid_field_name(names[i])) {
                        *error_r = "bad header field name";
                        return -1;
                }
                copy[i] = pool_strdup(pool, names[i]);
        }
        sec->fields = copy;
        sec->field_count = count;
        return 0;
}

/* Reads one header field name of a HEADER.FIELDS list: an atom or a quoted
   string (RFC 3501 header-fld-name = astring; literals cannot occur inside
   the one atom the tokenizer hands over). Returns bytes used, 0 on error. */
static size_t parse_field_name(struct pool *pool, const char *s, size_t len,
                               const char **name_r)
{
        size_t i = 0;

        if (len > 0 && s[0] == '"') {
                char *out = pool_alloc(pool, len);
                size_t n = 0;
                for (i = 1; i < len && s[i] != '"'; i++) {
                        if (s[i] == '\\' && i + 1 < len)
                                i++;
                        out[n++] = s[i];
                }
                if (i >= len)
                        return 0;
                *name_r = out;
                return i + 1;
        }
        while (i < len && s[i] != ' ' && s[i] != ')' && s[i] != '(' && s[i] != '"')
                i++;
        *name_r = pool_strndup(pool, s, i);
        return i;
}

/* "(name name ...)" at s; returns bytes used or 0. */
static size_t parse_field_list(struct pool *pool, const char *s, size_t len,
                               struct imap_section *sec, const char **error_r)
{
        const char **names = NULL;
        unsigned count = 0, cap = 0;
        size_t pos = 1;

        *error_r = "bad header field list";
        if (len == 0 || s[0] != '(')
                return 0;
        while (pos < len && s[pos] != ')') {
                if (count > 0 && s[pos++] != ' ')
                        return 0;
                const char *name;
                size_t used = parse_field_name(pool, s + pos, len - pos, &name);
                if (used == 0)
                        return 0;
                pos += used;
                if (count == cap) {
                        unsigned ncap = cap == 0 ? 8 : cap * 2;
                        names = pool_realloc(pool, names, sizeof(*names) * cap,
                                             sizeof(*names) * ncap);
                        cap = ncap;
                }
                names[count++] = name;
        }
        if (pos >= len)
                return 0;
        if (imap_section_set_fields(pool, sec, names, count, error_r) < 0)
                return 0;
        return pos + 1;
}

int imap_section_parse(struct pool *pool, const char *str, size_t len,
                       struct imap_section *sec, const char **error_r)
{
        size_t spec_end = 1;

        sec->partial = false;
        if (len == 0 || str[0] != '[') {
                *error_r = "expected [section]";
                return -1;
        }
        while (spec_end < len && str[spec_end] != ']' && str[spec_end] != ' ')
                spec_end++;
        if (spec_end >= len) {
                *error_r = "missing ] after section";
                return -1;
        }
        if (imap_section_parse_spec(pool, str + 1, spec_end - 1, sec, error_r) < 0)
                return -1;
        size_t pos = spec_end;
        bool wants_fields = sec->text == IMAP_SECTION_HEADER_FIELDS ||
                            sec->text == IMAP_SECTION_HEADER_FIELDS_NOT;
        if (wants_fields != (str[pos] == ' ')) {
                *error_r = wants_fields ? "HEADER.FIELDS needs a field list" :
                                          "unexpected text in section";
                return -1;
        }
        if (wants_fields) {
                size_t used = parse_field_list(pool, str + pos + 1, len - pos - 1, sec,
                                               error_r);
                if (used == 0)
                        return -1;
                pos += 1 + used;
        }
        if (pos >= len || str[pos] != ']') {
                *error_r = "missing ] after section";
                return -1;
        }
        pos++;
        if (pos == len)
                return 0;
        return imap_section_parse_partial(str + pos, len - pos, sec, error_r);
}

static bool parse_u32(const char *s, size_t len, uint32_t *value_r)
{
        uint64_t v;

        if (len == 0 || len > 10 || !str_to_u64_n(s, len, &v) || v > UINT32_MAX)
                return false;
        *value_r = (uint32_t)v;
        return true;
}

int imap_section_parse_partial(const char *str, size_t len, struct imap_section *sec,
                               const char **error_r)
{
        const char *dot = len >= 2 ? memchr(str, '.', len) : NULL;

        *error_r = "bad partial: expected <origin.count>";
        if (dot == NULL || str[0] != '<' || str[len - 1] != '>')
                return -1;
        /* UNSAFE: str < dot < str + len - 1 because '<' and '>' are not '.'. */
        size_t origin_len = (size_t)(dot - str) - 1;
        size_t count_len = len - origin_len - 3;
        uint32_t origin, count;
        if (!parse_u32(str + 1, origin_len, &origin) ||
            !parse_u32(dot + 1, count_len, &count))
                return -1;
        if (count == 0) {
                *error_r = "bad partial: count must not be zero";
                return -1;
        }
        sec->partial = true;
        sec->origin = origin;
        sec->count = count;
        return 0;
}

void imap_section_append_name(struct buf *out, const struct imap_section *sec)
{
        buf_append_char(out, '[');
        buf_append_str(out, sec->part);
        if (sec->text != IMAP_SECTION_ALL) {
                if (sec->part[0] != '\0')
                        buf_append_char(out, '.');
                buf_append_str(out, section_text_name(sec->text));
        }
        if (sec->text == IMAP_SECTION_HEADER_FIELDS ||
            sec->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
                buf_append_str(out, " (");
                for (unsigned i = 0; i < sec->field_count; i++) {
                        if (i > 0)
                                buf_append_char(out, ' ');
                        imap_fetch_append_astring(out, sec->fields[i]);
                }
                buf_append_char(out, ')');
        }
        buf_append_char(out, ']');
        if (sec->partial)
                buf_printf(out, "<%u>", sec->origin);
}

static void set_range(struct imap_section_range *range, enum imap_section_kind kind,
                      uint64_t offset, uint64_t size)
{
        range->kind = kind;
        range->offset = offset;
        range->size = size;
}

/* The header / text / fields of a message root. */
static void resolve_message(const struct mime_part *msg, enum imap_section_text text,
                            struct imap_section_range *range_r)
{
        switch (text) {
        case IMAP_SECTION_ALL:
                set_range(range_r, IMAP_SECTION_RANGE, msg->header_offset,
                          msg->header_size + msg->body_size);
                break;
        case IMAP_SECTION_HEADER:
        case IMAP_SECTION_MIME:
                set_range(range_r, IMAP_SECTION_RANGE, msg->header_offset, msg->header_size);
                break;
        case IMAP_SECTION_HEADER_FIELDS:
        case IMAP_SECTION_HEADER_FIELDS_NOT:
                set_range(range_r, IMAP_SECTION_FILTER, msg->header_offset, msg->header_size);
                break;
        case IMAP_SECTION_TEXT:
                set_range(range_r, IMAP_SECTION_RANGE, msg->body_offset, msg->body_size);
                break;
        }
}

void imap_section_resolve(const struct mime_part *root, const struct imap_section *sec,
                          struct imap_section_range *range_r)
{
        const struct mime_part *part;

        set_range(range_r, IMAP_SECTION_EMPTY, 0, 0);
        if (sec->part[0] == '\0') {
                resolve_message(root, sec->text, range_r);
                return;
        }
        if (!mime_part_find_section(root, sec->part, &part))
                return;
        switch (sec->text) {
        case IMAP_SECTION_ALL:
                set_range(range_r, IMAP_SECTION_RANGE, part->body_offset, part->body_size);
                break;
        case IMAP_SECTION_MIME:
                set_range(range_r, IMAP_SECTION_RANGE, part->header_offset, part->header_size);
                break;
        default:
                /* RFC 3501 §6.4.5: after a part number, HEADER, HEADER.FIELDS
                   and TEXT need a message/rfc822 part; they then name the
                   encapsulated message's header and body. */
                if (part->children != NULL && part->children->envelope != NULL &&
                    strcasecmp(part->type, "message") == 0)
                        resolve_message(part->children, sec->text, range_r);
                break;
        }
}

void imap_section_clip(const struct imap_section *sec, uint64_t total,
                       uint64_t *skip_r, uint64_t *len_r)
{
        *skip_r = 0;
        *len_r = total;
        if (!sec->partial)
                return;
        if (sec->origin >= total) {
                *skip_r = total;
                *len_r = 0;
                return;
        }
        *skip_r = sec->origin;
        *len_r = total - sec->origin < sec->count ? total - sec->origin : sec->count;
}

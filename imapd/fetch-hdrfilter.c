/* fetch-hdrfilter.c - the streaming HEADER.FIELDS[.NOT] filter (see fetch.h).
 *
 * Owns: a byte-at-a-time state machine over header bytes that decides field
 * by field what to pass on, holding at most one field name. Refuses: knowing
 * where the header is (fetch-section.c) and where the bytes go (the sink).
 */
#include "fetch.h"

#include <string.h>
#include <strings.h>

#include "pool.h"

/* Whitespace allowed between a field name and its colon (RFC 5322 §4.5.1
   obsolete syntax); more than this and the line is not taken as a field. */
#define MAX_NAME_WSP 32u

enum hf_state {
        HF_LINE_START,  /* at the first byte of a line */
        HF_CR,          /* a line began with CR: the blank line, or not a field */
        HF_NAME,        /* reading a field name into name[] */
        HF_VALUE,       /* inside a field's value or continuation line */
        HF_SKIP,        /* inside a line that is not a field: drop to LF */
        HF_DONE,        /* after the blank line */
};

struct imap_hdrfilter {
        const char *const *names;
        unsigned count;
        bool exclude;
        imap_hdrfilter_emit_fn *emit;
        void *context;

        enum hf_state state;
        bool keep;              /* the current field is passed on */
        size_t name_len;        /* bytes in name[], trailing whitespace included */
        size_t name_end;        /* name length without trailing whitespace */
        char name[IMAP_SECTION_MAX_FIELD + MAX_NAME_WSP + 1];
};

struct imap_hdrfilter *imap_hdrfilter_create(struct pool *pool, const char *const *names,
                                             unsigned count, bool exclude,
                                             imap_hdrfilter_emit_fn *emit, void *context)
{
        struct imap_hdrfilter *f = pool_alloc(pool, sizeof(*f));

        f->names = names;
        f->count = count;
        f->exclude = exclude;
        f->emit = emit;
        f->context = context;
        imap_hdrfilter_reset(f);
        return f;
}

void imap_hdrfilter_reset(struct imap_hdrfilter *f)
{
        f->state = HF_LINE_START;
        f->keep = false;
        f->name_len = 0;
        f->name_end = 0;
}

static bool name_listed(const struct imap_hdrfilter *f)
{
        for (unsigned i = 0; i < f->count; i++) {
                if (strlen(f->names[i]) == f->name_end &&
                    strncasecmp(f->names[i], f->name, f->name_end) == 0)
                        return true;
        }
        return false;
}

static void skip_line(struct imap_hdrfilter *f)
{
        f->keep = false;
        f->state = HF_SKIP;
}

/* One byte of a field name (HF_NAME); returns whether it was consumed. */
static bool name_byte(struct imap_hdrfilter *f, unsigned char c)
{
        if (c == ':' && f->name_end == 0) {
                skip_line(f);
                return false;
        }
        if (c == ':') {
                f->keep = name_listed(f) != f->exclude;
                if (f->keep) {
                        f->name[f->name_len] = ':';
                        f->emit(f->context, f->name, f->name_len + 1);
                }
                f->state = HF_VALUE;
                return true;
        }
        if (c == '\n') {
                /* A line without a colon is not a field. */
                f->keep = false;
                f->state = HF_LINE_START;
                return true;
        }
        bool wsp = c == ' ' || c == '\t';
        bool name_char = c > 0x20 && c < 0x7f && f->name_len == f->name_end;
        if (!wsp && !name_char) {
                skip_line(f);
                return false;
        }
        if ((name_char && f->name_len >= IMAP_SECTION_MAX_FIELD) ||
            (wsp && f->name_len - f->name_end >= MAX_NAME_WSP)) {
                skip_line(f);
                return false;
        }
        f->name[f->name_len++] = (char)c;
        if (name_char)
                f->name_end = f->name_len;
        return true;
}

/* One byte at the start of a line (HF_LINE_START / HF_CR); returns whether
   it was consumed. */
static bool line_start_byte(struct imap_hdrfilter *f, unsigned char c)
{
        if (f->state == HF_CR) {
                if (c != '\n') {
                        skip_line(f);
                        return false;
                }
                f->emit(f->context, "\r\n", 2);
                f->state = HF_DONE;
                return true;
        }
        switch (c) {
        case '\n':
                f->emit(f->context, "\n", 1);
                f->state = HF_DONE;
                return true;
        case '\r':
                f->state = HF_CR;
                return true;
        case ' ':
        case '\t':
                /* A continuation line belongs to the field before it. */
                f->state = HF_VALUE;
                return false;
        default:
                f->name_len = 0;
                f->name_end = 0;
                f->state = HF_NAME;
                return false;
        }
}

void imap_hdrfilter_feed(struct imap_hdrfilter *f, const void *data, size_t len)
{
        const unsigned char *p = data;
        size_t i = 0;

        while (i < len && f->state != HF_DONE) {
                if (f->state == HF_VALUE || f->state == HF_SKIP) {
                        const unsigned char *lf = memchr(p + i, '\n', len - i);
                        /* UNSAFE: lf, when found, lies in p[i, len). */
                        size_t end = lf != NULL ? (size_t)(lf - p) + 1 : len;
                        if (f->state == HF_VALUE && f->keep)
                                f->emit(f->context, p + i, end - i);
                        i = end;
                        if (lf != NULL) {
                                if (f->state == HF_SKIP)
                                        f->keep = false;
                                f->state = HF_LINE_START;
                        }
                } else if (f->state == HF_NAME) {
                        if (name_byte(f, p[i]))
                                i++;
                } else if (line_start_byte(f, p[i])) {
                        i++;
                }
        }
}

/* fetch-items.c - the FETCH attribute list (RFC 3501 §6.4.5 fetch-att,
 * RFC 3516 BINARY) as a table of items.
 *
 * Owns: macros (ALL, FAST, FULL), item names, the section atoms
 * BODY[...]<...>, BODY.PEEK, BINARY[.PEEK|.SIZE], and what each item needs
 * (\Seen, the cached structure). Refuses: tokenizing (parser.c made the
 * argument tree) and producing replies (cmd-fetch.c).
 */
#include "fetch.h"

#include <string.h>
#include <strings.h>

#include "log.h"
#include "parser.h"
#include "pool.h"

/* Items without a section; RFC822* are sections with their own label. */
static const struct {
        const char *name;
        enum imap_fetch_kind kind;
        bool tree;
        enum imap_section_text text;    /* RFC822*: the section they stand for */
        bool peek;
} simple_items[] = {
        { .name = "UID", .kind = IMAP_FETCH_UID },
        { .name = "FLAGS", .kind = IMAP_FETCH_FLAGS },
        { .name = "INTERNALDATE", .kind = IMAP_FETCH_INTERNALDATE },
        { .name = "RFC822.SIZE", .kind = IMAP_FETCH_RFC822_SIZE },
        { .name = "ENVELOPE", .kind = IMAP_FETCH_ENVELOPE, .tree = true },
        { .name = "BODY", .kind = IMAP_FETCH_BODY, .tree = true },
        { .name = "BODYSTRUCTURE", .kind = IMAP_FETCH_BODYSTRUCTURE, .tree = true },
        /* RFC 3501 §6.4.5: RFC822 = BODY[], RFC822.HEADER = BODY.PEEK[HEADER],
           RFC822.TEXT = BODY[TEXT], each under its own name. */
        { .name = "RFC822", .kind = IMAP_FETCH_SECTION, .text = IMAP_SECTION_ALL },
        { .name = "RFC822.HEADER", .kind = IMAP_FETCH_SECTION, .tree = true,
          .text = IMAP_SECTION_HEADER, .peek = true },
        { .name = "RFC822.TEXT", .kind = IMAP_FETCH_SECTION, .tree = true,
          .text = IMAP_SECTION_TEXT },
};

/* label: the name in the reply, where .PEEK is dropped (RFC 3501 §7.4.2). */
static const struct {
        const char *name, *label;
        enum imap_fetch_kind kind;
        bool peek;
} section_items[] = {
        { .name = "BODY", .label = "BODY", .kind = IMAP_FETCH_SECTION },
        { .name = "BODY.PEEK", .label = "BODY", .kind = IMAP_FETCH_SECTION, .peek = true },
        { .name = "BINARY", .label = "BINARY", .kind = IMAP_FETCH_BINARY },
        { .name = "BINARY.PEEK", .label = "BINARY", .kind = IMAP_FETCH_BINARY, .peek = true },
        { .name = "BINARY.SIZE", .label = "BINARY.SIZE", .kind = IMAP_FETCH_BINARY_SIZE,
          .peek = true },
};

static struct imap_fetch_item *add_item(struct pool *pool, struct imap_fetch_request *req,
                                        enum imap_fetch_kind kind, const char **error_r)
{
        if (req->count >= IMAP_FETCH_MAX_ITEMS) {
                *error_r = "Too many FETCH items";
                return NULL;
        }
        if (req->count % 16 == 0)
                req->items = pool_realloc(pool, req->items, sizeof(*req->items) * req->count,
                                          sizeof(*req->items) * (req->count + 16));
        struct imap_fetch_item *item = &req->items[req->count++];
        memset(item, 0, sizeof(*item));
        item->kind = kind;
        item->section.part = "";
        return item;
}

static int parse_simple(struct pool *pool, const char *name, struct imap_fetch_request *req,
                        bool *found_r, const char **error_r)
{
        *found_r = false;
        for (size_t i = 0; i < N_ELEMENTS(simple_items); i++) {
                if (strcasecmp(name, simple_items[i].name) != 0)
                        continue;
                struct imap_fetch_item *item = add_item(pool, req, simple_items[i].kind,
                                                        error_r);
                if (item == NULL)
                        return -1;
                item->label = simple_items[i].name;
                item->section.text = simple_items[i].text;
                item->peek = simple_items[i].peek;
                req->needs_tree |= simple_items[i].tree;
                req->sets_seen |= item->kind == IMAP_FETCH_SECTION && !item->peek;
                *found_r = true;
                return 0;
        }
        return 0;
}

/* BINARY takes a part number only (RFC 3516 §6.2 section-binary). */
static bool binary_section_ok(const struct imap_section *sec)
{
        return sec->text == IMAP_SECTION_ALL;
}

static int parse_section_item(struct pool *pool, const char *atom, size_t len,
                              struct imap_fetch_request *req, const char **error_r)
{
        const char *bracket = memchr(atom, '[', len);
        if (bracket == NULL) {
                *error_r = "Unknown FETCH item";
                return -1;
        }
        size_t name_len = (size_t)(bracket - atom);
        for (size_t i = 0; i < N_ELEMENTS(section_items); i++) {
                const char *name = section_items[i].name;
                if (strlen(name) != name_len || strncasecmp(atom, name, name_len) != 0)
                        continue;
                struct imap_fetch_item *item = add_item(pool, req, section_items[i].kind,
                                                        error_r);
                if (item == NULL ||
                    imap_section_parse(pool, bracket, len - name_len, &item->section,
                                       error_r) < 0)
                        return -1;
                item->label = section_items[i].label;
                item->with_section = true;
                item->peek = section_items[i].peek;
                if (item->kind != IMAP_FETCH_SECTION && !binary_section_ok(&item->section)) {
                        *error_r = "BINARY takes a part number only";
                        return -1;
                }
                if (item->kind == IMAP_FETCH_BINARY_SIZE && item->section.partial) {
                        *error_r = "BINARY.SIZE takes no partial";
                        return -1;
                }
                req->needs_tree |= item->section.part[0] != '\0' ||
                                   item->section.text != IMAP_SECTION_ALL;
                req->sets_seen |= !item->peek;
                return 0;
        }
        *error_r = "Unknown FETCH item";
        return -1;
}

static int parse_item(struct pool *pool, const struct imap_arg *arg,
                      struct imap_fetch_request *req, const char **error_r)
{
        bool found;

        if (arg->type != IMAP_ARG_ATOM) {
                *error_r = "FETCH items must be atoms";
                return -1;
        }
        if (parse_simple(pool, arg->str, req, &found, error_r) < 0)
                return -1;
        if (found)
                return 0;
        return parse_section_item(pool, arg->str, arg->len, req, error_r);
}

/* RFC 3501 §6.4.5 macros; they stand alone, never inside a list. */
static const char *const macro_all[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE",
                                         "ENVELOPE", NULL };
static const char *const macro_fast[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL };
static const char *const macro_full[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE",
                                          "ENVELOPE", "BODY", NULL };

static const char *const *find_macro(const struct imap_arg *arg)
{
        if (arg->type != IMAP_ARG_ATOM)
                return NULL;
        if (strcasecmp(arg->str, "ALL") == 0)
                return macro_all;
        if (strcasecmp(arg->str, "FAST") == 0)
                return macro_fast;
        if (strcasecmp(arg->str, "FULL") == 0)
                return macro_full;
        return NULL;
}

int imap_fetch_parse_items(struct pool *pool, const struct imap_arg *arg, bool uid_fetch,
                           struct imap_fetch_request *req, const char **error_r)
{
        const char *const *macro = find_macro(arg);
        bool found;

        memset(req, 0, sizeof(*req));
        if (uid_fetch && parse_simple(pool, "UID", req, &found, error_r) < 0)
                return -1;
        if (macro != NULL) {
                for (; *macro != NULL; macro++) {
                        if (parse_simple(pool, *macro, req, &found, error_r) < 0)
                                return -1;
                }
        } else if (arg->type == IMAP_ARG_LIST) {
                if (arg->list_count == 0) {
                        *error_r = "Empty FETCH item list";
                        return -1;
                }
                for (size_t i = 0; i < arg->list_count; i++) {
                        if (parse_item(pool, &arg->list[i], req, error_r) < 0)
                                return -1;
                }
        } else if (parse_item(pool, arg, req, error_r) < 0) {
                return -1;
        }
        /* UID FETCH answered UID already; drop a requested duplicate. */
        if (uid_fetch) {
                unsigned out = 1;
                for (unsigned i = 1; i < req->count; i++) {
                        if (req->items[i].kind != IMAP_FETCH_UID)
                                req->items[out++] = req->items[i];
                }
                req->count = out;
        }
        return 0;
}

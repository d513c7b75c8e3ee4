/* conf.c - the INI configuration loader (see conf.h; keys in docs/config.md).
 *
 * Owns: reading the file, the INI syntax (sections, key = value, comments,
 * quotes), one key table per section, the value types and their ranges,
 * defaults, and the one-line error messages. Does not: load plugins, bind
 * addresses or read certificates; the modules that do check what only they can.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf-private.h"
#include "log.h"
#include "pool.h"

#ifndef COVE_PLUGIN_INSTALL_DIR
#error "COVE_PLUGIN_INSTALL_DIR must be defined (core/conf.cmake)"
#endif

#define CONF_MAX_FILE (1024 * 1024)     /* bytes in a config file */
#define CONF_MAX_LINE 4096              /* bytes in a line, without the newline */
#define CONF_MAX_ENGINE_OPTIONS 256
#define CONF_MAX_ADDRS 64               /* addresses in one list */
#define CONF_MAX_KEYS 12                /* keys in one section table */
#define CONF_ECHO_MAX 64                /* bytes of a bad value quoted in an error */

enum conf_type {
        CONF_TYPE_STRING,       /* const char *, never empty */
        CONF_TYPE_BOOL,         /* bool */
        CONF_TYPE_UINT,         /* unsigned, in [min, max] */
        CONF_TYPE_SIZE,         /* size_t bytes, suffix k/M/G, in [min, max] */
        CONF_TYPE_DURATION,     /* unsigned seconds, suffix s/m/h, in [min, max] */
        CONF_TYPE_ADDRS,        /* struct conf_addr_list */
};

enum conf_key_flags {
        CONF_KEY_REQUIRED = 1 << 0,      /* missing: error */
        CONF_KEY_ENGINE_OPTION = 1 << 1, /* [store]: also passed to the engine */
};

/* Extra check of a string value; sets a static *reason_r on failure. */
typedef int (*conf_check_fn)(const char *value, const char **reason_r);

struct conf_key {
        const char *name;
        enum conf_type type;
        size_t offset;          /* of the field in struct cove_conf */
        const char *def;        /* default, in file syntax; NULL: none */
        const char *def_from;   /* "section.key" whose final value is the default */
        uint64_t min, max;      /* range of the numeric types */
        conf_check_fn check;
        unsigned flags;
};

struct conf_section {
        const char *name;
        const struct conf_key *keys;
        size_t key_count;
        bool engine_options;    /* unknown keys are engine options, not errors */
};

static int check_engine_name(const char *value, const char **reason_r);
static int check_log_level(const char *value, const char **reason_r);
static int check_store_flush(const char *value, const char **reason_r);
static int check_tls_version(const char *value, const char **reason_r);
static int check_pop3_expire(const char *value, const char **reason_r);
static int check_imap_delimiter(const char *value, const char **reason_r);
static int check_recipient_delimiter(const char *value, const char **reason_r);

#define CONF_FIELD(member) offsetof(struct cove_conf, member)

/* ---- the key tables ---------------------------------------------------- */

static const struct conf_key store_keys[] = {
        { .name = "engine", .type = CONF_TYPE_STRING, .offset = CONF_FIELD(store.engine),
          .check = check_engine_name, .flags = CONF_KEY_REQUIRED },
        { .name = "plugin_dir", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(store.plugin_dir), .def = COVE_PLUGIN_INSTALL_DIR },
        { .name = "path", .type = CONF_TYPE_STRING, .offset = CONF_FIELD(store.path),
          .flags = CONF_KEY_ENGINE_OPTION },
        { .name = "flush", .type = CONF_TYPE_STRING, .offset = CONF_FIELD(store.flush),
          .def = "commit", .check = check_store_flush },
};

static const struct conf_key server_keys[] = {
        { .name = "user", .type = CONF_TYPE_STRING, .offset = CONF_FIELD(server.user) },
        { .name = "workers", .type = CONF_TYPE_UINT, .offset = CONF_FIELD(server.workers),
          .def = "0", .min = 0, .max = 1024 },
        { .name = "log_level", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(server.log_level), .def = "info", .check = check_log_level },
        { .name = "state_dir", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(server.state_dir), .def_from = "store.path" },
        { .name = "allow_plaintext_auth", .type = CONF_TYPE_BOOL,
          .offset = CONF_FIELD(server.allow_plaintext_auth), .def = "no" },
        { .name = "default_domain", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(server.default_domain) },
        { .name = "max_connections_per_ip", .type = CONF_TYPE_UINT,
          .offset = CONF_FIELD(server.max_connections_per_ip), .def = "50",
          .min = 0, .max = 100000 },
};

static const struct conf_key tls_keys[] = {
        { .name = "cert", .type = CONF_TYPE_STRING, .offset = CONF_FIELD(tls.cert) },
        { .name = "key", .type = CONF_TYPE_STRING, .offset = CONF_FIELD(tls.key) },
        { .name = "min_version", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(tls.min_version), .def = "TLSv1.2",
          .check = check_tls_version },
};

/* Inactivity timeouts: RFC 9051 §5.4 (IMAP autologout at least 30 minutes),
   RFC 1939 §3 (POP3 at least 10 minutes), RFC 5321 §4.5.3.2 (5 minutes). */
static const struct conf_key imap_keys[] = {
        { .name = "listen", .type = CONF_TYPE_ADDRS, .offset = CONF_FIELD(imap.listen) },
        { .name = "listen_tls", .type = CONF_TYPE_ADDRS, .offset = CONF_FIELD(imap.listen_tls) },
        { .name = "timeout", .type = CONF_TYPE_DURATION, .offset = CONF_FIELD(imap.timeout_secs),
          .def = "30m", .min = 1800, .max = 86400 },
        { .name = "max_line", .type = CONF_TYPE_SIZE, .offset = CONF_FIELD(imap.max_line),
          .def = "64k", .min = 8 * CONF_KIB, .max = 16 * CONF_MIB },
        { .name = "hierarchy_delimiter", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(imap_ext.hierarchy_delimiter), .def = "/",
          .check = check_imap_delimiter },
};

static const struct conf_key pop3_keys[] = {
        { .name = "listen", .type = CONF_TYPE_ADDRS, .offset = CONF_FIELD(pop3.listen) },
        { .name = "listen_tls", .type = CONF_TYPE_ADDRS, .offset = CONF_FIELD(pop3.listen_tls) },
        { .name = "timeout", .type = CONF_TYPE_DURATION, .offset = CONF_FIELD(pop3.timeout_secs),
          .def = "10m", .min = 600, .max = 86400 },
        { .name = "max_line", .type = CONF_TYPE_SIZE, .offset = CONF_FIELD(pop3.max_line),
          .def = "512", .min = 512, .max = 64 * CONF_KIB },
        { .name = "enable_last", .type = CONF_TYPE_BOOL,
          .offset = CONF_FIELD(pop3_opts.enable_last), .def = "no" },
        { .name = "login_delay", .type = CONF_TYPE_DURATION,
          .offset = CONF_FIELD(pop3_opts.login_delay_secs), .def = "0", .min = 0, .max = 86400 },
        { .name = "expire", .type = CONF_TYPE_STRING, .offset = CONF_FIELD(pop3_opts.expire),
          .check = check_pop3_expire },
        { .name = "max_bad_commands", .type = CONF_TYPE_UINT,
          .offset = CONF_FIELD(pop3_opts.max_bad_commands), .def = "10", .min = 1, .max = 1000 },
        { .name = "apop", .type = CONF_TYPE_BOOL, .offset = CONF_FIELD(pop3_opts.apop),
          .def = "no" },
};

static const struct conf_key lmtp_keys[] = {
        { .name = "listen", .type = CONF_TYPE_ADDRS, .offset = CONF_FIELD(lmtp.listen) },
        { .name = "listen_tls", .type = CONF_TYPE_ADDRS, .offset = CONF_FIELD(lmtp.listen_tls) },
        { .name = "timeout", .type = CONF_TYPE_DURATION, .offset = CONF_FIELD(lmtp.timeout_secs),
          .def = "5m", .min = 10, .max = 86400 },
        { .name = "max_line", .type = CONF_TYPE_SIZE, .offset = CONF_FIELD(lmtp.max_line),
          .def = "4k", .min = 1000, .max = CONF_MIB },
        { .name = "quota_temporary", .type = CONF_TYPE_BOOL,
          .offset = CONF_FIELD(lmtp_delivery.quota_temporary), .def = "no" },
        { .name = "plus_addressing", .type = CONF_TYPE_BOOL,
          .offset = CONF_FIELD(lmtp_delivery.plus_addressing), .def = "yes" },
        { .name = "recipient_delimiter", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(lmtp_delivery.recipient_delimiter), .def = "+",
          .check = check_recipient_delimiter },
        { .name = "max_recipients", .type = CONF_TYPE_UINT,
          .offset = CONF_FIELD(lmtp_delivery.max_recipients), .def = "1000",
          .min = 1, .max = 100000 },
        { .name = "spool_dir", .type = CONF_TYPE_STRING,
          .offset = CONF_FIELD(lmtp_delivery.spool_dir) },
        { .name = "spool_memory", .type = CONF_TYPE_SIZE,
          .offset = CONF_FIELD(lmtp_delivery.spool_memory), .def = "1M",
          .min = 0, .max = CONF_GIB },
};

static const struct conf_key limits_keys[] = {
        { .name = "max_message_size", .type = CONF_TYPE_SIZE,
          .offset = CONF_FIELD(limits.max_message_size), .def = "50M",
          .min = CONF_KIB, .max = CONF_GIB },
        { .name = "max_literal", .type = CONF_TYPE_SIZE, .offset = CONF_FIELD(limits.max_literal),
          .def_from = "limits.max_message_size", .min = CONF_KIB, .max = CONF_GIB },
};

#define CONF_SECTION(sname, table) \
        { .name = sname, .keys = table, .key_count = N_ELEMENTS(table) }

static const struct conf_section sections[] = {
        { .name = "store", .keys = store_keys, .key_count = N_ELEMENTS(store_keys),
          .engine_options = true },
        CONF_SECTION("server", server_keys),
        CONF_SECTION("tls", tls_keys),
        CONF_SECTION("imap", imap_keys),
        CONF_SECTION("pop3", pop3_keys),
        CONF_SECTION("lmtp", lmtp_keys),
        CONF_SECTION("limits", limits_keys),
};

_Static_assert(N_ELEMENTS(store_keys) <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");
_Static_assert(N_ELEMENTS(server_keys) <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");
_Static_assert(N_ELEMENTS(tls_keys) <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");
_Static_assert(N_ELEMENTS(imap_keys) <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");
_Static_assert(N_ELEMENTS(pop3_keys) <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");
_Static_assert(N_ELEMENTS(lmtp_keys) <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");
_Static_assert(N_ELEMENTS(limits_keys) <= CONF_MAX_KEYS, "raise CONF_MAX_KEYS");

#define CONF_SECTION_COUNT N_ELEMENTS(sections)

struct conf_lines {
        unsigned line[CONF_SECTION_COUNT][CONF_MAX_KEYS];  /* 0: not set */
};

/* ---- parser state ------------------------------------------------------ */

struct conf_parser {
        struct pool *pool;
        struct cove_conf *conf;
        struct conf_lines *lines;
        const char *name;                       /* file name for messages */
        unsigned line;                          /* current line number */
        const struct conf_section *section;     /* NULL before the first header */
        struct conf_option *options;            /* [store] engine options */
        size_t option_count, option_cap;
        const char *error;
};

static int conf_fail(struct conf_parser *p, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int conf_fail(struct conf_parser *p, const char *key, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        const char *reason = pool_vprintf(p->pool, fmt, ap);
        va_end(ap);
        const char *sec = p->section == NULL ? "" :
                pool_printf(p->pool, "[%s]%s ", p->section->name, key == NULL ? ":" : "");
        p->error = pool_printf(p->pool, "%s:%u: %s%s%s%s", p->name, p->line, sec,
                               key == NULL ? "" : key, key == NULL ? "" : ": ", reason);
        return -1;
}

/* A bad value quoted for an error message: at most CONF_ECHO_MAX bytes. */
static const char *conf_echo(struct pool *pool, const char *value)
{
        size_t len = strlen(value);
        if (len <= CONF_ECHO_MAX)
                return pool_printf(pool, "'%s'", value);
        return pool_printf(pool, "'%.*s...'", CONF_ECHO_MAX, value);
}

static size_t section_index(const struct conf_section *section)
{
        return (size_t)(section - sections);
}

static const struct conf_section *section_find(const char *name)
{
        for (size_t i = 0; i < CONF_SECTION_COUNT; i++) {
                if (strcmp(sections[i].name, name) == 0)
                        return &sections[i];
        }
        return NULL;
}

static const struct conf_key *key_find(const struct conf_section *section, const char *name)
{
        for (size_t i = 0; i < section->key_count; i++) {
                if (strcmp(section->keys[i].name, name) == 0)
                        return &section->keys[i];
        }
        return NULL;
}

/* ---- value checks and parsers ------------------------------------------ */

static int check_engine_name(const char *value, const char **reason_r)
{
        /* It becomes part of a file name: cove_store_<engine>.so */
        for (const char *c = value; *c != '\0'; c++) {
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
                        *reason_r = "engine names use only a-z, 0-9 and _";
                        return -1;
                }
        }
        return 0;
}

static int check_log_level(const char *value, const char **reason_r)
{
        enum log_level level;
        if (log_level_parse(value, &level))
                return 0;
        *reason_r = "expected error, warn, info or debug";
        return -1;
}

static int check_store_flush(const char *value, const char **reason_r)
{
        if (strcmp(value, "commit") == 0 || strcmp(value, "group") == 0)
                return 0;
        *reason_r = "expected commit or group";
        return -1;
}

static int check_tls_version(const char *value, const char **reason_r)
{
        if (strcmp(value, "TLSv1.2") == 0 || strcmp(value, "TLSv1.3") == 0)
                return 0;
        *reason_r = "expected TLSv1.2 or TLSv1.3";
        return -1;
}

/* [pop3] expire: the EXPIRE capability's value (RFC 2449 §6.7), "NEVER" or
   days 0..9999. It is a policy statement: Cove itself deletes nothing. */
static int check_pop3_expire(const char *value, const char **reason_r)
{
        size_t len = strlen(value);

        if (str_eq_nocase(value, "never"))
                return 0;
        if (len >= 1 && len <= 4 && strspn(value, "0123456789") == len)
                return 0;
        *reason_r = "expected NEVER or a number of days (0-9999)";
        return -1;
}

/* [imap] hierarchy_delimiter: the separator IMAP clients see ('/' is the
   store's own; '.' is what Courier/Cyrus-style clients expect). */
static int check_imap_delimiter(const char *value, const char **reason_r)
{
        if (strcmp(value, "/") == 0 || strcmp(value, ".") == 0)
                return 0;
        *reason_r = "expected / or .";
        return -1;
}

/* [lmtp] recipient_delimiter: one character that cannot be part of a domain
   and is legal in a local part (RFC 5322 atext), as MTAs use them. */
static int check_recipient_delimiter(const char *value, const char **reason_r)
{
        if (strlen(value) == 1 && strchr("+-_=#~", value[0]) != NULL)
                return 0;
        *reason_r = "expected one of + - _ = # ~";
        return -1;
}

static const char *range_text(struct pool *pool, const struct conf_key *key)
{
        switch (key->type) {
        case CONF_TYPE_SIZE:
                return pool_printf(pool, "%s-%s bytes", conf_value_format_size(pool, key->min),
                                   conf_value_format_size(pool, key->max));
        case CONF_TYPE_DURATION:
                return pool_printf(pool, "%llu-%llu seconds", (unsigned long long)key->min,
                                   (unsigned long long)key->max);
        default:
                return pool_printf(pool, "%llu-%llu", (unsigned long long)key->min,
                                   (unsigned long long)key->max);
        }
}

static int parse_addrs(struct conf_parser *p, const struct conf_key *key, char *value,
                       struct conf_addr_list *list_r)
{
        const char *addrs[CONF_MAX_ADDRS];
        size_t count = 0;
        char *next = value;
        while (next != NULL) {
                char *item = next;
                next = strchr(item, ',');
                if (next != NULL)
                        *next++ = '\0';
                str_trim(item);
                const char *reason;
                if (item[0] == '\0')
                        return conf_fail(p, key->name, "empty address in list");
                if (count == CONF_MAX_ADDRS)
                        return conf_fail(p, key->name, "more than %d addresses",
                                         CONF_MAX_ADDRS);
                if (conf_value_check_addr(item, &reason) < 0)
                        return conf_fail(p, key->name, "bad address %s: %s",
                                         conf_echo(p->pool, item), reason);
                addrs[count++] = pool_strdup(p->pool, item);
        }
        list_r->addrs = pool_memdup(p->pool, addrs, count * sizeof(addrs[0]));
        list_r->count = count;
        list_r->line = p->line;
        return 0;
}

/* Stores a numeric value after the range check. */
static int store_number(struct conf_parser *p, const struct conf_key *key, const char *value,
                        uint64_t n, void *field)
{
        if (n < key->min || n > key->max)
                return conf_fail(p, key->name, "bad value %s: out of range (%s)",
                                 conf_echo(p->pool, value), range_text(p->pool, key));
        if (key->type == CONF_TYPE_SIZE)
                *(size_t *)field = (size_t)n;
        else
                *(unsigned *)field = (unsigned)n;
        return 0;
}

/* Parses value (writable, NUL-terminated) by the key's type into its field. */
static int key_set(struct conf_parser *p, const struct conf_key *key, char *value)
{
        void *field = (char *)p->conf + key->offset;
        const char *reason = NULL;
        uint64_t n;

        switch (key->type) {
        case CONF_TYPE_STRING:
                if (value[0] == '\0')
                        return conf_fail(p, key->name, "empty value");
                if (key->check != NULL && key->check(value, &reason) < 0)
                        return conf_fail(p, key->name, "bad value %s: %s",
                                         conf_echo(p->pool, value), reason);
                *(const char **)field = pool_strdup(p->pool, value);
                return 0;
        case CONF_TYPE_BOOL:
                if (!conf_value_bool(value, (bool *)field))
                        return conf_fail(p, key->name, "bad value %s: expected "
                                         "yes/no/true/false/on/off/1/0",
                                         conf_echo(p->pool, value));
                return 0;
        case CONF_TYPE_UINT:
                if (!str_to_u64(value, &n))
                        return conf_fail(p, key->name, "bad value %s: expected a number",
                                         conf_echo(p->pool, value));
                return store_number(p, key, value, n, field);
        case CONF_TYPE_SIZE:
                if (!conf_value_size(value, &n))
                        return conf_fail(p, key->name, "bad value %s: expected a size "
                                         "such as 512, 64k, 50M or 1G",
                                         conf_echo(p->pool, value));
                return store_number(p, key, value, n, field);
        case CONF_TYPE_DURATION:
                if (!conf_value_duration(value, &n))
                        return conf_fail(p, key->name, "bad value %s: expected a duration "
                                         "such as 90, 90s, 30m or 2h",
                                         conf_echo(p->pool, value));
                return store_number(p, key, value, n, field);
        case CONF_TYPE_ADDRS:
                return parse_addrs(p, key, value, field);
        }
        return conf_fail(p, key->name, "internal error: unknown key type");
}

/* ---- lines --------------------------------------------------------------- */

static int add_engine_option(struct conf_parser *p, const char *key, const char *value)
{
        for (size_t i = 0; i < p->option_count; i++) {
                if (strcmp(p->options[i].key, key) == 0)
                        return conf_fail(p, key, "duplicate key (first set on line %u)",
                                         p->options[i].line);
        }
        if (p->option_count == CONF_MAX_ENGINE_OPTIONS)
                return conf_fail(p, key, "more than %d engine options",
                                 CONF_MAX_ENGINE_OPTIONS);
        if (p->option_count == p->option_cap) {
                size_t cap = p->option_cap == 0 ? 8 : p->option_cap * 2;
                p->options = pool_realloc(p->pool, p->options,
                                          p->option_cap * sizeof(*p->options),
                                          cap * sizeof(*p->options));
                p->option_cap = cap;
        }
        p->options[p->option_count++] = (struct conf_option){
                .key = pool_strdup(p->pool, key),
                .value = pool_strdup(p->pool, value),
                .line = p->line,
        };
        return 0;
}

static bool key_name_valid(const char *key)
{
        for (const char *c = key; *c != '\0'; c++) {
                bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                          (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.';
                if (!ok)
                        return false;
        }
        return key[0] != '\0';
}

/* Cuts the value out of the text after '=': trims it, strips one pair of
   double quotes, drops a trailing comment. Returns the value in place. */
static int value_split(struct conf_parser *p, const char *key, char *text, char **value_r,
                       bool *quoted_r)
{
        text += strspn(text, " \t");
        *quoted_r = text[0] == '"';
        if (*quoted_r) {
                char *close = strchr(text + 1, '"');
                if (close == NULL)
                        return conf_fail(p, key, "missing closing '\"'");
                *close = '\0';
                char *rest = close + 1 + strspn(close + 1, " \t");
                if (rest[0] != '\0' && rest[0] != '#')
                        return conf_fail(p, key, "unexpected text after closing '\"'");
                *value_r = text + 1;
                return 0;
        }
        /* '#' starts a comment at the start of the value or after a blank. */
        for (char *c = text; *c != '\0'; c++) {
                if (*c == '#' && (c == text || c[-1] == ' ' || c[-1] == '\t')) {
                        *c = '\0';
                        break;
                }
        }
        *value_r = str_trim(text);
        return 0;
}

static int parse_assignment(struct conf_parser *p, char *line)
{
        char *eq = strchr(line, '=');
        if (eq == NULL)
                return conf_fail(p, NULL, "expected 'key = value' or '[section]'");
        *eq = '\0';
        const char *key = str_trim(line);
        if (key[0] == '\0')
                return conf_fail(p, NULL, "missing key before '='");
        if (!key_name_valid(key))
                return conf_fail(p, NULL, "bad key name %s (use letters, digits, _ - .)",
                                 conf_echo(p->pool, key));
        if (p->section == NULL)
                return conf_fail(p, key, "key outside any section (add [store], [imap], "
                                 "... above it)");
        char *value = NULL;
        bool quoted;
        if (value_split(p, key, eq + 1, &value, &quoted) < 0)
                return -1;
        if (value[0] == '\0' && !quoted)
                return conf_fail(p, key, "empty value (remove the line to get the default)");

        const struct conf_key *k = key_find(p->section, key);
        if (k == NULL) {
                if (p->section->engine_options)
                        return add_engine_option(p, key, value);
                return conf_fail(p, key, "unknown key");
        }
        unsigned *seen = &p->lines->line[section_index(p->section)][k - p->section->keys];
        if (*seen != 0)
                return conf_fail(p, key, "duplicate key (first set on line %u)", *seen);
        *seen = p->line;
        if ((k->flags & CONF_KEY_ENGINE_OPTION) != 0 && add_engine_option(p, key, value) < 0)
                return -1;
        return key_set(p, k, value);
}

static int parse_section_header(struct conf_parser *p, char *line)
{
        char *close = strchr(line, ']');
        p->section = NULL;      /* errors on this line name no section */
        if (close == NULL)
                return conf_fail(p, NULL, "missing ']' in section header");
        const char *rest = close + 1 + strspn(close + 1, " \t");
        if (rest[0] != '\0' && rest[0] != '#' && rest[0] != ';')
                return conf_fail(p, NULL, "unexpected text after section header");
        *close = '\0';
        const char *name = str_trim(line + 1);
        p->section = section_find(name);
        if (p->section == NULL)
                return conf_fail(p, NULL, "[%s]: unknown section (expected store, server, "
                                 "tls, imap, pop3, lmtp or limits)", name);
        return 0;
}

/* One line, without its newline. len <= CONF_MAX_LINE was checked. */
static int parse_line(struct conf_parser *p, const char *data, size_t len)
{
        char line[CONF_MAX_LINE + 1];

        if (len > 0 && data[len - 1] == '\r')
                len--;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)data[i];
                if (c == '\0')
                        return conf_fail(p, NULL, "NUL byte in line");
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return conf_fail(p, NULL, "control character 0x%02x in line", c);
        }
        memcpy(line, data, len);        /* UNSAFE: len <= CONF_MAX_LINE, checked by caller */
        line[len] = '\0';
        char *start = line + strspn(line, " \t");
        if (start[0] == '\0' || start[0] == '#' || start[0] == ';')
                return 0;
        if (start[0] == '[')
                return parse_section_header(p, start);
        return parse_assignment(p, start);
}

static int parse_lines(struct conf_parser *p, const char *text, size_t len)
{
        size_t pos = 0;
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                pos = 3;        /* UTF-8 byte order mark */
        while (pos < len) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t line_len = nl == NULL ? len - pos : (size_t)(nl - (text + pos));
                p->line++;
                if (line_len > CONF_MAX_LINE &&
                    !(line_len == CONF_MAX_LINE + 1 && text[pos + line_len - 1] == '\r')) {
                        p->section = NULL;
                        return conf_fail(p, NULL, "line longer than %d bytes", CONF_MAX_LINE);
                }
                if (parse_line(p, text + pos, line_len) < 0)
                        return -1;
                pos += line_len + 1;
        }
        return 0;
}

/* ---- after the last line ----------------------------------------------- */

static size_t field_size(enum conf_type type)
{
        switch (type) {
        case CONF_TYPE_STRING: return sizeof(const char *);
        case CONF_TYPE_BOOL: return sizeof(bool);
        case CONF_TYPE_UINT: return sizeof(unsigned);
        case CONF_TYPE_SIZE: return sizeof(size_t);
        case CONF_TYPE_DURATION: return sizeof(unsigned);
        case CONF_TYPE_ADDRS: return sizeof(struct conf_addr_list);
        }
        return 0;
}

/* Looks up "section.key" in the tables; asserts it exists (tables are ours). */
static const struct conf_key *key_find_dotted(const char *dotted)
{
        const char *dot = strchr(dotted, '.');
        COVE_ASSERT(dot != NULL);
        for (size_t i = 0; i < CONF_SECTION_COUNT; i++) {
                size_t len = strlen(sections[i].name);
                if (len == (size_t)(dot - dotted) && strncmp(sections[i].name, dotted, len) == 0) {
                        const struct conf_key *k = key_find(&sections[i], dot + 1);
                        COVE_ASSERT(k != NULL);
                        return k;
                }
        }
        log_fatal("conf: no key %s in the tables", dotted);
}

/* Applies defaults to unset keys; "def_from" defaults in a second pass so they
   see the final value of their source key. */
static int apply_defaults(struct conf_parser *p, bool derived)
{
        for (size_t s = 0; s < CONF_SECTION_COUNT; s++) {
                const struct conf_section *sec = &sections[s];
                for (size_t i = 0; i < sec->key_count; i++) {
                        const struct conf_key *k = &sec->keys[i];
                        if (p->lines->line[s][i] != 0)
                                continue;
                        if (!derived && k->def != NULL) {
                                char value[CONF_MAX_LINE + 1];
                                snprintf(value, sizeof(value), "%s", k->def);
                                p->section = sec;
                                /* A default that fails its own key is a bug. */
                                COVE_ASSERT(key_set(p, k, value) == 0);
                        } else if (derived && k->def_from != NULL) {
                                const struct conf_key *src = key_find_dotted(k->def_from);
                                COVE_ASSERT(src->type == k->type);
                                memcpy((char *)p->conf + k->offset,
                                       (char *)p->conf + src->offset, field_size(k->type));
                        } else if (!derived && (k->flags & CONF_KEY_REQUIRED) != 0) {
                                p->error = pool_printf(p->pool, "%s: [%s] %s: required key "
                                                       "missing", p->name, sec->name, k->name);
                                return -1;
                        }
                }
        }
        return 0;
}

/* Rules that span keys: TLS listeners need a certificate and key. */
static int check_tls(struct conf_parser *p)
{
        const struct cove_conf *conf = p->conf;
        const struct conf_proto *protos[] = { &conf->imap, &conf->pop3, &conf->lmtp };
        const char *names[] = { "imap", "pop3", "lmtp" };

        if ((conf->tls.cert == NULL) != (conf->tls.key == NULL)) {
                bool no_key = conf->tls.key == NULL;
                p->error = conf_error(p->pool, conf, "tls", no_key ? "key" : "cert",
                                      "required when [tls] %s is set",
                                      no_key ? "cert" : "key");
                return -1;
        }
        for (size_t i = 0; i < N_ELEMENTS(protos); i++) {
                if (protos[i]->listen_tls.count > 0 && conf->tls.cert == NULL) {
                        p->error = conf_error(p->pool, conf, names[i], "listen_tls",
                                              "needs [tls] cert and key");
                        return -1;
                }
        }
        return 0;
}

static int conf_finish(struct conf_parser *p)
{
        struct cove_conf *conf = p->conf;
        if (apply_defaults(p, false) < 0 || apply_defaults(p, true) < 0)
                return -1;
        conf->store.options = p->options;
        conf->store.option_count = p->option_count;
        conf->store.engine_line = conf_key_line(conf, "store", "engine");
        conf->store.plugin_dir_line = conf_key_line(conf, "store", "plugin_dir");
        return check_tls(p);
}

/* ---- public API ---------------------------------------------------------- */

int conf_parse(struct pool *pool, const char *name, const char *text, size_t len,
               const struct cove_conf **conf_r, const char **error_r)
{
        struct cove_conf *conf = pool_alloc(pool, sizeof(*conf));
        struct conf_lines *lines = pool_alloc(pool, sizeof(*lines));
        struct conf_parser p = {
                .pool = pool, .conf = conf, .lines = lines,
                .name = pool_strdup(pool, name),
        };
        conf->path = p.name;
        conf->lines = lines;
        if (len > CONF_MAX_FILE) {
                *error_r = pool_printf(pool, "%s: file larger than %d bytes (1M)", p.name,
                                       CONF_MAX_FILE);
                return -1;
        }
        if (parse_lines(&p, text, len) < 0 || conf_finish(&p) < 0) {
                *error_r = p.error;
                return -1;
        }
        *conf_r = conf;
        return 0;
}

int conf_load(struct pool *pool, const char *path, const struct cove_conf **conf_r,
              const char **error_r)
{
        struct buf data;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                *error_r = pool_printf(pool, "%s: cannot read: %s", path, strerror(errno));
                return -1;
        }
        buf_init(&data, CONF_MAX_FILE + 1);
        for (;;) {
                size_t want = CONF_MAX_FILE + 1 - data.len, avail;
                if (want == 0)
                        break;  /* too large; conf_parse says so */
                char *tail = buf_tail(&data, want < 65536 ? want : 65536, &avail);
                COVE_ASSERT(tail != NULL);
                ssize_t n = read(fd, tail, avail < want ? avail : want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        *error_r = pool_printf(pool, "%s: cannot read: %s", path,
                                               strerror(errno));
                        buf_free(&data);
                        close(fd);
                        return -1;
                }
                if (n == 0)
                        break;
                buf_commit(&data, (size_t)n);
        }
        close(fd);
        int ret = conf_parse(pool, path, data.data == NULL ? "" : data.data, data.len,
                             conf_r, error_r);
        buf_free(&data);
        return ret;
}

const struct conf_option *conf_store_option(const struct cove_conf *conf, const char *key)
{
        for (size_t i = 0; i < conf->store.option_count; i++) {
                if (strcmp(conf->store.options[i].key, key) == 0)
                        return &conf->store.options[i];
        }
        return NULL;
}

unsigned conf_key_line(const struct cove_conf *conf, const char *section, const char *key)
{
        const struct conf_section *sec = section_find(section);
        if (sec == NULL)
                return 0;
        const struct conf_key *k = key_find(sec, key);
        if (k != NULL && conf->lines != NULL)
                return conf->lines->line[section_index(sec)][k - sec->keys];
        if (sec->engine_options) {
                const struct conf_option *opt = conf_store_option(conf, key);
                return opt == NULL ? 0 : opt->line;
        }
        return 0;
}

const char *conf_error(struct pool *pool, const struct cove_conf *conf, const char *section,
                       const char *key, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        const char *reason = pool_vprintf(pool, fmt, ap);
        va_end(ap);
        unsigned line = key == NULL ? 0 : conf_key_line(conf, section, key);
        const char *where = line == 0 ? pool_printf(pool, "%s:", conf->path) :
                pool_printf(pool, "%s:%u:", conf->path, line);
        if (key == NULL)
                return pool_printf(pool, "%s [%s]: %s", where, section, reason);
        return pool_printf(pool, "%s [%s] %s: %s", where, section, key, reason);
}

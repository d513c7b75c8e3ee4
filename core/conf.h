/* conf.h - the INI configuration file, parsed into a typed struct cove_conf.
 *
 * One declarative key table per section (in conf.c) gives each key its type,
 * default, range and validator. Unknown sections and keys, bad values and
 * missing required keys are errors naming "FILE:LINE: [section] key: reason".
 * The [store] section is special: besides engine/plugin_dir, every key is an
 * engine option passed through verbatim to the plugin's open().
 * Loaded once at start-up; pass `const struct cove_conf *` down the call chain.
 */
#ifndef COVE_CONF_H
#define COVE_CONF_H

#include <stdbool.h>
#include <stddef.h>

struct pool;
struct conf_lines;

/* A key = value line kept verbatim (engine options of [store]). */
struct conf_option {
        const char *key;
        const char *value;
        unsigned line;   /* line number in conf->path, for error messages */
};

/* A comma-separated list of listen addresses: "HOST:PORT", "[V6]:PORT" or
   "unix:/path". Kept as strings; core/listen parses them. */
struct conf_addr_list {
        size_t count;
        const char **addrs;
        unsigned line;   /* 0 when the key was absent */
};

struct cove_conf {
        const char *path;           /* the file this came from */

        struct conf_store {
                const char *engine;       /* required */
                const char *plugin_dir;   /* default: the install plugin dir */
                const char *path;         /* optional; engines interpret it */
                /* "commit" (default): every commit is durable before the
                   daemon acknowledges it, flushed on its own; "group":
                   commits are flushed together by the worker's group-commit
                   thread (faster; see docs/config.md for the crash risk) */
                const char *flush;
                /* Every key of [store] except engine, plugin_dir and flush
                   (path is included), in file order. */
                const struct conf_option *options;
                size_t option_count;
                unsigned engine_line, plugin_dir_line;
        } store;

        struct conf_server {
                const char *user;         /* NULL: keep the starting user */
                unsigned workers;         /* 0 = number of cores */
                const char *log_level;    /* error|warn|info|debug, default info */
                const char *state_dir;    /* locks, notify, pid files; default <store.path> */
                bool allow_plaintext_auth;/* plaintext auth on unencrypted non-loopback */
                unsigned max_connections_per_ip;  /* 0 = unlimited; default 50 */
                const char *default_domain;  /* appended to bare login/recipient names; NULL: none */
        } server;

        struct conf_tls {
                const char *cert;
                const char *key;
                const char *min_version;  /* "TLSv1.2" (default) or "TLSv1.3" */
        } tls;

        struct conf_proto {
                struct conf_addr_list listen;
                struct conf_addr_list listen_tls;
                unsigned timeout_secs;    /* inactivity: imap 1800, pop3 600, lmtp 300 */
                size_t max_line;          /* bytes; imap 65536, pop3 512, lmtp 4096 */
        } imap, pop3, lmtp;

        /* [pop3] keys beyond struct conf_proto's (docs/config.md, docs/pop3.md). */
        struct conf_pop3 {
                bool enable_last;          /* LAST (RFC 1725, obsolete); default no */
                unsigned login_delay_secs; /* LOGIN-DELAY (RFC 2449) advertised and
                                              enforced per worker; 0 (default): off */
                const char *expire;        /* EXPIRE value advertised in CAPA: "NEVER"
                                              or a number of days; NULL: not advertised */
                unsigned max_bad_commands; /* disconnect after this many; default 10 */
                bool apop;                 /* APOP (RFC 1939 section 7) and the greeting's
                                              timestamp; default no */
        } pop3_opts;

        /* [imap] keys only IMAP has (same section as conf.imap). */
        struct conf_imap_ext {
                const char *hierarchy_delimiter;  /* "/" (default) or "." */
        } imap_ext;

        /* [lmtp] delivery keys (the listen/timeout/max_line keys are in lmtp). */
        struct conf_lmtp {
                bool quota_temporary;     /* over quota: 452 4.2.2, not 552 5.2.2 */
                bool plus_addressing;     /* user+detail@domain files into "detail" */
                const char *recipient_delimiter;  /* one character, default "+" */
                unsigned max_recipients;  /* per transaction; default 1000 */
                const char *spool_dir;    /* big messages wait here; NULL:
                                             <server.state_dir>/spool */
                size_t spool_memory;      /* bytes a message may take in memory
                                             before it moves to a file; 1M */
        } lmtp_delivery;

        struct conf_limits {
                size_t max_message_size;  /* bytes; default 50 MB */
                size_t max_literal;       /* bytes; default = max_message_size */
        } limits;

        /* Private to conf.c: where each key was set. Use conf_key_line().
           NULL in a hand-built struct (tests); then only engine options have
           line numbers. */
        const struct conf_lines *lines;
};

/* Parses the file at path. On success stores a struct allocated in pool (all
   strings too, they live as long as the pool) and returns 0. On error returns
   -1 with *error_r = "FILE:LINE: [section] key: reason" (or "FILE: reason"
   for an unreadable file), also allocated from pool. */
int conf_load(struct pool *pool, const char *path, const struct cove_conf **conf_r,
              const char **error_r);

/* Same, from a string in memory (tests, fuzzing); name is used in messages. */
int conf_parse(struct pool *pool, const char *name, const char *text, size_t len,
               const struct cove_conf **conf_r, const char **error_r);

/* Looks up an engine option of [store]; NULL when absent. */
const struct conf_option *conf_store_option(const struct cove_conf *conf, const char *key);

/* Returns the line of the file where [section] key was set, or 0 when the
   key was absent (a default applies) or the section/key is unknown. Engine
   options of [store] are found too. */
unsigned conf_key_line(const struct cove_conf *conf, const char *section, const char *key);

/* Formats an error about a config value in the standard one-line form
   "FILE:LINE: [section] key: reason" ("FILE: [section] key: reason" when the
   key was not in the file; "[section]: reason" when key is NULL), for modules
   that check values only they understand (engines, TLS, listen). The string is
   allocated from pool. */
const char *conf_error(struct pool *pool, const struct cove_conf *conf, const char *section,
                       const char *key, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* The default path of the config file ("/etc/cove/cove.conf"). */
#define CONF_DEFAULT_PATH "/etc/cove/cove.conf"

#endif

/* parser.h - the one IMAP tokenizer: incremental, resumable, bounded.
 *
 * Owns: turning command lines and literals into a tree of struct imap_arg
 * (atoms, quoted strings, literals, NIL, parenthesised lists), the literal
 * announcements {N} / {N+} and their limits, and nesting bounds. Refuses:
 * reading the socket (session.c feeds it lines and literal bytes), deciding
 * what an argument means (commands.c checks grammar specs, handlers the rest).
 */
#ifndef COVE_IMAP_PARSER_H
#define COVE_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;
struct imap_parser;
struct imap_spool;

/* Deepest parenthesised nesting accepted (FETCH/SEARCH lists included). */
#define IMAP_PARSER_MAX_DEPTH 16
/* Most arguments in one list level (and at the top level). */
#define IMAP_PARSER_MAX_LIST 4096

enum imap_arg_type {
        /* Includes "BODY[HEADER.FIELDS (A "B")]<0.10>" as one atom: in a BODY
           or BODY.PEEK section quoted strings stay as written, and a literal
           field name is folded in as the quoted string it would have been. */
        IMAP_ARG_ATOM,
        IMAP_ARG_QUOTED,
        IMAP_ARG_LITERAL,       /* in memory (str/len) or spooled (spool) */
        IMAP_ARG_NIL,           /* the atom NIL; str is "NIL" too */
        IMAP_ARG_LIST,
};

struct imap_arg {
        enum imap_arg_type type;
        /* ATOM / QUOTED / LITERAL / NIL: the bytes, NUL-terminated, in the
           command pool. A literal may contain NUL bytes: use len. For a
           spooled literal (APPEND message) str is NULL and spool is set. */
        const char *str;
        size_t len;
        struct imap_spool *spool;
        /* LIST: the elements, in the command pool. */
        const struct imap_arg *list;
        size_t list_count;
};

enum imap_parse_result {
        PARSE_OK,       /* a whole command was parsed: imap_parser_command() */
        PARSE_MORE,     /* feed more: see imap_parser_wants() */
        PARSE_ERROR,    /* syntax error: imap_parser_error(); the command is over */
};

/* What the parser needs next. */
enum imap_parser_want {
        IMAP_WANT_LINE,         /* the next line (conn_read_line) */
        IMAP_WANT_LITERAL,      /* literal bytes (imap_parser_feed_bytes) */
};

struct imap_parser_settings {
        size_t max_literal;         /* largest in-memory literal; bigger: refused */
        size_t max_spool_literal;   /* largest spooled literal (APPENDLIMIT) */
        size_t max_command;         /* total bytes of one command's arguments */
};

/* Creates a parser whose state lives in session_pool; argument trees go to
   the pool given to imap_parser_reset(). */
struct imap_parser *imap_parser_create(struct pool *session_pool,
                                       const struct imap_parser_settings *set);

/* Starts a new command whose arguments are allocated from cmd_pool. */
void imap_parser_reset(struct imap_parser *parser, struct pool *cmd_pool);

/* Feeds one line (without CRLF). Tokenizes what it can. Returns PARSE_OK when
   the command is complete, PARSE_MORE when it ended with a literal
   announcement (then see imap_parser_literal()), PARSE_ERROR on bad syntax. */
enum imap_parse_result imap_parser_feed_line(struct imap_parser *parser, const char *line,
                                             size_t len);

/* After PARSE_MORE on a line: the announced literal. *sync_r is true for
   {N} (the session answers "+" first), false for {N+}. */
void imap_parser_literal(const struct imap_parser *parser, uint64_t *size_r, bool *sync_r);

/* Tells the parser where the announced literal goes before its bytes are fed:
   spool NULL keeps it in memory (bounded by max_literal); a spool receives
   it (bounded by max_spool_literal). Returns false when the literal is over
   its limit; the caller then refuses it (see session.c). */
bool imap_parser_literal_accept(struct imap_parser *parser, struct imap_spool *spool);

/* After a refused literal whose bytes the session discards: the literal
   counts as a NIL argument and parsing continues with the next line (the
   command then fails as a whole). */
void imap_parser_literal_skip(struct imap_parser *parser);

/* Feeds literal bytes; returns how many were taken (<= len). Returns
   PARSE_MORE while the literal is incomplete or once it is (then the next
   line is wanted), PARSE_ERROR if the spool failed. */
enum imap_parse_result imap_parser_feed_bytes(struct imap_parser *parser, const void *data,
                                              size_t len, size_t *taken_r);

/* Bytes of the accepted literal still to come. */
uint64_t imap_parser_literal_left(const struct imap_parser *parser);

/* RFC 3501 tag: astring characters except '+' (no spaces, quotes, CTLs). */
bool imap_tag_valid(const char *tag);

/* True when a raw line ends with a non-synchronising literal announcement
   "{N+}" (used to drop the literal of a line that failed to parse). */
bool imap_literal_plus_suffix(const char *line, size_t len, uint64_t *size_r);

enum imap_parser_want imap_parser_wants(const struct imap_parser *parser);

/* Top-level arguments parsed so far (tag and command name included). Valid
   until the next reset. */
const struct imap_arg *imap_parser_args(const struct imap_parser *parser, size_t *count_r);
/* Depth of list nesting open at the current point (0 at top level). */
unsigned imap_parser_depth(const struct imap_parser *parser);

/* After PARSE_ERROR: a short reason for the BAD reply (static). */
const char *imap_parser_error(const struct imap_parser *parser);

/* Argument helpers (false when the type does not fit). */
bool imap_arg_is_atom(const struct imap_arg *arg);
bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name);  /* nocase */
/* atom, quoted or in-memory literal (RFC 3501 astring). */
bool imap_arg_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r);
/* quoted or in-memory literal (RFC 3501 string). */
bool imap_arg_string(const struct imap_arg *arg, const char **str_r, size_t *len_r);
bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r,
                       size_t *count_r);

#endif

/* cmdline.h - the POP3 command line splitter (RFC 1939 §3).
 *
 * Owns: the syntax of one command line: the NUL check, the keyword, the rest
 * of the line, arguments split at single spaces, and decimal arguments.
 * Pure functions over memory: no table, no state, no replies (commands.c
 * turns their answers into -ERR lines), so they can be fuzzed alone.
 */
#ifndef COVE_POP3_CMDLINE_H
#define COVE_POP3_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

#define POP3_KEYWORD_MAX 4   /* RFC 1939 §3: keywords are 3 or 4 characters */

/* One line cut into its keyword and the rest. All strings live in pool. */
struct pop3_cmdline {
        char *keyword;          /* as sent (case kept), NUL-terminated */
        char *rest;             /* after the first space, NULL when none */
        size_t rest_len;
};

/* Splits line (len bytes, no CRLF) at its first space. Returns false for a
   line holding a NUL byte or a keyword longer than POP3_KEYWORD_MAX (no
   command has one); *nul_r tells which. */
bool pop3_cmdline_split(struct pool *pool, const char *line, size_t len,
                        struct pop3_cmdline *cl_r, bool *nul_r);

/* Splits rest (NUL-terminated, modified in place) into at most max
   arguments at single spaces; empty arguments (double spaces) are kept so
   that they fail their syntax checks. rest NULL gives no arguments. Returns
   false when there are more than max. */
bool pop3_cmdline_args(char *rest, const char **args, unsigned max, unsigned *argc_r);

/* A POP3 number: 1..19 decimal digits, nothing else (no sign, no blanks). */
bool pop3_cmdline_uint(const char *arg, uint64_t *value_r);

#endif

/* address.h - the arguments of MAIL FROM and RCPT TO: an RFC 5321 path in
 * angle brackets and the ESMTP parameters after it.
 *
 * Owns the syntax only (RFC 5321 §4.1.2, §4.1.1.2-3): source routes are
 * dropped, quoted local parts are unquoted, parameters split into key and
 * value. Does not know which parameters a command accepts or whether a user
 * exists.
 */
#ifndef LMTP_ADDRESS_H
#define LMTP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

struct pool;

#define LMTP_MAX_PARAMS 16

struct lmtp_param {
        const char *key;        /* as sent (compare case-insensitively) */
        const char *value;      /* after '='; NULL when there was none */
};

struct lmtp_path {
        const char *mailbox;    /* "local@domain", a bare "local" (RCPT only) or
                                   "" for the null path <> (MAIL only) */
        struct lmtp_param params[LMTP_MAX_PARAMS];
        size_t param_count;
};

enum lmtp_path_kind {
        LMTP_PATH_REVERSE,      /* MAIL FROM: <> allowed, domain required */
        LMTP_PATH_FORWARD,      /* RCPT TO: not empty; a bare local part allowed
                                   (the default domain applies later) */
};

/* Parses text, the part of the command after "FROM:" or "TO:" (spaces
   before '<' are tolerated). Returns 0 with *path_r filled (strings in pool),
   or -1 with *error_r (static) naming what is wrong. */
int lmtp_path_parse(struct pool *pool, const char *text, enum lmtp_path_kind kind,
                    struct lmtp_path *path_r, const char **error_r);

#endif

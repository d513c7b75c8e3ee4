/* secret.h - reading a new password for `covectl user add|passwd`.
 *
 * Either one line from stdin (--password-stdin) or, when stdin is a terminal,
 * two prompts on stderr with echo off that must match. Never echoes, logs or
 * keeps a copy of the password beyond the buffer it returns.
 */
#ifndef COVE_CLI_SECRET_H
#define COVE_CLI_SECRET_H

#include <stdbool.h>

#include "password.h"

struct pool;

/* Bytes in a password: what core/password.c accepts. */
#define CLI_SECRET_MAX PASSWORD_MAX_LEN

/* Reads a password. from_stdin: the first line of stdin (the newline and a
   CR before it are dropped). Otherwise stdin must be a terminal, else
   EX_USAGE. Returns 0 with *secret_r allocated in pool (wipe it with
   cli_secret_wipe() when done), or a sysexits code with *error_r set
   (static or in pool): EX_USAGE, EX_DATAERR (empty, too long, NUL byte,
   mismatch), EX_IOERR. */
int cli_secret_read(struct pool *pool, bool from_stdin, char **secret_r,
                    const char **error_r);

/* Overwrites the secret's bytes with zeros. */
void cli_secret_wipe(char *secret);

#endif

/* privdrop.h - dropping root to the configured [server] user.
 *
 * Owns: the user lookup and the setgroups/setgid/setuid sequence, verified.
 * Does not: chroot, bind sockets or change file ownership.
 */
#ifndef COVE_PRIVDROP_H
#define COVE_PRIVDROP_H

struct pool;

/* Switches the process to user (from [server] user), after every socket is
   bound. user NULL: keep the current identity, warning if it is root.
   Running as root with a user that cannot be switched to is an error, never
   silently ignored. Not running as root: continues as is (a warning says so
   when the current user differs). Returns 0, or -1 with *error_r from pool:
   "[server] user 'cove': no such user". */
int privdrop_apply(struct pool *pool, const char *user, const char **error_r);

#endif

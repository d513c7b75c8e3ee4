/* conf-private.h - value parsers shared by conf.c and its unit tests.
 *
 * Not part of libcove's API: only core/conf*.c and tests/unit/conf include it.
 * Every function here works on one NUL-terminated value with no surrounding
 * blanks; none allocates except conf_value_format_size().
 */
#ifndef COVE_CONF_PRIVATE_H
#define COVE_CONF_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

struct pool;

#define CONF_KIB ((uint64_t)1024)
#define CONF_MIB (CONF_KIB * 1024)
#define CONF_GIB (CONF_MIB * 1024)

/* yes/no, true/false, on/off, 1/0 in any case. False: none of those. */
bool conf_value_bool(const char *value, bool *value_r);

/* Decimal digits with an optional suffix k, M or G (any case, powers of 1024).
   A number that overflows once scaled saturates to UINT64_MAX so the caller's
   range check reports it. False: not that syntax. */
bool conf_value_size(const char *value, uint64_t *value_r);

/* Decimal seconds with an optional suffix s, m or h (any case). Saturates
   like conf_value_size(). */
bool conf_value_duration(const char *value, uint64_t *value_r);

/* n in the largest unit that divides it exactly ("64k", "50M", "1000").
   Allocated from pool. */
const char *conf_value_format_size(struct pool *pool, uint64_t n);

/* Checks the syntax of one listen address: HOST:PORT (IPv4 literal or host
   name), [IPv6]:PORT, or unix:/absolute/path; ports 1-65535. Returns 0, or -1
   with a static *reason_r. Nothing is resolved. */
int conf_value_check_addr(const char *addr, const char **reason_r);

#endif

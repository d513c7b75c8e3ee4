/* conf-value.c - value syntax of the config file (see conf-private.h).
 *
 * Owns: booleans, sizes and durations with unit suffixes, and the syntax of
 * listen addresses. Does not: know sections, keys, ranges or line numbers
 * (conf.c), or resolve and bind addresses (core/listen).
 */
#include "conf-private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "pool.h"

#define CONF_UNIX_PATH_MAX 107  /* sizeof(sun_path) - 1 on Linux */

struct conf_unit {
        char suffix;            /* '\0': no suffix */
        uint64_t factor;
};

static const struct conf_unit size_units[] = {
        { '\0', 1 }, { 'k', CONF_KIB }, { 'm', CONF_MIB }, { 'g', CONF_GIB },
};
static const struct conf_unit duration_units[] = {
        { '\0', 1 }, { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
};

bool conf_value_bool(const char *value, bool *value_r)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };
        for (size_t i = 0; i < N_ELEMENTS(yes); i++) {
                if (str_eq_nocase(value, yes[i])) {
                        *value_r = true;
                        return true;
                }
                if (str_eq_nocase(value, no[i])) {
                        *value_r = false;
                        return true;
                }
        }
        return false;
}

/* Digits with an optional one-letter unit suffix (case-insensitive). */
static bool parse_scaled(const char *value, const struct conf_unit *units, size_t unit_count,
                         uint64_t *value_r)
{
        size_t digits = strspn(value, "0123456789");
        const char *suffix = value + digits;
        if (suffix[0] != '\0' && suffix[1] != '\0')
                return false;
        uint64_t n;
        if (!str_to_u64_n(value, digits, &n))
                return false;
        char unit = (char)tolower((unsigned char)suffix[0]);
        for (size_t i = 0; i < unit_count; i++) {
                if (units[i].suffix != unit)
                        continue;
                if (n > UINT64_MAX / units[i].factor)
                        n = UINT64_MAX;     /* saturate: reported as out of range */
                else
                        n *= units[i].factor;
                *value_r = n;
                return true;
        }
        return false;
}

/* A byte count in the largest unit that divides it exactly ("64k", "512"). */
const char *conf_value_format_size(struct pool *pool, uint64_t n)
{
        static const struct { char suffix; uint64_t factor; } units[] = {
                { 'G', CONF_GIB }, { 'M', CONF_MIB }, { 'k', CONF_KIB },
        };
        for (size_t i = 0; i < N_ELEMENTS(units); i++) {
                if (n != 0 && n % units[i].factor == 0)
                        return pool_printf(pool, "%llu%c",
                                           (unsigned long long)(n / units[i].factor),
                                           units[i].suffix);
        }
        return pool_printf(pool, "%llu", (unsigned long long)n);
}

bool conf_value_size(const char *value, uint64_t *value_r)
{
        return parse_scaled(value, size_units, N_ELEMENTS(size_units), value_r);
}

bool conf_value_duration(const char *value, uint64_t *value_r)
{
        return parse_scaled(value, duration_units, N_ELEMENTS(duration_units), value_r);
}

static bool host_name_valid(const char *host, size_t len)
{
        size_t label = 0;
        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = host[i];
                if (c == '.') {
                        if (label == 0 || host[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9');
                if (!alnum && !(c == '-' && label > 0))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && host[len - 1] != '-';
}

/* Checks the host part of HOST:PORT (an IPv4 literal or a host name). */
static int check_host(const char *host, size_t len, const char **reason_r)
{
        char ip[INET_ADDRSTRLEN];
        struct in_addr in4;
        if (len == 0) {
                *reason_r = "missing host (use 0.0.0.0 or [::] for every address)";
                return -1;
        }
        if (strspn(host, "0123456789.") >= len) {
                if (len < sizeof(ip)) {
                        memcpy(ip, host, len);
                        ip[len] = '\0';
                        if (inet_pton(AF_INET, ip, &in4) == 1)
                                return 0;
                }
                *reason_r = "bad IPv4 address";
                return -1;
        }
        if (!host_name_valid(host, len)) {
                *reason_r = "bad host name";
                return -1;
        }
        return 0;
}

static int check_v6(const char *host, size_t len, const char **reason_r)
{
        char ip[INET6_ADDRSTRLEN];
        struct in6_addr in6;
        if (len > 0 && len < sizeof(ip)) {
                memcpy(ip, host, len);
                ip[len] = '\0';
                if (inet_pton(AF_INET6, ip, &in6) == 1)
                        return 0;
        }
        *reason_r = "bad IPv6 address";
        return -1;
}

/* Syntax of one listen address: HOST:PORT, [V6]:PORT or unix:/abs/path. */
int conf_value_check_addr(const char *addr, const char **reason_r)
{
        const char *port;
        if (strncmp(addr, "unix:", 5) == 0) {
                if (addr[5] != '/')
                        *reason_r = "unix socket path must be absolute";
                else if (strlen(addr + 5) > CONF_UNIX_PATH_MAX)
                        *reason_r = "unix socket path longer than 107 bytes";
                else
                        return 0;
                return -1;
        }
        if (addr[0] == '[') {
                const char *close = strchr(addr, ']');
                if (close == NULL) {
                        *reason_r = "missing ']'";
                        return -1;
                }
                if (check_v6(addr + 1, (size_t)(close - addr - 1), reason_r) < 0)
                        return -1;
                if (close[1] != ':') {
                        *reason_r = "expected :PORT after ']'";
                        return -1;
                }
                port = close + 2;
        } else {
                const char *colon = strrchr(addr, ':');
                if (colon == NULL) {
                        *reason_r = "expected HOST:PORT, [IPv6]:PORT or unix:/path";
                        return -1;
                }
                if (memchr(addr, ':', (size_t)(colon - addr)) != NULL) {
                        *reason_r = "IPv6 addresses need brackets, as in [::1]:143";
                        return -1;
                }
                if (check_host(addr, (size_t)(colon - addr), reason_r) < 0)
                        return -1;
                port = colon + 1;
        }
        uint64_t n;
        if (!str_to_u64(port, &n) || n < 1 || n > 65535) {
                *reason_r = "port must be 1-65535";
                return -1;
        }
        return 0;
}


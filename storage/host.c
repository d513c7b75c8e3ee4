/* host.c - the struct cove_store_host given to engines: logging through the
 * core logger and the wall clock.
 *
 * Owns nothing else: engines get no allocator or other libcove internals, so
 * they build against cove/storage.h alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "store-private.h"

static void host_log(enum cove_store_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void host_log(enum cove_store_log_level level, const char *fmt, ...)
{
        static const enum log_level map[] = {
                [COVE_STORE_LOG_ERROR] = LOG_LEVEL_ERROR,
                [COVE_STORE_LOG_WARN] = LOG_LEVEL_WARN,
                [COVE_STORE_LOG_INFO] = LOG_LEVEL_INFO,
                [COVE_STORE_LOG_DEBUG] = LOG_LEVEL_DEBUG,
        };
        /* An engine may pass any int; clamp rather than index out of range. */
        enum log_level ours = (unsigned)level < N_ELEMENTS(map) ? map[level] : LOG_LEVEL_ERROR;
        if (ours > log_get_level())
                return;
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        /* Truncation is acceptable here: one log line, never data. */
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        log_msg(ours, "store: %s", line);
}

static int64_t host_now(void)
{
        return (int64_t)time(NULL);
}

static const struct cove_store_host host = {
        .abi_major = COVE_STORE_ABI_MAJOR,
        .abi_minor = COVE_STORE_ABI_MINOR,
        .struct_size = sizeof(struct cove_store_host),
        .log = host_log,
        .now = host_now,
};

const struct cove_store_host *store_host(void)
{
        return &host;
}

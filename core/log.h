/* log.h - process logging: stderr in the foreground, syslog otherwise.
 *
 * One per-process logger (a documented singleton). Lines are "key=value"
 * friendly; session code prefixes "session=<id> proto=<p>". Never log
 * passwords or message bodies.
 */
#ifndef COVE_LOG_H
#define COVE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
        LOG_LEVEL_ERROR = 0,
        LOG_LEVEL_WARN,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
};

/* Trace flags, switchable at runtime (covectl; later). */
enum log_trace {
        LOG_TRACE_PARSER = 1 << 0,
        LOG_TRACE_STORE = 1 << 1,
        LOG_TRACE_LOCK = 1 << 2,
        LOG_TRACE_CONN = 1 << 3,
};

/* ident names the process in syslog and stderr prefixes ("cove-imapd").
   foreground: log to stderr, else syslog (facility mail). */
void log_init(const char *ident, bool foreground, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; false if unknown. */
bool log_level_parse(const char *name, enum log_level *level_r);
void log_set_trace(unsigned flags);
bool log_trace_enabled(enum log_trace flag);

void log_msg(enum log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) \
        do { if (log_get_level() >= LOG_LEVEL_DEBUG) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

/* Same, appending ": strerror(errno)". */
void log_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs at error level and exits(1)/(EX_SOFTWARE for asserts). Only for start-up
   errors and broken internal invariants, never for client input. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define COVE_ASSERT(expr) \
        do { if (!(expr)) log_fatal("assertion failed: %s (%s:%d)", #expr, __FILE__, __LINE__); } while (0)

#define N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))
#define container_of(ptr, type, member) \
        ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif

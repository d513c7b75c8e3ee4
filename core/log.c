/* log.c - the per-process logger (see log.h).
 *
 * Owns: the destination (stderr or syslog), the level and trace flags. Does
 * not: buffer, rotate files, or format session prefixes (callers do).
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static struct {
        const char *ident;
        bool foreground;
        enum log_level level;
        unsigned trace;
} logger = { "cove", true, LOG_LEVEL_INFO, 0 };

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARN] = "warn",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

void log_init(const char *ident, bool foreground, enum log_level level)
{
        logger.ident = ident;
        logger.foreground = foreground;
        logger.level = level;
        if (!foreground)
                openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(enum log_level level) { logger.level = level; }
enum log_level log_get_level(void) { return logger.level; }
void log_set_trace(unsigned flags) { logger.trace = flags; }
bool log_trace_enabled(enum log_trace flag) { return (logger.trace & flag) != 0; }

bool log_level_parse(const char *name, enum log_level *level_r)
{
        for (size_t i = 0; i < N_ELEMENTS(level_names); i++) {
                if (strcmp(name, level_names[i]) == 0) {
                        *level_r = (enum log_level)i;
                        return true;
                }
        }
        return false;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
        if (level > logger.level)
                return;
        if (logger.foreground) {
                char line[2048];
                vsnprintf(line, sizeof(line), fmt, ap);
                /* One write per line so lines from several workers don't interleave. */
                fprintf(stderr, "%s[%ld]: %s: %s\n", logger.ident, (long)getpid(),
                        level_names[level], line);
                return;
        }
        static const int prio[] = {
                [LOG_LEVEL_ERROR] = LOG_ERR,
                [LOG_LEVEL_WARN] = LOG_WARNING,
                [LOG_LEVEL_INFO] = LOG_INFO,
                [LOG_LEVEL_DEBUG] = LOG_DEBUG,
        };
        vsyslog(prio[level], fmt, ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_vmsg(level, fmt, ap);
        va_end(ap);
}

static void log_errno_v(enum log_level level, int err, const char *fmt, va_list ap)
{
        char line[2048];
        vsnprintf(line, sizeof(line), fmt, ap);
        log_msg(level, "%s: %s", line, strerror(err));
}

void log_error_errno(const char *fmt, ...)
{
        int err = errno;
        va_list ap;
        va_start(ap, fmt);
        log_errno_v(LOG_LEVEL_ERROR, err, fmt, ap);
        va_end(ap);
}

void log_warn_errno(const char *fmt, ...)
{
        int err = errno;
        va_list ap;
        va_start(ap, fmt);
        log_errno_v(LOG_LEVEL_WARN, err, fmt, ap);
        va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
        va_end(ap);
        exit(1);
}

/* cmdline.c - the POP3 command line splitter (see cmdline.h).
 *
 * Owns: keyword/argument syntax only. Does not: look commands up, check the
 * session state or reply.
 */
#include "cmdline.h"

#include <string.h>

#include "buf.h"
#include "pool.h"

bool pop3_cmdline_split(struct pool *pool, const char *line, size_t len,
                        struct pop3_cmdline *cl_r, bool *nul_r)
{
        char *copy, *sp;

        *nul_r = memchr(line, '\0', len) != NULL;
        if (*nul_r)
                return false;
        copy = pool_strndup(pool, line, len);
        *cl_r = (struct pop3_cmdline){ .keyword = copy };
        sp = strchr(copy, ' ');
        if (sp != NULL) {
                *sp = '\0';
                cl_r->rest = sp + 1;
                cl_r->rest_len = len - (size_t)(sp + 1 - copy);
        }
        return strlen(copy) <= POP3_KEYWORD_MAX;
}

bool pop3_cmdline_args(char *rest, const char **args, unsigned max, unsigned *argc_r)
{
        char *p = rest;

        *argc_r = 0;
        if (p == NULL)
                return true;
        for (;;) {
                char *sp = strchr(p, ' ');
                if (*argc_r == max)
                        return false;
                args[(*argc_r)++] = p;
                if (sp == NULL)
                        return true;
                *sp = '\0';
                p = sp + 1;
        }
}

bool pop3_cmdline_uint(const char *arg, uint64_t *value_r)
{
        size_t len = strlen(arg);

        /* 19 digits always fit in 64 bits. */
        return len > 0 && len <= 19 && strspn(arg, "0123456789") == len &&
               str_to_u64(arg, value_r);
}

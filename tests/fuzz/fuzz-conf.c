/* fuzz-conf.c - libFuzzer target for the config parser (core/conf.c).
 *
 * Feeds arbitrary bytes to conf_parse() with a fresh pool per input, so a
 * crash, an out-of-bounds access or a leak in the parser shows up here. On
 * success it walks the result to touch every string and list it returned.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch_list(const struct conf_addr_list *list)
{
        size_t n = 0;
        for (size_t i = 0; i < list->count; i++)
                n += strlen(list->addrs[i]);
        return n;
}

static size_t touch(const struct cove_conf *conf)
{
        size_t n = strlen(conf->store.engine) + strlen(conf->store.plugin_dir);
        for (size_t i = 0; i < conf->store.option_count; i++) {
                const struct conf_option *opt = &conf->store.options[i];
                n += strlen(opt->key) + strlen(opt->value);
                if (conf_store_option(conf, opt->key) == NULL)
                        __builtin_trap();       /* every option must be found */
        }
        const struct conf_proto *protos[] = { &conf->imap, &conf->pop3, &conf->lmtp };
        for (size_t i = 0; i < 3; i++)
                n += touch_list(&protos[i]->listen) + touch_list(&protos[i]->listen_tls);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pool *pool = pool_create("fuzz-conf", 0);
        const struct cove_conf *conf = NULL;
        const char *error = NULL;

        if (conf_parse(pool, "fuzz.conf", (const char *)data, size, &conf, &error) == 0) {
                volatile size_t sink = touch(conf);
                (void)sink;
        } else if (error == NULL || strchr(error, '\n') != NULL) {
                __builtin_trap();       /* errors are always exactly one line */
        }
        pool_destroy(&pool);
        return 0;
}

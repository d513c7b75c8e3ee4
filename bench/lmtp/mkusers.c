/* mkusers.c - bench helper: creates userNNNNN@DOMAIN (no password) for the
 * LMTP benchmark in one write transaction, which `covectl user add` (one
 * slow password hash per user) cannot do quickly for 10,000 users.
 *
 * Usage: mkusers CONF COUNT DOMAIN. Not installed; built by run.sh.
 */
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "pool.h"
#include "store.h"

int main(int argc, char **argv)
{
        const struct cove_conf *conf;
        const char *error;
        struct store *store;
        struct store_txn *txn;
        uint32_t id;
        if (argc != 4) {
                fprintf(stderr, "usage: mkusers CONF COUNT DOMAIN\n");
                return 64;
        }
        struct pool *pool = pool_create("mkusers", 4096);
        if (conf_load(pool, argv[1], &conf, &error) < 0 ||
            store_open(conf, false, pool, &store, &error) < 0) {
                fprintf(stderr, "mkusers: %s\n", error);
                return 78;
        }
        unsigned long count = strtoul(argv[2], NULL, 10);
        enum cove_store_err err = store_txn_begin(store, true, &txn);
        for (unsigned long i = 0; i < count && err == COVE_STORE_OK; i++) {
                const char *name = pool_printf(pool, "user%05lu@%s", i, argv[3]);
                err = store_user_create(txn, name, NULL, NULL, &id);
        }
        if (err == COVE_STORE_OK)
                err = store_txn_commit(&txn);
        else
                store_txn_abort(&txn);
        if (err != COVE_STORE_OK)
                fprintf(stderr, "mkusers: %s\n", store_last_error(store));
        store_close(&store);
        pool_destroy(&pool);
        return err == COVE_STORE_OK ? 0 : 75;
}

/* fixture-abifuture.c - a storage "engine" built for a future, incompatible
 * ABI major version. The loader must refuse it with one line naming the
 * plugin and the versions; nothing here is ever called.
 */
#include "cove/storage.h"

static const struct cove_store_ops fixture_ops = {
        .abi_major = COVE_STORE_ABI_MAJOR + 1,
        .abi_minor = 0,
        .struct_size = sizeof(struct cove_store_ops),
        .engine_name = "abifuture",
        .engine_version = "0",
};

const struct cove_store_ops *cove_store_entry(void)
{
        return &fixture_ops;
}

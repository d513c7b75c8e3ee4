/* stream-bench.c - micro benchmark of LMDB engine body streams through the
 * storage ABI: header-sized reads (IMAP header fetch, SEARCH) and whole
 * sequential reads (POP3 RETR) of compressible messages.
 *
 * Owns nothing in Cove: it dlopens a built cove_store_lmdb.so, makes a store
 * in a fresh temporary directory, times the reads and removes the store.
 * Usage: stream-bench PLUGIN.so [MESSAGES [SIZE [HEAD_BYTES]]]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cove/storage.h"

static const struct cove_store_ops *ops;

__attribute__((format(printf, 2, 3)))
static void bench_log(enum cove_store_log_level level, const char *fmt, ...)
{
        va_list args;

        if (level > COVE_STORE_LOG_WARN)
                return;
        va_start(args, fmt);
        vfprintf(stderr, fmt, args);
        va_end(args);
        fputc('\n', stderr);
}

static int64_t bench_now(void)
{
        return (int64_t)time(NULL);
}

static const struct cove_store_host host = {
        .abi_major = COVE_STORE_ABI_MAJOR, .abi_minor = COVE_STORE_ABI_MINOR,
        .struct_size = sizeof(struct cove_store_host), .log = bench_log, .now = bench_now,
};

static void check(struct cove_store *store, enum cove_store_err err, const char *what)
{
        if (err == COVE_STORE_OK)
                return;
        fprintf(stderr, "stream-bench: %s: %s (%s)\n", what, cove_store_strerror(err),
                store != NULL ? ops->last_error(store) : "");
        exit(1);
}

static double seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A mail-like message: a header naming message `n`, then lines of words
   picked by a seeded generator (compresses about 3:1 with zlib -6). */
static char *make_message(unsigned n, size_t size)
{
        static const char *words[] = { "the ", "mail ", "server ", "stores ", "each ",
                                       "message ", "once ", "and ", "reads ", "it ",
                                       "back ", "quickly, ", "quota ", "folder ",
                                       "client ", "fetch ", "header ", "body.\r\n" };
        char *p = malloc(size + 1);
        int off = snprintf(p, size + 1, "Message-ID: <%u@bench.example>\r\nFrom: a@example.org"
                           "\r\nSubject: message %u\r\n\r\n", n, n);
        uint32_t x = 2463534242u ^ (n * 2654435761u);

        while ((size_t)off < size) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                const char *w = words[x % (sizeof(words) / sizeof(words[0]))];
                size_t len = strlen(w);
                if (len > size - (size_t)off)
                        len = size - (size_t)off;
                memcpy(p + off, w, len);
                off += (int)len;
        }
        return p;
}

static void fill(struct cove_store *store, uint32_t *mailbox_r, unsigned count, size_t size)
{
        struct cove_store_txn *txn;
        struct cove_store_user user = { .name = "bench@example.org", .password_hash = "",
                                        .scram_secret = "" };
        uint32_t user_id;

        check(store, ops->txn_begin(store, COVE_STORE_TXN_WRITE, &txn), "begin");
        check(store, ops->user_create(txn, &user, &user_id), "user_create");
        check(store, ops->mailbox_create(txn, user_id, "INBOX", 0, mailbox_r), "mailbox");
        check(store, ops->txn_commit(&txn, 0), "commit");
        for (unsigned i = 0; i < count; i++) {
                char *body = make_message(i, size);
                struct cove_store_part part = { .data = body, .size = size };
                struct cove_store_append a = { .parts = &part, .part_count = 1,
                                               .internal_date = bench_now() };
                struct cove_store_saved saved;
                check(store, ops->txn_begin(store, COVE_STORE_TXN_WRITE, &txn), "begin");
                check(store, ops->msg_append(txn, *mailbox_r, &a, &saved), "append");
                check(store, ops->txn_commit(&txn, COVE_STORE_COMMIT_NOSYNC), "commit");
                free(body);
        }
        check(store, ops->sync(store), "sync");
}

/* Reads the first `head` bytes (or everything when head is 0) of UIDs
   1..count; returns the bytes read. */
__attribute__((noinline))
static uint64_t read_all(struct cove_store *store, uint32_t mailbox, unsigned count,
                         size_t head)
{
        uint64_t total = 0;

        for (uint32_t uid = 1; uid <= count; uid++) {
                struct cove_store_stream *st;
                uint64_t size, off = 0, want;
                check(store, ops->stream_open(store, mailbox, uid, &st, &size), "stream_open");
                want = head != 0 && head < size ? head : size;
                while (off < want) {
                        const void *data;
                        size_t len;
                        check(store, ops->stream_read(st, off, &data, &len), "stream_read");
                        if (len == 0)
                                break;
                        off += len;
                }
                total += off < want ? off : want;
                ops->stream_close(&st);
        }
        return total;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st; (void)flag; (void)ftw;
        return remove(path);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: stream-bench PLUGIN.so [MESSAGES [SIZE [HEAD]]]\n");
                return 2;
        }
        unsigned count = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000;
        size_t size = argc > 3 ? strtoul(argv[3], NULL, 10) : 50 * 1000;
        size_t head = argc > 4 ? strtoul(argv[4], NULL, 10) : 512;
        void *plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (plugin == NULL) {
                fprintf(stderr, "stream-bench: %s\n", dlerror());
                return 1;
        }
        ops = ((cove_store_entry_fn)dlsym(plugin, COVE_STORE_ENTRY_SYMBOL))();
        char dir[] = "/tmp/cove-stream-bench-XXXXXX";
        if (mkdtemp(dir) == NULL || count == 0 || size == 0)
                return 1;
        struct cove_store_option opt = { "path", dir };
        struct cove_store_conf conf = { .conf_file = "bench", .options = &opt,
                                        .option_count = 1, .create = true };
        struct cove_store *store = NULL;
        const char *error = "";
        uint32_t mailbox;
        check(NULL, ops->open(&host, &conf, &store, &error), error);
        fill(store, &mailbox, count, size);

        double t0 = seconds();
        uint64_t head_bytes = read_all(store, mailbox, count, head);
        double t1 = seconds();
        uint64_t full_bytes = read_all(store, mailbox, count, 0);
        double t2 = seconds();
        printf("{\"messages\": %u, \"size\": %zu, \"head\": %zu, \"head_bytes\": %llu, "
               "\"head_s\": %.4f, \"head_us_per_msg\": %.2f, \"full_bytes\": %llu, "
               "\"full_s\": %.4f, \"full_mb_s\": %.1f}\n", count, size, head,
               (unsigned long long)head_bytes, t1 - t0, (t1 - t0) * 1e6 / count,
               (unsigned long long)full_bytes, t2 - t1, full_bytes / 1e6 / (t2 - t1));
        ops->close(&store);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        dlclose(plugin);
        return 0;
}

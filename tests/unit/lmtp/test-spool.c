/* test-spool.c - the message spool: memory below the threshold, an unlinked
 * file above it, byte-exact either way, and nothing left after a reset.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

static char dir[64];

static void dir_setup(void)
{
        strcpy(dir, "/tmp/cove-spool-test-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void dir_teardown(void)
{
        rmdir(dir);
}

/* Appends len pattern bytes in uneven pieces. */
static void fill(struct lmtp_spool *spool, char *expect, size_t len)
{
        const char *error;
        size_t pos = 0, piece = 1;
        for (size_t i = 0; i < len; i++)
                expect[i] = (char)(i * 7 + i / 251);
        while (pos < len) {
                size_t n = piece < len - pos ? piece : len - pos;
                cr_assert_eq(lmtp_spool_append(spool, expect + pos, n, &error), 0, "%s",
                             error);
                pos += n;
                piece = piece * 3 % 200003 + 1;
        }
}

static void check_round_trip(size_t mem_max, size_t len, bool want_file)
{
        struct lmtp_spool spool;
        struct cove_store_part part;
        const char *error;
        char *expect = malloc(len + 1);
        lmtp_spool_init(&spool, dir, mem_max);
        fill(&spool, expect, len);
        cr_assert_eq(lmtp_spool_in_file(&spool), want_file, "len %zu", len);
        cr_assert_eq(spool.size, len);
        cr_assert_eq(lmtp_spool_finish(&spool, &part, &error), 0, "%s", error);
        cr_assert_eq(part.size, len);
        cr_assert(memcmp(part.data, expect, len) == 0, "len %zu: bytes differ", len);
        int fd = spool.fd;
        lmtp_spool_reset(&spool);
        if (want_file)
                cr_assert(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "the file stays open");
        cr_assert_eq(spool.size, 0);
        cr_assert_null(spool.map);
        free(expect);
}

TestSuite(lmtp_spool, .init = dir_setup, .fini = dir_teardown);

Test(lmtp_spool, memory_below_threshold)
{
        check_round_trip(4096, 4096, false);
        check_round_trip(4096, 1, false);
}

Test(lmtp_spool, file_above_threshold)
{
        check_round_trip(4096, 4097, true);
        check_round_trip(0, 3 * LMTP_SPOOL_STAGE + 17, true);
        check_round_trip(1 << 20, 5 << 20, true);
}

Test(lmtp_spool, empty_message)
{
        struct lmtp_spool spool;
        struct cove_store_part part;
        const char *error;
        lmtp_spool_init(&spool, dir, 0);
        cr_assert_eq(lmtp_spool_finish(&spool, &part, &error), 0);
        cr_assert_eq(part.size, 0);
        cr_assert_not_null(part.data);
        lmtp_spool_reset(&spool);
}

Test(lmtp_spool, reusable_after_reset)
{
        struct lmtp_spool spool;
        struct cove_store_part part;
        const char *error;
        char big[10000];
        memset(big, 'b', sizeof(big));
        lmtp_spool_init(&spool, dir, 100);
        cr_assert_eq(lmtp_spool_append(&spool, big, sizeof(big), &error), 0);
        cr_assert(lmtp_spool_in_file(&spool));
        lmtp_spool_reset(&spool);
        lmtp_spool_reset(&spool);
        cr_assert(!lmtp_spool_in_file(&spool));
        cr_assert_eq(lmtp_spool_append(&spool, "abc", 3, &error), 0);
        cr_assert_eq(lmtp_spool_finish(&spool, &part, &error), 0);
        cr_assert_eq(part.size, 3);
        cr_assert(memcmp(part.data, "abc", 3) == 0);
        lmtp_spool_reset(&spool);
}

Test(lmtp_spool, memory_only_refuses_past_max)
{
        struct lmtp_spool spool;
        const char *error;
        lmtp_spool_init(&spool, NULL, 8);
        cr_assert_eq(lmtp_spool_append(&spool, "12345678", 8, &error), 0);
        cr_assert_eq(lmtp_spool_append(&spool, "9", 1, &error), -1);
        cr_assert_neq(spool.error, 0);
        cr_assert_eq(lmtp_spool_append(&spool, "", 1, &error), -1, "stays failed");
        lmtp_spool_reset(&spool);
        cr_assert_eq(spool.error, 0);
}

Test(lmtp_spool, missing_directory_fails_cleanly)
{
        struct lmtp_spool spool;
        struct cove_store_part part;
        const char *error;
        char path[128];
        snprintf(path, sizeof(path), "%s/absent", dir);
        lmtp_spool_init(&spool, path, 4);
        cr_assert_eq(lmtp_spool_append(&spool, "12345", 5, &error), -1);
        cr_assert_eq(spool.error, ENOENT);
        cr_assert_eq(lmtp_spool_finish(&spool, &part, &error), -1);
        lmtp_spool_reset(&spool);
}

Test(lmtp_spool, dir_check_creates_0700)
{
        struct stat st;
        const char *error;
        char path[128], file[160];
        snprintf(path, sizeof(path), "%s/spool", dir);
        cr_assert_eq(lmtp_spool_dir_check(path, &error), 0, "%s", error);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0700);
        cr_assert_eq(lmtp_spool_dir_check(path, &error), 0, "an existing one is fine");
        rmdir(path);
        snprintf(file, sizeof(file), "%s/plain", dir);
        int fd = open(file, O_CREAT | O_WRONLY, 0600);
        close(fd);
        cr_assert_eq(lmtp_spool_dir_check(file, &error), -1);
        unlink(file);
}

Test(lmtp_spool, write_failure_is_reported_and_reset_recovers)
{
        struct lmtp_spool spool;
        struct cove_store_part part;
        const char *error;
        static char chunk[LMTP_SPOOL_STAGE];
        /* Files may not grow past 100 KiB: write() fails with EFBIG. */
        struct rlimit small = { .rlim_cur = 100 * 1024, .rlim_max = RLIM_INFINITY };
        signal(SIGXFSZ, SIG_IGN);
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
        memset(chunk, 'f', sizeof(chunk));
        lmtp_spool_init(&spool, dir, 0);
        int ret = 0;
        for (int i = 0; i < 4 && ret == 0; i++)
                ret = lmtp_spool_append(&spool, chunk, sizeof(chunk), &error);
        cr_assert_eq(ret, -1, "writing past 100 KiB fails");
        cr_assert_eq(spool.error, EFBIG);
        cr_assert_eq(lmtp_spool_finish(&spool, &part, &error), -1);
        lmtp_spool_reset(&spool);
        cr_assert_eq(lmtp_spool_append(&spool, "ok", 2, &error), 0);
        cr_assert_eq(lmtp_spool_finish(&spool, &part, &error), 0);
        cr_assert_eq(part.size, 2);
        lmtp_spool_reset(&spool);
}

/* replay.c - runs a libFuzzer target's entry point over files, without
 * libFuzzer: each argument is a file or a directory of files. ctest uses it
 * to replay the committed seed corpora under ASan+UBSan on every test run, so
 * a crash once found and saved as a seed stays fixed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
                perror(path);
                return -1;
        }
        size_t cap = 4096, len = 0;
        uint8_t *data = malloc(cap);
        size_t n;
        while (data != NULL && (n = fread(data + len, 1, cap - len, f)) > 0) {
                len += n;
                if (len == cap)
                        data = realloc(data, cap *= 2);
        }
        fclose(f);
        if (data == NULL)
                return -1;
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        return 0;
}

static int replay_path(const char *path, unsigned *count)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                perror(path);
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*count)++;
                return replay_file(path);
        }
        DIR *dir = opendir(path);
        if (dir == NULL) {
                perror(path);
                return -1;
        }
        int ret = 0;
        for (struct dirent *d; (d = readdir(dir)) != NULL;) {
                if (d->d_name[0] == '.')
                        continue;
                char child[4096];
                snprintf(child, sizeof(child), "%s/%s", path, d->d_name);
                if (replay_path(child, count) < 0)
                        ret = -1;
        }
        closedir(dir);
        return ret;
}

int main(int argc, char **argv)
{
        unsigned count = 0;
        int ret = 0;
        for (int i = 1; i < argc; i++)
                if (replay_path(argv[i], &count) < 0)
                        ret = 1;
        printf("replayed %u inputs\n", count);
        return ret;
}

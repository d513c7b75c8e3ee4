/* seqset.c - IMAP sequence sets (see seqset.h).
 *
 * Owns: the sequence-set grammar, sorting and merging ranges, formatting.
 * Does not: map numbers to messages (view.c).
 */
#include "seqset.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pool.h"

/* Parses one seq-number ("*" or 1..2^32-1) at *p; advances *p. */
static bool parse_number(const char **p, uint32_t star, uint32_t *n_r)
{
        const char *s = *p;
        if (*s == '*') {
                *p = s + 1;
                *n_r = star;
                return true;
        }
        if (*s < '1' || *s > '9')
                return false;
        uint64_t n = 0;
        while (*s >= '0' && *s <= '9') {
                n = n * 10 + (uint64_t)(*s - '0');
                if (n > UINT32_MAX)
                        return false;
                s++;
        }
        *p = s;
        *n_r = (uint32_t)n;
        return true;
}

/* Walks the syntax; when ranges is non-NULL stores each range there. */
static bool seqset_walk(const char *str, uint32_t star, struct imap_seq_range *ranges,
                        size_t *count_r)
{
        const char *p = str;
        size_t count = 0;
        for (;;) {
                uint32_t lo, hi;
                if (!parse_number(&p, star, &lo))
                        return false;
                hi = lo;
                if (*p == ':') {
                        p++;
                        if (!parse_number(&p, star, &hi))
                                return false;
                }
                if (count >= IMAP_SEQSET_MAX_RANGES)
                        return false;
                if (ranges != NULL) {
                        ranges[count].lo = lo < hi ? lo : hi;
                        ranges[count].hi = lo < hi ? hi : lo;
                }
                count++;
                if (*p == '\0')
                        break;
                if (*p != ',')
                        return false;
                p++;
        }
        *count_r = count;
        return true;
}

bool imap_seqset_valid(const char *str)
{
        size_t count;
        return seqset_walk(str, 1, NULL, &count);
}

static int range_cmp(const void *a, const void *b)
{
        const struct imap_seq_range *x = a, *y = b;
        return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

/* Sorts and merges overlapping or adjacent ranges in place; drops ranges of
   0 (a '*' in an empty mailbox). */
static size_t ranges_normalize(struct imap_seq_range *r, size_t n)
{
        qsort(r, n, sizeof(*r), range_cmp);
        size_t out = 0;
        for (size_t i = 0; i < n; i++) {
                if (r[i].hi == 0)
                        continue;
                if (r[i].lo == 0)
                        r[i].lo = 1;
                if (out > 0 && (uint64_t)r[out - 1].hi + 1 >= r[i].lo) {
                        if (r[i].hi > r[out - 1].hi)
                                r[out - 1].hi = r[i].hi;
                        continue;
                }
                r[out++] = r[i];
        }
        return out;
}

int imap_seqset_parse(struct pool *pool, const char *str, uint32_t star,
                      struct imap_seqset **set_r, const char **error_r)
{
        size_t count;
        if (!seqset_walk(str, star == 0 ? 1 : star, NULL, &count)) {
                *error_r = "Invalid sequence set";
                return -1;
        }
        struct imap_seqset *set = pool_alloc(pool, sizeof(*set));
        set->ranges = pool_alloc(pool, count * sizeof(*set->ranges));
        (void)seqset_walk(str, star, set->ranges, &count);
        set->count = ranges_normalize(set->ranges, count);
        *set_r = set;
        return 0;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
        size_t lo = 0, hi = set->count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (n < set->ranges[mid].lo)
                        hi = mid;
                else if (n > set->ranges[mid].hi)
                        lo = mid + 1;
                else
                        return true;
        }
        return false;
}

uint32_t imap_seqset_max(const struct imap_seqset *set)
{
        return set->count == 0 ? 0 : set->ranges[set->count - 1].hi;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
        uint64_t total = 0;
        for (size_t i = 0; i < set->count; i++)
                total += (uint64_t)set->ranges[i].hi - set->ranges[i].lo + 1;
        return total;
}

struct imap_seqset *imap_seqset_from_sorted(struct pool *pool, const uint32_t *nums, size_t n)
{
        struct imap_seqset *set = pool_alloc(pool, sizeof(*set));
        set->ranges = pool_alloc(pool, (n == 0 ? 1 : n) * sizeof(*set->ranges));
        for (size_t i = 0; i < n; i++) {
                if (nums[i] == 0)
                        continue;
                if (set->count > 0 && set->ranges[set->count - 1].hi >= nums[i])
                        continue;
                if (set->count > 0 && set->ranges[set->count - 1].hi + 1 == nums[i]) {
                        set->ranges[set->count - 1].hi = nums[i];
                        continue;
                }
                set->ranges[set->count].lo = nums[i];
                set->ranges[set->count].hi = nums[i];
                set->count++;
        }
        return set;
}

const char *imap_seqset_format(struct pool *pool, const struct imap_seqset *set)
{
        struct buf b;
        buf_init(&b, 0);
        for (size_t i = 0; i < set->count; i++) {
                const struct imap_seq_range *r = &set->ranges[i];
                if (r->lo == r->hi)
                        buf_printf(&b, "%s%u", i == 0 ? "" : ",", r->lo);
                else
                        buf_printf(&b, "%s%u:%u", i == 0 ? "" : ",", r->lo, r->hi);
        }
        const char *out = pool_strndup(pool, b.data == NULL ? "" : b.data, b.len);
        buf_free(&b);
        return out;
}

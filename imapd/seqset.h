/* seqset.h - IMAP sequence sets (RFC 3501 sequence-set, RFC 9051 §9).
 *
 * Owns: parsing "1,3:5,7:*" (ranges in either order, '*' standing for the
 * largest number in use) into a sorted, merged list of ranges, and queries
 * on it. Refuses: knowing what a number means (message sequence number or
 * UID: see view.h) and the "$" search-result reference (not supported).
 */
#ifndef COVE_IMAP_SEQSET_H
#define COVE_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

struct imap_seq_range {
        uint32_t lo, hi;        /* lo <= hi, both >= 1 */
};

/* Ranges ascending, non-overlapping and non-adjacent (merged). */
struct imap_seqset {
        struct imap_seq_range *ranges;
        size_t count;
};

/* Most ranges a set may have before merging (bounds memory and work). */
#define IMAP_SEQSET_MAX_RANGES 100000

/* True when str is a syntactically valid sequence-set (no allocation). */
bool imap_seqset_valid(const char *str);

/* Parses str; every '*' becomes star (pass the largest sequence number or
   UID in use; 0 for an empty mailbox, which makes "*" refer to nothing a
   real message can have). Numbers are 1..4294967295. The set and its ranges
   live in pool. Returns 0, or -1 with a static *error_r on bad syntax. */
int imap_seqset_parse(struct pool *pool, const char *str, uint32_t star,
                      struct imap_seqset **set_r, const char **error_r);

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);
/* Largest number in the set (0 for an empty set). */
uint32_t imap_seqset_max(const struct imap_seqset *set);
/* How many numbers the set holds (saturating at UINT64_MAX never happens:
   at most 2^32 - 1). */
uint64_t imap_seqset_count(const struct imap_seqset *set);

/* Builds a set from ascending numbers (duplicates allowed). In pool. */
struct imap_seqset *imap_seqset_from_sorted(struct pool *pool, const uint32_t *nums, size_t n);

/* Formats a set as "1:3,7" (for UIDPLUS / ESEARCH replies); in pool.
   An empty set gives "". */
const char *imap_seqset_format(struct pool *pool, const struct imap_seqset *set);

#endif

/* base64.h - RFC 4648 §4 base64 (standard alphabet, '=' padding).
 *
 * Owns encoding into pool memory and a strict, bounded decoder: no whitespace,
 * no missing or stray padding, no non-zero trailing bits, no URL-safe
 * alphabet. Does not: stream, wrap lines, or accept MIME-style lenient input
 * (the MIME parser has its own tolerant decoder).
 */
#ifndef COVE_BASE64_H
#define COVE_BASE64_H

#include <stdbool.h>
#include <stddef.h>

struct pool;

/* Length of the encoding of len bytes, without the NUL (4 * ceil(len / 3)). */
size_t base64_encoded_len(size_t len);

/* Upper bound on the decoded length of src_len characters of base64. */
size_t base64_decoded_max_len(size_t src_len);

/* Returns the NUL-terminated base64 encoding of len bytes of data. The string
   lives in pool. data may be NULL when len is 0 (gives ""). */
const char *base64_encode(struct pool *pool, const void *data, size_t len);

/* Encodes into dst, which must hold base64_encoded_len(len) + 1 bytes; writes
   a NUL and returns the length written (without the NUL). */
size_t base64_encode_to(char *dst, const void *data, size_t len);

/* Strictly decodes src_len characters of src (src need not be terminated).
   Empty input decodes to zero bytes. Fails, with a static message in
   *error_r, on any character outside the alphabet (including whitespace and
   NUL), a length that is not a multiple of 4, misplaced padding, non-zero
   bits in the last character, or a result longer than max_len bytes. On
   success *data_r (in pool, with a NUL one past the end for convenience) and
   *len_r are set. */
int base64_decode(struct pool *pool, const char *src, size_t src_len, size_t max_len,
                  unsigned char **data_r, size_t *len_r, const char **error_r);

/* True when src_len characters of src are valid strict base64 (as above,
   without a length bound). */
bool base64_is_valid(const char *src, size_t src_len);

#endif

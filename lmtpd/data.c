/* data.c - incremental end-of-data detection and dot-unstuffing (data.h).
 *
 * A byte state machine that copies runs of message bytes at once. Knows
 * nothing about sessions, limits beyond its own max, or the store.
 */
#include "data.h"

#include <string.h>

#include "spool.h"

void lmtp_data_init(struct lmtp_data *data, struct lmtp_spool *out, uint64_t max)
{
        *data = (struct lmtp_data){
                .state = LMTP_DATA_LINE_START,
                .max = max,
                .out = out,
        };
}

/* Keeps n message bytes, unless the message is already too big. */
static void emit(struct lmtp_data *data, const char *bytes, size_t n)
{
        if (n == 0)
                return;
        data->size += n;
        if (data->too_big || data->failed)
                return;
        if (data->size > data->max) {
                data->too_big = true;
                lmtp_spool_reset(data->out);
        } else if (lmtp_spool_append(data->out, bytes, n, &data->error) < 0) {
                data->failed = true;
        }
}

/* Advances over one byte (or a run, in MID); returns the new index. run_r is
   the start of the bytes not yet emitted. */
static size_t step(struct lmtp_data *data, const char *p, size_t i, size_t len, size_t *run_r)
{
        char c = p[i];
        switch (data->state) {
        case LMTP_DATA_MID: {
                const char *cr = memchr(p + i, '\r', len - i);
                if (cr == NULL)
                        return len;
                data->state = LMTP_DATA_CR;
                return (size_t)(cr - p) + 1;
        }
        case LMTP_DATA_CR:
                data->state = c == '\n' ? LMTP_DATA_LINE_START
                            : c == '\r' ? LMTP_DATA_CR : LMTP_DATA_MID;
                return i + 1;
        case LMTP_DATA_LINE_START:
                if (c == '.') {
                        /* RFC 5321 §4.5.2: drop the first '.' of a line. */
                        emit(data, p + *run_r, i - *run_r);
                        *run_r = i + 1;
                        data->state = LMTP_DATA_DOT;
                } else {
                        data->state = c == '\r' ? LMTP_DATA_CR : LMTP_DATA_MID;
                }
                return i + 1;
        case LMTP_DATA_DOT:
                if (c == '\r') {
                        /* Maybe the end: hold this CR back. */
                        *run_r = i + 1;
                        data->state = LMTP_DATA_DOT_CR;
                } else {
                        data->state = LMTP_DATA_MID;
                }
                return i + 1;
        case LMTP_DATA_DOT_CR:
                if (c == '\n') {
                        data->state = LMTP_DATA_END;
                        return i + 1;
                }
                /* Not the end: the held CR is message data after all. */
                emit(data, "\r", 1);
                *run_r = i;
                data->state = c == '\r' ? LMTP_DATA_CR : LMTP_DATA_MID;
                return i + 1;
        case LMTP_DATA_END:
                break;
        }
        return len;
}

enum lmtp_data_result lmtp_data_feed(struct lmtp_data *data, const void *bytes, size_t len,
                                     size_t *consumed_r)
{
        const char *p = bytes;
        size_t i = 0, run = 0;
        while (i < len && data->state != LMTP_DATA_END)
                i = step(data, p, i, len, &run);
        if (data->state == LMTP_DATA_END) {
                *consumed_r = i;
                /* run is past the held CR, so nothing of ".\r\n" is kept. */
                return LMTP_DATA_DONE;
        }
        /* A held CR or a dropped '.' is never inside [run, len). */
        emit(data, p + run, len - run);
        *consumed_r = len;
        return LMTP_DATA_MORE;
}

/* reply.h - everything a command writes to the client.
 *
 * Owns: untagged, continuation and tagged responses, writing IMAP strings
 * (imap-string.h chooses their form), flag lists, and the one mapping from
 * enum cove_store_err to "NO [code] text" (imap_reply_store_err), including
 * the "Internal error [session id]" rule. Refuses: deciding when to reply (handlers) and the
 * order against view syncs (session.c writes the tagged line last).
 */
#ifndef COVE_IMAP_REPLY_H
#define COVE_IMAP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/storage.h"
#include "commands.h"

struct buf;

/* "* <text>\r\n". Written at once (before the tagged reply). */
void imap_reply_untagged(struct imap_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* "+ <text>\r\n" (continuation request). */
void imap_reply_continue(struct imap_cmd *cmd, const char *text);

/* Sets the tagged reply "<tag> <status> <text>" that ends the command. It is
   written after the command's untagged output and any view sync. Returns
   CMD_RESULT_DONE so handlers can `return imap_reply_ok(cmd, ...)`. */
enum cmd_result imap_reply_tagged(struct imap_cmd *cmd, const char *status,
                                  const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
enum cmd_result imap_reply_ok(struct imap_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
enum cmd_result imap_reply_no(struct imap_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
enum cmd_result imap_reply_bad(struct imap_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The one store-error mapping (tagged NO with a response code):
     NOTFOUND   NO [NONEXISTENT]       EXISTS     NO [ALREADYEXISTS]
     NOPERM     NO [NOPERM]            OVERQUOTA  NO [OVERQUOTA]
     INUSE      NO [INUSE]             EXPUNGED   NO [EXPUNGEISSUED]
     TEMP       NO [UNAVAILABLE]       CORRUPT, INTERNAL:
     NO [SERVERBUG] Internal error [<session id>] (details logged).
   what names the operation for the log ("SELECT INBOX"). */
enum cmd_result imap_reply_store_err(struct imap_cmd *cmd, enum cove_store_err err,
                                     const char *what);
/* Logs detail with the session id; tagged NO [SERVERBUG] Internal error [id]. */
enum cmd_result imap_reply_internal(struct imap_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ---- raw writing, for multi-part responses (FETCH) ---- */
void imap_reply_write(struct imap_cmd *cmd, const void *data, size_t len);
void imap_reply_printf(struct imap_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* A string as quoted "..." when imap_string_quotable(), else a literal
   {n}\r\n<bytes>. nstring: NULL gives NIL. astring: a bare atom if possible. */
void imap_reply_string(struct imap_cmd *cmd, const char *str, size_t len);
void imap_reply_nstring(struct imap_cmd *cmd, const char *str, size_t len);
void imap_reply_astring(struct imap_cmd *cmd, const char *str);
/* "{size}\r\n": the caller writes exactly size bytes after it. */
void imap_reply_literal_header(struct imap_cmd *cmd, uint64_t size);
/* "(\Seen \Answered kw ...)", \Recent included when recent. */
void imap_reply_flags(struct imap_cmd *cmd, uint32_t flags, const char *const *keywords,
                      size_t keyword_count, bool recent);
/* True when output is over the high-water mark: a producer returns MORE. */
bool imap_reply_output_full(struct imap_cmd *cmd);

/* ---- the same formatting into a buffer (build a response, then write);
   thin names for imap-string.h's writers ---- */
void imap_buf_string(struct buf *buf, const char *str, size_t len);
void imap_buf_nstring(struct buf *buf, const char *str, size_t len);
void imap_buf_astring(struct buf *buf, const char *str);
void imap_buf_flags(struct buf *buf, uint32_t flags, const char *const *keywords,
                    size_t keyword_count, bool recent);

/* Flag name <-> COVE_FLAG_* bit ("\Seen" -> COVE_FLAG_SEEN), case-insensitive.
   \Recent is not a storable flag: false. */
bool imap_flag_parse(const char *name, uint32_t *flag_r);

#endif

/* verb-message.c - message in and out: `covectl deliver` (the local delivery
 * agent) and `covectl fetch` (raw export of one message).
 *
 * Owns: reading a message from stdin within [limits] max_message_size and
 * the LDA exit codes (sysexits, as sendmail/Postfix expect), and streaming a
 * stored message to stdout byte for byte. Does not: rewrite the message (no
 * added headers; line endings change only with --crlf) or resolve the
 * recipient and pick the mailbox (storage/deliver.c, shared with cove-lmtpd).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "deliver.h"
#include "log.h"
#include "pool.h"
#include "store.h"
#include "verbs.h"

#define CLI_READ_CHUNK 65536

/* Reads all of stdin into msg; EX_DATAERR past max bytes (0: no limit). */
static int message_read(struct cli_ctx *ctx, struct buf *msg, size_t max)
{
        for (;;) {
                size_t avail = 0;
                char one;
                /* At the limit, one more byte tells "exactly max" from "too big". */
                char *tail = max != 0 && msg->len >= max ? &one
                                                          : buf_tail(msg, CLI_READ_CHUNK, &avail);
                if (tail == &one)
                        avail = 1;
                ssize_t n = read(STDIN_FILENO, tail, avail);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cli_fail(ctx, EX_IOERR, "reading the message from stdin: %s",
                                        strerror(errno));
                if (n == 0)
                        return 0;
                if (tail == &one)
                        return cli_fail(ctx, EX_DATAERR, "message larger than [limits] "
                                        "max_message_size (%zu bytes)", max);
                buf_commit(msg, (size_t)n);
        }
}

/* --crlf: rewrites every LF not preceded by CR as CRLF (RFC 5322 §2.1 line
   endings, which IMAP and POP3 clients expect), within max bytes. */
static int message_crlf(struct cli_ctx *ctx, struct buf *msg, size_t max)
{
        struct buf out;
        buf_init(&out, max);
        bool fits = true;
        for (size_t i = 0; i < msg->len && fits; i++) {
                if (msg->data[i] == '\n' && (i == 0 || msg->data[i - 1] != '\r'))
                        fits = buf_append_char(&out, '\r');
                fits = fits && buf_append_char(&out, msg->data[i]);
        }
        buf_free(msg);
        *msg = out;
        if (!fits)
                return cli_fail(ctx, EX_DATAERR, "message larger than [limits] "
                                "max_message_size (%zu bytes) with CRLF line endings", max);
        return 0;
}

/* sysexits for an MTA (sendmail, Postfix pipe): 67 unknown user, 73 over
   quota (75 with [lmtp] quota_temporary), 75 for anything that may pass. */
static int deliver_error(struct cli_ctx *ctx, enum cove_store_err err, const char *name)
{
        switch (err) {
        case COVE_STORE_NOTFOUND:
                return cli_fail(ctx, EX_NOUSER, "no such user '%s'", name);
        case COVE_STORE_OVERQUOTA:
                /* Like Dovecot's LDA: EX_CANTCREAT, so the MTA bounces at once
                   (a sysexits-aware MTA would retry EX_TEMPFAIL for days). */
                return cli_fail(ctx, ctx->conf->lmtp_delivery.quota_temporary ? EX_TEMPFAIL
                                                                               : EX_CANTCREAT,
                                "user '%s' is over quota", name);
        default:
                return cli_fail(ctx, EX_TEMPFAIL, "delivering to '%s': %s", name,
                                store_last_error(ctx->store));
        }
}

/* Resolves the recipient as cove-lmtpd does (storage/deliver.h) and
   delivers; --mailbox wins over a +detail. */
static int deliver_message(struct cli_ctx *ctx, const char *address, const char *box,
                           const struct buf *msg)
{
        struct store_rcpt_rules rules;
        struct store_rcpt rcpt;
        const char *error;
        store_rcpt_rules_init(&rules, ctx->conf);
        enum cove_store_err err = store_rcpt_resolve(ctx->store, &rules, ctx->pool, address,
                                                     msg->len, &rcpt, &error);
        if (err == COVE_STORE_NOPERM)
                return cli_fail(ctx, EX_DATAERR, "invalid user name '%s': %s", address, error);
        if (err != COVE_STORE_OK)
                return deliver_error(ctx, err, address);
        if (box == NULL)
                box = rcpt.mailbox;
        struct cove_store_part part = { .data = msg->data, .size = msg->len };
        struct cove_store_saved saved;
        err = store_deliver(ctx->store, rcpt.user, box, &part, 1, &saved);
        if (err != COVE_STORE_OK)
                return deliver_error(ctx, err, rcpt.user);
        log_info("delivered user=%s mailbox=%s uid=%" PRIu32 " size=%zu", rcpt.user,
                 box != NULL ? box : "INBOX", saved.uid, msg->len);
        return 0;
}

int cli_verb_deliver(struct cli_ctx *ctx)
{
        const char *box = NULL;
        int ret;
        if (ctx->args.mailbox != NULL &&
            (ret = cli_mailbox_name(ctx, ctx->args.mailbox, &box)) != 0)
                return ret;
        size_t max = ctx->conf->limits.max_message_size;
        struct buf msg;
        buf_init(&msg, max);
        if ((ret = message_read(ctx, &msg, max)) == 0 && msg.len == 0)
                ret = cli_fail(ctx, EX_DATAERR, "empty message on stdin");
        if (ret == 0 && ctx->args.crlf)
                ret = message_crlf(ctx, &msg, max);
        if (ret == 0)
                ret = deliver_message(ctx, ctx->args.pos[0], box, &msg);
        buf_free(&msg);
        return ret;
}

/* Parses a UID argument: 1 .. 2^32-1. */
static int uid_arg(struct cli_ctx *ctx, const char *arg, uint32_t *uid_r)
{
        uint64_t value;
        if (!str_to_u64(arg, &value) || value == 0 || value > UINT32_MAX)
                return cli_fail(ctx, EX_USAGE, "invalid UID '%s' (1 to 4294967295)", arg);
        *uid_r = (uint32_t)value;
        return 0;
}

int cli_verb_fetch_check(struct cli_ctx *ctx)
{
        uint32_t uid = 0;
        return uid_arg(ctx, ctx->args.pos[2], &uid);
}

/* Finds the mailbox id of NAME's BOX. */
static int fetch_mailbox(struct cli_ctx *ctx, const char *name, const char *box,
                         uint32_t *mailbox_id_r)
{
        const struct cove_store_user *user;
        const struct cove_store_mailbox *mb;
        struct store_txn *txn;
        int ret = cli_txn_begin(ctx, false, &txn);
        if (ret != 0)
                return ret;
        if ((ret = cli_user_find(ctx, txn, name, &user)) == 0 &&
            (ret = cli_mailbox_find(ctx, txn, user, box, &mb)) == 0)
                *mailbox_id_r = mb->id;
        store_txn_abort(&txn);
        return ret;
}

static int fetch_copy(struct cli_ctx *ctx, struct store_stream *stream, uint64_t size,
                      uint32_t uid)
{
        uint64_t offset = 0;
        while (offset < size) {
                const void *data;
                size_t len;
                enum cove_store_err err = store_stream_read(stream, offset, &data, &len);
                if (err != COVE_STORE_OK)
                        return cli_fail_store(ctx, err, "reading message UID %" PRIu32, uid);
                if (len == 0)
                        break;
                if (fwrite(data, 1, len, ctx->out) != len)
                        return cli_fail(ctx, EX_IOERR, "writing to stdout: %s",
                                        strerror(errno));
                offset += len;
        }
        if (offset != size)
                return cli_fail(ctx, EX_SOFTWARE, "message UID %" PRIu32 " ended after %"
                                PRIu64 " of %" PRIu64 " bytes", uid, offset, size);
        return 0;
}

int cli_verb_fetch(struct cli_ctx *ctx)
{
        const char *name, *box;
        uint32_t uid = 0, mailbox_id = 0;
        struct store_stream *stream;
        uint64_t size;
        int ret;
        if ((ret = cli_user_name(ctx, ctx->args.pos[0], &name)) != 0 ||
            (ret = cli_mailbox_name(ctx, ctx->args.pos[1], &box)) != 0 ||
            (ret = uid_arg(ctx, ctx->args.pos[2], &uid)) != 0 ||
            (ret = fetch_mailbox(ctx, name, box, &mailbox_id)) != 0)
                return ret;
        enum cove_store_err err = store_stream_open(ctx->store, mailbox_id, uid, &stream,
                                                    &size);
        if (err == COVE_STORE_NOTFOUND)
                return cli_fail(ctx, EX_DATAERR, "mailbox '%s' of user '%s' has no message "
                                "UID %" PRIu32, box, name, uid);
        if (err != COVE_STORE_OK)
                return cli_fail_store(ctx, err, "opening message UID %" PRIu32, uid);
        ret = fetch_copy(ctx, stream, size, uid);
        store_stream_close(&stream);
        return ret;
}

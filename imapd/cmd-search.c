/* cmd-search.c - SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8), with the
 * RFC 4731 ESEARCH answer when RETURN options are given.
 *
 * Owns: turning the argument tree into search tokens, walking the view in
 * batches (a producer, so a long search yields to other connections),
 * reading message bytes only when the program needs them, and the
 * "* SEARCH" / "* ESEARCH" replies. Refuses: the grammar and the matching
 * (search-*.c), and announcing EXPUNGE (the SEARCH row carries
 * IMAP_CMD_USES_SEQS, RFC 3501 §7.4.1).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "pool.h"
#include "reply.h"
#include "search.h"
#include "seqset.h"
#include "session.h"
#include "store.h"
#include "view.h"

/* Messages looked at per producer call: record-only programs are cheap;
   programs that read bytes yield more often. */
#define SEARCH_BATCH_RECORDS 1024u
#define SEARCH_BATCH_BYTES 32u
/* Bytes of reply text written per producer call at most. */
#define SEARCH_OUTPUT_PIECE 16384u

struct search_msg_copy {
        uint32_t seq;
        struct cove_store_msg rec;
};

struct search_state {
        struct imap_search_program *prog;
        struct pool *batch_pool;        /* record copies of one batch */
        struct pool *scratch;           /* one message's evaluation */
        uint32_t next_seq;              /* next sequence number to look at */
        uint32_t *matches;              /* seq or UID, ascending */
        size_t match_count;
        enum cove_store_err err;
        const char *reply;              /* the untagged reply text, once built */
        size_t reply_len, reply_pos;
        /* the message being read */
        struct store_stream *stream;
        uint32_t stream_uid;
        bool stream_tried;
};

/* ---- arguments -> tokens ---- */

static size_t count_tokens(const struct imap_arg *args, size_t count)
{
        size_t n = 0;

        /* The tokenizer bounds list nesting (IMAP_PARSER_MAX_DEPTH). */
        for (size_t i = 0; i < count; i++) {
                n++;
                if (args[i].type == IMAP_ARG_LIST)
                        n += 1 + count_tokens(args[i].list, args[i].list_count);
        }
        return n;
}

static bool fill_tokens(const struct imap_arg *args, size_t count,
                        struct imap_search_tok *toks, size_t *pos)
{
        for (size_t i = 0; i < count; i++) {
                struct imap_search_tok *t = &toks[(*pos)++];

                switch (args[i].type) {
                case IMAP_ARG_LIST:
                        t->type = IMAP_SEARCH_TOK_LIST_OPEN;
                        if (!fill_tokens(args[i].list, args[i].list_count, toks, pos))
                                return false;
                        toks[(*pos)++].type = IMAP_SEARCH_TOK_LIST_CLOSE;
                        break;
                case IMAP_ARG_QUOTED:
                case IMAP_ARG_LITERAL:
                        if (args[i].str == NULL)
                                return false;   /* spooled: never for SEARCH */
                        t->type = IMAP_SEARCH_TOK_STRING;
                        t->data = args[i].str;
                        t->len = args[i].len;
                        break;
                case IMAP_ARG_ATOM:
                case IMAP_ARG_NIL:
                        t->type = IMAP_SEARCH_TOK_ATOM;
                        t->data = args[i].str;
                        t->len = args[i].len;
                        break;
                }
        }
        return true;
}

/* ---- message bytes, opened on first need ---- */

static void stream_done(struct search_state *st)
{
        if (st->stream != NULL)
                store_stream_close(&st->stream);
        st->stream_tried = false;
}

struct search_read_ctx {
        struct imap_cmd *cmd;
        struct search_state *st;
};

static enum cove_store_err search_read(void *context, uint64_t offset, const void **data_r,
                                       size_t *len_r)
{
        struct search_read_ctx *rc = context;
        struct search_state *st = rc->st;
        struct imap_view *view = rc->cmd->session->view;

        if (st->stream == NULL) {
                uint64_t size;
                enum cove_store_err err;

                if (st->stream_tried)
                        return COVE_STORE_EXPUNGED;
                st->stream_tried = true;
                err = store_stream_open(rc->cmd->session->daemon->store, view->mailbox_id,
                                        st->stream_uid, &st->stream, &size);
                if (err == COVE_STORE_NOTFOUND)
                        return COVE_STORE_EXPUNGED;
                if (err != COVE_STORE_OK)
                        return err;
        }
        return store_stream_read(st->stream, offset, data_r, len_r);
}

/* ---- evaluation ---- */

static enum cove_store_err eval_one(struct imap_cmd *cmd, struct search_state *st,
                                    uint32_t seq, const struct cove_store_msg *rec)
{
        struct imap_view *view = cmd->session->view;
        struct search_read_ctx rc = { .cmd = cmd, .st = st };
        struct imap_search_msg msg = {
                .rec = rec, .seq = seq, .recent = imap_view_is_recent(view, rec->uid),
                .read = search_read, .read_ctx = &rc,
        };
        enum cove_store_err err;
        bool match;

        st->stream_uid = rec->uid;
        err = imap_search_eval(st->prog, &msg, st->scratch, &match);
        stream_done(st);
        pool_clear(st->scratch);
        if (err == COVE_STORE_OK && match)
                st->matches[st->match_count++] = cmd->uid ? rec->uid : seq;
        return err;
}

static void copy_record(struct pool *pool, struct cove_store_msg *dst,
                        const struct cove_store_msg *src)
{
        char **keywords = pool_alloc(pool, (src->keyword_count + 1) * sizeof(*keywords));

        *dst = *src;
        for (size_t i = 0; i < src->keyword_count; i++)
                keywords[i] = pool_strdup(pool, src->keywords[i]);
        dst->keywords = (const char *const *)keywords;
        dst->structure = src->structure_len == 0 ? NULL :
                pool_memdup(pool, src->structure, src->structure_len);
        dst->uidl = NULL;
}

/* Looks at sequence numbers first..last. Records come from one short read
   txn; a program that reads bytes gets copies and the txn ends before any
   streaming, so no snapshot is held while bodies are read. */
static enum cove_store_err search_batch(struct imap_cmd *cmd, struct search_state *st,
                                        uint32_t first, uint32_t last)
{
        struct imap_view *view = cmd->session->view;
        bool needs_bytes = st->prog->uses_header || st->prog->uses_body;
        struct search_msg_copy *copies = NULL;
        size_t ncopies = 0;
        const struct cove_store_msg *rec;
        struct store_iter *iter;
        struct store_txn *txn;
        uint32_t seq = first;
        enum cove_store_err err;

        err = imap_cmd_txn(cmd, false, &txn);
        if (err == COVE_STORE_OK)
                err = store_msg_iter_init(txn, view->mailbox_id, view->uids[first - 1],
                                          view->uids[last - 1], &iter);
        if (err != COVE_STORE_OK)
                return err;
        if (needs_bytes)
                copies = pool_alloc(st->batch_pool, (last - first + 1) * sizeof(*copies));
        while ((err = store_msg_iter_next(iter, &rec)) == COVE_STORE_OK) {
                while (seq <= last && view->uids[seq - 1] < rec->uid)
                        seq++;
                if (seq > last)
                        break;
                /* Not in the view: delivered after it was last synced. Absent
                   from the store: expunged elsewhere, not announced yet. Both
                   are skipped. */
                if (view->uids[seq - 1] != rec->uid)
                        continue;
                if (!needs_bytes) {
                        err = eval_one(cmd, st, seq, rec);
                        if (err != COVE_STORE_OK)
                                break;
                        continue;
                }
                copies[ncopies].seq = seq;
                copy_record(st->batch_pool, &copies[ncopies++].rec, rec);
        }
        store_iter_deinit(&iter);
        imap_cmd_txn_end(cmd);
        if (err != COVE_STORE_OK && err != COVE_STORE_NOTFOUND)
                return err;
        err = COVE_STORE_OK;
        for (size_t i = 0; i < ncopies && err == COVE_STORE_OK; i++)
                err = eval_one(cmd, st, copies[i].seq, &copies[i].rec);
        pool_clear(st->batch_pool);
        return err;
}

/* ---- the reply ---- */

/* "* SEARCH n..." (RFC 3501 §7.2.5) or, with RETURN, "* ESEARCH (TAG "t")
   [UID] MIN MAX COUNT ALL" (RFC 4731 §3.1: MIN, MAX and ALL are left out
   when nothing matched; COUNT 0 is given). */
static void build_reply(struct imap_cmd *cmd, struct search_state *st)
{
        unsigned opts = st->prog->return_opts;
        size_t n = st->match_count;
        char *text, *p;

        if (!st->prog->esearch) {
                /* UNSAFE: "* SEARCH", at most 11 bytes per number, CRLF, NUL */
                p = text = pool_alloc(cmd->pool, 8 + n * 11 + 3);
                p = stpcpy(p, "* SEARCH");
                for (size_t i = 0; i < n; i++)
                        p += sprintf(p, " %u", st->matches[i]);
                p = stpcpy(p, "\r\n");
                st->reply = text;
                st->reply_len = (size_t)(p - text);
                return;
        }
        /* imap_tag_valid() admits no '"' or '\\' in a tag. */
        text = pool_printf(cmd->pool, "* ESEARCH (TAG \"%s\")%s", cmd->tag,
                           cmd->uid ? " UID" : "");
        if (n > 0 && (opts & IMAP_SEARCH_RETURN_MIN) != 0)
                text = pool_printf(cmd->pool, "%s MIN %u", text, st->matches[0]);
        if (n > 0 && (opts & IMAP_SEARCH_RETURN_MAX) != 0)
                text = pool_printf(cmd->pool, "%s MAX %u", text, st->matches[n - 1]);
        if ((opts & IMAP_SEARCH_RETURN_COUNT) != 0)
                text = pool_printf(cmd->pool, "%s COUNT %zu", text, n);
        if (n > 0 && (opts & IMAP_SEARCH_RETURN_ALL) != 0) {
                struct imap_seqset *set = imap_seqset_from_sorted(cmd->pool, st->matches, n);
                text = pool_printf(cmd->pool, "%s ALL %s", text,
                                   imap_seqset_format(cmd->pool, set));
        }
        st->reply = pool_printf(cmd->pool, "%s\r\n", text);
        st->reply_len = strlen(st->reply);
}

static enum imap_produce search_produce(struct imap_cmd *cmd, void *context)
{
        struct search_state *st = context;
        uint32_t count = cmd->session->view->count;

        if (st->reply == NULL) {
                if (st->next_seq <= count) {
                        uint32_t batch = st->prog->uses_header || st->prog->uses_body ?
                                SEARCH_BATCH_BYTES : SEARCH_BATCH_RECORDS;
                        uint32_t first = st->next_seq;
                        uint32_t last = count - first < batch ? count : first + batch - 1;

                        st->err = search_batch(cmd, st, first, last);
                        st->next_seq = last + 1;
                        if (st->err != COVE_STORE_OK)
                                return IMAP_PRODUCE_DONE;
                        if (st->next_seq <= count)
                                return IMAP_PRODUCE_MORE;
                }
                build_reply(cmd, st);
        }
        while (st->reply_pos < st->reply_len && !imap_reply_output_full(cmd)) {
                size_t piece = st->reply_len - st->reply_pos;

                if (piece > SEARCH_OUTPUT_PIECE)
                        piece = SEARCH_OUTPUT_PIECE;
                imap_reply_write(cmd, st->reply + st->reply_pos, piece);
                st->reply_pos += piece;
        }
        return st->reply_pos < st->reply_len ? IMAP_PRODUCE_MORE : IMAP_PRODUCE_DONE;
}

static void search_cleanup(struct imap_cmd *cmd, void *context)
{
        struct search_state *st = context;

        stream_done(st);
        pool_destroy(&st->batch_pool);
        pool_destroy(&st->scratch);
}

/* Parses the arguments; on failure the tagged reply is set. */
static bool search_parse(struct imap_cmd *cmd, struct imap_search_program **prog_r)
{
        size_t n = count_tokens(cmd->args, cmd->arg_count), pos = 0;
        struct imap_search_tok *toks = pool_alloc(cmd->pool, (n + 1) * sizeof(*toks));
        const char *error;

        if (!fill_tokens(cmd->args, cmd->arg_count, toks, &pos)) {
                imap_reply_bad(cmd, "Invalid search arguments");
                return false;
        }
        switch (imap_search_parse(cmd->pool, toks, pos, prog_r, &error)) {
        case IMAP_SEARCH_PARSE_OK:
                return true;
        case IMAP_SEARCH_PARSE_BADCHARSET:
                /* RFC 3501 §6.4.4: NO with the charsets we do support. */
                imap_reply_tagged(cmd, "NO", "[BADCHARSET (UTF-8 US-ASCII)] %s", error);
                return false;
        case IMAP_SEARCH_PARSE_BAD:
                break;
        }
        imap_reply_bad(cmd, "%s", error);
        return false;
}

enum cmd_result imap_cmd_search(struct imap_cmd *cmd)
{
        struct search_state *st = cmd->context;
        const char *what = cmd->uid ? "UID SEARCH" : "SEARCH";

        if (st == NULL) {
                struct imap_view *view = cmd->session->view;
                struct imap_search_mailbox box = {
                        .messages = view->count,
                        .max_uid = view->count > 0 ? view->uids[view->count - 1] : 0,
                };
                struct imap_search_program *prog;

                if (!search_parse(cmd, &prog))
                        return CMD_RESULT_DONE;
                imap_search_bind(prog, cmd->pool, &box);
                st = cmd->context = pool_alloc(cmd->pool, sizeof(*st));
                st->prog = prog;
                st->next_seq = 1;
                st->matches = pool_alloc(cmd->pool, ((size_t)view->count + 1) *
                                                    sizeof(*st->matches));
                st->batch_pool = pool_create("search-batch", 16384);
                st->scratch = pool_create("search-scratch", 16384);
                imap_cmd_set_cleanup(cmd, search_cleanup, st);
                imap_cmd_stream(cmd, search_produce, st);
                return CMD_RESULT_MORE;
        }
        if (st->err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, st->err, what);
        return imap_reply_ok(cmd, "%s completed", what);
}

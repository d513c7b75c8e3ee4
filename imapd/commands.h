/* commands.h - the IMAP command contract: struct imap_cmd, handlers, the table.
 *
 * Owns: what a handler receives (parsed arguments, session, command pool,
 * store transaction), how it suspends (waiting for a line, streaming with a
 * producer, waiting for an event) and the sorted command table with its
 * state and grammar checks. Refuses: socket I/O (session.c) and reply
 * formatting (reply.h). See imapd/API.md for the handler's life cycle.
 */
#ifndef COVE_IMAP_COMMANDS_H
#define COVE_IMAP_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/storage.h"
#include "parser.h"
#include "session.h"

struct buf;
struct pool;
struct store_txn;

enum cmd_result {
        CMD_RESULT_DONE,    /* finished; the tagged reply was set (reply.h) */
        CMD_RESULT_MORE,    /* suspended; called again when what it waits for is ready */
        CMD_RESULT_ABORT,   /* close the connection (after flushing output) */
};

/* Command flags (the dispatcher checks them before calling the handler). */
enum imap_cmd_flags {
        IMAP_CMD_NOTAUTH = 1 << 0,     /* allowed in NOTAUTH */
        IMAP_CMD_AUTH = 1 << 1,        /* allowed in AUTH */
        IMAP_CMD_SELECTED = 1 << 2,    /* allowed in SELECTED */
        IMAP_CMD_UID = 1 << 3,         /* the "UID <command>" form: cmd->uid is true */
        IMAP_CMD_USES_SEQS = 1 << 4,   /* takes sequence numbers: no EXPUNGE may be
                                          announced during it (RFC 3501 §7.4.1) */
        IMAP_CMD_SPOOL = 1 << 5,       /* top-level literals after the first argument
                                          stream to a spool (APPEND) */
        IMAP_CMD_WRITES = 1 << 6,      /* changes the store: runs in the worker's
                                          next write batch (storage/write-batch.h) */
        IMAP_CMD_ANY = IMAP_CMD_NOTAUTH | IMAP_CMD_AUTH | IMAP_CMD_SELECTED,
        IMAP_CMD_AUTHED = IMAP_CMD_AUTH | IMAP_CMD_SELECTED,
};

struct imap_cmd;
typedef enum cmd_result imap_cmd_fn(struct imap_cmd *cmd);

/* A producer streams a long reply; it writes (reply.h) until
   imap_reply_output_full() or its end. DONE: the handler is called again. */
enum imap_produce {
        IMAP_PRODUCE_MORE,
        IMAP_PRODUCE_DONE,
};
typedef enum imap_produce imap_produce_fn(struct imap_cmd *cmd, void *context);
/* Runs once when the command ends, whatever way (done, aborted, connection
   closed mid-command): release streams, spools, store handles. */
typedef void imap_cmd_cleanup_fn(struct imap_cmd *cmd, void *context);

struct imap_cmd_entry {
        const char *name;           /* upper case; "UID FETCH" for UID forms */
        imap_cmd_fn *handler;
        unsigned flags;             /* enum imap_cmd_flags */
        /* Argument grammar after the command name, checked before the handler
           runs: space-separated types, "[type]" optional (only at the end),
           "..." anything further. Types: atom, astring, string, mailbox
           (astring), seqset (atom in sequence-set syntax), list, any. */
        const char *args;
};

struct imap_cmd {
        struct imap_session *session;
        struct pool *pool;          /* the command pool: cleared when the command ends */
        const struct imap_cmd_entry *entry;
        const char *tag;
        const char *name;           /* upper-cased, "UID FETCH" for UID forms */
        bool uid;                   /* a UID command */
        const struct imap_arg *args;   /* arguments after the command name */
        size_t arg_count;
        void *context;              /* the handler's state between calls */

        /* Set by session.c when the handler waits for a line (imap_cmd_wait_line):
           the line, NUL-terminated, valid during this call only. */
        const char *line;
        size_t line_len;
        bool line_too_long;

        /* private to session.c / reply.c */
        struct store_txn *txn;
        bool txn_write;
        imap_produce_fn *producer;
        void *producer_ctx;
        imap_cmd_cleanup_fn *cleanup;
        void *cleanup_ctx;
        const char *tagged;         /* the tagged reply line, without tag and CRLF */
        bool wait_line;
        bool suspended;             /* waiting on something outside session.c */
        bool sync_done;             /* the view was synced before the tagged reply */
        bool batched;               /* queued for (and run in) a write batch */
};

/* Fills cmd->name/entry/uid/args from the arguments after the tag. Returns
   false with the tagged reply set (BAD unknown command). */
bool imap_cmd_prepare(struct imap_cmd *cmd, const struct imap_arg *args, size_t count);

/* The CAPABILITY list for this session's state and link (in pool). */
const char *imap_capability_string(const struct imap_session *session, struct pool *pool);

/* The table, sorted by name (binary search). */
const struct imap_cmd_entry *imap_cmd_find(const char *name);

/* Checks state, selection and the argument grammar for cmd. Returns true, or
   false with the tagged reply (BAD/NO) already set. */
bool imap_cmd_validate(struct imap_cmd *cmd);

/* ---- handler services ---- */

/* A store transaction for this command, begun on first use and aborted when
   the command ends unless committed with imap_cmd_txn_commit(). Asking for
   a write txn when a read one is open is a programming error. A write txn
   of an IMAP_CMD_WRITES command is nested in the worker's write batch, so
   its commit reaches the disk with the batch's; either way the tagged reply
   waits for the worker's next shared flush (storage/group-commit.h) and
   reports its failure. */
enum cove_store_err imap_cmd_txn(struct imap_cmd *cmd, bool write, struct store_txn **txn_r);
enum cove_store_err imap_cmd_txn_commit(struct imap_cmd *cmd);
/* Ends the txn without committing (e.g. before streaming). */
void imap_cmd_txn_end(struct imap_cmd *cmd);

/* Suspend helpers: call one, then return CMD_RESULT_MORE. */
/* Called again with cmd->line set when the client sends a line. */
void imap_cmd_wait_line(struct imap_cmd *cmd);
/* Streams with fn until it returns DONE, then calls the handler again. */
void imap_cmd_stream(struct imap_cmd *cmd, imap_produce_fn *fn, void *context);
/* Waits for an outside event; the event's callback calls imap_cmd_resume(). */
void imap_cmd_suspend(struct imap_cmd *cmd);
void imap_cmd_resume(struct imap_cmd *cmd);
/* Runs the handler again, from the start, first in the worker's next write
   batch (write_batch_enqueue_first: before the batch changed anything), for
   a command not flagged IMAP_CMD_WRITES that found, before changing
   anything, that it has a small write to make (a \Recent claim): in the
   batch that write nests in the batch's txn instead of taking the store's
   writer lock on the event loop. Ends the command's txn; the command must
   not be batched already. Return what it returns. */
enum cmd_result imap_cmd_run_in_batch(struct imap_cmd *cmd);

void imap_cmd_set_cleanup(struct imap_cmd *cmd, imap_cmd_cleanup_fn *fn, void *context);

/* Mailbox names: client form (modified UTF-7, configured delimiter) to store
   form ('/', UTF-8, INBOX normalised). Returns false with a static *error_r
   for names that cannot be valid. */
bool imap_mailbox_to_store(struct imap_cmd *cmd, const char *name, const char **store_r,
                           const char **error_r);
/* Store form to client form, in cmd->pool. NULL when the name cannot be
   shown with the configured delimiter (it contains it in a component). */
const char *imap_mailbox_from_store(struct imap_cmd *cmd, const char *store_name);

/* ---- shared between command files ---- */

/* Expunges the messages of the view that carry \Deleted, limited to seqs
   (ascending; NULL: all), in one write txn. announce: write "* n EXPUNGE"
   for each (EXPUNGE, UID EXPUNGE) or not (CLOSE). The view loses them.
   Returns the store's code (INUSE while POP3 holds INBOX). */
enum cove_store_err imap_expunge_deleted(struct imap_cmd *cmd, const uint32_t *seqs,
                                         size_t count, bool announce);

/* RFC 6154 special-use names (\Sent ...) <-> COVE_SPECIAL_* bits
   (cmd-mailbox.c). append adds " \Sent" etc. for each bit. */
bool imap_special_use_parse(const char *name, uint32_t *bit_r);
void imap_special_use_append(struct buf *buf, uint32_t bits);

/* STATUS items (cmd-status.c): the list is valid (MESSAGES, RECENT, UIDNEXT,
   UIDVALIDITY, UNSEEN, SIZE); write "* STATUS name (...)" for mbox. */
bool imap_status_items_valid(const struct imap_arg *items, size_t count);
void imap_status_write(struct imap_cmd *cmd, const struct cove_store_mailbox *mbox,
                       const char *imap_name, const struct imap_arg *items, size_t count);

/* A flag list (cmd-store.c): system flags to *flags_r, keywords to
   *keywords_r (in cmd->pool); \Recent is ignored. False with a static
   *error_r for an unknown system flag or a bad keyword. */
bool imap_flags_parse(struct imap_cmd *cmd, const struct imap_arg *list, size_t count,
                      uint32_t *flags_r, const char ***keywords_r, size_t *kw_count_r,
                      const char **error_r);

/* ---- handlers (one file per command or family) ---- */
imap_cmd_fn imap_cmd_append;
imap_cmd_fn imap_cmd_authenticate;
imap_cmd_fn imap_cmd_capability;
imap_cmd_fn imap_cmd_check;
imap_cmd_fn imap_cmd_close;
imap_cmd_fn imap_cmd_copy;
imap_cmd_fn imap_cmd_create;
imap_cmd_fn imap_cmd_delete;
imap_cmd_fn imap_cmd_enable;
imap_cmd_fn imap_cmd_examine;
imap_cmd_fn imap_cmd_expunge;
imap_cmd_fn imap_cmd_fetch;
imap_cmd_fn imap_cmd_getquota;
imap_cmd_fn imap_cmd_getquotaroot;
imap_cmd_fn imap_cmd_id;
imap_cmd_fn imap_cmd_idle;
imap_cmd_fn imap_cmd_list;
imap_cmd_fn imap_cmd_login;
imap_cmd_fn imap_cmd_logout;
imap_cmd_fn imap_cmd_lsub;
imap_cmd_fn imap_cmd_move;
imap_cmd_fn imap_cmd_namespace;
imap_cmd_fn imap_cmd_noop;
imap_cmd_fn imap_cmd_rename;
imap_cmd_fn imap_cmd_search;
imap_cmd_fn imap_cmd_select;
imap_cmd_fn imap_cmd_setquota;
imap_cmd_fn imap_cmd_starttls;
imap_cmd_fn imap_cmd_status;
imap_cmd_fn imap_cmd_store;
imap_cmd_fn imap_cmd_subscribe;
imap_cmd_fn imap_cmd_unselect;
imap_cmd_fn imap_cmd_unsubscribe;

#endif

/* cmd-quit.c - QUIT (RFC 1939 §6): the UPDATE state.
 *
 * Owns: leaving the session; in TRANSACTION, applying every DELE in one
 * transaction that holds the maildrop lock, then releasing the lock. Does
 * not: expunge by itself (maildrop.c).
 */
#include <inttypes.h>

#include "commands.h"
#include "log.h"
#include "maildrop.h"
#include "session.h"

void pop3_cmd_quit(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        struct pop3_maildrop *md = s->maildrop;
        enum cove_store_err err;

        if (s->state == POP3_STATE_AUTHORIZATION) {
                conn_write_str(&s->conn, "+OK Bye\r\n");
                conn_close_after_flush(&s->conn, "QUIT");
                return;
        }
        pop3_session_set_state(s, POP3_STATE_UPDATE);
        err = pop3_maildrop_update(s->daemon->store, s->lock, md);
        store_lock_release(&s->lock);
        if (err != COVE_STORE_OK) {
                /* RFC 1939 §6: -ERR when some deleted messages were not
                   removed; here none were (one transaction). */
                log_error("session=%s proto=pop3 user=%s update failed: %s: %s", s->conn.id,
                          s->user, cove_store_strerror(err), store_last_error(s->daemon->store));
                pop3_reply_err(s, "[SYS/TEMP] Deleted messages were not removed, try again");
                conn_close_after_flush(&s->conn, "QUIT (update failed)");
                return;
        }
        log_info("session=%s proto=pop3 user=%s update deleted=%" PRIu32 " left=%" PRIu32,
                 s->conn.id, s->user, md->deleted_count, md->count - md->deleted_count);
        pop3_reply_ok(s, "Bye, %" PRIu32 " message%s left", md->count - md->deleted_count,
                      md->count - md->deleted_count == 1 ? "" : "s");
        conn_close_after_flush(&s->conn, "QUIT");
}

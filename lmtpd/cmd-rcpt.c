/* cmd-rcpt.c - RCPT TO (RFC 5321 §4.1.1.3, RFC 2033 §4.2): each recipient is
 * resolved and checked (user exists, quota has room for SIZE=) at once.
 *
 * Owns the recipient list of a transaction and its limit. Addressing rules
 * (default domain, plus-addressing) are storage/deliver.c's.
 */
#include "address.h"
#include "commands.h"
#include "conf.h"
#include "deliver.h"
#include "log.h"
#include "pool.h"
#include "session.h"

static void rcpt_add(struct lmtp_session *session, const struct store_rcpt *rcpt)
{
        if (session->rcpt_count == session->rcpt_cap) {
                size_t cap = session->rcpt_cap == 0 ? 4 : session->rcpt_cap * 2;
                session->rcpts = pool_realloc(session->txn_pool, session->rcpts,
                                              session->rcpt_cap * sizeof(*session->rcpts),
                                              cap * sizeof(*session->rcpts));
                session->rcpt_cap = cap;
        }
        session->rcpts[session->rcpt_count++].rcpt = *rcpt;
}

void lmtp_cmd_rcpt(struct lmtp_session *session, const char *args)
{
        struct lmtp_path path;
        struct store_rcpt rcpt;
        const char *error;
        struct lmtp_server *server = session->server;
        if (!str_has_prefix_nocase(args, "TO:")) {
                lmtp_reply(session, "501 5.5.4 Syntax: RCPT TO:<address>");
                lmtp_session_error(session);
                return;
        }
        if (lmtp_path_parse(session->cmd_pool, args + 3, LMTP_PATH_FORWARD, &path, &error) < 0) {
                lmtp_reply(session, "501 5.1.3 Bad recipient address syntax: %s", error);
                lmtp_session_error(session);
                return;
        }
        if (path.param_count > 0) {
                lmtp_reply(session, "555 5.5.4 Unsupported parameter %.64s",
                           path.params[0].key);
                lmtp_session_error(session);
                return;
        }
        if (session->rcpt_count >= server->conf->lmtp_delivery.max_recipients) {
                lmtp_reply(session, "452 4.5.3 Error: too many recipients");
                return;
        }
        enum cove_store_err err = store_rcpt_resolve(server->store, &server->rules,
                                                     session->txn_pool, path.mailbox,
                                                     session->size_hint, &rcpt, &error);
        if (err == COVE_STORE_NOPERM) {
                lmtp_reply(session, "501 5.1.3 Bad recipient address: %s", error);
                lmtp_session_error(session);
                return;
        }
        if (err != COVE_STORE_OK) {
                if (err != COVE_STORE_NOTFOUND && err != COVE_STORE_OVERQUOTA)
                        log_error("session=%s proto=lmtp rcpt=<%s>: %s", session->conn.id,
                                  path.mailbox, store_last_error(server->store));
                lmtp_reply_store_err(session, err, path.mailbox);
                return;
        }
        rcpt_add(session, &rcpt);
        lmtp_reply_store_err(session, COVE_STORE_OK, rcpt.address);
}

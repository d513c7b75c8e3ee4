/* cmd-mail.c - MAIL FROM (RFC 5321 §4.1.1.2) with the SIZE (RFC 1870) and
 * BODY (RFC 6152, RFC 3030) parameters.
 *
 * Owns the sender and the message size announcement of a transaction. Does
 * not check the sender: the MTA in front of us has done so.
 */
#include <string.h>

#include "address.h"
#include "buf.h"
#include "commands.h"
#include "log.h"
#include "pool.h"
#include "session.h"

static bool mail_size(struct lmtp_session *session, const char *value)
{
        uint64_t size;
        if (value == NULL || !str_to_u64(value, &size)) {
                lmtp_reply(session, "501 5.5.4 Syntax error in SIZE parameter");
                return false;
        }
        if (size > session->server->max_size) {
                /* RFC 1870 §6.1: known too big before any data is sent. */
                lmtp_reply(session, "552 5.3.4 Message size exceeds fixed maximum message "
                           "size");
                return false;
        }
        session->size_hint = size;
        return true;
}

static bool mail_body(struct lmtp_session *session, const char *value)
{
        if (value != NULL && str_eq_nocase(value, "7BIT"))
                session->body = LMTP_BODY_7BIT;
        else if (value != NULL && str_eq_nocase(value, "8BITMIME"))
                session->body = LMTP_BODY_8BITMIME;
        else if (value != NULL && str_eq_nocase(value, "BINARYMIME"))
                session->body = LMTP_BODY_BINARYMIME;
        else {
                lmtp_reply(session, "501 5.5.4 Unknown BODY type");
                return false;
        }
        return true;
}

/* Applies one MAIL parameter; false after replying with the error. */
static bool mail_param(struct lmtp_session *session, const struct lmtp_param *param)
{
        if (str_eq_nocase(param->key, "SIZE"))
                return mail_size(session, param->value);
        if (str_eq_nocase(param->key, "BODY"))
                return mail_body(session, param->value);
        lmtp_reply(session, "555 5.5.4 Unsupported parameter %.64s", param->key);
        return false;
}

void lmtp_cmd_mail(struct lmtp_session *session, const char *args)
{
        struct lmtp_path path;
        const char *error;
        if (!str_has_prefix_nocase(args, "FROM:")) {
                lmtp_reply(session, "501 5.5.4 Syntax: MAIL FROM:<address>");
                lmtp_session_error(session);
                return;
        }
        if (lmtp_path_parse(session->cmd_pool, args + 5, LMTP_PATH_REVERSE, &path, &error) < 0) {
                lmtp_reply(session, "501 5.1.7 Bad sender address syntax: %s", error);
                lmtp_session_error(session);
                return;
        }
        session->size_hint = 0;
        session->body = LMTP_BODY_7BIT;
        for (size_t i = 0; i < path.param_count; i++) {
                if (!mail_param(session, &path.params[i])) {
                        lmtp_session_error(session);
                        lmtp_session_reset(session);
                        return;
                }
        }
        session->sender = pool_strdup(session->txn_pool, path.mailbox);
        lmtp_session_set_state(session, LMTP_STATE_MAIL);
        lmtp_reply(session, "250 2.1.0 OK");
}

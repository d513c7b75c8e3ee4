/* cmd-lhlo.c - LHLO (RFC 2033 §4.1) and the refusal of HELO and EHLO.
 *
 * Owns the extension list: PIPELINING (RFC 2920), ENHANCEDSTATUSCODES
 * (RFC 2034), 8BITMIME (RFC 6152), SIZE (RFC 1870), CHUNKING and BINARYMIME
 * (RFC 3030). Does not check the client's name beyond its presence.
 */
#include <inttypes.h>

#include "commands.h"
#include "log.h"
#include "pool.h"
#include "session.h"

void lmtp_cmd_lhlo(struct lmtp_session *session, const char *args)
{
        if (args[0] == '\0') {
                lmtp_reply(session, "501 5.5.4 Syntax: LHLO hostname");
                lmtp_session_error(session);
                return;
        }
        /* Like EHLO (RFC 5321 §4.1.4), LHLO ends any transaction. */
        lmtp_session_reset(session);
        lmtp_session_set_state(session, LMTP_STATE_READY);
        log_debug("session=%s proto=lmtp lhlo=\"%.64s\"", session->conn.id, args);
        lmtp_reply(session, "250-%s", session->server->hostname);
        lmtp_reply(session, "250-PIPELINING");
        lmtp_reply(session, "250-ENHANCEDSTATUSCODES");
        lmtp_reply(session, "250-8BITMIME");
        lmtp_reply(session, "250-SIZE %" PRIu64, session->server->max_size);
        lmtp_reply(session, "250-CHUNKING");
        lmtp_reply(session, "250 BINARYMIME");
}

void lmtp_cmd_helo(struct lmtp_session *session, const char *args)
{
        /* RFC 2033 §4.1: an LMTP server must not accept HELO or EHLO. */
        lmtp_reply(session, "500 5.5.1 Error: this is LMTP, use LHLO");
        lmtp_session_error(session);
}

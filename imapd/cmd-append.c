/* cmd-append.c - APPEND with flags and date (RFC 3501 §6.3.11), APPENDUID
 * (RFC 4315) and APPENDLIMIT (RFC 7889).
 *
 * Owns: the optional flag list and date-time, handing the spooled message to
 * the store, and the TRYCREATE / TOOBIG / OVERQUOTA answers. Does not: read
 * the literal (session.c streams it into a spool, bounded by APPENDLIMIT
 * before a byte is accepted) or parse MIME (the facade does).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "commands.h"
#include "pool.h"
#include "reply.h"
#include "spool.h"
#include "store.h"

/* date-time = "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"). */
static bool parse_date_time(const char *s, int64_t *time_r, int32_t *tz_r)
{
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        char mon[4];
        int day, year, hh, mm, ss, zone, consumed = 0;
        char sign;
        if (strlen(s) != 26 && strlen(s) != 25)
                return false;
        if (sscanf(s, "%2d-%3c-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year, &hh, &mm, &ss,
                   &sign, &zone, &consumed) != 8 || s[consumed] != '\0')
                return false;
        mon[3] = '\0';
        const char *m = strcasestr(months, mon);
        if (m == NULL || (m - months) % 3 != 0 || (sign != '+' && sign != '-') ||
            day < 1 || day > 31 || year < 1900 || hh > 23 || mm > 59 || ss > 60 ||
            hh < 0 || mm < 0 || ss < 0 || zone < 0 || zone % 100 > 59)
                return false;
        struct tm tm = { .tm_mday = day, .tm_mon = (int)((m - months) / 3),
                         .tm_year = year - 1900, .tm_hour = hh, .tm_min = mm, .tm_sec = ss };
        int32_t tz = (zone / 100) * 60 + zone % 100;
        if (sign == '-')
                tz = -tz;
        *time_r = (int64_t)timegm(&tm) - (int64_t)tz * 60;
        *tz_r = tz;
        return true;
}

struct append_req {
        const char *mailbox;
        uint32_t flags;
        const char **keywords;
        size_t kw_count;
        int64_t date;
        int32_t tz;
        const struct imap_arg *message;
};

static bool append_parse(struct imap_cmd *cmd, struct append_req *req)
{
        size_t i = 1;
        const char *error;
        if (i < cmd->arg_count && cmd->args[i].type == IMAP_ARG_LIST) {
                const struct imap_arg *list;
                size_t n;
                (void)imap_arg_get_list(&cmd->args[i], &list, &n);
                if (!imap_flags_parse(cmd, list, n, &req->flags, &req->keywords, &req->kw_count,
                                      &error)) {
                        imap_reply_bad(cmd, "%s", error);
                        return false;
                }
                i++;
        }
        if (i < cmd->arg_count && cmd->args[i].type == IMAP_ARG_QUOTED) {
                if (!parse_date_time(cmd->args[i].str, &req->date, &req->tz)) {
                        imap_reply_bad(cmd, "Invalid date-time");
                        return false;
                }
                i++;
        }
        if (i + 1 != cmd->arg_count || cmd->args[i].type != IMAP_ARG_LITERAL) {
                imap_reply_bad(cmd, i < cmd->arg_count ? "Invalid APPEND arguments" :
                               "Missing message literal");
                return false;
        }
        req->message = &cmd->args[i];
        return true;
}

static bool append_message(struct imap_cmd *cmd, const struct imap_arg *arg,
                           struct cove_store_part *part)
{
        const void *data = arg->str;
        size_t len = arg->len;
        const char *error;
        if (arg->spool != NULL && imap_spool_map(arg->spool, &data, &len, &error) < 0) {
                imap_reply_internal(cmd, "%s", error);
                return false;
        }
        part->data = data;
        part->size = len;
        return true;
}

enum cmd_result imap_cmd_append(struct imap_cmd *cmd)
{
        struct append_req req = { 0 };
        const char *name, *store_name, *error;
        (void)imap_arg_astring(&cmd->args[0], &name, NULL);
        if (!append_parse(cmd, &req))
                return CMD_RESULT_DONE;
        if (!imap_mailbox_to_store(cmd, name, &store_name, &error))
                return imap_reply_no(cmd, "[TRYCREATE] %s", error);
        struct cove_store_part part;
        if (!append_message(cmd, req.message, &part))
                return CMD_RESULT_DONE;
        if (part.size == 0)
                return imap_reply_no(cmd, "Cannot save an empty message");
        struct store_txn *txn;
        const struct cove_store_mailbox *mbox;
        enum cove_store_err err = imap_cmd_txn(cmd, true, &txn);
        if (err == COVE_STORE_OK)
                err = store_mailbox_lookup(txn, cmd->session->user_id, store_name, &mbox);
        if (err == COVE_STORE_NOTFOUND)
                return imap_reply_no(cmd, "[TRYCREATE] Mailbox does not exist");
        struct store_append msg = {
                .parts = &part, .part_count = 1, .flags = req.flags,
                .keywords = (const char *const *)req.keywords, .keyword_count = req.kw_count,
                .internal_date = req.date, .internal_tz = req.tz,
        };
        struct cove_store_saved saved;
        if (err == COVE_STORE_OK)
                err = store_msg_append(txn, mbox->id, &msg, &saved);
        if (err == COVE_STORE_OK)
                err = imap_cmd_txn_commit(cmd);
        if (err != COVE_STORE_OK)
                return imap_reply_store_err(cmd, err, "APPEND");
        return imap_reply_ok(cmd, "[APPENDUID %u %u] APPEND completed", saved.uidvalidity,
                             saved.uid);
}

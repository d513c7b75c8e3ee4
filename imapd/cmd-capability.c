/* cmd-capability.c - CAPABILITY, ID (RFC 2971), NAMESPACE (RFC 2342) and
 * ENABLE (RFC 5161): commands that describe the server.
 *
 * Owns: their replies. Does not: decide the capability list (commands.c
 * builds it from the session's state and link).
 */
#include <string.h>

#include "commands.h"
#include "reply.h"

enum cmd_result imap_cmd_capability(struct imap_cmd *cmd)
{
        imap_reply_untagged(cmd, "CAPABILITY %s",
                            imap_capability_string(cmd->session, cmd->pool));
        return imap_reply_ok(cmd, "Capability completed");
}

/* RFC 2971: the client's list is NIL or (key value ...), at most 30 pairs. */
enum cmd_result imap_cmd_id(struct imap_cmd *cmd)
{
        const struct imap_arg *arg = &cmd->args[0], *list;
        size_t count;
        if (arg->type != IMAP_ARG_NIL) {
                if (!imap_arg_get_list(arg, &list, &count) || count % 2 != 0 || count > 60)
                        return imap_reply_bad(cmd, "Invalid ID parameters");
                for (size_t i = 0; i < count; i++) {
                        const char *s;
                        if (!imap_arg_string(&list[i], &s, NULL) &&
                            !(i % 2 == 1 && list[i].type == IMAP_ARG_NIL))
                                return imap_reply_bad(cmd, "Invalid ID parameters");
                }
        }
        imap_reply_untagged(cmd, "ID (\"name\" \"Cove\" \"vendor\" \"Cove\")");
        return imap_reply_ok(cmd, "ID completed");
}

enum cmd_result imap_cmd_namespace(struct imap_cmd *cmd)
{
        char delim = cmd->session->daemon->delimiter;
        imap_reply_untagged(cmd, "NAMESPACE ((\"\" \"%c\")) NIL NIL", delim);
        return imap_reply_ok(cmd, "Namespace completed");
}

/* RFC 5161: extensions that change server behaviour once enabled. Cove has
   none of those yet (CONDSTORE, QRESYNC, UTF8=ACCEPT are not offered), so
   ENABLED lists nothing; unknown names are ignored as the RFC requires. */
enum cmd_result imap_cmd_enable(struct imap_cmd *cmd)
{
        for (size_t i = 0; i < cmd->arg_count; i++)
                if (!imap_arg_is_atom(&cmd->args[i]))
                        return imap_reply_bad(cmd, "Invalid ENABLE arguments");
        imap_reply_untagged(cmd, "ENABLED");
        return imap_reply_ok(cmd, "Enabled");
}

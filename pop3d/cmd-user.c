/* cmd-user.c - USER, PASS and APOP (RFC 1939 §7): password login.
 *
 * Owns: the USER/PASS pair, the plaintext-over-cleartext refusal (RFC 2595
 * §4, [AUTH] per RFC 3206), the APOP timestamp of the greeting and the APOP
 * digest check ([pop3] apop; refused when off). Does not: verify password
 * hashes (storage/login.c, on the offload thread via cmd-auth.c) or take the
 * maildrop (session.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "commands.h"
#include "conf.h"
#include "log.h"
#include "login.h"
#include "pool.h"
#include "session.h"

static const char pop3_plaintext_refused[] =
        "[AUTH] Plaintext authentication is not allowed without TLS (use STLS)";

void pop3_cmd_user(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;

        if (!pop3_session_plaintext_ok(s)) {
                pop3_reply_err(s, pop3_plaintext_refused);
                return;
        }
        if (cmd->rest == NULL || cmd->rest_len == 0) {
                pop3_reply_err(s, "Missing argument for USER");
                pop3_session_bad_command(s);
                return;
        }
        if (cmd->rest_len > LOGIN_MAX_NAME) {
                pop3_reply_err(s, "User name too long");
                pop3_session_bad_command(s);
                return;
        }
        /* Names are checked at PASS, so that USER does not reveal which exist. */
        s->user_arg = pool_strndup(s->conn.pool, cmd->rest, cmd->rest_len);
        pop3_reply_ok(s, "Send your password");
}

void pop3_cmd_pass(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        struct pop3_daemon *d = s->daemon;
        struct login_user user;
        enum login_result res;
        const char *name = s->user_arg;

        if (!pop3_session_plaintext_ok(s)) {
                pop3_reply_err(s, pop3_plaintext_refused);
                return;
        }
        if (name == NULL) {
                pop3_reply_err(s, "USER first");
                pop3_session_bad_command(s);
                return;
        }
        s->user_arg = NULL;
        /* The lookup here; the hash on the offload thread (cmd-auth.c). */
        res = login_user_lookup(d->store, cmd->pool, d->conf->server.default_domain, name,
                                &user);
        if (res == LOGIN_TEMPFAIL) {
                pop3_reply_err(s, "[SYS/TEMP] Temporary authentication failure");
                return;
        }
        /* RFC 1939 §7: the password is the rest of the line, spaces included. */
        pop3_auth_check_pass(s, user.id, user.name, name, user.password_hash,
                             user.scram_secret, cmd->rest != NULL ? cmd->rest : "",
                             cmd->rest_len);
}

const char *pop3_apop_timestamp(struct pool *pool)
{
        static unsigned long counter;
        char host[256];

        if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
                strcpy(host, "localhost");
        host[sizeof(host) - 1] = '\0';
        /* A msg-id: no spaces or angle brackets from the host name. */
        for (char *p = host; *p != '\0'; p++) {
                if (*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f)
                        *p = '-';
        }
        return pool_printf(pool, "<%ld.%lu.%lld@%s>", (long)getpid(), ++counter,
                           (long long)time(NULL), host);
}

/* Lower-case hex MD5(stamp + secret) into hex (33 bytes). False on an
   OpenSSL failure. */
static bool apop_digest(const char *stamp, const char *secret, char hex[33])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
                  EVP_DigestUpdate(ctx, stamp, strlen(stamp)) == 1 &&
                  EVP_DigestUpdate(ctx, secret, strlen(secret)) == 1 &&
                  EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == 16;

        EVP_MD_CTX_free(ctx);
        for (unsigned i = 0; ok && i < 16; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        OPENSSL_cleanse(md, sizeof(md));
        return ok;
}

/* Checks the client's digest (32 hex digits, either case) against the
   user's secret in constant time. A user without a secret is checked
   against a dummy one, so timing does not tell the two apart. */
static bool apop_verify(const char *stamp, const struct login_user *user,
                        const char *digest, size_t digest_len)
{
        char want[33], got[33];
        bool has_secret = user != NULL && user->apop_secret[0] != '\0';

        if (!apop_digest(stamp, has_secret ? user->apop_secret : "-", want))
                return false;
        if (digest_len != 32)
                return false;
        for (size_t i = 0; i < 32; i++) {
                char c = digest[i];
                got[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
        }
        got[32] = '\0';
        bool same = CRYPTO_memcmp(want, got, 32) == 0;
        OPENSSL_cleanse(want, sizeof(want));
        return same && has_secret;
}

void pop3_cmd_apop(struct pop3_cmd *cmd)
{
        struct pop3_session *s = cmd->session;
        struct pop3_daemon *d = s->daemon;
        struct login_user user;

        if (!d->conf->pop3_opts.apop || s->apop_stamp == NULL) {
                pop3_reply_err(s, "[AUTH] APOP is not enabled; use AUTH or USER/PASS");
                return;
        }
        if (cmd->argc != 2 || strlen(cmd->args[0]) > LOGIN_MAX_NAME) {
                pop3_reply_err(s, "Usage: APOP name digest");
                pop3_session_bad_command(s);
                return;
        }
        const char *name = cmd->args[0];
        const char *digest = cmd->args[1];
        size_t digest_len = strlen(digest);
        s->user_arg = NULL;
        enum login_result res = login_user_lookup(d->store, cmd->pool,
                                                  d->conf->server.default_domain, name, &user);
        if (res == LOGIN_TEMPFAIL) {
                pop3_reply_err(s, "[SYS/TEMP] Temporary authentication failure");
                return;
        }
        if (!apop_verify(s->apop_stamp, res == LOGIN_OK ? &user : NULL, digest, digest_len)) {
                log_info("session=%s proto=pop3 ip=%s login failed method=APOP user=\"%.64s\"",
                         s->conn.id, s->conn.peer_ip, name);
                pop3_session_auth_failed(s, "-ERR [AUTH] Authentication failed");
                return;
        }
        pop3_session_login(s, user.id, user.name, "APOP");
}

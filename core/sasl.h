/* sasl.h - the server side of SASL (RFC 4422), independent of any protocol.
 *
 * Owns the mechanisms PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login)
 * and SCRAM-SHA-256 (RFC 5802, RFC 7677), their state machines, input bounds
 * and the authorization-identity rule; PLAIN and LOGIN can hand the password
 * check to the caller (async_verify) so that it hashes off its event loop.
 * Refuses: base64 and the client's '*'
 * cancel (the protocol layer's job), user storage (a lookup callback answers),
 * channel binding (no -PLUS mechanisms), proxy authorization.
 */
#ifndef COVE_SASL_H
#define COVE_SASL_H

#include <stdbool.h>
#include <stddef.h>

struct pool;
struct sasl_server;

/* Largest client message a step accepts, in bytes (after base64 decoding). */
#define SASL_MAX_INPUT 8192
/* Longest authentication identity accepted, in bytes. */
#define SASL_MAX_USER 1024

enum sasl_result {
        SASL_CONTINUE = 0,  /* send *out_r as a challenge and call step again */
        SASL_DONE_OK,       /* authenticated; *out_r is any additional data */
        SASL_DONE_FAIL,     /* failed; see sasl_server_failure() */
        /* Only with settings.async_verify (PLAIN, LOGIN): the user was looked
           up and *out_r / *out_len_r are the password the client sent (bytes
           of the caller's `in`, no NUL, 1..PASSWORD_MAX_LEN). Check it
           against sasl_server_credentials() (e.g. login_check_start(), on
           another thread), then call sasl_server_verified(). */
        SASL_VERIFY,
};

enum sasl_failure {
        SASL_FAIL_NONE = 0,
        SASL_FAIL_SYNTAX,       /* malformed client message (IMAP may answer BAD) */
        SASL_FAIL_CREDENTIALS,  /* unknown user or wrong password: never say which */
        SASL_FAIL_AUTHZID,      /* authzid given and not equal to the authcid */
        SASL_FAIL_UNSUPPORTED,  /* client demanded channel binding or an extension */
        SASL_FAIL_TEMP,         /* lookup failed temporarily; the client may retry */
};

enum sasl_lookup_result {
        SASL_LOOKUP_OK = 0,
        SASL_LOOKUP_NOUSER,
        SASL_LOOKUP_TEMPFAIL,
};

/* What the lookup callback returns for a user. Strings must live at least as
   long as the pool passed to the callback (copy them into it if in doubt). */
struct sasl_credentials {
        const char *user;           /* canonical name; NULL: the authcid as sent */
        const char *password_hash;  /* any password_verify() format; NULL/"" none */
        const char *scram_secret;   /* RFC 5803 SCRAM-SHA-256 secret; NULL/"" none */
};

/* Looks authcid up (synchronously, in the caller's loop). pool is the SASL
   exchange's pool. Fill *creds_r on SASL_LOOKUP_OK. Never called with a NULL,
   empty or over-long authcid, or one containing NUL. */
typedef enum sasl_lookup_result (*sasl_lookup_fn)(void *context, struct pool *pool,
                                                  const char *authcid,
                                                  struct sasl_credentials *creds_r);

struct sasl_server_settings {
        sasl_lookup_fn lookup;      /* required */
        void *context;              /* passed to lookup */
        /* The protocol can carry data with its success reply (RFC 4422 §5,
           e.g. IMAP4rev2, SMTP). false: SCRAM's server-final message is sent
           as one more challenge which the client answers with empty data. */
        bool success_data;
        /* PLAIN and LOGIN answer SASL_VERIFY instead of hashing the password
           in sasl_server_step(), so the caller can do it off its loop. */
        bool async_verify;
        /* Test hook: SCRAM server nonce part (printable ASCII without ',');
           NULL: 18 random bytes in base64. */
        const char *scram_nonce;
        /* Key for the fake salts that unknown users get in SCRAM, so that a
           client cannot tell which users exist; give a stable secret shared by
           all workers. NULL: derived from the user name alone. */
        const unsigned char *fake_salt_key;
        size_t fake_salt_key_len;
};

/* Mechanism names Cove implements, strongest first, NULL-terminated. */
const char *const *sasl_mech_names(void);
/* Case-insensitive. */
bool sasl_mech_supported(const char *mech);
/* True for mechanisms that send the password itself (PLAIN, LOGIN): offer
   them only over TLS or where the config allows plaintext. */
bool sasl_mech_is_plaintext(const char *mech);

/* Starts a server exchange for mech (case-insensitive). The exchange and all
   it returns live in pool (the session or command pool); settings is copied,
   but the strings and key it points to must outlive the exchange. Fails with
   a static *error_r for an unknown mechanism or missing lookup. */
int sasl_server_start(struct pool *pool, const char *mech,
                      const struct sasl_server_settings *settings,
                      struct sasl_server **sasl_r, const char **error_r);

/* Feeds one client message (raw bytes, already base64-decoded). in == NULL on
   the first step means the client sent no initial response; the mechanism
   then answers with its first challenge. Otherwise in may hold 0 bytes (an
   empty response, IMAP "=" initial response). *out_r / *out_len_r are the
   server's reply bytes (possibly 0 bytes, never NULL; in pool) for the
   protocol to base64-encode. After SASL_DONE_* every further step fails. */
enum sasl_result sasl_server_step(struct sasl_server *sasl, const unsigned char *in,
                                  size_t in_len, const unsigned char **out_r,
                                  size_t *out_len_r);

/* After SASL_VERIFY: what to check the password against, in the exchange's
   pool. Both "" when the user does not exist or has neither: the check must
   then cost a dummy verification and fail (see login_check_password()). */
void sasl_server_credentials(const struct sasl_server *sasl, const char **password_hash_r,
                             const char **scram_secret_r);
/* After SASL_VERIFY: the outcome of the check. Returns SASL_DONE_OK, or
   SASL_DONE_FAIL with SASL_FAIL_CREDENTIALS ("unknown user" or "wrong
   password" as the reason). Any other call of it fails the exchange. */
enum sasl_result sasl_server_verified(struct sasl_server *sasl, bool ok);

/* After SASL_DONE_OK: the authenticated user (the lookup's canonical name).
   NULL before success. */
const char *sasl_server_user(const struct sasl_server *sasl);
/* The authcid the client claimed, for failure logs; NULL until it is known. */
const char *sasl_server_authcid(const struct sasl_server *sasl);
/* The canonical mechanism name ("PLAIN"). */
const char *sasl_server_mech(const struct sasl_server *sasl);
/* After SASL_DONE_FAIL: why. The reason is for logs (never holds secrets);
   clients should only see a generic message chosen from the failure kind. */
enum sasl_failure sasl_server_failure(const struct sasl_server *sasl);
const char *sasl_server_failure_reason(const struct sasl_server *sasl);

#endif

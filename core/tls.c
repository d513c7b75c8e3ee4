/* tls.c - OpenSSL server contexts and non-blocking TLS I/O (see tls.h).
 *
 * Owns: protocol/cipher policy, cert/key loading with one-line errors, the
 * refcount, the WANT_READ/WANT_WRITE mapping. Does not: touch watchers or
 * buffers, or keep any global state besides a static error buffer.
 */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "pool.h"

struct tls_ctx {
        SSL_CTX *ssl_ctx;
        unsigned refcount;
};

/* TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 keeps OpenSSL's
   defaults, which are all acceptable. */
#define TLS_CIPHERS_12 "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL"

static char tls_errbuf[256];

/* The most relevant queued OpenSSL error, or fallback; clears the queue. */
static const char *tls_last_error(const char *fallback)
{
        unsigned long e = ERR_peek_error();   /* the first is the most specific */
        if (e == 0) {
                snprintf(tls_errbuf, sizeof(tls_errbuf), "%s", fallback);
        } else {
                const char *reason = ERR_reason_error_string(e);
                if (reason != NULL)
                        snprintf(tls_errbuf, sizeof(tls_errbuf), "%s", reason);
                else
                        ERR_error_string_n(e, tls_errbuf, sizeof(tls_errbuf));
        }
        ERR_clear_error();
        return tls_errbuf;
}

static int tls_parse_min_version(const char *name, int *version_r)
{
        if (name == NULL || strcmp(name, "TLSv1.2") == 0)
                *version_r = TLS1_2_VERSION;
        else if (strcmp(name, "TLSv1.3") == 0)
                *version_r = TLS1_3_VERSION;
        else
                return -1;
        return 0;
}

/* fopen first so a missing or unreadable file gets the errno text. */
static int tls_check_readable(struct pool *pool, const char *what, const char *path,
                              const char **error_r)
{
        if (path == NULL || path[0] == '\0') {
                *error_r = pool_printf(pool, "tls %s: not configured", what);
                return -1;
        }
        FILE *f = fopen(path, "r");
        if (f == NULL) {
                *error_r = pool_printf(pool, "tls %s %s: %s", what, path, strerror(errno));
                return -1;
        }
        fclose(f);
        return 0;
}

static void tls_ctx_set_policy(SSL_CTX *c, int min_version)
{
        SSL_CTX_set_min_proto_version(c, min_version);
        long opts = SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                    SSL_OP_NO_RENEGOTIATION;
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
        /* Many mail clients drop TCP without close_notify: treat as EOF. */
        opts |= SSL_OP_IGNORE_UNEXPECTED_EOF;
#endif
        SSL_CTX_set_options(c, opts);
        SSL_CTX_set_cipher_list(c, TLS_CIPHERS_12);
        SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
        static const unsigned char sid_ctx[] = "cove";
        SSL_CTX_set_session_id_context(c, sid_ctx, sizeof(sid_ctx) - 1);
}

static int tls_ctx_load(struct pool *pool, SSL_CTX *c, const char *cert, const char *key,
                        const char **error_r)
{
        if (tls_check_readable(pool, "cert", cert, error_r) < 0 ||
            tls_check_readable(pool, "key", key, error_r) < 0)
                return -1;
        ERR_clear_error();
        if (SSL_CTX_use_certificate_chain_file(c, cert) != 1) {
                *error_r = pool_printf(pool, "tls cert %s: %s", cert,
                                       tls_last_error("cannot load certificate"));
                return -1;
        }
        if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
                if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
                        ERR_clear_error();
                        *error_r = pool_printf(pool, "tls key %s: does not match certificate %s",
                                               key, cert);
                        return -1;
                }
                *error_r = pool_printf(pool, "tls key %s: %s", key,
                                       tls_last_error("cannot load private key"));
                return -1;
        }
        if (SSL_CTX_check_private_key(c) != 1) {
                *error_r = pool_printf(pool, "tls key %s: does not match certificate %s",
                                       key, cert);
                ERR_clear_error();
                return -1;
        }
        return 0;
}

int tls_ctx_create(struct pool *pool, const char *cert, const char *key,
                   const char *min_version, struct tls_ctx **ctx_r, const char **error_r)
{
        int version;
        if (tls_parse_min_version(min_version, &version) < 0) {
                *error_r = pool_printf(pool, "tls min_version: '%s' is not TLSv1.2 or TLSv1.3",
                                       min_version);
                return -1;
        }
        SSL_CTX *c = SSL_CTX_new(TLS_server_method());
        if (c == NULL) {
                *error_r = pool_printf(pool, "tls: %s", tls_last_error("SSL_CTX_new failed"));
                return -1;
        }
        tls_ctx_set_policy(c, version);
        if (tls_ctx_load(pool, c, cert, key, error_r) < 0) {
                SSL_CTX_free(c);
                return -1;
        }
        struct tls_ctx *ctx = xcalloc(1, sizeof(*ctx));
        ctx->ssl_ctx = c;
        ctx->refcount = 1;
        *ctx_r = ctx;
        return 0;
}

void tls_ctx_ref(struct tls_ctx *ctx)
{
        COVE_ASSERT(ctx->refcount > 0);
        ctx->refcount++;
}

void tls_ctx_unref(struct tls_ctx **ctxp)
{
        struct tls_ctx *ctx = *ctxp;
        if (ctx == NULL)
                return;
        *ctxp = NULL;
        COVE_ASSERT(ctx->refcount > 0);
        if (--ctx->refcount > 0)
                return;
        SSL_CTX_free(ctx->ssl_ctx);
        free(ctx);
}

struct ssl_st *tls_session_new(struct tls_ctx *ctx, int fd, const char **error_r)
{
        ERR_clear_error();
        SSL *ssl = SSL_new(ctx->ssl_ctx);
        if (ssl == NULL) {
                *error_r = tls_last_error("SSL_new failed");
                return NULL;
        }
        if (SSL_set_fd(ssl, fd) != 1) {
                *error_r = tls_last_error("SSL_set_fd failed");
                SSL_free(ssl);
                return NULL;
        }
        SSL_set_accept_state(ssl);
        return ssl;
}

void tls_session_free(struct ssl_st **sslp)
{
        SSL *ssl = *sslp;
        if (ssl == NULL)
                return;
        *sslp = NULL;
        if (SSL_is_init_finished(ssl)) {
                /* One non-blocking attempt; we never wait for the peer's reply. */
                ERR_clear_error();
                (void)SSL_shutdown(ssl);
        }
        ERR_clear_error();
        SSL_free(ssl);
}

/* Maps the result of an SSL_* I/O call (ret <= 0). */
static enum tls_result tls_map(SSL *ssl, int ret, const char *what, const char **error_r)
{
        int err = SSL_get_error(ssl, ret);
        switch (err) {
        case SSL_ERROR_WANT_READ:
                return TLS_WANT_READ;
        case SSL_ERROR_WANT_WRITE:
                return TLS_WANT_WRITE;
        case SSL_ERROR_ZERO_RETURN:
                return TLS_EOF;
        case SSL_ERROR_SYSCALL:
                if (ERR_peek_error() == 0) {
                        if (errno == 0)
                                return TLS_EOF;
                        snprintf(tls_errbuf, sizeof(tls_errbuf), "%s: %s", what,
                                 strerror(errno));
                        *error_r = tls_errbuf;
                        return TLS_ERROR;
                }
                break;
        default:
                break;
        }
        *error_r = tls_last_error("protocol error");
        return TLS_ERROR;
}

enum tls_result tls_handshake(struct ssl_st *ssl, const char **error_r)
{
        ERR_clear_error();
        errno = 0;
        int ret = SSL_do_handshake(ssl);
        if (ret == 1)
                return TLS_OK;
        enum tls_result r = tls_map(ssl, ret, "handshake", error_r);
        if (r == TLS_EOF) {
                /* EOF during the handshake is a failure, not a clean close. */
                *error_r = "connection closed during handshake";
                return TLS_ERROR;
        }
        return r;
}

enum tls_result tls_read(struct ssl_st *ssl, void *data, size_t size, size_t *n_r,
                         const char **error_r)
{
        ERR_clear_error();
        errno = 0;
        size_t n = 0;
        int ret = SSL_read_ex(ssl, data, size, &n);
        if (ret == 1) {
                *n_r = n;
                return TLS_OK;
        }
        return tls_map(ssl, ret, "read", error_r);
}

enum tls_result tls_write(struct ssl_st *ssl, const void *data, size_t size, size_t *n_r,
                          const char **error_r)
{
        ERR_clear_error();
        errno = 0;
        size_t n = 0;
        int ret = SSL_write_ex(ssl, data, size, &n);
        if (ret == 1) {
                *n_r = n;
                return TLS_OK;
        }
        enum tls_result r = tls_map(ssl, ret, "write", error_r);
        if (r == TLS_EOF) {
                *error_r = "connection closed";
                return TLS_ERROR;
        }
        return r;
}

bool tls_has_pending(struct ssl_st *ssl)
{
        return SSL_has_pending(ssl) == 1;
}

void tls_session_describe(struct ssl_st *ssl, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", SSL_get_version(ssl),
                 SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
}

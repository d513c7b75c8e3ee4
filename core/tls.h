/* tls.h - OpenSSL server contexts and non-blocking TLS I/O on one socket.
 *
 * Owns: building a reloadable, reference-counted server context from cert/key
 * files (TLS >= 1.2, no compression, no renegotiation) and mapping OpenSSL's
 * handshake/read/write results to a small enum. Does not: own sockets,
 * buffers or watchers (conn.c drives the I/O), or verify client certificates.
 */
#ifndef COVE_TLS_H
#define COVE_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct pool;
struct tls_ctx;
struct ssl_st;

enum tls_result {
        TLS_OK,
        TLS_WANT_READ,    /* retry the same call when the socket is readable */
        TLS_WANT_WRITE,   /* ...when it is writable */
        TLS_EOF,          /* the peer closed (close_notify or plain EOF) */
        TLS_ERROR,        /* fatal for this connection; *error_r says why */
};

/* Builds a server context. min_version is "TLSv1.2" (NULL means this) or
   "TLSv1.3". Returns 0, or -1 with *error_r from pool naming the file or key:
   "tls cert /etc/cove/cert.pem: No such file or directory". */
int tls_ctx_create(struct pool *pool, const char *cert, const char *key,
                   const char *min_version, struct tls_ctx **ctx_r, const char **error_r);

/* Reference counting: each holder (the worker's current context, every
   connection that uses it) keeps one reference. unref sets *ctxp to NULL and
   frees the context when the last reference goes. */
void tls_ctx_ref(struct tls_ctx *ctx);
void tls_ctx_unref(struct tls_ctx **ctxp);

/* Creates a server-side session on a non-blocking socket. Returns NULL with
   *error_r (static buffer) on failure. Free with tls_session_free(). */
struct ssl_st *tls_session_new(struct tls_ctx *ctx, int fd, const char **error_r);

/* Sends close_notify when the handshake completed (best effort, never
   blocks) and frees the session; sets *sslp to NULL. */
void tls_session_free(struct ssl_st **sslp);

/* One step of the server handshake. */
enum tls_result tls_handshake(struct ssl_st *ssl, const char **error_r);

/* Reads up to size decrypted bytes; on TLS_OK *n_r > 0. */
enum tls_result tls_read(struct ssl_st *ssl, void *data, size_t size, size_t *n_r,
                         const char **error_r);

/* Writes up to size bytes; on TLS_OK *n_r > 0 (partial writes allowed). A
   retry after WANT_* must pass at least the bytes of the failed call (the
   buffer may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). */
enum tls_result tls_write(struct ssl_st *ssl, const void *data, size_t size, size_t *n_r,
                          const char **error_r);

/* True when OpenSSL holds input already taken off the socket (no readiness
   event will announce it). */
bool tls_has_pending(struct ssl_st *ssl);

/* "TLSv1.3/TLS_AES_256_GCM_SHA384" into buf. */
void tls_session_describe(struct ssl_st *ssl, char *buf, size_t size);

#endif

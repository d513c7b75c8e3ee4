/* secret.c - password input for covectl (see secret.h).
 *
 * Owns: the echo-off terminal prompt (restored on every exit path, including
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT) and the limits on a password line. Does not:
 * hash anything (core/password.c) or decide password policy beyond
 * "not empty".
 */
#include "secret.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "pool.h"

/* The terminal state to restore from a signal handler: a per-process
   singleton, set only while a prompt is active. */
static struct termios secret_saved_tty;
static volatile sig_atomic_t secret_tty_saved;

static const int secret_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void secret_on_signal(int sig)
{
        if (secret_tty_saved)
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &secret_saved_tty);
        signal(sig, SIG_DFL);
        raise(sig);
}

void cli_secret_wipe(char *secret)
{
        if (secret != NULL)
                explicit_bzero(secret, strlen(secret));
}

/* Reads one line into line[size] (size > CLI_SECRET_MAX + 1); 0 or an exit
   code. The newline and a CR before it are not part of the password. */
static int secret_line(struct pool *pool, char *line, size_t size, const char **error_r)
{
        size_t len = 0;
        bool nul = false, newline = false;
        int c;
        while ((c = getc(stdin)) != EOF) {
                if (c == '\n') {
                        newline = true;
                        break;
                }
                nul = nul || c == '\0';
                if (len > CLI_SECRET_MAX + 1)
                        break;   /* already too long; stop reading */
                line[len++] = (char)c;
        }
        if (c == EOF && ferror(stdin)) {
                *error_r = "cannot read the password from stdin";
                return EX_IOERR;
        }
        if (len > 0 && line[len - 1] == '\r' && len <= CLI_SECRET_MAX + 1)
                len--;
        line[len < size ? len : size - 1] = '\0';
        if (len > CLI_SECRET_MAX) {
                *error_r = pool_printf(pool, "password longer than %d bytes", CLI_SECRET_MAX);
                return EX_DATAERR;
        }
        if (nul) {
                *error_r = "password contains a NUL byte";
                return EX_DATAERR;
        }
        if (len == 0) {
                *error_r = newline ? "empty password refused" : "no password given on stdin";
                return EX_DATAERR;
        }
        return 0;
}

/* Prompts with echo off and reads one line. */
static int secret_prompt(struct pool *pool, const char *prompt, char *line, size_t size,
                         const char **error_r)
{
        struct termios tty;
        if (tcgetattr(STDIN_FILENO, &tty) < 0) {
                *error_r = "cannot read the terminal settings of stdin";
                return EX_IOERR;
        }
        secret_saved_tty = tty;
        secret_tty_saved = 1;
        struct sigaction sa = { .sa_handler = secret_on_signal }, old[4];
        for (size_t i = 0; i < 4; i++)
                sigaction(secret_signals[i], &sa, &old[i]);
        tty.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        tty.c_lflag |= ICANON;
        int ret;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty) < 0) {
                *error_r = "cannot turn off echo on the terminal";
                ret = EX_IOERR;
        } else {
                fputs(prompt, stderr);
                fflush(stderr);
                ret = secret_line(pool, line, size, error_r);
                fputc('\n', stderr);
        }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &secret_saved_tty);
        secret_tty_saved = 0;
        for (size_t i = 0; i < 4; i++)
                sigaction(secret_signals[i], &old[i], NULL);
        return ret;
}

static int secret_from_tty(struct pool *pool, char *line, size_t size,
                           const char **error_r)
{
        char again[CLI_SECRET_MAX + 3];
        int ret = secret_prompt(pool, "New password: ", line, size, error_r);
        if (ret == 0)
                ret = secret_prompt(pool, "Retype new password: ", again, sizeof(again),
                                    error_r);
        if (ret == 0 && strcmp(line, again) != 0) {
                *error_r = "the passwords do not match";
                ret = EX_DATAERR;
        }
        explicit_bzero(again, sizeof(again));
        return ret;
}

int cli_secret_read(struct pool *pool, bool from_stdin, char **secret_r,
                    const char **error_r)
{
        char line[CLI_SECRET_MAX + 3];
        int ret;
        if (from_stdin) {
                ret = secret_line(pool, line, sizeof(line), error_r);
        } else if (!isatty(STDIN_FILENO)) {
                *error_r = "stdin is not a terminal: give the password on stdin with "
                           "--password-stdin";
                return EX_USAGE;
        } else {
                ret = secret_from_tty(pool, line, sizeof(line), error_r);
        }
        if (ret == 0)
                *secret_r = pool_strdup(pool, line);
        explicit_bzero(line, sizeof(line));
        return ret;
}

/* json.c - the streaming JSON writer (see json.h).
 *
 * Owns: separators and string escaping (RFC 8259 §7). Does not: buffer or
 * report write errors (covectl checks stdout once, at exit).
 */
#include "json.h"

#include <inttypes.h>
#include <stddef.h>

#include "log.h"

void cli_json_init(struct cli_json *json, FILE *out)
{
        *json = (struct cli_json){ .out = out };
}

/* Writes the comma that separates this value from the previous sibling. */
static void json_value_start(struct cli_json *json)
{
        if (json->after_key) {
                json->after_key = false;
                return;
        }
        if (json->need_comma[json->depth])
                fputc(',', json->out);
        json->need_comma[json->depth] = true;
}

static void json_open(struct cli_json *json, char c)
{
        json_value_start(json);
        COVE_ASSERT(json->depth < CLI_JSON_MAX_DEPTH);
        fputc(c, json->out);
        json->depth++;
        json->need_comma[json->depth] = false;
}

static void json_close(struct cli_json *json, char c)
{
        COVE_ASSERT(json->depth > 0 && !json->after_key);
        json->depth--;
        fputc(c, json->out);
}

void cli_json_object_begin(struct cli_json *json) { json_open(json, '{'); }
void cli_json_object_end(struct cli_json *json) { json_close(json, '}'); }
void cli_json_array_begin(struct cli_json *json) { json_open(json, '['); }
void cli_json_array_end(struct cli_json *json) { json_close(json, ']'); }

/* Length of the valid UTF-8 sequence at s (RFC 3629 §4), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07u;
        } else {
                return 0;
        }
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0u) != 0x80u)
                        return 0;   /* also stops at the terminating NUL */
                cp = (cp << 6) | (s[i] & 0x3fu);
        }
        static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

static void json_write_string(FILE *out, const char *value)
{
        const unsigned char *s = (const unsigned char *)value;
        fputc('"', out);
        while (*s != '\0') {
                unsigned char c = *s;
                if (c == '"' || c == '\\') {
                        fputc('\\', out);
                        fputc(c, out);
                } else if (c == '\n') {
                        fputs("\\n", out);
                } else if (c == '\t') {
                        fputs("\\t", out);
                } else if (c < 0x20 || c == 0x7f) {
                        fprintf(out, "\\u%04x", c);
                } else if (c >= 0x80) {
                        size_t len = utf8_seq_len(s);
                        if (len == 0) {
                                fputs("\\ufffd", out);
                                len = 1;
                        } else {
                                fwrite(s, 1, len, out);
                        }
                        s += len;
                        continue;
                } else {
                        fputc(c, out);
                }
                s++;
        }
        fputc('"', out);
}

void cli_json_key(struct cli_json *json, const char *key)
{
        json_value_start(json);
        json_write_string(json->out, key);
        fputc(':', json->out);
        json->after_key = true;
}

void cli_json_string(struct cli_json *json, const char *value)
{
        json_value_start(json);
        if (value == NULL)
                fputs("null", json->out);
        else
                json_write_string(json->out, value);
}

void cli_json_u64(struct cli_json *json, uint64_t value)
{
        json_value_start(json);
        fprintf(json->out, "%" PRIu64, value);
}

void cli_json_kv_string(struct cli_json *json, const char *key, const char *value)
{
        cli_json_key(json, key);
        cli_json_string(json, value);
}

void cli_json_kv_u64(struct cli_json *json, const char *key, uint64_t value)
{
        cli_json_key(json, key);
        cli_json_u64(json, value);
}

void cli_json_finish(struct cli_json *json)
{
        COVE_ASSERT(json->depth == 0);
        fputc('\n', json->out);
}

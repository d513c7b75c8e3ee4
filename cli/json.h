/* json.h - a tiny streaming JSON writer for covectl's --json output.
 *
 * Writes compact JSON to a FILE, inserting commas itself; strings are escaped
 * so the output is always valid JSON (bytes that are not UTF-8 become
 * U+FFFD). Does not: parse JSON, or check that begin/end calls pair up beyond
 * a fixed nesting depth (a programming error, asserted).
 */
#ifndef COVE_CLI_JSON_H
#define COVE_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_MAX_DEPTH 8

struct cli_json {
        FILE *out;
        unsigned depth;
        bool need_comma[CLI_JSON_MAX_DEPTH + 1];
        bool after_key;   /* a key was written; the value needs no comma */
};

void cli_json_init(struct cli_json *json, FILE *out);

void cli_json_object_begin(struct cli_json *json);
void cli_json_object_end(struct cli_json *json);
void cli_json_array_begin(struct cli_json *json);
void cli_json_array_end(struct cli_json *json);

/* A member key inside an object; the next value call gives its value. */
void cli_json_key(struct cli_json *json, const char *key);

void cli_json_string(struct cli_json *json, const char *value);   /* NULL -> null */
void cli_json_u64(struct cli_json *json, uint64_t value);

/* key + value shorthands */
void cli_json_kv_string(struct cli_json *json, const char *key, const char *value);
void cli_json_kv_u64(struct cli_json *json, const char *key, uint64_t value);

/* Ends the document with a newline (call once, at depth 0). */
void cli_json_finish(struct cli_json *json);

#endif

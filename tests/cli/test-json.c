/* test-json.c - unit tests of covectl's JSON writer (cli/json.c): separators,
 * nesting, and string escaping for every byte class, including control
 * characters and bytes that are not UTF-8 (which must still give valid JSON).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"

static char *out_data;
static size_t out_len;
static FILE *out;
static struct cli_json json;

static void setup(void)
{
        out = open_memstream(&out_data, &out_len);
        cr_assert_not_null(out);
        cli_json_init(&json, out);
}

static void teardown(void)
{
        if (out != NULL)
                fclose(out);
        free(out_data);
        out_data = NULL;
}

static const char *result(void)
{
        fclose(out);
        out = NULL;
        return out_data;
}

static const char *string_json(const char *value)
{
        cli_json_string(&json, value);
        cli_json_finish(&json);
        return result();
}

TestSuite(cli_json, .init = setup, .fini = teardown);

Test(cli_json, object_and_array_separators)
{
        cli_json_array_begin(&json);
        cli_json_object_begin(&json);
        cli_json_kv_string(&json, "name", "INBOX");
        cli_json_key(&json, "special_use");
        cli_json_array_begin(&json);
        cli_json_string(&json, "\\Sent");
        cli_json_string(&json, "\\Trash");
        cli_json_array_end(&json);
        cli_json_kv_u64(&json, "bytes", 18446744073709551615u);
        cli_json_object_end(&json);
        cli_json_object_begin(&json);
        cli_json_object_end(&json);
        cli_json_array_end(&json);
        cli_json_finish(&json);
        cr_assert_str_eq(result(), "[{\"name\":\"INBOX\",\"special_use\":[\"\\\\Sent\","
                         "\"\\\\Trash\"],\"bytes\":18446744073709551615},{}]\n");
}

Test(cli_json, empty_array_and_null)
{
        cli_json_array_begin(&json);
        cli_json_string(&json, NULL);
        cli_json_array_end(&json);
        cli_json_finish(&json);
        cr_assert_str_eq(result(), "[null]\n");
}

Test(cli_json, escapes_quotes_backslash_and_controls)
{
        cr_assert_str_eq(string_json("a\"b\\c\n\t\r\x01\x1f\x7f"),
                         "\"a\\\"b\\\\c\\n\\t\\u000d\\u0001\\u001f\\u007f\"\n");
}

Test(cli_json, keeps_valid_utf8)
{
        /* 2-, 3- and 4-byte sequences: é, €, U+1F600 */
        cr_assert_str_eq(string_json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
                         "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\n");
}

Test(cli_json, replaces_invalid_utf8)
{
        /* lone continuation, overlong '/', surrogate U+D800, truncated
           sequence at the end, byte 0xff */
        cr_assert_str_eq(string_json("\x80|\xc0\xaf|\xed\xa0\x80|\xff|\xe2\x82"),
                         "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd|"
                         "\\ufffd\\ufffd\"\n");
}

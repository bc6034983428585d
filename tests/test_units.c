/*  =========================================================================
    test_units - the runtime's building blocks, one at a time

    Unit tests of internals through their own headers: line framing
    (linebuf), the JSON scanner and quoting (jsonscan), the id map and the
    deadline heap (idmap), the merged tool catalogue and its name policy
    (catalog), and the message frames (wire). Each case checks what the
    rest of the runtime relies on, so that a regression shows here, by
    name, before it shows as a lost call. Single-threaded; the wire cases
    use a private ZeroMQ context.
    =========================================================================
*/

#include "catalog.h"
#include "idmap.h"
#include "jsonrpc.h"
#include "jsonscan.h"
#include "linebuf.h"
#include "testutil.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  --------------------------------------------------------------------------
//  linebuf

//  The lines that came out, in order.
typedef struct {
    char *lines[64]; //  copies
    size_t count;    //  lines held
} s_lines_t;

static void
s_collect (void *arg, const char *line, size_t size)
{
    s_lines_t *self = (s_lines_t *) arg;
    CHECK (self->count < 64);
    self->lines[self->count++] = strndup (line, size);
}

static void
s_lines_free (s_lines_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free (self->lines[i]);
    self->count = 0;
}

static void
s_lines_expect (s_lines_t *self, const char *const *expected, size_t count, const char *how)
{
    CHECK_MSG (self->count == count, "%s: %zu lines, expected %zu", how, self->count, count);
    for (size_t i = 0; i < count; i++)
        CHECK_MSG (strcmp (self->lines[i], expected[i]) == 0, "%s: line %zu is '%.60s'", how, i,
                   self->lines[i]);
}

//  Feeds `text` to a fresh linebuf in two pieces split at every position,
//  then one byte at a time, and checks each time that `expected` comes out.
static void
s_feed_all_ways (const char *text, size_t size, size_t limit, const char *const *expected,
                 size_t count, size_t dropped)
{
    char how[64];
    s_lines_t lines = { { 0 }, 0 };
    for (size_t split = 0; split <= size; split++) {
        linebuf_t buf;
        linebuf_init (&buf, limit);
        CHECK (linebuf_feed (&buf, text, split, s_collect, &lines) == 0);
        CHECK (linebuf_feed (&buf, text + split, size - split, s_collect, &lines) == 0);
        snprintf (how, sizeof how, "split at %zu", split);
        s_lines_expect (&lines, expected, count, how);
        CHECK_MSG (buf.dropped == dropped, "%s: %zu dropped", how, buf.dropped);
        s_lines_free (&lines);
        linebuf_free (&buf);
    }
    linebuf_t buf;
    linebuf_init (&buf, limit);
    for (size_t i = 0; i < size; i++)
        CHECK (linebuf_feed (&buf, text + i, 1, s_collect, &lines) == 0);
    s_lines_expect (&lines, expected, count, "byte by byte");
    CHECK (buf.dropped == dropped);
    s_lines_free (&lines);
    linebuf_free (&buf);
}

TEST (linebuf_every_split)
{
    //  A line longer than the 4 KiB first allocation, so the buffer grows
    //  while a line is split
    char *long_line = malloc (6001);
    CHECK (long_line);
    for (int i = 0; i < 6000; i++)
        long_line[i] = (char) ('a' + i % 26);
    long_line[6000] = 0;

    char *text = NULL;
    CHECK (asprintf (&text,
                     "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
                     "second line\n"
                     "x\n"
                     "%s\n"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n"
                     "last\n",
                     long_line) > 0);
    const char *expected[] = { "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
                               "second line",
                               "x",
                               long_line,
                               "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}",
                               "last" };
    s_feed_all_ways (text, strlen (text), 1024 * 1024, expected, 6, 0);
    free (text);
    free (long_line);
}

TEST (linebuf_crlf)
{
    //  Windows line ends lose their \r; a \r inside a line stays
    const char text[] = "one\r\ntwo\r\nin\rside\nthree\r\n";
    const char *expected[] = { "one", "two", "in\rside", "three" };
    s_feed_all_ways (text, sizeof text - 1, 1024, expected, 4, 0);
}

TEST (linebuf_unfinished_line_waits)
{
    //  Bytes without a newline are held, not emitted, until it comes
    s_lines_t lines = { { 0 }, 0 };
    linebuf_t buf;
    linebuf_init (&buf, 1024);
    CHECK (linebuf_feed (&buf, "{\"id\":", 6, s_collect, &lines) == 0);
    CHECK (linebuf_feed (&buf, "1}", 2, s_collect, &lines) == 0);
    CHECK (lines.count == 0);
    CHECK (linebuf_feed (&buf, "\n", 1, s_collect, &lines) == 0);
    const char *expected[] = { "{\"id\":1}" };
    s_lines_expect (&lines, expected, 1, "held line");
    s_lines_free (&lines);
    linebuf_free (&buf);
}

TEST (linebuf_oversized_line_dropped)
{
    char big[200];
    memset (big, 'X', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char *text = NULL;
    CHECK (asprintf (&text, "before\n%s\nafter\n%s\nend\n", big, big) > 0);
    //  Each oversized line is dropped whole, and the next line comes out
    //  intact, wherever the chunks split
    const char *expected[] = { "before", "after", "end" };
    s_feed_all_ways (text, strlen (text), 64, expected, 3, 2);
    free (text);

    //  A line of exactly the limit is accepted
    char exact[65];
    memset (exact, 'Y', 64);
    exact[64] = 0;
    CHECK (asprintf (&text, "%s\nnext\n", exact) > 0);
    const char *expected_exact[] = { exact, "next" };
    s_feed_all_ways (text, strlen (text), 64, expected_exact, 2, 0);
    free (text);
}

//  What on_dropped was told, for the last dropped line.
typedef struct {
    char head[LINEBUF_EDGE + 1], tail[LINEBUF_EDGE + 1];
    size_t size;
    int calls;
} s_dropped_t;

static void
s_on_dropped (void *arg, const char *head, size_t head_size, const char *tail, size_t tail_size,
              size_t size)
{
    s_dropped_t *self = (s_dropped_t *) ((s_lines_t *) arg)->lines[63];
    memcpy (self->head, head, head_size);
    self->head[head_size] = 0;
    memcpy (self->tail, tail, tail_size);
    self->tail[tail_size] = 0;
    self->size = size;
    self->calls++;
}

TEST (linebuf_dropped_line_edges)
{
    //  A line of 5000 bytes over a limit of 1000, fed in chunks of every
    //  size: its first and last LINEBUF_EDGE bytes and its size come out
    //  once, and the lines around it are intact.
    size_t size = 5000;
    char *big = malloc (size + 1);
    for (size_t i = 0; i < size; i++)
        big[i] = (char) ('a' + i % 26);
    big[size] = 0;
    char *text = NULL;
    CHECK (asprintf (&text, "before\n%s\r\nafter\n", big) > 0);
    size_t total = strlen (text);
    for (size_t chunk = 1; chunk <= total; chunk = chunk < 64 ? chunk + 1 : chunk * 2) {
        s_dropped_t dropped = { .calls = 0 };
        s_lines_t lines = { .count = 0 };
        lines.lines[63] = (char *) &dropped;
        linebuf_t buf;
        linebuf_init (&buf, 1000);
        buf.on_dropped = s_on_dropped;
        for (size_t at = 0; at < total; at += chunk)
            CHECK (linebuf_feed (&buf, text + at, at + chunk < total ? chunk : total - at,
                                 s_collect, &lines) == 0);
        linebuf_free (&buf);
        CHECK_MSG (dropped.calls == 1, "chunk %zu: told %d times", chunk, dropped.calls);
        CHECK (dropped.size == size + 1); //  with its '\r'
        CHECK (strncmp (dropped.head, big, LINEBUF_EDGE) == 0 &&
               strlen (dropped.head) == LINEBUF_EDGE);
        //  The tail without the line's '\r'
        size_t tail = strlen (dropped.tail);
        CHECK_MSG (tail == LINEBUF_EDGE - 1 && strcmp (dropped.tail, big + size - tail) == 0,
                   "chunk %zu: tail %s", chunk, dropped.tail);
        lines.lines[63] = NULL;
        const char *expected[] = { "before", "after" };
        s_lines_expect (&lines, expected, 2, "dropped edges");
        s_lines_free (&lines);
    }
    free (text);
    free (big);
}

TEST (jsonrpc_answer_from_edges)
{
    struct {
        const char *head, *tail;
        const char *id; //  NULL: no answer
    } cases[] = {
        //  id first (Python SDK), last (TypeScript SDK), as a string
        { "{\"jsonrpc\":\"2.0\",\"id\":17,\"result\":{\"content\":[{\"type\":\"te", "xxxx\"}]}}",
          "17" },
        { "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"xx",
          "xxx\"}]},\"jsonrpc\":\"2.0\",\"id\":18}", "18" },
        { " { \"id\" : \"21\" , \"result\":{\"x\":[1,2,", "3]}} \r", "\"21\"" },
        //  an id that cannot be ours: nothing to end
        { " { \"id\" : \"a-1\" , \"result\":{\"x\":[1,2,", "3]}} \r", NULL },
        { "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551619,\"result\":{\"x", "x\"}}", NULL },
        //  an id inside the result is not the message's
        { "{\"result\":{\"content\":[{\"id\":1,\"text\":\"xx", "xx\",\"id\":5}]}}", NULL },
        { "{\"result\":{\"a\":\"xx", "x\\\",\\\"id\\\":5}\"}}", NULL },
        { "{\"jsonrpc\":\"2.0\",\"result\":{\"a\":\"xx", "xxx\",\"id\":5}}", NULL },
        //  a request or notification from the server is not answered
        { "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"sampling/createMessage\",\"params\":{\"x",
          "x\"}}", NULL },
        { "{\"params\":{\"x\":\"xx", "x\"},\"method\":\"notifications/message\",\"id\":4}", NULL },
        //  cut inside the id
        { "{\"jsonrpc\":\"2.0\",\"id\":12", "34}", NULL },
        { "not json at all", "still not", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *answer = jsonrpc_answer_from_edges (
            cases[i].head, strlen (cases[i].head), cases[i].tail, strlen (cases[i].tail),
            "the server's answer (70000000 bytes) is larger than the limit of 67108864 bytes");
        if (!cases[i].id) {
            CHECK_MSG (!answer, "case %zu: %s", i, answer);
            continue;
        }
        CHECK_MSG (answer, "case %zu: no answer", i);
        json_t *json = json_loads (answer, 0, NULL);
        char *id = json_dumps (json_object_get (json, "id"), JSON_ENCODE_ANY);
        CHECK_STR (id, cases[i].id);
        CHECK_CONTAINS (
            json_string_value (json_object_get (json_object_get (json, "error"), "message")),
            "(70000000 bytes) is larger than the limit of 67108864 bytes");
        free (id);
        json_decref (json);
        free (answer);
    }
}

//  --------------------------------------------------------------------------
//  jsonscan

static bool
s_valid (const char *text)
{
    return jsonscan_valid (text, text + strlen (text));
}

TEST (jsonscan_valid_json)
{
    const char *valid[] = {
        "0",
        "-0",
        "7",
        "-12",
        "1.5",
        "-0.25",
        "1e10",
        "1E+2",
        "2.5e-3",
        "-12.34E-5",
        "123456789012345678901234567890",
        "true",
        "false",
        "null",
        "\"\"",
        "\"abc\"",
        "\"quote \\\" backslash \\\\ slash \\/ \\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\uD83D\\uDE00\"",
        "\"h\xc3\xa9llo\"",
        "[]",
        "{}",
        "[ ]",
        "{ }",
        " \t\r\n[1, 2 ,3]\n ",
        "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":{\"e\":{\"f\":\"g\"}}}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "{\"\":0}",
        "[\"a\",{},[],0,-1.0e+1,true,false,null]"
    };
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        CHECK_MSG (s_valid (valid[i]), "rejected valid JSON: %s", valid[i]);
}

TEST (jsonscan_invalid_json)
{
    const char *invalid[] = { "",
                              "   ",
                              "01",
                              "-01",
                              "1.",
                              ".5",
                              "-",
                              "+1",
                              "1e",
                              "1e+",
                              "0x10",
                              "1.2.3",
                              "NaN",
                              "Infinity",
                              "tru",
                              "nul",
                              "True",
                              "\"abc",
                              "\"\\x\"",
                              "\"\\u12g4\"",
                              "\"\\u12\"",
                              "\"\\\"",
                              "'single'",
                              "[1,]",
                              "[,1]",
                              "[1 2]",
                              "[1",
                              "1]",
                              "{\"a\":1,}",
                              "{\"a\" 1}",
                              "{\"a\":}",
                              "{a:1}",
                              "{\"a\"}",
                              "{1:2}",
                              "{\"a\":1",
                              "true false",
                              "{} x",
                              "[1]]",
                              "{}{}",
                              "1 2",
                              "\"tab\there\"",
                              "\"new\nline\"",
                              "\"bell\x07\"",
                              "\"del\x1f\"",
                              "[\"a\" \"b\"]" };
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
        CHECK_MSG (!s_valid (invalid[i]), "accepted invalid JSON: %s", invalid[i]);

    //  A NUL byte inside a string is a raw control character too
    const char nul[] = "\"a\0b\"";
    CHECK (!jsonscan_valid (nul, nul + sizeof nul - 1));
    //  Text is bounded by its end, not by a NUL: a value cut short fails
    const char cut[] = "{\"a\":\"bc\"}";
    for (size_t size = 0; size < sizeof cut - 1; size++)
        CHECK_MSG (!jsonscan_valid (cut, cut + size), "accepted a prefix of %zu bytes", size);
    CHECK (jsonscan_valid (cut, cut + sizeof cut - 1));
}

//  jsonscan_repair on one input: `expected` is the repaired text, or NULL
//  when nothing needs repair; what comes out always reads with jansson.
static void
s_repair_is (const char *input, size_t size, const char *expected)
{
    size_t repaired_size = 0;
    char *repaired = jsonscan_repair (input, input + size, &repaired_size);
    if (!expected) {
        CHECK_MSG (!repaired, "repaired what needed nothing: %.*s -> %s", (int) size, input,
                   repaired);
        repaired = strndup (input, size), repaired_size = size;
    } else {
        CHECK_MSG (repaired, "left as it was: %.*s", (int) size, input);
        CHECK_MSG (repaired_size == strlen (expected) &&
                       memcmp (repaired, expected, repaired_size) == 0,
                   "%.*s\n  repaired: %.*s\n  expected: %s", (int) size, input, (int) repaired_size,
                   repaired, expected);
    }
    json_error_t error;
    json_t *json = json_loadb (repaired, repaired_size, JSON_DECODE_ANY, &error);
    CHECK_MSG (json, "jansson refuses %.*s: %s", (int) repaired_size, repaired, error.text);
    json_decref (json);
    free (repaired);
}

#define REPAIR_IS(input, expected) s_repair_is (input, sizeof input - 1, expected)

TEST (jsonscan_repair)
{
    //  Nothing to repair: valid surrogate pairs, escapes, UTF-8, numbers
    //  at the edges of what jansson reads.
    REPAIR_IS ("{\"a\":\"\\ud83c\\udf89 \\u00e9 \xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\x89 \\\\u0000\"}",
               NULL);
    REPAIR_IS ("[9223372036854775807,-9223372036854775808,1e308,-1.7e308,1e-400,0.5]", NULL);
    REPAIR_IS ("[1234567890123456789.5e10,0.000000000000000000000000000001]", NULL);
    //  Lone surrogates (high at the end, high before a non-low, low alone)
    //  and U+0000 become U+FFFD
    REPAIR_IS ("[\"\\ud83c\"]", "[\"\\ufffd\"]");
    REPAIR_IS ("[\"\\uD83C\\u0041\"]", "[\"\\ufffd\\u0041\"]");
    REPAIR_IS ("[\"\\udc89x\"]", "[\"\\ufffdx\"]");
    REPAIR_IS ("[\"\\ud83c\\ud83c\\udf89\"]", "[\"\\ufffd\\ud83c\\udf89\"]");
    REPAIR_IS ("{\"\\u0000\":\"a\\u0000b\"}", "{\"\\ufffd\":\"a\\ufffdb\"}");
    //  Each maximal invalid UTF-8 sequence: one U+FFFD
    REPAIR_IS ("\"\x80\x80\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    REPAIR_IS ("\"\xe2\x82\"", "\"\xef\xbf\xbd\"");
    REPAIR_IS ("\"\xe2\x82x\"", "\"\xef\xbf\xbdx\"");
    REPAIR_IS ("\"\xc0\xaf\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    REPAIR_IS ("\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    REPAIR_IS ("\"\xf4\x90\x80\x80\"", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    REPAIR_IS ("\"\xf0\x9f\x8e\"", "\"\xef\xbf\xbd\"");
    REPAIR_IS ("\"\xff\xfe\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    //  Numbers jansson cannot hold: integers beyond 64 bits become the
    //  nearest double, numbers beyond a double its largest
    REPAIR_IS ("[9223372036854775808]", "[9.2233720368547758e+18]");
    REPAIR_IS ("[-9223372036854775809]", "[-9.2233720368547758e+18]");
    REPAIR_IS ("{\"id\":18446744073709551617}", "{\"id\":1.8446744073709552e+19}");
    REPAIR_IS ("[1e400,-1E+400,1e99999999999999999999]",
               "[1.7976931348623157e+308,-1.7976931348623157e+308,1.7976931348623157e+308]");
    REPAIR_IS ("[0.5,1e309]", "[0.5,1.7976931348623157e+308]");
    //  Strings are not numbers, and escaped quotes do not end them
    REPAIR_IS ("[\"99999999999999999999\",\"\\\"\\ud800\"]",
               "[\"99999999999999999999\",\"\\\"\\ufffd\"]");
    //  Text cut short or not JSON at all: no crash, no read past the end
    const char cut[] = "[\"\\ud83c\\ud";
    for (size_t size = 0; size <= sizeof cut - 1; size++) {
        size_t repaired_size;
        free (jsonscan_repair (cut, cut + size, &repaired_size));
    }
}

TEST (jsonscan_id)
{
    struct {
        const char *text;
        bool ours;
        uint64_t id;
    } cases[] = { { "0", true, 0 },
                  { "7", true, 7 },
                  { "\"7\"", true, 7 },
                  { "9223372036854775807", true, INT64_MAX },
                  { "\"9223372036854775807\"", true, INT64_MAX },
                  { "9223372036854775808", false, 0 },
                  { "18446744073709551615", false, 0 },
                  { "18446744073709551616", false, 0 },
                  { "18446744073709551623", false, 0 },
                  { "99999999999999999999", false, 0 },
                  { "184467440737095516150", false, 0 },
                  { "07", false, 0 },
                  { "\"07\"", false, 0 },
                  { "-7", false, 0 },
                  { "7.0", false, 0 },
                  { "7e0", false, 0 },
                  { "\"7 \"", false, 0 },
                  { "\"\"", false, 0 },
                  { "\"a7\"", false, 0 },
                  { "\"", false, 0 },
                  { "null", false, 0 },
                  { "true", false, 0 } };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t id = 0;
        const char *text = cases[i].text;
        bool ours = jsonscan_id (text, text + strlen (text), &id);
        CHECK_MSG (ours == cases[i].ours, "%s: %s", text, ours ? "taken as ours" : "refused");
        CHECK_MSG (!ours || id == cases[i].id, "%s: read as %llu", text, (unsigned long long) id);
    }
}

static void
s_each_collect (void *arg, const char *value, size_t size)
{
    jsonbuf_t *seen = (jsonbuf_t *) arg;
    jsonbuf_append (seen, value, size);
    jsonbuf_append (seen, "|", 1);
}

TEST (jsonscan_each)
{
    const char *text = " [ {\"a\":[1,2]} , \"x,]\" ,3,[] ] ";
    jsonbuf_t seen = { 0 };
    CHECK (jsonscan_each (text, text + strlen (text), s_each_collect, &seen) == 4);
    CHECK_STR (seen.data, "{\"a\":[1,2]}|\"x,]\"|3|[]|");
    seen.size = 0;
    const char *empty = "[ ]";
    CHECK (jsonscan_each (empty, empty + 3, s_each_collect, &seen) == 0);
    CHECK (seen.size == 0);
    const char *bad[] = { "[1,]", "{}", "[1", "[1] x", "" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG (jsonscan_each (bad[i], bad[i] + strlen (bad[i]), s_each_collect, &seen) == -1,
                   "%s", bad[i]);
    CHECK (seen.size == 0);
    jsonbuf_free (&seen);
}

TEST (jsonscan_text)
{
    struct {
        const char *bytes;
        size_t size;
        const char *text;
    } cases[] = {
        { "plain", 5, "plain" },
        { "caf\xc3\xa9 \xe2\x82\xac", 9, "caf\xc3\xa9 \xe2\x82\xac" },
        { "caf\xe9", 4, "caf\xef\xbf\xbd" },
        { "a\0b", 3,
          "a\xef\xbf\xbd"
          "b" },
        { "\xe2\x82", 2, "\xef\xbf\xbd" },
        { "\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = jsonscan_text (cases[i].bytes, cases[i].size);
        CHECK_STR (text, cases[i].text);
        free (text);
    }
    //  Quoting makes JSON of anything
    jsonbuf_t buf = { 0 };
    CHECK (jsonbuf_append_quoted (&buf, "caf\xe9 \"\xe2\x82\" \xc3\xa9") == 0);
    json_t *json = json_loads (buf.data, JSON_DECODE_ANY, NULL);
    CHECK_MSG (json, "not JSON: %s", buf.data);
    CHECK_STR (json_string_value (json), "caf\xef\xbf\xbd \"\xef\xbf\xbd\" \xc3\xa9");
    json_decref (json);
    jsonbuf_free (&buf);
}

TEST (jsonscan_deep_nesting)
{
    //  Nesting beyond the bound is refused, not a stack overflow
    size_t depth = 100000;
    char *text = malloc (2 * depth + 1);
    CHECK (text);
    memset (text, '[', depth);
    memset (text + depth, ']', depth);
    text[2 * depth] = 0;
    CHECK (!s_valid (text));
    //  ... and the same for objects
    char *object = malloc (6 * depth + 2);
    CHECK (object);
    size_t size = 0;
    for (size_t i = 0; i < depth; i++) {
        memcpy (object + size, "{\"a\":", 5);
        size += 5;
    }
    object[size++] = '1';
    memset (object + size, '}', depth);
    size += depth;
    object[size] = 0;
    CHECK (!s_valid (object));
    free (object);
    free (text);
}

TEST (jsonscan_is_object)
{
    const char *objects[] = { "{}", " {\"a\":1} ", "{\"a\":{\"b\":[]}}" };
    for (size_t i = 0; i < 3; i++)
        CHECK (jsonscan_is_object (objects[i], objects[i] + strlen (objects[i])));
    const char *others[] = { "[]", "\"{}\"", "1", "null", "{\"a\":1} {}", "{", "{\"a\":1}x", "" };
    for (size_t i = 0; i < 8; i++)
        CHECK_MSG (!jsonscan_is_object (others[i], others[i] + strlen (others[i])),
                   "taken for an object: %s", others[i]);
}

//  The raw text of member `key`, or NULL if jsonscan_member finds none.
static char *
s_member (const char *object, const char *key)
{
    const char *value, *value_end;
    if (!jsonscan_member (object, object + strlen (object), key, &value, &value_end))
        return NULL;
    return strndup (value, (size_t) (value_end - value));
}

#define CHECK_MEMBER(object, key, expected)                                                        \
    do {                                                                                           \
        char *t_value_ = s_member ((object), (key));                                               \
        CHECK_STR (t_value_, (expected));                                                          \
        free (t_value_);                                                                           \
    } while (0)

#define CHECK_NO_MEMBER(object, key)                                                               \
    do {                                                                                           \
        char *t_value_ = s_member ((object), (key));                                               \
        CHECK_MSG (t_value_ == NULL, "found %s = %s", (key), t_value_);                            \
    } while (0)

TEST (jsonscan_member)
{
    const char *response = " { \"jsonrpc\" : \"2.0\", \"result\":{\"id\":\"inner\","
                           "\"content\":[{\"type\":\"text\",\"text\":\"\\\"id\\\":9\"}]},"
                           "\"error\":null,\"id\" : 7 } ";
    CHECK_MEMBER (response, "id", "7");
    CHECK_MEMBER (response, "jsonrpc", "\"2.0\"");
    CHECK_MEMBER (response, "error", "null");
    CHECK_MEMBER (response, "result",
                  "{\"id\":\"inner\",\"content\":[{\"type\":\"text\",\"text\":\"\\\"id\\\":9\"}]}");
    //  Nested keys are not top-level members
    CHECK_NO_MEMBER (response, "content");
    CHECK_NO_MEMBER (response, "type");
    CHECK_NO_MEMBER (response, "text");
    CHECK_NO_MEMBER (response, "inner");
    CHECK_NO_MEMBER ("{\"result\":{\"id\":1}}", "id");
    //  A key that is a prefix of another, or contains it, does not match
    CHECK_MEMBER ("{\"ident\":1,\"xid\":2,\"id\":3}", "id", "3");
    CHECK_NO_MEMBER ("{\"ident\":1}", "id");
    //  A string value that looks like a member does not match
    CHECK_MEMBER ("{\"a\":\"\\\"id\\\":5\",\"id\":6}", "id", "6");
    //  Not an object, or broken before the key: no member
    CHECK_NO_MEMBER ("[\"id\",1]", "id");
    CHECK_NO_MEMBER ("{}", "id");
    CHECK_NO_MEMBER ("{\"a\":tru,\"id\":1}", "id");
    CHECK_NO_MEMBER ("{\"a\" 1,\"id\":1}", "id");
    CHECK_NO_MEMBER ("\"id\"", "id");
    //  Of duplicate keys the last counts, and an escaped key is the key it
    //  spells: what jansson (and the host's reader) will see
    CHECK_MEMBER ("{\"id\":1,\"result\":{},\"id\":2}", "id", "2");
    CHECK_MEMBER ("{\"\\u0069d\":4}", "id", "4");
    CHECK_MEMBER ("{\"id\":1,\"i\\u0064\":5}", "id", "5");
    CHECK_NO_MEMBER ("{\"i\\u00e9\":4}", "id");
    CHECK_NO_MEMBER ("{\"\\u0069\":4}", "id");
    CHECK_MEMBER ("{\"a\\\"b\":4}", "a\"b", "4");
}

//  Quotes `text` and checks the JSON text against `expected`, and that it
//  is valid JSON that jansson reads back as `text`.
static void
s_check_quoted (const char *text, const char *expected)
{
    jsonbuf_t buf = { 0 };
    CHECK (jsonbuf_append_quoted (&buf, text) == 0);
    if (expected)
        CHECK_STR (buf.data, expected);
    CHECK_MSG (jsonscan_valid (buf.data, buf.data + buf.size), "invalid: %s", buf.data);
    json_error_t error;
    json_t *decoded = json_loadb (buf.data, buf.size, JSON_DECODE_ANY, &error);
    CHECK_MSG (json_is_string (decoded), "jansson: %s: %s", error.text, buf.data);
    CHECK_STR (json_string_value (decoded), text);
    json_decref (decoded);
    jsonbuf_free (&buf);
}

TEST (jsonbuf_quoting)
{
    s_check_quoted ("", "\"\"");
    s_check_quoted ("plain text", "\"plain text\"");
    s_check_quoted ("say \"hi\"", "\"say \\\"hi\\\"\"");
    s_check_quoted ("C:\\dir\\file", "\"C:\\\\dir\\\\file\"");
    s_check_quoted ("a\nb\tc\rd", "\"a\\nb\\tc\\rd\"");
    s_check_quoted ("\x01\x08\x0c\x1f", "\"\\u0001\\u0008\\u000c\\u001f\"");
    s_check_quoted ("/ and h\xc3\xa9 and \x7f", "\"/ and h\xc3\xa9 and \x7f\"");
    //  Every byte from 1 to 127 survives the round trip
    char all[128];
    for (int i = 1; i < 128; i++)
        all[i - 1] = (char) i;
    all[127] = 0;
    s_check_quoted (all, NULL);

    //  Appends go after what is there
    jsonbuf_t buf = { 0 };
    CHECK (jsonbuf_append_str (&buf, "{\"message\":") == 0);
    CHECK (jsonbuf_append_quoted (&buf, "x\"y") == 0);
    CHECK (jsonbuf_append (&buf, "}", 1) == 0);
    CHECK_STR (buf.data, "{\"message\":\"x\\\"y\"}");
    CHECK (buf.size == strlen (buf.data));
    jsonbuf_free (&buf);
    CHECK (buf.data == NULL && buf.size == 0);
}

//  --------------------------------------------------------------------------
//  idmap

//  A small deterministic generator, so a failure can be replayed.
static uint64_t
s_random (uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

TEST (idmap_put_get_take)
{
    enum { COUNT = 5000 };
    static int values[COUNT + 1];
    idmap_t map;
    idmap_init (&map);
    CHECK (idmap_get (&map, 1) == NULL);
    CHECK (idmap_take (&map, 1) == NULL);
    for (uint64_t id = 1; id <= COUNT; id++)
        CHECK (idmap_put (&map, id, &values[id]) == 0);
    CHECK (map.size == COUNT);
    for (uint64_t id = 1; id <= COUNT; id++)
        CHECK (idmap_get (&map, id) == &values[id]);
    CHECK (idmap_get (&map, COUNT + 1) == NULL);

    //  Take every odd id: the even ones stay findable (probe chains are
    //  not broken by the deletions), the odd ones are gone
    for (uint64_t id = 1; id <= COUNT; id += 2)
        CHECK (idmap_take (&map, id) == &values[id]);
    CHECK (map.size == COUNT / 2);
    for (uint64_t id = 1; id <= COUNT; id++)
        CHECK_MSG (idmap_get (&map, id) == (id % 2 ? NULL : &values[id]), "id %llu",
                   (unsigned long long) id);
    CHECK (idmap_take (&map, 1) == NULL);

    //  Put again over a map with holes; replacing keeps the size
    for (uint64_t id = 1; id <= COUNT; id += 2)
        CHECK (idmap_put (&map, id, &values[id]) == 0);
    CHECK (idmap_put (&map, 2, &values[3]) == 0);
    CHECK (map.size == COUNT);
    CHECK (idmap_get (&map, 2) == &values[3]);
    idmap_free (&map);
}

static void
s_count_entry (uint64_t id, void *value, void *arg)
{
    size_t *count = (size_t *) arg;
    CHECK (value == (void *) (uintptr_t) id);
    (*count)++;
}

TEST (idmap_random_against_reference)
{
    //  Random puts and takes on a small id range (so that slots collide
    //  and chains wrap around), checked against a plain array after each
    //  step; large ids share the low bits to stress the hash
    enum { IDS = 700, STEPS = 60000 };
    static bool present[IDS];
    memset (present, 0, sizeof present);
    idmap_t map;
    idmap_init (&map);
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    size_t size = 0;
    for (int step = 0; step < STEPS; step++) {
        size_t index = (size_t) (s_random (&state) % IDS);
        uint64_t id = index < IDS / 2 ? index + 1 : ((uint64_t) index << 40) | 1;
        void *value = (void *) (uintptr_t) id;
        if (s_random (&state) % 3) {
            if (!present[index])
                size++;
            present[index] = true;
            CHECK (idmap_put (&map, id, value) == 0);
        } else {
            void *taken = idmap_take (&map, id);
            CHECK_MSG (taken == (present[index] ? value : NULL), "step %d: take %llu", step,
                       (unsigned long long) id);
            if (present[index])
                size--;
            present[index] = false;
        }
        CHECK (map.size == size);
        if (step % 997 == 0 || step == STEPS - 1)
            for (size_t i = 0; i < IDS; i++) {
                uint64_t check = i < IDS / 2 ? i + 1 : ((uint64_t) i << 40) | 1;
                CHECK_MSG (idmap_get (&map, check) ==
                               (present[i] ? (void *) (uintptr_t) check : NULL),
                           "step %d: id %llu", step, (unsigned long long) check);
            }
    }
    size_t seen = 0;
    idmap_each (&map, s_count_entry, &seen);
    CHECK (seen == size);
    idmap_free (&map);
}

TEST (deadlines_pop_in_order)
{
    enum { COUNT = 3000 };
    deadlines_t heap;
    deadlines_init (&heap);
    CHECK (deadlines_peek (&heap) == NULL);
    deadlines_pop (&heap); //  harmless when empty
    uint64_t state = 12345;
    static int seen[COUNT + 1];
    memset (seen, 0, sizeof seen);
    //  Duplicates on purpose: many calls share a deadline
    for (uint64_t id = 1; id <= COUNT; id++)
        CHECK (deadlines_push (&heap, (int64_t) (s_random (&state) % 500), id) == 0);
    int64_t last = INT64_MIN;
    size_t popped = 0;
    while (deadlines_peek (&heap)) {
        deadline_t *next = deadlines_peek (&heap);
        CHECK_MSG (next->when >= last, "%lld after %lld", (long long) next->when, (long long) last);
        last = next->when;
        CHECK (next->id <= COUNT);
        if (next->id)
            seen[next->id]++;
        deadlines_pop (&heap);
        popped++;
        //  Pushing later deadlines meanwhile keeps the order
        if (popped % 10 == 0 && popped <= COUNT)
            CHECK (deadlines_push (&heap, last + 1000, 0) == 0); //  id 0: not counted
    }
    CHECK (popped == COUNT + COUNT / 10);
    for (uint64_t id = 1; id <= COUNT; id++)
        CHECK_MSG (seen[id] == 1, "id %llu popped %d times", (unsigned long long) id, seen[id]);
    deadlines_free (&heap);
}

//  --------------------------------------------------------------------------
//  catalog

//  One function tool `lookup`, server alpha (search, lookup, a name with a
//  dot and a space) and server beta (search, other), in that order.
static void
s_catalog_input (json_t **functions, json_t **servers)
{
    *functions = json_pack ("[{s:s, s:s, s:{s:s}, s:s, s:s}]", "name", "lookup", "description",
                            "Looks things up", "inputSchema", "type", "object", "key", "fn-7",
                            "endpoint", "inproc://functions");
    *servers = json_pack (
        "[{s:s, s:s, s:[{s:s, s:s}, {s:s}, {s:s}]}, {s:s, s:s, s:[{s:s}, {s:s}]}]", "name", "alpha",
        "endpoint", "inproc://alpha", "tools", "name", "search", "description", "Searches alpha",
        "name", "lookup", "name", "my.tool name", "name", "beta", "endpoint", "inproc://beta",
        "tools", "name", "search", "name", "other");
}

//  The exposed names, in catalogue order, joined with spaces.
static char *
s_catalog_names (const catalog_t *catalog)
{
    json_t *tools = json_loads (catalog_tools_json (catalog), 0, NULL);
    CHECK (json_is_array (tools));
    CHECK (json_array_size (tools) == catalog_size (catalog));
    jsonbuf_t buf = { 0 };
    jsonbuf_append_str (&buf, "");
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        if (index)
            jsonbuf_append_str (&buf, " ");
        jsonbuf_append_str (&buf, json_string_value (json_object_get (tool, "name")));
    }
    json_decref (tools);
    return buf.data;
}

static catalog_t *
s_build (mcpact_name_policy_t policy, json_t **rejected)
{
    json_t *functions, *servers;
    s_catalog_input (&functions, &servers);
    *rejected = json_array ();
    catalog_t *catalog = catalog_build (policy, functions, servers, *rejected);
    CHECK (catalog);
    json_decref (functions);
    json_decref (servers);
    return catalog;
}

TEST (catalog_policy_reject)
{
    json_t *rejected;
    catalog_t *catalog = s_build (MCPACT_NAMES_REJECT, &rejected);
    char *names = s_catalog_names (catalog);
    CHECK_STR (names, "lookup search my_tool_name other");
    free (names);

    //  alpha's lookup loses to the function tool, beta's search to alpha's;
    //  each reason names both owners
    CHECK_MSG (json_array_size (rejected) == 2, "rejected: %s",
               json_dumps (rejected, JSON_COMPACT));
    json_t *first = json_array_get (rejected, 0);
    CHECK_STR (json_string_value (json_object_get (first, "server")), "alpha");
    CHECK_STR (json_string_value (json_object_get (first, "tool")), "lookup");
    const char *reason = json_string_value (json_object_get (first, "reason"));
    CHECK_CONTAINS (reason, "server alpha");
    CHECK_CONTAINS (reason, "function tool lookup");
    json_t *second = json_array_get (rejected, 1);
    CHECK_STR (json_string_value (json_object_get (second, "server")), "beta");
    CHECK_STR (json_string_value (json_object_get (second, "tool")), "search");
    reason = json_string_value (json_object_get (second, "reason"));
    CHECK_CONTAINS (reason, "server beta");
    CHECK_CONTAINS (reason, "server alpha");

    //  The winners route to their owners
    const catalog_entry_t *entry = catalog_lookup (catalog, "search");
    CHECK (entry);
    CHECK_STR (entry->owner, "alpha");
    CHECK_STR (entry->endpoint, "inproc://alpha");
    entry = catalog_lookup (catalog, "lookup");
    CHECK (entry);
    CHECK (entry->owner == NULL);
    CHECK_STR (entry->original, "fn-7");
    CHECK_STR (entry->endpoint, "inproc://functions");
    json_decref (rejected);
    catalog_unref (&catalog);
    CHECK (catalog == NULL);
}

TEST (catalog_reserved_names)
{
    //  alpha is not up; its allow-list keeps search and lookup for it.
    //  beta, which comes later, cannot take search; nothing of alpha shows.
    json_t *servers =
        json_pack ("[{s:s, s:s, s:[s, s]}, {s:s, s:s, s:[{s:s}, {s:s}]}]", "name", "alpha",
                   "endpoint", "inproc://alpha", "reserved", "search", "lookup", "name", "beta",
                   "endpoint", "inproc://beta", "tools", "name", "search", "name", "other");
    json_t *functions = json_array ();
    json_t *rejected = json_array ();
    catalog_t *down = catalog_build (MCPACT_NAMES_REJECT, functions, servers, rejected);
    char *names = s_catalog_names (down);
    CHECK_STR (names, "other");
    free (names);
    CHECK (catalog_size (down) == 1);
    CHECK (json_array_size (rejected) == 1);
    CHECK_CONTAINS (json_string_value (json_object_get (json_array_get (rejected, 0), "reason")),
                    "tool search of server alpha, which comes first and is not up");
    //  A call to search goes to alpha, which says why it cannot answer
    const catalog_entry_t *entry = catalog_lookup (down, "search");
    CHECK (entry && entry->reserved);
    CHECK_STR (entry->endpoint, "inproc://alpha");

    //  alpha comes up with its tools: search is alpha's, and the change
    //  says search changed owner (it was not shown before: added)
    json_t *alpha = json_array_get (servers, 0);
    json_object_del (alpha, "reserved");
    json_object_set_new (alpha, "tools", json_pack ("[{s:s}]", "name", "search"));
    json_array_clear (rejected);
    catalog_t *up = catalog_build (MCPACT_NAMES_REJECT, functions, servers, rejected);
    names = s_catalog_names (up);
    CHECK_STR (names, "search other");
    free (names);
    json_t *change = catalog_diff (down, up);
    char *text = json_dumps (change, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR (text, "{\"added\":[\"search\"],\"changed\":[],\"removed\":[],\"tools\":2}");
    free (text);
    json_decref (change);

    //  Without an allow-list nothing is kept: beta has search until alpha
    //  lists, and then the change says search changed owner
    json_object_del (alpha, "tools");
    json_object_set_new (alpha, "tools", json_array ());
    catalog_t *first = catalog_build (MCPACT_NAMES_REJECT, functions, servers, rejected);
    CHECK_STR (catalog_lookup (first, "search")->owner, "beta");
    change = catalog_diff (first, up);
    text = json_dumps (change, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR (text, "{\"added\":[],\"changed\":[\"search\"],\"removed\":[],\"tools\":2}");
    free (text);
    json_decref (change);
    catalog_unref (&first);
    catalog_unref (&up);
    catalog_unref (&down);
    json_decref (rejected);
    json_decref (functions);
    json_decref (servers);
}

TEST (catalog_policy_prefix)
{
    json_t *rejected;
    catalog_t *catalog = s_build (MCPACT_NAMES_PREFIX, &rejected);
    char *names = s_catalog_names (catalog);
    //  Function tools are never prefixed; every server tool is
    CHECK_STR (names, "lookup alpha_search alpha_lookup alpha_my_tool_name beta_search beta_other");
    free (names);
    CHECK (json_array_size (rejected) == 0);
    const catalog_entry_t *entry = catalog_lookup (catalog, "beta_search");
    CHECK (entry);
    CHECK_STR (entry->owner, "beta");
    CHECK_STR (entry->original, "search");
    CHECK_STR (entry->endpoint, "inproc://beta");
    entry = catalog_lookup (catalog, "alpha_my_tool_name");
    CHECK (entry);
    CHECK_STR (entry->original, "my.tool name");
    CHECK (catalog_lookup (catalog, "search") == NULL);
    json_decref (rejected);
    catalog_unref (&catalog);
}

TEST (catalog_policy_prefix_on_conflict)
{
    json_t *rejected;
    catalog_t *catalog = s_build (MCPACT_NAMES_PREFIX_ON_CONFLICT, &rejected);
    char *names = s_catalog_names (catalog);
    CHECK_STR (names, "lookup search alpha_lookup my_tool_name beta_search other");
    free (names);
    CHECK (json_array_size (rejected) == 0);
    CHECK_STR (catalog_lookup (catalog, "search")->owner, "alpha");
    CHECK_STR (catalog_lookup (catalog, "beta_search")->owner, "beta");
    CHECK_STR (catalog_lookup (catalog, "beta_search")->original, "search");
    CHECK_STR (catalog_lookup (catalog, "alpha_lookup")->original, "lookup");
    CHECK (catalog_lookup (catalog, "lookup")->owner == NULL);
    json_decref (rejected);
    catalog_unref (&catalog);

    //  Even the prefixed name can be taken: then the tool is rejected,
    //  not exposed twice under one name
    json_t *functions =
        json_pack ("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "name", "echo", "key", "f1", "endpoint",
                   "inproc://f", "name", "srv_echo", "key", "f2", "endpoint", "inproc://f");
    json_t *servers = json_pack ("[{s:s, s:s, s:[{s:s}]}]", "name", "srv", "endpoint",
                                 "inproc://srv", "tools", "name", "echo");
    rejected = json_array ();
    catalog = catalog_build (MCPACT_NAMES_PREFIX_ON_CONFLICT, functions, servers, rejected);
    names = s_catalog_names (catalog);
    CHECK_STR (names, "echo srv_echo");
    free (names);
    CHECK (json_array_size (rejected) == 1);
    CHECK (catalog_lookup (catalog, "srv_echo")->owner == NULL);
    json_decref (functions);
    json_decref (servers);
    json_decref (rejected);
    catalog_unref (&catalog);
}

TEST (catalog_deterministic)
{
    //  Same input, same catalogue, byte for byte
    json_t *rejected_a, *rejected_b;
    catalog_t *a = s_build (MCPACT_NAMES_PREFIX_ON_CONFLICT, &rejected_a);
    catalog_t *b = s_build (MCPACT_NAMES_PREFIX_ON_CONFLICT, &rejected_b);
    CHECK_STR (catalog_tools_json (a), catalog_tools_json (b));
    json_decref (rejected_a);
    json_decref (rejected_b);
    catalog_unref (&a);
    catalog_unref (&b);

    //  Declaration order decides who keeps a contested name
    json_t *functions, *servers;
    s_catalog_input (&functions, &servers);
    json_t *swapped =
        json_pack ("[O, O]", json_array_get (servers, 1), json_array_get (servers, 0));
    json_t *rejected = json_array ();
    catalog_t *catalog = catalog_build (MCPACT_NAMES_REJECT, functions, swapped, rejected);
    CHECK_STR (catalog_lookup (catalog, "search")->owner, "beta");
    CHECK_STR (json_string_value (json_object_get (json_array_get (rejected, 0), "server")),
               "alpha");
    char *names = s_catalog_names (catalog);
    CHECK_STR (names, "lookup search other my_tool_name");
    free (names);
    json_decref (functions);
    json_decref (servers);
    json_decref (swapped);
    json_decref (rejected);
    catalog_unref (&catalog);
}

TEST (catalog_exposed_json)
{
    json_t *rejected;
    catalog_t *catalog = s_build (MCPACT_NAMES_PREFIX_ON_CONFLICT, &rejected);
    json_t *tools = json_loads (catalog_tools_json (catalog), 0, NULL);
    CHECK (json_is_array (tools));
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        const char *name = json_string_value (json_object_get (tool, "name"));
        CHECK (name && catalog_name_valid (name));
        //  Where it comes from, for the host; how we route it stays inside
        json_t *origin = json_object_get (tool, "_mcpact");
        CHECK_MSG (json_is_object (origin), "%s has no _mcpact", name);
        CHECK (json_object_get (tool, "key") == NULL);
        CHECK (json_object_get (tool, "endpoint") == NULL);
        //  Every tool has an input schema, as the LLM APIs want
        CHECK (json_is_object (json_object_get (tool, "inputSchema")));
        const catalog_entry_t *entry = catalog_lookup (catalog, name);
        CHECK (entry);
        if (entry->owner) {
            CHECK_STR (json_string_value (json_object_get (origin, "server")), entry->owner);
            CHECK_STR (json_string_value (json_object_get (origin, "tool")), entry->original);
        } else
            CHECK (json_is_true (json_object_get (origin, "function")));
    }
    json_t *search = json_array_get (tools, 1);
    CHECK_STR (json_string_value (json_object_get (search, "description")), "Searches alpha");
    json_t *odd = json_array_get (tools, 3);
    CHECK_STR (json_string_value (json_object_get (odd, "name")), "my_tool_name");
    CHECK_STR (json_string_value (json_object_get (json_object_get (odd, "_mcpact"), "tool")),
               "my.tool name");
    json_decref (tools);
    json_decref (rejected);
    catalog_unref (&catalog);
}

TEST (catalog_lookup_misses)
{
    json_t *rejected;
    catalog_t *catalog = s_build (MCPACT_NAMES_REJECT, &rejected);
    //  Only exposed names are found; not the original of a renamed tool
    CHECK (catalog_lookup (catalog, "my.tool name") == NULL);
    CHECK (catalog_lookup (catalog, "nosuch") == NULL);
    CHECK (catalog_lookup (catalog, "") == NULL);
    CHECK (catalog_lookup (catalog, NULL) == NULL);
    CHECK (catalog_lookup (NULL, "search") == NULL);
    CHECK (catalog_lookup (catalog, "Search") == NULL);
    json_decref (rejected);

    //  A reference outlives the catalogue's other holders
    catalog_t *extra = catalog_ref (catalog);
    catalog_unref (&catalog);
    CHECK (catalog_lookup (extra, "search"));
    catalog_unref (&extra);
    catalog_unref (&extra); //  a no-op on NULL
}

TEST (catalog_sanitize_names)
{
    char out[CATALOG_NAME_MAX + 1];
    catalog_sanitize ("my.tool name", out);
    CHECK_STR (out, "my_tool_name");
    catalog_sanitize ("get-sum_2", out);
    CHECK_STR (out, "get-sum_2");
    catalog_sanitize ("a/b:c@d", out);
    CHECK_STR (out, "a_b_c_d");
    catalog_sanitize ("h\xc3\xa9", out);
    CHECK (catalog_name_valid (out));
    CHECK (!catalog_name_valid ("my.tool"));
    CHECK (!catalog_name_valid (""));

    //  64 characters stay as they are
    char name[128];
    memset (name, 'n', 64);
    name[64] = 0;
    catalog_sanitize (name, out);
    CHECK_STR (out, name);
    CHECK (catalog_name_valid (name));

    //  Longer ones are cut to at most 64, and names that differ only at
    //  the end stay distinct
    char long_a[101], long_b[101], out_b[CATALOG_NAME_MAX + 1];
    memset (long_a, 'x', 100);
    long_a[100] = 0;
    memcpy (long_b, long_a, sizeof long_a);
    long_b[99] = 'y';
    catalog_sanitize (long_a, out);
    catalog_sanitize (long_b, out_b);
    CHECK (strlen (out) <= CATALOG_NAME_MAX);
    CHECK (strlen (out_b) <= CATALOG_NAME_MAX);
    CHECK (catalog_name_valid (out));
    CHECK (catalog_name_valid (out_b));
    CHECK_MSG (strcmp (out, out_b) != 0, "both became %s", out);
    //  ... and the same name always gives the same result
    char again[CATALOG_NAME_MAX + 1];
    catalog_sanitize (long_a, again);
    CHECK_STR (again, out);
    CHECK (strncmp (out, long_a, 32) == 0);
}

TEST (catalog_long_names_built)
{
    //  Two long tool names of one server that differ only at the end are
    //  both exposed, each ≤ 64 characters, also when prefixed
    char long_a[101], long_b[101];
    memset (long_a, 't', 100);
    long_a[100] = 0;
    memcpy (long_b, long_a, sizeof long_a);
    long_b[99] = 'u';
    for (int policy = MCPACT_NAMES_REJECT; policy <= MCPACT_NAMES_PREFIX_ON_CONFLICT; policy++) {
        json_t *servers =
            json_pack ("[{s:s, s:s, s:[{s:s}, {s:s}]}]", "name", "a-server-with-a-rather-long-name",
                       "endpoint", "inproc://s", "tools", "name", long_a, "name", long_b);
        json_t *rejected = json_array ();
        catalog_t *catalog = catalog_build ((mcpact_name_policy_t) policy, NULL, servers, rejected);
        CHECK_MSG (catalog_size (catalog) == 2, "policy %d: %zu tools", policy,
                   catalog_size (catalog));
        CHECK (json_array_size (rejected) == 0);
        json_t *tools = json_loads (catalog_tools_json (catalog), 0, NULL);
        const char *first = json_string_value (json_object_get (json_array_get (tools, 0), "name"));
        const char *second =
            json_string_value (json_object_get (json_array_get (tools, 1), "name"));
        CHECK (catalog_name_valid (first) && catalog_name_valid (second));
        CHECK (strcmp (first, second) != 0);
        CHECK_STR (catalog_lookup (catalog, first)->original, long_a);
        CHECK_STR (catalog_lookup (catalog, second)->original, long_b);
        json_decref (tools);
        json_decref (rejected);
        json_decref (servers);
        catalog_unref (&catalog);
    }
}

TEST (catalog_slot_publish)
{
    catalog_slot_t slot;
    catalog_slot_init (&slot);
    CHECK (catalog_slot_get (&slot) == NULL);
    json_t *rejected;
    catalog_t *first = s_build (MCPACT_NAMES_REJECT, &rejected);
    json_decref (rejected);
    catalog_slot_publish (&slot, first);
    catalog_t *held = catalog_slot_get (&slot);
    CHECK (held == first);
    //  A new catalogue replaces the old; a reader holding the old one
    //  keeps using it safely
    catalog_slot_publish (&slot, s_build (MCPACT_NAMES_PREFIX, &rejected));
    json_decref (rejected);
    CHECK (catalog_lookup (held, "search"));
    catalog_t *now = catalog_slot_get (&slot);
    CHECK (now != held);
    CHECK (catalog_lookup (now, "alpha_search"));
    CHECK (slot.version == 2);
    catalog_unref (&held);
    catalog_unref (&now);
    catalog_slot_fini (&slot);
}

//  --------------------------------------------------------------------------
//  wire

typedef struct {
    void *context; //  private ZeroMQ context
    void *a, *b;   //  a connected PAIR
} s_pair_t;

static void
s_pair_new (s_pair_t *self, const char *endpoint)
{
    self->context = zmq_ctx_new ();
    CHECK (self->context);
    self->a = zmq_socket (self->context, ZMQ_PAIR);
    self->b = zmq_socket (self->context, ZMQ_PAIR);
    CHECK (self->a && self->b);
    CHECK (zmq_bind (self->a, endpoint) == 0);
    CHECK (zmq_connect (self->b, endpoint) == 0);
}

static void
s_pair_destroy (s_pair_t *self)
{
    int linger = 0;
    zmq_setsockopt (self->a, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->b, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (self->a);
    zmq_close (self->b);
    zmq_ctx_term (self->context);
}

static void
s_send_parts (void *socket, const char *const *parts, int count)
{
    for (int i = 0; i < count; i++)
        CHECK (zmq_send (socket, parts[i], strlen (parts[i]), i + 1 < count ? ZMQ_SNDMORE : 0) >=
               0);
}

TEST (wire_frames)
{
    s_pair_t pair;
    s_pair_new (&pair, "inproc://test-wire-frames");
    const char *call[] = { "CALL", "42", "echo", "{\"message\":\"hi\"}", "5000" };
    s_send_parts (pair.a, call, 5);
    wire_msg_t msg;
    CHECK (wire_recv (&msg, pair.b, 0) == 5);
    CHECK (wire_is (&msg, 0, "CALL"));
    CHECK (!wire_is (&msg, 0, "CAL"));
    CHECK (!wire_is (&msg, 0, "CALLS"));
    CHECK (wire_int (&msg, 1, -1) == 42);
    CHECK (wire_int (&msg, 4, -1) == 5000);
    CHECK (wire_int (&msg, 2, -1) == -1); //  not a number
    CHECK (wire_int (&msg, 7, -9) == -9); //  absent
    CHECK (wire_size (&msg, 6) == 0);
    char *args = wire_strdup (&msg, 3);
    CHECK_STR (args, "{\"message\":\"hi\"}");
    free (args);
    wire_close (&msg);
    CHECK (msg.count == 0);

    //  Parts beyond the maximum are dropped; the next message is whole
    const char *many[] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11" };
    s_send_parts (pair.a, many, 12);
    const char *next[] = { "STATUS", "7" };
    s_send_parts (pair.a, next, 2);
    CHECK (wire_recv (&msg, pair.b, 0) == WIRE_MAX_PARTS);
    CHECK (wire_is (&msg, WIRE_MAX_PARTS - 1, "7"));
    wire_close (&msg);
    CHECK (wire_recv (&msg, pair.b, 0) == 2);
    CHECK (wire_is (&msg, 0, "STATUS"));
    CHECK (wire_int (&msg, 1, 0) == 7);
    wire_close (&msg);

    //  Nothing waiting: EAGAIN, not a block
    CHECK (wire_recv (&msg, pair.b, ZMQ_DONTWAIT) == -1);
    CHECK (errno == EAGAIN);
    s_pair_destroy (&pair);
}

TEST (wire_results)
{
    s_pair_t pair;
    s_pair_new (&pair, "inproc://test-wire-results");
    const char payload[] = "{\"content\":[]}";
    CHECK (wire_send_result (pair.a, NULL, 18446744073709551615ULL, MCPACT_OK, payload,
                             sizeof payload - 1) == 0);
    wire_msg_t msg;
    CHECK (wire_recv (&msg, pair.b, 0) == 4);
    CHECK (wire_is (&msg, 0, "RESULT"));
    CHECK (wire_is (&msg, 1, "18446744073709551615"));
    CHECK (wire_is (&msg, 2, "0"));
    CHECK (wire_is (&msg, 3, payload));
    wire_close (&msg);

    //  An error payload is a JSON object with the message, quoted safely
    CHECK (wire_send_error (pair.a, NULL, 3, MCPACT_ERR_SERVER, "server \"x\" died\n") == 0);
    CHECK (wire_recv (&msg, pair.b, 0) == 4);
    CHECK (wire_int (&msg, 1, 0) == 3);
    CHECK (wire_int (&msg, 2, 0) == MCPACT_ERR_SERVER);
    char *text = wire_strdup (&msg, 3);
    json_t *error = json_loads (text, 0, NULL);
    CHECK_MSG (json_is_object (error), "not JSON: %s", text);
    CHECK_STR (json_string_value (json_object_get (error, "message")), "server \"x\" died\n");
    json_decref (error);
    free (text);
    wire_close (&msg);
    s_pair_destroy (&pair);
}

//  Ids and statuses come from peers: a lone "-" or a number too large for
//  int64_t is malformed and gives the fallback (never 0, never overflow).
TEST (wire_int_malformed)
{
    s_pair_t pair;
    s_pair_new (&pair, "inproc://test-wire-int");
    const char *parts[] = { "-", "99999999999999999999", "9223372036854775807", "-17", "", "12a",
                            " 1" };
    s_send_parts (pair.a, parts, 7);
    wire_msg_t msg;
    CHECK (wire_recv (&msg, pair.b, 0) == 7);
    CHECK (wire_int (&msg, 2, -1) == INT64_MAX);
    CHECK (wire_int (&msg, 3, 0) == -17);
    CHECK (wire_int (&msg, 4, -1) == -1);
    CHECK (wire_int (&msg, 5, -1) == -1);
    CHECK (wire_int (&msg, 6, -1) == -1);
    CHECK_MSG (wire_int (&msg, 1, -1) == -1, "20 digits gave %lld",
               (long long) wire_int (&msg, 1, -1));
    CHECK_MSG (wire_int (&msg, 0, -1) == -1, "\"-\" gave %lld", (long long) wire_int (&msg, 0, -1));
    wire_close (&msg);
    s_pair_destroy (&pair);
}

//  jsonscan_members: one pass validates the object and finds each key
TEST (jsonscan_members_one_pass)
{
    static const char *const keys[] = { "id", "method", "result" };
    const char *spans[6];
    const char *text = "{\"jsonrpc\":\"2.0\",\"id\":17,\"result\":{\"id\":99,\"x\":[1,2]}}";
    CHECK (jsonscan_members (text, text + strlen (text), keys, 3, spans));
    CHECK (spans[0] && spans[1] - spans[0] == 2 && memcmp (spans[0], "17", 2) == 0);
    CHECK (spans[2] == NULL && spans[3] == NULL);
    CHECK (spans[4] && *spans[4] == '{' && spans[5][-1] == '}');
    //  The last of duplicate keys, escaped keys as what they spell
    const char *twice = "{\"id\":1,\"\\u0069d\":22,\"meth\\u006fd\":\"m\"}";
    CHECK (jsonscan_members (twice, twice + strlen (twice), keys, 3, spans));
    CHECK (spans[0] && spans[1] - spans[0] == 2 && memcmp (spans[0], "22", 2) == 0);
    CHECK (spans[2] && spans[3] - spans[2] == 3 && memcmp (spans[2], "\"m\"", 3) == 0);
    //  Not one valid object: trailing garbage, a broken value after the keys
    const char *bad[] = { "{\"id\":1} x", "{\"id\":1,\"result\":{\"a\":}}", "[1]", "{\"id\":1,}",
                          "{}x" };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++)
        CHECK_MSG (!jsonscan_members (bad[index], bad[index] + strlen (bad[index]), keys, 3, spans),
                   "accepted %s", bad[index]);
    CHECK (jsonscan_members ("{}", "{}" + 2, keys, 3, spans) && !spans[0]);
}

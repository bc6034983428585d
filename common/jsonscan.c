/*  =========================================================================
    jsonscan - allocation-free JSON scanning for the call path (see .h)
    =========================================================================
*/

#include "jsonscan.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
jsonscan_ws (const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static bool
s_hex (char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

//  p at the opening quote; returns after the closing quote.
static const char *
s_string (const char *p, const char *end)
{
    p++;
    while (p < end) {
        unsigned char c = (unsigned char) *p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= end)
                return NULL;
            switch (*p) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p++;
                break;
            case 'u':
                if (end - p < 5 || !s_hex (p[1]) || !s_hex (p[2]) || !s_hex (p[3]) || !s_hex (p[4]))
                    return NULL;
                p += 5;
                break;
            default:
                return NULL;
            }
        } else
            p++;
    }
    return NULL;
}

static const char *
s_number (const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *
s_literal (const char *p, const char *end, const char *word)
{
    size_t size = strlen (word);
    if ((size_t) (end - p) < size || memcmp (p, word, size) != 0)
        return NULL;
    return p + size;
}

const char *
jsonscan_value (const char *p, const char *end, int depth)
{
    p = jsonscan_ws (p, end);
    if (p >= end || depth <= 0)
        return NULL;
    switch (*p) {
    case '"':
        return s_string (p, end);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        bool object = *p == '{';
        p = jsonscan_ws (p + 1, end);
        if (p < end && *p == close)
            return p + 1;
        while (p < end) {
            if (object) {
                p = jsonscan_ws (p, end);
                if (p >= end || *p != '"' || !(p = s_string (p, end)))
                    return NULL;
                p = jsonscan_ws (p, end);
                if (p >= end || *p != ':')
                    return NULL;
                p++;
            }
            if (!(p = jsonscan_value (p, end, depth - 1)))
                return NULL;
            p = jsonscan_ws (p, end);
            if (p >= end)
                return NULL;
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
        return NULL;
    }
    case 't':
        return s_literal (p, end, "true");
    case 'f':
        return s_literal (p, end, "false");
    case 'n':
        return s_literal (p, end, "null");
    default:
        return s_number (p, end);
    }
}

bool
jsonscan_valid (const char *p, const char *end)
{
    const char *after = jsonscan_value (p, end, JSONSCAN_MAX_DEPTH);
    return after && jsonscan_ws (after, end) == end;
}

bool
jsonscan_is_object (const char *p, const char *end)
{
    p = jsonscan_ws (p, end);
    return p < end && *p == '{' && jsonscan_valid (p, end);
}

const char *
jsonscan_args_problem (const char *p, const char *end)
{
    if (!jsonscan_is_object (p, end))
        return "are not a JSON object";
    //  Valid JSON: a backslash is in a string, and starts an escape.
    for (const char *q = p; q < end;) {
        unsigned char c = (unsigned char) *q;
        if (c == '\\') {
            if (q[1] == 'u' && memcmp (q + 2, "0000", 4) == 0)
                return "hold \\u0000 in a string, which MCP servers cannot take";
            q += q[1] == 'u' ? 6 : 2;
        } else if (c < 0x80)
            q++;
        else {
            size_t length = jsonscan_utf8_length (q, end);
            if (!length)
                return "are not UTF-8 text";
            q += length;
        }
    }
    return NULL;
}

static int s_hex_value (const char *p);

//  True if the raw key [p, end) (a valid JSON string's contents) reads as
//  `name` (ASCII): escapes count as what they stand for, as in any reader.
static bool
s_key_is (const char *p, const char *end, const char *name, size_t size)
{
    //  An escape is longer than what it stands for: a key of the same
    //  length is equal or not as it is, and only a longer one may hold one.
    if ((size_t) (end - p) <= size)
        return (size_t) (end - p) == size && memcmp (p, name, size) == 0;
    if (!memchr (p, '\\', (size_t) (end - p)))
        return false;
    static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    const char *q = name, *q_end = name + size;
    while (p < end && q < q_end) {
        char c = *p++;
        if (c == '\\') {
            char kind = *p++;
            if (kind == 'u') {
                int unit = s_hex_value (p);
                p += 4;
                if (unit < 0 || unit >= 0x80)
                    return false; //  not ASCII, so not in `name`
                c = (char) unit;
            } else
                for (const char *e = escapes; *e; e += 2)
                    if (*e == kind)
                        c = e[1];
        }
        if (c != *q++)
            return false;
    }
    return p == end && q == q_end;
}

bool
jsonscan_member (const char *p, const char *end, const char *key, const char **value,
                 const char **value_end)
{
    size_t key_size = strlen (key);
    bool found = false;
    p = jsonscan_ws (p, end);
    if (p >= end || *p != '{')
        return false;
    p = jsonscan_ws (p + 1, end);
    if (p < end && *p == '}')
        return false;
    while (p < end) {
        if (*p != '"')
            return false;
        const char *key_start = p + 1;
        const char *key_end = s_string (p, end);
        if (!key_end)
            return false;
        bool match = s_key_is (key_start, key_end - 1, key, key_size);
        p = jsonscan_ws (key_end, end);
        if (p >= end || *p != ':')
            return false;
        const char *start = jsonscan_ws (p + 1, end);
        const char *after = jsonscan_value (start, end, JSONSCAN_MAX_DEPTH);
        if (!after)
            return false;
        if (match) {
            *value = start;
            *value_end = after;
            found = true;
        }
        p = jsonscan_ws (after, end);
        if (p < end && *p == '}')
            return found;
        if (p >= end || *p != ',')
            return false;
        p = jsonscan_ws (p + 1, end);
    }
    return false;
}

bool
jsonscan_members (const char *p, const char *end, const char *const *keys, int count,
                  const char **spans)
{
    for (int index = 0; index < 2 * count; index++)
        spans[index] = NULL;
    p = jsonscan_ws (p, end);
    if (p >= end || *p != '{')
        return false;
    p = jsonscan_ws (p + 1, end);
    if (p < end && *p == '}')
        return jsonscan_ws (p + 1, end) == end;
    while (p < end) {
        if (*p != '"')
            return false;
        const char *key_start = p + 1;
        const char *key_end = s_string (p, end);
        if (!key_end)
            return false;
        size_t key_size = (size_t) (key_end - 1 - key_start);
        p = jsonscan_ws (key_end, end);
        if (p >= end || *p != ':')
            return false;
        const char *start = jsonscan_ws (p + 1, end);
        const char *after = jsonscan_value (start, end, JSONSCAN_MAX_DEPTH);
        if (!after)
            return false;
        for (int index = 0; index < count; index++)
            if (s_key_is (key_start, key_start + key_size, keys[index], strlen (keys[index]))) {
                spans[2 * index] = start;
                spans[2 * index + 1] = after;
            }
        p = jsonscan_ws (after, end);
        if (p < end && *p == '}')
            return jsonscan_ws (p + 1, end) == end;
        if (p >= end || *p != ',')
            return false;
        p = jsonscan_ws (p + 1, end);
    }
    return false;
}

int
jsonscan_each (const char *p, const char *end, jsonscan_fn *fn, void *arg)
{
    p = jsonscan_ws (p, end);
    if (p >= end || *p != '[' || !jsonscan_valid (p, end))
        return -1;
    int count = 0;
    p = jsonscan_ws (p + 1, end);
    while (p < end && *p != ']') {
        const char *after = jsonscan_value (p, end, JSONSCAN_MAX_DEPTH);
        fn (arg, p, (size_t) (after - p));
        count++;
        p = jsonscan_ws (after, end);
        if (p < end && *p == ',')
            p = jsonscan_ws (p + 1, end);
    }
    return count;
}

bool
jsonscan_id (const char *p, const char *end, uint64_t *id)
{
    if (end - p >= 2 && *p == '"' && end[-1] == '"')
        p++, end--;
    //  One digit, or digits without a leading zero; at most 20 of them.
    if (p >= end || end - p > 20 || (*p == '0' && end - p > 1))
        return false;
    uint64_t value = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned digit = (unsigned) (*p - '0');
        if (value > ((uint64_t) INT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *id = value;
    return true;
}

//  --------------------------------------------------------------------------
//  Repair: what strict readers refuse in valid JSON

static const char s_replacement_escape[] = "\\ufffd";
static const char s_replacement_utf8[] = "\xef\xbf\xbd";

static int
s_hex_value (const char *p)
{
    int value = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

//  Length of the valid UTF-8 sequence at p (2..4), or 0 if invalid; then
//  *bad is how many bytes form its maximal invalid subpart (at least 1),
//  the unit that one U+FFFD replaces (Unicode's recommended practice).
static size_t
s_utf8 (const unsigned char *p, const unsigned char *end, size_t *bad)
{
    unsigned char c = p[0];
    size_t length;
    unsigned char low = 0x80, high = 0xbf; //  the second byte's range
    if (c >= 0xc2 && c <= 0xdf)
        length = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        length = 3;
        if (c == 0xe0)
            low = 0xa0; //  no overlong forms
        else if (c == 0xed)
            high = 0x9f; //  no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        length = 4;
        if (c == 0xf0)
            low = 0x90;
        else if (c == 0xf4)
            high = 0x8f; //  nothing beyond U+10FFFF
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i < length; i++) {
        unsigned char min = i == 1 ? low : 0x80, max = i == 1 ? high : 0xbf;
        if (p + i >= end || p[i] < min || p[i] > max) {
            *bad = i;
            return 0;
        }
    }
    return length;
}

size_t
jsonscan_utf8_length (const char *p, const char *end)
{
    size_t bad;
    return p < end ? s_utf8 ((const unsigned char *) p, (const unsigned char *) end, &bad) : 0;
}

//  The number at [p, end) (a JSON number token) as jansson reads it:
//  true if it reads it as it is.
static bool
s_number_readable (const char *p, const char *end, char *replacement, size_t size)
{
    bool negative = *p == '-';
    const char *digits = negative ? p + 1 : p;
    const char *q = digits;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    size_t int_digits = (size_t) (q - digits);
    long exponent = 0;
    bool real = false;
    for (const char *r = q; r < end; r++) {
        if (*r == '.')
            real = true;
        else if (*r == 'e' || *r == 'E') {
            real = true;
            bool minus = r + 1 < end && r[1] == '-';
            for (r += r + 1 < end && (r[1] == '-' || r[1] == '+') ? 2 : 1;
                 r < end && *r >= '0' && *r <= '9'; r++)
                if (exponent < 100000) //  far enough to tell
                    exponent = exponent * 10 + (*r - '0');
            if (minus)
                exponent = -exponent;
            break;
        }
    }
    if (!real) {
        //  jansson reads integers into 64 bits and refuses the rest.
        static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
        if (int_digits < 19 || (int_digits == 19 && memcmp (digits, negative ? min : max, 19) <= 0))
            return true;
    } else if ((long) int_digits + exponent < 300)
        return true; //  cannot overflow a double
    //  Read it as a double, as a strict reader would if it could.
    size_t length = (size_t) (end - p);
    char small[64];
    char *copy = length < sizeof small ? small : (char *) malloc (length + 1);
    double value = 0;
    if (copy) {
        memcpy (copy, p, length);
        copy[length] = 0;
        value = strtod (copy, NULL);
        if (copy != small)
            free (copy);
    }
    if (real && isfinite (value))
        return true;
    if (!isfinite (value))
        value = value < 0 ? -DBL_MAX : DBL_MAX;
    snprintf (replacement, size, "%.17g", value);
    return false;
}

//  One pass over [p, end): copies it into `out` with every repair made,
//  or, without `out`, stops at the first place that needs one. Returns 1
//  if one was needed, 0 if not, -1 if `out` could not grow.
static int
s_repair (const char *p, const char *end, jsonbuf_t *out)
{
    int repaired = 0;
    const char *run = p; //  bytes not yet copied
#define S_REPLACE(from, to, text, text_size)                                                       \
    do {                                                                                           \
        if (!out)                                                                                  \
            return 1;                                                                              \
        if (repaired >= 0 && (jsonbuf_append (out, run, (size_t) ((from) -run)) ||                 \
                              jsonbuf_append (out, text, text_size)))                              \
            repaired = -1;                                                                         \
        else if (repaired == 0)                                                                    \
            repaired = 1;                                                                          \
        run = (to);                                                                                \
    } while (0)
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p++;
            while (p < end && *p != '"') {
                unsigned char byte = (unsigned char) *p;
                if (byte == '\\' && p + 1 < end && p[1] == 'u' && end - p >= 6) {
                    int unit = s_hex_value (p + 2);
                    int next =
                        end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? s_hex_value (p + 8) : -1;
                    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff)
                        p += 12; //  a whole surrogate pair
                    else if (unit == 0 || (unit >= 0xd800 && unit <= 0xdfff)) {
                        S_REPLACE (p, p + 6, s_replacement_escape, 6);
                        p += 6;
                    } else
                        p += 6;
                } else if (byte == '\\')
                    p += p + 1 < end ? 2 : 1;
                else if (byte < 0x80)
                    p++;
                else {
                    size_t bad;
                    size_t length =
                        s_utf8 ((const unsigned char *) p, (const unsigned char *) end, &bad);
                    if (length)
                        p += length;
                    else {
                        S_REPLACE (p, p + bad, s_replacement_utf8, 3);
                        p += bad;
                    }
                }
            }
            p++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const char *start = p;
            while (p < end && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
                               *p == 'e' || *p == 'E'))
                p++;
            char replacement[32];
            if (!s_number_readable (start, p, replacement, sizeof replacement))
                S_REPLACE (start, p, replacement, strlen (replacement));
        } else
            p++;
    }
#undef S_REPLACE
    if (out && repaired > 0 && jsonbuf_append (out, run, (size_t) (end - run)))
        repaired = -1;
    return repaired;
}

char *
jsonscan_repair (const char *p, const char *end, size_t *size)
{
    if (s_repair (p, end, NULL) == 0)
        return NULL;
    jsonbuf_t out = { 0 };
    if (s_repair (p, end, &out) < 0) {
        jsonbuf_free (&out);
        return NULL;
    }
    *size = out.size;
    return out.data;
}

const char *
jsonscan_kind (json_t *value)
{
    if (!value)
        return "missing";
    switch (json_typeof (value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

char *
jsonscan_text (const char *bytes, size_t size)
{
    jsonbuf_t out = { 0 };
    if (jsonbuf_append (&out, "", 0))
        return NULL;
    const char *run = bytes, *end = bytes + size;
    for (const char *p = bytes; p < end;) {
        unsigned char c = (unsigned char) *p;
        size_t bad = 1, length = c == 0     ? 0
                                 : c < 0x80 ? 1
                                            : s_utf8 ((const unsigned char *) p,
                                                      (const unsigned char *) end, &bad);
        if (length) {
            p += length;
            continue;
        }
        if (jsonbuf_append (&out, run, (size_t) (p - run)) ||
            jsonbuf_append (&out, s_replacement_utf8, 3)) {
            jsonbuf_free (&out);
            return NULL;
        }
        p += bad;
        run = p;
    }
    if (jsonbuf_append (&out, run, (size_t) (end - run))) {
        jsonbuf_free (&out);
        return NULL;
    }
    return out.data;
}

json_t *
jsonscan_load (const char *text, size_t size, size_t flags, json_error_t *error)
{
    json_t *json = json_loadb (text, size, flags, error);
    if (json)
        return json;
    size_t repaired_size;
    char *repaired = jsonscan_repair (text, text + size, &repaired_size);
    if (repaired) {
        json = json_loadb (repaired, repaired_size, flags, error);
        free (repaired);
    }
    return json;
}

int
jsonbuf_append (jsonbuf_t *self, const char *data, size_t size)
{
    if (self->size + size + 1 > self->max) {
        size_t max = self->max ? self->max * 2 : 256;
        while (max < self->size + size + 1)
            max *= 2;
        char *grown = (char *) realloc (self->data, max);
        if (!grown)
            return -1;
        self->data = grown;
        self->max = max;
    }
    memcpy (self->data + self->size, data, size);
    self->size += size;
    self->data[self->size] = 0;
    return 0;
}

int
jsonbuf_append_str (jsonbuf_t *self, const char *text)
{
    return jsonbuf_append (self, text, strlen (text));
}

int
jsonbuf_append_quoted (jsonbuf_t *self, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    if (jsonbuf_append (self, "\"", 1))
        return -1;
    const char *run = text, *end = text + strlen (text);
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c >= 0x80) {
            //  What is not UTF-8 becomes U+FFFD: the text must be JSON.
            size_t bad,
                length = s_utf8 ((const unsigned char *) p, (const unsigned char *) end, &bad);
            if (length) {
                p += length - 1;
                continue;
            }
            if (jsonbuf_append (self, run, (size_t) (p - run)) ||
                jsonbuf_append (self, s_replacement_utf8, 3))
                return -1;
            p += bad - 1;
            run = p + 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (jsonbuf_append (self, run, (size_t) (p - run)))
            return -1;
        char escape[7] = { '\\', 0 };
        size_t size = 2;
        switch (c) {
        case '"':
            escape[1] = '"';
            break;
        case '\\':
            escape[1] = '\\';
            break;
        case '\n':
            escape[1] = 'n';
            break;
        case '\r':
            escape[1] = 'r';
            break;
        case '\t':
            escape[1] = 't';
            break;
        default:
            memcpy (escape, "\\u00", 4);
            escape[4] = hex[c >> 4];
            escape[5] = hex[c & 15];
            size = 6;
        }
        if (jsonbuf_append (self, escape, size))
            return -1;
        run = p + 1;
    }
    if (jsonbuf_append_str (self, run) || jsonbuf_append (self, "\"", 1))
        return -1;
    return 0;
}

void
jsonbuf_free (jsonbuf_t *self)
{
    free (self->data);
    memset (self, 0, sizeof *self);
}

/*  =========================================================================
    jsonscan - allocation-free JSON scanning for the call path (see .h)
    =========================================================================
*/

#include "jsonscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSONSCAN_MAX_DEPTH 512

static const char *
s_ws (const char *p, const char *end)
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
    p = s_ws (p, end);
    if (p >= end || depth <= 0)
        return NULL;
    switch (*p) {
    case '"':
        return s_string (p, end);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        bool object = *p == '{';
        p = s_ws (p + 1, end);
        if (p < end && *p == close)
            return p + 1;
        while (p < end) {
            if (object) {
                p = s_ws (p, end);
                if (p >= end || *p != '"' || !(p = s_string (p, end)))
                    return NULL;
                p = s_ws (p, end);
                if (p >= end || *p != ':')
                    return NULL;
                p++;
            }
            if (!(p = jsonscan_value (p, end, depth - 1)))
                return NULL;
            p = s_ws (p, end);
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
    return after && s_ws (after, end) == end;
}

bool
jsonscan_is_object (const char *p, const char *end)
{
    p = s_ws (p, end);
    return p < end && *p == '{' && jsonscan_valid (p, end);
}

bool
jsonscan_member (const char *p, const char *end, const char *key, const char **value,
                 const char **value_end)
{
    size_t key_size = strlen (key);
    p = s_ws (p, end);
    if (p >= end || *p != '{')
        return false;
    p = s_ws (p + 1, end);
    if (p < end && *p == '}')
        return false;
    while (p < end) {
        if (*p != '"')
            return false;
        const char *key_start = p + 1;
        const char *key_end = s_string (p, end);
        if (!key_end)
            return false;
        bool match = (size_t) (key_end - 1 - key_start) == key_size &&
                     memcmp (key_start, key, key_size) == 0;
        p = s_ws (key_end, end);
        if (p >= end || *p != ':')
            return false;
        const char *start = s_ws (p + 1, end);
        const char *after = jsonscan_value (start, end, JSONSCAN_MAX_DEPTH);
        if (!after)
            return false;
        if (match) {
            *value = start;
            *value_end = after;
            return true;
        }
        p = s_ws (after, end);
        if (p >= end || *p != ',')
            return false;
        p = s_ws (p + 1, end);
    }
    return false;
}

bool
jsonscan_members (const char *p, const char *end, const char *const *keys, int count,
                  const char **spans)
{
    for (int index = 0; index < 2 * count; index++)
        spans[index] = NULL;
    p = s_ws (p, end);
    if (p >= end || *p != '{')
        return false;
    p = s_ws (p + 1, end);
    if (p < end && *p == '}')
        return s_ws (p + 1, end) == end;
    while (p < end) {
        if (*p != '"')
            return false;
        const char *key_start = p + 1;
        const char *key_end = s_string (p, end);
        if (!key_end)
            return false;
        size_t key_size = (size_t) (key_end - 1 - key_start);
        p = s_ws (key_end, end);
        if (p >= end || *p != ':')
            return false;
        const char *start = s_ws (p + 1, end);
        const char *after = jsonscan_value (start, end, JSONSCAN_MAX_DEPTH);
        if (!after)
            return false;
        for (int index = 0; index < count; index++)
            if (!spans[2 * index] && strlen (keys[index]) == key_size &&
                memcmp (key_start, keys[index], key_size) == 0) {
                spans[2 * index] = start;
                spans[2 * index + 1] = after;
            }
        p = s_ws (after, end);
        if (p < end && *p == '}')
            return s_ws (p + 1, end) == end;
        if (p >= end || *p != ',')
            return false;
        p = s_ws (p + 1, end);
    }
    return false;
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
    const char *run = text;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char) *p;
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

/*  =========================================================================
    jsonnum - numbers as people and servers should read them (see .h)
    =========================================================================
*/

#include "jsonnum.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The fewest significant digits (%.Ng) that give `number` back, without
//  an exponent where 17 digits need none.
static int
s_digits (double number)
{
    char text[40];
    snprintf (text, sizeof text, "%.17g", number);
    bool exponent = strchr (text, 'e') != NULL;
    for (int digits = 1; digits < 17; digits++) {
        snprintf (text, sizeof text, "%.*g", digits, number);
        if (strtod (text, NULL) == number && (exponent || !strchr (text, 'e')))
            return digits;
    }
    return 17;
}

void
jsonnum_text (double number, char *text, size_t size)
{
    snprintf (text, size, "%.*g", s_digits (number), number);
}

//  The most digits any real in `value` needs.
static int
s_most_digits (const json_t *value)
{
    int most = 0;
    if (json_is_real (value))
        most = s_digits (json_real_value (value));
    else if (json_is_object (value)) {
        const char *key;
        json_t *item;
        json_object_foreach ((json_t *) value, key, item) {
            int digits = s_most_digits (item);
            most = digits > most ? digits : most;
        }
    } else if (json_is_array (value)) {
        size_t index;
        json_t *item;
        json_array_foreach (value, index, item) {
            int digits = s_most_digits (item);
            most = digits > most ? digits : most;
        }
    }
    return most;
}

char *
jsonnum_dumps (const json_t *value, size_t flags)
{
    int digits = s_most_digits (value);
    return json_dumps (value, digits ? flags | JSON_REAL_PRECISION (digits) : flags);
}

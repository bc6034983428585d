/*  =========================================================================
    fuzz_config - libFuzzer target: the configuration loader

    Any text given as a configuration file must either load or be refused
    with an error message naming where; never crash, never leak. The same
    text also goes through ${VAR} expansion. Seeds: tests/fuzz/corpus/
    fuzz_config (the example configs and the desktop-client variants).
    =========================================================================
*/

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = (char *) malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = 0;

    char *error = NULL;
    config_t *config = config_parse (text, "fuzz.json", &error);
    if (!config && (!error || !strstr (error, "fuzz.json")))
        abort (); //  every refusal names the file
    config_destroy (&config);
    free (error);

    char *missing = NULL;
    char *expanded = config_expand (text, &missing);
    if (!expanded && !missing)
        abort (); //  either expanded, or the variable that is unset
    free (expanded);
    free (missing);
    free (text);
    return 0;
}

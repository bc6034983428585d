/*  =========================================================================
    version - the library's version at run time (mcpact_version)

    The numbers are the header's as this library was built with it, so a
    host can compare them with the MCPACT_VERSION_* it was compiled
    against. No state; safe from any thread.
    =========================================================================
*/

#include "mcpact.h"

void
mcpact_version (int *major, int *minor, int *patch)
{
    if (major)
        *major = MCPACT_VERSION_MAJOR;
    if (minor)
        *minor = MCPACT_VERSION_MINOR;
    if (patch)
        *patch = MCPACT_VERSION_PATCH;
}

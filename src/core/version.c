/*
 * version.c — the library version.
 */
#include "core/core.h"

const char *om_version(void);
const char *om_version(void)
{
    return "0.1.0";
}

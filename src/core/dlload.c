/*
 * dlload.c — om__dl_load: a shared library loaded when first needed and a
 * table of its functions filled, for the bridges that do not link theirs
 * (GDAL, PROJ, GEOS: see each bridge for why).
 */
#include "core/core.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

bool om__dl_load(const char *what, const char *soname, const char *const *names,
                 size_t n, void *table, char *msg, size_t msgsize)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(msg, msgsize, "cannot load %s (%s): %s", what, soname,
                 why ? why : "unknown error");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(lib, names[i]);
        if (!f) {
            snprintf(msg, msgsize, "%s (%s) has no function %s", what, soname,
                     names[i]);
            return false;
        }
        /* object to function pointer: copied, as POSIX has dlsym used */
        memcpy((char *)table + i * sizeof(void (*)(void)), &f, sizeof f);
    }
    return true;
}

/*
 * onemap/onemap.h — the whole public API of libonemap.
 *
 * onemap: implementation and supervision of territorial spatial plans
 * (国土空间规划“一张图”实施监督). See docs/ for the user guide.
 */
#ifndef ONEMAP_ONEMAP_H
#define ONEMAP_ONEMAP_H

#include "onemap/bbtxt.h"
#include "onemap/codes.h"
#include "onemap/conflicts.h"
#include "onemap/crosstab.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/import.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/limits.h"
#include "onemap/overlay.h"
#include "onemap/polyops.h"
#include "onemap/report.h"
#include "onemap/rules.h"
#include "onemap/stats.h"
#include "onemap/status.h"
#include "onemap/store.h"

#define ONEMAP_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The library version, e.g. "0.1.0". */
const char *om_version(void);

#ifdef __cplusplus
}
#endif
#endif

/*
 * polyops_int.h — internal knobs of the GEOS bridge, for tests.
 */
#ifndef ONEMAP_GEOM_POLYOPS_INT_H
#define ONEMAP_GEOM_POLYOPS_INT_H

/*
 * om_polyops_subdivide (geos.c): 0 (default) checks only the leaves of
 * branches that may have gone wrong and redoes the feature carefully when
 * the leaves' areas do not add up; 1 always does it carefully (every half
 * checked). The counters (all threads) count leaves checked, leaves
 * redone by overlay and features redone carefully.
 */
extern int om__subdivide_careful;
extern unsigned long om__subdivide_leaves_checked;
extern unsigned long om__subdivide_leaves_redone;
extern unsigned long om__subdivide_features_redone;

/* The GEOS library geos.c loads (OM_GEOS_SONAME from the build); a test
 * sets another before the first GEOS call to see the failure. */
extern const char *om__geos_soname;

#endif

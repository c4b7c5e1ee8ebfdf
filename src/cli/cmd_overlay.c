/*
 * cmd_overlay.c — `onemap overlay PROJECT A B --class-a F [--class-b G]
 * [--by XZQ] ...`: the overlay cross-tab (叠加分析交叉统计).
 *
 * B may be a comma-separated list of layers (YJJBNTBHTB,STBHHX,CZKFBJ):
 * A and the units are read once, and every row starts with its layer B.
 * Rows are long format: unit, class of A, class of B (or inside/outside),
 * features, area; with class-of-A subtotals and unit totals, then the same
 * over all units. Printed values are rounded with the largest-remainder
 * method so every subtotal is the sum of its printed rows: grand total →
 * unit totals → class-of-A subtotals → cells.
 */
#include "cli.h"
#include "onemap/crosstab.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf(
        "%s\n\n%s\n",
        T("usage: onemap overlay PROJECT.gpkg A B --class-a FIELD "
          "[options]",
          "用法: onemap overlay 项目.gpkg 图层A 图层B --class-a 字段 [选项]"),
        T("Area of every class of A x class of B (or inside/outside B) x "
          "admin unit.\n"
          "B may be a list, e.g. YJJBNTBHTB,STBHHX,CZKFBJ: A is read once and\n"
          "every row starts with its layer B (column layer_b).\n"
          "  --class, --class-a FIELD  class attribute of A, e.g. DLBM "
          "(required)\n"
          "  --class-b FIELD     class attribute of B (default: inside / "
          "outside B)\n"
          "  --level 0|1|2       roll DLBM classes up to 一级 (1) or 二级 "
          "(2)\n"
          "  --by LAYER          split by admin units, e.g. --by XZQ\n"
          "  --area MODE         ellipsoidal (default) or planar\n"
          "  --engine E          kernel (the exact area kernel, default) "
          "or geos\n"
          "                      (the GEOS overlay, the reference path)\n"
          "  --unit m2|ha|mu     output unit (default ha)\n"
          "  --decimals N        decimals (default 2)\n"
          "  --min-area M2       ignore pieces smaller than M2 (planar m2)\n"
          "  --version-a N, --version-b N   layer versions (default "
          "current)\n"
          "  --format table|csv|json   (default table)\n"
          "  -o FILE             write to FILE instead of standard output\n"
          "  -j N                threads (default: all cores)",
          "统计 A 的地类 × B 的地类(或 B 范围内/外)× 行政区的面积。\n"
          "B 可为列表,如 YJJBNTBHTB,STBHHX,CZKFBJ:A 只读一次,\n"
          "每行以其图层 B 开头(列 layer_b)。\n"
          "  --class, --class-a 字段  A 的地类字段,如 DLBM(必填)\n"
          "  --class-b 字段      B 的分类字段(默认:B 范围内/外)\n"
          "  --level 0|1|2       将 DLBM 汇总到一级类(1)或二级类(2)\n"
          "  --by 图层           按行政区拆分,如 --by XZQ\n"
          "  --area 方式         ellipsoidal(默认,椭球面积)或 planar\n"
          "  --engine 引擎       kernel(精确面积核,默认)或 geos"
          "(GEOS 叠加,\n"
          "                      参考实现)\n"
          "  --unit m2|ha|mu     输出单位(默认公顷 ha)\n"
          "  --decimals N        小数位数(默认 2)\n"
          "  --min-area 平方米   忽略小于该平面面积的碎片\n"
          "  --version-a N, --version-b N   图层版本(默认当前版本)\n"
          "  --format table|csv|json   输出格式(默认 table)\n"
          "  -o 文件             输出到文件\n"
          "  -j N                线程数(默认全部核心)"));
}

static const char *cname(const struct om_crosstab_class *k, bool csv)
{
    const char *n = cli_zh || csv ? k->name_zh : k->name_en;
    return n ? n : "";
}

/* The index of cell (u, ca, cb) in r's cells (sorted by unit, class A,
 * class B, OM_CROSSTAB_ALL last), or r->ncells when there is none. */
static size_t find_cell(const struct om_crosstab_result *r, size_t u, size_t ca,
                        size_t cb)
{
    size_t lo = 0, hi = r->ncells;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct om_crosstab_cell *c = &r->cells[mid];
        bool less = c->unit != u ? c->unit < u
                                 : (c->class_a != ca ? c->class_a < ca
                                                     : c->class_b < cb);
        if (less) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    const struct om_crosstab_cell *c = &r->cells[lo < r->ncells ? lo : 0];
    return lo < r->ncells && c->unit == u && c->class_a == ca &&
                   c->class_b == cb
               ? lo
               : r->ncells;
}

/*
 * The cell whose rounded value cell i's is apportioned from, or r->ncells
 * for the grand total and (with units) the rows over all units, which are
 * sums. With units: cell → class-of-A subtotal → unit total → grand total;
 * without: cell → class-of-A total → grand total.
 */
static size_t parent_of(const struct om_crosstab_result *r, size_t i,
                        bool by_units)
{
    const size_t ALL = OM_CROSSTAB_ALL;
    const struct om_crosstab_cell *c = &r->cells[i];
    if (i + 1 == r->ncells || (by_units && c->unit == ALL)) {
        return r->ncells;
    }
    if (c->class_a == ALL) {
        return r->ncells - 1; /* a unit total */
    }
    return c->class_b == ALL
               ? (by_units ? find_cell(r, c->unit, ALL, ALL) : r->ncells - 1)
               : find_cell(r, c->unit, c->class_a, ALL);
}

/*
 * Rounded values (see the file header). With units: grand total → unit
 * totals → class-of-A subtotals → cells, and the rows over all units are
 * the sums of the rounded per-unit rows. Without: grand total → class-of-A
 * totals → cells. The grand total is the last cell. Children are found by
 * their parent (children of one parent in cell order), so the work grows
 * with the number of cells, not its square.
 */
static double *round_cells(const struct om_crosstab_result *r, double factor,
                           int decimals)
{
    size_t n = r->ncells;
    double *v = calloc(n + 1, sizeof *v);
    double *out = calloc(n + 1, sizeof *out);
    double *tmp = calloc(n + 1, sizeof *tmp);
    double *tr = calloc(n + 1, sizeof *tr);
    size_t *par = calloc(n + 1, sizeof *par);
    size_t *first = calloc(n + 2, sizeof *first); /* children by parent */
    size_t *kids = calloc(n + 1, sizeof *kids);
    if (!v || !out || !tmp || !tr || !par || !first || !kids) {
        free(out);
        out = NULL;
        goto done;
    }
    const size_t ALL = OM_CROSSTAB_ALL;
    bool by_units = r->nunits > 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = r->cells[i].area_m2 * factor;
        par[i] = parent_of(r, i, by_units);
        first[par[i] + 1]++;
    }
    for (size_t i = 0; i < n; i++) {
        first[i + 1] += first[i];
    }
    for (size_t i = 0; i < n; i++) { /* stable: cell order kept */
        if (par[i] < n) {
            kids[first[par[i]]++] = i;
        }
    }
    for (size_t i = n; i > 0; i--) {
        first[i] = first[i - 1];
    }
    first[0] = 0;
    double scale = pow(10, decimals);
    out[n - 1] = round(v[n - 1] * scale) / scale;
    /* parents before their children: grand total, units, classes of A */
    for (int depth = 0; depth < 3; depth++) {
        for (size_t i = 0; i < n; i++) {
            const struct om_crosstab_cell *c = &r->cells[i];
            int d = i + 1 == n ? 0 : c->class_a == ALL ? 1 : 2;
            if (d != depth || first[i] == first[i + 1]) {
                continue;
            }
            size_t m = first[i + 1] - first[i];
            for (size_t k = 0; k < m; k++) {
                tmp[k] = v[kids[first[i] + k]];
            }
            om_apportion(tmp, m, decimals, out[i], tr);
            for (size_t k = 0; k < m; k++) {
                out[kids[first[i] + k]] = tr[k];
            }
        }
    }
    if (by_units) { /* the rows over all units: sums of the rounded rows */
        memset(tmp, 0, (n + 1) * sizeof *tmp);
        for (size_t k = 0; k < n; k++) {
            const struct om_crosstab_cell *c = &r->cells[k];
            if (c->unit != ALL && c->class_a != ALL) {
                size_t t = find_cell(r, ALL, c->class_a, c->class_b);
                tmp[t] += out[k];
            }
        }
        for (size_t i = 0; i < n; i++) {
            const struct om_crosstab_cell *p = &r->cells[i];
            if (p->unit == ALL && p->class_a != ALL) {
                out[i] = round(tmp[i] * scale) / scale;
            }
        }
    }
done:
    free(v);
    free(tmp);
    free(tr);
    free(par);
    free(first);
    free(kids);
    return out;
}

/* The rows of every layer B: one table (or JSON array) for all of them. */
struct rows {
    FILE *out;
    enum cli_format fmt;
    bool multi;    /* several layers B: a leading layer_b column */
    bool by_units; /* unit columns */
    int decimals;
    const char *areahead;
    struct cli_table t;
    bool started; /* header added, or the JSON array opened */
    size_t njson; /* JSON rows written */
};

static void rows_start(struct rows *rw, const struct om_crosstab_result *r)
{
    rw->started = true;
    rw->by_units = r->nunits > 0;
    if (rw->fmt == CLI_JSON) {
        return;
    }
    bool csv = rw->fmt == CLI_CSV;
    const char *head_csv[] = {"layer_b",      "unit_code",    "unit_name",
                              "class_a",      "class_a_name", "class_b",
                              "class_b_name", "features",     rw->areahead};
    const char *head_tab[] = {
        T("layer B", "图层 B"), T("code", "代码"),       T("unit", "行政区"),
        T("class A", "A 类"),   T("name", "名称"),       T("class B", "B 类"),
        T("name", "名称"),      T("features", "图斑数"), rw->areahead};
    const char *head[9];
    size_t n = 0;
    for (size_t i = 0; i < 9; i++) {
        if ((i == 0 && !rw->multi) || ((i == 1 || i == 2) && !rw->by_units)) {
            continue;
        }
        head[n++] = csv ? head_csv[i] : head_tab[i];
    }
    cli_table_init(&rw->t, n);
    cli_table_add(&rw->t, head);
    cli_table_numeric(&rw->t, n - 2);
    cli_table_numeric(&rw->t, n - 1);
}

/* The rows of layer B `code_b` (result r, rounded values vals). */
static void rows_add(struct rows *rw, const char *code_b,
                     const struct om_crosstab_result *r, const double *vals)
{
    if (!rw->started) {
        rows_start(rw, r);
    }
    bool csv = rw->fmt == CLI_CSV;
    FILE *out = rw->out;
    const char *total =
        csv || rw->fmt == CLI_JSON ? "TOTAL" : T("total", "合计");
    char num[64], cnt[24];
    for (size_t i = 0; i < r->ncells; i++) {
        const struct om_crosstab_cell *cl = &r->cells[i];
        if (!rw->by_units && cl->unit != OM_CROSSTAB_ALL) {
            continue;
        }
        const char *ucode =
            cl->unit == OM_CROSSTAB_ALL ? total : r->units[cl->unit].code;
        const char *uname =
            cl->unit == OM_CROSSTAB_ALL ? "" : r->units[cl->unit].name;
        const char *ca = total, *can = "",
                   *cb = cl->class_a == OM_CROSSTAB_ALL ? "" : total;
        const char *cbn = "";
        if (cl->class_a != OM_CROSSTAB_ALL) {
            ca = r->classes_a[cl->class_a].code;
            can = cname(&r->classes_a[cl->class_a], csv);
        }
        if (cl->class_b != OM_CROSSTAB_ALL) {
            cb = r->classes_b[cl->class_b].code;
            cbn = cname(&r->classes_b[cl->class_b], csv);
        }
        snprintf(cnt, sizeof cnt, "%lld", (long long)cl->nfeatures);
        cli_fmt_num(num, sizeof num, vals[i], rw->decimals);
        if (rw->fmt == CLI_JSON) {
            fprintf(out, "%s\n    {", rw->njson++ ? "," : "");
            if (rw->multi) {
                fprintf(out, "\"layer_b\": ");
                cli_json_string(out, code_b);
                fprintf(out, ", ");
            }
            if (rw->by_units) {
                fprintf(out, "\"unit_code\": ");
                cli_json_string(out, ucode);
                fprintf(out, ", \"unit_name\": ");
                cli_json_string(out, uname);
                fprintf(out, ", ");
            }
            fprintf(out, "\"class_a\": ");
            cli_json_string(out, ca);
            fprintf(out, ", \"class_a_name\": ");
            cli_json_string(out, can);
            fprintf(out, ", \"class_b\": ");
            cli_json_string(out, cb);
            fprintf(out, ", \"class_b_name\": ");
            cli_json_string(out, cbn);
            fprintf(out, ", \"features\": %s, \"area\": %s}", cnt, num);
            continue;
        }
        const char *full[] = {code_b, ucode, uname, ca, can, cb, cbn, cnt, num};
        const char *row[9];
        size_t n = 0;
        for (size_t c = 0; c < 9; c++) {
            if ((c == 0 && !rw->multi) ||
                ((c == 1 || c == 2) && !rw->by_units)) {
                continue;
            }
            row[n++] = full[c];
        }
        cli_table_add(&rw->t, row);
    }
}

/* The summary line of one layer B on standard error. */
static void summary(const char *code_a, const char *code_b,
                    const struct om_crosstab_result *r, bool planar,
                    enum om_overlay_engine engine)
{
    if (cli_quiet) {
        return;
    }
    fprintf(stderr, "onemap: %s %lld %s x %s, %lld %s, %s: %s", code_a,
            (long long)r->nfeatures_a, T("features", "个图斑"), code_b,
            (long long)r->npieces, T("pieces", "个叠加碎片"), T("area", "面积"),
            planar ? T("planar", "平面面积") : T("ellipsoidal", "椭球面积"));
    /* AUTO: the kernel (no geometry is wanted here). */
    bool kernel = engine != OM_ENGINE_GEOS;
    fprintf(stderr, ", %s: %s", T("engine", "引擎"),
            kernel ? "kernel" : "geos");
    if (r->nskipped_a) {
        fprintf(stderr, ", %lld %s", (long long)r->nskipped_a,
                T("skipped (empty or invalid geometry; see onemap info)",
                  "个已跳过(空或无效几何,见 onemap info)"));
    }
    if (r->has_unassigned) {
        fprintf(stderr, ", %s",
                T("some area lies outside every admin unit",
                  "部分面积不在任何行政区内"));
    }
    fprintf(stderr, "\n");
}

/* Split the comma-separated list `arg` (copied to buf) into codes. */
#define MAX_B 32
static size_t split_codes(const char *arg, char *buf, size_t size,
                          const char **codes)
{
    if (strlen(arg) >= size) {
        return 0;
    }
    memcpy(buf, arg, strlen(arg) + 1);
    size_t n = 0;
    for (char *c = buf; n < MAX_B;) {
        char *comma = strchr(c, ',');
        if (comma) {
            *comma = '\0';
        }
        if (!*c) {
            return 0; /* an empty name */
        }
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(codes[i], c)) {
                return 0; /* twice */
            }
        }
        codes[n++] = c;
        if (!comma) {
            return n;
        }
        c = comma + 1;
    }
    return 0; /* too many */
}

/*
 * Several layers B. With the area kernel, every layer is read, then one
 * pass over A computes all cross-tabs (om_crosstab_run_layers). With GEOS,
 * each layer's cross-tab runs on a thread of its own while the next layer
 * is read, at most JOBS at a time (one at a time
 * with -j 1). Their results do not depend on it; one progress bar counts
 * the features of A over all layers.
 */
enum { JOBS = 3 };

struct bprogress {
    pthread_mutex_t lock;
    const struct om_progress *real;
    uint64_t done[MAX_B];
    uint64_t total; /* features of A x layers */
};

struct bjob {
    struct om_crosstab_options o;
    struct om_crosstab_result *res;
    struct om_layer *lb;
    enum om_status st;
    struct om_error err;
    size_t index;
    struct bprogress *bp;
    struct om_progress prog;
    pthread_t tid;
    bool started;
};

static void bprogress_fn(void *ctx, const char *phase, uint64_t done,
                         uint64_t total)
{
    struct bjob *j = ctx;
    struct bprogress *bp = j->bp;
    (void)total;
    pthread_mutex_lock(&bp->lock);
    bp->done[j->index] = done;
    uint64_t sum = 0;
    for (size_t i = 0; i < MAX_B; i++) {
        sum += bp->done[i];
    }
    bp->real->fn(bp->real->ctx, phase, sum, bp->total);
    pthread_mutex_unlock(&bp->lock);
}

static void *bjob_main(void *arg)
{
    struct bjob *j = arg;
    j->st = om_crosstab_run(&j->o, &j->res, &j->prog, &j->err);
    return NULL;
}

/* Start job j (or run it here if no thread can be started). */
static void bjob_start(struct bjob *j, const struct om_crosstab_options *o,
                       struct bprogress *bp, size_t index)
{
    j->o = *o;
    j->o.b = j->lb;
    j->index = index;
    j->bp = bp;
    j->prog = *bp->real;
    j->prog.fn = bp->real->fn ? bprogress_fn : NULL;
    j->prog.ctx = j;
    om_error_clear(&j->err);
    j->started = pthread_create(&j->tid, NULL, bjob_main, j) == 0;
    if (!j->started) {
        bjob_main(j);
    }
}

static void bjob_join(struct bjob *j)
{
    if (j->started) {
        pthread_join(j->tid, NULL);
        j->started = false;
    }
    om_layer_free(j->lb);
    j->lb = NULL;
}

/*
 * Layer A read on a thread of its own, with a connection of its own, while
 * the layers B and the units are read and the kernel prepares them
 * (om_crosstab_options.a_late waits for it). At city scale both take about
 * a second.
 */
struct aread {
    const char *path, *code, *field;
    int version;
    struct om_layer *layer;
    enum om_status st;
    struct om_error err;
    pthread_t tid;
    bool started;
};

static void *aread_main(void *arg)
{
    struct aread *r = arg;
    struct om_project *q = NULL;
    om_error_clear(&r->err);
    r->st = om_project_open(r->path, true, &q, &r->err);
    if (r->st == OM_OK) {
        /* A stays in fid order (the overlay walks it in Hilbert order
         * without it being copied there) and is never searched; it is
         * read in one pass, beside the kernel's preparation of the zones
         * on the other cores */
        const char *fields[] = {r->field};
        r->st = cli_read_layer_with(q, r->code, r->version, fields, 1,
                                    OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX |
                                        OM_READ_ONE_PASS,
                                    NULL, &r->layer, &r->err);
    }
    om_project_close(q);
    return NULL;
}

static void aread_start(struct aread *r, const char *path, const char *code,
                        int version, const char *field)
{
    r->path = path;
    r->code = code;
    r->version = version;
    r->field = field;
    r->started = pthread_create(&r->tid, NULL, aread_main, r) == 0;
    if (!r->started) {
        aread_main(r);
    }
}

static void aread_join(struct aread *r)
{
    if (r->started) {
        pthread_join(r->tid, NULL);
        r->started = false;
    }
}

static enum om_status aread_wait(void *ctx, const struct om_layer **a,
                                 struct om_error *err)
{
    struct aread *r = ctx;
    aread_join(r);
    if (r->st != OM_OK) {
        if (err) {
            *err = r->err;
        }
        return r->st;
    }
    *a = r->layer;
    return OM_OK;
}

int cmd_overlay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"class", required_argument, 0, 'c'},
        {"class-a", required_argument, 0, 'c'},
        {"class-b", required_argument, 0, 'C'},
        {"level", required_argument, 0, 'L'},
        {"by", required_argument, 0, 'b'},
        {"area", required_argument, 0, 'a'},
        {"engine", required_argument, 0, 'e'},
        {"unit", required_argument, 0, 'u'},
        {"decimals", required_argument, 0, 'd'},
        {"min-area", required_argument, 0, 'm'},
        {"version-a", required_argument, 0, 'V'},
        {"version-b", required_argument, 0, 'W'},
        {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *class_a = NULL, *class_b = NULL, *by = NULL;
    const char *area = "ellipsoidal", *unit = "ha", *outpath = NULL;
    double factor = 1.0 / 10000.0; /* m2 -> the output unit (ha) */
    long level = 0, decimals = 2, threads = 0, ver_a = 0, ver_b = 0;
    double min_area = 0;
    enum om_overlay_engine engine = OM_ENGINE_AUTO;
    enum cli_format fmt = CLI_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:j:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            class_a = optarg;
            break;
        case 'C':
            class_b = optarg;
            break;
        case 'L':
            if (!cli_parse_int(optarg, 0, 2, &level)) {
                return cli_usage(
                    "overlay", "%s",
                    T("--level must be 0, 1 or 2", "--level 必须为 0、1 或 2"));
            }
            break;
        case 'b':
            by = optarg;
            break;
        case 'a':
            if (strcmp(optarg, "ellipsoidal") && strcmp(optarg, "planar")) {
                return cli_usage("overlay", "%s '%s'",
                                 T("--area must be ellipsoidal or planar",
                                   "--area 须为 ellipsoidal 或 planar"),
                                 optarg);
            }
            area = optarg;
            break;
        case 'e':
            if (cli_parse_engine("overlay", optarg, &engine) != CLI_OK) {
                return CLI_USAGE;
            }
            break;
        case 'u':
            if (!cli_parse_unit(optarg, &factor)) {
                return cli_usage(
                    "overlay", "%s '%s'",
                    T("unknown unit (m2, ha, mu)", "未知单位(m2、ha、mu)"),
                    optarg);
            }
            unit = optarg;
            break;
        case 'd':
            if (!cli_parse_int(optarg, 0, 9, &decimals)) {
                return cli_usage(
                    "overlay", "%s",
                    T("--decimals must be 0..9", "--decimals 须为 0..9"));
            }
            break;
        case 'm': {
            char *end = NULL;
            min_area = strtod(optarg, &end);
            if (!end || *end || !(min_area >= 0) || !isfinite(min_area)) {
                return cli_usage("overlay", "%s",
                                 T("bad --min-area", "--min-area 无效"));
            }
            break;
        }
        case 'V':
        case 'W':
            if (!cli_parse_int(optarg, 1, 1000000,
                               c == 'V' ? &ver_a : &ver_b)) {
                return cli_usage(
                    "overlay", "%s",
                    T("bad --version-a/-b", "--version-a/-b 无效"));
            }
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage("overlay", "%s '%s'",
                                 T("unknown format", "未知格式"), optarg);
            }
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 64, &threads)) {
                return cli_usage("overlay", "%s", T("bad -j", "-j 无效"));
            }
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("overlay", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 3 != argc) {
        return cli_usage("overlay", "%s",
                         T("expected PROJECT, layer A and layer B",
                           "需要项目路径、图层 A 和图层 B"));
    }
    if (!class_a) {
        return cli_usage("overlay", "%s",
                         T("--class-a FIELD is required (e.g. --class DLBM)",
                           "必须指定 --class-a 字段(如 --class DLBM)"));
    }
    bool planar = strcmp(area, "planar") == 0;
    const char *code_a = argv[optind + 1];
    char bbuf[1024];
    const char *codes_b[MAX_B];
    size_t nb = split_codes(argv[optind + 2], bbuf, sizeof bbuf, codes_b);
    if (nb == 0) {
        return cli_usage("overlay", "%s '%s'",
                         T("layer B must be one code or a list of up to 32 "
                           "different codes (A,B,C)",
                           "图层 B 须为一个代码或最多 32 个不同代码的列表"
                           "(A,B,C)"),
                         argv[optind + 2]);
    }
    if (nb > 1 && ver_b) {
        return cli_usage("overlay", "%s",
                         T("--version-b takes one layer B",
                           "--version-b 只能用于单个图层 B"));
    }
    struct om_crosstab_options o;
    memset(&o, 0, sizeof o);
    o.class_a = class_a;
    o.class_b = class_b;
    o.level_a = (int)level;
    o.level_b = (int)level;
    o.area = planar ? OM_AREA_PLANAR : OM_AREA_ELLIPSOIDAL;
    o.min_area_m2 = min_area;
    o.threads = (int)threads;
    o.engine = engine;

    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    struct om_layer *la = NULL;
    struct aread ar;
    memset(&ar, 0, sizeof ar);
    struct om_crs *crs = NULL;
    /* every layer B first, then the output: nothing is written if one
     * fails */
    struct om_crosstab_result *res[MAX_B] = {0};
    double *vals[MAX_B] = {0};
    struct cli_units units = {0};
    int rc = CLI_FAIL;
    char areahead[64];
    snprintf(areahead, sizeof areahead, "area_%s", unit);
    struct rows rw = {0};
    rw.out = stdout;
    rw.fmt = fmt;
    rw.multi = nb > 1;
    rw.decimals = (int)decimals;
    rw.areahead = areahead;
    if (om_project_open(argv[optind], true, &p, &err) != OM_OK) {
        return cli_report(&err);
    }
    const char *pcrs = om_project_crs(p);
    if (!pcrs) {
        om_project_close(p);
        return cli_fail("%s",
                        T("the project has no layers yet", "项目中还没有图层"));
    }
    /* planar areas in a projected CRS need no CRS object (nor PROJ) */
    if (!(planar && om_project_crs_is_projected(p)) &&
        om_crs_new(pcrs, &crs, &err) != OM_OK) {
        goto fail;
    }
    o.crs = crs;
    /* om_crosstab_run reads the class fields of A and B and the unit code
     * and name fields, nothing else; A stays in fid order (the overlay
     * walks it in Hilbert order without it being copied there) and is
     * never searched (no R-tree). For the kernel, A is read meanwhile. */
    if (engine != OM_ENGINE_GEOS) {
        aread_start(&ar, argv[optind], code_a, (int)ver_a, class_a);
        o.a_late = aread_wait;
        o.a_late_ctx = &ar;
    } else if (cli_read_layer(p, code_a, (int)ver_a, &class_a, 1,
                              OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX, &la,
                              &err) != OM_OK) {
        goto fail;
    }
    o.a = la;
    if (by) {
        if (cli_units_read(p, by, &units) != CLI_OK) {
            goto done;
        }
        o.units = units.layer;
        o.unit_code_field = units.code_field;
        o.unit_name_field = units.name_field;
    }
    if (engine != OM_ENGINE_GEOS) {
        /* the kernel: every layer B read, then one pass over A for all;
         * the kernel puts B's edges in its own grid: B in fid order, no
         * R-tree */
        const struct om_layer *lbs[MAX_B];
        struct om_layer *owned[MAX_B] = {0};
        enum om_status st = OM_OK;
        for (size_t ib = 0; ib < nb && st == OM_OK; ib++) {
            const char *fields_b[] = {class_b};
            st = cli_read_layer(
                p, codes_b[ib], (int)ver_b, fields_b, class_b ? 1 : 0,
                OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX, &owned[ib], &err);
            lbs[ib] = owned[ib];
        }
        if (st == OM_OK) {
            st = om_crosstab_run_layers(&o, lbs, nb, res, cli_progress(), &err);
        }
        for (size_t ib = 0; ib < nb; ib++) {
            om_layer_free(owned[ib]);
        }
        cli_progress_end();
        if (st != OM_OK) {
            goto fail;
        }
    } else {
        /* GEOS: read layer ib while the cross-tabs of the layers before it
         * run */
        size_t jobs = threads == 1 ? 1 : JOBS, nread = 0;
        size_t failed = nb; /* the first layer that failed, in order */
        struct bjob job[MAX_B];
        struct bprogress bp;
        memset(job, 0, sizeof job);
        memset(&bp, 0, sizeof bp);
        pthread_mutex_init(&bp.lock, NULL);
        bp.real = cli_progress();
        bp.total = (uint64_t)om_layer_nfeatures(la) * nb;
        for (size_t ib = 0; ib < nb && failed == nb; ib++) {
            if (ib >= jobs) {
                bjob_join(&job[ib - jobs]);
                if (job[ib - jobs].st != OM_OK) {
                    failed = ib - jobs;
                    break;
                }
            }
            const char *fields_b[] = {class_b};
            job[ib].st =
                cli_read_layer(p, codes_b[ib], (int)ver_b, fields_b,
                               class_b ? 1 : 0, 0, &job[ib].lb, &job[ib].err);
            if (job[ib].st != OM_OK) {
                failed = ib;
                break;
            }
            nread = ib + 1;
            bjob_start(&job[ib], &o, &bp, ib);
        }
        for (size_t ib = 0; ib < nread; ib++) {
            bjob_join(&job[ib]);
            if (job[ib].st != OM_OK && ib < failed) {
                failed = ib;
            }
        }
        pthread_mutex_destroy(&bp.lock);
        cli_progress_end();
        for (size_t ib = 0; ib < nb; ib++) {
            res[ib] = job[ib].res;
        }
        if (failed < nb) {
            err = job[failed].err;
            goto fail;
        }
    }
    for (size_t ib = 0; ib < nb; ib++) {
        if (res[ib]->ncells > 0) {
            vals[ib] = round_cells(res[ib], factor, (int)decimals);
            if (!vals[ib]) {
                rc = cli_fail("out of memory");
                goto done;
            }
        }
    }
    if (outpath) {
        rw.out = fopen(outpath, "w");
        if (!rw.out) {
            rw.out = stdout;
            rc = cli_fail("%s: %s", outpath, T("cannot write", "无法写入"));
            goto done;
        }
    }
    FILE *out = rw.out;
    if (fmt == CLI_JSON) {
        fprintf(out, "{\n  \"a\": ");
        cli_json_string(out, code_a);
        fprintf(out, ",\n  \"b\": ");
        if (nb == 1) {
            cli_json_string(out, codes_b[0]);
        } else {
            for (size_t i = 0; i < nb; i++) {
                fprintf(out, "%s", i ? ", " : "[");
                cli_json_string(out, codes_b[i]);
            }
            fprintf(out, "]");
        }
        fprintf(out, ",\n  \"class_a\": ");
        cli_json_string(out, class_a);
        fprintf(out, ",\n  \"class_b\": ");
        cli_json_string(out, class_b ? class_b : "");
        fprintf(out, ",\n  \"level\": %ld,\n  \"area\": \"%s\",\n", level,
                area);
        fprintf(out, "  \"unit\": \"%s\",\n  \"by\": ", unit);
        cli_json_string(out, by ? by : "");
        fprintf(out, ",\n  \"features\": %lld,\n  \"skipped\": %lld,\n",
                (long long)res[0]->nfeatures_a, (long long)res[0]->nskipped_a);
        fprintf(out, "  \"rows\": [");
    }
    for (size_t ib = 0; ib < nb; ib++) {
        rows_add(&rw, codes_b[ib], res[ib], vals[ib]);
        summary(code_a, codes_b[ib], res[ib], planar, engine);
    }
    if (fmt == CLI_JSON) {
        fprintf(out, "\n  ]\n}\n");
    } else {
        cli_table_print(&rw.t, out, fmt);
    }
    rc = CLI_OK;
    if (out != stdout) {
        rw.out = stdout;
        if (fclose(out) != 0) {
            rc = cli_fail("%s: %s", outpath, T("write failed", "写入失败"));
        }
    }
    goto done;
fail:
    cli_progress_end();
    rc = cli_report(&err);
done:
    if (rw.out != stdout) {
        fclose(rw.out);
    }
    if (rw.started && fmt != CLI_JSON) {
        cli_table_free(&rw.t);
    }
    for (size_t ib = 0; ib < nb; ib++) {
        free(vals[ib]);
        om_crosstab_result_free(res[ib]);
    }
    aread_join(&ar);
    om_layer_free(ar.layer);
    om_layer_free(la);
    cli_units_deinit(&units);
    om_crs_free(crs);
    om_project_close(p);
    return rc;
}

/*
 * util.c — CLI helpers: messages, progress bar, output formats, reading
 * the layers of an analysis.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool cli_zh;
bool cli_quiet;

int cli_report(const struct om_error *err)
{
    char line[OM_ERROR_MSG_MAX + OM_ERROR_SOURCE_MAX + 64];
    om_error_format(err, line, sizeof line);
    fprintf(stderr, "onemap: %s: %s\n", T("error", "错误"), line);
    return CLI_FAIL;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "onemap: %s: ", T("error", "错误"));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "onemap %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "%s 'onemap %s --help'\n", T("see", "参见"), cmd);
    return CLI_USAGE;
}

void cli_note(const char *fmt, ...)
{
    if (cli_quiet) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "onemap: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- progress bar ---- */

static volatile sig_atomic_t interrupted;
static volatile int cancel_flag;
static bool bar_drawn;
static struct timespec bar_last;

static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted) {
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
        return;
    }
    interrupted = 1;
    cancel_flag = 1;
}

static void draw(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - bar_last.tv_sec) +
                (double)(now.tv_nsec - bar_last.tv_nsec) * 1e-9;
    if (bar_drawn && dt < 0.1 && done < total) {
        return;
    }
    bar_last = now;
    bar_drawn = true;
    enum { WIDTH = 30 };
    if (total > 0) {
        int fill = (int)((double)done / (double)total * WIDTH);
        if (fill > WIDTH) {
            fill = WIDTH;
        }
        char bar[WIDTH + 1];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(WIDTH - fill));
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r%-16.16s [%s] %3d%% %llu/%llu", phase, bar,
                (int)(100.0 * (double)done / (double)total),
                (unsigned long long)done, (unsigned long long)total);
    } else {
        fprintf(stderr, "\r%-16.16s %llu", phase, (unsigned long long)done);
    }
    fflush(stderr);
}

const struct om_progress *cli_progress(void)
{
    static struct om_progress p;
    p.fn = (!cli_quiet && isatty(STDERR_FILENO)) ? draw : NULL;
    p.ctx = NULL;
    p.cancel = &cancel_flag;
    signal(SIGINT, on_sigint);
    return &p;
}

void cli_progress_end(void)
{
    if (bar_drawn) {
        fprintf(stderr, "\r%*s\r", 78, "");
        fflush(stderr);
        bar_drawn = false;
    }
}

/* ---- formats ---- */

bool cli_parse_format(const char *s, enum cli_format *out)
{
    if (strcmp(s, "table") == 0) {
        *out = CLI_TABLE;
    } else if (strcmp(s, "csv") == 0) {
        *out = CLI_CSV;
    } else if (strcmp(s, "json") == 0) {
        *out = CLI_JSON;
    } else {
        return false;
    }
    return true;
}

bool cli_parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

int cli_display_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        int n;
        if (*p < 0x80) {
            c = *p;
            n = 1;
        } else if ((*p & 0xe0) == 0xc0) {
            c = *p & 0x1f;
            n = 2;
        } else if ((*p & 0xf0) == 0xe0) {
            c = *p & 0x0f;
            n = 3;
        } else {
            c = *p & 0x07;
            n = 4;
        }
        for (int k = 1; k < n; k++) {
            if ((p[k] & 0xc0) != 0x80) {
                n = k;
                break;
            }
            c = (c << 6) | (p[k] & 0x3f);
        }
        p += n;
        /* East Asian wide ranges (CJK, Hangul, full-width forms). */
        bool wide =
            (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
            (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
            (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
            (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd);
        w += wide ? 2 : 1;
    }
    return w;
}

void cli_csv_field(FILE *f, const char *s)
{
    if (!s) {
        return;
    }
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

void cli_json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20) {
                fprintf(f, "\\u%04x", *p);
            } else {
                fputc(*p, f);
            }
        }
    }
    fputc('"', f);
}

void cli_table_init(struct cli_table *t, size_t ncols)
{
    t->ncols = ncols;
    t->nrows = 0;
    t->cap = 0;
    t->cells = NULL;
    t->numeric = 0;
}

void cli_table_numeric(struct cli_table *t, size_t col)
{
    if (col < 8 * sizeof t->numeric) {
        t->numeric |= 1ul << col;
    }
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? 2 * t->cap : 32;
        char **p = realloc(t->cells, ncap * t->ncols * sizeof *p);
        if (!p) {
            fprintf(stderr, "onemap: out of memory\n");
            exit(CLI_FAIL);
        }
        t->cells = p;
        t->cap = ncap;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = cells[c] ? cells[c] : "";
        char *d = strdup(s);
        if (!d) {
            fprintf(stderr, "onemap: out of memory\n");
            exit(CLI_FAIL);
        }
        t->cells[t->nrows * t->ncols + c] = d;
    }
    t->nrows++;
}

void cli_table_free(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

static bool is_number(const char *s)
{
    if (*s == '-') {
        s++;
    }
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == '+' ||
              *s == '-')) {
            return false;
        }
    }
    return true;
}

void cli_table_print(const struct cli_table *t, FILE *f, enum cli_format fmt)
{
    if (fmt == CLI_CSV) {
        for (size_t r = 0; r < t->nrows; r++) {
            for (size_t c = 0; c < t->ncols; c++) {
                if (c) {
                    fputc(',', f);
                }
                cli_csv_field(f, t->cells[r * t->ncols + c]);
            }
            fputc('\n', f);
        }
        return;
    }
    if (fmt == CLI_JSON) {
        fputs("[\n", f);
        for (size_t r = 1; r < t->nrows; r++) {
            fputs("  {", f);
            for (size_t c = 0; c < t->ncols; c++) {
                const char *v = t->cells[r * t->ncols + c];
                if (c) {
                    fputs(", ", f);
                }
                cli_json_string(f, t->cells[c]);
                fputs(": ", f);
                if (((t->numeric >> c) & 1) && is_number(v)) {
                    fputs(v, f);
                } else {
                    cli_json_string(f, v);
                }
            }
            fputs(r + 1 < t->nrows ? "},\n" : "}\n", f);
        }
        fputs("]\n", f);
        return;
    }
    int *w = calloc(t->ncols, sizeof *w);
    if (!w) {
        return;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            int dw = cli_display_width(t->cells[r * t->ncols + c]);
            if (dw > w[c]) {
                w[c] = dw;
            }
        }
    }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *v = t->cells[r * t->ncols + c];
            int pad = w[c] - cli_display_width(v);
            bool right = r > 0 && ((t->numeric >> c) & 1);
            if (c) {
                fputs("  ", f);
            }
            if (right) {
                fprintf(f, "%*s%s", pad, "", v);
            } else if (c + 1 < t->ncols) {
                fprintf(f, "%s%*s", v, pad, "");
            } else {
                fputs(v, f);
            }
        }
        fputc('\n', f);
        if (r == 0) {
            for (size_t c = 0; c < t->ncols; c++) {
                if (c) {
                    fputs("  ", f);
                }
                for (int k = 0; k < w[c]; k++) {
                    fputc('-', f);
                }
            }
            fputc('\n', f);
        }
    }
    free(w);
}

void cli_fmt_num(char *buf, size_t size, double v, int decimals)
{
    snprintf(buf, size, "%.*f", decimals, v);
    if (buf[0] == '-') {
        /* never print a negative zero ("-0.00") */
        bool zero = true;
        for (const char *c = buf + 1; *c; c++) {
            zero &= *c == '0' || *c == '.';
        }
        if (zero) {
            memmove(buf, buf + 1, strlen(buf));
        }
    }
}

bool cli_parse_unit(const char *s, double *factor)
{
    if (strcmp(s, "m2") == 0) {
        *factor = 1.0;
    } else if (strcmp(s, "ha") == 0) {
        *factor = 1.0 / 10000.0;
    } else if (strcmp(s, "mu") == 0) {
        *factor = 15.0 / 10000.0; /* 1 亩 = 10000/15 m2 */
    } else {
        return false;
    }
    return true;
}

int cli_parse_engine(const char *cmd, const char *arg,
                     enum om_overlay_engine *out)
{
    if (strcmp(arg, "auto") == 0) {
        *out = OM_ENGINE_AUTO;
    } else if (strcmp(arg, "kernel") == 0) {
        *out = OM_ENGINE_KERNEL;
    } else if (strcmp(arg, "geos") == 0) {
        *out = OM_ENGINE_GEOS;
    } else {
        return cli_usage(cmd, "%s '%s'",
                         T("--engine must be auto, kernel or geos",
                           "--engine 须为 auto、kernel 或 geos"),
                         arg);
    }
    return CLI_OK;
}

enum om_status cli_read_layer_with(struct om_project *p, const char *code,
                                   int version, const char *const *fields,
                                   size_t nfields, unsigned flags,
                                   const struct om_progress *progress,
                                   struct om_layer **out, struct om_error *err)
{
    enum om_status s = om_project_read_fields_flags(
        p, code, version, fields, nfields, flags, out, progress, err);
    if (s == OM_ENOTFOUND) {
        om_error_clear(err);
        s = om_project_read(p, code, version, out, progress, err);
    }
    return s;
}

enum om_status cli_read_layer(struct om_project *p, const char *code,
                              int version, const char *const *fields,
                              size_t nfields, unsigned flags,
                              struct om_layer **out, struct om_error *err)
{
    return cli_read_layer_with(p, code, version, fields, nfields, flags,
                               cli_progress(), out, err);
}

int cli_units_read(struct om_project *p, const char *code, struct cli_units *u)
{
    struct om_error err;
    om_error_clear(&err);
    if (om_project_layer_record(p, code, 0, &u->rec, &err) != OM_OK) {
        cli_progress_end();
        return cli_report(&err);
    }
    u->has_rec = true;
    const char *fields[] = {u->rec.code_field, u->rec.name_field};
    enum om_status s =
        u->rec.code_field && u->rec.name_field
            ? cli_read_layer(p, code, 0, fields, 2, 0, &u->layer, &err)
            : om_project_read(p, code, 0, &u->layer, cli_progress(), &err);
    if (s != OM_OK) {
        cli_progress_end();
        cli_units_deinit(u);
        return cli_report(&err);
    }
    u->code_field = u->rec.code_field;
    u->name_field = u->rec.name_field;
    if (!u->code_field && om_layer_field_index(u->layer, "XZQDM") >= 0) {
        u->code_field = "XZQDM";
    }
    if (!u->name_field && om_layer_field_index(u->layer, "XZQMC") >= 0) {
        u->name_field = "XZQMC";
    }
    if (!u->code_field) {
        cli_progress_end();
        cli_units_deinit(u);
        return cli_fail(
            "%s '%s' %s", T("layer", "图层"), code,
            T("has no admin code field: re-import it with --code-field "
              "(e.g. --code-field XZQDM --name-field XZQMC)",
              "没有行政区代码字段:请用 --code-field 重新导入(如 "
              "--code-field XZQDM --name-field XZQMC)"));
    }
    return CLI_OK;
}

void cli_units_deinit(struct cli_units *u)
{
    if (u->has_rec) {
        om_layer_record_deinit(&u->rec);
    }
    om_layer_free(u->layer);
    memset(u, 0, sizeof *u);
}

bool cli_in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, item, n) == 0) {
            return true;
        }
        p = e ? e + 1 : p + len;
    }
    return false;
}

int cli_mkdirs(const char *dir)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", dir) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

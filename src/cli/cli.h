/*
 * cli.h — shared helpers of the `onemap` command-line tool: the command
 * table, bilingual messages, error printing, the terminal progress bar,
 * table / CSV / JSON output and the layer reading of the analyses.
 */
#ifndef ONEMAP_CLI_H
#define ONEMAP_CLI_H

#include "onemap/overlay.h"
#include "onemap/status.h"
#include "onemap/store.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit codes. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary_en;
    const char *summary_zh;
};

/* Commands, one file each (src/cli/cmd_<name>.c). */
int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_layers(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_overlay(int argc, char **argv);
int cmd_conflicts(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_codes(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_qc(int argc, char **argv);

/* true when messages are in Chinese (--lang zh, or LANG/LC_ALL zh_*). */
extern bool cli_zh;
/* Quiet: no progress bar and no notes on stderr. */
extern bool cli_quiet;

/* Pick the message for the current language. */
static inline const char *T(const char *en, const char *zh)
{
    return cli_zh ? zh : en;
}

/* "onemap: error: <formatted om_error>" on stderr; returns CLI_FAIL. */
int cli_report(const struct om_error *err);
/* "onemap: error: <message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "onemap <cmd>: <message>\n<usage hint>"; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A note on stderr (suppressed by --quiet). */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The progress reporter: a bar on stderr when it is a terminal (and not
 * quiet), nothing otherwise. Ctrl-C sets the cancel flag once; a second
 * Ctrl-C kills the process. Call cli_progress_end() after the operation.
 */
const struct om_progress *cli_progress(void);
void cli_progress_end(void);

/* Output formats. */
enum cli_format { CLI_TABLE, CLI_CSV, CLI_JSON };
/* Parse "table", "csv", "json"; false if unknown. */
bool cli_parse_format(const char *s, enum cli_format *out);

/* Terminal display width of UTF-8 text (CJK counts 2). */
int cli_display_width(const char *s);

/* CSV field with quoting when needed. */
void cli_csv_field(FILE *f, const char *s);
/* JSON string literal with escapes. */
void cli_json_string(FILE *f, const char *s);

/*
 * A simple text table: rows of cells (all strings), printed with columns
 * aligned by display width; numeric columns right-aligned.
 */
struct cli_table {
    size_t ncols, nrows, cap;
    char **cells;          /* nrows * ncols, row 0 = header */
    unsigned long numeric; /* bit c: column c holds numbers (right-aligned
                              in tables, unquoted in JSON) */
};
/* Mark column `col` numeric. */
void cli_table_numeric(struct cli_table *t, size_t col);
void cli_table_init(struct cli_table *t, size_t ncols);
void cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(const struct cli_table *t, FILE *f, enum cli_format fmt);
void cli_table_free(struct cli_table *t);

/* "%.*f" of v, never a negative zero. */
void cli_fmt_num(char *buf, size_t size, double v, int decimals);
/* Area unit "m2", "ha" or "mu": the factor from m2; false if unknown. */
bool cli_parse_unit(const char *s, double *factor);

/* Parse a positive int option; false if invalid. */
bool cli_parse_int(const char *s, long min, long max, long *out);

/*
 * Parse --engine "auto", "kernel" or "geos" into *out: CLI_OK, or (any
 * other word) the usage message of command `cmd` printed and CLI_USAGE.
 */
int cli_parse_engine(const char *cmd, const char *arg,
                     enum om_overlay_engine *out);

/*
 * Read layer `code` with only the attribute columns the command uses: the
 * other columns of a big parcel layer cost more to read than the analysis
 * itself. When one of them does not exist (or the layer does not), read the
 * whole layer instead, before any row was read: the analysis then reports
 * the missing field in its own words ("no class field 'X' in layer L
 * (fields: ...)"), or the read its missing code, as without the subset.
 * Progress goes to cli_progress(). *out is the caller's (om_layer_free).
 * `flags`: those of om_project_read_fields_flags (OM_LAYER_KEEP_ORDER for
 * the overlay's A, which it walks in Hilbert order itself); the whole
 * layer read instead is in Hilbert order.
 */
enum om_status cli_read_layer(struct om_project *p, const char *code,
                              int version, const char *const *fields,
                              size_t nfields, unsigned flags,
                              struct om_layer **out, struct om_error *err);
/* The same with progress to `progress` (NULL: none), for a read on
 * another thread than the one showing cli_progress(). */
enum om_status cli_read_layer_with(struct om_project *p, const char *code,
                                   int version, const char *const *fields,
                                   size_t nfields, unsigned flags,
                                   const struct om_progress *progress,
                                   struct om_layer **out, struct om_error *err);

/*
 * The admin units of `--by LAYER` (stats, overlay): the layer and its code
 * and name fields, those recorded at import, else XZQDM / XZQMC when the
 * layer has them. The field names point into `rec` or are literals.
 */
struct cli_units {
    struct om_layer *layer;
    const char *code_field; /* never NULL after cli_units_read */
    const char *name_field; /* NULL: none */
    struct om_layer_record rec;
    bool has_rec;
};
/*
 * Read the current version of unit layer `code`: only its code and name
 * fields when both are recorded, else the whole layer (it is small, and
 * the defaults look at its fields). CLI_OK; or CLI_FAIL after ending the
 * progress bar and printing the error (also when no code field is found),
 * with nothing left in *u. Zero *u before; cli_units_deinit it after.
 */
int cli_units_read(struct om_project *p, const char *code, struct cli_units *u);
/* Free what cli_units_read left in *u (a zeroed *u is fine). */
void cli_units_deinit(struct cli_units *u);

/* Whether `item` is one of the comma-separated words of `list`
 * (--format table,html,json). */
bool cli_in_list(const char *list, const char *item);
/* mkdir -p: 0 on success (also when it exists), -1 with errno set. */
int cli_mkdirs(const char *dir);

#endif

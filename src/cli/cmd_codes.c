/*
 * cmd_codes.c — `onemap codes [dlbm|ydyh] [--check CODE...]`
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf("%s\n\n%s\n",
           T("usage: onemap codes [dlbm|ydyh] [--format table|csv|json]\n"
             "       onemap codes dlbm|ydyh --check CODE...",
             "用法: onemap codes [dlbm|ydyh] [--format table|csv|json]\n"
             "      onemap codes dlbm|ydyh --check 编码..."),
           T("List the shipped code tables: dlbm = 三调工作分类 (TD/T "
             "1055-2019),\nydyh = 国土空间调查、规划、用途管制用地用海分类 "
             "(2023), with the\ndefault crosswalk. --check validates codes "
             "(exit 1 if any is bad).",
             "列出内置编码表:dlbm = 三调工作分类(TD/T 1055-2019),"
             "ydyh = 国土空间调查、规划、\n用途管制用地用海分类(2023),"
             "含默认衔接。--check 校验编码(有错误时退出码为 1)。"));
}

int cmd_codes(int argc, char **argv)
{
    static const struct option opts[] = {{"check", no_argument, 0, 'c'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool check = false;
    enum cli_format fmt = CLI_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            check = true;
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage("codes", "%s '%s'",
                                 T("unknown format", "未知格式"), optarg);
            }
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("codes", "%s", T("bad option", "选项错误"));
        }
    }
    enum om_code_table table = OM_CODES_DLBM;
    if (optind < argc) {
        if (strcmp(argv[optind], "dlbm") == 0) {
            table = OM_CODES_DLBM;
        } else if (strcmp(argv[optind], "ydyh") == 0) {
            table = OM_CODES_YDYH;
        } else {
            return cli_usage(
                "codes", "%s '%s'",
                T("unknown table (dlbm, ydyh)", "未知编码表(dlbm、ydyh)"),
                argv[optind]);
        }
        optind++;
    }
    if (check) {
        int bad = 0;
        for (int i = optind; i < argc; i++) {
            const struct om_code *code = NULL;
            enum om_code_check r = table == OM_CODES_DLBM
                                       ? om_dlbm_check(argv[i], &code)
                                       : om_ydyh_check(argv[i], &code);
            if (r == OM_CODE_OK) {
                printf("%s\tok\t%s\t%s\n", argv[i], code ? code->name_zh : "",
                       code ? code->name_en : "");
            } else {
                bad = 1;
                printf("%s\t%s\n", argv[i],
                       r == OM_CODE_BAD_PATTERN
                           ? T("bad pattern", "格式错误")
                           : T("unknown code", "未知编码"));
            }
        }
        return bad ? CLI_FAIL : CLI_OK;
    }
    struct cli_table t;
    bool dlbm = table == OM_CODES_DLBM;
    cli_table_init(&t, dlbm ? 6 : 5);
    const char *head[] = {"code",    "level",   "parent",
                          "name_zh", "name_en", dlbm ? "ydyh" : NULL};
    cli_table_add(&t, head);
    cli_table_numeric(&t, 1);
    size_t n = om_code_count(table);
    for (size_t i = 0; i < n; i++) {
        const struct om_code *k = om_code_at(table, i);
        char lv[8];
        snprintf(lv, sizeof lv, "%d", k->level);
        const char *to = dlbm ? om_dlbm_to_ydyh(k->code) : NULL;
        const char *row[] = {k->code,    lv,         k->parent ? k->parent : "",
                             k->name_zh, k->name_en, to ? to : ""};
        cli_table_add(&t, row);
    }
    cli_table_print(&t, stdout, fmt);
    cli_table_free(&t);
    return CLI_OK;
}

/*
 * main.c — `onemap <command> ...`: global options, the command table and
 * dispatch.
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <stdlib.h>
#include <string.h>

static const struct cli_command commands[] = {
    {"init", cmd_init, "create a project database", "创建项目数据库"},
    {"import", cmd_import, "import a GIS layer into the project",
     "导入图层到项目"},
    {"layers", cmd_layers, "list the project's layers (catalogue)",
     "列出项目图层目录"},
    {"info", cmd_info,
     "describe a layer: fields, extent, counts, invalid "
     "geometries",
     "图层信息:字段、范围、数量、无效几何"},
    {"stats", cmd_stats, "land-use statistics by admin unit and class",
     "地类面积统计(按行政区和地类)"},
    {"conflicts", cmd_conflicts,
     "detect conflicts between plans and control lines (rule file)",
     "多规合一冲突检测(规则文件)"},
    {"overlay", cmd_overlay,
     "overlay cross-tab: class of A x class of B x admin unit",
     "叠加分析交叉统计"},
    {"runs", cmd_runs, "list analysis runs; export a run's results",
     "分析运行记录;导出结果"},
    {"export", cmd_export, "export a layer to a GIS file", "导出图层"},
    {"convert", cmd_convert, "部标 TXT <-> GIS formats", "部标TXT与GIS互转"},
    {"check", cmd_check,
     "compliance review of construction sites (部标 TXT, GIS files)",
     "建设项目合规性审查(部标TXT、GIS文件)"},
    {"qc", cmd_qc,
     "quality control of the layers: geometry, topology, attributes; "
     "repair",
     "成果质检:几何、拓扑、属性检查与修复"},
    {"codes", cmd_codes, "list or check land-use codes (DLBM, 用地用海)",
     "查询或校验地类编码"},
};

static void usage(FILE *f)
{
    fprintf(f, "%s\n\n",
            T("usage: onemap [--lang en|zh] [--quiet] <command> [options]",
              "用法: onemap [--lang en|zh] [--quiet] <命令> [选项]"));
    fprintf(f, "%s\n", T("commands:", "命令:"));
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(f, "  %-8s %s\n", commands[i].name,
                T(commands[i].summary_en, commands[i].summary_zh));
    }
    fprintf(f, "\n%s\n",
            T("Run 'onemap <command> --help' for the options of a command.",
              "运行 'onemap <命令> --help' 查看命令选项。"));
}

static void pick_language(void)
{
    const char *vars[] = {"ONEMAP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = getenv(vars[i]);
        if (v && v[0]) {
            cli_zh = strncmp(v, "zh", 2) == 0;
            return;
        }
    }
}

int main(int argc, char **argv)
{
    pick_language();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
            cli_zh = strncmp(argv[++i], "zh", 2) == 0;
        } else if (strncmp(argv[i], "--lang=", 7) == 0) {
            cli_zh = strncmp(argv[i] + 7, "zh", 2) == 0;
        } else if (strcmp(argv[i], "--quiet") == 0 ||
                   strcmp(argv[i], "-q") == 0) {
            cli_quiet = true;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("onemap %s\n", om_version());
            return CLI_OK;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "onemap: %s '%s'\n",
                    T("unknown option", "未知选项"), argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[i];
    if (strcmp(name, "version") == 0) {
        printf("onemap %s\n", om_version());
        return CLI_OK;
    }
    if (strcmp(name, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (strcmp(commands[k].name, name) == 0) {
            return commands[k].run(argc - i, argv + i);
        }
    }
    fprintf(stderr, "onemap: %s '%s'\n", T("unknown command", "未知命令"),
            name);
    usage(stderr);
    return CLI_USAGE;
}

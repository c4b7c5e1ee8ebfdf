/*
 * fuzz_rules.c — libFuzzer target for the rule file parser
 * (om_rules_parse, libyaml underneath) and the filters it builds. Any input
 * must give OM_OK or a clean error: no crash, no leak, no UB. A parsed set
 * is exercised: every side is evaluated on a small layer.
 *
 * Built by `make fuzz` (clang, -fsanitize=fuzzer); also included by
 * tests/unit/test_rules_fuzz_replay.c, which replays the corpus in
 * tests/fuzz/corpus/rules/ and deterministic mutations in every
 * `make check`.
 */
#include "onemap/rules.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A three-feature layer with the fields the corpus filters name. */
static struct om_layer *fuzz_layer(void)
{
    static const char *const dlbm[] = {"0101", "0701", NULL};
    struct om_layer *l = NULL;
    struct om_error err;
    int fd, fn;
    if (om_layer_new("DLTB", &l, &err) != OM_OK ||
        om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &fd, &err) != OM_OK ||
        om_layer_add_field(l, "N", OM_FIELD_INT, &fn, &err) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        double ring[] = {i, 0, i + 1, 0, i + 1, 1, i, 1, i, 0};
        if (om_layer_begin_feature(l, i + 1, &err) != OM_OK ||
            om_layer_begin_part(l, &err) != OM_OK ||
            om_layer_add_ring(l, ring, 5, &err) != OM_OK ||
            om_layer_set_text(l, fd, dlbm[i], &err) != OM_OK ||
            om_layer_set_int(l, fn, i, &err) != OM_OK ||
            om_layer_end_feature(l, &err) != OM_OK) {
            om_layer_free(l);
            return NULL;
        }
    }
    if (om_layer_finish(l, 0, &err) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct om_rules *r = NULL;
    struct om_error err;
    if (om_rules_parse((const char *)data, size, "fuzz", &r, &err) != OM_OK) {
        return 0;
    }
    struct om_layer *l = fuzz_layer();
    for (size_t i = 0; l && i < r->nrules; i++) {
        const struct om_rule *u = &r->rules[i];
        const struct om_rule_side *sides[2] = {&u->a, &u->b};
        for (int s = 0; s < 2; s++) {
            uint8_t *mask = NULL;
            size_t n = 0;
            if (om_rule_side_select(u, sides[s], l, &mask, &n, &err) == OM_OK) {
                om_rules_mask_free(mask);
            }
            (void)strlen(sides[s]->text);
        }
        (void)om_rules_find(r, u->id);
    }
    (void)om_rules_layer(r, "DLTB");
    om_layer_free(l);
    om_rules_free(r);
    return 0;
}

# onemap — plain GNU Makefile with pkg-config.
#
#   make            build build/libonemap.{a,so}, build/onemap and tools
#   make check      install missing deps, build with -Werror, run all tests
#                   (plain build, then again under ASan+UBSan)
#   make demo       install missing deps, build, make the sample project and
#                   run the analyses into out/demo/
#   make SAN=address,undefined   sanitizer build into build-san/
#   make format     clang-format the sources in place
#   make fuzz       build libFuzzer targets (clang) into build-fuzz/

CC       ?= cc
SAN      ?=
WERROR   ?= 0
OPT      ?= -O2
PKGS     := geos gdal proj sqlite3 yaml-0.1

ifeq ($(SAN),)
BUILD    ?= build
SANFLAGS :=
else
BUILD    ?= build-san
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
# GDAL, PROJ and GEOS are not linked: src/io/gdal_bridge.c, src/crs/crs.c
# and src/geom/geos.c load them by their sonames when first used (GDAL's
# 115 libraries cost every command 50 ms at start, PROJ's 43 another 20 ms,
# GEOS with the C++ runtime 6 ms)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out gdal proj geos,$(PKGS)) 2>/dev/null)
soname = $(shell objdump -p "$$($(CC) -print-file-name=$(1))" \
           2>/dev/null | awk '/SONAME/ {print $$2}')
GDAL_SONAME := $(call soname,libgdal.so)
PROJ_SONAME := $(call soname,libproj.so)
GEOS_SONAME := $(call soname,libgeos_c.so)

CPPFLAGS += -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L -DGEOS_USE_ONLY_R_API
CPPFLAGS += $(if $(GDAL_SONAME),-DOM_GDAL_SONAME='"$(GDAL_SONAME)"')
CPPFLAGS += $(if $(PROJ_SONAME),-DOM_PROJ_SONAME='"$(PROJ_SONAME)"')
CPPFLAGS += $(if $(GEOS_SONAME),-DOM_GEOS_SONAME='"$(GEOS_SONAME)"')
CFLAGS   += $(EXTRA_CFLAGS) -std=c17 $(OPT) -g -fPIC -pthread $(WARN) $(SANFLAGS) $(PKG_CFLAGS)
LDFLAGS  += -pthread $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -ldl -lm
# the unit tests call GEOS themselves (the oracle of the area kernel)
TEST_LIBS := $(shell pkg-config --libs geos 2>/dev/null)

LIB_SRC  := $(sort $(wildcard src/core/*.c src/geom/*.c src/index/*.c \
              src/crs/*.c src/io/*.c src/store/*.c src/ops/*.c \
              src/rules/*.c src/report/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TOOL_SRC := $(sort $(wildcard tools/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TOOLS    := $(TOOL_SRC:tools/%.c=$(BUILD)/tools/%)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all lib cli tools tests check demo bench fuzz format tidy clean deps

all: lib cli tools

lib: $(BUILD)/libonemap.a $(BUILD)/libonemap.so
cli: $(BUILD)/onemap
tools: $(TOOLS)
tests: $(TESTS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libonemap.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libonemap.so: $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libonemap.so.0 -o $@ $^ $(LDLIBS)

$(BUILD)/onemap: $(CLI_OBJ) $(BUILD)/libonemap.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libonemap.a $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(BUILD)/libonemap.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libonemap.a $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libonemap.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libonemap.a $(LDLIBS) $(TEST_LIBS)

deps:
	@scripts/install-deps check

# The whole suite: plain -Werror build, then ASan+UBSan build of the same.
NPROC := $(shell nproc 2>/dev/null || echo 2)

check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) WERROR=1 all tests
	@$(MAKE) --no-print-directory -j$(NPROC) WERROR=1 SAN=address,undefined OPT=-O1 all tests
	@tests/run build build-san

demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@scripts/demo build

# make bench [PROVINCE=1] [BENCH_ARGS="--scales county --reps 5"]
bench:
	@scripts/install-deps bench
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@bench/run $(if $(PROVINCE),--province) $(BENCH_ARGS)

fuzz:
	@$(MAKE) --no-print-directory CC=clang SAN=address,undefined \
	    EXTRA_CFLAGS=-fsanitize=fuzzer-no-link \
	    BUILD=build-fuzz all
	@tests/fuzz/build build-fuzz

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(TOOL_SRC) $(TEST_SRC) \
	    $(wildcard include/onemap/*.h src/*/*.h tests/unit/*.h)

tidy:
	clang-tidy $(LIB_SRC) $(CLI_SRC) -- $(CPPFLAGS) -std=c17 $(PKG_CFLAGS)

clean:
	rm -rf build build-san build-fuzz out

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TESTS:$(BUILD)/tests/%=$(BUILD)/obj/tests/unit/%.d)

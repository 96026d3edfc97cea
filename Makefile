# WebRTC access to IMS gateway: ep-cscf + eims-agw.
#
#   make run     install what is missing, build, start the loopback demo
#   make test    install what is missing, build, run every test suite
#   make         build the daemons (build/release/bin/)
#   make asan    daemons and unit tests with ASan+UBSan (build/asan/)
#   make fuzz    libFuzzer targets with clang (build/fuzz/tests/fuzz/)
#   make clean
#
# Objects go under build/$(VARIANT)/ (BUILDDIR=... moves build/, e.g. for
# parallel work trees); nothing is written in the source tree.

VARIANT ?= release
BUILDDIR ?= build
BUILD   := $(BUILDDIR)/$(VARIANT)
NPROC   := $(shell nproc 2>/dev/null || echo 2)
VERSION := $(shell cat VERSION 2>/dev/null)$(shell git rev-parse --short HEAD 2>/dev/null | sed 's/^/+/')

# Error and log text is cut to fit its buffer on purpose, hence gcc's
# -Wno-format-truncation (clang has no such warning).
ifeq ($(VARIANT),fuzz)
CC := clang
endif
ifeq ($(findstring clang,$(CC)),)
WARN_GCC := -Wno-format-truncation
endif

# Libraries, from Debian packages through pkg-config, per program.
# libsrtp2 is only the SRTP oracle of the tests, never on the packet path.
PKGS_COMMON := libuv openssl
PKGS_EPCSCF := sofia-sip-ua libwebsockets jansson libjwt
PKGS_AGW    := liburing
PKGS_TEST   := libsrtp2 cmocka
pkg_libs     = $(shell pkg-config --libs $(PKGS_COMMON) $(1))
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS_COMMON) $(PKGS_EPCSCF) $(PKGS_AGW) $(PKGS_TEST) 2>/dev/null)

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wformat=2 -Wno-format-nonliteral
CSTD   := -std=c11 -D_GNU_SOURCE
INC    := -Icommon -Iproto -Iep-cscf -Ieims-agw

ifeq ($(VARIANT),release)
# Link-time optimisation: the media path crosses many small files (socket,
# demux, ICE verdict, SRTP, relay, statistics); inlined across them it
# measured 2.5 % less CPU per relayed packet (docs/benchmarks.md).
OPT    := -O2 -g -flto=auto
LDFLAGS += -flto=auto -O2
else ifeq ($(VARIANT),asan)
OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
          -fno-sanitize-recover=all
else ifeq ($(VARIANT),fuzz)
OPT    := -O1 -g -fno-omit-frame-pointer \
          -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
else
$(error VARIANT must be release, asan or fuzz)
endif

# The version (VERSION file + commit) is written to $(BUILD)/gen/version.h,
# rewritten only when it changes, so the objects that print it are rebuilt
# after a commit (a -D flag would leave them stale: make does not track flags).
CFLAGS  += $(CSTD) $(OPT) $(WARN) $(WARN_GCC) $(INC) -I$(BUILD)/gen -MMD -MP $(PKG_CFLAGS)
LDFLAGS += $(filter -fsanitize=%,$(OPT))

COMMON_SRC := $(wildcard common/*.c)
PROTO_SRC  := $(wildcard proto/*.c)
EPCSCF_SRC := $(filter-out ep-cscf/main.c,$(wildcard ep-cscf/*.c))
AGW_SRC    := $(filter-out eims-agw/main.c,$(wildcard eims-agw/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)
CONFORMANCE_SRC := $(wildcard proto/conformance/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON := $(BUILD)/lib/libcommon.a
LIBPROTO  := $(BUILD)/lib/libproto.a
LIBEPCSCF := $(BUILD)/lib/libepcscf.a
LIBAGW    := $(BUILD)/lib/libagw.a
# Order matters for static linking: dependants first.
ALL_LIBS  := $(LIBEPCSCF) $(LIBAGW) $(LIBPROTO) $(LIBCOMMON)

BINS  := $(BUILD)/bin/ep-cscf $(BUILD)/bin/eims-agw $(BUILD)/bin/iqplus-conformance \
	 $(BUILD)/bin/iqp-ctl
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
FUZZ  := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%,$(FUZZ_SRC))
BENCH := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRC))
ALL_PKGS := $(PKGS_EPCSCF) $(PKGS_AGW) $(PKGS_TEST)

# Keep objects of test programs (otherwise removed as intermediates).
.SECONDARY:

.PHONY: all bins units fuzzers benches asan fuzz bench deps run test clean FORCE
.DEFAULT_GOAL := all

all: bins
bins: $(BINS)
units: $(UNITS)
fuzzers: $(FUZZ)
benches: $(BENCH)

asan:
	$(MAKE) -j$(NPROC) VARIANT=asan bins units
fuzz:
	$(MAKE) -j$(NPROC) VARIANT=fuzz fuzzers
# Benchmarks are measurements, not tests: see docs/benchmarks.md.
bench:
	$(MAKE) -j$(NPROC) VARIANT=release benches

deps:
	./deploy/install-deps.sh

run: deps
	$(MAKE) -j$(NPROC) VARIANT=release bins
	./deploy/run-demo.sh

test: deps
	$(MAKE) -j$(NPROC) VARIANT=release bins benches
	$(MAKE) -j$(NPROC) VARIANT=asan bins units
	$(MAKE) -j$(NPROC) VARIANT=fuzz fuzzers
	./tests/run-all.sh

clean:
	rm -rf build

$(BUILD)/obj/%.o: %.c | $(BUILD)/gen/version.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define VERSION "$(VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

FORCE:

# An empty archive is valid ("ar rcs x.a" with no members); it keeps link
# lines uniform while a directory has no sources yet.
define archive
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	gcc-ar rcs $$@ $$^
endef
$(eval $(call archive,$(LIBCOMMON),$(COMMON_SRC)))
$(eval $(call archive,$(LIBPROTO),$(PROTO_SRC)))
$(eval $(call archive,$(LIBEPCSCF),$(EPCSCF_SRC)))
$(eval $(call archive,$(LIBAGW),$(AGW_SRC)))

$(BUILD)/bin/ep-cscf: $(call obj,ep-cscf/main.c) $(LIBEPCSCF) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_EPCSCF))

$(BUILD)/bin/eims-agw: $(call obj,eims-agw/main.c) $(LIBAGW) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS_AGW))

# The Iq+ conformance suite (proto/README.md): a test tool built with the
# daemons, on the same codec, framing and TLS code.
$(BUILD)/bin/iqplus-conformance: $(call obj,$(CONFORMANCE_SRC)) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,)

# The scripted Iq+ controller of the tests and the conformance suite.
$(BUILD)/bin/iqp-ctl: $(call obj,proto/tools/iqp_ctl.c) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,jansson)

$(BUILD)/tests/unit/%: $(call obj,tests/unit/%.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(ALL_PKGS))

$(BUILD)/tests/fuzz/%: $(call obj,tests/fuzz/%.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(call pkg_libs,$(ALL_PKGS))

$(BUILD)/tests/bench/%: $(call obj,tests/bench/%.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(ALL_PKGS))

# A bench's own helper files: tests/bench/<name>_*.c beside bench_<name>.c.
$(BUILD)/tests/bench/bench_wss_load: $(call obj,$(wildcard tests/bench/wss_load_*.c))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

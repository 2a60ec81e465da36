# Rampart. `make` builds, `make run` installs what is missing and runs the daemon on
# conf/rampart.yaml, `make test` installs, builds and runs every test, `make bench` measures.
#
# Sources are found by directory, so a new file in a module needs no Makefile change:
#   lib/ capture/ detect/ flowspec/ bgp/ storage/ conf/  -> build/librampart.a
#   rampartd/*.c except main.c and rampartctl.c          -> build/libdaemon.a (tests link it)
#   tests/unit/test_*.c                                  -> build/tests/test_* (cmocka)
#   tests/fuzz/fuzz_*.c                                  -> build/fuzz/fuzz_* (libFuzzer, clang)
#   bench/bench_*.c                                      -> build/bench/bench_*

CC ?= gcc
BUILD ?= build
PKGS := libpcap libevent libevent_pthreads yaml-0.1 libcurl libnl-3.0 libnl-route-3.0 libxdp libbpf
OPT ?= -O2
CFLAGS_BASE := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -pthread -D_GNU_SOURCE -I.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS = $(PKG_LIBS) -lm -lz $(EXTRA_LDFLAGS)

MODULES := lib capture detect flowspec bgp storage conf
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
DAEMON_SRC := $(filter-out rampartd/main.c rampartd/rampartctl.c,$(wildcard rampartd/*.c))
TEST_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)
HEADERS := $(foreach m,$(MODULES) rampartd,$(wildcard $(m)/*.h))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
TESTS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

CONFIG ?= conf/rampart.yaml


.PHONY: conformance
.PHONY: all deps test-deps run test unit integration fuzz fuzz-smoke asan bench bench-deps clean check-config

all: $(BUILD)/rampartd $(BUILD)/rampartctl

deps:
	@scripts/install-deps.sh

# What only the tests need: ClickHouse 26.7's engine (chDB, ~180 MB) for
# tests/integration/storage_newer_clickhouse.sh; `make run` does without it.
test-deps: deps
	@scripts/install-chdb.sh

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/librampart.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libdaemon.a: $(DAEMON_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/rampartd: $(BUILD)/obj/rampartd/main.o $(BUILD)/libdaemon.a $(BUILD)/librampart.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/rampartctl: $(BUILD)/obj/rampartd/rampartctl.o $(BUILD)/libdaemon.a $(BUILD)/librampart.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/bench/%: bench/%.c bench/bench_util.h $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O3 -o $@ $< $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(LDLIBS)

run: deps all
	$(BUILD)/rampartd -c $(CONFIG)

check-config: all
	$(BUILD)/rampartd -c $(CONFIG) --check-config

# Every test: unit tests, fuzz smoke runs, integration tests with real BIRD and ClickHouse.
test: test-deps all $(TESTS)
	@tests/run-unit.sh $(BUILD)/tests
	@$(MAKE) --no-print-directory fuzz-smoke
	@tests/conformance/run.sh
	@tests/run-integration.sh

# Other projects' test vectors (../shared/data/external/) through Rampart.
conformance: all
	@tests/conformance/run.sh

unit: $(TESTS)
	@tests/run-unit.sh $(BUILD)/tests

integration: test-deps all
	@tests/run-integration.sh

# Every unit and integration test again with AddressSanitizer + UndefinedBehaviorSanitizer, in
# build-asan/ (the integration scripts take BUILD and the flags from the environment).
ASAN_VARS := BUILD=build-asan OPT=-O1 \
	EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	EXTRA_LDFLAGS="-fsanitize=address,undefined"
asan: test-deps
	@$(MAKE) --no-print-directory $(ASAN_VARS) all unit
	@env $(ASAN_VARS) tests/run-integration.sh

# libFuzzer targets. The library is compiled once with clang and the sanitizers
# (build/fuzz/obj), then each target links it.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -I. -D_GNU_SOURCE -pthread
FUZZ_SAN := address,undefined
FUZZ_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libfuzzrampart.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libfuzzrampart.a $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $(PKG_CFLAGS) -o $@ $< $(BUILD)/fuzz/libfuzzrampart.a \
		$(PKG_LIBS) -lm -lz

FUZZ_SECONDS ?= 10
fuzz-smoke: fuzz
	@tests/run-fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

# The peers the benchmarks compare against are installed for them only.
BENCH_PKGS := exabgp fastnetmon
bench-deps:
	@RAMPART_EXTRA_PKGS="$(BENCH_PKGS)" scripts/install-deps.sh

# The fast sender bench/capture_rate.sh drives (PACKET_TX_RING): a tool, not a measurement itself.
$(BUILD)/bench/capture_send: bench/capture_send.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O3 -o $@ $< $(LDLIBS)

bench: bench-deps all $(BENCHES) $(BUILD)/bench/capture_send
	@bench/run.sh $(BUILD)

clean:
	rm -rf build build-asan

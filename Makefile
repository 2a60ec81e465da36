# Rampart. `make` builds, `make run` installs what the daemon needs (scripts/install-deps.sh run)
# and runs it on conf/rampart.yaml, `make test` installs the test tools and peers too
# (install-deps.sh test), builds and runs every test, `make bench` measures.
#
# Sources are found by directory, so a new file in a module needs no Makefile change:
#   lib/ capture/ detect/ flowspec/ bgp/ storage/ conf/ migrate/  -> build/librampart.a
#   mitigation/ actions/ api/, rampartd/*.c except main.c
#                                                        -> build/libdaemon.a (tests link it)
#   ctl/ (the rampartctl client: librampart.a only)     -> build/rampartctl
#   tests/unit/test_*.c                                  -> build/tests/test_* (cmocka)
#   tests/fuzz/fuzz_*.c                                  -> build/fuzz/fuzz_* (libFuzzer, clang)
#   bench/bench_*.c                                      -> build/bench/bench_*

CC ?= gcc
BUILD ?= build
PKGS := libpcap libevent libevent_pthreads yaml-0.1 libcurl libnl-3.0 libnl-route-3.0 libcap-ng libxdp libbpf
OPT ?= -O2
CFLAGS_BASE := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -pthread -D_GNU_SOURCE -I.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS = $(PKG_LIBS) $(DPDK_LIBS) -lm -lz $(EXTRA_LDFLAGS)

# DPDK (capture.dpdk, capture/dpdk.c) when pkg-config finds libdpdk; without it the daemon builds
# and a dpdk section is an error at start. Its flags (-march, -include rte_config.h) are for
# capture/dpdk.c alone. The fuzz build leaves it out (dpdk.c then compiles to its error stubs).
HAVE_DPDK := $(shell pkg-config --exists libdpdk 2>/dev/null && echo 1)
ifeq ($(HAVE_DPDK),1)
DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk) -DRAMPART_DPDK=1
DPDK_LIBS := $(shell pkg-config --libs libdpdk)
endif
$(BUILD)/obj/capture/dpdk.o: CFLAGS += $(DPDK_CFLAGS)
# the one benchmark that drives DPDK itself (net_ring fed from memory)
$(BUILD)/bench/bench_dpdk_ring: CFLAGS += $(DPDK_CFLAGS)

MODULES := lib capture detect flowspec bgp storage conf migrate
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
DAEMON_MODULES := mitigation actions api rampartd
DAEMON_SRC := $(filter-out rampartd/main.c,$(foreach m,$(DAEMON_MODULES),$(wildcard $(m)/*.c)))
TEST_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)
HEADERS := $(foreach m,$(MODULES) $(DAEMON_MODULES),$(wildcard $(m)/*.h))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
TESTS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

CONFIG ?= conf/rampart.yaml

.PHONY: conformance structure
.PHONY: all deps test-deps run test unit integration faults fuzz fuzz-smoke asan bench bench-deps clean check-config install deb

all: $(BUILD)/rampartd $(BUILD)/rampartctl

# What building and running the daemon needs, nothing more.
deps:
	@scripts/install-deps.sh run

# The test tools and peers, and ClickHouse 26.7's engine (chDB, ~180 MB) for
# tests/integration/storage_newer_clickhouse.sh; `make run` does without them.
test-deps:
	@scripts/install-deps.sh test
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

$(BUILD)/rampartctl: $(BUILD)/obj/ctl/rampartctl.o $(BUILD)/librampart.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O3 -o $@ $< $(BUILD)/libdaemon.a $(BUILD)/librampart.a $(LDLIBS)

run: deps all
	$(BUILD)/rampartd -c $(CONFIG)

check-config: all
	$(BUILD)/rampartd -c $(CONFIG) --check-config

# Every test: unit tests, fuzz smoke runs, integration tests with real BIRD and ClickHouse.
test: test-deps all $(TESTS)
	@tests/structure.sh
	@tests/run-unit.sh $(BUILD)/tests
	@$(MAKE) --no-print-directory fuzz-smoke
	@tests/conformance/run.sh
	@tests/run-integration.sh
	@tests/faults/run.sh

# The module map (which module may include which) and the 900-line limit per file.
structure:
	@tests/structure.sh

# Other projects' test vectors (../shared/data/external/) through Rampart.
conformance: all
	@tests/conformance/run.sh

unit: $(TESTS)
	@tests/run-unit.sh $(BUILD)/tests

integration: test-deps all
	@tests/run-integration.sh

# Fault injection: full disk, ClickHouse killed and hung, a peer sending RFC 7606 cases.
faults: test-deps all
	@tests/faults/run.sh

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
bench-deps:
	@scripts/install-deps.sh bench

# The fast sender bench/capture_rate.sh drives (PACKET_TX_RING): a tool, not a measurement itself.
$(BUILD)/bench/capture_send: bench/capture_send.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O3 -o $@ $< $(LDLIBS)

bench: bench-deps all $(BENCHES) $(BUILD)/bench/capture_send
	@bench/run.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: the two programs, the man pages, the systemd unit,
# and the example configuration as SYSCONFDIR/rampart/rampart.yaml only when there is none (an
# operator's file is never overwritten).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/rampart
	install -m 0755 $(BUILD)/rampartd $(DESTDIR)$(SBINDIR)/rampartd
	install -m 0755 $(BUILD)/rampartctl $(DESTDIR)$(BINDIR)/rampartctl
	install -m 0644 docs/man/rampartd.8 docs/man/rampartctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/man/rampart.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|/etc/rampart/|$(SYSCONFDIR)/rampart/|g' dist/systemd/rampart.service \
		>$(DESTDIR)$(UNITDIR)/rampart.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rampart.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/rampart/rampart.yaml ]; then \
		echo "install: keeping the existing $(DESTDIR)$(SYSCONFDIR)/rampart/rampart.yaml"; \
	else \
		install -m 0644 conf/rampart.yaml $(DESTDIR)$(SYSCONFDIR)/rampart/rampart.yaml; \
		echo "install: example configuration in $(DESTDIR)$(SYSCONFDIR)/rampart/rampart.yaml"; \
	fi

# make deb: build/rampart_VERSION_ARCH.deb with dpkg-deb (the files of make install under /usr,
# the unit under /lib/systemd/system, the configuration as a conffile; postinst creates the
# rampart system user). Depends: from dpkg-shlibdeps on the two programs.
DEB_VERSION ?= $(shell git describe --tags --always 2>/dev/null | sed 's/^v//; s/^\([0-9a-f]\{7,\}\)$$/0.0~git\1/' || echo 0.0)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_ROOT := $(BUILD)/deb/root
deb: all
	@scripts/install-deps.sh deb
	rm -rf $(BUILD)/deb
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr SYSCONFDIR=/etc \
		UNITDIR=/lib/systemd/system >/dev/null
	gzip -9n $(DEB_ROOT)/usr/share/man/man5/*.5 $(DEB_ROOT)/usr/share/man/man8/*.8
	install -d $(DEB_ROOT)/DEBIAN $(DEB_ROOT)/usr/share/doc/rampart $(BUILD)/deb/debian
	install -m 0644 README.md docs/OPERATIONS.md $(DEB_ROOT)/usr/share/doc/rampart/
	install -m 0755 dist/debian/postinst dist/debian/postrm $(DEB_ROOT)/DEBIAN/
	echo /etc/rampart/rampart.yaml >$(DEB_ROOT)/DEBIAN/conffiles
	printf 'Source: rampart\n\nPackage: rampart\nArchitecture: any\n' >$(BUILD)/deb/debian/control
	cd $(BUILD)/deb && dpkg-shlibdeps -O root/usr/sbin/rampartd root/usr/bin/rampartctl >shlibs && \
		sed -n "s/^shlibs:Depends=//p" shlibs >depends && test -s depends
	sed 's|@VERSION@|$(DEB_VERSION)|; s|@ARCH@|$(DEB_ARCH)|; s|@DEPENDS@|'"$$(cat $(BUILD)/deb/depends)"'|' \
		dist/debian/control.in >$(DEB_ROOT)/DEBIAN/control
	echo "Installed-Size: $$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)" >>$(DEB_ROOT)/DEBIAN/control
	dpkg-deb --root-owner-group --build $(DEB_ROOT) $(BUILD)/rampart_$(DEB_VERSION)_$(DEB_ARCH).deb

clean:
	rm -rf build build-asan

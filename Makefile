# SPDX-License-Identifier: GPL-2.0
#
# sctls: smart-card TLS gateway.
#   make            the module (through ./Kbuild) and the userspace programs
#   make check      install what is missing, build, run every test
#   make check CHECK_STEPS="arm64 gki"   only those parts, for iterating:
#                   host amd64 rt arm64 gki android package debug (default all)
#   make demo       install what is missing, build, fetch the card's page in a VM
#   make bench      sctls against nginx, socat and the direct path, and the
#                   PC/SC and modem links against their ceilings, in the VM
#   make install    the programs, libmc3, man pages, the systemd unit, the udev
#                   rule (PREFIX, DESTDIR); make modules_install the module
#   make deb        the Debian packages, in build/deb
#   make deps       install the Debian packages all of the above need
#   make vm-shell   an interactive shell in the test VM
#   make debug-kernel  build (once, cached) the sanitizer kernel of the tests
#   make fuzz-kernel   fuzz the module in it (FUZZ_KERNEL_SECONDS, default 3600)
#   make KDIR=...   build against another kernel's build tree
#   make PCSC=0     sctlsd without PC/SC reader links, needing no pcsc-lite
#   make MBIM=0     sctlsd without MBIM modem links, needing no libmbim
#   make arm64      static arm64 programs and selftests in build/arm64 (no module)

# The kernel to build for: the running kernel's build tree when it has one,
# else the newest Debian linux-headers-*-amd64.
ifeq ($(origin KDIR),undefined)
KDIR := $(or $(wildcard /lib/modules/$(shell uname -r)/build),\
	$(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1))
endif
# The release the module's vermagic names, and so the kernel the VM boots.
KVER = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)

BUILD := $(CURDIR)/build
LINUX_TOOLS := $(BUILD)/linux-tools
KSFT_DIR := $(LINUX_TOOLS)/tools/testing/selftests
LINUX_SOURCE_TAR = $(shell ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)

CC ?= cc
CFLAGS ?= -O2 -g
# One release number for the module, the programs, the library and the
# packages (dkms.conf and debian/changelog must agree: make check checks).
VERSION := $(shell cat $(CURDIR)/VERSION)
USER_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I$(CURDIR)/uapi \
	-DSCTLS_VERSION='"$(VERSION)"'
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SELFTESTS := device_test datapath_test scale_test netlink_test security_test sctlsd_test e2e_test pcsc_test modem_test mbim_test service_test
SELFTEST_LIB := selftests/lib/module.c selftests/lib/gateway.c selftests/lib/echo.c \
	selftests/lib/control.c selftests/lib/privs.c userspace/common/frame.c userspace/sctls/nl.c
UNIT_TESTS := frame_test mc3_test mc3_thread_test bip_test at_test
# The shell tests' libraries, sourced from beside them: named as targets,
# so that make does not take them for intermediate files.
SELFTEST_SH_LIB = $(BUILD)/selftests/lib/tap.sh $(BUILD)/selftests/lib/card.sh

.PHONY: all tests module programs selftests unit-tests deps check demo bench vm-shell clean install uninstall modules_install deb \
	fuzzers fuzz debug-kernel fuzz-kernel vm-soak \
	check-after-deps demo-after-deps bench-after-deps need-kdir

BIP_SRC := $(filter-out %_test.c %_fuzz.c,$(wildcard userspace/bip/*.c))
BIP_HDR := $(wildcard userspace/bip/*.h)
AT_SRC := $(filter-out %_test.c %_fuzz.c,$(wildcard userspace/at/*.c))
AT_HDR := $(wildcard userspace/at/*.h)
# PC/SC links are two files, MBIM links two more; PCSC=0 and MBIM=0 put
# link_nopcsc.c and link_nombim.c in their place.
PCSC ?= 1
MBIM ?= 1
$(if $(filter 0 1,$(PCSC)),,$(error PCSC is 1 (the default) or 0, not '$(PCSC)'))
$(if $(filter 0 1,$(MBIM)),,$(error MBIM is 1 (the default) or 0, not '$(MBIM)'))
SCTLSD_PCSC_SRC := userspace/sctlsd/link_pcsc.c userspace/sctlsd/card_pcsc.c
SCTLSD_MBIM_SRC := userspace/sctlsd/link_mbim.c userspace/sctlsd/card_mbim.c
SCTLSD_SRC := $(filter-out $(SCTLSD_PCSC_SRC) $(SCTLSD_MBIM_SRC) %/link_nopcsc.c %/link_nombim.c,\
		$(wildcard userspace/sctlsd/*.c)) \
	userspace/common/frame.c userspace/common/stream_addr.c $(BIP_SRC) $(AT_SRC) \
	$(if $(filter 1,$(PCSC)),$(SCTLSD_PCSC_SRC),userspace/sctlsd/link_nopcsc.c) \
	$(if $(filter 1,$(MBIM)),$(SCTLSD_MBIM_SRC),userspace/sctlsd/link_nombim.c)
CARDSIM_SRC := $(wildcard userspace/cardsim/*.c) userspace/common/stream_addr.c $(BIP_SRC)
CLI_SRC := $(wildcard userspace/sctls/*.c)
# pkg-config runs when a recipe needs it: after deps on a bare machine.
PKG_CONFIG ?= pkg-config
NL_CFLAGS = $(shell $(PKG_CONFIG) --cflags libnl-genl-3.0 json-c)
NL_LIBS = $(shell $(PKG_CONFIG) --libs libnl-genl-3.0 json-c)
JSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags json-c)
JSON_LIBS = $(shell $(PKG_CONFIG) --libs json-c)
PCSC_CFLAGS = $(if $(filter 1,$(PCSC)),$(shell $(PKG_CONFIG) --cflags libpcsclite))
PCSC_LIBS = $(if $(filter 1,$(PCSC)),$(shell $(PKG_CONFIG) --libs libpcsclite))
MBIM_CFLAGS = $(if $(filter 1,$(MBIM)),$(shell $(PKG_CONFIG) --cflags mbim-glib))
MBIM_LIBS = $(if $(filter 1,$(MBIM)),$(shell $(PKG_CONFIG) --libs mbim-glib))
MC3_LIB_SRC := $(filter-out %/mc3sig.c %_test.c %_fuzz.c,$(wildcard userspace/mc3/*.c))
MC3_HDR := $(wildcard userspace/mc3/*.h)
KFUZZ := $(BUILD)/kfuzz/kfuzz
PROGRAMS := $(BUILD)/bin/sctlsd $(BUILD)/bin/cardsim $(BUILD)/bin/sctls $(BUILD)/bin/mc3sig

# Plain make: what a user runs. The tests need more (clang, the kernel's
# source for kselftest.h): make tests, or make check.
all: module programs

tests: selftests unit-tests fuzzers $(BUILD)/asan/mc3sig $(KFUZZ)

programs: $(PROGRAMS)

# The programs, and the same under ASan and UBSan for the tests.
$(BUILD)/bin/sctlsd $(BUILD)/asan/sctlsd: $(SCTLSD_SRC) $(wildcard userspace/sctlsd/*.h) \
		userspace/common/frame.h uapi/linux/sctls.h $(BIP_HDR) $(AT_HDR) $(BUILD)/.pcsc VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(PCSC_CFLAGS) $(MBIM_CFLAGS) $(JSON_CFLAGS) \
		$(if $(findstring /asan/,$@),$(SANITIZE)) $(LDFLAGS) -o $@ $(SCTLSD_SRC) \
		$(PCSC_LIBS) $(MBIM_LIBS) $(JSON_LIBS) -lpthread

# PCSC and MBIM as sctlsd was last built with, rewritten only when they
# change, so that switching either rebuilds sctlsd.
$(BUILD)/.pcsc: pcsc-changed
	@mkdir -p $(@D)
	@echo $(PCSC) $(MBIM) | cmp -s - $@ || echo $(PCSC) $(MBIM) >$@
.PHONY: pcsc-changed

need-kdir:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "No kernel build tree (KDIR='$(KDIR)'): run 'make deps' or set KDIR=" >&2; \
		exit 1; fi

module: need-kdir
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# checkpatch.pl and the kselftest headers come from Debian's linux-source
# tarball, unpacked into the build directory and never committed.
$(LINUX_TOOLS)/.stamp:
	@if [ -z "$(LINUX_SOURCE_TAR)" ]; then \
		echo "No /usr/src/linux-source-*.tar.xz: run 'make deps'" >&2; exit 1; fi
	rm -rf $(LINUX_TOOLS) && mkdir -p $(LINUX_TOOLS)
	tar -C $(LINUX_TOOLS) --strip-components=1 --wildcards -xJf $(LINUX_SOURCE_TAR) \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	touch $@

$(BUILD)/bin/cardsim $(BUILD)/asan/cardsim: $(CARDSIM_SRC) $(wildcard userspace/cardsim/*.h) \
		$(BIP_HDR) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(if $(findstring /asan/,$@),$(SANITIZE)) \
		$(LDFLAGS) -o $@ $(CARDSIM_SRC) -lssl -lcrypto

$(BUILD)/bin/sctls $(BUILD)/asan/sctls: $(CLI_SRC) $(wildcard userspace/sctls/*.h) \
		uapi/linux/sctls.h VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(NL_CFLAGS) \
		$(if $(findstring /asan/,$@),$(SANITIZE)) $(LDFLAGS) -o $@ $(CLI_SRC) $(NL_LIBS)

# libmc3: a shared library exporting only its API (mc3.h's MC3_API).
$(BUILD)/lib/libmc3.so.1: $(MC3_LIB_SRC) $(MC3_HDR) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -shared $(LDFLAGS) \
		-Wl,-soname,libmc3.so.1 -Wl,--no-undefined -o $@ $(MC3_LIB_SRC) -lcrypto
	ln -sf libmc3.so.1 $(BUILD)/lib/libmc3.so

ifeq ($(CROSS_ROOT),)
$(BUILD)/bin/mc3sig: userspace/mc3/mc3sig.c userspace/mc3/mc3.h $(BUILD)/lib/libmc3.so.1 VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) -o $@ $< -L$(BUILD)/lib -lmc3 -lcrypto \
		-Wl,-rpath,'$$ORIGIN/../lib'
else
# Static: the library's sources built in.
$(BUILD)/bin/mc3sig: userspace/mc3/mc3sig.c $(MC3_LIB_SRC) $(MC3_HDR) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) -o $@ $< $(MC3_LIB_SRC) -lcrypto
endif

# For the tests: the library's sources built in, under ASan and UBSan.
$(BUILD)/asan/mc3sig: userspace/mc3/mc3sig.c $(MC3_LIB_SRC) $(MC3_HDR) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(SANITIZE) -o $@ $< $(MC3_LIB_SRC) -lcrypto

# make arm64: the programs and the C selftests for arm64 phones, static,
# since neither Android (bionic) nor postmarketOS (musl) has a glibc to
# load; cross-built against fetch-root's Debian arm64 root by this file
# again, with CROSS_ROOT set, into build/arm64. sctlsd is made with PCSC=0
# and MBIM=0: Debian has no static pcsc-lite or libmbim, and a phone no
# pcscd; its links are at: (and the stream kinds).
ARM64_TRIPLET := aarch64-linux-gnu
.PHONY: arm64
arm64:
	@command -v $(ARM64_TRIPLET)-gcc >/dev/null || \
		{ echo "no $(ARM64_TRIPLET)-gcc: apt-get install gcc-$(ARM64_TRIPLET)" >&2; exit 1; }
	@root=$$(selftests/vm/fetch-root arm64) && \
	$(MAKE) --no-print-directory BUILD=$(BUILD)/arm64 LINUX_TOOLS=$(LINUX_TOOLS) PCSC=0 MBIM=0 \
		CROSS=$(ARM64_TRIPLET) CROSS_ROOT=$$root cross-userspace
	@echo "make arm64: ld's warnings on getaddrinfo, gethostbyname, getprotoby* and" \
		"dlopen in static programs are expected: see the Makefile"

# Static glibc, not musl: the Debian libraries we link (OpenSSL, libnl,
# json-c, libcap) are built for glibc, and glibc's and musl's ABIs differ
# (pthread and stdio types among them). ld warns that getaddrinfo,
# gethostbyname, getprotoby* and dlopen need this glibc's shared objects at
# run time. That holds only for NSS modules other than files and dns,
# which glibc 2.36 has built in, and for dlopen itself: tcp:HOST:PORT with
# HOST numeric or in /etc/hosts works on Android and postmarketOS; libnl's
# callers and libcrypto's are never reached (libcrypto's dlopen only for a
# provider module an openssl.cnf names).
# Headers and libraries come from the root alone: -nostdinc and -B keep
# out the cross toolchain's own, older libc6-dev-arm64-cross.
ifneq ($(CROSS_ROOT),)
override CC := $(CROSS)-gcc --sysroot=$(CROSS_ROOT) -B$(CROSS_ROOT)/usr/lib/$(CROSS)/ \
	-nostdinc -isystem $(shell $(CROSS)-gcc -print-file-name=include) \
	-isystem $(CROSS_ROOT)/usr/include/$(CROSS) -isystem $(CROSS_ROOT)/usr/include
USER_CFLAGS += -static
override PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(CROSS_ROOT) \
	PKG_CONFIG_LIBDIR=$(CROSS_ROOT)/usr/lib/$(CROSS)/pkgconfig:$(CROSS_ROOT)/usr/share/pkgconfig \
	pkg-config --static

.PHONY: cross-userspace
cross-userspace: $(PROGRAMS) $(SELFTESTS:%=$(BUILD)/selftests/%) $(SELFTEST_SH_LIB) \
	$(BUILD)/selftests/bench
endif

# make install: everything a user runs, beside the module (make
# modules_install, or DKMS: dkms.conf). DESTDIR stages it for a package.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
# /usr's libraries go in the multiarch directory, as Debian's do.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR ?= $(PREFIX)/lib$(if $(and $(filter /usr,$(PREFIX)),$(MULTIARCH)),/$(MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
# udev, sysusers.d and modules-load.d read /usr/lib and /etc, not /usr/local.
SYSTEM_CONF_DIR = $(if $(filter /usr,$(PREFIX)),/usr/lib,/etc)
UDEVRULESDIR ?= $(SYSTEM_CONF_DIR)/udev/rules.d
SYSUSERSDIR ?= $(SYSTEM_CONF_DIR)/sysusers.d
MODULESLOADDIR ?= $(SYSTEM_CONF_DIR)/modules-load.d
INSTALLED := $(SBINDIR)/sctlsd $(BINDIR)/sctls $(BINDIR)/cardsim $(BINDIR)/mc3sig \
	$(LIBDIR)/libmc3.so.1 $(LIBDIR)/libmc3.so $(INCLUDEDIR)/mc3/mc3.h $(LIBDIR)/pkgconfig/mc3.pc \
	$(MANDIR)/man8/sctlsd.8 $(MANDIR)/man8/sctls.8 $(MANDIR)/man1/cardsim.1 \
	$(MANDIR)/man1/mc3sig.1 $(UNITDIR)/sctlsd.service $(UDEVRULESDIR)/60-sctls.rules \
	$(SYSUSERSDIR)/sctls.conf $(MODULESLOADDIR)/sctls.conf

# The installed mc3sig finds libmc3 where the system looks, with no rpath.
$(BUILD)/install/mc3sig: userspace/mc3/mc3sig.c userspace/mc3/mc3.h $(BUILD)/lib/libmc3.so.1 VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD)/lib -lmc3 -lcrypto

install: $(BUILD)/bin/sctlsd $(BUILD)/bin/sctls $(BUILD)/bin/cardsim $(BUILD)/install/mc3sig \
		$(BUILD)/lib/libmc3.so.1
	install -D -m 0755 $(BUILD)/bin/sctlsd $(DESTDIR)$(SBINDIR)/sctlsd
	install -D -m 0755 $(BUILD)/bin/sctls $(DESTDIR)$(BINDIR)/sctls
	install -D -m 0755 $(BUILD)/bin/cardsim $(DESTDIR)$(BINDIR)/cardsim
	install -D -m 0755 $(BUILD)/install/mc3sig $(DESTDIR)$(BINDIR)/mc3sig
	install -D -m 0644 $(BUILD)/lib/libmc3.so.1 $(DESTDIR)$(LIBDIR)/libmc3.so.1
	ln -sf libmc3.so.1 $(DESTDIR)$(LIBDIR)/libmc3.so
	install -D -m 0644 userspace/mc3/mc3.h $(DESTDIR)$(INCLUDEDIR)/mc3/mc3.h
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig
	sed 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		userspace/mc3/mc3.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/mc3.pc
	install -D -m 0644 userspace/sctlsd/sctlsd.8 $(DESTDIR)$(MANDIR)/man8/sctlsd.8
	install -D -m 0644 userspace/sctls/sctls.8 $(DESTDIR)$(MANDIR)/man8/sctls.8
	install -D -m 0644 userspace/cardsim/cardsim.1 $(DESTDIR)$(MANDIR)/man1/cardsim.1
	install -D -m 0644 userspace/mc3/mc3sig.1 $(DESTDIR)$(MANDIR)/man1/mc3sig.1
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/sbin/sctlsd|$(SBINDIR)/sctlsd|; s|/etc/sctls/|$(SYSCONFDIR)/sctls/|' \
		dist/sctlsd.service >$(DESTDIR)$(UNITDIR)/sctlsd.service
	install -D -m 0644 dist/60-sctls.rules $(DESTDIR)$(UDEVRULESDIR)/60-sctls.rules
	install -D -m 0644 dist/sctls.sysusers $(DESTDIR)$(SYSUSERSDIR)/sctls.conf
	install -D -m 0644 dist/modules-load.conf $(DESTDIR)$(MODULESLOADDIR)/sctls.conf
	@# The configuration is the user's: never overwritten.
	[ -e $(DESTDIR)$(SYSCONFDIR)/sctls/sctlsd.conf ] || \
		install -D -m 0644 dist/sctlsd.conf $(DESTDIR)$(SYSCONFDIR)/sctls/sctlsd.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/modprobe.d/sctls.conf ] || \
		install -D -m 0644 dist/modprobe.conf $(DESTDIR)$(SYSCONFDIR)/modprobe.d/sctls.conf

# The configuration stays unless it is as installed.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/mc3 2>/dev/null
	! cmp -s dist/sctlsd.conf $(DESTDIR)$(SYSCONFDIR)/sctls/sctlsd.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/sctls/sctlsd.conf
	! cmp -s dist/modprobe.conf $(DESTDIR)$(SYSCONFDIR)/modprobe.d/sctls.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/modprobe.d/sctls.conf
	-rmdir $(DESTDIR)$(SYSCONFDIR)/sctls 2>/dev/null

# make deb: the Debian packages (debian/) in build/deb, from the files git
# tracks: sctls-dkms, sctlsd, sctls, sctls-tools, libmc3-1, libmc3-dev, mc3sig.
deb:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "make deb: needs a git checkout (it packages the tracked files)" >&2; exit 1; }
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/sctls-$(VERSION)
	git ls-files -z | xargs -0 cp --parents -a -t $(BUILD)/deb/sctls-$(VERSION)
	cd $(BUILD)/deb/sctls-$(VERSION) && dpkg-buildpackage -us -uc -b

# The module into /lib/modules/KVER/updates (INSTALL_MOD_PATH=DESTDIR), then
# depmod; DKMS does the same for every kernel installed later.
modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		modules_install

selftests: $(SELFTESTS:%=$(BUILD)/selftests/%) $(SELFTEST_SH_LIB) $(BUILD)/asan/sctlsd \
	$(BUILD)/asan/cardsim $(BUILD)/asan/sctls

$(BUILD)/selftests/lib/%.sh: selftests/lib/%.sh
	@mkdir -p $(@D)
	install -m 0644 $< $@

$(BUILD)/selftests/%: selftests/%.sh $(SELFTEST_SH_LIB)
	@mkdir -p $(@D)
	install -m 0755 $< $@

$(BUILD)/selftests/%: selftests/%.c $(SELFTEST_LIB) selftests/lib/*.h \
		userspace/common/frame.h userspace/sctls/nl.h uapi/linux/sctls.h \
		$(LINUX_TOOLS)/.stamp
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(NL_CFLAGS) -isystem $(KSFT_DIR) -Iselftests -o $@ \
		$< $(SELFTEST_LIB) -lcap $(NL_LIBS)

unit-tests: $(UNIT_TESTS:%=$(BUILD)/unit/%)

$(BUILD)/unit/frame_test: userspace/common/frame_test.c userspace/common/frame.c \
		userspace/common/frame.h uapi/linux/sctls.h $(LINUX_TOOLS)/.stamp
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(SANITIZE) -isystem $(KSFT_DIR) -o $@ \
		$< userspace/common/frame.c

$(BUILD)/unit/mc3_test: userspace/mc3/mc3_test.c $(MC3_LIB_SRC) $(MC3_HDR) \
		$(LINUX_TOOLS)/.stamp
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(SANITIZE) -isystem $(KSFT_DIR) -o $@ \
		$< $(MC3_LIB_SRC) -lcrypto

# ThreadSanitizer, which cannot be combined with ASan: one cache, many threads.
$(BUILD)/unit/mc3_thread_test: userspace/mc3/mc3_thread_test.c $(MC3_LIB_SRC) $(MC3_HDR) \
		$(LINUX_TOOLS)/.stamp
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) -fsanitize=thread -isystem $(KSFT_DIR) -o $@ \
		$< $(MC3_LIB_SRC) -lcrypto

$(BUILD)/unit/bip_test: userspace/bip/bip_test.c $(BIP_SRC) $(BIP_HDR) $(LINUX_TOOLS)/.stamp
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(SANITIZE) -isystem $(KSFT_DIR) -o $@ $< $(BIP_SRC)

$(BUILD)/unit/at_test: userspace/at/at_test.c $(AT_SRC) $(AT_HDR) $(LINUX_TOOLS)/.stamp
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(SANITIZE) -isystem $(KSFT_DIR) -o $@ $< $(AT_SRC)

# libFuzzer targets (clang): the MC-3 request and key-store parsers, the
# BIP parsers and the AT line parser. Each one's seed corpus is
# userspace/*/corpus/NAME.
FUZZERS := request_fuzz keystore_fuzz bip_fuzz at_fuzz
FUZZ_SECONDS ?= 300
fuzzers: $(FUZZERS:%=$(BUILD)/fuzz/%)

FUZZ_CC = clang -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
	-DSCTLS_VERSION='"$(VERSION)"' -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz/%: userspace/mc3/%.c $(MC3_LIB_SRC) $(MC3_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $< $(MC3_LIB_SRC) -lcrypto

$(BUILD)/fuzz/bip_fuzz: userspace/bip/bip_fuzz.c $(BIP_SRC) $(BIP_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $< $(BIP_SRC)

$(BUILD)/fuzz/at_fuzz: userspace/at/at_fuzz.c $(AT_SRC) $(AT_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $< $(AT_SRC)

# Longer than make check's few seconds each; the corpus grows in build/.
fuzz: $(FUZZERS:%=$(BUILD)/fuzz/%)
	@for f in $(FUZZERS); do \
		mkdir -p $(BUILD)/fuzz/corpus-$$f; \
		$(BUILD)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/corpus-$$f \
			userspace/*/corpus/$${f%_fuzz} || exit 1; \
	done

# kfuzz, the module's own fuzzer: static, so that it runs from tmpfs in the
# guest and nothing it does pages in over 9p while faults are injected.
$(KFUZZ): $(wildcard selftests/fuzz/*.c selftests/fuzz/*.h) uapi/linux/sctls.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) -static -pthread -o $@ $(filter %.c,$^)

# The sanitizer kernel: Debian's linux-source-DEBUG_SERIES with
# selftests/vm/debug.config, built once into /var/cache/sctls.
DEBUG_SERIES ?= 6.1
FUZZ_KERNEL_SECONDS ?= 3600
debug-kernel: deps
	@selftests/vm/debug-kernel $(DEBUG_SERIES) >/dev/null

fuzz-kernel: deps
	@$(MAKE) --no-print-directory selftests $(KFUZZ)
	@BUILD=$(BUILD) KFUZZ=$(KFUZZ) selftests/vm/debug-suite --no-tests \
		--fuzz-seconds $(FUZZ_KERNEL_SECONDS) $(if $(SEED),--seed $(SEED)) $(DEBUG_SERIES)

# 30 boots of each test kernel while a kernel build loads the host.
vm-soak: deps
	@selftests/vm/boot-soak --load $(KVER) $(patsubst /usr/src/linux-headers-%,%,\
		$(filter-out %$(KVER),$(wildcard /usr/src/linux-headers-*-amd64))) \
		$$(selftests/vm/debug-kernel --path $(DEBUG_SERIES) 2>/dev/null)

deps:
	@selftests/vm/deps.sh

# check and demo re-read this file after deps, so that KDIR is found on a
# machine that had no kernel headers before.
check: deps
	@$(MAKE) --no-print-directory check-after-deps

check-after-deps: all tests arm64
	@KDIR=$(KDIR) KVER=$(KVER) BUILD=$(BUILD) LINUX_TOOLS=$(LINUX_TOOLS) \
		SELFTESTS="$(SELFTESTS)" UNIT_TESTS="$(UNIT_TESTS)" FUZZERS="$(FUZZERS)" \
		DEBUG_SERIES="$(DEBUG_SERIES)" KFUZZ=$(KFUZZ) CHECK_STEPS="$(CHECK_STEPS)" \
		selftests/check.sh

demo: deps
	@$(MAKE) --no-print-directory demo-after-deps

demo-after-deps: module programs
	@selftests/vm/run --kver $(KVER) --timeout 300 -- selftests/vm/demo.sh \
		$(CURDIR)/sctls.ko $(BUILD)/bin/sctlsd $(BUILD)/bin/cardsim $(BUILD)/bin/sctls

bench: deps
	@$(MAKE) --no-print-directory bench-after-deps

bench-after-deps: module programs $(BUILD)/selftests/bench $(BUILD)/selftests/mc3_hmac_limit
	@selftests/vm/run --kver $(KVER) --timeout 900 -- selftests/vm/bench.sh \
		$(CURDIR)/sctls.ko $(BUILD)/bin/sctlsd $(BUILD)/selftests/bench
	@selftests/vm/run --kver $(KVER) --timeout 600 -- selftests/vm/pcsc_bench.sh \
		$(CURDIR)/sctls.ko $(BUILD)/bin/sctlsd $(BUILD)/bin/cardsim
	@selftests/vm/run --kver $(KVER) --timeout 900 -- selftests/vm/modem_bench.sh \
		$(CURDIR)/sctls.ko $(BUILD)/bin/sctlsd $(BUILD)/bin/cardsim
	@selftests/mc3_bench.sh $(BUILD)/bin/mc3sig $(BUILD)/selftests/mc3_hmac_limit

$(BUILD)/selftests/mc3_hmac_limit: selftests/mc3_hmac_limit.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) -o $@ $< -lcrypto

vm-shell: module selftests
	selftests/vm/run --kver $(KVER) --shell

clean:
	-[ -f "$(KDIR)/Makefile" ] && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)

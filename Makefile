# SPDX-License-Identifier: GPL-2.0
#
# sctls: smart-card TLS gateway.
#   make            the module (through ./Kbuild) and the userspace programs
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, build, fetch the card's page in a VM
#   make bench      sctls against nginx, socat and the direct path, in the VM
#   make deps       install the Debian packages all of the above need
#   make vm-shell   an interactive shell in the test VM
#   make KDIR=...   build against another kernel's build tree

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
USER_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I$(CURDIR)/uapi
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SELFTESTS := device_test datapath_test scale_test netlink_test sctlsd_test e2e_test
SELFTEST_LIB := selftests/lib/module.c selftests/lib/gateway.c selftests/lib/echo.c \
	selftests/lib/control.c selftests/lib/privs.c userspace/common/frame.c userspace/sctls/nl.c
UNIT_TESTS := frame_test

.PHONY: all module programs selftests unit-tests deps check demo bench vm-shell clean \
	check-after-deps demo-after-deps bench-after-deps need-kdir

SCTLSD_SRC := $(wildcard userspace/sctlsd/*.c) userspace/common/frame.c \
	userspace/common/stream_addr.c
CARDSIM_SRC := $(wildcard userspace/cardsim/*.c) userspace/common/stream_addr.c
CLI_SRC := $(wildcard userspace/sctls/*.c)
# pkg-config runs when a recipe needs it: after deps on a bare machine.
NL_CFLAGS = $(shell pkg-config --cflags libnl-genl-3.0 json-c)
NL_LIBS = $(shell pkg-config --libs libnl-genl-3.0 json-c)
PROGRAMS := $(BUILD)/bin/sctlsd $(BUILD)/bin/cardsim $(BUILD)/bin/sctls

all: module programs selftests unit-tests

programs: $(PROGRAMS)

# The programs, and the same under ASan and UBSan for the tests.
$(BUILD)/bin/sctlsd $(BUILD)/asan/sctlsd: $(SCTLSD_SRC) $(wildcard userspace/sctlsd/*.h) \
		userspace/common/frame.h uapi/linux/sctls.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(if $(findstring /asan/,$@),$(SANITIZE)) \
		-o $@ $(SCTLSD_SRC)

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

$(BUILD)/bin/cardsim $(BUILD)/asan/cardsim: $(CARDSIM_SRC) $(wildcard userspace/cardsim/*.h)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(if $(findstring /asan/,$@),$(SANITIZE)) \
		-o $@ $(CARDSIM_SRC) -lssl -lcrypto

$(BUILD)/bin/sctls $(BUILD)/asan/sctls: $(CLI_SRC) $(wildcard userspace/sctls/*.h) \
		uapi/linux/sctls.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CFLAGS) $(NL_CFLAGS) $(if $(findstring /asan/,$@),$(SANITIZE)) \
		-o $@ $(CLI_SRC) $(NL_LIBS)

selftests: $(SELFTESTS:%=$(BUILD)/selftests/%) $(BUILD)/asan/sctlsd $(BUILD)/asan/cardsim \
	$(BUILD)/asan/sctls

$(BUILD)/selftests/%: selftests/%.sh
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

deps:
	@selftests/vm/deps.sh

# check and demo re-read this file after deps, so that KDIR is found on a
# machine that had no kernel headers before.
check: deps
	@$(MAKE) --no-print-directory check-after-deps

check-after-deps: all
	@KDIR=$(KDIR) KVER=$(KVER) BUILD=$(BUILD) LINUX_TOOLS=$(LINUX_TOOLS) \
		SELFTESTS="$(SELFTESTS)" UNIT_TESTS="$(UNIT_TESTS)" selftests/check.sh

demo: deps
	@$(MAKE) --no-print-directory demo-after-deps

demo-after-deps: module programs
	@selftests/vm/run --kver $(KVER) --timeout 300 -- selftests/vm/demo.sh \
		$(CURDIR)/sctls.ko $(BUILD)/bin/sctlsd $(BUILD)/bin/cardsim $(BUILD)/bin/sctls

bench: deps
	@$(MAKE) --no-print-directory bench-after-deps

bench-after-deps: module programs $(BUILD)/selftests/bench
	@selftests/vm/run --kver $(KVER) --timeout 900 -- selftests/vm/bench.sh \
		$(CURDIR)/sctls.ko $(BUILD)/bin/sctlsd $(BUILD)/selftests/bench

vm-shell: module selftests
	selftests/vm/run --kver $(KVER) --shell

clean:
	-[ -f "$(KDIR)/Makefile" ] && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)

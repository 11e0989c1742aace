# gpuvm: one build of everything into build/ (build/san/ with SANITIZE=1).
#
# Layout conventions, so that adding a file needs no Makefile change:
#   gpu/sim/*.c            -> libgpusim.a
#   guest/lib/*.c          -> libgpuvm-guest.a   (guest driver + runtime + transports)
#   guest/workloads/*.c    -> linked into libgpuvm-guest.a
#   guest/tools/NAME.c     -> bin/NAME
#   gpu/host, shadow-pagetable, scheduler, mmio-trap, dom0-daemon (*.c)
#                          -> libgpuvmd.a (the daemon's parts)
#   dom0-daemon/cmd/NAME.c -> bin/NAME (gpuvmd, gpuvmctl)
#   benchmarks/NAME/*.c    -> bench/NAME (one program per folder)
#   tests/DIR/test_*.c     -> tests/DIR/test_* (one cmocka program each);
#   tests/DIR/util_*.c and tests/common/*.c are linked into every test of DIR.

-include config.mk

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT ?= -O1 -g
else
BUILD ?= build
SAN_FLAGS :=
OPT ?= -O2 -g
endif

CC ?= cc
CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	-D_GNU_SOURCE -Iinclude -Igpu/sim -Iguest/include -Idom0-daemon -Igpu/host \
	-Ishadow-pagetable -Ischeduler -Immio-trap -pthread
CFLAGS_ALL = $(CFLAGS_BASE) $(OPT) $(SAN_FLAGS) $(CMOCKA_CFLAGS) $(JSONC_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = -pthread $(SAN_FLAGS) $(LDFLAGS)
LIBS_ALL = $(JSONC_LIBS) -lm

SIM_SRC := $(wildcard gpu/sim/*.c)
GUEST_SRC := $(wildcard guest/lib/*.c guest/workloads/*.c)
TOOL_SRC := $(wildcard guest/tools/*.c)
DAEMON_SRC := $(wildcard gpu/host/*.c shadow-pagetable/*.c scheduler/*.c mmio-trap/*.c dom0-daemon/*.c)
DAEMON_CMD_SRC := $(wildcard dom0-daemon/cmd/*.c)
BENCH_DIRS := $(patsubst benchmarks/%/,%,$(sort $(dir $(wildcard benchmarks/*/*.c))))
TEST_DIRS := $(filter-out common,$(patsubst tests/%/,%,$(sort $(dir $(wildcard tests/*/test_*.c)))))
TEST_SRC := $(wildcard tests/*/test_*.c)
COMMON_TEST_SRC := $(wildcard tests/common/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBGPUSIM := $(BUILD)/lib/libgpusim.a
LIBGUEST := $(BUILD)/lib/libgpuvm-guest.a
LIBGPUVMD := $(BUILD)/lib/libgpuvmd.a
LIBS_OURS := $(LIBGPUVMD) $(LIBGUEST) $(LIBGPUSIM)
TOOLS := $(patsubst guest/tools/%.c,$(BUILD)/bin/%,$(TOOL_SRC)) \
	$(patsubst dom0-daemon/cmd/%.c,$(BUILD)/bin/%,$(DAEMON_CMD_SRC))
BENCHES := $(patsubst %,$(BUILD)/bench/%,$(BENCH_DIRS))
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

# ---- Xen backend (mmio-trap/xen/, docs/xen-backend.md) ----------------------------
# xen_vpci.c and xen_ioreq_decode.c are pure logic, always built (tests/xen_unit
# runs them without Xen); the other mmio-trap/xen/*.c call libxen and are built
# only when configure found it (HAVE_XEN := yes in config.mk).  Then
# GPUVM_HAVE_XEN makes daemon.c offer `--backend xen`, and XEN_LIBS is linked
# into every program that links libgpuvmd.a (gpuvmd, the tests).
XEN_LOGIC_SRC := mmio-trap/xen/xen_vpci.c mmio-trap/xen/xen_ioreq_decode.c
XEN_SYS_SRC := $(filter-out $(XEN_LOGIC_SRC),$(wildcard mmio-trap/xen/*.c))
ifeq ($(HAVE_XEN),yes)
XEN_SRC := $(XEN_LOGIC_SRC) $(XEN_SYS_SRC)
CFLAGS_BASE += -DGPUVM_HAVE_XEN
$(call obj,$(XEN_SYS_SRC)): CFLAGS_ALL += $(XEN_CFLAGS)
LIBS_ALL += $(XEN_LIBS)
else
XEN_SRC := $(XEN_LOGIC_SRC)
endif
$(LIBGPUVMD): $(call obj,$(XEN_SRC))
.DEFAULT_GOAL := all
# Objects reached through chains of pattern rules (tests, tools) are kept, not
# deleted as intermediates: the next make then rebuilds only what changed.
.SECONDARY:
# ---- end of the Xen backend block -----------------------------------------------

.PHONY: all check check-all check-valgrind check-xen check-xen-patches demo bench clean distclean
all: $(LIBS_OURS) $(TOOLS) $(BENCHES) $(TESTS)

config.mk:
	./configure

$(BUILD)/obj/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIBGPUSIM): $(call obj,$(SIM_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBGUEST): $(call obj,$(GUEST_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(LIBGPUVMD): $(call obj,$(DAEMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(BUILD)/bin/%: $(BUILD)/obj/dom0-daemon/cmd/%.o $(LIBS_OURS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

$(BUILD)/bin/%: $(BUILD)/obj/guest/tools/%.o $(LIBS_OURS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

define bench_rule
$(BUILD)/bench/$(1): $(call obj,$(wildcard benchmarks/$(1)/*.c)) $(LIBS_OURS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(LIBS_ALL)
endef
$(foreach b,$(BENCH_DIRS),$(eval $(call bench_rule,$(b))))

define test_rule
$(BUILD)/tests/$(1)/%: $(BUILD)/obj/tests/$(1)/%.o $(call obj,$(wildcard tests/$(1)/util_*.c) $(COMMON_TEST_SRC)) $(LIBS_OURS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(CMOCKA_LIBS) $$(LIBS_ALL)
endef
$(foreach d,$(TEST_DIRS),$(eval $(call test_rule,$(d))))

# Run every test program; each prints cmocka's summary.  Fails if any fails.
# End-to-end tests start the real programs: they find them through GPUVM_BIN.
check: $(TESTS) $(TOOLS)
	@fail=0; for t in $(TESTS); do \
		echo "== $$t"; \
		if ! GPUVM_BIN=$(abspath $(BUILD)/bin) $$t; then fail=1; echo "FAILED: $$t"; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "make check: some tests failed"; exit 1; fi; \
	echo "make check: all test programs passed"

# The daemon-side tests again under valgrind (memory errors and definite leaks
# fail).  test_daemon is left out: it forks children that switch credentials
# and measures socket back-pressure, neither of which survives valgrind's
# one-thread-at-a-time pace; its code paths run under ASan in check SANITIZE=1.
VALGRIND_TESTS := $(filter-out $(BUILD)/tests/daemon/test_daemon, \
	$(filter $(BUILD)/tests/vgpu/% $(BUILD)/tests/daemon/% $(BUILD)/tests/trap/%,$(TESTS)))
check-valgrind: $(VALGRIND_TESTS) $(TOOLS)
	@fail=0; for t in $(VALGRIND_TESTS); do \
		echo "== valgrind $$t"; \
		if ! GPUVM_BIN=$(abspath $(BUILD)/bin) valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite --show-leak-kinds=definite $$t; then \
			fail=1; echo "FAILED: valgrind $$t"; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "make check-valgrind: some tests failed"; exit 1; fi; \
	echo "make check-valgrind: all test programs passed"

# ---- End-to-end tests on real Xen 4.17 under qemu (tests/xen/) ----------------
# Boots Xen with a dom0 running gpuvmd --backend xen and PVH/HVM guests that run
# the workloads through the pci: transport; a busybox guest needs the guest
# tools linked statically; the xl-vgpu scenario the patched xl.  XT_SCENARIOS
# picks scenarios (default: all five).
STATIC_TOOLS := $(patsubst guest/tools/%.c,$(BUILD)/static/%,$(TOOL_SRC))
$(BUILD)/static/%: $(BUILD)/obj/guest/tools/%.o $(LIBGUEST) $(LIBGPUSIM)
	@mkdir -p $(dir $@)
	$(CC) -static $(LDFLAGS_ALL) -o $@ $^ -lm
XT_WORK ?= $(BUILD)/xen-test
# The patched xl (xen-patches/) for the xl-vgpu scenario; built once, cached.
XL_WORK ?= $(BUILD)/xen-xl
$(XL_WORK)/out/xen-init-dom0:
	xen-patches/build-xl.sh $(XL_WORK)
check-xen: $(STATIC_TOOLS) $(TOOLS) $(XL_WORK)/out/xen-init-dom0
	@test "$(HAVE_XEN)" = yes || { echo "check-xen: gpuvmd was built without the Xen backend" \
		"(configure did not find libxen-dev; see docs/xen-backend.md)"; exit 1; }
	@test "$(SANITIZE)" = 0 || { echo "check-xen: not with SANITIZE=1 (static guest tools)"; exit 1; }
	tests/xen/run-xen-tests.sh --work $(XT_WORK) --bin $(BUILD)/bin --static $(BUILD)/static \
		--xl $(XL_WORK)/out $(XT_SCENARIOS)

# The xl/libxl patch series (xen-patches/): build the patched xl from Debian's
# Xen source and check its vgpu= key and its gpuvmd client without Xen.
check-xen-patches: $(TOOLS)
	REQUIRE_GPUVMD=1 GPUVM_BIN=$(abspath $(BUILD)/bin) xen-patches/check.sh $(XL_WORK)

# Everything CI runs: the tests, the same tests under ASan+UBSan, the
# daemon-side tests under valgrind, the scenarios on real Xen under qemu and
# the check of the xl patch series.
check-all:
	$(MAKE) check
	$(MAKE) check SANITIZE=1
	$(MAKE) check-valgrind
	$(MAKE) check-xen-patches
	$(MAKE) check-xen

# gpuvm-fairness is the fairness benchmark under the name users type.
$(BUILD)/bin/gpuvm-fairness: $(BUILD)/bench/fairness
	@mkdir -p $(dir $@)
	ln -sf ../bench/fairness $@
all: $(BUILD)/bin/gpuvm-fairness

# The main job: gpuvmd on gpusim with four VMs (1 ms and 10 ms kernels)
# under the credit scheduler; prints shares, Jain's index, utilization and
# overhead, and writes a plot to build/fairness/.
demo: $(TOOLS) $(BUILD)/bin/gpuvm-fairness
	$(BUILD)/bin/gpuvm-fairness

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build

distclean: clean
	rm -f config.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

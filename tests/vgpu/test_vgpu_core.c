/*
 * The vGPU core driven directly through vgpu_mmio(): virtual registers,
 * PRAMIN confinement, shadow page tables, shadow channels, submissions,
 * fault routing and the isolation checker, with gpusim's audit as an
 * independent oracle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "util_vguest.h"

static void assert_isolated(struct vguest *g)
{
	char why[256] = "";

	if (host_check_isolation(g->host, why, sizeof(why)))
		fail_msg("isolation: %s", why);
	assert_int_equal(gpusim_audit_total(g->sim), 0);
}

static int setup(void **state)
{
	static struct vguest g;

	if (vg_setup(&g, "vm1", 64))
		return -1;
	gpusim_audit_mode(g.sim, GPUSIM_AUDIT_COUNT);
	*state = &g;
	return 0;
}

static int teardown(void **state)
{
	vg_teardown(*state);
	return 0;
}

static void test_virtual_registers(void **state)
{
	struct vguest *g = *state;
	struct vgpu_info info;

	assert_int_equal(vg_rd32(g->v, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
	assert_int_equal(vg_rd32(g->v, NV_PFB_PARTS) * vg_rd32(g->v, NV_PFB_PART_MIB), 64);
	/* Unknown and host-only registers are denied, not passed through. */
	assert_int_equal(vg_rd32(g->v, 0x00a000), 0);
	vg_wr32(g->v, 0x040000, 0xdeadbeef);
	vg_wr32(g->v, NV_MMU_CTRL, NV_MMU_CTRL_BYPASS);
	assert_int_equal(vg_rd32(g->v, NV_MMU_CTRL) & NV_MMU_CTRL_BYPASS, 0);
	assert_int_equal(gpu_rd32(gpusim_hw(g->sim), NV_MMU_CTRL) & NV_MMU_CTRL_BYPASS, 0);
	vgpu_get_info(g->v, &info);
	assert_int_equal(info.denied, 2);
}

static void test_channel_runs_and_is_isolated(void **state)
{
	struct vguest *g = *state;
	struct vgpu_info info;

	vg_init_vm(g->v);
	vg_chan_init(g->v, 0, 1);
	vg_release(g, 0, 0x1234);
	assert_true(vg_wait(g->v, 0, 0x1234));
	vg_release(g, 0, 0x1235);
	assert_true(vg_wait(g->v, 0, 0x1235));
	vgpu_get_info(g->v, &info);
	assert_int_equal(info.channels_bound, 1);
	assert_int_equal(info.submissions, 2);
	/* GP_GET as the guest reads it advances once the work has retired. */
	assert_true(vg_poll_bar(g->v, 1, VG_USERD(0) + NV_USERD_GP_GET, 2));
	assert_isolated(g);
}

static void test_pramin_confined(void **state)
{
	struct vguest *g = *state, g2;
	struct vgpu_info before, after;

	assert_int_equal(vg_add(g, &g2, "vm2", 64), 0);
	vg_pwr32(g2.v, 0x1000, 0xfeedf00d);
	vgpu_get_info(g->v, &before);
	/* vm1 aims its window just past its partition: that is vm2's VRAM. */
	vg_wr32(g->v, NV_PBUS_PRAMIN_BASE, (64u << 20) >> 16);
	assert_int_equal(vg_rd32(g->v, NV_PRAMIN_WINDOW + 0x1000), 0);
	vg_wr32(g->v, NV_PRAMIN_WINDOW + 0x1000, 0x0badbad0);
	assert_int_equal(vg_prd32(g2.v, 0x1000), 0xfeedf00d);
	vgpu_get_info(g->v, &after);
	assert_true(after.denied >= before.denied + 2);
	assert_isolated(g);
	vgpu_destroy(g2.v);
}

static void test_foreign_pte_rejected_and_faults(void **state)
{
	struct vguest *g = *state, g2;
	struct vgpu_info info;

	assert_int_equal(vg_add(g, &g2, "vm2", 64), 0);
	vg_init_vm(g2.v);
	vg_chan_init(g2.v, 0, 1);
	vg_init_vm(g->v);
	vg_chan_init(g->v, 0, 1);
	/* vm1 points its semaphore page at guest physical 100 MiB: beyond its 64 MiB. */
	vg_map_raw(g->v, VG_SEM_VA, nv_pte_vram(100ull << 20, 0));
	vg_flush(g->v, VG_PD);
	vgpu_get_info(g->v, &info);
	assert_true(info.pte_rejected >= 1);
	vg_release(g, 0, 7);
	/* The release faults: vm1 sees the fault, vm2 does not and keeps working. */
	assert_true(vg_poll_reg(g->v, NV_PFIFO_INTR, NV_PFIFO_INTR_VM_FAULT, NV_PFIFO_INTR_VM_FAULT));
	assert_int_equal(NV_FAULT_FLAGS_CHID(vg_rd32(g->v, NV_PFIFO_FAULT(NV_FAULT_UNIT_PFIFO) + NV_FAULT_FLAGS)), 0);
	assert_int_equal(vg_rd32(g2.v, NV_PFIFO_INTR) & NV_PFIFO_INTR_VM_FAULT, 0);
	vg_release(&g2, 0, 99);
	assert_true(vg_wait(g2.v, 0, 99));
	assert_isolated(g);
	vgpu_destroy(g2.v);
}

static void test_foreign_channel_ids_denied(void **state)
{
	struct vguest *g = *state;
	struct vgpu_info before, after;

	vg_init_vm(g->v);
	vg_chan_init(g->v, 0, 1);
	vgpu_get_info(g->v, &before);
	/* Channel 100 does not exist for an 8-channel vGPU. */
	vg_wr32(g->v, NV_PFIFO_CHAN_INST(100), NV_CHAN_INST_VALID | 0x40);
	vg_pwr32(g->v, VG_RUNLIST + 8, 100);
	vg_wr32(g->v, NV_PFIFO_RUNLIST_SUBMIT, 2);
	vg_wr32(g->v, NV_PFIFO_PREEMPT, 120);
	vgpu_get_info(g->v, &after);
	assert_int_equal(after.channels_bound, 1);
	assert_true(after.denied >= before.denied + 3);
	/* An instance block outside the partition is refused too. */
	vg_wr32(g->v, NV_PFIFO_CHAN_INST(1), NV_CHAN_INST_VALID | (uint32_t)((128ull << 20) >> 12));
	vgpu_get_info(g->v, &after);
	assert_int_equal(after.channels_bound, 1);
	vg_release(g, 0, 5);
	assert_true(vg_wait(g->v, 0, 5));
	assert_isolated(g);
}

static void test_shadow_is_lazy(void **state)
{
	struct vguest *g = *state;
	struct vgpu_info a, b, c;

	vg_init_vm(g->v);
	vg_chan_init(g->v, 0, 1);
	vgpu_get_info(g->v, &a);
	/* Writes to a page table only mark it dirty ... */
	vg_map(g->v, 0x3f0000, 0x3f0000, NV_SPAGE_SIZE);
	vgpu_get_info(g->v, &b);
	assert_int_equal(b.reshadows, a.reshadows);
	/* ... the flush rebuilds just the dirty page of the table. */
	vg_flush(g->v, VG_PD);
	vgpu_get_info(g->v, &c);
	assert_true(c.reshadows > b.reshadows);
	assert_true(c.reshadows - b.reshadows <= 2);
	assert_isolated(g);
}

static void test_reset_frees_channels_and_scrubs(void **state)
{
	struct vguest *g = *state;
	struct vgpu_info info;

	vg_init_vm(g->v);
	vg_chan_init(g->v, 0, 1);
	vg_pwr32(g->v, VG_DATA, 0x5ec7e7);
	vgpu_reset(g->v);
	vgpu_get_info(g->v, &info);
	assert_int_equal(info.channels_bound, 0);
	assert_int_equal(vg_prd32(g->v, VG_DATA), 0);
	for (unsigned ch = 0; ch < NV_PFIFO_CHANNELS; ch++)
		assert_int_equal(gpu_rd32(gpusim_hw(g->sim), NV_PFIFO_CHAN_INST(ch)) & NV_CHAN_INST_VALID, 0);
	assert_isolated(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_virtual_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_runs_and_is_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pramin_confined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_pte_rejected_and_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_channel_ids_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_is_lazy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_frees_channels_and_scrubs, setup, teardown),
	};

	return cmocka_run_group_tests_name("vgpu_core", tests, NULL, NULL);
}

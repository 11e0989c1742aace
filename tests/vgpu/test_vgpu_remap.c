/*
 * Upkeep of the remap table in full mode: the guest writes its BAR1 tables
 * through trapped accesses and flushes, binds channels, and the daemon keeps
 * each entry equal to a recomputation from scratch (tests/common/remap_ref.c,
 * and vgpu_remap_verify() from the daemon's own shadow) without ever
 * exposing a tracked page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "../common/remap_ref.h"
#include "util_vguest.h"
#include "vgpu_internal.h"

#define PAGE(g)         ((uint32_t)((g) >> NV_SPAGE_SHIFT))
#define VG_LPT          0x140000ull     /* large-page table for PDE 0 (8 KiB) */
#define PDE1_SPT_A      0x240000ull     /* small-page tables for PDE 1, inside */
#define PDE1_SPT_B      0x300000ull     /* the identity-mapped first 4 MiB */

static void assert_remap(struct vguest *g)
{
	char why[256] = "";

	if (remap_ref_check(g->v, why, sizeof(why)))
		fail_msg("reference: %s", why);
	if (vgpu_remap_verify(g->v, why, sizeof(why)))
		fail_msg("verify: %s", why);
	if (host_check_isolation(g->host, why, sizeof(why)))
		fail_msg("isolation: %s", why);
	assert_int_equal(gpusim_audit_total(g->sim), 0);
}

static uint32_t entry(struct vguest *g, uint32_t bar1_page)
{
	return __atomic_load_n(&g->v->bar1.remap[bar1_page], __ATOMIC_ACQUIRE);
}

static void assert_identity(struct vguest *g, uint64_t gphys)
{
	assert_int_equal(entry(g, PAGE(gphys)), PAGE(gphys) + 1);
}

static int setup(void **state)
{
	static struct vguest g;

	if (vg_setup(&g, "vm1", 64))
		return -1;
	gpusim_audit_mode(g.sim, GPUSIM_AUDIT_COUNT);
	vg_init_vm(g.v);
	*state = &g;
	return 0;
}

static int teardown(void **state)
{
	vg_teardown(*state);
	return 0;
}

/* PDE word writes go through PRAMIN: the directory is tracked. */
static void set_pde(struct vgpu *v, unsigned pde, bool small, uint64_t table)
{
	vg_pwr32(v, VG_PD + pde * 8 + (small ? 4 : 0), table ? nv_pde_word(table, NV_APER_VRAM) : 0);
}

static void set_lpte(struct vgpu *v, unsigned i, uint64_t pte)
{
	vg_pwr32(v, VG_LPT + i * 8, (uint32_t)pte);
	vg_pwr32(v, VG_LPT + i * 8 + 4, (uint32_t)(pte >> 32));
}

/* vg_init_vm maps the first 4 MiB onto itself, BAR1 included; tracked pages trap. */
static void test_identity_map(void **state)
{
	struct vguest *g = *state;

	assert_identity(g, VG_DATA);
	assert_identity(g, VG_RING_VA);
	assert_int_equal(entry(g, PAGE(VG_PD)), 0);
	assert_int_equal(entry(g, PAGE(VG_SPT)), 0);
	assert_int_equal(entry(g, PAGE(VG_SPT) + 63), 0);
	assert_identity(g, VG_SPT + (64u << 12));
	assert_int_equal(entry(g, PAGE(VG_BAR_INST)), 0);
	assert_int_equal(entry(g, PAGE(4u << 20)), 0);     /* past the mapping */
	assert_remap(g);
}

static void test_map_unmap_ranges(void **state)
{
	struct vguest *g = *state;
	uint32_t va = 0x800000, gp = 0x1000000;

	vg_map(g->v, va, gp, 16 * NV_SPAGE_SIZE);
	vg_flush(g->v, VG_PD);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(entry(g, PAGE(va) + i), PAGE(gp) + i + 1);
	assert_remap(g);
	/* A hole in the middle; its neighbours stay. */
	for (uint32_t i = 6; i < 10; i++)
		vg_map_raw(g->v, va + i * NV_SPAGE_SIZE, 0);
	vg_flush(g->v, VG_PD);
	assert_int_equal(entry(g, PAGE(va) + 5), PAGE(gp) + 6);
	for (uint32_t i = 6; i < 10; i++)
		assert_int_equal(entry(g, PAGE(va) + i), 0);
	assert_int_equal(entry(g, PAGE(va) + 10), PAGE(gp) + 11);
	assert_remap(g);
	/* Rejected PTEs never reach the table: system memory, outside the partition. */
	vg_map_raw(g->v, va, nv_pte_vram(gp, 0) | (2ull << NV_PTE_APER_SHIFT));
	vg_map_raw(g->v, va + NV_SPAGE_SIZE, nv_pte_vram(64ull << 20, 0));
	vg_flush(g->v, VG_PD);
	assert_int_equal(entry(g, PAGE(va)), 0);
	assert_int_equal(entry(g, PAGE(va) + 1), 0);
	assert_remap(g);
}

/* Large pages, and small pages over them (the small PTE wins). */
static void test_large_pages(void **state)
{
	struct vguest *g = *state;
	uint32_t lp = 40, first = lp * 32;          /* BAR pages of large page 40: 5 MiB */

	set_pde(g->v, 0, false, VG_LPT);
	set_lpte(g->v, lp, nv_pte_vram(0x2000000, 0));
	vg_flush(g->v, VG_PD);
	for (uint32_t i = 0; i < 32; i++)
		assert_int_equal(entry(g, first + i), PAGE(0x2000000) + i + 1);
	assert_int_equal(entry(g, PAGE(VG_LPT)), 0);        /* the new table is tracked */
	assert_int_equal(entry(g, PAGE(VG_LPT) + 1), 0);
	assert_remap(g);
	vg_map(g->v, (uint64_t)(first + 5) << 12, 0x3000000, NV_SPAGE_SIZE);
	vg_flush(g->v, VG_PD);
	assert_int_equal(entry(g, first + 5), PAGE(0x3000000) + 1);
	assert_int_equal(entry(g, first + 6), PAGE(0x2000000) + 7);
	vg_map_raw(g->v, (uint64_t)(first + 5) << 12, 0);
	vg_flush(g->v, VG_PD);
	assert_int_equal(entry(g, first + 5), PAGE(0x2000000) + 6);
	set_lpte(g->v, lp, 0);
	vg_flush(g->v, VG_PD);
	for (uint32_t i = 0; i < 32; i++)
		assert_int_equal(entry(g, first + i), 0);
	set_pde(g->v, 0, false, 0);
	vg_flush(g->v, VG_PD);
	assert_identity(g, VG_LPT);                         /* untracked again */
	assert_remap(g);
}

/* A page table placed in BAR-mapped pages takes them out of the table until freed. */
static void test_table_inside_mapped_pages(void **state)
{
	struct vguest *g = *state;

	assert_identity(g, PDE1_SPT_A);
	set_pde(g->v, 1, true, PDE1_SPT_A);
	vg_flush(g->v, VG_PD);
	for (uint32_t i = 0; i < NV_SPT_SIZE / NV_SPAGE_SIZE; i++)
		assert_int_equal(entry(g, PAGE(PDE1_SPT_A) + i), 0);
	assert_identity(g, PDE1_SPT_A - NV_SPAGE_SIZE);
	assert_identity(g, PDE1_SPT_A + NV_SPT_SIZE);
	assert_remap(g);
	/* Moved elsewhere: the old pages come back, the new ones go. */
	set_pde(g->v, 1, true, PDE1_SPT_B);
	vg_flush(g->v, VG_PD);
	assert_identity(g, PDE1_SPT_A);
	assert_int_equal(entry(g, PAGE(PDE1_SPT_B)), 0);
	assert_remap(g);
	set_pde(g->v, 1, true, 0);
	vg_flush(g->v, VG_PD);
	assert_identity(g, PDE1_SPT_B);
	assert_remap(g);
}

/* Instance block and USERD are tracked from the bind on, not just after the next access. */
static void test_channel_bind_unbind(void **state)
{
	struct vguest *g = *state;

	vg_chan_init(g->v, 0, 1);
	assert_int_equal(entry(g, PAGE(VG_INST(0))), 0);
	assert_int_equal(entry(g, PAGE(VG_USERD(0))), 0);
	assert_identity(g, VG_INST(1));
	assert_remap(g);
	vg_chan_init(g->v, 1, 2);
	assert_int_equal(entry(g, PAGE(VG_INST(1))), 0);
	assert_remap(g);
	vg_wr32(g->v, NV_PFIFO_CHAN_INST(0), 0);
	assert_identity(g, VG_INST(0));
	assert_identity(g, VG_USERD(0));
	assert_int_equal(entry(g, PAGE(VG_INST(1))), 0);
	assert_remap(g);
	vg_wr32(g->v, NV_PFIFO_CHAN_INST(1), 0);
	assert_identity(g, VG_INST(1));
	assert_remap(g);
}

static void test_opt_and_mode_switch(void **state)
{
	struct vguest *g = *state;

	vg_map(g->v, 0x900000, 0x1800000, 8 * NV_SPAGE_SIZE);
	vg_flush(g->v, VG_PD);
	vgpu_set_opts(g->v, -1, 0);
	assert_int_equal(entry(g, PAGE(VG_DATA)), 0);
	assert_int_equal(entry(g, PAGE(0x900000)), 0);
	assert_remap(g);
	/* Without remapping, changes keep every entry 0. */
	vg_map(g->v, 0xa00000, 0x1900000, NV_SPAGE_SIZE);
	vg_flush(g->v, VG_PD);
	assert_int_equal(entry(g, PAGE(0xa00000)), 0);
	assert_remap(g);
	vgpu_set_opts(g->v, -1, 1);
	assert_identity(g, VG_DATA);
	assert_int_equal(entry(g, PAGE(0xa00000)), PAGE(0x1900000) + 1);
	assert_remap(g);
	/* A mode switch leaves the guest's BAR VM and its table as they are. */
	assert_int_equal(vgpu_set_mode(g->v, VGPU_MODE_PV), 0);
	assert_int_equal(g->v->cfg.mode, VGPU_MODE_PV);
	assert_int_equal(entry(g, PAGE(0x900000)), PAGE(0x1800000) + 1);
	assert_remap(g);
	assert_int_equal(vgpu_set_mode(g->v, VGPU_MODE_FULL), 0);
	assert_remap(g);
}

/* Rebinding BAR1 to another VM replaces its entries; unbinding and reset clear them. */
static void test_bar_rebind_and_reset(void **state)
{
	struct vguest *g = *state;
	uint64_t inst2 = 0x1b0000, pd2 = 0x1a0000, spt2 = 0x1c0000;

	vg_pwr32(g->v, pd2 + 4, nv_pde_word(spt2, NV_APER_VRAM));
	vg_pwr32(g->v, spt2 + 7 * 8, (uint32_t)nv_pte_vram(0x3f0000, 0));
	vg_pwr32(g->v, inst2 + NV_INST_PD_LO, (uint32_t)pd2);
	vg_wr32(g->v, NV_PBUS_BAR1_INST, NV_PBUS_BAR_VM | (uint32_t)(inst2 >> 12));
	assert_int_equal(entry(g, 7), PAGE(0x3f0000) + 1);
	assert_int_equal(entry(g, PAGE(VG_DATA)), 0);
	assert_remap(g);
	vg_wr32(g->v, NV_PBUS_BAR1_INST, 0);
	assert_int_equal(entry(g, 7), 0);
	assert_remap(g);
	vg_wr32(g->v, NV_PBUS_BAR1_INST, NV_PBUS_BAR_VM | (uint32_t)(VG_BAR_INST >> 12));
	assert_identity(g, VG_DATA);
	assert_remap(g);
	vgpu_reset(g->v);
	assert_int_equal(entry(g, PAGE(VG_DATA)), 0);
	assert_remap(g);
}

/* ---- a random sequence against the recomputation ----------------------------------------- */

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)rand() % n;
}

static void random_small_map(struct vgpu *v)
{
	uint32_t va_page = rnd(2048), n = 1 + rnd(24), gpage = rnd(PAGE(64u << 20) - n);

	/* A third of the ranges are unmaps; targets anywhere, tracked pages included. */
	if (rnd(3) == 0) {
		for (uint32_t i = 0; i < n; i++)
			vg_map_raw(v, (uint64_t)(va_page + i) << 12, 0);
	} else {
		vg_map(v, (uint64_t)va_page << 12, (uint64_t)gpage << 12, (uint64_t)n << 12);
	}
}

/* One PTE in each of many table pages: more dirty pages than a sync lists one by one. */
static void random_scatter(struct vgpu *v)
{
	uint32_t table_pages = NV_SPT_SIZE / NV_SPAGE_SIZE, first = rnd(table_pages);

	for (uint32_t k = 0; k < 24; k++) {
		uint32_t va_page = (first + k) % table_pages * (NV_SPAGE_SIZE / 8) + rnd(NV_SPAGE_SIZE / 8);

		vg_map_raw(v, (uint64_t)va_page << 12, rnd(4) ? nv_pte_vram((uint64_t)rnd(PAGE(64u << 20)) << 12, 0) : 0);
	}
}

static void random_large_map(struct vgpu *v)
{
	uint32_t lp = rnd(64);

	set_lpte(v, lp, rnd(3) ? nv_pte_vram((uint64_t)rnd(512) << NV_LPAGE_SHIFT, 0) : 0);
}

static void random_pde1(struct vgpu *v)
{
	static const uint64_t tables[] = { 0, PDE1_SPT_A, PDE1_SPT_B };

	set_pde(v, 1, true, tables[rnd(3)]);
}

static void random_channel(struct vgpu *v)
{
	unsigned c = rnd(2);

	if (vg_rd32(v, NV_PFIFO_CHAN_INST(c)) & NV_CHAN_INST_VALID)
		vg_wr32(v, NV_PFIFO_CHAN_INST(c), 0);
	else
		vg_chan_init(v, c, 2);
}

static void random_step(struct vguest *g)
{
	uint32_t op = rnd(22);

	if (op < 10)
		random_small_map(g->v);
	else if (op < 12)
		random_scatter(g->v);
	else if (op < 15)
		random_large_map(g->v);
	else if (op < 17)
		random_pde1(g->v);
	else if (op < 20)
		random_channel(g->v);
	else if (op < 21)
		vgpu_set_opts(g->v, -1, rnd(4) != 0);
	else
		vgpu_set_opts(g->v, rnd(2), -1);       /* lazy off: every flush re-translates all */
}

static void test_random_sequence(void **state)
{
	struct vguest *g = *state;

	srand(4242);
	set_pde(g->v, 0, false, VG_LPT);
	for (unsigned step = 0; step < 150; step++) {
		char why[256] = "";

		random_step(g);
		/* Some changes pile up before a flush, as a driver's do. */
		if (rnd(3) == 0)
			continue;
		vg_flush(g->v, VG_PD);
		if (remap_ref_check(g->v, why, sizeof(why)) || vgpu_remap_verify(g->v, why, sizeof(why)) ||
		    host_check_isolation(g->host, why, sizeof(why)))
			fail_msg("step %u: %s", step, why);
	}
	vgpu_set_opts(g->v, 1, 1);
	vg_flush(g->v, VG_PD);
	assert_remap(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_unmap_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_inside_mapped_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_bind_unbind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opt_and_mode_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_rebind_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_sequence, setup, teardown),
	};

	return cmocka_run_group_tests_name("vgpu_remap", tests, NULL, NULL);
}

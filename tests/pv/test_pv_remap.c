/*
 * Upkeep of the remap table in pv mode: BAR_MAP/BAR_UNMAP ranges of small
 * and large pages on BAR1 and BAR3, PV channels whose instance block and
 * USERD lie in BAR-mapped pages, switches, and a random sequence, each
 * followed by a comparison of every entry with a recomputation from scratch
 * (tests/common/remap_ref.c, and vgpu_remap_verify() from the daemon's own
 * shadow).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/remap_ref.h"
#include "util_pv.h"
#include "vgpu_internal.h"

#define PAGE(g)         ((uint32_t)((g) >> NV_SPAGE_SHIFT))
#define BAR1_LPT        0x080000ull     /* BAR1's large-page table for PDE 0 */
#define BAR3_INST       0x009000ull
#define BAR3_PD         0x020000ull
#define BAR3_SPT        0x0c0000ull
#define CH_INST         0x200000ull
#define CH_USERD        0x210000ull
#define CH_RING         0x220000ull
#define CH_VA           0x10000000ull
#define DATA            0x800000ull

static void assert_remap(struct pvg *g)
{
	char why[256] = "";

	if (remap_ref_check(g->v, why, sizeof(why)))
		fail_msg("reference: %s", why);
	if (vgpu_remap_verify(g->v, why, sizeof(why)))
		fail_msg("verify: %s", why);
	if (!pvg_isolated(g, why, sizeof(why)))
		fail_msg("isolation: %s", why);
	assert_int_equal(gpusim_audit_total(g->sim), 0);
}

static void mem_wr32(struct pvg *g, uint64_t at, uint32_t val)
{
	memcpy(g->v->mem + at, &val, sizeof(val));
}

static uint32_t entry(struct pvg *g, unsigned bar, uint32_t page)
{
	return __atomic_load_n(&(bar == 1 ? g->v->bar1 : g->v->bar3).remap[page], __ATOMIC_ACQUIRE);
}

static int32_t bar_req(struct pvg *g, unsigned bar, bool map, uint64_t va, uint64_t addr, uint64_t size,
		       uint32_t flags)
{
	struct gpuvm_pv_req r = { .op = map ? GPUVM_PV_OP_BAR_MAP : GPUVM_PV_OP_BAR_UNMAP, .handle = bar,
				  .va = va, .addr = map ? addr : 0, .size = size, .flags = flags };

	return pvg_one(g, &r, NULL);
}

/* BAR1 with a small and a large table for PDE 0, BAR3 with a small one. */
static void bind_bars(struct pvg *g)
{
	struct vgpu_io io = { .bar = 0, .dir = VGPU_IO_WRITE, .size = 4, .offset = NV_PBUS_BAR3_INST,
			      .data = NV_PBUS_BAR_VM | (uint32_t)(BAR3_INST >> 12) };

	mem_wr32(g, PVG_BAR_PD, nv_pde_word(BAR1_LPT, NV_APER_VRAM));
	pvg_bind_bar1(g);
	mem_wr32(g, BAR3_INST + NV_INST_PD_LO, (uint32_t)BAR3_PD);
	mem_wr32(g, BAR3_PD + 4, nv_pde_word(BAR3_SPT, NV_APER_VRAM));
	vgpu_mmio(g->v, &io);
}

/* A channel's instance block (RAMFC naming its USERD and ring) and the ring mapped in space h. */
static void channel_memory(struct pvg *g, uint32_t h)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_MAP, .handle = h, .va = CH_VA, .addr = CH_RING,
				  .size = 0x1000 };

	mem_wr32(g, CH_INST + NV_RAMFC_USERD_LO, (uint32_t)CH_USERD);
	mem_wr32(g, CH_INST + NV_RAMFC_GP_BASE_LO, (uint32_t)CH_VA);
	mem_wr32(g, CH_INST + NV_RAMFC_GP_BASE_HI, 9u << 16);
	assert_int_equal(pvg_one(g, &r, NULL), 0);
}

static int32_t chan_req(struct pvg *g, uint32_t op, uint32_t h)
{
	struct gpuvm_pv_req r = { .op = op, .handle = h, .flags = 1,
				  .addr = op == GPUVM_PV_OP_CHAN_BIND ? CH_INST : 0 };

	return pvg_one(g, &r, NULL);
}

static int setup(void **state)
{
	static struct pvg g;

	if (pvg_setup(&g, VGPU_MODE_PV, 64))
		return -1;
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	bind_bars(&g);
	*state = &g;
	return 0;
}

static int teardown(void **state)
{
	pvg_teardown(*state);
	return 0;
}

static void test_small_ranges(void **state)
{
	struct pvg *g = *state;

	assert_int_equal(bar_req(g, 1, true, 0x100000, DATA, 16 * NV_SPAGE_SIZE, 0), 0);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(entry(g, 1, 0x100 + i), PAGE(DATA) + i + 1);
	assert_remap(g);
	/* The BAR's own table and instance block are mapped but never remapped. */
	assert_int_equal(bar_req(g, 1, true, 0x200000, PVG_BAR_SPT, 2 * NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(bar_req(g, 1, true, 0x202000, PVG_BAR_INST, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, 0x200), 0);
	assert_int_equal(entry(g, 1, 0x201), 0);
	assert_int_equal(entry(g, 1, 0x202), 0);
	assert_remap(g);
	/* A hole in the middle of the range; read-only pages are remapped too. */
	assert_int_equal(bar_req(g, 1, false, 0x106000, 0, 4 * NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, 0x105), PAGE(DATA) + 6);
	assert_int_equal(entry(g, 1, 0x106), 0);
	assert_int_equal(entry(g, 1, 0x109), 0);
	assert_int_equal(entry(g, 1, 0x10a), PAGE(DATA) + 11);
	assert_int_equal(bar_req(g, 1, true, 0x107000, DATA, NV_SPAGE_SIZE, GPUVM_PV_MAP_RO), 0);
	assert_int_equal(entry(g, 1, 0x107), PAGE(DATA) + 1);
	assert_remap(g);
	/* A refused request changes nothing. */
	assert_int_equal(bar_req(g, 1, true, 0x100000, 63ull << 20, 2ull << 20, 0), -EFAULT);
	assert_int_equal(entry(g, 1, 0x100), PAGE(DATA) + 1);
	/* BAR3 has its own part of the table. */
	assert_int_equal(bar_req(g, 3, true, 0x3000, DATA + 0x10000, 3 * NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 3, 4), PAGE(DATA) + 0x12);   /* second page of the range */
	assert_int_equal(entry(g, 1, 4), 0);
	assert_remap(g);
}

static void test_large_ranges(void **state)
{
	struct pvg *g = *state;
	uint64_t va = 0x1000000, gp = 0x2000000;

	assert_int_equal(bar_req(g, 1, true, va, gp, 2 * NV_LPAGE_SIZE, GPUVM_PV_MAP_LARGE), 0);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(entry(g, 1, PAGE(va) + i), PAGE(gp) + i + 1);
	assert_remap(g);
	/* A small page over a large one wins, and uncovers it when unmapped. */
	assert_int_equal(bar_req(g, 1, true, va + 0x5000, 0x3000000, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, PAGE(va) + 5), PAGE(0x3000000) + 1);
	assert_int_equal(entry(g, 1, PAGE(va) + 6), PAGE(gp) + 7);
	assert_int_equal(bar_req(g, 1, false, va + 0x5000, 0, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, PAGE(va) + 5), PAGE(gp) + 6);
	assert_remap(g);
	assert_int_equal(bar_req(g, 1, false, va, 0, NV_LPAGE_SIZE, GPUVM_PV_MAP_LARGE), 0);
	assert_int_equal(entry(g, 1, PAGE(va)), 0);
	assert_int_equal(entry(g, 1, PAGE(va) + 32), PAGE(gp) + 33);
	assert_remap(g);
}

/* A PV channel's instance block and USERD leave the table at the bind and come back at the unbind. */
static void test_channel_pages(void **state)
{
	struct pvg *g = *state;
	uint32_t h = pvg_space(g);

	assert_int_not_equal(h, 0);
	channel_memory(g, h);
	assert_int_equal(bar_req(g, 1, true, 0x5000, CH_INST, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(bar_req(g, 1, true, 0x6000, CH_USERD, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(bar_req(g, 3, true, 0x6000, CH_USERD, NV_SPAGE_SIZE, 0), 0);   /* an alias */
	assert_int_equal(bar_req(g, 1, true, 0x7000, CH_RING, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, 6), PAGE(CH_USERD) + 1);
	assert_remap(g);
	assert_int_equal(chan_req(g, GPUVM_PV_OP_CHAN_BIND, h), 0);
	assert_int_equal(entry(g, 1, 5), 0);
	assert_int_equal(entry(g, 1, 6), 0);
	assert_int_equal(entry(g, 3, 6), 0);
	assert_int_equal(entry(g, 1, 7), PAGE(CH_RING) + 1);
	assert_remap(g);
	/* Mapped while tracked: stays 0. */
	assert_int_equal(bar_req(g, 1, true, 0x8000, CH_INST, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, 8), 0);
	assert_int_equal(chan_req(g, GPUVM_PV_OP_CHAN_UNBIND, 0), 0);
	assert_int_equal(entry(g, 1, 5), PAGE(CH_INST) + 1);
	assert_int_equal(entry(g, 1, 8), PAGE(CH_INST) + 1);
	assert_int_equal(entry(g, 3, 6), PAGE(CH_USERD) + 1);
	assert_remap(g);
}

static void test_opt_and_mode_switch(void **state)
{
	struct pvg *g = *state;

	assert_int_equal(bar_req(g, 1, true, 0x100000, DATA, 4 * NV_SPAGE_SIZE, 0), 0);
	vgpu_set_opts(g->v, -1, 0);
	assert_int_equal(entry(g, 1, 0x100), 0);
	assert_int_equal(bar_req(g, 1, true, 0x104000, DATA, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, 0x104), 0);
	assert_remap(g);
	vgpu_set_opts(g->v, -1, 1);
	assert_int_equal(entry(g, 1, 0x100), PAGE(DATA) + 1);
	assert_int_equal(entry(g, 1, 0x104), PAGE(DATA) + 1);
	assert_remap(g);
	assert_int_equal(vgpu_set_mode(g->v, VGPU_MODE_FULL), 0);
	assert_int_equal(g->v->cfg.mode, VGPU_MODE_FULL);
	assert_int_equal(entry(g, 1, 0x101), PAGE(DATA) + 2);
	assert_remap(g);
	assert_int_equal(vgpu_set_mode(g->v, VGPU_MODE_PV), 0);
	assert_int_equal(bar_req(g, 1, false, 0x100000, 0, NV_SPAGE_SIZE, 0), 0);
	assert_int_equal(entry(g, 1, 0x100), 0);
	assert_remap(g);
}

/* ---- a random sequence against the recomputation ----------------------------------------- */

static uint64_t rnd(uint64_t n)
{
	return (uint64_t)rand() % n;
}

/* Guest addresses: often among the tables, instance blocks and USERD of the low 2.5 MiB. */
static uint64_t random_target(uint64_t align, uint64_t size)
{
	uint64_t limit = rnd(2) ? 0x280000 : (64ull << 20) - size;

	if (rnd(16) == 0)
		return (64ull << 20) - align;           /* runs out of the partition */
	return rnd(limit / align) * align;
}

static void random_bar_op(struct pvg *g)
{
	unsigned bar = rnd(4) ? 1 : 3;
	bool large = bar == 1 && rnd(4) == 0, map = rnd(3) != 0;
	uint64_t page = large ? NV_LPAGE_SIZE : NV_SPAGE_SIZE;
	uint64_t n = 1 + rnd(large ? 3 : 24);
	uint64_t va = rnd(large ? 24 : (bar == 1 ? 2048 : 1024)) * page;

	bar_req(g, bar, map, va, random_target(page, n * page), n * page, large ? GPUVM_PV_MAP_LARGE : 0);
}

static void random_step(struct pvg *g, uint32_t h, bool *bound)
{
	uint64_t op = rnd(20);

	if (op < 16) {
		random_bar_op(g);
	} else if (op < 19) {
		assert_int_equal(chan_req(g, *bound ? GPUVM_PV_OP_CHAN_UNBIND : GPUVM_PV_OP_CHAN_BIND, h), 0);
		*bound = !*bound;
	} else {
		vgpu_set_opts(g->v, -1, rnd(4) != 0);
	}
}

static void test_random_sequence(void **state)
{
	struct pvg *g = *state;
	uint32_t h = pvg_space(g), mapped = 0;
	bool bound = false;

	srand(777);
	channel_memory(g, h);
	for (unsigned step = 0; step < 300; step++) {
		char why[256] = "";

		random_step(g, h, &bound);
		if (remap_ref_check(g->v, why, sizeof(why)) || vgpu_remap_verify(g->v, why, sizeof(why)) ||
		    !pvg_isolated(g, why, sizeof(why)))
			fail_msg("step %u: %s", step, why);
	}
	vgpu_set_opts(g->v, -1, 1);
	assert_remap(g);
	/* The sequence did leave pages remapped (else it tested little). */
	for (uint32_t p = 0; p < g->v->bar1.pages; p++)
		mapped += entry(g, 1, p) != 0;
	assert_true(mapped > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opt_and_mode_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_sequence, setup, teardown),
	};

	return cmocka_run_group_tests_name("pv_remap", tests, NULL, NULL);
}

/*
 * gpusim MMU: page-table walks for small and large pages, read-only pages,
 * faults and their records, the VM limit, apertures, and the TLB.
 * Translation is observed through BAR1 (host side) and through channel
 * semaphores (GPU side).
 */
#include "util.h"

#include <errno.h>

#define BAR1_LIMIT (GPUSIM_DEFAULT_BAR1 - 1)

struct fixture {
	struct tdev *t;
	struct tvm *vm;     /* bound to BAR1 */
	uint64_t inst;      /* its BAR instance block */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->vm = tvm_new(f->t);
	f->inst = tdev_bind_bar(f->t, GPU_BAR1, f->vm, BAR1_LIMIT);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tdev_free(f->t);
	tvm_free(f->vm);
	free(f);
	return 0;
}

static uint32_t bar1_rd32(struct fixture *f, uint64_t off)
{
	uint32_t v = 0;
	int rc = gpu_bar_read(f->t->hw, GPU_BAR1, off, &v, 4);
	assert_int_equal(rc, 0);
	return v;
}

/* Fill a physical page with words tag | index. */
static void fill_page(struct tdev *t, uint64_t phys, uint32_t tag)
{
	for (uint32_t i = 0; i < NV_SPAGE_SIZE; i += 4)
		vram_wr32(t, phys + i, tag | i);
}

static void check_fault(struct tdev *t, unsigned unit, unsigned reason, bool write,
			uint64_t va, uint32_t inst)
{
	assert_true(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << unit));
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_VM_FAULT);
	struct tfault fr = tdev_fault(t, unit);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), reason);
	assert_int_equal(!!(fr.flags & NV_FAULT_FLAGS_WRITE), write);
	assert_int_equal(tfault_va(fr) & ~0xfffull, va & ~0xfffull);
	assert_int_equal(fr.inst, inst);
}

static void test_small_pages(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t p = vram_alloc(t, 2 * NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	fill_page(t, p, 0xa0000000);
	fill_page(t, p + 0x1000, 0xb0000000);
	/* Swapped: VA 0x5000 -> second page, VA 0x6000 -> first page. */
	tvm_map(t, f->vm, 0x5000, p + 0x1000, NV_SPAGE_SIZE, false);
	tvm_map(t, f->vm, 0x6000, p, NV_SPAGE_SIZE, false);
	assert_true(tvm_flush(t, f->vm));

	assert_int_equal(bar1_rd32(f, 0x5010), 0xb0000010);
	assert_int_equal(bar1_rd32(f, 0x6ffc), 0xa0000ffc);
	/* One access across the two pages. */
	uint32_t buf[4];
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x5ff8, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], 0xb0000ff8);
	assert_int_equal(buf[1], 0xb0000ffc);
	assert_int_equal(buf[2], 0xa0000000);
	assert_int_equal(buf[3], 0xa0000004);
	/* Writes go to the translated page. */
	uint32_t v = 0x12345678;
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR1, 0x6020, &v, 4), 0);
	assert_int_equal(vram_rd32(t, p + 0x20), 0x12345678);
}

static void test_large_pages(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t p = vram_alloc(t, 2 * NV_LPAGE_SIZE, NV_LPAGE_SIZE);
	vram_wr32(t, p + 0x1f004, 0x1a1a1a1a);
	vram_wr32(t, p + NV_LPAGE_SIZE + 0x1f004, 0x2b2b2b2b);
	vram_wr32(t, p + NV_LPAGE_SIZE, 0x3c3c3c3c);
	/* Two large pages, swapped. */
	tvm_set_lpte(t, f->vm, 0x400000, nv_pte_vram(p + NV_LPAGE_SIZE, 0));
	tvm_set_lpte(t, f->vm, 0x420000, nv_pte_vram(p, 0));
	assert_true(tvm_flush(t, f->vm));

	assert_int_equal(bar1_rd32(f, 0x400000), 0x3c3c3c3c);
	assert_int_equal(bar1_rd32(f, 0x41f004), 0x2b2b2b2b);
	assert_int_equal(bar1_rd32(f, 0x43f004), 0x1a1a1a1a);
	/* A large page in a different PDE (128 MiB up). */
	tvm_set_lpte(t, f->vm, 0x8000000 + 0x60000, nv_pte_vram(p, 0));
	assert_true(tvm_flush(t, f->vm));
	assert_int_equal(bar1_rd32(f, 0x8000000 + 0x7f004), 0x1a1a1a1a);
}

static void test_small_wins_over_large(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t a = vram_alloc(t, NV_LPAGE_SIZE, NV_LPAGE_SIZE);
	uint64_t b = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	fill_page(t, a + 0x3000, 0xa3000000);
	fill_page(t, a + 0x4000, 0xa4000000);
	fill_page(t, a + 0x5000, 0xa5000000);
	fill_page(t, b, 0xbb000000);
	uint64_t va = 0x800000;
	tvm_set_lpte(t, f->vm, va, nv_pte_vram(a, 0));
	tvm_set_spte(t, f->vm, va + 0x3000, nv_pte_vram(b, 0));
	tvm_set_spte(t, f->vm, va + 0x5000, 0);  /* invalid small PTE: large page shows */
	assert_true(tvm_flush(t, f->vm));

	assert_int_equal(bar1_rd32(f, va + 0x3008), 0xbb000008);
	assert_int_equal(bar1_rd32(f, va + 0x4008), 0xa4000008);
	assert_int_equal(bar1_rd32(f, va + 0x5008), 0xa5000008);
}

static void test_read_only_bar(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t p = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	fill_page(t, p, 0x70000000);
	tvm_map(t, f->vm, 0x9000, p, NV_SPAGE_SIZE, true);
	assert_true(tvm_flush(t, f->vm));
	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	struct gpusim_stats s0 = tdev_stats(t);

	assert_int_equal(bar1_rd32(f, 0x9100), 0x70000100);
	uint32_t v = 0xdeadbeef;
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR1, 0x9100, &v, 4), -EFAULT);
	assert_int_equal(vram_rd32(t, p + 0x100), 0x70000100);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_RO, true, 0x9100, (uint32_t)(f->inst >> 12));
	struct gpusim_stats s1 = tdev_stats(t);
	assert_int_equal(s1.faults, s0.faults + 1);

	/* Clearing the unit bit clears the record's valid bit. */
	tdev_fault_clear(t, NV_FAULT_UNIT_BAR1);
	assert_int_equal(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_BAR1), 0);
	assert_int_equal(tdev_fault(t, NV_FAULT_UNIT_BAR1).flags & NV_FAULT_FLAGS_VALID, 0);
}

static void test_invalid_pte_and_absent_pde_bar(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t p = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	tvm_map(t, f->vm, 0x10000, p, NV_SPAGE_SIZE, false);
	tvm_set_spte(t, f->vm, 0x11000, nv_pte_vram(p, 0) & ~NV_PTE_VALID);
	assert_true(tvm_flush(t, f->vm));

	uint8_t buf[16];
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x11040, buf, sizeof(buf)), -EFAULT);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xff);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_PTE, false, 0x11040, (uint32_t)(f->inst >> 12));
	tdev_fault_clear(t, NV_FAULT_UNIT_BAR1);

	/* Second PDE (128 MiB) has no tables at all. */
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x8003000, buf, 4), -EFAULT);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_PDE, false, 0x8003000, (uint32_t)(f->inst >> 12));

	/* A newer fault of the same unit overwrites the record. */
	uint32_t v = 1;
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR1, 0x11080, &v, 4), -EFAULT);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_PTE, true, 0x11080, (uint32_t)(f->inst >> 12));
	assert_int_equal(tdev_fault(t, NV_FAULT_UNIT_BAR1).va_lo & ~0xfffu, 0x11000);

	/* Making the PDE absent again faults with PDE. */
	tvm_clear_pde(t, f->vm, 0x10000);
	assert_true(tvm_flush(t, f->vm));
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x10000, buf, 4), -EFAULT);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_PDE, false, 0x10000, (uint32_t)(f->inst >> 12));
}

static void test_sysmem_aperture_faults(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t p = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	tvm_set_spte(t, f->vm, 0x20000, nv_pte_vram(p, 0) | (2ull << NV_PTE_APER_SHIFT));
	tvm_set_spte(t, f->vm, 0x21000, nv_pte_vram(p, 0) | (3ull << NV_PTE_APER_SHIFT));
	assert_true(tvm_flush(t, f->vm));
	uint32_t v;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x20000, &v, 4), -EFAULT);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_APERTURE, false, 0x20000, (uint32_t)(f->inst >> 12));
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x21000, &v, 4), -EFAULT);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_APERTURE, false, 0x21000, (uint32_t)(f->inst >> 12));
}

static void test_bar_limit(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tvm *vm = tvm_new(t);
	uint64_t p = vram_alloc(t, 2 * NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	vram_wr32(t, p + 0xffc, 0x11111111);
	vram_wr32(t, p + 0x1000, 0x22222222);
	tvm_map(t, vm, 0xf000, p, 2 * NV_SPAGE_SIZE, false);
	uint64_t inst = tdev_bind_bar(t, GPU_BAR1, vm, 0xffff);
	assert_true(tvm_flush(t, vm));

	uint32_t v = 0;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0xfffc, &v, 4), 0);
	assert_int_equal(v, 0x11111111);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x10000, &v, 4), -EFAULT);
	check_fault(t, NV_FAULT_UNIT_BAR1, NV_FAULT_LIMIT, false, 0x10000, (uint32_t)(inst >> 12));
	tvm_free(vm);
}

/* A channel's GPU-side faults: read-only page, absent PDE with a high VA, limit. */
static void test_gpu_faults(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	wr32(t, NV_PFIFO_INTR, 0xffffffff);

	/* Read-only page: acquires (reads) work, a release (write) faults. */
	struct tchan *ch = tchan_start(t, 5);
	uint64_t ro = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	vram_wr32(t, ro, 42);
	uint64_t ro_va = 0x30000000;
	tvm_map(t, ch->vm, ro_va, ro, NV_SPAGE_SIZE, true);
	assert_true(tvm_flush(t, ch->vm));
	pb_sem_acquire(ch, ro_va, 42, NV906F_SEM_ACQUIRE_EQ);
	assert_true(tchan_sync(ch));
	pb_sem_release(ch, ro_va + 0x10, 7, true);
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	assert_int_equal(vram_rd32(t, ro + 0x10), 0);
	check_fault(t, NV_FAULT_UNIT_PFIFO, NV_FAULT_RO, true, ro_va + 0x10, (uint32_t)(ch->inst >> 12));
	assert_int_equal(NV_FAULT_FLAGS_CHID(tdev_fault(t, NV_FAULT_UNIT_PFIFO).flags), 5);
	tdev_fault_clear(t, NV_FAULT_UNIT_PFIFO);
	wr32(t, NV_PFIFO_INTR, NV_PFIFO_INTR_VM_FAULT);

	/* Absent PDE at a VA above 4 GiB: the record carries the high bits. */
	struct tchan *ch2 = tchan_start(t, 77);
	uint64_t va = 0x1234567010ull;
	pb_sem_release(ch2, va, 1, true);
	tchan_submit(ch2);
	assert_true(tchan_wait_faulted(ch2));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PFIFO);
	check_fault(t, NV_FAULT_UNIT_PFIFO, NV_FAULT_PDE, true, va, (uint32_t)(ch2->inst >> 12));
	assert_int_equal(fr.va_hi, 0x12);
	assert_int_equal(NV_FAULT_FLAGS_CHID(fr.flags), 77);
	tdev_fault_clear(t, NV_FAULT_UNIT_PFIFO);

	/* Invalid PTE (table present) */
	struct tchan *ch3 = tchan_start(t, 6);
	tvm_set_spte(t, ch3->vm, 0x30001000, 0);
	assert_true(tvm_flush(t, ch3->vm));
	pb_sem_acquire(ch3, 0x30001000, 0, NV906F_SEM_ACQUIRE_EQ);
	tchan_submit(ch3);
	assert_true(tchan_wait_faulted(ch3));
	check_fault(t, NV_FAULT_UNIT_PFIFO, NV_FAULT_PTE, false, 0x30001000, (uint32_t)(ch3->inst >> 12));

	/* The faulted channels stay stopped; nothing else is affected. */
	struct tchan *ok = tchan_start(t, 8);
	assert_true(tchan_sync(ok));
	assert_true(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED);
	assert_int_equal(tchan_ctrl(ok) & NV_CHAN_CTRL_FAULTED, 0);
	tchan_free(ch);
	tchan_free(ch2);
	tchan_free(ch3);
	tchan_free(ok);
}

static void test_gpu_limit(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *ch = tchan_new(t, 12);
	/* 1 GiB VM: the ring and pushbuffer (at 512 MiB) are inside. */
	tvm_write_inst(t, ch->vm, ch->inst, (1ull << 30) - 1);
	tchan_bind(ch);
	assert_true(tdev_runlist_set(t, 12, true));
	uint64_t p = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	tvm_map(t, ch->vm, 1ull << 30, p, NV_SPAGE_SIZE, false);
	tvm_map(t, ch->vm, (1ull << 30) - NV_SPAGE_SIZE, p, NV_SPAGE_SIZE, false);
	assert_true(tvm_flush(t, ch->vm));

	pb_sem_release(ch, (1ull << 30) - 4, 0x55, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, p + 0xffc), 0x55);

	pb_sem_release(ch, 1ull << 30, 0x66, true);
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	check_fault(t, NV_FAULT_UNIT_PFIFO, NV_FAULT_LIMIT, true, 1ull << 30, (uint32_t)(ch->inst >> 12));
	assert_int_equal(vram_rd32(t, p), 0);
	tchan_free(ch);
}

/* BAR side: a rewritten PTE is not seen until a flush of that page directory. */
static void test_tlb_bar(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t a = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	uint64_t b = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	vram_wr32(t, a, 0xaaaaaaaa);
	vram_wr32(t, b, 0xbbbbbbbb);
	uint64_t va = 0x123000;
	tvm_map(t, f->vm, va, a, NV_SPAGE_SIZE, false);
	assert_true(tvm_flush(t, f->vm));
	assert_int_equal(bar1_rd32(f, va), 0xaaaaaaaa);

	struct gpusim_stats s0 = tdev_stats(t);
	tvm_map(t, f->vm, va, b, NV_SPAGE_SIZE, false);
	assert_int_equal(bar1_rd32(f, va), 0xaaaaaaaa);       /* stale */
	/* A flush of some other page directory does not help. */
	struct tvm *other = tvm_new(t);
	assert_true(tvm_flush(t, other));
	assert_int_equal(bar1_rd32(f, va), 0xaaaaaaaa);
	assert_true(tvm_flush(t, f->vm));
	assert_int_equal(bar1_rd32(f, va), 0xbbbbbbbb);
	struct gpusim_stats s1 = tdev_stats(t);
	assert_int_equal(s1.tlb_flushes, s0.tlb_flushes + 2);

	/* Unmapping without a flush keeps the old translation too. */
	tvm_unmap(t, f->vm, va, NV_SPAGE_SIZE);
	assert_int_equal(bar1_rd32(f, va), 0xbbbbbbbb);
	assert_true(tvm_flush(t, f->vm));
	uint32_t v;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, va, &v, 4), -EFAULT);
	tvm_free(other);
}

/* GPU side: the same through a channel's semaphore releases. */
static void test_tlb_gpu(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *ch = tchan_start(t, 1);
	uint64_t a = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	uint64_t b = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	uint64_t va = 0x30800000;
	tvm_map(t, ch->vm, va, a, NV_SPAGE_SIZE, false);
	assert_true(tvm_flush(t, ch->vm));

	pb_sem_release(ch, va, 1, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, a), 1);

	tvm_map(t, ch->vm, va, b, NV_SPAGE_SIZE, false);
	pb_sem_release(ch, va, 2, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, a), 2);                  /* stale translation */
	assert_int_equal(vram_rd32(t, b), 0);

	assert_true(tvm_flush(t, ch->vm));
	pb_sem_release(ch, va, 3, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, a), 2);
	assert_int_equal(vram_rd32(t, b), 3);
	tchan_free(ch);
}

/* gpusim ignores the PDE size field and walks full tables. */
static void test_pde_size_field_ignored(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t p = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	vram_wr32(t, p + 0x40, 0x51e51e00);
	/* Last small page of PDE 1, with size bits 2-3 claiming a small table. */
	uint64_t va = 0x8000000 + (uint64_t)(NV_SPT_ENTRIES - 1) * NV_SPAGE_SIZE;
	tvm_map(t, f->vm, va, p, NV_SPAGE_SIZE, false);
	uint32_t hi = vram_rd32(t, f->vm->pd + 1 * 8 + 4);
	vram_wr32(t, f->vm->pd + 1 * 8 + 4, hi | 3u << 2);
	assert_true(tvm_flush(t, f->vm));
	assert_int_equal(bar1_rd32(f, va + 0x40), 0x51e51e00);
}

static void test_mmu_ctrl(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint32_t c = rd32(t, NV_MMU_CTRL);
	assert_true(c & NV_MMU_CTRL_SPACE);
	assert_int_equal(c & NV_MMU_CTRL_BYPASS, 0);
	wr32(t, NV_MMU_CTRL, c | NV_MMU_CTRL_LARGE_64K);
	assert_true(rd32(t, NV_MMU_CTRL) & NV_MMU_CTRL_LARGE_64K);
	/* Only 128 KiB large pages are modelled, whatever bit 0 says. */
	uint64_t p = vram_alloc(t, NV_LPAGE_SIZE, NV_LPAGE_SIZE);
	vram_wr32(t, p + 0x1f000, 0x128128);
	tvm_set_lpte(t, f->vm, 0x1000000, nv_pte_vram(p, 0));
	assert_true(tvm_flush(t, f->vm));
	assert_int_equal(bar1_rd32(f, 0x101f000), 0x128128);
	wr32(t, NV_MMU_CTRL, c & ~NV_MMU_CTRL_LARGE_64K);
	assert_int_equal(rd32(t, NV_MMU_CTRL) & NV_MMU_CTRL_LARGE_64K, 0);
	assert_true(tvm_flush(t, f->vm));
	assert_true(rd32(t, NV_MMU_CTRL) & NV_MMU_CTRL_FLUSH_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_wins_over_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_pte_and_absent_pde_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysmem_aperture_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpu_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpu_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlb_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlb_gpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pde_size_field_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmu_ctrl, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

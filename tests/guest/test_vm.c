/*
 * GPU virtual memory: allocations are mapped with the right page size and
 * physical address, unmapped on free, and every change is followed by a
 * TLB flush (gpusim keeps stale translations until flushed, so a missing
 * flush shows as a kernel still reaching freed memory).
 */
#include "nvc0/mem.h"
#include "util_guest.h"

static uint64_t flushes(struct gpuvm_ctx *ctx)
{
	struct gpusim_stats st;

	gpusim_get_stats(tg_sim(ctx), &st);
	return st.tlb_flushes;
}

static void check_mapping(struct gpuvm_ctx *ctx, gpuvm_devptr p, size_t size, bool large)
{
	uint64_t page = large ? NV_LPAGE_SIZE : NV_SPAGE_SIZE;

	for (uint64_t off = 0; off < size; off += page) {
		uint64_t phys, pte = tg_pte(ctx, p + off, large);

		TG_OK(gpuvm_raw_ctx_phys(ctx, p + off, &phys));
		assert_true(pte & NV_PTE_VALID);
		assert_int_equal(nv_pte_aper(pte), 0);          /* VRAM */
		assert_int_equal(nv_pte_addr(pte), phys & ~(page - 1));
		assert_true(phys < TG_VRAM);
	}
}

static void test_map_page_sizes(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	gpuvm_devptr small, big;

	(void)state;
	TG_OK(gpuvm_mem_alloc(ctx, 3 * 4096 + 5, &small));
	TG_OK(gpuvm_mem_alloc(ctx, 1 << 20, &big));
	assert_int_equal(small % NV_SPAGE_SIZE, 0);
	assert_int_equal(big % NV_LPAGE_SIZE, 0);
	check_mapping(ctx, small, 4 * 4096, false);
	check_mapping(ctx, big, 1 << 20, true);
	assert_int_equal(tg_pte(ctx, small, true), 0);      /* not doubly mapped */
	TG_OK(gpuvm_ctx_destroy(ctx));
}

/* Data written physically through PRAMIN is what the context reads at the VA. */
static void test_map_reaches_phys(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	uint32_t w[64], r[64];
	gpuvm_devptr p;
	uint64_t phys;

	(void)state;
	tg_fill(w, sizeof(w), 3);
	TG_OK(gpuvm_mem_alloc(ctx, 256 << 10, &p));
	TG_OK(gpuvm_ctx_synchronize(ctx));     /* the zero fill is done */
	TG_OK(gpuvm_raw_ctx_phys(ctx, p + 131072 + 64, &phys));
	TG_OK(gpuvm_raw_vram_write(gpuvm_ctx_device(ctx), phys, w, sizeof(w)));
	TG_OK(gpuvm_ctx_set_copy_path(ctx, GPUVM_COPY_M2MF));
	TG_OK(gpuvm_memcpy_dtoh(ctx, r, p + 131072 + 64, sizeof(r)));
	assert_memory_equal(w, r, sizeof(w));
	TG_OK(gpuvm_ctx_destroy(ctx));
}

/* Free unmaps and flushes: a kernel storing to the freed VA faults. */
static void test_unmap_flushes(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_module *store = tg_store_kernel(ctx);
	gpuvm_devptr p;
	uint64_t before;
	uint32_t one = 0;

	(void)state;
	TG_OK(gpuvm_mem_alloc(ctx, 4096, &p));
	TG_OK(tg_store(ctx, store, p));         /* the translation is now cached */
	TG_OK(gpuvm_memcpy_dtoh(ctx, &one, p, 4));
	assert_int_equal(one, 1);
	before = flushes(ctx);
	TG_OK(gpuvm_mem_free(ctx, p));
	assert_true(flushes(ctx) > before);
	assert_int_equal(tg_pte(ctx, p, false), 0);
	assert_int_equal(tg_store(ctx, store, p), GPUVM_ERR_FAULTED);
	assert_non_null(strstr(gpuvm_last_error(), "fault"));
	TG_OK(gpuvm_ctx_destroy(ctx));
}

/* Many allocations of both page sizes, freed in a mixed order; the rest stay intact. */
static void test_many_allocs(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx_opts(&(struct gpuvm_ctx_options){ .no_zero_fill = true });
	gpuvm_devptr p[40];
	uint32_t v;

	(void)state;
	for (unsigned i = 0; i < 40; i++) {
		TG_OK(gpuvm_mem_alloc(ctx, (i % 3) ? 4096 * (i + 1) : (1u << 20), &p[i]));
		v = i * 0x01010101u;
		TG_OK(gpuvm_memcpy_htod(ctx, p[i], &v, 4));
	}
	for (unsigned i = 0; i < 40; i += 2)
		TG_OK(gpuvm_mem_free(ctx, p[i]));
	for (unsigned i = 1; i < 40; i += 2) {
		TG_OK(gpuvm_memcpy_dtoh(ctx, &v, p[i], 4));
		assert_int_equal(v, i * 0x01010101u);
	}
	TG_OK(gpuvm_ctx_destroy(ctx));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_page_sizes),
		cmocka_unit_test(test_map_reaches_phys),
		cmocka_unit_test(test_unmap_flushes),
		cmocka_unit_test(test_many_allocs),
	};

	return cmocka_run_group_tests_name("guest vm", tests, NULL, NULL);
}

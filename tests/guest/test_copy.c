/*
 * Host<->device copies through BAR1 and through M2MF (staged, pipelined),
 * device-to-device M2MF copies, and the zero fill of new allocations: all
 * checked byte for byte, at odd sizes and offsets.
 */
#include "util_guest.h"

#define BUF (3u << 20)

struct copy_fixture {
	struct gpuvm_ctx *ctx;
	uint8_t *src, *dst;
	gpuvm_devptr a, b;
};

static int copy_setup(void **state)
{
	struct copy_fixture *f = calloc(1, sizeof(*f));

	f->ctx = tg_ctx();
	f->src = malloc(BUF);
	f->dst = malloc(BUF);
	tg_fill(f->src, BUF, 77);
	TG_OK(gpuvm_mem_alloc(f->ctx, BUF, &f->a));
	TG_OK(gpuvm_mem_alloc(f->ctx, BUF, &f->b));
	*state = f;
	return 0;
}

static int copy_teardown(void **state)
{
	struct copy_fixture *f = *state;

	TG_OK(gpuvm_ctx_destroy(f->ctx));
	free(f->src);
	free(f->dst);
	free(f);
	return 0;
}

static void roundtrip(struct copy_fixture *f, enum gpuvm_copy_path path, uint64_t off, size_t n)
{
	TG_OK(gpuvm_ctx_set_copy_path(f->ctx, path));
	memset(f->dst, 0xee, n);
	TG_OK(gpuvm_memcpy_htod(f->ctx, f->a + off, f->src, n));
	TG_OK(gpuvm_memcpy_dtoh(f->ctx, f->dst, f->a + off, n));
	assert_memory_equal(f->src, f->dst, n);
}

static void test_bar1_copy(void **state)
{
	struct copy_fixture *f = *state;

	roundtrip(f, GPUVM_COPY_BAR1, 0, 4);
	roundtrip(f, GPUVM_COPY_BAR1, 1, 3);
	roundtrip(f, GPUVM_COPY_BAR1, 4093, 8199);
	roundtrip(f, GPUVM_COPY_BAR1, 12345, BUF - 12345);
}

static void test_m2mf_copy(void **state)
{
	struct copy_fixture *f = *state;

	roundtrip(f, GPUVM_COPY_M2MF, 0, 4);
	roundtrip(f, GPUVM_COPY_M2MF, 7, 4097);
	roundtrip(f, GPUVM_COPY_M2MF, 100, (1u << 20) + 1);     /* one byte into a 2nd chunk */
	roundtrip(f, GPUVM_COPY_M2MF, 3, BUF - 3);              /* pipelined over 3 chunks */
}

/* One path writes, the other reads: both see the same memory. */
static void test_paths_agree(void **state)
{
	struct copy_fixture *f = *state;

	TG_OK(gpuvm_ctx_set_copy_path(f->ctx, GPUVM_COPY_M2MF));
	TG_OK(gpuvm_memcpy_htod(f->ctx, f->a + 64, f->src, 200000));
	TG_OK(gpuvm_ctx_set_copy_path(f->ctx, GPUVM_COPY_BAR1));
	TG_OK(gpuvm_memcpy_dtoh(f->ctx, f->dst, f->a + 64, 200000));
	assert_memory_equal(f->src, f->dst, 200000);
	TG_OK(gpuvm_ctx_set_copy_path(f->ctx, GPUVM_COPY_AUTO));
}

static void test_dtod_copy(void **state)
{
	struct copy_fixture *f = *state;

	TG_OK(gpuvm_memcpy_htod(f->ctx, f->a, f->src, BUF));
	TG_OK(gpuvm_memcpy_dtod(f->ctx, f->b + 5, f->a + 11, BUF - 11));
	TG_OK(gpuvm_ctx_synchronize(f->ctx));
	TG_OK(gpuvm_memcpy_dtoh(f->ctx, f->dst, f->b + 5, BUF - 11));
	assert_memory_equal(f->src + 11, f->dst, BUF - 11);
}

/* A new allocation reads as zeros even where freed memory held data. */
static void test_zero_fill(void **state)
{
	struct copy_fixture *f = *state;
	gpuvm_devptr c;
	uint64_t old_phys, new_phys;
	uint8_t *zero = calloc(1, BUF);

	TG_OK(gpuvm_memcpy_htod(f->ctx, f->b, f->src, BUF));
	TG_OK(gpuvm_raw_ctx_phys(f->ctx, f->b, &old_phys));
	TG_OK(gpuvm_mem_free(f->ctx, f->b));
	TG_OK(gpuvm_mem_alloc(f->ctx, BUF, &c));
	TG_OK(gpuvm_raw_ctx_phys(f->ctx, c, &new_phys));
	assert_int_equal(old_phys, new_phys);          /* first fit: the same VRAM again */
	TG_OK(gpuvm_memcpy_dtoh(f->ctx, f->dst, c, BUF));
	assert_memory_equal(zero, f->dst, BUF);
	f->b = c;
	free(zero);
}

/*
 * Zero fills are settled at first use (runtime_priv.h).  Each case puts a
 * new 100-byte allocation on a page that held data and checks, through the
 * copy paths and raw VRAM reads, that none of the old bytes show.
 */
#define SMALL 100u

/* A new SMALL-byte allocation on VRAM that held f->src; *phys is that page. */
static gpuvm_devptr alloc_on_dirty_page(struct copy_fixture *f, uint64_t *phys)
{
	gpuvm_devptr old, c;

	TG_OK(gpuvm_ctx_set_copy_path(f->ctx, GPUVM_COPY_AUTO));
	TG_OK(gpuvm_mem_alloc(f->ctx, 4096, &old));
	TG_OK(gpuvm_memcpy_htod(f->ctx, old, f->src, 4096));
	TG_OK(gpuvm_raw_ctx_phys(f->ctx, old, phys));
	TG_OK(gpuvm_mem_free(f->ctx, old));
	TG_OK(gpuvm_mem_alloc(f->ctx, SMALL, &c));
	return c;
}

static void expect_page(struct copy_fixture *f, gpuvm_devptr c, uint64_t phys, const uint8_t *want)
{
	uint8_t page[4096];
	uint64_t now;

	TG_OK(gpuvm_raw_ctx_phys(f->ctx, c, &now));
	assert_int_equal(now, phys);                    /* first fit: the dirty page */
	TG_OK(gpuvm_raw_vram_read(gpuvm_ctx_device(f->ctx), phys, page, sizeof(page)));
	assert_memory_equal(want, page, sizeof(page));
}

static void test_fill_whole_copy(void **state)
{
	struct copy_fixture *f = *state;
	uint8_t want[4096] = { 0 };
	uint64_t phys;
	gpuvm_devptr c = alloc_on_dirty_page(f, &phys);

	/* Every byte asked for is written: the rest of the page is cleared with it. */
	TG_OK(gpuvm_memcpy_htod(f->ctx, c, f->src + 1000, SMALL));
	memcpy(want, f->src + 1000, SMALL);
	expect_page(f, c, phys, want);
	TG_OK(gpuvm_mem_free(f->ctx, c));
}

static void test_fill_partial_copy(void **state)
{
	struct copy_fixture *f = *state;
	uint8_t want[4096] = { 0 };
	uint64_t phys;
	gpuvm_devptr c = alloc_on_dirty_page(f, &phys);

	TG_OK(gpuvm_memcpy_htod(f->ctx, c + 10, f->src + 2000, 20));
	memcpy(want + 10, f->src + 2000, 20);
	TG_OK(gpuvm_memcpy_dtoh(f->ctx, f->dst, c, SMALL));
	assert_memory_equal(want, f->dst, SMALL);
	expect_page(f, c, phys, want);
	TG_OK(gpuvm_mem_free(f->ctx, c));
}

/* The M2MF path: a whole copy of an allocation smaller than its pages still
 * clears the rest of them (the fill goes first in the channel). */
static void test_fill_whole_copy_m2mf(void **state)
{
	struct copy_fixture *f = *state;
	const size_t big = 256u << 10, n = 200000;
	uint8_t *page = malloc(big);
	gpuvm_devptr old, c;
	uint64_t old_phys, phys;

	TG_OK(gpuvm_ctx_set_copy_path(f->ctx, GPUVM_COPY_M2MF));
	TG_OK(gpuvm_mem_alloc(f->ctx, big, &old));
	TG_OK(gpuvm_memcpy_htod(f->ctx, old, f->src, big));
	TG_OK(gpuvm_raw_ctx_phys(f->ctx, old, &old_phys));
	TG_OK(gpuvm_mem_free(f->ctx, old));
	TG_OK(gpuvm_mem_alloc(f->ctx, n, &c));
	TG_OK(gpuvm_memcpy_htod(f->ctx, c, f->src + 4096, n));
	TG_OK(gpuvm_raw_ctx_phys(f->ctx, c, &phys));
	assert_int_equal(phys, old_phys);
	TG_OK(gpuvm_raw_vram_read(gpuvm_ctx_device(f->ctx), phys, page, big));
	assert_memory_equal(page, f->src + 4096, n);
	for (size_t i = n; i < big; i++)
		if (page[i])
			fail_msg("byte %zu of the last page is 0x%02x, not 0", i, page[i]);
	TG_OK(gpuvm_mem_free(f->ctx, c));
	TG_OK(gpuvm_ctx_set_copy_path(f->ctx, GPUVM_COPY_AUTO));
	free(page);
}

static void test_fill_untouched_reads(void **state)
{
	struct copy_fixture *f = *state;
	uint8_t want[4096] = { 0 };
	uint64_t phys;
	gpuvm_devptr c = alloc_on_dirty_page(f, &phys);

	/* Read before anything wrote it, then used as a copy source on the GPU. */
	memset(f->dst, 0xee, SMALL);
	TG_OK(gpuvm_memcpy_dtoh(f->ctx, f->dst, c, SMALL));
	assert_memory_equal(want, f->dst, SMALL);
	TG_OK(gpuvm_memcpy_htod(f->ctx, f->a, f->src, SMALL));
	TG_OK(gpuvm_memcpy_dtod(f->ctx, f->a, c, SMALL));
	TG_OK(gpuvm_memcpy_dtoh(f->ctx, f->dst, f->a, SMALL));
	assert_memory_equal(want, f->dst, SMALL);
	expect_page(f, c, phys, want);
	TG_OK(gpuvm_mem_free(f->ctx, c));
}

static void test_copy_bounds(void **state)
{
	struct copy_fixture *f = *state;

	assert_int_equal(gpuvm_memcpy_htod(f->ctx, f->a + BUF - 4, f->src, 8), GPUVM_ERR_INVALID);
	assert_non_null(strstr(gpuvm_last_error(), "past the end"));
	assert_int_equal(gpuvm_memcpy_dtoh(f->ctx, f->dst, 0x1000, 4), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_memcpy_dtod(f->ctx, f->a, f->b + 1, BUF), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_memcpy_htod(f->ctx, f->a, NULL, 4), GPUVM_ERR_INVALID);
	TG_OK(gpuvm_memcpy_htod(f->ctx, f->a, f->src, 0));     /* nothing to do */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar1_copy),
		cmocka_unit_test(test_m2mf_copy),
		cmocka_unit_test(test_paths_agree),
		cmocka_unit_test(test_dtod_copy),
		cmocka_unit_test(test_zero_fill),
		cmocka_unit_test(test_fill_whole_copy),
		cmocka_unit_test(test_fill_partial_copy),
		cmocka_unit_test(test_fill_whole_copy_m2mf),
		cmocka_unit_test(test_fill_untouched_reads),
		cmocka_unit_test(test_copy_bounds),
	};

	return cmocka_run_group_tests_name("guest copy", tests, copy_setup, copy_teardown);
}

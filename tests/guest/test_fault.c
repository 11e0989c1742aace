/*
 * Errors and isolation: a kernel that touches an unmapped address makes
 * synchronise fail with GPUVM_ERR_FAULTED (sticky) while other contexts
 * keep working; bad instructions stop the channel the same way; VRAM runs
 * out with GPUVM_ERR_NO_VRAM and recovers after frees; bad handles are
 * refused; two contexts never reach each other's memory.
 */
#include "gpuvm_workloads.h"
#include "util_guest.h"

static void run_vadd(struct gpuvm_ctx *ctx)
{
	struct gpuvm_workload_params p = { .size = 4099 };
	struct gpuvm_workload_result r;

	TG_OK(gpuvm_workload_find("vadd")->run(ctx, &p, &r));
}

static void test_fault_is_reported_and_sticky(void **state)
{
	struct gpuvm_ctx *bad = tg_ctx(), *good = tg_ctx();
	struct gpuvm_module *store = tg_store_kernel(bad);
	gpuvm_devptr p;

	(void)state;
	assert_int_equal(tg_store(bad, store, 0x1234560), GPUVM_ERR_FAULTED);
	assert_non_null(strstr(gpuvm_last_error(), "VM fault"));
	assert_non_null(strstr(gpuvm_last_error(), "0x1234560"));
	assert_non_null(strstr(gpuvm_last_error(), "write"));
	/* Sticky: everything on the faulted context reports the fault. */
	assert_int_equal(gpuvm_ctx_synchronize(bad), GPUVM_ERR_FAULTED);
	assert_int_equal(gpuvm_mem_alloc(bad, 4096, &p), GPUVM_ERR_FAULTED);
	/* The other context does not notice. */
	run_vadd(good);
	TG_OK(gpuvm_ctx_destroy(bad));
	run_vadd(good);
	TG_OK(gpuvm_ctx_destroy(good));
	/* Nor does a context created afterwards, possibly on the same channel id. */
	good = tg_ctx();
	run_vadd(good);
	TG_OK(gpuvm_ctx_destroy(good));
}

static void test_null_pointer_faults(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_module *store = tg_store_kernel(ctx);

	(void)state;
	assert_int_equal(tg_store(ctx, store, 0), GPUVM_ERR_FAULTED);
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void test_bad_instruction(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_module *mod = tg_bad_insn_kernel(ctx);
	struct gpuvm_launch l = { 0 };

	(void)state;
	TG_OK(gpuvm_launch(mod, &l));
	assert_int_equal(gpuvm_ctx_synchronize(ctx), GPUVM_ERR_FAULTED);
	assert_non_null(strstr(gpuvm_last_error(), "stopped"));
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void test_out_of_vram(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx_opts(&(struct gpuvm_ctx_options){ .no_zero_fill = true });
	gpuvm_devptr p[64], q;
	unsigned n = 0;
	int err;

	(void)state;
	assert_int_equal(gpuvm_mem_alloc(ctx, TG_VRAM * 2, &q), GPUVM_ERR_NO_VRAM);
	while ((err = gpuvm_mem_alloc(ctx, 8u << 20, &p[n])) == GPUVM_OK)
		assert_true(++n < 64);
	assert_int_equal(err, GPUVM_ERR_NO_VRAM);
	assert_non_null(strstr(gpuvm_last_error(), "out of VRAM"));
	assert_true(n >= 8);
	/* The context still works, and freeing makes room again. */
	run_vadd(ctx);
	TG_OK(gpuvm_mem_free(ctx, p[--n]));
	TG_OK(gpuvm_mem_alloc(ctx, 8u << 20, &p[n++]));
	while (n)
		TG_OK(gpuvm_mem_free(ctx, p[--n]));
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void test_bad_handles(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx(), *other = tg_ctx();
	gpuvm_devptr p;

	(void)state;
	TG_OK(gpuvm_mem_alloc(ctx, 4096, &p));
	assert_int_equal(gpuvm_mem_free(ctx, p + 4), GPUVM_ERR_BAD_HANDLE);
	assert_int_equal(gpuvm_mem_free(other, p + 8192), GPUVM_ERR_BAD_HANDLE);
	TG_OK(gpuvm_mem_free(ctx, p));
	assert_int_equal(gpuvm_mem_free(ctx, p), GPUVM_ERR_BAD_HANDLE);
	assert_int_equal(gpuvm_ctx_synchronize(NULL), GPUVM_ERR_BAD_HANDLE);
	assert_int_equal(gpuvm_ctx_destroy(NULL), GPUVM_ERR_BAD_HANDLE);
	assert_int_equal(gpuvm_module_unload(NULL), GPUVM_ERR_BAD_HANDLE);
	assert_int_equal(gpuvm_mem_alloc(ctx, 0, &p), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_ctx_set_copy_path(ctx, (enum gpuvm_copy_path)9), GPUVM_ERR_INVALID);
	TG_OK(gpuvm_ctx_destroy(ctx));
	TG_OK(gpuvm_ctx_destroy(other));
}

/*
 * Two contexts: separate physical memory behind equal-looking addresses,
 * no access to each other's allocations, neither through copies nor from
 * kernels, and a fault in one leaves the other's data intact.
 */
static void test_isolation(void **state)
{
	struct gpuvm_ctx *a = tg_ctx(), *b = tg_ctx();
	struct gpuvm_module *bstore;
	uint32_t secret[256], seen[256], zero[256] = { 0 };
	gpuvm_devptr pa, pa2, pb;
	uint64_t phys_a, phys_b;

	(void)state;
	tg_fill(secret, sizeof(secret), 1234);
	TG_OK(gpuvm_mem_alloc(a, sizeof(secret), &pa));
	TG_OK(gpuvm_mem_alloc(a, 1 << 20, &pa2));
	TG_OK(gpuvm_memcpy_htod(a, pa, secret, sizeof(secret)));
	TG_OK(gpuvm_mem_alloc(b, sizeof(secret), &pb));
	bstore = tg_store_kernel(b);
	/* Own address spaces: the same virtual address, different memory. */
	assert_int_equal(pa, pb);
	TG_OK(gpuvm_raw_ctx_phys(a, pa, &phys_a));
	TG_OK(gpuvm_raw_ctx_phys(b, pb, &phys_b));
	assert_int_not_equal(phys_a, phys_b);
	TG_OK(gpuvm_memcpy_dtoh(b, seen, pb, sizeof(seen)));
	assert_memory_equal(seen, zero, sizeof(seen));
	/* A's second buffer does not exist for B: copies refuse, kernels fault. */
	assert_int_equal(gpuvm_memcpy_dtoh(b, seen, pa2, 4), GPUVM_ERR_INVALID);
	assert_int_equal(tg_store(b, bstore, pa2), GPUVM_ERR_FAULTED);
	/* A is untouched and still works. */
	TG_OK(gpuvm_memcpy_dtoh(a, seen, pa, sizeof(seen)));
	assert_memory_equal(seen, secret, sizeof(seen));
	run_vadd(a);
	TG_OK(gpuvm_ctx_destroy(b));
	TG_OK(gpuvm_ctx_destroy(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_is_reported_and_sticky),
		cmocka_unit_test(test_null_pointer_faults),
		cmocka_unit_test(test_bad_instruction),
		cmocka_unit_test(test_out_of_vram),
		cmocka_unit_test(test_bad_handles),
		cmocka_unit_test(test_isolation),
	};

	return cmocka_run_group_tests_name("guest faults and isolation", tests, NULL, NULL);
}

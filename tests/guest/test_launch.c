/*
 * Compute launches: parameters through the constant buffer, grids and
 * blocks, the workloads at small sizes (integers bit-exact, f32 within
 * tolerance), and launch arguments the driver must refuse.
 */
#include "gpuvm_workloads.h"
#include "util_guest.h"

static void test_launch_params(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_module *mod = tg_scale_kernel(ctx);
	const uint32_t n = 10007;
	uint32_t *in = malloc(n * 4), *out = malloc(n * 4);
	gpuvm_devptr din, dout;

	(void)state;
	tg_fill(in, n * 4, 9);
	TG_OK(gpuvm_mem_alloc(ctx, n * 4, &din));
	TG_OK(gpuvm_mem_alloc(ctx, n * 4, &dout));
	TG_OK(gpuvm_memcpy_htod(ctx, din, in, n * 4));
	/* Two launches back to back with different parameters: each sees its own. */
	TG_OK(tg_scale(ctx, mod, din, dout, n, 3, 11));
	TG_OK(tg_scale(ctx, mod, dout, dout, n - 7, 5, 0xffffffffu));
	TG_OK(gpuvm_memcpy_dtoh(ctx, out, dout, n * 4));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t want = in[i] * 3 + 11;

		if (i < n - 7)
			want = want * 5 + 0xffffffffu;
		assert_int_equal(out[i], want);
	}
	free(in);
	free(out);
	TG_OK(gpuvm_ctx_destroy(ctx));
}

/* Many queued launches with no synchronise between them keep their own parameters. */
static void test_queued_launches(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_module *mod = tg_scale_kernel(ctx);
	uint32_t v[64] = { 0 };
	gpuvm_devptr d;

	(void)state;
	TG_OK(gpuvm_mem_alloc(ctx, sizeof(v), &d));
	for (uint32_t i = 0; i < 600; i++) {     /* more than the GPFIFO ring holds */
		struct tg_scale_params prm = { d, d, 64, 1, i, 0 };
		struct gpuvm_launch l = { .grid = { 1, 1, 1 }, .block = { 64, 1, 1 },
					  .params = &prm, .param_bytes = sizeof(prm) };

		TG_OK(gpuvm_launch(mod, &l));
	}
	TG_OK(gpuvm_ctx_synchronize(ctx));
	TG_OK(gpuvm_memcpy_dtoh(ctx, v, d, sizeof(v)));
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(v[i], 599u * 600u / 2u);
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void run_workload(const char *name, uint64_t size, unsigned ms)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_workload_params p = { .size = size, .iters = 2, .ms = ms };
	struct gpuvm_workload_result r = { 0 };
	const struct gpuvm_workload *w = gpuvm_workload_find(name);

	assert_non_null(w);
	TG_OK(w->run(ctx, &p, &r));
	assert_true(r.verified);
	assert_true(r.seconds > 0);
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void test_workload_vadd(void **state) { (void)state; run_workload("vadd", 300001, 0); }
static void test_workload_madd(void **state) { (void)state; run_workload("madd", 77, 0); }
static void test_workload_mmul(void **state) { (void)state; run_workload("mmul", 70, 0); }
static void test_workload_memcpy(void **state) { (void)state; run_workload("memcpy", 3000001, 0); }
static void test_workload_busy(void **state) { (void)state; run_workload("busy", 32, 20); }

static void test_bad_launches(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_module *mod = tg_scale_kernel(ctx);
	uint32_t prm[4] = { 0 };
	struct gpuvm_launch l = { .block = { 32, 32, 2 } };

	(void)state;
	assert_int_equal(gpuvm_launch(mod, &l), GPUVM_ERR_INVALID);        /* 2048 threads */
	l.block = (struct gpuvm_dim3){ 1, 1, 1 };
	l.grid.x = 70000;
	assert_int_equal(gpuvm_launch(mod, &l), GPUVM_ERR_INVALID);
	l.grid.x = 1;
	l.params = prm;
	l.param_bytes = 6;
	assert_int_equal(gpuvm_launch(mod, &l), GPUVM_ERR_INVALID);
	l.param_bytes = GPUVM_PARAM_MAX_BYTES + 4;
	assert_int_equal(gpuvm_launch(mod, &l), GPUVM_ERR_INVALID);
	l.param_bytes = 0;
	l.entry = 1000;
	assert_int_equal(gpuvm_launch(mod, &l), GPUVM_ERR_INVALID);
	l.entry = 0;
	l.shared_bytes = 1u << 20;
	assert_int_equal(gpuvm_launch(mod, &l), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_launch(NULL, &l), GPUVM_ERR_BAD_HANDLE);
	assert_int_equal(gpuvm_module_load(ctx, NULL, 1, &mod), GPUVM_ERR_INVALID);
	TG_OK(gpuvm_ctx_synchronize(ctx));     /* nothing bad reached the GPU */
	TG_OK(gpuvm_module_unload(mod));
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void test_timing_record(void **state)
{
	struct gpuvm_timing t = { 0 };
	struct gpuvm_ctx *ctx = tg_ctx_opts(&(struct gpuvm_ctx_options){ .timing = &t });
	uint32_t v = 1;
	gpuvm_devptr d;

	(void)state;
	TG_OK(gpuvm_mem_alloc(ctx, 4, &d));
	TG_OK(gpuvm_memcpy_htod(ctx, d, &v, 4));
	TG_OK(gpuvm_memcpy_dtoh(ctx, &v, d, 4));
	TG_OK(gpuvm_ctx_synchronize(ctx));
	TG_OK(gpuvm_ctx_destroy(ctx));
	for (unsigned p = 0; p < GPUVM_PHASE_COUNT; p++) {
		assert_true(t.calls[p] >= 1);
		assert_true(t.ns[p] > 0);
	}
	assert_string_equal(gpuvm_phase_name(GPUVM_PHASE_LAUNCH_SYNC), "launch+sync");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launch_params),
		cmocka_unit_test(test_queued_launches),
		cmocka_unit_test(test_workload_vadd),
		cmocka_unit_test(test_workload_madd),
		cmocka_unit_test(test_workload_mmul),
		cmocka_unit_test(test_workload_memcpy),
		cmocka_unit_test(test_workload_busy),
		cmocka_unit_test(test_bad_launches),
		cmocka_unit_test(test_timing_record),
	};

	return cmocka_run_group_tests_name("guest launch", tests, NULL, NULL);
}

/*
 * Channels and fences: the instance block, channel table and runlist a
 * context creates; teardown; fences that complete; waits that time out and
 * stop the channel without hanging the test.
 */
#include <time.h>

#include "gpuvm_workloads.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "util_guest.h"

static uint32_t vram32(struct gpuvm_device *dev, uint64_t addr)
{
	uint32_t v = 0;

	TG_OK(gpuvm_raw_vram_read(dev, addr, &v, 4));
	return v;
}

static bool on_runlist(struct gpuvm_device *dev, int chid)
{
	uint64_t base = (uint64_t)(gpuvm_raw_rd32(dev, NV_PFIFO_RUNLIST_BASE) & 0x0fffffff) << 12;

	for (unsigned i = 0; i < NV_PFIFO_CHANNELS; i++) {
		if (vram32(dev, base + i * 8) == (uint32_t)chid &&
		    vram32(dev, base + i * 8 + 4) == NV_RUNLIST_ENTRY_WORD1)
			return true;
	}
	return false;
}

static void test_channel_layout(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_device *dev = gpuvm_ctx_device(ctx);
	struct gpuvm_ctx_layout lay;
	uint32_t inst_reg, gp_hi;

	(void)state;
	TG_OK(gpuvm_raw_ctx_layout(ctx, &lay));
	inst_reg = gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_INST(lay.chid));
	assert_true(inst_reg & NV_CHAN_INST_VALID);
	assert_int_equal((uint64_t)(inst_reg & NV_CHAN_INST_ADDR_MASK) << 12, lay.inst);
	assert_true(gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_CTRL(lay.chid)) & NV_CHAN_CTRL_RUNNABLE);
	assert_int_equal(vram32(dev, lay.inst + NV_RAMFC_USERD_LO), (uint32_t)lay.userd);
	assert_int_equal(vram32(dev, lay.inst + NV_INST_PD_LO) & ~0xfffu, (uint32_t)lay.pd);
	assert_int_equal(vram32(dev, lay.inst + NV_INST_LIMIT_LO), 0xffffffffu);
	assert_int_equal(vram32(dev, lay.inst + NV_INST_LIMIT_HI), 0xffu);
	gp_hi = vram32(dev, lay.inst + NV_RAMFC_GP_BASE_HI);
	assert_true(NV_RAMFC_GP_ORDER(gp_hi) >= 4);
	assert_true(on_runlist(dev, lay.chid));
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void test_two_channels_and_teardown(void **state)
{
	struct gpuvm_ctx *a = tg_ctx(), *b = tg_ctx();
	struct gpuvm_device *dev = gpuvm_ctx_device(a);
	int ca = gpuvm_ctx_channel(a), cb = gpuvm_ctx_channel(b);

	(void)state;
	assert_int_not_equal(ca, cb);
	assert_true(on_runlist(dev, ca) && on_runlist(dev, cb));
	TG_OK(gpuvm_device_open(TG_SPEC, &dev));    /* keep the device across the destroys */
	TG_OK(gpuvm_ctx_destroy(a));
	assert_int_equal(gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_INST(ca)), 0);
	assert_false(on_runlist(dev, ca));
	assert_true(on_runlist(dev, cb));
	TG_OK(gpuvm_ctx_destroy(b));
	assert_int_equal(gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_INST(cb)), 0);
	gpuvm_device_close(dev);
}

static uint32_t fence_value(struct gpuvm_ctx *ctx)
{
	struct gpuvm_ctx_layout lay;
	uint32_t v = 0;

	TG_OK(gpuvm_raw_ctx_layout(ctx, &lay));
	TG_OK(gpuvm_raw_bar_read(gpuvm_ctx_device(ctx), GPUVM_BAR1, lay.fence_bar1, &v, 4));
	return v;
}

/* Each submission ends with a fence; synchronise waits for the latest one. */
static void test_fence_sequence(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	uint32_t v1, v2, v3;
	gpuvm_devptr p;

	(void)state;
	TG_OK(gpuvm_ctx_synchronize(ctx));
	v1 = fence_value(ctx);
	assert_true(v1 >= 1);                          /* the engine binding was fenced */
	TG_OK(gpuvm_mem_alloc(ctx, 8192, &p));         /* its zero fill waits for a use */
	TG_OK(gpuvm_ctx_synchronize(ctx));
	assert_int_equal(fence_value(ctx), v1);
	TG_OK(gpuvm_memcpy_dtod(ctx, p + 4096, p, 4096));      /* fill and copy queued */
	TG_OK(gpuvm_ctx_synchronize(ctx));
	v2 = fence_value(ctx);
	assert_true(v2 > v1);
	TG_OK(gpuvm_ctx_synchronize(ctx));             /* nothing queued: no new fence */
	v3 = fence_value(ctx);
	assert_int_equal(v3, v2);
	assert_false(gpuvm_raw_rd32(gpuvm_ctx_device(ctx), NV_PFIFO_CHAN_CTRL(gpuvm_ctx_channel(ctx))) &
		     NV_CHAN_CTRL_PENDING);
	TG_OK(gpuvm_ctx_destroy(ctx));
}

/* A kernel longer than the timeout: the wait ends in time, the context is stopped. */
static void test_timeout_stops_channel(void **state)
{
	struct gpuvm_ctx *slow = tg_ctx_opts(&(struct gpuvm_ctx_options){ .timeout_ms = 100 });
	struct gpuvm_ctx *other = tg_ctx();
	const struct gpuvm_workload *busy = gpuvm_workload_find("busy");
	struct gpuvm_workload_params bp = { .ms = 3000 };
	struct gpuvm_workload_params vp = { .size = 5000 };
	struct gpuvm_workload_result res;
	struct timespec t0, t1;
	gpuvm_devptr p;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(busy->run(slow, &bp, &res), GPUVM_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(gpuvm_last_error(), "timed out"));
	/* Killing the channel aborted the kernel well before its 3 s. */
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(gpuvm_mem_alloc(slow, 4096, &p), GPUVM_ERR_TIMEOUT);
	TG_OK(gpuvm_workload_find("vadd")->run(other, &vp, &res));
	TG_OK(gpuvm_ctx_destroy(slow));
	TG_OK(gpuvm_ctx_destroy(other));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channel_layout),
		cmocka_unit_test(test_two_channels_and_teardown),
		cmocka_unit_test(test_fence_sequence),
		cmocka_unit_test(test_timeout_stops_channel),
	};

	return cmocka_run_group_tests_name("guest channel", tests, NULL, NULL);
}

/*
 * The guest library in every mode, end to end through gpuvmd's local
 * backend: each workload verified in full, pv-naive and pv, with the
 * isolation checker and gpusim's audit clean after each; the pv modes
 * write no page table the daemon has to shadow; a mode switch asked for
 * while a guest is running applies at its quiescent point and the next
 * context uses the new mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gpuvm_guest.h"
#include "gpuvm_raw.h"
#include "gpuvm_workloads.h"
#include "util_pvd.h"

static const char *const modes[] = { "full", "pv-naive", "pv" };

static int run_workload(const char *spec, const char *name, uint64_t size)
{
	struct gpuvm_workload_params p = { .size = size, .ms = 5 };
	struct gpuvm_workload_result r = { 0 };
	struct gpuvm_ctx *ctx = NULL;
	int err = gpuvm_ctx_open(spec, NULL, &ctx);

	/* Report a failed open too, before anything else can overwrite its message. */
	if (err) {
		print_error("opening a context on %s: %s (%s)\n", spec, gpuvm_strerror(err), gpuvm_last_error());
		return err;
	}
	err = gpuvm_workload_find(name)->run(ctx, &p, &r);
	gpuvm_ctx_destroy(ctx);
	if (err)
		print_error("%s on %s: %s (%s)\n", name, spec, gpuvm_strerror(err), gpuvm_last_error());
	return err;
}

static void test_every_workload_in_every_mode(void **state)
{
	static const struct {
		const char *name;
		uint64_t size;
	} work[] = {
		{ "memcpy", 4096 }, { "memcpy", 3u << 20 }, { "vadd", 100000 }, { "madd", 96 },
		{ "mmul", 64 }, { "busy", 0 },
	};
	struct pvd *t = pvd_up();

	(void)state;
	for (unsigned m = 0; m < 3; m++) {
		char name[16], spec[256];
		struct vgpu_info info;
		struct gpuvm_device *dev;

		snprintf(name, sizeof(name), "vm%u", m);
		pvd_create(t, name, modes[m]);
		pvd_spec(t, name, spec, sizeof(spec));
		/* Keep the device open across contexts, as an application would. */
		assert_int_equal(gpuvm_device_open(spec, &dev), GPUVM_OK);
		for (unsigned w = 0; w < sizeof(work) / sizeof(work[0]); w++) {
			assert_int_equal(run_workload(spec, work[w].name, work[w].size), GPUVM_OK);
			pvd_assert_isolated(t);
		}
		pvd_info(t, name, &info);
		assert_int_equal(info.mode, m);
		assert_int_equal(info.pv_errors, 0);
		assert_int_equal(info.faults, 0);
		if (m == 0) {
			assert_int_equal(info.pv_requests, 0);
		} else {
			assert_true(info.pv_requests > 0);
			/* Channel page tables are the daemon's: only the BAR VMs are shadowed. */
			assert_int_equal(info.pte_rejected, 0);
		}
		if (m == 2)
			assert_true(info.pv_requests > info.pv_doorbells);      /* batched */
		else if (m == 1)
			assert_int_equal(info.pv_requests, info.pv_doorbells);
		gpuvm_device_close(dev);
	}
	pvd_down(t);
}

/* Daemon counters over n contexts of one workload, the device kept open. */
static void context_cost(struct pvd *t, const char *name, const char *spec, unsigned n,
			 struct vgpu_info *before, struct vgpu_info *after)
{
	assert_int_equal(run_workload(spec, "vadd", 64), GPUVM_OK);     /* device up, area armed */
	pvd_info(t, name, before);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(run_workload(spec, "vadd", 64), GPUVM_OK);
	pvd_info(t, name, after);
}

/*
 * What a context costs in pv: its page-table, channel and submission work
 * travels in batches that one trapped read runs (RUN), so the driver makes
 * no trapped write at all, and far fewer batches than pv-naive's requests.
 */
static void test_pv_context_traps(void **state)
{
	struct pvd *t = pvd_up();
	struct vgpu_info b[2], a[2];
	const unsigned n = 3;

	(void)state;
	for (unsigned m = 0; m < 2; m++) {
		const char *name = m ? "fast" : "naive";
		char spec[256];
		struct gpuvm_device *dev;

		pvd_create(t, name, m ? "pv" : "pv-naive");
		pvd_spec(t, name, spec, sizeof(spec));
		assert_int_equal(gpuvm_device_open(spec, &dev), GPUVM_OK);
		context_cost(t, name, spec, n, &b[m], &a[m]);
		gpuvm_device_close(dev);
		pvd_assert_isolated(t);
	}
	assert_int_equal(a[1].mmio_writes - b[1].mmio_writes, 0);
	assert_true(a[0].mmio_writes - b[0].mmio_writes >= n);
	assert_true(a[1].submissions - b[1].submissions >= n);
	assert_true((a[1].pv_doorbells - b[1].pv_doorbells) * 3 < a[0].pv_doorbells - b[0].pv_doorbells);
	assert_int_equal(a[1].pv_errors, 0);
	pvd_down(t);
}

/* Trapped writes of a guest's device bring-up and one vadd context. */
static uint64_t bringup_writes(struct pvd *t, const char *name, bool dirty_first)
{
	char spec[256];
	struct gpuvm_device *dev;
	struct vgpu_info before, after;
	const uint32_t junk = 0xdeadbeef;

	pvd_spec(t, name, spec, sizeof(spec));
	assert_int_equal(gpuvm_device_open(spec, &dev), GPUVM_OK);
	if (dirty_first)        /* one word written: the partition is no longer fresh */
		assert_int_equal(gpuvm_raw_vram_write(dev, 64u << 20, &junk, sizeof(junk)), GPUVM_OK);
	pvd_info(t, name, &before);
	assert_int_equal(run_workload(spec, "vadd", 64), GPUVM_OK);
	pvd_info(t, name, &after);
	gpuvm_device_close(dev);
	return after.mmio_writes - before.mmio_writes;
}

/*
 * A vGPU fresh from its scrub says so (FRESH), and the driver then skips
 * zero-filling the tables it makes at bring-up; one that is not fresh gets
 * every word filled, and both run the same workload correctly.
 */
static void test_bringup_trusts_only_fresh_vram(void **state)
{
	struct pvd *t = pvd_up();
	uint64_t fresh, dirty;

	(void)state;
	pvd_create(t, "fresh", "full");
	pvd_create(t, "dirty", "full");
	fresh = bringup_writes(t, "fresh", false);
	dirty = bringup_writes(t, "dirty", true);
	assert_true(fresh < 2000);
	assert_true(dirty > fresh + 10000);
	pvd_assert_isolated(t);
	pvd_down(t);
}

/*
 * The guest reads MODE only when a batch is refused for the mode (with RUN
 * it trusts the last one): a switch from pv to pv-naive or full between two
 * contexts of an open device still takes effect at the next context.
 */
static void test_switch_between_contexts(void **state)
{
	struct pvd *t = pvd_up();
	char spec[256];
	struct gpuvm_device *dev;
	struct vgpu_info a, b;

	(void)state;
	pvd_create(t, "sw2", "pv");
	pvd_spec(t, "sw2", spec, sizeof(spec));
	assert_int_equal(gpuvm_device_open(spec, &dev), GPUVM_OK);
	assert_int_equal(run_workload(spec, "vadd", 64), GPUVM_OK);
	pvd_set_mode(t, "sw2", "pv-naive");
	pvd_info(t, "sw2", &a);
	assert_int_equal(a.mode, VGPU_MODE_PV_NAIVE);
	assert_int_equal(run_workload(spec, "vadd", 64), GPUVM_OK);
	pvd_info(t, "sw2", &b);
	assert_true(b.pv_requests > a.pv_requests);
	/* One request per doorbell, after the one RUN read refused for the mode. */
	assert_int_equal(b.pv_requests - a.pv_requests, b.pv_doorbells - a.pv_doorbells);
	assert_int_equal(b.pv_errors - a.pv_errors, 1);
	/* Back to pv (pv-naive reads MODE each time), then one context, then full. */
	pvd_set_mode(t, "sw2", "pv");
	assert_int_equal(run_workload(spec, "vadd", 64), GPUVM_OK);
	pvd_set_mode(t, "sw2", "full");
	pvd_info(t, "sw2", &a);
	assert_int_equal(run_workload(spec, "vadd", 64), GPUVM_OK);
	pvd_info(t, "sw2", &b);
	assert_int_equal(b.pv_requests, a.pv_requests);
	assert_int_equal(b.pv_errors - a.pv_errors, 1);      /* the refused batch */
	assert_true(b.mmio_writes > a.mmio_writes);
	assert_int_equal(b.faults, 0);
	gpuvm_device_close(dev);
	pvd_assert_isolated(t);
	pvd_down(t);
}

/* Without lazy shadowing and BAR remapping: slower, never wrong. */
static void test_full_without_optimisations(void **state)
{
	struct pvd *t = pvd_up();
	char spec[256];
	struct vgpu_info info;

	(void)state;
	pvd_create(t, "noopt", "full");
	pvd_set_opts(t, "noopt", "full", false);
	pvd_spec(t, "noopt", spec, sizeof(spec));
	assert_int_equal(run_workload(spec, "vadd", 256u << 10), GPUVM_OK);
	assert_int_equal(run_workload(spec, "memcpy", 64u << 10), GPUVM_OK);
	assert_int_equal(run_workload(spec, "mmul", 48), GPUVM_OK);
	pvd_assert_isolated(t);
	pvd_info(t, "noopt", &info);
	assert_false(info.opt_lazy);
	assert_false(info.opt_remap);
	assert_int_equal(info.faults, 0);
	pvd_down(t);
}

struct loop_arg {
	const char *spec;
	atomic_bool stop;
	unsigned runs, failures;
};

static void *workload_loop(void *p)
{
	struct loop_arg *a = p;

	while (!atomic_load(&a->stop)) {
		if (run_workload(a->spec, "vadd", 50000))
			a->failures++;
		a->runs++;
	}
	return NULL;
}

/* Switches asked for under load apply between contexts; every run verifies. */
static void test_mode_switch_under_load(void **state)
{
	struct pvd *t = pvd_up();
	char spec[256];
	struct gpuvm_device *dev;
	struct vgpu_info info;
	struct loop_arg a = { .spec = spec };
	pthread_t th;
	uint64_t before;

	(void)state;
	pvd_create(t, "sw", "pv");
	pvd_spec(t, "sw", spec, sizeof(spec));
	assert_int_equal(gpuvm_device_open(spec, &dev), GPUVM_OK);
	assert_int_equal(pthread_create(&th, NULL, workload_loop, &a), 0);
	for (unsigned i = 0; i < 9; i++) {
		struct timespec ts = { 0, 30 * 1000000 };

		pvd_set_mode(t, "sw", modes[i % 3]);
		nanosleep(&ts, NULL);
		pvd_assert_isolated(t);
	}
	pvd_set_mode(t, "sw", "full");
	atomic_store(&a.stop, true);
	pthread_join(th, NULL);
	assert_int_equal(a.failures, 0);
	assert_true(a.runs > 0);
	pvd_info(t, "sw", &info);
	assert_int_equal(info.mode, VGPU_MODE_FULL);       /* nothing bound now: applied */
	assert_true(info.mode_switches > 0);
	/* A new context runs in full mode: no PV request. */
	before = info.pv_requests;
	assert_int_equal(run_workload(spec, "vadd", 1000), GPUVM_OK);
	pvd_info(t, "sw", &info);
	assert_int_equal(info.pv_requests, before);
	pvd_set_mode(t, "sw", "pv");
	assert_int_equal(run_workload(spec, "mmul", 32), GPUVM_OK);
	pvd_info(t, "sw", &info);
	assert_true(info.pv_requests > before);
	pvd_assert_isolated(t);
	gpuvm_device_close(dev);
	pvd_down(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_workload_in_every_mode),
		cmocka_unit_test(test_pv_context_traps),
		cmocka_unit_test(test_bringup_trusts_only_fresh_vram),
		cmocka_unit_test(test_switch_between_contexts),
		cmocka_unit_test(test_mode_switch_under_load),
		cmocka_unit_test(test_full_without_optimisations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

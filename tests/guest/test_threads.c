/*
 * Contexts used from several threads at once: each thread owns one
 * context; device-wide state (VRAM allocator, BAR1 VM, runlist, PRAMIN
 * window) is shared and must stay consistent.
 */
#include <pthread.h>
#include <stdio.h>

#include "gpuvm_workloads.h"
#include "util_guest.h"

#define THREADS 4

struct worker {
	pthread_t tid;
	unsigned index;
	int err;
	char msg[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	static const char *const names[] = { "vadd", "mmul", "madd", "memcpy" };
	struct gpuvm_workload_params p = { .size = 0, .iters = 2 };
	struct gpuvm_workload_result r;
	struct gpuvm_ctx *ctx = NULL;

	switch (w->index) {
	case 0: p.size = 200000; break;
	case 1: p.size = 64; break;
	case 2: p.size = 100; break;
	default: p.size = 3u << 20; break;
	}
	w->err = gpuvm_ctx_open(TG_SPEC, &(struct gpuvm_ctx_options){ .timeout_ms = TG_TIMEOUT_MS },
				&ctx);
	for (unsigned round = 0; round < 3 && !w->err; round++)
		w->err = gpuvm_workload_find(names[w->index % 4])->run(ctx, &p, &r);
	if (w->err)
		snprintf(w->msg, sizeof(w->msg), "%s", gpuvm_last_error());
	if (ctx)
		gpuvm_ctx_destroy(ctx);
	return NULL;
}

static void test_concurrent_contexts(void **state)
{
	struct worker w[THREADS] = { 0 };
	struct gpuvm_device *dev;
	struct gpuvm_device_info info;

	(void)state;
	TG_OK(gpuvm_device_open(TG_SPEC, &dev));
	for (unsigned i = 0; i < THREADS; i++) {
		w[i].index = i;
		assert_int_equal(pthread_create(&w[i].tid, NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].err)
			print_error("worker %u: %s\n", i, w[i].msg);
		assert_int_equal(w[i].err, GPUVM_OK);
	}
	TG_OK(gpuvm_device_info(dev, &info));
	assert_int_equal(info.channels, 0);
	gpuvm_device_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_contexts),
	};

	return cmocka_run_group_tests_name("guest threads", tests, NULL, NULL);
}

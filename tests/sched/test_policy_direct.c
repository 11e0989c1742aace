/*
 * The direct policy: no scheduling at all.  Every submission is released
 * at once and the GPU's own round robin decides; the simulator shows that
 * GPU time then follows kernel length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sched_policy.h"
#include "util_sim.h"
#include "util_state.h"

static const struct sched_policy *const direct = &sched_policy_direct;

static void test_does_not_serialize(void **state)
{
	(void)state;
	assert_false(direct->serialize);
	assert_string_equal(direct->name, "direct");
}

static void test_picks_any_vm_with_work(void **state)
{
	struct st t;
	uint64_t retry = 1;

	(void)state;
	st_setup(&t, direct, 3);
	assert_null(st_pick(&t, 0, &retry));
	assert_int_equal(retry, 0);
	t.vm[2].queued = 1;
	assert_ptr_equal(st_pick(&t, 0, NULL), &t.vm[2]);
	t.vm[1].queued = 3;
	struct sched_vm *vm = st_pick(&t, 0, NULL);

	assert_true(vm == &t.vm[1] || vm == &t.vm[2]);
	/* Charges and ticks change nothing it decides on. */
	st_release(&t, vm, 0);
	st_complete(&t, vm, 500 * ST_MS, 500 * ST_MS);
	direct->tick(&t.s, 500 * ST_MS);
	assert_non_null(st_pick(&t, 500 * ST_MS, NULL));
	st_teardown(&t);
}

/* Everything goes out at once: GPU time follows kernel length, no idling. */
static void test_gpu_time_follows_kernel_length(void **state)
{
	static const char *const names[] = { "short", "long" };
	struct sim_cfg cfg = { .policy = direct, .nvms = 2, .duration_ns = 5 * SIM_S };

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		cfg.vm[i].name = names[i];
		cfg.vm[i].kernel_ns = i ? 10 * SIM_MS : SIM_MS;
		cfg.vm[i].cap = 10;  /* ignored */
	}
	struct sim *m = sim_run(&cfg);

	sim_report(m, "1 ms vs 10 ms kernels, cap 10% (ignored)", 0, m->nwindows, 0x3);
	assert_true(sim_share(m, 0, 0, m->nwindows) < 0.1);
	assert_true(sim_share(m, 1, 0, m->nwindows) > 0.9);
	assert_true(sim_idle_share(m, 0, m->nwindows) < 0.001);
	/* All of a VM's outstanding work was released as soon as it came. */
	assert_true(m->res[0].releases >= m->res[0].completions);
	sim_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_does_not_serialize),
		cmocka_unit_test(test_picks_any_vm_with_work),
		cmocka_unit_test(test_gpu_time_follows_kernel_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

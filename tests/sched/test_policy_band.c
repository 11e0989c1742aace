/*
 * The band policy: its two departures from credit (lingering for a VM
 * under its share, full repayment of overruns) on hand-made state, then
 * the same fairness scenarios as credit, then the workloads where band must
 * do better than credit.  Default parameters: 30 ms period, 10 ms slice,
 * so band lingers 250 us and keeps up to 120 ms of debt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sched_policy.h"
#include "util_scenario.h"
#include "util_state.h"

#define P (30 * ST_MS)
#define LINGER (250 * ST_US)

static const struct sched_policy *const band = &sched_policy_band;

/* vm0 runs one kernel of ns and completes at ns with nothing queued; vm1 waits. */
static void run_one_kernel_of_vm0(struct st *t, uint64_t ns)
{
	st_setup(t, band, 2);
	t->vm[0].queued = 1;
	t->vm[1].queued = 5;
	band->tick(&t->s, 0);
	assert_ptr_equal(st_pick(t, 0, NULL), &t->vm[0]);
	st_release(t, &t->vm[0], 0);
	st_complete(t, &t->vm[0], ns, ns);
}

static void test_lingers_for_vm_under_its_share(void **state)
{
	struct st t;
	uint64_t retry = 0;

	(void)state;
	run_one_kernel_of_vm0(&t, ST_MS);
	assert_null(st_pick(&t, ST_MS, &retry));
	assert_int_equal(retry, ST_MS + LINGER);
	/* vm0 submits again within the linger: it keeps the GPU. */
	t.vm[0].queued = 1;
	assert_ptr_equal(st_pick(&t, ST_MS + 50 * ST_US, NULL), &t.vm[0]);
	st_teardown(&t);
}

static void test_linger_expires(void **state)
{
	struct st t;

	(void)state;
	run_one_kernel_of_vm0(&t, ST_MS);
	assert_null(st_pick(&t, ST_MS + LINGER - 1, NULL));
	assert_ptr_equal(st_pick(&t, ST_MS + LINGER, NULL), &t.vm[1]);
	st_teardown(&t);
}

/* A VM that used its credit, or its slice, is not waited for. */
static void test_no_linger_for_vm_at_its_share(void **state)
{
	struct st t;

	(void)state;
	run_one_kernel_of_vm0(&t, 20 * ST_MS);     /* credit 15 - 20 < 0 */
	assert_true(t.vm[0].credit < 0);
	assert_ptr_equal(st_pick(&t, 20 * ST_MS, NULL), &t.vm[1]);
	st_teardown(&t);

	run_one_kernel_of_vm0(&t, 10 * ST_MS);     /* the whole slice */
	assert_true(t.vm[0].credit > 0);
	assert_ptr_equal(st_pick(&t, 10 * ST_MS, NULL), &t.vm[1]);
	st_teardown(&t);
}

/* A capped VM is not waited for either: it may not run anyway. */
static void test_no_linger_for_capped_vm(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, band, 2);
	t.vm[0].cap = 10;          /* 3 ms per period */
	t.vm[0].queued = 1;
	t.vm[1].queued = 5;
	band->tick(&t.s, 0);
	st_release(&t, st_pick(&t, 0, NULL), 0);
	st_complete(&t, &t.vm[0], 3 * ST_MS, 3 * ST_MS);
	assert_ptr_equal(st_pick(&t, 3 * ST_MS, NULL), &t.vm[1]);
	st_teardown(&t);
}

/* An overrun is kept as debt down to four periods, not one as in credit. */
static void test_debt_floor_is_four_periods(void **state)
{
	struct st t;

	(void)state;
	run_one_kernel_of_vm0(&t, 200 * ST_MS);
	assert_int_equal(t.vm[0].credit, -4 * (int64_t)P);
	/* It yields: vm1 runs until vm0's credit is back above vm1's. */
	assert_ptr_equal(st_pick(&t, 200 * ST_MS, NULL), &t.vm[1]);
	st_teardown(&t);
}

#define SCENARIO(fn, ...) \
	static void test_##fn(void **state) { (void)state; scenario_##fn(band, ##__VA_ARGS__); }
SCENARIO(weights)
SCENARIO(weights_mixed_kernels)
SCENARIO(kernel_skew)
SCENARIO(cap_alone)
SCENARIO(cap_with_others)
SCENARIO(uncapped_alone_gets_all)
SCENARIO(giant_kernel, 4)
SCENARIO(idle_then_busy)
SCENARIO(flood)
SCENARIO(removal)
SCENARIO(polling_mechanism)

/* Lingering gives a synchronous VM its half; credit gives it about 1/11. */
static void test_sync_vm_gets_its_share(void **state)
{
	(void)state;
	double with_band = scenario_sync_vs_long(band, 0);
	double with_credit = scenario_sync_vs_long(&sched_policy_credit, 0);
	/* Completions seen up to 25 us late still fall within the linger. */
	double polled = scenario_sync_vs_long(band, 25 * ST_US);

	printf("  synchronous VM's share: band %.2f%% (%.2f%% polling), credit %.2f%%\n",
	       100.0 * with_band, 100.0 * polled, 100.0 * with_credit);
	assert_true(with_band > 0.48 && with_band < 0.52);
	assert_true(polled > 0.48 && polled < 0.52);
	assert_true(with_band > with_credit + 0.3);
}

/* Kernels longer than a period: band evens shares out, credit does not. */
static void test_long_kernels_even_out(void **state)
{
	(void)state;
	double with_band = scenario_long_kernels(band);
	double with_credit = scenario_long_kernels(&sched_policy_credit);

	printf("  largest distance from 25%%: band %.2f points, credit %.2f points\n",
	       100.0 * with_band, 100.0 * with_credit);
	assert_true(with_band <= 0.02);
	assert_true(with_credit > with_band);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lingers_for_vm_under_its_share),
		cmocka_unit_test(test_linger_expires),
		cmocka_unit_test(test_no_linger_for_vm_at_its_share),
		cmocka_unit_test(test_no_linger_for_capped_vm),
		cmocka_unit_test(test_debt_floor_is_four_periods),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_weights_mixed_kernels),
		cmocka_unit_test(test_kernel_skew),
		cmocka_unit_test(test_cap_alone),
		cmocka_unit_test(test_cap_with_others),
		cmocka_unit_test(test_uncapped_alone_gets_all),
		cmocka_unit_test(test_giant_kernel),
		cmocka_unit_test(test_idle_then_busy),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_removal),
		cmocka_unit_test(test_polling_mechanism),
		cmocka_unit_test(test_sync_vm_gets_its_share),
		cmocka_unit_test(test_long_kernels_even_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

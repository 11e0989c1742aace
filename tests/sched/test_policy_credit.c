/*
 * The credit policy: each accounting rule on hand-made state (util_state),
 * then the fairness scenarios on the simulator (util_scenario).  Default
 * parameters throughout: 30 ms period, 10 ms tick, 10 ms slice.
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

static const struct sched_policy *const credit = &sched_policy_credit;

static void test_zero_params_get_defaults(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 1);
	assert_int_equal(t.s.params.period_ns, SCHED_DEFAULT_PERIOD_NS);
	assert_int_equal(t.s.params.tick_ns, SCHED_DEFAULT_TICK_NS);
	assert_int_equal(t.s.params.tslice_ns, 10 * ST_MS);
	st_teardown(&t);
}

/* Credit goes to competing VMs by weight; an idle VM gets none. */
static void test_refill_by_weight_among_active(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 3);
	t.vm[1].weight = 768;
	t.vm[0].queued = 1;
	t.vm[1].queued = 1;
	credit->tick(&t.s, 0);
	assert_int_equal(t.vm[0].credit, P / 4);
	assert_int_equal(t.vm[1].credit, 3 * P / 4);
	assert_int_equal(t.vm[2].credit, 0);
	credit->tick(&t.s, 10 * ST_MS);
	credit->tick(&t.s, 20 * ST_MS);
	assert_int_equal(t.vm[0].credit, P / 4);
	credit->tick(&t.s, P);
	assert_int_equal(t.vm[0].credit, 2 * P / 4);
	assert_int_equal(t.vm[1].credit, 2 * 3 * P / 4);
	st_teardown(&t);
}

/* Unused credit carries over one period at most: never above two shares. */
static void test_carry_over_is_one_period(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[0].queued = 1;
	t.vm[1].queued = 1;
	for (uint64_t now = 0; now <= 10 * P; now += 10 * ST_MS)
		credit->tick(&t.s, now);
	assert_int_equal(t.vm[0].credit, 2 * P / 2);
	assert_int_equal(t.vm[1].credit, 2 * P / 2);
	st_teardown(&t);
}

/* An idle VM keeps at most what one period would give it if it joined. */
static void test_idle_vm_does_not_bank(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[0].queued = 1;
	t.vm[1].credit = 50 * ST_MS;
	credit->tick(&t.s, 0);
	assert_int_equal(t.vm[1].credit, P / 2);
	for (uint64_t now = P; now <= 100 * P; now += P)
		credit->tick(&t.s, now);
	assert_int_equal(t.vm[1].credit, P / 2);
	st_teardown(&t);
}

/* A giant kernel leaves one period's worth of debt, no more. */
static void test_debt_floor_is_one_period(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[0].queued = 1;
	t.vm[1].queued = 1;
	st_release(&t, st_pick(&t, 0, NULL), 0);
	assert_ptr_equal(t.s.running, &t.vm[0]);
	st_complete(&t, &t.vm[0], 200 * ST_MS, 200 * ST_MS);
	assert_int_equal(t.vm[0].credit, -(int64_t)P);
	assert_int_equal(t.vm[0].used_in_period, 200 * ST_MS);
	st_teardown(&t);
}

/* Debt of a VM that went idle is forgiven at its share's rate, to zero. */
static void test_idle_debt_is_forgiven(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[0].queued = 1;
	t.vm[1].queued = 1;
	st_release(&t, st_pick(&t, 0, NULL), 0);
	st_complete(&t, &t.vm[0], 200 * ST_MS, 200 * ST_MS);
	credit->tick(&t.s, 7 * P); /* still recent: repays like an active VM */
	assert_int_equal(t.vm[0].credit, -(int64_t)P / 2);
	credit->tick(&t.s, 8 * P);
	assert_int_equal(t.vm[0].credit, 0);
	credit->tick(&t.s, 20 * P);
	assert_int_equal(t.vm[0].credit, 0);
	st_teardown(&t);
}

/*
 * Everyone in debt: lifted, in periods of each one's share, until the one
 * furthest ahead is at zero; then the refill.  Differences stay.
 */
static void test_shared_debt_is_forgiven(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[1].weight = 512;
	t.vm[0].queued = 1;
	t.vm[1].queued = 1;
	credit->tick(&t.s, 0);
	t.vm[0].credit = -20 * (int64_t)ST_MS;  /* 2 periods of its 10 ms share behind */
	t.vm[1].credit = -10 * (int64_t)ST_MS;  /* half a period of its 20 ms share */
	credit->tick(&t.s, P);
	assert_int_equal(t.vm[1].credit, 0 + 20 * ST_MS);
	assert_int_equal(t.vm[0].credit, -15 * (int64_t)ST_MS + 10 * (int64_t)ST_MS);
	st_teardown(&t);
}

static void test_picks_most_credit(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 3);
	for (unsigned i = 0; i < 3; i++)
		t.vm[i].queued = 1;
	credit->tick(&t.s, 0);
	t.vm[0].credit = 1 * ST_MS;
	t.vm[1].credit = 5 * ST_MS;
	t.vm[2].credit = 3 * ST_MS;
	assert_ptr_equal(st_pick(&t, 1, NULL), &t.vm[1]);
	/* Negative credit does not idle the GPU. */
	t.vm[0].credit = -9 * ST_MS;
	t.vm[1].queued = 0;
	t.vm[2].queued = 0;
	assert_ptr_equal(st_pick(&t, 2, NULL), &t.vm[0]);
	st_teardown(&t);
}

/* Equal credit: round robin from the VM after the last one picked. */
static void test_ties_go_round_robin(void **state)
{
	struct st t;
	uint64_t now = 0;

	(void)state;
	st_setup(&t, credit, 3);
	for (unsigned i = 0; i < 3; i++)
		t.vm[i].queued = 100;
	credit->tick(&t.s, 0);
	for (unsigned round = 0; round < 6; round++) {
		struct sched_vm *vm = st_pick(&t, now, NULL);

		assert_ptr_equal(vm, &t.vm[round % 3]);
		st_release(&t, vm, now);
		now += 10 * ST_MS;  /* a whole slice: the next pick moves on */
		st_complete(&t, vm, 10 * ST_MS, now);
	}
	st_teardown(&t);
}

/*
 * The mechanism asks again and again while the running VM drains before a
 * switch: the answer must not change while nothing is charged, even among
 * VMs whose credit ties.
 */
static void test_pending_switch_is_stable(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 3);
	for (unsigned i = 0; i < 3; i++)
		t.vm[i].queued = 100;
	credit->tick(&t.s, 0);
	st_release(&t, st_pick(&t, 0, NULL), 0);   /* vm0, length unknown: one in flight */
	t.vm[0].credit = 5 * ST_MS;
	t.vm[1].credit = -ST_MS;
	t.vm[2].credit = -ST_MS;
	for (unsigned i = 0; i < 5; i++)
		assert_ptr_equal(st_pick(&t, (1 + i) * ST_US, NULL), &t.vm[1]);
	st_teardown(&t);
}

/* The current VM keeps the GPU while it has credit and slice left. */
static void test_owner_keeps_its_slice(void **state)
{
	struct st t;
	uint64_t now = 0;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[0].queued = 100;
	t.vm[1].queued = 100;
	credit->tick(&t.s, 0);
	for (unsigned i = 0; i < 10; i++) {
		assert_ptr_equal(st_pick(&t, now, NULL), &t.vm[0]);
		st_release(&t, &t.vm[0], now);
		now += ST_MS;
		st_complete(&t, &t.vm[0], ST_MS, now);
	}
	/* 10 ms used: the slice is over although vm0 still has credit. */
	assert_true(t.vm[0].credit > 0);
	assert_ptr_equal(st_pick(&t, now, NULL), &t.vm[1]);
	st_teardown(&t);
}

/* ... and loses it as soon as its credit runs out, slice or not. */
static void test_owner_loses_gpu_without_credit(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 2);
	t.s.params.tslice_ns = 100 * ST_MS;
	t.vm[0].queued = 100;
	t.vm[1].queued = 100;
	credit->tick(&t.s, 0);
	st_release(&t, st_pick(&t, 0, NULL), 0);
	st_complete(&t, &t.vm[0], P / 2 - ST_MS / 2, 15 * ST_MS);
	assert_int_equal(t.vm[0].credit, ST_MS / 2);
	assert_ptr_equal(st_pick(&t, 15 * ST_MS, NULL), &t.vm[0]);
	st_release(&t, &t.vm[0], 15 * ST_MS);
	st_complete(&t, &t.vm[0], ST_MS, 16 * ST_MS);
	assert_ptr_equal(st_pick(&t, 16 * ST_MS, NULL), &t.vm[1]);
	st_teardown(&t);
}

/*
 * Pipelining: a VM with no history gets one submission on the hardware;
 * once its submissions are known to take 1 ms, up to a slice (10) of them.
 */
static void test_pipeline_holds_one_slice(void **state)
{
	struct st t;
	uint64_t retry = 1;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[0].queued = 100;
	credit->tick(&t.s, 0);
	st_release(&t, st_pick(&t, 0, NULL), 0);
	assert_null(st_pick(&t, 0, &retry));
	assert_int_equal(retry, 0); /* the completion brings the next pick */
	st_complete(&t, &t.vm[0], ST_MS, ST_MS);
	while (st_pick(&t, ST_MS, &retry))
		st_release(&t, &t.vm[0], ST_MS);
	assert_int_equal(t.vm[0].in_flight, 10);
	assert_int_equal(retry, 0);
	st_teardown(&t);
}

/* Cap: out for the rest of the period, with over-use carried into the next. */
static void test_cap_stops_until_next_period(void **state)
{
	struct st t;
	uint64_t retry = 0;

	(void)state;
	st_setup(&t, credit, 1);
	t.vm[0].cap = 20;          /* 6 ms of each 30 ms period */
	t.vm[0].queued = 100;
	credit->tick(&t.s, 0);
	st_release(&t, st_pick(&t, 0, NULL), 0);
	st_complete(&t, &t.vm[0], 6 * ST_MS, 6 * ST_MS);
	assert_true(t.vm[0].capped);
	assert_null(st_pick(&t, 6 * ST_MS, &retry));
	assert_int_equal(retry, P);
	credit->tick(&t.s, 10 * ST_MS);
	assert_null(st_pick(&t, 29 * ST_MS, &retry));
	assert_int_equal(retry, P);
	/* Next period: free again.  A 10 ms kernel overruns the 6 ms budget... */
	assert_ptr_equal(st_pick(&t, P, NULL), &t.vm[0]);
	st_release(&t, &t.vm[0], P);
	st_complete(&t, &t.vm[0], 10 * ST_MS, 40 * ST_MS);
	assert_null(st_pick(&t, 40 * ST_MS, &retry));
	assert_int_equal(retry, 2 * P);
	/* ... so the next period starts with 4 ms already used. */
	assert_ptr_equal(st_pick(&t, 2 * P, NULL), &t.vm[0]);
	assert_int_equal(t.vm[0].used_in_period, 4 * ST_MS);
	st_release(&t, &t.vm[0], 2 * P);
	st_complete(&t, &t.vm[0], 2 * ST_MS, 62 * ST_MS);
	assert_null(st_pick(&t, 62 * ST_MS, &retry));
	assert_int_equal(retry, 3 * P);
	st_teardown(&t);
}

static void test_cap_zero_or_100_is_none(void **state)
{
	static const unsigned caps[] = { 0, 100, 150 };

	(void)state;
	for (unsigned c = 0; c < 3; c++) {
		struct st t;

		st_setup(&t, credit, 1);
		t.vm[0].cap = caps[c];
		t.vm[0].queued = 100;
		credit->tick(&t.s, 0);
		st_release(&t, st_pick(&t, 0, NULL), 0);
		st_complete(&t, &t.vm[0], P, P - 1);
		assert_false(t.vm[0].capped);
		assert_ptr_equal(st_pick(&t, P - 1, NULL), &t.vm[0]);
		st_teardown(&t);
	}
}

/* gpuvmctl may lift a cap at any time: it applies at once. */
static void test_cap_lifted_applies_at_once(void **state)
{
	struct st t;

	(void)state;
	st_setup(&t, credit, 1);
	t.vm[0].cap = 20;
	t.vm[0].queued = 100;
	credit->tick(&t.s, 0);
	st_release(&t, st_pick(&t, 0, NULL), 0);
	st_complete(&t, &t.vm[0], 6 * ST_MS, 6 * ST_MS);
	assert_null(st_pick(&t, 6 * ST_MS, NULL));
	t.vm[0].cap = 0;
	assert_ptr_equal(st_pick(&t, 6 * ST_MS, NULL), &t.vm[0]);
	st_teardown(&t);
}

static void test_nothing_queued_picks_nothing(void **state)
{
	struct st t;
	uint64_t retry = 1;

	(void)state;
	st_setup(&t, credit, 3);
	assert_null(st_pick(&t, 0, &retry));
	assert_int_equal(retry, 0);
	st_teardown(&t);
}

/* Removing the current VM (with queued work) leaves a consistent policy. */
static void test_remove_current_vm(void **state)
{
	struct st t;
	struct sched_vm late = { .id = 9, .name = "late", .weight = SCHED_DEFAULT_WEIGHT };

	(void)state;
	st_setup(&t, credit, 3);
	for (unsigned i = 0; i < 3; i++)
		t.vm[i].queued = 100;
	credit->tick(&t.s, 0);
	st_release(&t, st_pick(&t, 0, NULL), 0);
	st_complete(&t, &t.vm[0], ST_MS, ST_MS);
	st_remove(&t, &t.vm[0]);
	for (unsigned i = 0; i < 10; i++) {
		struct sched_vm *vm = st_pick(&t, (2 + i) * ST_MS, NULL);

		assert_true(vm == &t.vm[1] || vm == &t.vm[2]);
		st_release(&t, vm, (2 + i) * ST_MS);
		st_complete(&t, vm, ST_MS, (3 + i) * ST_MS);
	}
	/* Its slot is free for a new VM. */
	late.queued = 1;
	t.s.vms[t.s.n++] = &late;
	credit->vm_added(&t.s, &late, 20 * ST_MS);
	t.vm[1].queued = 0;
	t.vm[2].queued = 0;
	assert_ptr_equal(st_pick(&t, 20 * ST_MS, NULL), &late);
	st_teardown(&t);
}

/* A policy switched in at run time adopts the VMs that exist. */
static void test_init_adopts_existing_vms(void **state)
{
	struct sched_vm vm = { .id = 1, .name = "old", .weight = 256, .queued = 100, .credit = 99 };
	struct sched_state s = { .vms = { &vm }, .n = 1, .policy = credit };
	uint64_t retry;

	(void)state;
	assert_int_equal(credit->init(&s), 0);
	assert_int_equal(vm.credit, 0);
	assert_non_null(credit->pick(&s, 0, &retry));
	vm.queued--;
	vm.in_flight++;
	vm.in_flight--;
	credit->charge(&s, &vm, ST_MS, ST_MS);
	/* Its submissions are now known to be short: several may be in flight. */
	for (unsigned i = 0; i < 3; i++) {
		assert_ptr_equal(credit->pick(&s, ST_MS, &retry), &vm);
		vm.queued--;
		vm.in_flight++;
	}
	credit->fini(&s);
	assert_null(s.policy_data);
}

/* A clock that jumps far ahead is one big catch-up, not a loop or overflow. */
static void test_clock_jump(void **state)
{
	struct st t;
	uint64_t far = 1000000000000000000ull;

	(void)state;
	st_setup(&t, credit, 2);
	t.vm[0].queued = 1;
	credit->tick(&t.s, 0);
	credit->tick(&t.s, far);
	assert_int_equal(t.vm[0].credit, 2 * P);
	assert_ptr_equal(st_pick(&t, far + 1, NULL), &t.vm[0]);
	st_teardown(&t);
}

#define SCENARIO(fn, ...) \
	static void test_##fn(void **state) { (void)state; scenario_##fn(credit, ##__VA_ARGS__); }
SCENARIO(weights)
SCENARIO(weights_mixed_kernels)
SCENARIO(kernel_skew)
SCENARIO(cap_alone)
SCENARIO(cap_with_others)
SCENARIO(uncapped_alone_gets_all)
SCENARIO(giant_kernel, 1)
SCENARIO(idle_then_busy)
SCENARIO(flood)
SCENARIO(removal)
SCENARIO(polling_mechanism)

/* Credit's known limits, which band addresses (test_policy_band.c). */
static void test_limits_measured(void **state)
{
	(void)state;
	double sync = scenario_sync_vs_long(credit, 0);
	double off = scenario_long_kernels(credit);

	/* A synchronous VM gets far less than half; long kernels get ahead. */
	assert_true(sync < 0.2);
	assert_true(off > 0.05);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_params_get_defaults),
		cmocka_unit_test(test_refill_by_weight_among_active),
		cmocka_unit_test(test_carry_over_is_one_period),
		cmocka_unit_test(test_idle_vm_does_not_bank),
		cmocka_unit_test(test_debt_floor_is_one_period),
		cmocka_unit_test(test_idle_debt_is_forgiven),
		cmocka_unit_test(test_shared_debt_is_forgiven),
		cmocka_unit_test(test_picks_most_credit),
		cmocka_unit_test(test_ties_go_round_robin),
		cmocka_unit_test(test_pending_switch_is_stable),
		cmocka_unit_test(test_owner_keeps_its_slice),
		cmocka_unit_test(test_owner_loses_gpu_without_credit),
		cmocka_unit_test(test_pipeline_holds_one_slice),
		cmocka_unit_test(test_cap_stops_until_next_period),
		cmocka_unit_test(test_cap_zero_or_100_is_none),
		cmocka_unit_test(test_cap_lifted_applies_at_once),
		cmocka_unit_test(test_nothing_queued_picks_nothing),
		cmocka_unit_test(test_remove_current_vm),
		cmocka_unit_test(test_init_adopts_existing_vms),
		cmocka_unit_test(test_clock_jump),
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
		cmocka_unit_test(test_limits_measured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

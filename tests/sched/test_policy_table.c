/*
 * sched_policy_find and what every policy must offer the mechanism: all
 * ops present (gpu_sched.c calls some unconditionally), init/fini that
 * clean up, and a pick that never returns a VM without queued work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sched_policy.h"
#include "util_state.h"

static const struct sched_policy *const all[] = {
	&sched_policy_direct, &sched_policy_fifo, &sched_policy_credit, &sched_policy_band,
};
#define NPOLICIES (sizeof(all) / sizeof(all[0]))

static void test_find_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(sched_policy_find("direct"), &sched_policy_direct);
	assert_ptr_equal(sched_policy_find("fifo"), &sched_policy_fifo);
	assert_ptr_equal(sched_policy_find("credit"), &sched_policy_credit);
	assert_ptr_equal(sched_policy_find("band"), &sched_policy_band);
	/* As the papers write them. */
	assert_ptr_equal(sched_policy_find("CREDIT"), &sched_policy_credit);
	assert_ptr_equal(sched_policy_find("Band"), &sched_policy_band);
}

static void test_find_unknown_is_null(void **state)
{
	(void)state;
	assert_null(sched_policy_find("round-robin"));
	assert_null(sched_policy_find(""));
	assert_null(sched_policy_find("credit "));
	assert_null(sched_policy_find("ban"));
	assert_null(sched_policy_find(NULL));
}

static void test_every_policy_is_complete(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPOLICIES; i++) {
		const struct sched_policy *p = all[i];

		assert_non_null(p->name);
		assert_ptr_equal(sched_policy_find(p->name), p);
		assert_non_null(p->init);
		assert_non_null(p->fini);
		assert_non_null(p->vm_added);
		assert_non_null(p->vm_removed);
		assert_non_null(p->pick);
		assert_non_null(p->charge);
		assert_non_null(p->tick);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(p->name, all[j]->name);
	}
}

/*
 * Every policy through a short life: add, work, remove, fini.  Under
 * SANITIZE=1 this also proves fini frees what init allocated.
 */
static void test_every_policy_lifecycle(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPOLICIES; i++) {
		struct st t;
		uint64_t now = 0;

		st_setup(&t, all[i], 3);
		for (unsigned v = 0; v < 3; v++)
			t.vm[v].queued = 5;
		for (unsigned n = 0; n < 12; n++, now += ST_MS) {
			struct sched_vm *vm = st_pick(&t, now, NULL);

			all[i]->tick(&t.s, now);
			if (!vm)
				continue;
			st_release(&t, vm, now);
			st_complete(&t, vm, ST_MS, now + ST_MS);
		}
		st_remove(&t, &t.vm[1]);
		assert_int_equal(t.s.n, 2);
		st_teardown(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_by_name),
		cmocka_unit_test(test_find_unknown_is_null),
		cmocka_unit_test(test_every_policy_is_complete),
		cmocka_unit_test(test_every_policy_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

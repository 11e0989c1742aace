/*
 * The fifo policy: oldest submission first across VMs, one VM on the GPU
 * at a time; fair in submissions, so unfair in GPU time when kernel lengths
 * differ, which the simulator measures.
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

static const struct sched_policy *const fifo = &sched_policy_fifo;

static void test_serializes(void **state)
{
	(void)state;
	assert_true(fifo->serialize);
	assert_string_equal(fifo->name, "fifo");
}

static void test_oldest_submission_first(void **state)
{
	struct st t;
	uint64_t retry = 1;

	(void)state;
	st_setup(&t, fifo, 4);
	assert_null(st_pick(&t, 0, &retry));
	assert_int_equal(retry, 0);
	t.vm[0].queued = 2;
	t.vm[0].first_queued_at = 300;
	t.vm[1].first_queued_at = 100;      /* nothing queued: ignored */
	t.vm[2].queued = 1;
	t.vm[2].first_queued_at = 200;
	t.vm[3].queued = 1;
	t.vm[3].first_queued_at = 200;
	/* vm2 and vm3 arrived together: the lower id goes first. */
	assert_ptr_equal(st_pick(&t, 400, NULL), &t.vm[2]);
	t.vm[2].queued = 0;
	assert_ptr_equal(st_pick(&t, 400, NULL), &t.vm[3]);
	t.vm[3].queued = 0;
	assert_ptr_equal(st_pick(&t, 400, NULL), &t.vm[0]);
	st_teardown(&t);
}

static struct sim *run_skew(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, SIM_MS, 10 * SIM_MS, 10 * SIM_MS };
	static const char *const names[] = { "vm0", "vm1", "vm2", "vm3" };
	struct sim_cfg cfg = { .policy = p, .nvms = 4, .duration_ns = 10 * SIM_S,
			       .switch_ns = 20 * SIM_US };

	for (unsigned i = 0; i < 4; i++) {
		cfg.vm[i].name = names[i];
		cfg.vm[i].kernel_ns = k[i];
	}
	return sim_run(&cfg);
}

/*
 * 1 ms against 10 ms kernels: each VM gets the same number of submissions,
 * so GPU time goes 1:1:10:10.  credit is run alongside for the comparison.
 */
static void test_kernel_skew_is_unfair(void **state)
{
	struct sim *m = run_skew(fifo);
	struct sim *c = run_skew(&sched_policy_credit);
	double jain = sim_min_jain(m, 0, m->nwindows, 0xf);
	double jain_credit = sim_min_jain(c, 0, c->nwindows, 0xf);

	(void)state;
	sim_report(m, "equal weights, 1 ms vs 10 ms kernels", 0, m->nwindows, 0xf);
	printf("  min Jain per 500 ms: fifo %.4f, credit %.4f\n", jain, jain_credit);
	assert_true(jain < 0.7);
	assert_true(jain < jain_credit);
	for (unsigned i = 0; i < 4; i++) {
		double want = (double)m->cfg.vm[i].kernel_ns / (22.0 * SIM_MS);
		double got = sim_share(m, i, 0, m->nwindows);

		assert_true(got > want - 0.01 && got < want + 0.01);
	}
	sim_free(m);
	sim_free(c);
}

/* Equal kernels: fifo is fair, and the GPU is never idle. */
static void test_equal_kernels_are_fair(void **state)
{
	static const char *const names[] = { "vm0", "vm1", "vm2" };
	struct sim_cfg cfg = { .policy = fifo, .nvms = 3, .duration_ns = 5 * SIM_S };

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		cfg.vm[i].name = names[i];
		cfg.vm[i].kernel_ns = 2 * SIM_MS;
		cfg.vm[i].weight = 256u << i;   /* ignored by fifo */
	}
	struct sim *m = sim_run(&cfg);

	sim_report(m, "equal 2 ms kernels, weights 1:2:4 (ignored)", 0, m->nwindows, 0);
	for (unsigned i = 0; i < 3; i++) {
		double got = sim_share(m, i, 0, m->nwindows);

		assert_true(got > 1.0 / 3 - 0.01 && got < 1.0 / 3 + 0.01);
	}
	assert_true(sim_idle_share(m, 0, m->nwindows) < 0.001);
	sim_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serializes),
		cmocka_unit_test(test_oldest_submission_first),
		cmocka_unit_test(test_kernel_skew_is_unfair),
		cmocka_unit_test(test_equal_kernels_are_fair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

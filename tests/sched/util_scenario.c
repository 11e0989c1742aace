/* Fairness scenarios shared by the credit and band tests (util_scenario.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "util_scenario.h"
#include "util_sim.h"

#define ALL4 0xfull
#define PERIOD_NS SCHED_DEFAULT_PERIOD_NS

static void assert_near(double got, double want, double tolerance, const char *what)
{
	if (got < want - tolerance || got > want + tolerance)
		fail_msg("%s: %.4f, want %.4f +- %.4f", what, got, want, tolerance);
}

static void assert_at_most(double got, double bound, const char *what)
{
	if (got > bound)
		fail_msg("%s: %.4f, want <= %.4f", what, got, bound);
}

static void assert_at_least(double got, double bound, const char *what)
{
	if (got < bound)
		fail_msg("%s: %.4f, want >= %.4f", what, got, bound);
}

/* n busy VMs with the given kernel lengths, equal weights. */
static struct sim_cfg busy_vms(const struct sched_policy *p, unsigned n, const uint64_t *kernel_ns,
			       uint64_t duration_ns)
{
	static const char *const names[SIM_MAX_VMS] = { "vm0", "vm1", "vm2", "vm3",
							"vm4", "vm5", "vm6", "vm7" };
	struct sim_cfg cfg = { .policy = p, .nvms = n, .duration_ns = duration_ns,
			       .switch_ns = 20 * SIM_US };

	for (unsigned i = 0; i < n; i++) {
		cfg.vm[i].name = names[i];
		cfg.vm[i].kernel_ns = kernel_ns[i];
	}
	return cfg;
}

static void check_weighted_shares(const struct sim *m, const char *label)
{
	double total = 0;

	for (unsigned i = 0; i < m->cfg.nvms; i++)
		total += m->vm[i].weight;
	sim_report(m, label, 0, m->nwindows, ALL4);
	for (unsigned i = 0; i < m->cfg.nvms; i++)
		assert_near(sim_share(m, i, 0, m->nwindows), m->vm[i].weight / total, 0.02,
			    m->vm[i].name);
}

void scenario_weights(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, SIM_MS, SIM_MS, SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, k, 10 * SIM_S);

	for (unsigned i = 0; i < 4; i++)
		cfg.vm[i].weight = 256u << i;
	struct sim *m = sim_run(&cfg);

	check_weighted_shares(m, "weights 1:2:4:8, 1 ms kernels");
	sim_free(m);
}

void scenario_weights_mixed_kernels(const struct sched_policy *p)
{
	static const uint64_t k[] = { 10 * SIM_MS, SIM_MS, 10 * SIM_MS, SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, k, 10 * SIM_S);

	for (unsigned i = 0; i < 4; i++)
		cfg.vm[i].weight = 256u << i;
	struct sim *m = sim_run(&cfg);

	check_weighted_shares(m, "weights 1:2:4:8, 10/1/10/1 ms kernels");
	sim_free(m);
}

void scenario_kernel_skew(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, SIM_MS, 10 * SIM_MS, 10 * SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, k, 10 * SIM_S);
	struct sim *m = sim_run(&cfg);

	sim_report(m, "equal weights, 1 ms vs 10 ms kernels", 0, m->nwindows, ALL4);
	assert_at_least(sim_min_jain(m, 0, m->nwindows, ALL4), 0.99, "min Jain per 500 ms");
	for (unsigned i = 0; i < 4; i++)
		assert_near(sim_share(m, i, 0, m->nwindows), 0.25, 0.02, m->vm[i].name);
	sim_free(m);
}

/* One VM capped at 20% and nothing else: the GPU idles the other 80%. */
static void cap_alone_with(const struct sched_policy *p, uint64_t kernel_ns, const char *label)
{
	struct sim_cfg cfg = busy_vms(p, 1, &kernel_ns, 10 * SIM_S);

	cfg.vm[0].cap = 20;
	struct sim *m = sim_run(&cfg);

	sim_report(m, label, 0, m->nwindows, 0);
	assert_at_most(sim_time_share(m, 0, 0, m->nwindows), 0.21, "capped VM, whole run");
	assert_at_least(sim_idle_share(m, 0, m->nwindows), 0.79, "GPU idle");
	for (unsigned w = 0; w < m->nwindows; w++)
		assert_at_most(sim_time_share(m, 0, w, w + 1), 0.22, "capped VM, one window");
	/* Not starved either: the cap is what it gets. */
	assert_at_least(sim_time_share(m, 0, 0, m->nwindows), 0.17, "capped VM, whole run");
	sim_free(m);
}

void scenario_cap_alone(const struct sched_policy *p)
{
	cap_alone_with(p, SIM_MS, "cap 20%, alone, 1 ms kernels");
	cap_alone_with(p, 10 * SIM_MS, "cap 20%, alone, 10 ms kernels");
	cap_alone_with(p, 50 * SIM_MS, "cap 20%, alone, 50 ms kernels");
}

void scenario_cap_with_others(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, 10 * SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 2, k, 10 * SIM_S);

	cfg.vm[0].cap = 20;
	struct sim *m = sim_run(&cfg);

	sim_report(m, "cap 20% next to an uncapped VM", 0, m->nwindows, 0);
	assert_at_most(sim_time_share(m, 0, 0, m->nwindows), 0.21, "capped VM");
	assert_at_least(sim_time_share(m, 0, 0, m->nwindows), 0.18, "capped VM");
	assert_at_least(sim_time_share(m, 1, 0, m->nwindows), 0.77, "uncapped VM takes the rest");
	sim_free(m);
}

void scenario_uncapped_alone_gets_all(const struct sched_policy *p)
{
	static const unsigned caps[] = { 0, 100, 250 };
	static const uint64_t k[] = { SIM_MS, 10 * SIM_MS, SIM_MS, SIM_MS };

	for (unsigned c = 0; c < 3; c++) {
		/* One busy VM, three that never submit anything. */
		struct sim_cfg cfg = busy_vms(p, 4, k, 2 * SIM_S);

		cfg.vm[1].cap = caps[c];
		for (unsigned i = 0; i < 4; i++)
			cfg.vm[i].start_ns = i == 1 ? 0 : 10 * SIM_S;
		struct sim *m = sim_run(&cfg);

		printf("  cap %u, the only busy VM: %.2f%% of wall time\n", caps[c],
		       100.0 * sim_time_share(m, 1, 0, m->nwindows));
		assert_at_least(sim_time_share(m, 1, 0, m->nwindows), 0.99, "lone VM");
		sim_free(m);
	}
}

void scenario_giant_kernel(const struct sched_policy *p, unsigned debt_periods)
{
	static const uint64_t k[] = { SIM_MS, SIM_MS, SIM_MS, SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, k, 8 * SIM_S);

	cfg.vm[0].giant_ns = 200 * SIM_MS;
	cfg.vm[0].giant_at = 1 * SIM_S;
	struct sim *m = sim_run(&cfg);
	unsigned after = sim_window(m, 2 * SIM_S);
	int64_t floor = -(int64_t)(debt_periods * PERIOD_NS);
	/*
	 * Lock-out bound: the debt is repaid at one period's share (a quarter
	 * period) per period, plus a period for the refill to come round and a
	 * slice of whoever runs meanwhile.
	 */
	uint64_t bound = 4 * debt_periods * PERIOD_NS + PERIOD_NS + 10 * SIM_MS;
	uint64_t end = m->res[0].giant_end;
	uint64_t lockout = sim_first_release_after(m, 0, end) - end;

	sim_report(m, "one 200 ms kernel at 1 s", 0, m->nwindows, ALL4);
	sim_report(m, "from 2 s", after, m->nwindows, ALL4);
	printf("    vm0: lowest credit %.2f ms (floor %.0f ms); giant done at %.2f ms, next "
	       "release %.2f ms later (bound %.0f ms)\n", (double)m->res[0].min_credit / 1e6,
	       (double)floor / 1e6, (double)end / 1e6, (double)lockout / 1e6,
	       (double)bound / 1e6);
	assert_true(end > 0);
	assert_true(m->res[0].min_credit >= floor);
	assert_true(m->res[0].min_credit < 0);
	assert_at_most((double)lockout, (double)bound, "vm0 locked out after the giant (ns)");
	for (unsigned i = 0; i < 4; i++)
		assert_near(sim_share(m, i, after, m->nwindows), 0.25, 0.02, m->vm[i].name);
	assert_at_least(sim_min_jain(m, after, m->nwindows, ALL4), 0.99, "min Jain from 2 s");
	/*
	 * Once the debt is repaid the slices are back: with everybody left in
	 * debt nobody would keep the GPU and each submission would be a switch.
	 */
	assert_at_most(sim_idle_share(m, after, m->nwindows), 0.005, "GPU idle (switches) from 2 s");
	sim_free(m);
}

double scenario_long_kernels(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, SIM_MS, 100 * SIM_MS, 100 * SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, k, 20 * SIM_S);
	double worst = 0;

	cfg.window_ns = 1 * SIM_S;
	struct sim *m = sim_run(&cfg);

	sim_report(m, "equal weights, 1 ms vs 100 ms kernels", 0, m->nwindows, ALL4);
	for (unsigned i = 0; i < 4; i++) {
		double off = sim_share(m, i, 0, m->nwindows) - 0.25;

		if (off < 0)
			off = -off;
		if (off > worst)
			worst = off;
	}
	printf("    largest distance from 25%%: %.2f points\n", 100.0 * worst);
	sim_free(m);
	return worst;
}

void scenario_idle_then_busy(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, SIM_MS, SIM_MS, SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, k, 6 * SIM_S);

	cfg.vm[3].start_ns = 2 * SIM_S;
	struct sim *m = sim_run(&cfg);
	unsigned join = sim_window(m, 2 * SIM_S);

	sim_report(m, "vm3 idle for 2 s", 0, join, 0x7);
	sim_report(m, "vm3 busy from 2 s", join, m->nwindows, ALL4);
	printf("    vm3: highest credit %.2f ms, share in its first window %.2f%%\n",
	       (double)m->res[3].max_credit / 1e6, 100.0 * sim_share(m, 3, join, join + 1));
	for (unsigned i = 0; i < 3; i++)
		assert_near(sim_share(m, i, 0, join), 1.0 / 3, 0.02, "before vm3 joins");
	/* Banked credit is at most one period's share: 7.5 ms of 500 ms. */
	assert_at_most(sim_share(m, 3, join, join + 1), 0.25 + 0.03, "vm3's first window");
	/* Never more than two shares: this period's and one carried over. */
	assert_true(m->res[3].max_credit <= 2 * (int64_t)PERIOD_NS / 4);
	for (unsigned w = join; w < m->nwindows; w++)
		assert_at_least(sim_jain(m, w, ALL4), 0.99, "Jain after vm3 joins");
	sim_free(m);
}

void scenario_flood(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, SIM_MS, SIM_MS, 10 * SIM_US };
	struct sim_cfg cfg = busy_vms(p, 4, k, 5 * SIM_S);

	cfg.vm[3].name = "flood";
	cfg.vm[3].depth = 5000;
	struct sim *m = sim_run(&cfg);

	sim_report(m, "vm3 keeps 5000 submissions of 10 us queued", 0, m->nwindows, ALL4);
	assert_at_most(sim_share(m, 3, 0, m->nwindows), 0.25 + 0.02, "flooding VM");
	for (unsigned i = 0; i < 3; i++)
		assert_near(sim_share(m, i, 0, m->nwindows), 0.25, 0.02, m->vm[i].name);
	assert_at_least(sim_min_jain(m, 0, m->nwindows, ALL4), 0.99, "min Jain");
	sim_free(m);
}

void scenario_removal(const struct sched_policy *p)
{
	static const uint64_t k[] = { SIM_MS, 10 * SIM_MS, SIM_MS, 10 * SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, k, 8 * SIM_S);

	cfg.vm[1].remove_at = 3 * SIM_S + 3 * SIM_MS;
	struct sim *m = sim_run(&cfg);
	unsigned after = sim_window(m, 3500 * SIM_MS);

	sim_report(m, "before vm1 is removed", 0, sim_window(m, 3 * SIM_S), ALL4);
	sim_report(m, "after vm1 was removed at 3.003 s", after, m->nwindows, 0xdull);
	assert_true(m->res[1].removed);
	assert_int_equal(sim_share(m, 1, after, m->nwindows), 0);
	for (unsigned i = 0; i < 4; i++)
		if (i != 1)
			assert_near(sim_share(m, i, after, m->nwindows), 1.0 / 3, 0.02,
				    m->vm[i].name);
	assert_at_least(sim_min_jain(m, after, m->nwindows, 0xdull), 0.99, "Jain after removal");
	sim_free(m);
}

void scenario_polling_mechanism(const struct sched_policy *p)
{
	static const uint64_t skew[] = { SIM_MS, SIM_MS, 10 * SIM_MS, 10 * SIM_MS };
	static const uint64_t mixed[] = { 10 * SIM_MS, SIM_MS, 10 * SIM_MS, SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 4, skew, 10 * SIM_S);

	cfg.poll_ns = 25 * SIM_US;
	struct sim *m = sim_run(&cfg);

	sim_report(m, "1 ms vs 10 ms kernels, mechanism polling every 25 us", 0, m->nwindows,
		   ALL4);
	assert_at_least(sim_min_jain(m, 0, m->nwindows, ALL4), 0.99, "min Jain per 500 ms");
	sim_free(m);

	cfg = busy_vms(p, 4, mixed, 10 * SIM_S);
	cfg.poll_ns = 25 * SIM_US;
	for (unsigned i = 0; i < 4; i++)
		cfg.vm[i].weight = 256u << i;
	m = sim_run(&cfg);
	check_weighted_shares(m, "weights 1:2:4:8, 10/1/10/1 ms kernels, polling every 25 us");
	sim_free(m);
}

double scenario_sync_vs_long(const struct sched_policy *p, uint64_t poll_ns)
{
	static const uint64_t k[] = { SIM_MS, 10 * SIM_MS };
	struct sim_cfg cfg = busy_vms(p, 2, k, 5 * SIM_S);

	cfg.vm[0].name = "sync";
	cfg.vm[0].depth = 1;
	cfg.vm[0].think_ns = 50 * SIM_US;
	cfg.poll_ns = poll_ns;
	struct sim *m = sim_run(&cfg);
	double share = sim_share(m, 0, 0, m->nwindows);

	sim_report(m, poll_ns ? "synchronous 1 ms kernels (50 us think) vs 10 ms kernels, polling"
			      : "synchronous 1 ms kernels (50 us think) vs 10 ms kernels",
		   0, m->nwindows, 0x3);
	sim_free(m);
	return share;
}

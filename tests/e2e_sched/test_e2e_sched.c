/*
 * End to end: gpuvmd with the credit policy, busy guests as separate
 * processes through the local backend, and the GPU time the scheduler
 * measured.  Shares must converge toward the weights, also after the
 * weights change at run time.  The bounds are generous (a loaded 2-core
 * machine runs gpusim's GPU thread, the daemon and every guest), the
 * ordering is strict.  Skipped when $GPUVM_BIN does not hold gpuvmd and
 * gpuvm-run (make check sets it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_e2e.h"

#define SETTLE_MS   500         /* after every VM started, or weights changed */
#define WINDOWS     5           /* measured windows ... */
#define WINDOW_MS   1000        /* ... of this length; the median counts */
#define BOUND_PTS   12.0        /* |share - target|, percentage points */

static int setup(void **state)
{
	struct e2e *e = calloc(1, sizeof(*e));

	if (!e2e_bin_dir()) {
		free(e);
		print_message("GPUVM_BIN is not set to a directory with gpuvmd and gpuvm-run\n");
		skip();
	}
	e->fd = -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct e2e *e = *state;

	if (e) {
		e2e_stop(e);
		free(e);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Shares of GPU time (%) of names: the median over WINDOWS windows, so that
 * one stall of the machine (a loaded 2-CPU box can stop gpusim's GPU thread
 * for a few hundred ms, charged to whichever VM was running) cannot decide
 * the outcome.
 */
static void measure(struct e2e *e, const char *const *names, unsigned n, double *share)
{
	double all[E2E_MAX_GUESTS][WINDOWS];
	uint64_t a[E2E_MAX_GUESTS], b[E2E_MAX_GUESTS], ta, tb;

	e2e_gpu_ns(e, names, n, a, &ta);
	for (unsigned w = 0; w < WINDOWS; w++) {
		uint64_t total = 0;

		e2e_sleep_ms(WINDOW_MS);
		e2e_gpu_ns(e, names, n, b, &tb);
		for (unsigned i = 0; i < n; i++) {
			assert_true(b[i] > a[i]);       /* every guest kept running */
			total += b[i] - a[i];
		}
		print_message("  %.2f s: GPU busy %3.0f%%;", (double)(tb - ta) / 1e9,
			      100.0 * (double)total / (double)(tb - ta));
		for (unsigned i = 0; i < n; i++) {
			all[i][w] = 100.0 * (double)(b[i] - a[i]) / (double)total;
			print_message(" %s %5.1f%%", names[i], all[i][w]);
			a[i] = b[i];
		}
		print_message("\n");
		ta = tb;
	}
	for (unsigned i = 0; i < n; i++) {
		qsort(all[i], WINDOWS, sizeof(double), cmp_double);
		share[i] = all[i][WINDOWS / 2];
	}
	print_message("  median:");
	for (unsigned i = 0; i < n; i++)
		print_message(" %s %.1f%%", names[i], share[i]);
	print_message("\n");
}

static void check_targets(const char *const *names, unsigned n, const double *share,
			  const unsigned *weight)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += weight[i];
	for (unsigned i = 0; i < n; i++) {
		double target = 100.0 * weight[i] / sum;

		if (fabs(share[i] - target) > BOUND_PTS)
			fail_msg("%s: share %.1f%%, target %.1f%% (weight %u of %u): off by more "
				 "than %.0f points", names[i], share[i], target, weight[i], sum,
				 BOUND_PTS);
	}
	/* A heavier VM gets more. */
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < n; j++)
			if (weight[i] < weight[j] && !(share[i] < share[j]))
				fail_msg("%s (weight %u) got %.1f%%, not less than %s (weight %u) with "
					 "%.1f%%", names[i], weight[i], share[i], names[j], weight[j],
					 share[j]);
}

static void set_weights(struct e2e *e, const char *const *names, unsigned n, const unsigned *w)
{
	for (unsigned i = 0; i < n; i++)
		json_object_put(e2e_ok(e, "{\"op\":\"sched-credit\",\"name\":\"%s\",\"weight\":%u}",
				       names[i], w[i]));
}

/* Weights 1:2:4 with equal kernels, then reversed at run time. */
static void test_credit_follows_weights(void **state)
{
	static const char *const names[] = { "a", "b", "c" };
	static const unsigned w1[] = { 100, 200, 400 }, w2[] = { 400, 200, 100 };
	struct e2e *e = *state;
	double share[3];

	e2e_start(e, (const char *const[]){ "--sched", "credit", NULL });
	for (unsigned i = 0; i < 3; i++)
		json_object_put(e2e_ok(e, "{\"op\":\"create\",\"name\":\"%s\",\"vram\":\"32M\","
				       "\"channels\":2,\"weight\":%u}", names[i], w1[i]));
	for (unsigned i = 0; i < 3; i++)
		e2e_guest_busy(e, names[i], 2);
	e2e_wait_charged(e, names, 3, 30000);
	e2e_sleep_ms(SETTLE_MS);
	print_message("  weights 100:200:400\n");
	measure(e, names, 3, share);
	check_targets(names, 3, share, w1);

	set_weights(e, names, 3, w2);
	e2e_sleep_ms(SETTLE_MS);
	print_message("  weights 400:200:100 (changed at run time)\n");
	measure(e, names, 3, share);
	check_targets(names, 3, share, w2);
}

/* Equal weights, 1 ms against 10 ms kernels: equal GPU time (fifo gives ~9% / 91%). */
static void test_credit_evens_out_kernel_lengths(void **state)
{
	static const char *const names[] = { "short", "long" };
	static const unsigned w[] = { 256, 256 };
	struct e2e *e = *state;
	double share[2];

	e2e_start(e, (const char *const[]){ "--sched", "credit", NULL });
	for (unsigned i = 0; i < 2; i++)
		json_object_put(e2e_ok(e, "{\"op\":\"create\",\"name\":\"%s\",\"vram\":\"32M\","
				       "\"channels\":2}", names[i]));
	e2e_guest_busy(e, "short", 1);
	e2e_guest_busy(e, "long", 10);
	e2e_wait_charged(e, names, 2, 30000);
	e2e_sleep_ms(SETTLE_MS);
	measure(e, names, 2, share);
	check_targets(names, 2, share, w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_credit_follows_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_evens_out_kernel_lengths, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Several VMs at once, end to end: the real gpuvmd with the local backend,
 * vGPUs created with gpuvmctl, one guest process (gpuvm-run) per vGPU, all
 * running different workloads at the same time, each result verified by
 * its guest, and the isolation checker run after every step.  Then the
 * life cycle under load: a vGPU reset, and one destroyed, while its guest
 * is in the middle of a kernel that never ends and other VMs' work waits
 * for the GPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_e2e.h"
#include "util_eguest.h"

#define VRAM_MIB   64
#define CHANNELS   8

static int setup(void **state)
{
	*state = e2e_start();
	return 0;
}

static int teardown(void **state)
{
	e2e_stop(*state);
	return 0;
}

struct job {
	const char *vgpu, *workload, *size;
};

/* Start every job at once, then wait for all: each must verify. */
static void run_together(struct e2e_daemon *d, const struct job *jobs, unsigned n, unsigned iters)
{
	struct e2e_proc *p[8];

	assert_true(n <= 8);
	for (unsigned i = 0; i < n; i++)
		p[i] = e2e_run(d, jobs[i].vgpu, jobs[i].workload, jobs[i].size, iters, 0);
	for (unsigned i = 0; i < n; i++)
		e2e_expect_verified(p[i]);
}

/* After a guest has gone: nothing bound, nothing denied, no fault, work was done. */
static void assert_clean_after_run(struct e2e_daemon *d, const char *vgpu)
{
	struct e2e_info in;

	e2e_wait_detached(d, vgpu);
	e2e_info(d, vgpu, &in);
	assert_int_equal(in.channels_bound, 0);
	assert_int_equal(in.denied, 0);
	assert_int_equal(in.faults, 0);
	assert_true(in.submissions > 0);
	assert_true(in.mmio_writes > 0);
	assert_true(in.tlb_flushes > 0);
}

static uint64_t host_free(struct e2e_daemon *d, unsigned *nvgpus)
{
	struct json_object *r = e2e_ok(d, "{\"op\":\"list\"}"), *host, *v, *list;
	uint64_t free_bytes;

	assert_true(json_object_object_get_ex(r, "host", &host));
	assert_true(json_object_object_get_ex(host, "vram_free", &v));
	free_bytes = (uint64_t)json_object_get_int64(v);
	assert_true(json_object_object_get_ex(r, "vgpus", &list));
	*nvgpus = (unsigned)json_object_array_length(list);
	json_object_put(r);
	return free_bytes;
}

static void test_four_vms_run_different_workloads_at_once(void **state)
{
	struct e2e_daemon *d = *state;
	static const char *const vms[] = { "vm0", "vm1", "vm2", "vm3" };
	static const struct job round1[] = {
		{ "vm0", "vadd", "262144" },
		{ "vm1", "madd", "256" },
		{ "vm2", "mmul", "128" },
		{ "vm3", "memcpy", "4M" },
	};
	/* The same vGPUs again, each with another workload: a vGPU is clean for its next guest. */
	static const struct job round2[] = {
		{ "vm0", "mmul", "64" },
		{ "vm1", "memcpy", "2M" },
		{ "vm2", "vadd", "100003" },
		{ "vm3", "madd", "128" },
	};
	uint64_t free_before, free_after;
	unsigned n;

	for (unsigned i = 0; i < 4; i++) {
		e2e_create(d, vms[i], VRAM_MIB, CHANNELS);
		e2e_assert_isolated(d);
	}
	run_together(d, round1, 4, 1);
	for (unsigned i = 0; i < 4; i++)
		assert_clean_after_run(d, vms[i]);
	e2e_assert_isolated(d);

	run_together(d, round2, 4, 2);
	for (unsigned i = 0; i < 4; i++)
		assert_clean_after_run(d, vms[i]);
	e2e_assert_isolated(d);

	/* Destroying two gives their VRAM back; the others are untouched. */
	free_before = host_free(d, &n);
	assert_int_equal(n, 4);
	for (unsigned i = 1; i < 4; i += 2) {
		char *out, *err;

		assert_int_equal(e2e_ctl(d, &out, &err, "destroy", vms[i], NULL), 0);
		free(out);
		free(err);
		e2e_assert_isolated(d);
	}
	free_after = host_free(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(free_after - free_before, 2 * VRAM_MIB * E2E_MIB);
	run_together(d, (const struct job[]){ { "vm0", "vadd", "4099" }, { "vm2", "madd", "64" } }, 2, 1);
	e2e_assert_isolated(d);
}

/*
 * A guest that starts a kernel which never ends: it stores 1 to a flag,
 * then loops.  It says "running" once the flag is visible in VRAM, then
 * waits for "probe" and reports what its next synchronise returns.
 */
static int spinning_guest(struct e2e_io *io, void *arg)
{
	struct gpuvm_ctx *ctx = eg_ctx(io);
	struct gpuvm_module *spin = eg_spin_kernel(io, ctx);
	struct gpuvm_launch l = { 0 };
	uint64_t prm, phys;
	gpuvm_devptr flag;
	int err;

	(void)arg;
	EG_OK(io, gpuvm_mem_alloc(ctx, 4096, &flag));
	EG_OK(io, gpuvm_raw_ctx_phys(ctx, flag, &phys));
	prm = flag;
	l.params = &prm;
	l.param_bytes = sizeof(prm);
	EG_OK(io, gpuvm_launch(spin, &l));
	/* Each look is one trapped PRAMIN read, so this loop is paced by the trap. */
	for (unsigned i = 0; eg_rd32(io, eg_dev(ctx), phys) != 1; i++)
		E2E_CHECK(io, i < 10000000, "the kernel never started");
	e2e_say(io, "running");
	e2e_hear_exact(io, "probe");
	err = gpuvm_ctx_synchronize(ctx);
	e2e_say(io, "probe %d %s", err, gpuvm_last_error());
	/* The vGPU is gone from under us: leave without a clean destroy. */
	return 0;
}

static void probe_dead(struct e2e_proc *p)
{
	char *res;

	e2e_send(p, "probe");
	res = e2e_expect(p, "probe");
	if (!strncmp(res, "0 ", 2) || !strcmp(res, "0"))
		fail_msg("the guest's context still works after its vGPU was taken away: %s", res);
	free(res);
	e2e_expect_exit(p, 0);
}

static void test_reset_and_destroy_while_a_kernel_runs(void **state)
{
	struct e2e_daemon *d = *state;
	struct e2e_proc *spin, *w1, *w2;
	struct e2e_info in;
	char *out, *err;
	unsigned n;

	e2e_create(d, "vm0", VRAM_MIB, CHANNELS);
	e2e_create(d, "vm1", VRAM_MIB, CHANNELS);
	e2e_create(d, "vm2", VRAM_MIB, CHANNELS);

	/*
	 * vm0's kernel holds the GPU (gpusim runs a launch to completion) while
	 * vm1 and vm2 start.  The reset comes at once: the scheduler's watchdog
	 * would stop the kernel by itself after a few seconds.
	 */
	spin = e2e_fork(d, "vm0", "spinner", spinning_guest, NULL);
	free(e2e_expect(spin, "running"));
	w1 = e2e_run(d, "vm1", "vadd", "65536", 0, 0);
	w2 = e2e_run(d, "vm2", "mmul", "64", 0, 0);

	/* Reset: the guest is dropped, its kernel aborted, its channels freed. */
	assert_int_equal(e2e_ctl(d, &out, &err, "reset", "vm0", NULL), 0);
	free(out);
	free(err);
	e2e_info(d, "vm0", &in);
	assert_false(in.attached);
	assert_int_equal(in.channels_bound, 0);
	probe_dead(spin);
	e2e_expect_verified(w1);
	e2e_expect_verified(w2);
	e2e_assert_isolated(d);
	/* The reset vGPU takes a new guest. */
	e2e_expect_verified(e2e_run(d, "vm0", "vadd", "65536", 0, 0));
	e2e_assert_isolated(d);

	/* Destroy, the same way. */
	spin = e2e_fork(d, "vm0", "spinner2", spinning_guest, NULL);
	free(e2e_expect(spin, "running"));
	w1 = e2e_run(d, "vm1", "madd", "128", 0, 0);
	assert_int_equal(e2e_ctl(d, &out, &err, "destroy", "vm0", NULL), 0);
	free(out);
	free(err);
	host_free(d, &n);
	assert_int_equal(n, 2);
	probe_dead(spin);
	e2e_expect_verified(w1);
	e2e_assert_isolated(d);
	/* A guest for a vGPU that no longer exists is refused clearly. */
	w1 = e2e_run(d, "vm0", "vadd", "1024", 0, 0);
	e2e_expect_exit(w1, 1);
	out = e2e_output(w1);
	if (!strstr(out, "no vGPU named"))
		fail_msg("unclear refusal:\n%s", out);
	free(out);
	e2e_expect_verified(e2e_run(d, "vm2", "vadd", "4099", 0, 0));
	e2e_assert_isolated(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_four_vms_run_different_workloads_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_destroy_while_a_kernel_runs, setup, teardown),
	};

	return cmocka_run_group_tests_name("e2e: several VMs", tests, NULL, NULL);
}

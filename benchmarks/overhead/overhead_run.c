/*
 * One benchmark case in one configuration: the workload run reps times, each
 * in a fresh context on a device kept open (as an application keeps its
 * GPU), with the guest library's per-phase timing.  The fastest repetition
 * is kept; the daemon's counters are averaged over all of them.
 */
#include <stdio.h>
#include <string.h>

#include "gpuvm_workloads.h"
#include "overhead.h"

static uint64_t timing_total(const struct gpuvm_timing *t)
{
	uint64_t sum = 0;

	for (int p = 0; p < GPUVM_PHASE_COUNT; p++)
		sum += t->ns[p];
	return sum;
}

static int run_once(const char *spec, const struct ovh_case *c, struct gpuvm_timing *t)
{
	struct gpuvm_workload_params p = { .size = c->size, .ms = 1 };
	struct gpuvm_workload_result r = { 0 };
	struct gpuvm_ctx_options o = { .timing = t };
	struct gpuvm_ctx *ctx = NULL;
	int err;

	memset(t, 0, sizeof(*t));
	err = gpuvm_ctx_open(spec, &o, &ctx);
	if (err)
		return err;
	err = gpuvm_workload_find(c->workload)->run(ctx, &p, &r);
	gpuvm_ctx_destroy(ctx);
	return err;
}

static void spec_of(struct ovh_daemon *d, enum ovh_config cfg, char *spec, size_t len)
{
	if (cfg == OVH_NATIVE)
		snprintf(spec, len, "native:vram=256M");
	else
		snprintf(spec, len, "local:%s@%s", ovh_vgpu_name(cfg), d->guest_sock);
}

static int info(struct ovh_daemon *d, enum ovh_config cfg, struct ovh_counters *c)
{
	char req[128], err[256];

	memset(c, 0, sizeof(*c));
	if (cfg == OVH_NATIVE)
		return 0;
	snprintf(req, sizeof(req), "{\"op\":\"info\",\"name\":\"%s\"}\n", ovh_vgpu_name(cfg));
	return ovh_daemon_call(d, req, c, err, sizeof(err));
}

void ovh_run_case(struct ovh_daemon *d, enum ovh_config cfg, const struct ovh_case *c,
		  unsigned reps, struct ovh_result *out)
{
	struct gpuvm_device *dev = NULL;
	struct ovh_counters before, after;
	char spec[256];
	int err;

	memset(out, 0, sizeof(*out));
	spec_of(d, cfg, spec, sizeof(spec));
	err = gpuvm_device_open(spec, &dev);
	/* One untimed run brings the device up, so init measures a context, not the GPU. */
	if (!err)
		err = run_once(spec, c, &out->timing);
	if (!err)
		err = info(d, cfg, &before);
	for (unsigned i = 0; i < reps && !err; i++) {
		struct gpuvm_timing t;

		err = run_once(spec, c, &t);
		if (!err && (!out->total_ns || timing_total(&t) < out->total_ns)) {
			out->timing = t;
			out->total_ns = timing_total(&t);
		}
	}
	if (!err)
		err = info(d, cfg, &after);
	if (err) {
		snprintf(out->error, sizeof(out->error), "%s: %s", gpuvm_strerror(err), gpuvm_last_error());
	} else {
		out->ok = true;
		out->per_run.traps = (after.traps - before.traps) / reps;
		out->per_run.hypercalls = (after.hypercalls - before.hypercalls) / reps;
		out->per_run.reshadows = (after.reshadows - before.reshadows) / reps;
	}
	gpuvm_device_close(dev);
}

/*
 * One benchmark case in every configuration.  Each configuration keeps its
 * device open (as an application keeps its GPU) and runs the workload in a
 * fresh context per repetition, with the guest library's per-phase timing.
 * The repetitions go in rounds, every configuration once per round, so
 * that a slow moment of a shared machine hits all of them alike instead of
 * one configuration's whole series.  The fastest repetition is kept; the
 * daemon's counters are averaged over all of them.
 */
#include <stdio.h>
#include <string.h>

#include "gpuvm_workloads.h"
#include "overhead.h"

struct ovh_slot {
	struct gpuvm_device *dev;
	char spec[256];
	struct ovh_counters before;
};

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

static void fail(struct ovh_result *out, int err)
{
	out->ok = false;
	snprintf(out->error, sizeof(out->error), "%s: %s", gpuvm_strerror(err), gpuvm_last_error());
}

/* Open the device and bring it up with one untimed run, so init measures a context. */
static void slot_open(struct ovh_daemon *d, enum ovh_config cfg, const struct ovh_case *c,
		      struct ovh_slot *s, struct ovh_result *out)
{
	int err;

	spec_of(d, cfg, s->spec, sizeof(s->spec));
	err = gpuvm_device_open(s->spec, &s->dev);
	if (!err)
		err = run_once(s->spec, c, &out->timing);
	if (!err)
		err = info(d, cfg, &s->before);
	out->ok = !err;
	out->total_ns = 0;
	if (err)
		fail(out, err);
}

static void slot_run(const struct ovh_case *c, struct ovh_slot *s, struct ovh_result *out)
{
	struct gpuvm_timing t;
	int err = run_once(s->spec, c, &t);

	if (err) {
		fail(out, err);
		return;
	}
	if (!out->total_ns || timing_total(&t) < out->total_ns) {
		out->timing = t;
		out->total_ns = timing_total(&t);
	}
}

static void slot_close(struct ovh_daemon *d, enum ovh_config cfg, unsigned reps, struct ovh_slot *s,
		       struct ovh_result *out)
{
	struct ovh_counters after;

	if (out->ok && info(d, cfg, &after) == 0) {
		out->per_run.traps = (after.traps - s->before.traps) / reps;
		out->per_run.hypercalls = (after.hypercalls - s->before.hypercalls) / reps;
		out->per_run.reshadows = (after.reshadows - s->before.reshadows) / reps;
	} else if (out->ok) {
		out->ok = false;
		snprintf(out->error, sizeof(out->error), "gpuvmd did not answer 'info'");
	}
	gpuvm_device_close(s->dev);
	s->dev = NULL;
}

void ovh_run_case(struct ovh_daemon *d, const struct ovh_case *c, unsigned reps,
		  struct ovh_result out[OVH_NCONFIGS])
{
	struct ovh_slot slot[OVH_NCONFIGS];

	memset(slot, 0, sizeof(slot));
	for (int k = 0; k < OVH_NCONFIGS; k++)
		if (!out[k].skipped)
			slot_open(d, (enum ovh_config)k, c, &slot[k], &out[k]);
	for (unsigned i = 0; i < reps; i++)
		for (int k = 0; k < OVH_NCONFIGS; k++)
			if (!out[k].skipped && out[k].ok)
				slot_run(c, &slot[k], &out[k]);
	for (int k = 0; k < OVH_NCONFIGS; k++)
		if (!out[k].skipped)
			slot_close(d, (enum ovh_config)k, reps, &slot[k], &out[k]);
}

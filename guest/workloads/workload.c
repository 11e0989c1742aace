/*
 * The workload table and helpers shared by the workloads.
 */
#include <string.h>
#include <time.h>

#include "workload_priv.h"

static const struct gpuvm_workload *const workloads[] = {
	&gpuvm_wl_memcpy, &gpuvm_wl_vadd, &gpuvm_wl_madd, &gpuvm_wl_mmul, &gpuvm_wl_busy,
};

#define N_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

const struct gpuvm_workload *gpuvm_workload_at(unsigned i)
{
	return i < N_WORKLOADS ? workloads[i] : NULL;
}

const struct gpuvm_workload *gpuvm_workload_find(const char *name)
{
	for (unsigned i = 0; name && i < N_WORKLOADS; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	gpuvm_fail(GPUVM_ERR_INVALID, "unknown workload '%s' (memcpy, vadd, madd, mmul, busy)",
		   name ? name : "(null)");
	return NULL;
}

void wl_emit_linear_index(struct isa_prog *p, unsigned dst, unsigned tmp)
{
	isa_s2r(p, R(tmp), SR_CTAID_Y);
	isa_s2r(p, R(tmp + 1), SR_NCTAID_X);
	isa_s2r(p, R(dst), SR_CTAID_X);
	isa_mad(p, R(tmp), R(tmp), R(tmp + 1), R(dst));      /* block = y * nx + x */
	isa_s2r(p, R(tmp + 1), SR_NTID_X);
	isa_s2r(p, R(dst), SR_TID_X);
	isa_mad(p, R(dst), R(tmp), R(tmp + 1), R(dst));      /* block * ntid + tid */
}

void wl_grid_1d(uint64_t n, struct gpuvm_launch *l)
{
	uint64_t blocks = (n + WL_BLOCK_THREADS - 1) / WL_BLOCK_THREADS;

	l->block = (struct gpuvm_dim3){ WL_BLOCK_THREADS, 1, 1 };
	l->grid.x = (uint32_t)(blocks < WL_MAX_GRID_X ? blocks : WL_MAX_GRID_X);
	l->grid.y = (uint32_t)((blocks + l->grid.x - 1) / l->grid.x);
	l->grid.z = 1;
}

int wl_load(struct gpuvm_ctx *ctx, const struct isa_prog *p, struct gpuvm_module **mod)
{
	if (!isa_prog_ok(p))
		return gpuvm_fail(GPUVM_ERR_INVALID, "workload kernel did not assemble (%s)",
				  p->overflow ? "too long" : "bad operand");
	return gpuvm_module_load(ctx, p->buf, isa_prog_size(p) / ISA_INSN_BYTES, mod);
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

void wl_fill_u32(uint32_t *v, uint64_t n, uint32_t seed)
{
	uint32_t s = seed ? seed : 1;

	for (uint64_t i = 0; i < n; i++)
		v[i] = xorshift32(&s);
}

void wl_fill_f32(float *v, uint64_t n, uint32_t seed)
{
	uint32_t s = seed ? seed : 1;

	for (uint64_t i = 0; i < n; i++)
		v[i] = (float)(xorshift32(&s) >> 8) / (float)(1u << 23) - 1.0f;
}

double wl_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int wl_report(struct gpuvm_workload_result *r, bool verified, double seconds, double rate,
	      const char *unit, const char *fmt, ...)
{
	va_list ap;

	r->verified = verified;
	r->seconds = seconds;
	r->rate = rate;
	r->unit = unit;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	if (!verified)
		return gpuvm_fail(GPUVM_ERR_VERIFY, "%s", r->detail);
	return GPUVM_OK;
}

int wl_alloc(struct gpuvm_ctx *ctx, gpuvm_devptr *ptrs, unsigned n, uint64_t size)
{
	for (unsigned i = 0; i < n; i++) {
		int err = gpuvm_mem_alloc(ctx, size, &ptrs[i]);

		if (err) {
			wl_free(ctx, ptrs, i);
			return err;
		}
	}
	return GPUVM_OK;
}

void wl_free(struct gpuvm_ctx *ctx, gpuvm_devptr *ptrs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		gpuvm_mem_free(ctx, ptrs[i]);
}

int wl_run_abc(struct gpuvm_ctx *ctx, const struct isa_prog *prog, struct gpuvm_launch *l,
	       uint32_t n, const void *a, const void *b, void *c, uint64_t bytes,
	       unsigned iters, double *secs)
{
	struct gpuvm_module *mod;
	struct wl_abc_params prm;
	gpuvm_devptr d[3];
	double t0;
	int err;

	err = wl_load(ctx, prog, &mod);
	if (err)
		return err;
	err = wl_alloc(ctx, d, 3, bytes);
	if (err)
		goto out_mod;
	err = gpuvm_memcpy_htod(ctx, d[0], a, bytes);
	if (!err)
		err = gpuvm_memcpy_htod(ctx, d[1], b, bytes);
	prm = (struct wl_abc_params){ d[0], d[1], d[2], n, 0 };
	l->params = &prm;
	l->param_bytes = sizeof(prm);
	t0 = wl_seconds();
	for (unsigned i = 0; i < iters && !err; i++)
		err = gpuvm_launch(mod, l);
	if (!err)
		err = gpuvm_ctx_synchronize(ctx);
	*secs = wl_seconds() - t0;
	if (!err)
		err = gpuvm_memcpy_dtoh(ctx, c, d[2], bytes);
	wl_free(ctx, d, 3);
out_mod:
	gpuvm_module_unload(mod);
	return err;
}

/* Fake memory, clock and launch plumbing for the ISA interpreter tests. */
#include <stdlib.h>
#include <string.h>

#include "util_rig.h"

/* clock_ns() takes no context, so the rig that is running is remembered here. */
static struct rig *running_rig;

static bool in_region(uint64_t va, unsigned size, uint64_t base, uint64_t len)
{
	return va >= base && va - base <= len && size <= len - (va - base);
}

static uint8_t *rig_resolve(void *ctx, uint64_t va, unsigned size, bool write)
{
	struct rig *r = ctx;

	if (in_region(va, size, RIG_CODE_VA, RIG_CODE_SIZE)) {
		r->code_resolves++;
		return write ? NULL : r->code_host + (va - RIG_CODE_VA);
	}
	if (in_region(va, size, RIG_DATA_VA, RIG_DATA_SIZE)) {
		r->data_resolves++;
		return r->data_host + (va - RIG_DATA_VA);
	}
	return NULL;
}

static uint64_t rig_clock(void)
{
	struct rig *r = running_rig;
	uint64_t now = r->clock_now;

	r->clock_calls++;
	r->clock_now += r->clock_step;
	if (r->abort_on_clock)
		atomic_store(&r->abort, 1);
	return now;
}

struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->code_host = calloc(1, RIG_CODE_SIZE);
	r->data_host = calloc(1, RIG_DATA_SIZE);
	if (!r->code_host || !r->data_host) {
		rig_free(r);
		return NULL;
	}
	isa_prog_init(&r->p, r->code, RIG_CODE_CAP);
	atomic_init(&r->abort, 0);
	r->l.code_va = RIG_CODE_VA;
	r->l.cbuf[0] = r->cbuf[0];
	r->l.cbuf_size[0] = RIG_CBUF_SIZE;
	r->l.mem.resolve = rig_resolve;
	r->l.mem.ctx = r;
	r->l.clock_ns = rig_clock;
	r->l.abort = &r->abort;
	return r;
}

void rig_free(struct rig *r)
{
	if (!r)
		return;
	free(r->code_host);
	free(r->data_host);
	free(r);
}

enum isa_status rig_run(struct rig *r, uint32_t gx, uint32_t gy, uint32_t gz,
			uint32_t bx, uint32_t by, uint32_t bz)
{
	uint32_t size = isa_prog_size(&r->p);

	memcpy(r->code_host, r->code, size < RIG_CODE_SIZE ? size : RIG_CODE_SIZE);
	r->l.grid[0] = gx;
	r->l.grid[1] = gy;
	r->l.grid[2] = gz;
	r->l.block[0] = bx;
	r->l.block[1] = by;
	r->l.block[2] = bz;
	running_rig = r;
	isa_execute(&r->l, &r->res);
	running_rig = NULL;
	return r->res.status;
}

void *rig_data(struct rig *r, uint64_t va)
{
	return r->data_host + (va - RIG_DATA_VA);
}

uint32_t rig_u32(struct rig *r, uint64_t va)
{
	uint32_t v;

	memcpy(&v, rig_data(r, va), sizeof(v));
	return v;
}

float rig_f32(struct rig *r, uint64_t va)
{
	float v;

	memcpy(&v, rig_data(r, va), sizeof(v));
	return v;
}

void rig_put_u32(struct rig *r, uint64_t va, uint32_t v)
{
	memcpy(rig_data(r, va), &v, sizeof(v));
}

void rig_put_f32(struct rig *r, uint64_t va, float v)
{
	memcpy(rig_data(r, va), &v, sizeof(v));
}

void rig_cb_u32(struct rig *r, unsigned bank, uint32_t off, uint32_t v)
{
	memcpy(&r->cbuf[bank][off], &v, sizeof(v));
}

void rig_cb_u64(struct rig *r, unsigned bank, uint32_t off, uint64_t v)
{
	memcpy(&r->cbuf[bank][off], &v, sizeof(v));
}

void rig_param64(struct rig *r, struct isa_reg pair, uint32_t off)
{
	isa_ldc(&r->p, pair, 0, off);
	isa_ldc(&r->p, ISA_R(pair.n + 1), 0, off + 4);
}

void rig_global_x(struct rig *r, struct isa_reg d, struct isa_reg scratch)
{
	isa_s2r(&r->p, d, ISA_SR_CTAID_X);
	isa_s2r(&r->p, scratch, ISA_SR_NTID_X);
	isa_mul(&r->p, d, d, scratch);
	isa_s2r(&r->p, scratch, ISA_SR_TID_X);
	isa_add(&r->p, d, d, scratch);
}

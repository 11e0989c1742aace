/*
 * COMPUTE (0x90c0): launch state, constant-buffer upload and binding, the
 * launch itself (handed to the ISA interpreter with a translation callback)
 * and queries.
 */
#include <stdlib.h>

#include "isa.h"
#include "sim_internal.h"

/* resolve() for the interpreter: the channel's cursor, unit PGRAPH. */
static uint8_t *sim_compute_resolve(void *ctx, uint64_t va, unsigned size, bool write)
{
	struct sim_chan *chan = ctx;

	return sim_xlate(&chan->run.xl, va, size, write);
}

static enum sim_step sim_cb_data(struct gpusim *sim, struct sim_chan *chan, uint32_t data)
{
	struct sim_compute *cp = &chan->run.compute;
	uint8_t *p;

	if (cp->cb_pos + 4 > cp->cb_size) {
		stat_add(&sim->st_unknown_methods, 1);  /* beyond the buffer: dropped */
		return SIM_STEP_OK;
	}
	chan->run.xl.unit = NV_FAULT_UNIT_PGRAPH;
	p = sim_xlate(&chan->run.xl, cp->cb_addr + cp->cb_pos, 4, true);
	if (!p)
		return SIM_STEP_STOPPED;
	memcpy(p, &data, 4);
	cp->cb_pos += 4;
	return SIM_STEP_OK;
}

static void sim_cb_bind(struct sim_chan *chan, uint32_t data)
{
	struct sim_compute *cp = &chan->run.compute;
	struct sim_cbuf *bank = &cp->bank[NV90C0_CB_BIND_INDEX(data)];

	bank->bound = data & NV90C0_CB_BIND_VALID;
	bank->addr = cp->cb_addr;
	bank->size = cp->cb_size;
}

/* Copy the bound constant buffers: a launch sees them as they were at LAUNCH. */
static enum sim_step sim_cb_snapshot(struct sim_chan *chan, struct isa_launch *l, uint8_t **bufs)
{
	struct sim_compute *cp = &chan->run.compute;

	for (unsigned b = 0; b < NV90C0_CB_BANKS; b++) {
		const struct sim_cbuf *bank = &cp->bank[b];

		if (!bank->bound || !bank->size)
			continue;
		bufs[b] = malloc(bank->size);
		if (!bufs[b])
			return SIM_STEP_STOPPED;
		/* One translation per page; the rest of the page is contiguous. */
		for (uint32_t off = 0; off < bank->size;) {
			uint64_t va = bank->addr + off;
			uint32_t n = NV_SPAGE_SIZE - (uint32_t)(va & (NV_SPAGE_SIZE - 1));
			const uint8_t *p = sim_xlate(&chan->run.xl, va, 4, false);

			if (!p)
				return SIM_STEP_STOPPED;
			if (n > bank->size - off)
				n = bank->size - off;
			memcpy(bufs[b] + off, p, n);
			off += n;
		}
		l->cbuf[b] = bufs[b];
		l->cbuf_size[b] = bank->size;
	}
	return SIM_STEP_OK;
}

static void sim_launch_setup(struct sim_chan *chan, struct isa_launch *l)
{
	struct sim_compute *cp = &chan->run.compute;

	memset(l, 0, sizeof(*l));
	l->code_va = cp->code + cp->start_id;
	memcpy(l->grid, cp->grid, sizeof(l->grid));
	memcpy(l->block, cp->block, sizeof(l->block));
	l->shared_size = cp->shared_size;
	l->mem.resolve = sim_compute_resolve;
	l->mem.ctx = chan;
	l->clock_ns = sim_ptimer_now;
	l->abort = &chan->abort;
}

static enum sim_step sim_launch(struct gpusim *sim, struct sim_chan *chan)
{
	uint8_t *bufs[NV90C0_CB_BANKS] = { 0 };
	struct isa_launch l;
	struct isa_result res = { 0 };
	enum sim_step st;

	chan->run.xl.unit = NV_FAULT_UNIT_PGRAPH;
	sim_launch_setup(chan, &l);
	st = sim_cb_snapshot(chan, &l, bufs);
	if (st == SIM_STEP_OK) {
		atomic_fetch_add(&sim->engine_busy, 1);
		isa_execute(&l, &res);
		atomic_fetch_sub(&sim->engine_busy, 1);
		stat_add(&sim->st_thread_insns, res.thread_insns);
		if (res.status == ISA_OK)
			stat_add(&sim->st_launches, 1);
		else if (res.status != ISA_FAULT && res.status != ISA_ABORTED)
			sim_pbdma_error(sim, chan, NV_PBDMA_INTR_METHOD, 0x80000000u | res.status);
		st = res.status == ISA_OK ? SIM_STEP_OK : SIM_STEP_STOPPED;
	}
	for (unsigned b = 0; b < NV90C0_CB_BANKS; b++)
		free(bufs[b]);
	return st;
}

static enum sim_step sim_compute_query(struct gpusim *sim, struct sim_chan *chan, uint32_t get)
{
	struct sim_compute *cp = &chan->run.compute;

	chan->run.xl.unit = NV_FAULT_UNIT_PGRAPH;
	return sim_release(sim, chan, cp->query, cp->query_seq, !(get & NV90C0_QUERY_GET_SHORT));
}

enum sim_step sim_compute_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data)
{
	struct sim_compute *cp = &chan->run.compute;

	if (mthd >= NV90C0_CB_DATA(0) && mthd <= NV90C0_CB_DATA(15))
		return sim_cb_data(sim, chan, data);
	switch (mthd) {
	case NV90C0_GRIDDIM_YX: cp->grid[0] = data & 0xffff; cp->grid[1] = data >> 16; break;
	case NV90C0_GRIDDIM_Z: cp->grid[2] = data & 0xffff; break;
	case NV90C0_BLOCKDIM_YX: cp->block[0] = data & 0xffff; cp->block[1] = data >> 16; break;
	case NV90C0_BLOCKDIM_Z: cp->block[2] = data & 0xffff; break;
	case NV90C0_SHARED_SIZE: cp->shared_size = data; break;
	case NV90C0_CP_START_ID: cp->start_id = data; break;
	case NV90C0_CODE_ADDRESS_HI: sim_set_hi(&cp->code, data); break;
	case NV90C0_CODE_ADDRESS_LO: sim_set_lo(&cp->code, data); break;
	case NV90C0_CB_SIZE: cp->cb_size = data > NV90C0_CB_MAX_SIZE ? NV90C0_CB_MAX_SIZE : data & ~3u; break;
	case NV90C0_CB_ADDRESS_HI: sim_set_hi(&cp->cb_addr, data); break;
	case NV90C0_CB_ADDRESS_LO: sim_set_lo(&cp->cb_addr, data); break;
	case NV90C0_CB_POS: cp->cb_pos = data & ~3u; break;
	case NV90C0_CB_BIND: sim_cb_bind(chan, data); break;
	case NV90C0_FLUSH: break;
	case NV90C0_QUERY_HI: sim_set_hi(&cp->query, data); break;
	case NV90C0_QUERY_LO: sim_set_lo(&cp->query, data); break;
	case NV90C0_QUERY_SEQ: cp->query_seq = data; break;
	case NV90C0_QUERY_GET: return sim_compute_query(sim, chan, data);
	case NV90C0_LAUNCH: return sim_launch(sim, chan);
	default: stat_add(&sim->st_unknown_methods, 1); break;
	}
	return SIM_STEP_OK;
}

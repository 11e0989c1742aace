/*
 * Copy engines: M2MF (0x9039, part of PGRAPH) and PCOPY (0x90b5).  Both copy
 * lines between virtual addresses of the channel, a page-sized piece at a
 * time so each piece is one translation and one memcpy.
 */
#include "sim_internal.h"

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t page_left(uint64_t va)
{
	return NV_SPAGE_SIZE - (uint32_t)(va & (NV_SPAGE_SIZE - 1));
}

static enum sim_step sim_copy_line(struct sim_chan *chan, uint64_t src, uint64_t dst, uint32_t len)
{
	struct sim_xlate *x = &chan->run.xl;

	while (len) {
		uint32_t n = min_u32(len, min_u32(page_left(src), page_left(dst)));

		/* A copy cannot be preempted, but it can be killed with its channel. */
		if (atomic_load_explicit(&chan->abort, memory_order_relaxed))
			return SIM_STEP_STOPPED;
		const uint8_t *s = sim_xlate(x, src, 1, false);
		uint8_t *d = s ? sim_xlate(x, dst, 1, true) : NULL;

		if (!d)
			return SIM_STEP_STOPPED;
		memmove(d, s, n);
		src += n;
		dst += n;
		len -= n;
	}
	return SIM_STEP_OK;
}

enum sim_step sim_copy_lines(struct gpusim *sim, struct sim_chan *chan, uint64_t src, uint64_t dst,
			     uint32_t pitch_in, uint32_t pitch_out, uint32_t len, uint32_t lines,
			     unsigned unit)
{
	enum sim_step st = SIM_STEP_OK;

	chan->run.xl.unit = unit;
	atomic_fetch_add(&sim->engine_busy, 1);
	for (uint32_t i = 0; i < lines && st == SIM_STEP_OK; i++) {
		if (atomic_load_explicit(&chan->abort, memory_order_relaxed)) {
			st = SIM_STEP_STOPPED;
			break;
		}
		st = sim_copy_line(chan, src + (uint64_t)i * pitch_in, dst + (uint64_t)i * pitch_out, len);
		if (st == SIM_STEP_OK)
			stat_add(&sim->st_copy_bytes, len);
	}
	atomic_fetch_sub(&sim->engine_busy, 1);
	return st;
}

/* ---- M2MF ------------------------------------------------------------------ */

static enum sim_step sim_m2mf_query(struct gpusim *sim, struct sim_chan *chan, uint32_t exec)
{
	struct sim_m2mf *m = &chan->run.m2mf;

	if ((exec & NV9039_EXEC_QUERY_MASK) != NV9039_EXEC_QUERY_WRITE)
		return SIM_STEP_OK;
	chan->run.xl.unit = NV_FAULT_UNIT_PGRAPH;
	return sim_release(sim, chan, m->query, m->query_seq, !(exec & NV9039_EXEC_QUERY_SHORT));
}

static enum sim_step sim_m2mf_exec(struct gpusim *sim, struct sim_chan *chan, uint32_t exec)
{
	struct sim_m2mf *m = &chan->run.m2mf;
	enum sim_step st;

	if (exec & NV9039_EXEC_PUSH) {
		/* Data arrives through DATA methods; the query follows the last word. */
		m->push_va = m->out;
		m->push_left = m->line_length;
		m->push_exec = exec;
		return m->push_left ? SIM_STEP_OK : sim_m2mf_query(sim, chan, exec);
	}
	st = sim_copy_lines(sim, chan, m->in, m->out, m->pitch_in, m->pitch_out,
			    m->line_length, m->line_count, NV_FAULT_UNIT_PGRAPH);
	return st == SIM_STEP_OK ? sim_m2mf_query(sim, chan, exec) : st;
}

static enum sim_step sim_m2mf_data(struct gpusim *sim, struct sim_chan *chan, uint32_t data)
{
	struct sim_m2mf *m = &chan->run.m2mf;
	uint32_t n = min_u32(m->push_left, 4);
	uint8_t *p;

	if (!m->push_left) {
		stat_add(&sim->st_unknown_methods, 1);
		return SIM_STEP_OK;
	}
	chan->run.xl.unit = NV_FAULT_UNIT_PGRAPH;
	/* Pushed words must land 4-byte aligned (else an alignment fault), so a
	 * word never straddles a page. */
	p = sim_xlate(&chan->run.xl, m->push_va, 4, true);
	if (!p)
		return SIM_STEP_STOPPED;
	memcpy(p, &data, n);
	m->push_va += n;
	m->push_left -= n;
	stat_add(&sim->st_copy_bytes, n);
	return m->push_left ? SIM_STEP_OK : sim_m2mf_query(sim, chan, m->push_exec);
}

enum sim_step sim_m2mf_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data)
{
	struct sim_m2mf *m = &chan->run.m2mf;

	switch (mthd) {
	case NV9039_OFFSET_OUT_HI: sim_set_hi(&m->out, data); break;
	case NV9039_OFFSET_OUT_LO: sim_set_lo(&m->out, data); break;
	case NV9039_OFFSET_IN_HI: sim_set_hi(&m->in, data); break;
	case NV9039_OFFSET_IN_LO: sim_set_lo(&m->in, data); break;
	case NV9039_PITCH_IN: m->pitch_in = data; break;
	case NV9039_PITCH_OUT: m->pitch_out = data; break;
	case NV9039_LINE_LENGTH_IN: m->line_length = data; break;
	case NV9039_LINE_COUNT: m->line_count = data; break;
	case NV9039_QUERY_HI: sim_set_hi(&m->query, data); break;
	case NV9039_QUERY_LO: sim_set_lo(&m->query, data); break;
	case NV9039_QUERY_SEQ: m->query_seq = data; break;
	case NV9039_EXEC: return sim_m2mf_exec(sim, chan, data);
	case NV9039_DATA: return sim_m2mf_data(sim, chan, data);
	default: stat_add(&sim->st_unknown_methods, 1); break;
	}
	return SIM_STEP_OK;
}

/* ---- PCOPY ------------------------------------------------------------------ */

static enum sim_step sim_pcopy_launch(struct gpusim *sim, struct sim_chan *chan, uint32_t launch)
{
	struct sim_pcopy *pc = &chan->run.pcopy;
	enum sim_step st;

	st = sim_copy_lines(sim, chan, pc->in, pc->out, pc->pitch_in, pc->pitch_out,
			    pc->line_length, pc->line_count, NV_FAULT_UNIT_PCOPY0);
	if (st != SIM_STEP_OK || !(launch & (NV90B5_LAUNCH_SEM_SHORT | NV90B5_LAUNCH_SEM_LONG)))
		return st;
	chan->run.xl.unit = NV_FAULT_UNIT_PCOPY0;
	return sim_release(sim, chan, pc->sem, pc->sem_seq, launch & NV90B5_LAUNCH_SEM_LONG);
}

enum sim_step sim_pcopy_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data)
{
	struct sim_pcopy *pc = &chan->run.pcopy;

	switch (mthd) {
	case NV90B5_OFFSET_IN_HI: sim_set_hi(&pc->in, data); break;
	case NV90B5_OFFSET_IN_LO: sim_set_lo(&pc->in, data); break;
	case NV90B5_OFFSET_OUT_HI: sim_set_hi(&pc->out, data); break;
	case NV90B5_OFFSET_OUT_LO: sim_set_lo(&pc->out, data); break;
	case NV90B5_PITCH_IN: pc->pitch_in = data; break;
	case NV90B5_PITCH_OUT: pc->pitch_out = data; break;
	case NV90B5_LINE_LENGTH_IN: pc->line_length = data; break;
	case NV90B5_LINE_COUNT: pc->line_count = data; break;
	case NV90B5_SEMAPHORE_HI: sim_set_hi(&pc->sem, data); break;
	case NV90B5_SEMAPHORE_LO: sim_set_lo(&pc->sem, data); break;
	case NV90B5_SEMAPHORE_SEQ: pc->sem_seq = data; break;
	case NV90B5_LAUNCH: return sim_pcopy_launch(sim, chan, data);
	default: stat_add(&sim->st_unknown_methods, 1); break;
	}
	return SIM_STEP_OK;
}

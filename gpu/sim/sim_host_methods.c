/*
 * Host methods of the channel class (below 0x100 on every subchannel):
 * semaphores, NOTIFY_INTR and REF_CNT.  SET_OBJECT is decoded by the GPU
 * thread because it binds subchannels.
 */
#include "sim_internal.h"

enum sim_step sim_release(struct gpusim *sim, struct sim_chan *chan, uint64_t va,
			  uint32_t seq, bool long_form)
{
	uint8_t *p = sim_xlate(&chan->run.xl, va, long_form ? NV_SEM_LONG_SIZE : 4, true);

	(void)sim;
	if (!p)
		return SIM_STEP_STOPPED;
	if (long_form) {
		uint64_t t = sim_ptimer_now();

		/* Timestamp first: whoever sees the value sees the time too. */
		sim_store_release32(p + 4, 0);
		sim_store_release32(p + 8, (uint32_t)t);
		sim_store_release32(p + 12, (uint32_t)(t >> 32));
	}
	sim_store_release32(p, seq);
	return SIM_STEP_OK;
}

static bool sim_acquire_met(uint32_t trigger, uint32_t mem, uint32_t seq)
{
	if (trigger & NV906F_SEM_ACQUIRE_EQ)
		return mem == seq;
	if (trigger & NV906F_SEM_ACQUIRE_GEQ)
		return (int32_t)(mem - seq) >= 0;
	return (mem & seq) != 0;
}

enum sim_step sim_acquire_poll(struct gpusim *sim, struct sim_chan *chan)
{
	struct sim_chan_run *r = &chan->run;
	const uint8_t *p;

	(void)sim;
	r->xl.unit = NV_FAULT_UNIT_PFIFO;
	p = sim_xlate(&r->xl, r->sem_addr, 4, false);
	if (!p)
		return SIM_STEP_STOPPED;
	if (!sim_acquire_met(r->acquire, sim_load_acquire32(p), r->sem_seq))
		return SIM_STEP_BLOCKED;
	r->acquire = 0;
	return SIM_STEP_OK;
}

static enum sim_step sim_sem_trigger(struct gpusim *sim, struct sim_chan *chan, uint32_t trigger)
{
	struct sim_chan_run *r = &chan->run;
	const uint32_t acquires = NV906F_SEM_ACQUIRE_EQ | NV906F_SEM_ACQUIRE_GEQ |
				  NV906F_SEM_ACQUIRE_AND;

	r->xl.unit = NV_FAULT_UNIT_PFIFO;
	if (trigger & NV906F_SEM_RELEASE)
		return sim_release(sim, chan, r->sem_addr, r->sem_seq, !(trigger & NV906F_SEM_SHORT));
	if (trigger & acquires) {
		r->acquire = trigger & acquires;
		return sim_acquire_poll(sim, chan);
	}
	stat_add(&sim->st_unknown_methods, 1);
	return SIM_STEP_OK;
}

static void sim_notify(struct gpusim *sim, struct sim_chan *chan)
{
	pthread_mutex_lock(&sim->lock);
	sim->notify_chans[chan->chid / 32] |= 1u << (chan->chid % 32);
	sim->pgraph_intr |= NV_PGRAPH_INTR_NOTIFY;
	sim_irq_update(sim);
	pthread_mutex_unlock(&sim->lock);
}

enum sim_step sim_host_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data)
{
	struct sim_chan_run *r = &chan->run;

	switch (mthd) {
	case NV906F_NOP:
		return SIM_STEP_OK;
	case NV906F_SEMAPHORE_HI:
		r->sem_addr = (uint64_t)(data & 0xff) << 32 | (r->sem_addr & 0xffffffffu);
		return SIM_STEP_OK;
	case NV906F_SEMAPHORE_LO:
		r->sem_addr = (r->sem_addr & ~0xffffffffull) | data;
		return SIM_STEP_OK;
	case NV906F_SEMAPHORE_SEQ:
		r->sem_seq = data;
		return SIM_STEP_OK;
	case NV906F_SEMAPHORE_TRIG:
		return sim_sem_trigger(sim, chan, data);
	case NV906F_NOTIFY_INTR:
		sim_notify(sim, chan);
		return SIM_STEP_OK;
	case NV906F_REF_CNT:
		sim_vram_wr32(sim, r->userd + NV_USERD_REF, data);
		return SIM_STEP_OK;
	}
	stat_add(&sim->st_unknown_methods, 1);
	return SIM_STEP_OK;
}

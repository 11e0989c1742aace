/*
 * The GPU thread: PFIFO's scheduler and PBDMA.  It serves the channels of
 * the runlist round robin, loads each one's context from its instance block
 * at switch-in, fetches GPFIFO entries and pushbuffer words through the
 * channel's VM, decodes method headers and hands methods to the engines.
 * Channels switch only at method boundaries; an engine operation (a launch,
 * a copy) always completes once started.
 */
#include <errno.h>
#include <time.h>

#include "sim_internal.h"

#define SIM_IDLE_MIN_NS     20000ull        /* first poll of GP_PUT when idle */
#define SIM_IDLE_MAX_NS     1000000ull      /* back-off limit */
#define SIM_TIME_CHECK_MASK 7u              /* look at the clock every 8 methods */
#define SIM_MAX_GP_ORDER    20

void sim_gpu_wake(struct gpusim *sim)
{
	pthread_cond_signal(&sim->wake);
}

static bool sim_chan_eligible(const struct sim_chan *c)
{
	return (c->inst_reg & NV_CHAN_INST_VALID) && (c->ctrl_reg & NV_CHAN_CTRL_RUNNABLE) &&
	       !c->faulted && c->on_runlist;
}

static bool sim_fifo_running(const struct gpusim *sim)
{
	return (sim->fifo_enable & 1) && (sim->pmc_enable & NV_PMC_UNIT_PFIFO) &&
	       (sim->pmc_enable & NV_PMC_UNIT_PGRAPH);
}

/* Next eligible channel after the last one served; sim->lock held. */
static struct sim_chan *sim_pick(struct gpusim *sim)
{
	if (!sim_fifo_running(sim))
		return NULL;
	for (unsigned i = 0; i < sim->runlist_len; i++) {
		unsigned idx = (sim->rr_next + i) % sim->runlist_len;
		struct sim_chan *c = &sim->chan[sim->runlist[idx]];

		if (sim_chan_eligible(c)) {
			sim->rr_next = idx + 1;
			return c;
		}
	}
	return NULL;
}

/* Forget everything fetched for an older binding of the channel. */
static void sim_run_reset(struct sim_chan *c, unsigned epoch)
{
	memset(&c->run, 0, sizeof(c->run));
	c->run.epoch = epoch;
	atomic_store(&c->abort, 0);
}

/* Switch-in: read the context from the instance block.  false = unusable. */
static bool sim_run_load(struct gpusim *sim, struct sim_chan *c, uint64_t inst)
{
	struct sim_chan_run *r = &c->run;
	struct sim_vm vm;
	uint32_t gp_hi;

	if (!sim_vram_ok(sim, inst, NV_INST_SIZE))
		return false;
	r->inst = inst;
	r->userd = ((uint64_t)sim_vram_rd32(sim, inst + NV_RAMFC_USERD_HI) << 32 |
		    sim_vram_rd32(sim, inst + NV_RAMFC_USERD_LO)) & ~(uint64_t)0xff;
	gp_hi = sim_vram_rd32(sim, inst + NV_RAMFC_GP_BASE_HI);
	r->gp_base = (uint64_t)(gp_hi & 0xff) << 32 | sim_vram_rd32(sim, inst + NV_RAMFC_GP_BASE_LO);
	r->gp_order = NV_RAMFC_GP_ORDER(gp_hi);
	if (!sim_vram_ok(sim, r->userd, NV_USERD_SIZE) || r->gp_order > SIM_MAX_GP_ORDER)
		return false;
	vm = sim_vm_from_inst(sim, inst);
	sim_xlate_init(&r->xl, sim, &vm, c, NV_FAULT_UNIT_PFIFO);
	if (!r->loaded) {
		r->gp_get = sim_vram_rd32(sim, r->userd + NV_USERD_GP_GET) & ((1u << r->gp_order) - 1);
		r->loaded = true;
	}
	return true;
}

/* Take the next GPFIFO entry as the current pushbuffer segment. */
static enum sim_step sim_fetch_gp_entry(struct gpusim *sim, struct sim_chan *c)
{
	struct sim_chan_run *r = &c->run;
	uint32_t mask = (1u << r->gp_order) - 1;
	uint32_t put = sim_vram_rd32(sim, r->userd + NV_USERD_GP_PUT);
	const uint8_t *p;
	uint32_t e0, e1, len;

	if (put == r->gp_get)
		return SIM_STEP_IDLE;
	if (put > mask) {
		sim_pbdma_error(sim, c, NV_PBDMA_INTR_GPFIFO, put);
		return SIM_STEP_STOPPED;
	}
	r->xl.unit = NV_FAULT_UNIT_PFIFO;
	p = sim_xlate(&r->xl, r->gp_base + (uint64_t)r->gp_get * NV_GPFIFO_ENTRY_SIZE, 8, false);
	if (!p)
		return SIM_STEP_STOPPED;
	e0 = sim_load_acquire32(p);
	e1 = sim_load_acquire32(p + 4);
	r->gp_get = (r->gp_get + 1) & mask;
	sim_vram_wr32(sim, r->userd + NV_USERD_GP_GET, r->gp_get);
	len = (e1 >> NV_GP_LEN_SHIFT) & NV_GP_LEN_MASK;
	if (len == 0) {
		sim_pbdma_error(sim, c, NV_PBDMA_INTR_GPFIFO, e1);
		return SIM_STEP_STOPPED;
	}
	r->seg_va = (uint64_t)(e1 & NV_GP_ADDR_HI_MASK) << 32 | (e0 & NV_GP_ADDR_LO_MASK);
	r->seg_left = len;
	return SIM_STEP_OK;
}

static enum sim_step sim_set_object(struct gpusim *sim, struct sim_chan *c, uint32_t subc, uint32_t data)
{
	uint32_t cls = data & 0xffff;

	if (cls != NV_CLASS_M2MF && cls != NV_CLASS_COMPUTE && cls != NV_CLASS_PCOPY) {
		sim_pbdma_error(sim, c, NV_PBDMA_INTR_OBJECT, c->run.hdr);
		return SIM_STEP_STOPPED;
	}
	c->run.subc_class[subc] = cls;
	return SIM_STEP_OK;
}

/* One method with its data: host methods first, then the bound object. */
static enum sim_step sim_method(struct gpusim *sim, struct sim_chan *c, uint32_t subc,
				uint32_t mthd, uint32_t data)
{
	stat_add(&sim->st_methods, 1);
	if (mthd == NV906F_SET_OBJECT)
		return sim_set_object(sim, c, subc, data);
	if (mthd < NV906F_HOST_METHOD_END)
		return sim_host_method(sim, c, mthd, data);
	switch (c->run.subc_class[subc]) {
	case NV_CLASS_M2MF: return sim_m2mf_method(sim, c, mthd, data);
	case NV_CLASS_PCOPY: return sim_pcopy_method(sim, c, mthd, data);
	case NV_CLASS_COMPUTE: return sim_compute_method(sim, c, mthd, data);
	}
	sim_pbdma_error(sim, c, NV_PBDMA_INTR_METHOD, c->run.hdr);
	return SIM_STEP_STOPPED;
}

static enum sim_step sim_decode_header(struct gpusim *sim, struct sim_chan *c, uint32_t hdr)
{
	struct sim_chan_run *r = &c->run;
	uint32_t op = NV_PB_OP(hdr);

	r->hdr = hdr;
	r->subc = NV_PB_SUBC(hdr);
	r->mthd = NV_PB_METHOD(hdr);
	switch (op) {
	case NV_PB_OP_INC:
	case NV_PB_OP_NONINC:
	case NV_PB_OP_INC_ONCE:
		r->op = op;
		r->count = NV_PB_COUNT(hdr);
		return SIM_STEP_OK;
	case NV_PB_OP_IMMD:
		return sim_method(sim, c, r->subc, r->mthd, NV_PB_COUNT(hdr));
	}
	if (hdr == 0)
		return SIM_STEP_OK;     /* an all-zero word pads a pushbuffer */
	sim_pbdma_error(sim, c, NV_PBDMA_INTR_METHOD, hdr);
	return SIM_STEP_STOPPED;
}

static enum sim_step sim_method_data(struct gpusim *sim, struct sim_chan *c, uint32_t data)
{
	struct sim_chan_run *r = &c->run;
	uint32_t mthd = r->mthd;

	r->count--;
	if (r->op == NV_PB_OP_INC) {
		r->mthd += 4;
	} else if (r->op == NV_PB_OP_INC_ONCE) {
		r->mthd += 4;
		r->op = NV_PB_OP_NONINC;
	}
	return sim_method(sim, c, r->subc, mthd, data);
}

/* Execute one step of a channel: a header, one method, or a GPFIFO fetch. */
static enum sim_step sim_step_chan(struct gpusim *sim, struct sim_chan *c)
{
	struct sim_chan_run *r = &c->run;
	const uint8_t *p;
	uint32_t word;

	if (r->acquire) {
		enum sim_step st = sim_acquire_poll(sim, c);

		if (st != SIM_STEP_OK)
			return st;
	}
	if (r->seg_left == 0)
		return sim_fetch_gp_entry(sim, c);
	r->xl.unit = NV_FAULT_UNIT_PFIFO;
	p = sim_xlate(&r->xl, r->seg_va, 4, false);
	if (!p)
		return SIM_STEP_STOPPED;
	word = sim_load_acquire32(p);
	r->seg_va += 4;
	r->seg_left--;
	return r->count ? sim_method_data(sim, c, word) : sim_decode_header(sim, c, word);
}

/* Serve one channel until it idles, blocks, stops or its timeslice ends. */
static bool sim_run_channel(struct gpusim *sim, struct sim_chan *c, uint64_t inst, unsigned epoch)
{
	uint64_t deadline = sim_ptimer_now() + (uint64_t)sim->cfg.timeslice_us * 1000;
	bool progress = false;

	if (c->run.epoch != epoch)
		sim_run_reset(c, epoch);
	if (!sim_run_load(sim, c, inst)) {
		sim_pbdma_error(sim, c, NV_PBDMA_INTR_GPFIFO, (uint32_t)(inst >> 12));
		return false;
	}
	stat_add(&sim->st_switches, 1);
	for (unsigned n = 1;; n++) {
		if (sim_step_chan(sim, c) != SIM_STEP_OK)
			break;
		progress = true;
		if (atomic_load(&sim->resched) || atomic_load(&sim->stop) ||
		    atomic_load(&c->epoch) != epoch)
			break;
		if (!(n & SIM_TIME_CHECK_MASK) && sim_ptimer_now() >= deadline)
			break;
	}
	return progress;
}

static void sim_idle_wait(struct gpusim *sim, uint64_t wait_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)wait_ns;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
	}
	pthread_cond_timedwait(&sim->wake, &sim->lock, &ts);
}

/* One pass over the runlist; true if any channel made progress.  Lock held. */
static bool sim_serve_round(struct gpusim *sim)
{
	unsigned tries = sim->runlist_len;
	bool progress = false;

	while (tries-- && !atomic_load(&sim->stop)) {
		struct sim_chan *c = sim_pick(sim);
		uint64_t inst;
		unsigned epoch;

		if (!c)
			break;
		atomic_store(&sim->resched, 0);
		atomic_store(&sim->current, (int)c->chid);
		inst = (uint64_t)(c->inst_reg & NV_CHAN_INST_ADDR_MASK) << 12;
		epoch = atomic_load(&c->epoch);
		pthread_mutex_unlock(&sim->lock);
		progress |= sim_run_channel(sim, c, inst, epoch);
		pthread_mutex_lock(&sim->lock);
		atomic_store(&sim->current, SIM_NO_CHANNEL);
	}
	return progress;
}

static void *sim_gpu_thread(void *arg)
{
	struct gpusim *sim = arg;
	uint64_t idle_ns = SIM_IDLE_MIN_NS;

	pthread_mutex_lock(&sim->lock);
	while (!atomic_load(&sim->stop)) {
		unsigned kicks = atomic_load(&sim->kicks);

		if (sim_serve_round(sim)) {
			idle_ns = SIM_IDLE_MIN_NS;
			continue;
		}
		/* Nothing ran: sleep unless the host poked us meanwhile. */
		if (atomic_load(&sim->stop) || atomic_load(&sim->resched) ||
		    kicks != atomic_load(&sim->kicks)) {
			atomic_store(&sim->resched, 0);
			continue;
		}
		sim_idle_wait(sim, idle_ns);
		if (idle_ns < SIM_IDLE_MAX_NS)
			idle_ns *= 2;
	}
	pthread_mutex_unlock(&sim->lock);
	return NULL;
}

int sim_gpu_thread_start(struct gpusim *sim)
{
	pthread_condattr_t attr;
	int err;

	pthread_cond_destroy(&sim->wake);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sim->wake, &attr);
	pthread_condattr_destroy(&attr);
	err = pthread_create(&sim->thread, NULL, sim_gpu_thread, sim);
	if (err)
		return -err;
	sim->thread_started = true;
	return 0;
}

void sim_gpu_thread_stop(struct gpusim *sim)
{
	if (!sim->thread_started)
		return;
	atomic_store(&sim->stop, true);
	for (unsigned i = 0; i < NV_PFIFO_CHANNELS; i++)
		atomic_store(&sim->chan[i].abort, 1);
	pthread_mutex_lock(&sim->lock);
	pthread_cond_broadcast(&sim->wake);
	pthread_mutex_unlock(&sim->lock);
	pthread_join(sim->thread, NULL);
	sim->thread_started = false;
}

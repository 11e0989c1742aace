/*
 * Physical channels and the physical runlist.  Channels are handed out on
 * demand from the 128 of PFIFO; the runlist lists every channel any vGPU has
 * on its own (virtual) runlist, rebuilt into the idle one of two buffers and
 * committed with one register write.
 */
#include <errno.h>
#include <time.h>

#include "gpusim.h"
#include "host.h"
#include "nvc0/mem.h"

#define HOST_POLL_NS    (2ull * 1000 * 1000 * 1000)

static uint64_t host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Poll reg until (value & mask) == want; false after HOST_POLL_NS. */
static bool host_wait(struct gpuvm_host *host, uint32_t reg, uint32_t mask, uint32_t want)
{
	uint64_t deadline = host_now_ns() + HOST_POLL_NS;

	do {
		if ((gpu_rd32(host->hw, reg) & mask) == want)
			return true;
	} while (host_now_ns() < deadline);
	return false;
}

int host_fifo_init(struct gpuvm_host *host)
{
	int err;

	for (unsigned i = 0; i < 2; i++) {
		err = host_page_alloc(host, NV_SPAGE_SIZE, NV_SPAGE_SIZE, &host->runlist[i]);
		if (err)
			return err;
	}
	gpu_wr32(host->hw, NV_PMC_ENABLE, gpu_rd32(host->hw, NV_PMC_ENABLE) |
		 NV_PMC_UNIT_PFIFO | NV_PMC_UNIT_PGRAPH | NV_PMC_UNIT_PCOPY0);
	gpu_wr32(host->hw, NV_PFIFO_ENABLE, 1);
	for (unsigned ch = 0; ch < NV_PFIFO_CHANNELS; ch++) {
		gpu_wr32(host->hw, NV_PFIFO_CHAN_CTRL(ch), 0);
		gpu_wr32(host->hw, NV_PFIFO_CHAN_INST(ch), 0);
	}
	return host_runlist_commit(host);
}

int host_chan_alloc(struct gpuvm_host *host, struct vgpu *owner, unsigned vchid)
{
	int pchid = -ENOSPC;

	pthread_mutex_lock(&host->lock);
	for (unsigned ch = 0; ch < NV_PFIFO_CHANNELS; ch++) {
		if (!host->chan[ch].owner) {
			host->chan[ch] = (struct host_chan){ .owner = owner, .vchid = vchid };
			pchid = (int)ch;
			break;
		}
	}
	pthread_mutex_unlock(&host->lock);
	return pchid;
}

void host_chan_bind(struct gpuvm_host *host, int pchid, uint64_t inst, bool runnable,
		    struct vgpu *owner)
{
	struct gpusim *sim = gpusim_from_hw(host->hw);

	/* The oracle's view: this channel may touch its VM's partition and the
	 * daemon pages of its own hole, nothing else. */
	if (sim) {
		uint64_t base[2], size[2];
		struct gpusim_range r[2];
		unsigned n = vgpu_dma_ranges(owner, base, size);

		for (unsigned i = 0; i < n; i++)
			r[i] = (struct gpusim_range){ base[i], size[i] };
		gpusim_audit_set(sim, (unsigned)pchid, r, n);
	}
	pthread_mutex_lock(&host->lock);
	host->chan[pchid].inst = inst;
	gpu_wr32(host->hw, NV_PFIFO_CHAN_INST(pchid), NV_CHAN_INST_VALID | (uint32_t)(inst >> 12));
	gpu_wr32(host->hw, NV_PFIFO_CHAN_CTRL(pchid), runnable ? NV_CHAN_CTRL_RUNNABLE : 0);
	pthread_mutex_unlock(&host->lock);
}

void host_chan_set_runnable(struct gpuvm_host *host, int pchid, bool runnable)
{
	gpu_wr32(host->hw, NV_PFIFO_CHAN_CTRL(pchid), runnable ? NV_CHAN_CTRL_RUNNABLE : 0);
}

uint32_t host_chan_ctrl(struct gpuvm_host *host, int pchid)
{
	return gpu_rd32(host->hw, NV_PFIFO_CHAN_CTRL(pchid));
}

void host_chan_preempt(struct gpuvm_host *host, int pchid)
{
	gpu_wr32(host->hw, NV_PFIFO_PREEMPT, (uint32_t)pchid);
	host_wait(host, NV_PFIFO_PREEMPT, ~0u, (uint32_t)pchid);
}

void host_chan_free(struct gpuvm_host *host, int pchid)
{
	struct gpusim *sim = gpusim_from_hw(host->hw);
	bool listed;

	if (pchid < 0 || pchid >= NV_PFIFO_CHANNELS)
		return;
	pthread_mutex_lock(&host->lock);
	listed = host->chan[pchid].listed;
	host->chan[pchid].listed = false;
	pthread_mutex_unlock(&host->lock);
	if (listed)
		host_runlist_commit(host);
	/* Stop it and unbind it, which aborts a kernel still running (Fermi
	 * cannot preempt one), then wait until it is off the GPU. */
	gpu_wr32(host->hw, NV_PFIFO_CHAN_CTRL(pchid), 0);
	gpu_wr32(host->hw, NV_PFIFO_CHAN_INST(pchid), 0);
	host_chan_preempt(host, pchid);
	if (sim)
		gpusim_audit_clear(sim, (unsigned)pchid);
	pthread_mutex_lock(&host->lock);
	host->chan[pchid] = (struct host_chan){ 0 };
	pthread_mutex_unlock(&host->lock);
}

void host_chan_set_listed(struct gpuvm_host *host, int pchid, bool listed)
{
	pthread_mutex_lock(&host->lock);
	host->chan[pchid].listed = listed;
	pthread_mutex_unlock(&host->lock);
}

int host_runlist_commit(struct gpuvm_host *host)
{
	unsigned n = 0;
	uint64_t buf;
	bool done;

	pthread_mutex_lock(&host->lock);
	host->runlist_cur ^= 1;
	buf = host->runlist[host->runlist_cur];
	for (unsigned ch = 0; ch < NV_PFIFO_CHANNELS; ch++) {
		if (!host->chan[ch].owner || !host->chan[ch].listed)
			continue;
		host_wr32_vram(host, buf + n * NV_RUNLIST_ENTRY_SIZE, ch);
		host_wr32_vram(host, buf + n * NV_RUNLIST_ENTRY_SIZE + 4, NV_RUNLIST_ENTRY_WORD1);
		n++;
	}
	gpu_wr32(host->hw, NV_PFIFO_RUNLIST_BASE, (uint32_t)(buf >> 12));
	gpu_wr32(host->hw, NV_PFIFO_RUNLIST_SUBMIT, 0x01f00000u | n);
	done = host_wait(host, NV_PFIFO_RUNLIST_STATUS, NV_PFIFO_RUNLIST_PENDING, 0);
	pthread_mutex_unlock(&host->lock);
	return done ? 0 : -ETIMEDOUT;
}

uint64_t host_ptimer_ns(struct gpuvm_host *host)
{
	uint32_t hi, lo;

	do {
		hi = gpu_rd32(host->hw, NV_PTIMER_TIME_HIGH);
		lo = gpu_rd32(host->hw, NV_PTIMER_TIME_LOW);
	} while (hi != gpu_rd32(host->hw, NV_PTIMER_TIME_HIGH));
	return (uint64_t)hi << 32 | lo;
}

void host_userd_put(struct gpuvm_host *host, uint64_t userd, uint32_t put)
{
	/* The host BAR1 VM maps the reserved area one to one. */
	gpu_bar_write(host->hw, GPU_BAR1, userd + NV_USERD_GP_PUT, &put, sizeof(put));
}

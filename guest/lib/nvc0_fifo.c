/*
 * PFIFO: engine enables, the USERD area, channel ids and the runlist.  All
 * of it is device-wide: one runlist lists every channel of every context on
 * the device.  Runlists are written alternately into two buffers, so the
 * one PFIFO may still be reading is never overwritten.
 */
#include "nvc0_driver.h"

#define RUNLIST_BYTES   (NV_PFIFO_CHANNELS * NV_RUNLIST_ENTRY_SIZE)
#define FIFO_WAIT_MS    1000
#define RUNLIST_SUBMIT_HI 0x01f00000u     /* upper bits drivers write with the count */

/* Turn on what a compute driver needs, without touching what is already on. */
static void fifo_enable_units(struct gpuvm_device *dev)
{
	const uint32_t units = NV_PMC_UNIT_PFIFO | NV_PMC_UNIT_PGRAPH | NV_PMC_UNIT_PTIMER;
	uint32_t pmc = nvc0_rd32(dev, NV_PMC_ENABLE);
	uint32_t mmu = nvc0_rd32(dev, NV_MMU_CTRL);

	if ((pmc & units) != units)
		nvc0_wr32(dev, NV_PMC_ENABLE, pmc | units);
	if (!(nvc0_rd32(dev, NV_PFIFO_ENABLE) & 1))
		nvc0_wr32(dev, NV_PFIFO_ENABLE, 1);
	/* The driver's page tables assume 128 KiB large pages. */
	if (mmu & NV_MMU_CTRL_LARGE_64K)
		nvc0_wr32(dev, NV_MMU_CTRL, mmu & ~NV_MMU_CTRL_LARGE_64K);
}

static int fifo_userd_init(struct gpuvm_device *dev)
{
	struct nvc0_fifo *f = &dev->fifo;
	int err = nvc0_bo_new(dev, (uint64_t)NV_PFIFO_CHANNELS * NV_USERD_SIZE, &f->userd);

	if (err)
		return err;
	err = nvc0_bo_map_bar1(&f->userd);
	if (err) {
		nvc0_bo_del(&f->userd);
		return err;
	}
	nvc0_wr32(dev, NV_PFIFO_USERD_BASE, (uint32_t)(f->userd.bar1 >> 12) | NV_PFIFO_USERD_VALID);
	return GPUVM_OK;
}

int nvc0_fifo_init(struct gpuvm_device *dev)
{
	struct nvc0_fifo *f = &dev->fifo;
	int err;

	fifo_enable_units(dev);
	err = fifo_userd_init(dev);
	if (err)
		return err;
	for (unsigned i = 0; i < 2; i++) {
		err = nvc0_kobj_new(dev, RUNLIST_BYTES, NV_SPAGE_SIZE, &f->runlist[i]);
		if (err)
			goto err_runlist;
	}
	return GPUVM_OK;

err_runlist:
	nvc0_kobj_del(dev, &f->runlist[0]);
	nvc0_bo_del(&f->userd);
	return err;
}

void nvc0_fifo_fini(struct gpuvm_device *dev)
{
	struct nvc0_fifo *f = &dev->fifo;

	nvc0_fifo_runlist_update(dev);   /* every channel is gone: an empty runlist */
	for (unsigned i = 0; i < 2; i++)
		nvc0_kobj_del(dev, &f->runlist[i]);
	nvc0_bo_del(&f->userd);
}

int nvc0_fifo_chid_get(struct gpuvm_device *dev, struct nvc0_channel *chan, int *chid)
{
	struct nvc0_fifo *f = &dev->fifo;

	nvc0_lock(dev);
	for (int i = 0; i < NV_PFIFO_CHANNELS; i++) {
		if (!f->chan[i]) {
			f->chan[i] = chan;
			f->nchan++;
			nvc0_unlock(dev);
			*chid = i;
			return GPUVM_OK;
		}
	}
	nvc0_unlock(dev);
	return gpuvm_fail(GPUVM_ERR_NO_RESOURCE, "all %d channels are in use", NV_PFIFO_CHANNELS);
}

void nvc0_fifo_chid_put(struct gpuvm_device *dev, int chid)
{
	nvc0_lock(dev);
	if (chid >= 0 && chid < NV_PFIFO_CHANNELS && dev->fifo.chan[chid]) {
		dev->fifo.chan[chid] = NULL;
		dev->fifo.nchan--;
	}
	nvc0_unlock(dev);
}

int nvc0_fifo_runlist_update(struct gpuvm_device *dev)
{
	struct nvc0_fifo *f = &dev->fifo;
	uint32_t entries[NV_PFIFO_CHANNELS * 2];
	struct nvc0_kobj *rl;
	uint32_t n = 0;
	int err;

	nvc0_lock(dev);
	for (int i = 0; i < NV_PFIFO_CHANNELS; i++) {
		if (f->chan[i] && f->chan[i]->registered) {
			entries[n * 2] = (uint32_t)i;
			entries[n * 2 + 1] = NV_RUNLIST_ENTRY_WORD1;
			n++;
		}
	}
	f->runlist_cur ^= 1;
	rl = &f->runlist[f->runlist_cur];
	err = n ? nvc0_kobj_write(dev, rl, 0, entries, n * NV_RUNLIST_ENTRY_SIZE) : GPUVM_OK;
	if (!err) {
		nvc0_bar_flush(dev);
		nvc0_wr32(dev, NV_PFIFO_RUNLIST_BASE, (uint32_t)(rl->phys >> 12));
		nvc0_wr32(dev, NV_PFIFO_RUNLIST_SUBMIT, RUNLIST_SUBMIT_HI | n);
		err = nvc0_wait_reg(dev, NV_PFIFO_RUNLIST_STATUS, NV_PFIFO_RUNLIST_PENDING, 0,
				    FIFO_WAIT_MS, "runlist update");
	}
	nvc0_unlock(dev);
	return err;
}

uint64_t nvc0_fifo_userd_phys(struct gpuvm_device *dev, int chid)
{
	return dev->fifo.userd.phys + (uint64_t)chid * NV_USERD_SIZE;
}

uint64_t nvc0_fifo_userd_bar1(struct gpuvm_device *dev, int chid)
{
	return dev->fifo.userd.bar1 + (uint64_t)chid * NV_USERD_SIZE;
}

int nvc0_fifo_kick(struct gpuvm_device *dev, int chid)
{
	int err;

	nvc0_lock(dev);
	nvc0_wr32(dev, NV_PFIFO_PREEMPT, (uint32_t)chid);
	err = nvc0_wait_reg(dev, NV_PFIFO_PREEMPT, NV_PFIFO_PREEMPT_PENDING | 0x7f, (uint32_t)chid,
			    FIFO_WAIT_MS, "channel preempt");
	nvc0_unlock(dev);
	return err;
}

/*
 * The audit oracle: which physical VRAM each channel may touch, checked on
 * every translated engine access independently of whoever set up the page
 * tables (gpuvmd's tests trust this, not gpuvmd's own bookkeeping).
 */
#include <errno.h>

#include "sim_internal.h"

void gpusim_audit_mode(struct gpusim *sim, enum gpusim_audit_mode mode)
{
	atomic_store(&sim->audit_mode, (int)mode);
	/* Cached per-page verdicts depend on the mode: drop them. */
	atomic_fetch_add(&sim->tlb_gen, 1);
}

int gpusim_audit_set(struct gpusim *sim, unsigned chid, const struct gpusim_range *r, unsigned n)
{
	struct sim_chan *chan;

	if (chid >= NV_PFIFO_CHANNELS || n > GPUSIM_AUDIT_MAX_RANGES || (n && !r))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (r[i].base + r[i].size < r[i].base)
			return -EINVAL;
	chan = &sim->chan[chid];
	pthread_mutex_lock(&sim->audit_lock);
	if (n)
		memcpy(chan->audit, r, n * sizeof(*r));
	chan->audit_n = n;
	pthread_mutex_unlock(&sim->audit_lock);
	atomic_fetch_add(&sim->tlb_gen, 1);
	return 0;
}

void gpusim_audit_clear(struct gpusim *sim, unsigned chid)
{
	if (gpusim_audit_set(sim, chid, NULL, 0) == 0)
		atomic_store(&sim->chan[chid].violations, 0);
}

uint64_t gpusim_audit_violations(struct gpusim *sim, unsigned chid)
{
	return chid < NV_PFIFO_CHANNELS ? atomic_load(&sim->chan[chid].violations) : 0;
}

uint64_t gpusim_audit_total(struct gpusim *sim)
{
	/* Cumulative: a channel cleared or reused does not hide what it did. */
	return atomic_load(&sim->audit_total);
}

enum gpusim_audit_mode gpusim_audit_get_mode(struct gpusim *sim)
{
	return (enum gpusim_audit_mode)atomic_load(&sim->audit_mode);
}

bool sim_audit_page_ok(struct gpusim *sim, struct sim_chan *chan, uint64_t phys)
{
	bool ok = false;

	if (atomic_load(&sim->audit_mode) == GPUSIM_AUDIT_OFF)
		return true;
	pthread_mutex_lock(&sim->audit_lock);
	for (unsigned i = 0; i < chan->audit_n && !ok; i++)
		ok = phys >= chan->audit[i].base &&
		     phys + NV_SPAGE_SIZE <= chan->audit[i].base + chan->audit[i].size;
	pthread_mutex_unlock(&sim->audit_lock);
	return ok;
}

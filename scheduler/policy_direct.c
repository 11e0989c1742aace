/*
 * direct: no scheduling.  The mechanism releases every submission as soon
 * as it is queued (serialize = false) and the GPU's own channel round robin
 * decides what runs; a VM with long kernels simply gets more of the GPU.
 * Useful as the baseline the other policies are measured against.
 */
#include <stddef.h>

#include "sched_policy.h"

static int direct_init(struct sched_state *s)
{
	(void)s;
	return 0;
}

static void direct_fini(struct sched_state *s)
{
	(void)s;
}

static void direct_vm_added(struct sched_state *s, struct sched_vm *vm, uint64_t now)
{
	(void)s;
	(void)vm;
	(void)now;
}

static void direct_vm_removed(struct sched_state *s, struct sched_vm *vm)
{
	(void)s;
	(void)vm;
}

/* Any VM with queued work: everything is released anyway. */
static struct sched_vm *direct_pick(struct sched_state *s, uint64_t now, uint64_t *retry_at)
{
	(void)now;
	*retry_at = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (s->vms[i]->queued)
			return s->vms[i];
	return NULL;
}

static void direct_charge(struct sched_state *s, struct sched_vm *vm, uint64_t ns, uint64_t now)
{
	(void)s;
	(void)vm;
	(void)ns;
	(void)now;
}

static void direct_tick(struct sched_state *s, uint64_t now)
{
	(void)s;
	(void)now;
}

const struct sched_policy sched_policy_direct = {
	.name = "direct",
	.serialize = false,
	.init = direct_init,
	.fini = direct_fini,
	.vm_added = direct_vm_added,
	.vm_removed = direct_vm_removed,
	.pick = direct_pick,
	.charge = direct_charge,
	.tick = direct_tick,
};

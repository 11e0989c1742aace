/*
 * fifo: one VM on the GPU at a time, submissions released in the order
 * they arrived across all VMs.  No weights, no caps, no state: the oldest
 * queued submission (first_queued_at, kept by the mechanism) goes next,
 * ties to the lower VM id.  Fair in submissions, not in GPU time: a VM
 * with 10 ms kernels gets ten times the GPU of one with 1 ms kernels.
 */
#include <stddef.h>

#include "sched_policy.h"

static int fifo_init(struct sched_state *s)
{
	(void)s;
	return 0;
}

static void fifo_fini(struct sched_state *s)
{
	(void)s;
}

static void fifo_vm_added(struct sched_state *s, struct sched_vm *vm, uint64_t now)
{
	(void)s;
	(void)vm;
	(void)now;
}

static void fifo_vm_removed(struct sched_state *s, struct sched_vm *vm)
{
	(void)s;
	(void)vm;
}

static bool arrived_earlier(const struct sched_vm *a, const struct sched_vm *b)
{
	if (a->first_queued_at != b->first_queued_at)
		return a->first_queued_at < b->first_queued_at;
	return a->id < b->id;
}

static struct sched_vm *fifo_pick(struct sched_state *s, uint64_t now, uint64_t *retry_at)
{
	struct sched_vm *oldest = NULL;

	(void)now;
	*retry_at = 0;
	for (unsigned i = 0; i < s->n; i++) {
		struct sched_vm *vm = s->vms[i];

		if (vm->queued && (!oldest || arrived_earlier(vm, oldest)))
			oldest = vm;
	}
	return oldest;
}

static void fifo_charge(struct sched_state *s, struct sched_vm *vm, uint64_t ns, uint64_t now)
{
	(void)s;
	(void)vm;
	(void)ns;
	(void)now;
}

static void fifo_tick(struct sched_state *s, uint64_t now)
{
	(void)s;
	(void)now;
}

const struct sched_policy sched_policy_fifo = {
	.name = "fifo",
	.serialize = true,
	.init = fifo_init,
	.fini = fifo_fini,
	.vm_added = fifo_vm_added,
	.vm_removed = fifo_vm_removed,
	.pick = fifo_pick,
	.charge = fifo_charge,
	.tick = fifo_tick,
};

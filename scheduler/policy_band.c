/*
 * band: the idea of Gdev's BAND scheduler (bandwidth-aware non-preemptive
 * device scheduling) on top of the credit policy's accounting.  Credit
 * assumes the GPU can be taken away when the scheduler wants; with
 * non-preemptible kernels two things go wrong, and band answers each:
 *
 * - A VM that submits one kernel at a time has an empty queue at the very
 *   moment its kernel completes, so a work-conserving pick hands the GPU to
 *   a VM with queued work, and the synchronous VM then waits behind that
 *   VM's (possibly long) kernel every time: it gets far less than its
 *   share.  Band lingers: when the current VM's work has completed and
 *   that VM is still under its share (positive credit, slice not used up),
 *   the GPU is kept idle for tslice / BAND_LINGER_DIVISOR after its last
 *   completion so that it can submit its next kernel.
 *
 * - A VM whose kernel ran past its credit took GPU time the others were
 *   owed.  Credit forgives debt beyond one period's worth, and the VMs that
 *   waited meanwhile keep only one period of unused credit, so with kernels
 *   longer than a period's share the VM with long kernels ends up ahead.
 *   Band keeps BAND_DEBT_PERIODS periods of debt and BAND_CARRY_PERIODS
 *   periods of unused credit: the VM that overran yields (is picked only
 *   once its credit is back above the others') until it has repaid the
 *   overrun at its own share's rate, i.e. for about overrun * W / w, where
 *   w is its weight and W that of all competing VMs.
 *
 * Everything else (refills, idle VMs, caps, slices, pipelining) is credit's.
 */
#include <stddef.h>

#include "policy_credit.h"

/* Linger for tslice / 40: 250 us with the default 10 ms slice. */
#define BAND_LINGER_DIVISOR 40
/* Debt repaid in full up to 4 periods (120 ms by default), then forgiven. */
#define BAND_DEBT_PERIODS 4
/* What a VM could not use while a long kernel ran is kept as long. */
#define BAND_CARRY_PERIODS 4

static uint64_t linger_ns(const struct sched_state *s)
{
	return s->params.tslice_ns / BAND_LINGER_DIVISOR;
}

/*
 * Is the GPU being kept for the VM whose work just completed?  If so,
 * *until is when band stops waiting for it.
 */
static bool lingering_for_owner(const struct sched_state *s, uint64_t now, uint64_t *until)
{
	const struct credit_data *c = credit_data_of(s);
	const struct sched_vm *vm = c->owner;
	const struct credit_vm *cv = credit_slot(s, vm);

	if (!vm || !cv || !cv->charged || vm->queued || vm->in_flight || vm->capped)
		return false;
	if (vm->credit <= 0 || c->slice_used_ns >= s->params.tslice_ns)
		return false; /* it has had its share: no reason to wait */
	*until = cv->last_charge_at + linger_ns(s);
	return now < *until;
}

static struct sched_vm *band_pick(struct sched_state *s, uint64_t now, uint64_t *retry_at)
{
	uint64_t until;

	*retry_at = 0;
	if (!credit_data_of(s))
		return NULL;
	credit_catch_up(s, now);
	if (lingering_for_owner(s, now, &until)) {
		*retry_at = until;
		return NULL;
	}
	return credit_pick(s, now, retry_at);
}

static int band_init(struct sched_state *s)
{
	int err = credit_init(s);

	if (err)
		return err;
	credit_data_of(s)->debt_periods = BAND_DEBT_PERIODS;
	credit_data_of(s)->carry_periods = BAND_CARRY_PERIODS;
	return 0;
}

const struct sched_policy sched_policy_band = {
	.name = "band",
	.serialize = true,
	.init = band_init,
	.fini = credit_fini,
	.vm_added = credit_vm_added,
	.vm_removed = credit_vm_removed,
	.pick = band_pick,
	.charge = credit_charge,
	.tick = credit_tick,
};

/*
 * credit: each VM gets GPU time in proportion to its weight, modelled on
 * Xen's credit scheduler but charged with the GPU time each submission
 * really took (measured from PTIMER stamps) instead of sampled at ticks.
 *
 * - Every accounting period (params.period_ns) the period's GPU time is
 *   handed out as credit to the VMs that compete for the GPU, in proportion
 *   to weight.  charge() debits what a submission used.
 * - Unused credit carries over for at most one period, and an idle VM keeps
 *   at most one period's share, so nobody banks a long burst.
 * - Debt is kept, so a VM that overran its share (a Fermi kernel cannot be
 *   stopped) gives the time back later, but only down to one period's worth
 *   so a single giant kernel cannot lock its VM out for long.  An idle VM's
 *   debt is forgiven at the rate it would have repaid it, and debt that all
 *   competing VMs share is forgiven at the next period.
 * - A cap of N% lets a VM use N% of each period; over-use spills into the
 *   next periods.  Only capped VMs waiting means the GPU stays idle.
 * - pick() keeps the current VM for a time slice while it has credit, and
 *   otherwise takes the waiting VM with the most credit per unit of weight.
 *
 * The band policy (policy_band.c) uses the same code with more room for
 * debt and carried credit (debt_periods, carry_periods) and its own pick.
 * docs/scheduler.md has the rules and what they guarantee.
 */
#include <errno.h>
#include <stdlib.h>

#include "policy_credit.h"

/*
 * Floor for the per-submission estimate, so that a VM whose submissions
 * measure as 0 ns still cannot pile up unbounded work on the hardware.
 */
#define MIN_SUBMISSION_NS 1000ull

static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 q = (unsigned __int128)a * b / (c ? c : 1);

	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int64_t to_credit(uint64_t ns)
{
	return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

struct credit_data *credit_data_of(const struct sched_state *s)
{
	return s->policy_data;
}

static uint64_t credit_weight(const struct sched_vm *vm)
{
	if (vm->weight == 0)
		return SCHED_DEFAULT_WEIGHT;
	return vm->weight > SCHED_MAX_WEIGHT ? SCHED_MAX_WEIGHT : vm->weight;
}

/*
 * vm->stamp holds the VM's slot index (the policy's own use of the field),
 * so lookups are O(1); a stale stamp (left by another policy) falls back to
 * a search.
 */
struct credit_vm *credit_slot(const struct sched_state *s, const struct sched_vm *vm)
{
	struct credit_data *c = credit_data_of(s);

	if (!c || !vm)
		return NULL;
	if (vm->stamp < SCHED_MAX_VMS && c->slot[vm->stamp].vm == vm)
		return &c->slot[vm->stamp];
	for (unsigned i = 0; i < SCHED_MAX_VMS; i++)
		if (c->slot[i].vm == vm)
			return &c->slot[i];
	return NULL;
}

/* cap 0 means none, and so does anything from 100% up (one GPU). */
static bool cap_applies(const struct sched_vm *vm)
{
	return vm->cap > 0 && vm->cap < 100;
}

static uint64_t cap_budget(const struct sched_state *s, const struct sched_vm *vm)
{
	uint64_t budget = mul_div(s->params.period_ns, vm->cap, 100);

	return budget ? budget : 1;
}

/* Caps can change at run time (gpuvmctl), so the flag follows the current one. */
static bool out_of_cap(const struct sched_state *s, struct sched_vm *vm)
{
	vm->capped = cap_applies(vm) && vm->used_in_period >= cap_budget(s, vm);
	return vm->capped;
}

static bool recently_charged(const struct sched_state *s, const struct sched_vm *vm,
			     uint64_t now)
{
	const struct credit_vm *cv = credit_slot(s, vm);

	return cv && cv->charged && now >= cv->last_charge_at &&
	       now - cv->last_charge_at < s->params.period_ns;
}

/*
 * A VM competes for the GPU if it has work queued or running, or used the
 * GPU within the last period: a VM that submits one kernel at a time has
 * nothing queued between kernels but still wants its share.
 */
static bool is_active(const struct sched_state *s, const struct sched_vm *vm, uint64_t now)
{
	return vm->queued || vm->in_flight || recently_charged(s, vm, now);
}

/* Sum of the weights of VMs that compete for the GPU now. */
static uint64_t credit_active_weight(const struct sched_state *s, uint64_t now)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < s->n; i++)
		if (is_active(s, s->vms[i], now))
			total += credit_weight(s->vms[i]);
	return total;
}

/* vm's credit for one period when VMs of weight `competing` share the GPU. */
static int64_t period_share(const struct sched_state *s, const struct sched_vm *vm,
			    uint64_t competing)
{
	return to_credit(mul_div(s->params.period_ns, credit_weight(vm), competing));
}

/* min(credit + periods * share, ceiling), without overflow. */
static int64_t add_shares(int64_t credit, int64_t share, uint64_t periods, int64_t ceiling)
{
	if (credit >= ceiling)
		return ceiling;
	if (share <= 0)
		return credit;
	if (periods > (uint64_t)(ceiling - credit) / (uint64_t)share)
		return ceiling;
	return credit + (int64_t)periods * share;
}

/*
 * A competing VM gets its share each period.  Unused credit carries over
 * for carry_periods periods at most: refilling one period at a time with
 * "drop what is above carry_periods shares, then add a share" is
 * min(credit + n share, (carry_periods + 1) share).
 *
 * An idle VM gets no credit and keeps at most one period's share, so it
 * cannot bank a burst; its debt shrinks as fast as it would have been
 * repaid, since the others have had the GPU meanwhile.
 */
static void grant_credit(struct sched_state *s, struct sched_vm *vm, uint64_t periods,
			 uint64_t active_weight, uint64_t now)
{
	if (is_active(s, vm, now)) {
		int64_t share = period_share(s, vm, active_weight);
		int64_t ceiling = to_credit(mul_div((uint64_t)share,
						    credit_data_of(s)->carry_periods + 1, 1));

		vm->credit = add_shares(vm->credit, share, periods, ceiling);
		return;
	}
	int64_t share = period_share(s, vm, active_weight + credit_weight(vm));

	if (vm->credit < 0)
		vm->credit = add_shares(vm->credit, share, periods, 0);
	else if (vm->credit > share)
		vm->credit = share;
}

/*
 * A kernel cannot be stopped at the cap, so use beyond the budget is not
 * forgiven at the period's end but counts against the next periods; that
 * keeps a capped VM at its cap on average even with long kernels.
 */
static void roll_cap_window(const struct sched_state *s, struct sched_vm *vm, uint64_t periods)
{
	if (!cap_applies(vm)) {
		vm->used_in_period = 0;
		vm->capped = false;
		return;
	}
	uint64_t budget = cap_budget(s, vm);
	uint64_t allowed = periods > UINT64_MAX / budget ? UINT64_MAX : periods * budget;

	vm->used_in_period = vm->used_in_period > allowed ? vm->used_in_period - allowed : 0;
	vm->capped = vm->used_in_period >= budget;
}

/*
 * Is credit ca of VM a more, per unit of weight, than credit cb of VM b?
 * Per unit of weight means in periods of the VM's own share: 4 ms is two
 * periods ahead for a VM whose share is 2 ms, a quarter period for one
 * whose share is 16 ms.
 */
static bool ahead_per_weight(int64_t ca, const struct sched_vm *a, int64_t cb,
			     const struct sched_vm *b)
{
	return (__int128)ca * credit_weight(b) > (__int128)cb * credit_weight(a);
}

/*
 * Who runs next depends only on differences in credit, but "keep the GPU
 * while in credit" needs zero to mean something.  Every competing VM can
 * end up in debt: while one VM's long kernel runs, the others' credit stops
 * at the carry-over limit, but the long kernel's debt is kept.  Then the
 * debt they all share is forgiven: all are lifted, each by the same number
 * of periods of its own share, until the one furthest ahead is at zero.
 * Differences, which are what fairness is about, stay.
 */
static void forgive_shared_debt(struct sched_state *s, uint64_t now)
{
	struct sched_vm *first = NULL;

	for (unsigned i = 0; i < s->n; i++) {
		struct sched_vm *vm = s->vms[i];

		if (is_active(s, vm, now) && (!first || ahead_per_weight(vm->credit, vm,
									 first->credit, first)))
			first = vm;
	}
	if (!first || first->credit >= 0)
		return;
	uint64_t lift = (uint64_t)-first->credit;

	for (unsigned i = 0; i < s->n; i++)
		if (is_active(s, s->vms[i], now))
			s->vms[i]->credit += to_credit(mul_div(lift, credit_weight(s->vms[i]),
							       credit_weight(first)));
}

static void start_periods(struct sched_state *s, uint64_t periods, uint64_t now)
{
	uint64_t active_weight = credit_active_weight(s, now);

	forgive_shared_debt(s, now);
	for (unsigned i = 0; i < s->n; i++) {
		roll_cap_window(s, s->vms[i], periods);
		grant_credit(s, s->vms[i], periods, active_weight, now);
	}
}

/*
 * Periods are aligned to the first time the policy sees the clock.  Missed
 * periods (the clock jumped) are granted in one go; the carry-over limit
 * makes that the same as granting them one by one.
 */
void credit_catch_up(struct sched_state *s, uint64_t now)
{
	struct credit_data *c = credit_data_of(s);
	uint64_t period = s->params.period_ns;

	if (!c || !period)
		return;
	if (!c->started) {
		c->started = true;
		c->next_period_at = add_sat(now, period);
		start_periods(s, 1, now);
		return;
	}
	if (now < c->next_period_at)
		return;
	uint64_t periods = (now - c->next_period_at) / period + 1;

	c->next_period_at = add_sat(c->next_period_at, mul_div(periods, period, 1));
	start_periods(s, periods, now);
}

/* GPU time one more submission of vm is expected to take. */
static uint64_t submission_estimate(const struct sched_state *s, const struct sched_vm *vm)
{
	const struct credit_vm *cv = credit_slot(s, vm);
	uint64_t avg = cv ? cv->avg_ns : s->params.tslice_ns;

	return avg > MIN_SUBMISSION_NS ? avg : MIN_SUBMISSION_NS;
}

/* GPU time vm's released but unfinished work is expected to take. */
static uint64_t in_flight_estimate(const struct sched_state *s, const struct sched_vm *vm)
{
	return mul_div(vm->in_flight, submission_estimate(s, vm), 1);
}

/* Credit left once what is in flight has been charged. */
static int64_t expected_credit(const struct sched_state *s, const struct sched_vm *vm)
{
	int64_t ahead = to_credit(in_flight_estimate(s, vm));

	return vm->credit < INT64_MIN + ahead ? INT64_MIN : vm->credit - ahead;
}

/*
 * May more of vm's work be released behind what it has in flight?  At most
 * one time slice of work sits on the hardware, because whoever is picked
 * next must wait for it to drain; and a capped VM stops short of its cap
 * rather than run past it.  The first submission is always allowed.
 */
static bool may_release_more(const struct sched_state *s, const struct sched_vm *vm)
{
	if (vm->capped)
		return false;
	if (vm->in_flight == 0)
		return true;
	uint64_t ahead = in_flight_estimate(s, vm);

	if (ahead >= s->params.tslice_ns)
		return false;
	return !cap_applies(vm) || add_sat(vm->used_in_period, ahead) < cap_budget(s, vm);
}

/*
 * Keep the GPU with its current VM while it has credit left and time left
 * in its slice: switching costs a drain of the pipeline, and the credit
 * balance evens things out over the period anyway.  A VM picked but not yet
 * started (the previous one is draining, and the mechanism asks again) is
 * kept too, so that the answer does not change while nothing happens.
 */
static bool owner_keeps_gpu(struct sched_state *s)
{
	const struct credit_data *c = credit_data_of(s);
	struct sched_vm *vm = c->owner;

	if (!vm || !vm->queued || out_of_cap(s, vm) || !may_release_more(s, vm))
		return false;
	if (!c->owner_ran && vm->in_flight == 0)
		return true;
	return add_sat(c->slice_used_ns, in_flight_estimate(s, vm)) < s->params.tslice_ns &&
	       expected_credit(s, vm) > 0;
}

/* Position in vms[] after vm, so equal credit goes round robin. */
static unsigned index_after(const struct sched_state *s, const struct sched_vm *vm)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->vms[i] == vm)
			return (i + 1) % s->n;
	return 0;
}

/* Per unit of weight, so that a small VM that has waited long goes first. */
static struct sched_vm *richer(const struct sched_state *s, struct sched_vm *best,
			       struct sched_vm *vm)
{
	if (!best || ahead_per_weight(expected_credit(s, vm), vm, expected_credit(s, best), best))
		return vm;
	return best;
}

/*
 * The waiting VM with the most credit, whatever its sign: the GPU is never
 * left idle for want of credit, only for caps.
 */
static struct sched_vm *choose_by_credit(struct sched_state *s, bool *capped_waiting)
{
	const struct credit_data *c = credit_data_of(s);
	struct sched_vm *best = NULL;
	unsigned start = index_after(s, c->owner);

	for (unsigned k = 0; k < s->n; k++) {
		struct sched_vm *vm = s->vms[(start + k) % s->n];

		if (!vm->queued)
			continue;
		if (out_of_cap(s, vm))
			*capped_waiting = true;
		else if (may_release_more(s, vm))
			best = richer(s, best, vm);
		/* else: its own completions bring the next pick */
	}
	return best;
}

struct sched_vm *credit_pick(struct sched_state *s, uint64_t now, uint64_t *retry_at)
{
	struct credit_data *c = credit_data_of(s);
	bool capped_waiting = false;

	*retry_at = 0;
	if (!c)
		return NULL;
	credit_catch_up(s, now);
	if (owner_keeps_gpu(s))
		return c->owner;
	struct sched_vm *vm = choose_by_credit(s, &capped_waiting);

	if (vm) {
		c->owner = vm;
		c->owner_ran = false;
		c->slice_used_ns = 0;
		return vm;
	}
	/* Only capped VMs wait: the GPU stays idle until the next period. */
	if (capped_waiting)
		*retry_at = c->next_period_at;
	return NULL;
}

/* Debt is kept down to debt_periods periods' worth of GPU time, no further. */
static void debit(const struct sched_state *s, struct sched_vm *vm, uint64_t ns)
{
	uint64_t limit = mul_div(s->params.period_ns, credit_data_of(s)->debt_periods, 1);
	int64_t floor = -to_credit(limit);
	uint64_t room = vm->credit > floor ? (uint64_t)(vm->credit - floor) : 0;

	vm->credit = ns >= room ? floor : vm->credit - (int64_t)ns;
}

static void count_cap_use(const struct sched_state *s, struct sched_vm *vm, uint64_t ns)
{
	vm->used_in_period = add_sat(vm->used_in_period, ns);
	out_of_cap(s, vm);
}

/* A moving average (1/4 new) of what vm's submissions take. */
static void learn_submission(const struct sched_state *s, const struct sched_vm *vm,
			     uint64_t ns, uint64_t now)
{
	struct credit_vm *cv = credit_slot(s, vm);

	if (!cv)
		return;
	cv->avg_ns = cv->charged ? cv->avg_ns - cv->avg_ns / 4 + ns / 4 : ns;
	cv->charged = true;
	cv->last_charge_at = now;
}

void credit_charge(struct sched_state *s, struct sched_vm *vm, uint64_t ns, uint64_t now)
{
	struct credit_data *c = credit_data_of(s);

	if (!c)
		return;
	credit_catch_up(s, now);
	debit(s, vm, ns);
	count_cap_use(s, vm, ns);
	learn_submission(s, vm, ns, now);
	if (vm == c->owner) {
		c->owner_ran = true;
		c->slice_used_ns = add_sat(c->slice_used_ns, ns);
	}
}

void credit_tick(struct sched_state *s, uint64_t now)
{
	credit_catch_up(s, now);
}

static struct credit_vm *free_slot(struct credit_data *c)
{
	for (unsigned i = 0; i < SCHED_MAX_VMS; i++)
		if (!c->slot[i].vm)
			return &c->slot[i];
	return NULL;
}

/*
 * A new VM starts with no credit and no history.  Until its first
 * submission completes its submissions are assumed to take a whole slice,
 * so only one at a time is released.
 */
void credit_vm_added(struct sched_state *s, struct sched_vm *vm, uint64_t now)
{
	struct credit_data *c = credit_data_of(s);
	struct credit_vm *cv;

	(void)now;
	if (!c)
		return;
	cv = credit_slot(s, vm);
	if (!cv)
		cv = free_slot(c);
	if (cv) {
		*cv = (struct credit_vm){ .vm = vm, .avg_ns = s->params.tslice_ns };
		vm->stamp = (uint64_t)(cv - c->slot);
	}
	vm->credit = 0;
	vm->used_in_period = 0;
	vm->capped = false;
}

void credit_vm_removed(struct sched_state *s, struct sched_vm *vm)
{
	struct credit_data *c = credit_data_of(s);
	struct credit_vm *cv = credit_slot(s, vm);

	if (cv)
		*cv = (struct credit_vm){ 0 };
	if (c && c->owner == vm) {
		c->owner = NULL;
		c->slice_used_ns = 0;
	}
}

static void fill_default_params(struct sched_params *p)
{
	if (!p->period_ns)
		p->period_ns = SCHED_DEFAULT_PERIOD_NS;
	if (!p->tick_ns)
		p->tick_ns = SCHED_DEFAULT_TICK_NS;
	if (!p->tslice_ns)
		p->tslice_ns = CREDIT_DEFAULT_TSLICE_NS;
}

/* VMs that exist already (the policy was switched at run time) are adopted. */
int credit_init(struct sched_state *s)
{
	struct credit_data *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	fill_default_params(&s->params);
	c->debt_periods = 1;
	c->carry_periods = 1;
	s->policy_data = c;
	for (unsigned i = 0; i < s->n; i++)
		credit_vm_added(s, s->vms[i], 0);
	return 0;
}

void credit_fini(struct sched_state *s)
{
	free(s->policy_data);
	s->policy_data = NULL;
}

const struct sched_policy sched_policy_credit = {
	.name = "credit",
	.serialize = true,
	.init = credit_init,
	.fini = credit_fini,
	.vm_added = credit_vm_added,
	.vm_removed = credit_vm_removed,
	.pick = credit_pick,
	.charge = credit_charge,
	.tick = credit_tick,
};

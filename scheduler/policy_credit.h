/*
 * Internal to the policies: the credit accounting that the credit and the
 * band policies share (policy_credit.c).  The mechanism sees only struct
 * sched_policy (sched_policy.h); nothing outside scheduler/policy_*.c
 * should include this.
 *
 * docs/scheduler.md ("Policies") describes the rules in prose.
 */
#ifndef GPUVM_POLICY_CREDIT_H
#define GPUVM_POLICY_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "sched_policy.h"

/* Default for params.tslice_ns (sched_policy.h has none). */
#define CREDIT_DEFAULT_TSLICE_NS (10ull * 1000 * 1000)

/* What the policy remembers about one VM beyond struct sched_vm. */
struct credit_vm {
	struct sched_vm *vm;     /* NULL: free slot */
	uint64_t avg_ns;         /* moving average of one submission's GPU time */
	bool charged;            /* last_charge_at is meaningful */
	uint64_t last_charge_at; /* completion time of its latest submission */
};

struct credit_data {
	struct credit_vm slot[SCHED_MAX_VMS];
	unsigned debt_periods;   /* debt is kept down to this many periods' worth */
	unsigned carry_periods;  /* unused credit is kept for this many periods */
	bool started;            /* the first period has begun */
	uint64_t next_period_at; /* when the current accounting period ends */
	struct sched_vm *owner;  /* VM holding the current time slice, or NULL */
	bool owner_ran;          /* something of owner's completed since it was picked */
	uint64_t slice_used_ns;  /* GPU time charged to owner in this slice */
};

/* The credit policy's ops; band has its own init and pick. */
int credit_init(struct sched_state *s);
void credit_fini(struct sched_state *s);
void credit_vm_added(struct sched_state *s, struct sched_vm *vm, uint64_t now);
void credit_vm_removed(struct sched_state *s, struct sched_vm *vm);
struct sched_vm *credit_pick(struct sched_state *s, uint64_t now, uint64_t *retry_at);
void credit_charge(struct sched_state *s, struct sched_vm *vm, uint64_t ns, uint64_t now);
void credit_tick(struct sched_state *s, uint64_t now);

/* Start whatever accounting periods have begun by now (refill, cap reset). */
void credit_catch_up(struct sched_state *s, uint64_t now);

struct credit_data *credit_data_of(const struct sched_state *s);
/* vm's slot, or NULL if the policy was never told about vm. */
struct credit_vm *credit_slot(const struct sched_state *s, const struct sched_vm *vm);

#endif

/*
 * Hand-made policy state for unit tests: a struct sched_state with a few
 * VMs, driven call by call (no simulator), so each rule of a policy can be
 * checked on its own.
 */
#ifndef TEST_UTIL_STATE_H
#define TEST_UTIL_STATE_H

#include <stdint.h>

#include "sched_policy.h"

#define ST_MAX_VMS 8
#define ST_MS      (1000ull * 1000)
#define ST_US      1000ull

struct st {
	struct sched_state s;
	struct sched_vm vm[ST_MAX_VMS];
	const struct sched_policy *p;
};

/* init p with default params and add n VMs (weight 256, no cap) at time 0. */
void st_setup(struct st *t, const struct sched_policy *p, unsigned n);
void st_teardown(struct st *t);
/* pick at now; *retry_at (may be NULL) gets the policy's retry time. */
struct sched_vm *st_pick(struct st *t, uint64_t now, uint64_t *retry_at);
/* Release one queued submission of vm, as the mechanism does after a pick. */
void st_release(struct st *t, struct sched_vm *vm, uint64_t now);
/* One of vm's in-flight submissions completed at now after ns of GPU time. */
void st_complete(struct st *t, struct sched_vm *vm, uint64_t ns, uint64_t now);
/* Remove vm as the mechanism does: vm_removed, then out of vms[]. */
void st_remove(struct st *t, struct sched_vm *vm);

#endif
